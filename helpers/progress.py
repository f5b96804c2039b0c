"""Progress on standard error, for the cells a reader waits on.

JupyterLab shows a cell's standard error under it while it runs, so a reader who waits
for a full-profile k-means, UMAP or patch encoding sees that something moves. The HTML
book drops standard error (``stderr_output: remove`` in ``_config.yml``), so the
published pages show none of it. Nothing here changes a result: a bar only counts and a
clock only watches.

- :func:`bar`: a plain-text ``tqdm`` bar over a known number of steps;
- :func:`clock`: for one long library call that reports nothing itself (k-means with
  several starts, UMAP, a nearest-neighbour search), a line that shows the seconds spent
  so far, from ``delay`` seconds on, so that short calls stay silent.

Example
-------
>>> from helpers import progress
>>> with progress.clock("k-means on the pool", delay=60):
...     total = sum(range(1000))  # silent: it ends long before 60 s
>>> total
499500
"""

from __future__ import annotations

import sys
import threading
from contextlib import contextmanager
from typing import Any, Iterator

from .validation import check_float, check_int

__all__ = ["bar", "clock"]

#: Width of every bar, so that lines do not wrap in a notebook.
NCOLS: int = 90


def _check_desc(desc: Any) -> str:
    if not isinstance(desc, str):
        raise ValueError(f"desc must be a string that says what runs, got {desc!r}.")
    return desc


def bar(total: int | None, desc: str, *, unit: str = "step", delay: float = 0.0,
        mininterval: float = 1.0, **kwargs: Any) -> Any:
    """A plain-text ``tqdm`` bar on standard error.

    Parameters
    ----------
    total : int or None
        Steps in all (``None`` when unknown: the bar then only counts).
    desc : str
        What runs, shown before the bar.
    unit : str
        What one step is.
    delay : float
        Seconds before the bar first shows; a shorter run shows nothing.
    mininterval : float
        Seconds between redraws.
    **kwargs
        Passed to ``tqdm`` (for example ``bar_format``).

    Returns
    -------
    tqdm.std.tqdm
        Call ``update(n)`` after each ``n`` steps and ``close()`` at the end (or use it in
        a ``with`` block).
    """
    from tqdm.std import tqdm  # plain text: the notebook widget would reach the HTML book

    if total is not None:
        total = check_int(total, "total", minimum=0)
    return tqdm(total=total, desc=_check_desc(desc), unit=unit, file=sys.stderr,
                delay=check_float(delay, "delay", minimum=0.0),
                mininterval=check_float(mininterval, "mininterval", minimum=0.0),
                dynamic_ncols=False, ncols=NCOLS, **kwargs)


@contextmanager
def clock(desc: str, *, delay: float = 5.0, interval: float = 1.0) -> Iterator[None]:
    """Show the time spent inside the ``with`` block, once it passes ``delay`` seconds.

    A background thread redraws one line, ``desc: 00:12 elapsed``, every ``interval``
    seconds; the block itself runs unchanged, on the calling thread.

    Parameters
    ----------
    desc : str
        What runs (for example ``"k-means, 10 starts on 60,000 rows"``).
    delay : float
        Seconds of silence first: calls shorter than this print nothing.
    interval : float
        Seconds between redraws (> 0).
    """
    _check_desc(desc)
    delay = check_float(delay, "delay", minimum=0.0)
    interval = check_float(interval, "interval", minimum=0.0, include_minimum=False)
    shown = bar(None, desc, unit="s", delay=delay, mininterval=interval,
                bar_format="{desc}: {elapsed} elapsed")
    stop = threading.Event()

    def tick() -> None:
        while not stop.wait(interval):
            shown.update(1)

    ticker = threading.Thread(target=tick, name="progress-clock", daemon=True)
    ticker.start()
    try:
        yield
    finally:
        stop.set()
        ticker.join()
        shown.close()
