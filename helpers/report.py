"""Publishing numbers from notebook cells into the book's prose.

:func:`glue` wraps myst-nb's ``glue`` so that the chapters also run where
myst-nb is not installed (Colab, Binder): there it does nothing.
"""

from __future__ import annotations

from typing import Any

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
