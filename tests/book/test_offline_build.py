"""The build itself makes no request: a small sample book builds in a network namespace with only
loopback up (``unshare -rn``), with the book's own ``_config.yml`` and extensions.

The sample has the parts that could reach for the network: math (MathJax), an executed notebook
(a Jupyter kernel, which talks over loopback), a glued number and a matplotlib figure. Where user and
network namespaces are not permitted (some containers, hardened kernels) the test is skipped with the
reason; the static check in ``test_build.py`` (no external script, stylesheet or font in the HTML)
still runs everywhere.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT
from test_build import EXTERNAL_ASSET

# Run inside the namespace before the build: bring loopback up (no `ip` needed) and prove that
# nothing beyond it is reachable, then replace this process with the given command.
NETNS_PRELUDE = r"""
import errno, fcntl, os, socket, struct, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
flags = struct.unpack("16sH22x", fcntl.ioctl(s, 0x8913, struct.pack("16sH22x", b"lo", 0)))[1]
fcntl.ioctl(s, 0x8914, struct.pack("16sH22x", b"lo", flags | 1))
probe = socket.socket()
probe.settimeout(3)
try:
    probe.connect(("1.1.1.1", 443))
    sys.exit("the network namespace can reach 1.1.1.1: it is not isolated")
except OSError:
    pass
os.execv(sys.argv[1], sys.argv[1:])
"""


def netns_command() -> list[str] | None:
    """``unshare`` arguments that give a private network namespace here, or None."""
    if not shutil.which("unshare"):
        return None
    for flags in (["-rn"], ["-n"]):
        probe = subprocess.run(["unshare", *flags, sys.executable, "-c", NETNS_PRELUDE, "/bin/true"],
                               capture_output=True, text=True)
        if probe.returncode == 0:
            return ["unshare", *flags]
    return None


def write_sample_book(book: Path) -> None:
    shutil.copy(ROOT / "_config.yml", book / "_config.yml")
    shutil.copytree(ROOT / "book" / "_ext", book / "book" / "_ext",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "book" / "references.bib", book / "book" / "references.bib")
    (book / "_toc.yml").write_text("format: jb-book\nroot: intro\nchapters:\n  - file: sample\n")
    (book / "intro.md").write_text(
        "# Offline sample\n\nInline math $e^{i\\pi} + 1 = 0$ and a display:\n\n"
        "$$\n\\sum_{k=1}^{n} k = \\frac{n(n+1)}{2}\n$$\n")
    figure = {"mystnb": {"figure": {"caption": "A line.", "name": "fig-sample-line"}}}
    cells = [
        {"cell_type": "markdown", "metadata": {}, "source": "# Executed sample\n\nThe answer is {glue:text}`answer`."},
        {"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [],
         "source": "from myst_nb import glue\nglue(\"answer\", 6 * 7, display=False)"},
        {"cell_type": "code", "metadata": figure, "execution_count": None, "outputs": [],
         "source": "import matplotlib.pyplot as plt\nfig, ax = plt.subplots(figsize=(2, 2))\n_ = ax.plot([0, 1], [0, 1])"},
    ]
    for i, cell in enumerate(cells):
        cell["id"] = f"cell-{i}"
    nb = {"cells": cells, "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                      "language": "python"}},
          "nbformat": 4, "nbformat_minor": 5}
    (book / "sample.ipynb").write_text(json.dumps(nb, indent=1))


def test_a_sample_book_builds_with_no_network(tmp_path):
    netns = netns_command()
    if netns is None:
        pytest.skip("offline build test skipped: this machine does not permit a private network "
                    "namespace (unshare -rn / unshare -n failed)")
    book = tmp_path / "sample"
    (book / "book").mkdir(parents=True)
    write_sample_book(book)
    jb = str(Path(sys.executable).with_name("jupyter-book"))
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
    env.update(BOOK_PROFILE="quick", PYTHONDONTWRITEBYTECODE="1")
    cmd = [*netns, sys.executable, "-c", NETNS_PRELUDE, jb, "build", str(book),
           "--path-output", str(tmp_path / "out"), "-W", "-n", "--keep-going"]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, "the sample book did not build without network:\n" + log[-4000:]

    html = tmp_path / "out" / "_build" / "html"
    page = (html / "sample.html").read_text()
    assert '<span class="pasted-text">42</span>' in page, "the glued number is missing"
    assert "<figure" in page and "<img" in page and "A line." in page, "the figure is missing"
    intro = (html / "intro.html").read_text()
    assert "mathjax/tex-mml-chtml.js" in intro and (html / "mathjax" / "tex-mml-chtml.js").is_file()
    offenders = [f"{p.name}: {m.group(0)[:100]}" for p in html.rglob("*.html")
                 for m in EXTERNAL_ASSET.finditer(p.read_text(errors="replace"))]
    assert not offenders, "external assets in the sample book:\n" + "\n".join(offenders)
