"""Hygiene of the chapter notebooks: committed clean, shaped like the book's chapters."""

import json
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def load(path):
    return json.loads(path.read_text())


def test_there_are_chapters():
    assert NOTEBOOKS, "no chapter notebooks found"


def test_every_chapter_is_in_the_toc():
    toc = (ROOT / "_toc.yml").read_text()
    for path in NOTEBOOKS:
        assert f"notebooks/{path.stem}" in toc, f"{path.name} is not listed in _toc.yml"
    listed = re.findall(r"file:\s*(\S+)", toc)
    for entry in listed:
        assert any((ROOT / f"{entry}{ext}").exists() for ext in (".md", ".ipynb")), entry
    assert yaml.safe_load(toc)["root"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_without_outputs(path):
    for cell in load(path)["cells"]:
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None, (
                f"{path.name} has outputs; clear them before committing")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_chapter_structure(path):
    cells = load(path)["cells"]
    markdown = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    code = ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]
    assert markdown.lstrip().startswith("# "), "a chapter opens with its title"
    assert "You will learn" in markdown
    assert "## Summary" in markdown and "## Exercises" in markdown
    assert markdown.count("{exercise}") >= 3, "at least three exercises"
    assert markdown.count("{solution}") >= markdown.count("{exercise}")
    assert ":class: dropdown" in markdown, "solutions are hidden in dropdowns"
    assert "import helpers" in code[0] and "config.setup(" in code[0], "first code cell is the setup cell"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_glued_names_are_defined(path):
    cells = load(path)["cells"]
    markdown = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
    used = set(re.findall(r"\{glue:(?:text|)\}`([A-Za-z_][A-Za-z0-9_]*)", markdown))
    if "glue_run_time(settings)" in code:  # helpers.report.glue_run_time glues these two
        used -= {"page_run_time", "page_run_where"}
    for name in used:
        assert re.search(rf"glue\(\s*['\"]{name}['\"]", code), f"{name} is used but never glued"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_figures_have_captions(path):
    for cell in load(path)["cells"]:
        src = "".join(cell["source"])
        if cell["cell_type"] == "code" and re.search(r"^fig\s*=|plt\.subplots", src, re.M):
            figure = cell["metadata"].get("mystnb", {}).get("figure", {})
            assert figure.get("caption") and figure.get("name"), (
                f"{path.name}: a cell that draws a figure needs mystnb.figure caption and name:\n{src[:80]}")
