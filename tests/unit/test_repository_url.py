"""The repository URL is one setting: ``repository.url`` in ``_config.yml``.

Every notebook's and book page's ``pip install "git+…"``, the theme's buttons and the README's badges
must agree with it; ``scripts/set_repository.py`` writes them (``make set-repository``).
"""

import importlib.util
import json
import shutil
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("set_repository", ROOT / "scripts" / "set_repository.py")
set_repository = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(set_repository)

CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())
URL = CONFIG["repository"]["url"]


def test_the_setting_is_read_as_yaml_reads_it():
    url, branch = set_repository.read_setting((ROOT / "_config.yml").read_text())
    assert (url, branch) == (URL, CONFIG["repository"].get("branch", "main"))
    set_repository.check_setting(url, branch)


def test_theme_buttons_use_the_setting():
    theme = CONFIG["sphinx"]["config"]["html_theme_options"]
    assert theme["repository_url"] == URL
    assert theme["repository_branch"] == CONFIG["repository"]["branch"]


@pytest.mark.parametrize("path", set_repository.page_files(ROOT), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_install_url_is_the_setting(path):
    for found in set_repository.install_urls(path.read_text()):
        assert found == URL, (f"{path.relative_to(ROOT)} installs helpers from {found}, but _config.yml's "
                              f"repository.url is {URL}. Run `make set-repository`.")


def test_every_chapter_installs_helpers_from_the_setting():
    """Opened from Colab or Binder, each chapter's setup cell installs helpers from the repository."""
    chapters = sorted((ROOT / "notebooks").glob("[0-9]*.ipynb"))
    assert chapters
    for path in chapters:
        cells = json.loads(path.read_text())["cells"]
        code = next(("".join(c["source"]) for c in cells if c["cell_type"] == "code"), "")
        assert set_repository.install_urls(code) == [URL], (
            f"{path.name}: its first code cell should install helpers with "
            f'%pip install -q "git+{URL}" when `import helpers` fails')


def test_nothing_disagrees(capsys):
    assert set_repository.main(["--check"]) == 0, capsys.readouterr().out


# --- the script on a copy of the book ------------------------------------------------------------

@pytest.fixture
def book(tmp_path):
    for name in ("_config.yml", "README.md"):
        shutil.copy(ROOT / name, tmp_path / name)
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "book").mkdir()
    shutil.copy(sorted((ROOT / "notebooks").glob("[0-9]*.ipynb"))[0], tmp_path / "notebooks" / "01.ipynb")
    (tmp_path / "book" / "page.md").write_text(
        "```\n%pip install \"git+https://github.com/old/place@v1\"\ngit clone https://github.com/old/place.git\n```\n"
        "See https://github.com/pyenv/pyenv for pyenv.\n")
    return tmp_path


def test_check_names_a_notebook_that_disagrees_and_the_rewrite_fixes_it(book, capsys):
    nb = book / "notebooks" / "01.ipynb"
    original = nb.read_text()
    nb.write_text(original.replace(f"git+{URL}", "git+https://github.com/someone/else"))
    assert set_repository.main(["--root", str(book), "--check"]) == 1
    out = capsys.readouterr().out
    assert "notebooks/01.ipynb" in out and "book/page.md" in out and "README.md" not in out
    assert set_repository.main(["--root", str(book)]) == 0
    assert nb.read_text() == original  # only the URL changed back; formatting and cell ids kept
    page = (book / "book" / "page.md").read_text()
    assert f'"git+{URL}@v1"' in page and f"git clone {URL}\n" in page
    assert "https://github.com/pyenv/pyenv" in page  # other projects' links are left alone
    assert set_repository.main(["--root", str(book), "--check"]) == 0


def test_a_new_url_and_branch_reach_every_place(book):
    new = "https://github.com/a-fork/few-labels"
    assert set_repository.main(["--root", str(book), "--url", new, "--branch", "pages"]) == 0
    config = yaml.safe_load((book / "_config.yml").read_text())
    assert config["repository"]["url"] == new and config["repository"]["branch"] == "pages"
    assert config["sphinx"]["config"]["html_theme_options"]["repository_url"] == new
    assert config["sphinx"]["config"]["html_theme_options"]["repository_branch"] == "pages"
    assert set_repository.install_urls((book / "notebooks" / "01.ipynb").read_text()) == [new]
    readme = (book / "README.md").read_text()
    assert "https://mybinder.org/v2/gh/a-fork/few-labels/pages?" in readme
    assert "https://colab.research.google.com/github/a-fork/few-labels/blob/pages/notebooks/" in readme
    assert f"git clone {new}\n" in readme
    assert URL not in readme and URL not in (book / "_config.yml").read_text()
    assert set_repository.main(["--root", str(book), "--check"]) == 0


@pytest.mark.parametrize("bad", ["https://gitlab.com/a/b", "https://github.com/a/b/", "https://github.com/a/b.git",
                                 "github.com/a/b", "https://github.com/a"])
def test_a_url_that_is_not_a_github_repository_is_refused(book, bad):
    with pytest.raises(SystemExit, match="https://github.com/OWNER/REPO"):
        set_repository.main(["--root", str(book), "--url", bad])
    assert yaml.safe_load((book / "_config.yml").read_text())["repository"]["url"] == URL
