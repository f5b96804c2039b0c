"""Build the book once per test session (strict, quick profile) and hand its HTML to the tests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "_build" / "quick"
HTML = OUT / "_build" / "html"


@pytest.fixture(scope="session")
def book_build():
    """Run ``jupyter-book build . -W -n --keep-going`` in the quick profile; return (rc, log).

    ``BOOK_SKIP_BUILD=1`` reuses an existing ``_build/quick/_build/html`` instead, and
    ``BOOK_SKIP_BUILD=PATH`` the built HTML in PATH (for iterating on the tests of the built pages;
    ``make test`` always builds).
    """
    global HTML
    reuse = os.environ.get("BOOK_SKIP_BUILD", "")
    if reuse not in ("", "0"):
        if reuse != "1":
            HTML = Path(reuse).resolve()
        if not (HTML / "index.html").is_file():
            pytest.fail(f"BOOK_SKIP_BUILD={reuse}: no built book in {HTML}")
        return 0, f"build skipped (BOOK_SKIP_BUILD={reuse}): reusing {HTML}"
    # No MPLBACKEND for the kernels: with MPLBACKEND=Agg (scripts/test.sh sets it for nbval) ipykernel
    # does not use its inline backend, so no figure reaches the built pages.
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
    env["BOOK_PROFILE"] = "quick"
    jb = Path(sys.executable).with_name("jupyter-book")
    cmd = [str(jb), "build", ".", "--path-output", str(OUT), "-W", "-n", "--keep-going"]
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    return proc.returncode, proc.stdout + proc.stderr


@pytest.fixture(scope="session")
def html_dir(book_build) -> Path:
    rc, log = book_build
    if rc != 0:
        pytest.fail("the book build failed; its log ends with:\n" + log[-4000:])
    return HTML


# ------------------------------------------------------------------ the glued values of a build
# Claims tests (tests/book/test_claims*.py) read what the executed chapters glued. The fixture
# `glued` runs every claims test twice: against the quick build that `make test` just made, and
# against the full build in _build/html (the published book) when `make book` made one after the
# last change to helpers/ and notebooks/; otherwise the full case is skipped with the reason.

FULL_HTML = ROOT / "_build" / "html"


def read_glue(html_dir: Path, page: str) -> dict:
    """The values ``<page>.ipynb`` glued in the build that produced ``html_dir``.

    ``page`` is a path without suffix relative to the book root, or a bare notebook name,
    which is looked up under ``notebooks/``.
    """
    import json

    rel = page if "/" in page else f"notebooks/{page}"
    path = html_dir.parent / "jupyter_execute" / f"{rel}.glue.json"
    if not path.is_file():
        pytest.fail(f"{path} is missing: the build did not execute {page}.")
    values = {}
    for name, output in json.loads(path.read_text()).items():
        text = output["data"]["text/plain"]
        try:
            values[name] = json.loads(text.replace("'", '"'))
        except json.JSONDecodeError:
            values[name] = text
    return values


def _full_build_is_fresh() -> str | None:
    """None when _build/html holds a full build newer than the chapters and helpers, else why not."""
    marker = FULL_HTML.parent / "jupyter_execute" / "notebooks"
    built = sorted(marker.glob("*.glue.json")) if marker.is_dir() else []
    if not built:
        return "no full-profile build in _build/html: `make book` builds it"
    sources = [*ROOT.joinpath("helpers").glob("*.py"), *ROOT.joinpath("notebooks").glob("*.ipynb"),
               *ROOT.joinpath("book").glob("*.ipynb")]
    newest = max(sources, key=lambda p: p.stat().st_mtime)
    oldest = min(p.stat().st_mtime for p in built)
    if newest.stat().st_mtime > oldest:
        return (f"the full-profile build is older than {newest.relative_to(ROOT)}: "
                "run `make book` again to check its claims")
    return None


@pytest.fixture(params=["quick", "full"])
def profile(request) -> str:
    """The profile whose build a claims test reads (each claims test runs for both)."""
    return request.param


@pytest.fixture
def glued(request, profile):
    """``glued(page)`` -> the values that page glued in the build of ``profile``."""
    if profile == "quick":
        html = request.getfixturevalue("html_dir")
    else:
        why = _full_build_is_fresh()
        if why:
            pytest.skip(why)
        html = FULL_HTML
    return lambda page: read_glue(html, page)
