"""pytest plugin: hand the notebooks nbval just executed to the book build's jupyter-cache.

`make test` executes every chapter with nbval and then builds the book strictly.
Without this plugin the build would execute every chapter a second time. With
``BOOK_NBVAL_CACHE=<path to a jupyter-cache>`` set, each notebook whose cells
all passed is stored in that cache with its outputs, exactly as myst-nb would
have stored it, and the build then renders those outputs instead of
re-executing. Without the variable the plugin does nothing.

Load it with ``python -m pytest -p tests.nbval_cache --nbval-lax ...``. Do not set
``MPLBACKEND`` for that run: the kernels need matplotlib's inline backend to
produce the figures the book shows.
"""

from __future__ import annotations

import copy
import os
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ENV = "BOOK_NBVAL_CACHE"

_cells: dict[str, list] = {}       # notebook path -> its nbval cell items
_failed: set[str] = set()
_started: dict[str, float] = {}
_finished: dict[str, float] = {}


def _is_nbval_cell(item: pytest.Item) -> bool:
    return type(item).__name__ == "IPyNbCell" and hasattr(item, "test_outputs")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    if not os.environ.get(ENV) or not _is_nbval_cell(item):
        return
    path = str(item.parent.fspath)
    report = outcome.get_result()
    _cells.setdefault(path, [])
    if item not in _cells[path]:
        _cells[path].append(item)
    _started.setdefault(path, time.time())
    if report.failed:
        _failed.add(path)
    if report.when == "call":
        _finished[path] = time.time()


def pytest_sessionfinish(session, exitstatus):
    target = os.environ.get(ENV)
    if not target or not _cells:
        return
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn

    sys.path.insert(0, str(ROOT / "book" / "_ext"))
    import book_offline

    cache = get_cache(target)
    stored = 0
    for path, items in _cells.items():
        if path in _failed:
            continue
        source = items[0].parent.nb
        nb = copy.deepcopy(source)
        by_id = {id(item.cell): item for item in items}
        count = 0
        for index, cell in enumerate(source.cells):
            if cell.cell_type != "code":
                continue
            count += 1
            item = by_id.get(id(cell))
            executed = nb.cells[index]
            executed.execution_count = count
            executed.outputs = copy.deepcopy(item.test_outputs or []) if item else []
            for output in executed.outputs:
                if output.get("output_type") == "execute_result":
                    output["execution_count"] = count
                    output.setdefault("metadata", {})
        seconds = _finished.get(path, time.time()) - _started.get(path, time.time())
        cache.cache_notebook_bundle(
            CacheBundleIn(nb, uri=path, data={"execution_seconds": seconds}),
            check_validity=False, overwrite=True)
        stored += 1
    # The build keeps a fingerprint of helpers/ and the profile beside its doctrees
    # (book/_ext/book_offline.py); record it so the build trusts these outputs.
    doctrees = Path(target).parent / ".doctrees"
    doctrees.mkdir(parents=True, exist_ok=True)
    stamp = doctrees / book_offline.FINGERPRINT_NAME
    fingerprint = book_offline.inputs_fingerprint(ROOT)
    if stamp.is_file() and stamp.read_text().strip() != fingerprint:
        # helpers/ or the profile changed since the last build: make Sphinx re-read every page
        (doctrees / "environment.pickle").unlink(missing_ok=True)
    stamp.write_text(fingerprint)
    session.config.pluginmanager.get_plugin("terminalreporter").write_line(
        f"[nbval-cache] stored {stored} executed notebook(s) in {target}")
