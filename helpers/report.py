"""Publishing numbers from notebook cells into the book's prose, and tables of results.

:func:`glue` wraps myst-nb's ``glue`` so that the chapters also run where
myst-nb is not installed (Colab, Binder): there it does nothing.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np


def to_builtin(value: Any) -> Any:
    """``value`` with NumPy scalars (also inside lists, tuples and dicts) made plain Python."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, dict):
        return {to_builtin(k): to_builtin(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(to_builtin(v) for v in value)
    return value


def glue(name: str, value: Any, display: bool = False) -> None:
    """Record ``value`` under ``name`` for ``{glue:text}`name``` roles in the book's prose.

    Parameters
    ----------
    name : str
        The key the prose refers to; must be a non-empty identifier-like string.
    value : object
        A number, string or figure computed by the cell.
    display : bool
        Also show the value in the cell's output.

    NumPy scalars are converted to plain Python numbers first (also inside
    lists and dicts), so the page shows ``0.5`` rather than ``np.float64(0.5)``.
    """
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"glue needs a non-empty string name, got {name!r}.")
    value = to_builtin(value)  # np.float64(0.5) would reach the page as that text
    try:
        from myst_nb import glue as _myst_glue
    except ImportError:  # outside the book's environment: nothing to record
        return
    _myst_glue(name, value, display=display)


def glue_run_time(settings: Any) -> None:
    """Glue ``page_run_time`` and ``page_run_where`` for a page's "Time to run" line.

    ``page_run_time`` is the time since ``config.setup()`` (see
    :func:`helpers.config.run_time_words`); ``page_run_where`` names the profile of
    ``settings`` (what ``config.setup()`` returned) and the machine's CPU cores. Each page
    calls it in its last, hidden cell.
    """
    import os

    from .config import Settings, run_time_words

    if not isinstance(settings, Settings):
        raise ValueError(f"settings must be what config.setup() returned, got {settings!r}.")
    glue("page_run_time", run_time_words())
    glue("page_run_where", f"{settings.profile.name} profile, {os.cpu_count()} CPU cores")


class MetricsTable(list):
    """A list of result rows (dicts) that Jupyter shows as a table.

    Each row has a ``"method"`` name and numeric columns; ``columns`` fixes their order.
    """

    def __init__(self, rows: Sequence[Mapping[str, Any]] = (), columns: Sequence[str] | None = None,
                 digits: int = 3):
        super().__init__(dict(r) for r in rows)
        keys: list[str] = []
        for row in self:
            keys += [k for k in row if k not in keys]
        self.columns = list(columns) if columns is not None else keys
        self.digits = digits

    def row(self, method: str) -> dict[str, Any]:
        """The row whose ``"method"`` is ``method``."""
        for r in self:
            if r.get("method") == method:
                return r
        raise KeyError(f"no row called {method!r}; rows are {[r.get('method') for r in self]}.")

    def column(self, name: str) -> np.ndarray:
        """One column as an array (``nan`` where a row lacks it)."""
        return np.array([r.get(name, np.nan) for r in self], dtype=object if name == "method" else float)

    def _cell(self, value: Any) -> str:
        if value is None or (isinstance(value, float) and np.isnan(value)):
            return ""
        if isinstance(value, (float, np.floating)):
            return f"{value:.{self.digits}f}"
        return str(value)

    def to_markdown(self) -> str:
        """The table in Markdown."""
        lines = ["| " + " | ".join(self.columns) + " |", "|" + "---|" * len(self.columns)]
        lines += ["| " + " | ".join(self._cell(r.get(c)) for c in self.columns) + " |" for r in self]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        pad = "padding:0.25em 0.9em;text-align:right"
        head = "".join(f'<th style="{pad}">{c}</th>' for c in self.columns)
        body = "".join(
            "<tr>" + "".join(f'<td style="{pad}">{self._cell(r.get(c))}</td>' for c in self.columns)
            + "</tr>" for r in self)
        return (f'<table style="border-collapse:collapse"><thead><tr>{head}</tr></thead>'
                f"<tbody>{body}</tbody></table>")

    def __repr__(self) -> str:
        cells = [[str(c) for c in self.columns]] + [[self._cell(r.get(c)) for c in self.columns]
                                                     for r in self]
        widths = [max(len(row[i]) for row in cells) for i in range(len(self.columns))]
        return "\n".join("  ".join(v.ljust(w) for v, w in zip(row, widths)) for row in cells)
