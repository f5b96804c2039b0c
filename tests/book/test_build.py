"""The strict build passes and its HTML is self-contained."""

import re

import yaml

from conftest import ROOT


def test_book_builds_with_warnings_as_errors(book_build):
    rc, log = book_build
    assert rc == 0, "jupyter-book build -W -n --keep-going failed:\n" + log[-4000:]


def toc_pages():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    pages = [toc["root"]]
    for part in toc.get("parts", []):
        pages += [chapter["file"] for chapter in part["chapters"]]
    return pages


def test_every_toc_page_was_written(html_dir):
    for page in toc_pages():
        assert (html_dir / f"{page}.html").is_file(), page


EXTERNAL_ASSET = re.compile(
    r"<(?:script|img|iframe)[^>]+src=\"(?:https?:)?//|<link[^>]+rel=\"(?:stylesheet|preload|icon)\"[^>]+href=\"(?:https?:)?//"
    r"|@import\s+url\((?:https?:)?//|url\((?:'|\")?https?://")


def test_no_page_loads_anything_from_another_host(html_dir):
    offenders = []
    for page in html_dir.rglob("*.html"):
        for match in EXTERNAL_ASSET.finditer(page.read_text(errors="replace")):
            offenders.append(f"{page.relative_to(html_dir)}: {match.group(0)[:120]}")
    for css in html_dir.rglob("*.css"):
        for match in re.finditer(r"url\((?:'|\")?(?:https?:)?//[^)]*\)", css.read_text(errors="replace")):
            offenders.append(f"{css.relative_to(html_dir)}: {match.group(0)[:120]}")
    assert not offenders, "external assets:\n" + "\n".join(offenders[:20])


def test_mathjax_is_served_with_the_book(html_dir):
    page = (html_dir / "notebooks" / "01_data_and_problem.html").read_text()
    src = re.search(r"<script[^>]+src=\"([^\"]*tex-mml-chtml\.js)[^\"]*\"", page)
    assert src, "chapter 1 has an equation, so it must load MathJax"
    assert (html_dir / "notebooks" / src.group(1)).resolve().is_file()


def test_no_unresolved_glue_or_raw_numpy_reprs(html_dir):
    for page in (html_dir / "notebooks").glob("*.html"):
        text = page.read_text()
        assert "{glue" not in text, page.name
        assert "np.float64(" not in text and "np.int64(" not in text, page.name
