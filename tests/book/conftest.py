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
    """Run ``jupyter-book build . -W -n --keep-going`` in the quick profile; return (rc, log)."""
    env = dict(os.environ, BOOK_PROFILE="quick", MPLBACKEND="Agg")
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
