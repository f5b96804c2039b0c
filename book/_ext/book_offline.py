"""Sphinx extension that keeps the book offline and its executed pages fresh.

1. **MathJax served locally.** Jupyter Book loads MathJax from a CDN by default;
   behind a firewall that leaves raw TeX on the page. This extension copies
   MathJax 3 (shipped by the ``django-static-mathjax`` package from PyPI) into
   ``<html>/mathjax/`` and points ``mathjax_path`` at it. It is kept out of
   ``_static`` on purpose: Jupyter Book adds every ``.js`` file there as a
   ``<script>`` tag.

2. **No stale outputs.** The jupyter-cache only notices changes to a notebook's
   own code cells. The chapters also depend on ``helpers/`` and on the
   ``BOOK_PROFILE`` and ``BOOK_DATASET`` environment variables, so a
   fingerprint of those is kept beside the cache; when it changes, the cache is
   emptied and every notebook is read (and so executed) again.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.util import logging

logger = logging.getLogger(__name__)

MATHJAX_ENTRY = "tex-mml-chtml.js"
MATHJAX_PARTS = ("input", "output", "a11y", "ui", "sre", "adaptors", MATHJAX_ENTRY)
FINGERPRINT_NAME = "book-inputs.fingerprint"


def mathjax_source() -> Path:
    """Folder holding MathJax's ``es5`` build inside the installed PyPI package."""
    try:
        import mathjax  # provided by django-static-mathjax
    except ImportError as err:  # pragma: no cover - requirements.txt installs it
        raise RuntimeError(
            "MathJax is not installed: run `pip install -r requirements.txt` "
            "(package django-static-mathjax) so the book can typeset math offline."
        ) from err
    es5 = Path(mathjax.__file__).parent / "static" / "mathjax" / "es5"
    if not (es5 / MATHJAX_ENTRY).is_file():
        raise RuntimeError(f"MathJax's {MATHJAX_ENTRY} was not found in {es5}.")
    return es5


def inputs_fingerprint(root: Path) -> str:
    """Hash of everything outside the notebooks that changes their outputs."""
    digest = hashlib.sha256()
    for name in ("BOOK_PROFILE", "BOOK_DATASET"):
        digest.update(f"{name}={os.environ.get(name, '')}\n".encode())
    for path in sorted((root / "helpers").rglob("*.py")):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _cache_path(app: Sphinx) -> Path:
    configured = app.config.nb_execution_cache_path
    if configured:
        return Path(configured).resolve()
    return Path(app.outdir).parent.joinpath(".jupyter_cache").resolve()


def _on_config_inited(app: Sphinx, config) -> None:
    config.mathjax_path = f"../mathjax/{MATHJAX_ENTRY}"
    # With MPLBACKEND=Agg in the environment the kernels draw no inline figures, and the book
    # would be published without them; the kernels inherit this process's environment.
    if os.environ.pop("MPLBACKEND", None):
        logger.info("book_offline: ignoring MPLBACKEND so that figures reach the pages")
    root = Path(app.confdir)
    fingerprint = inputs_fingerprint(root)
    stamp = Path(app.doctreedir) / FINGERPRINT_NAME
    app._book_inputs_changed = False  # type: ignore[attr-defined]
    previous = stamp.read_text().strip() if stamp.is_file() else None
    if previous != fingerprint:
        cache = _cache_path(app)
        if previous is not None:
            logger.info("helpers/ or the profile changed: re-executing every notebook")
        if cache.exists():
            shutil.rmtree(cache)
        app._book_inputs_changed = True  # type: ignore[attr-defined]
    app._book_fingerprint = fingerprint  # type: ignore[attr-defined]


def _on_env_get_outdated(app: Sphinx, env, added, changed, removed) -> list[str]:
    if not getattr(app, "_book_inputs_changed", False):
        return []
    return [doc for doc in env.found_docs if env.doc2path(doc).endswith(".ipynb")]


def _on_build_finished(app: Sphinx, exception: Exception | None) -> None:
    if exception is not None:
        return
    stamp = Path(app.doctreedir) / FINGERPRINT_NAME
    stamp.parent.mkdir(parents=True, exist_ok=True)
    stamp.write_text(app._book_fingerprint)  # type: ignore[attr-defined]
    if app.builder.format != "html":
        return
    source, target = mathjax_source(), Path(app.outdir) / "mathjax"
    for part in MATHJAX_PARTS:
        src = source / part
        if src.is_dir():
            shutil.copytree(src, target / part, dirs_exist_ok=True)
        else:
            target.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, target / part)


def _on_html_page_context(app: Sphinx, pagename, templatename, context, doctree) -> None:
    """Drop repeated inline scripts from a page.

    Sphinx 7.4 writes an inline script registered after the builder started twice (its filename is
    ``None`` once and ``''`` once), so sphinx-thebe's ``const THEBE_JS_URL = ...`` is declared twice
    and every page logs a JavaScript error. tests/book/test_browser.py checks the console stays clean.
    """
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, unique = set(), []
    for js in scripts:
        attrs = getattr(js, "attributes", {})
        key = (getattr(js, "filename", js) or "", tuple(sorted((k, str(v)) for k, v in attrs.items())))
        if key not in seen:
            seen.add(key)
            unique.append(js)
    scripts[:] = unique


def setup(app: Sphinx) -> dict:
    app.connect("html-page-context", _on_html_page_context)
    app.connect("config-inited", _on_config_inited)
    app.connect("env-get-outdated", _on_env_get_outdated)
    app.connect("build-finished", _on_build_finished)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
