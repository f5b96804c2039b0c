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
