"""Publishing numbers from notebook cells into the book's prose.

:func:`glue` wraps myst-nb's ``glue`` so that the chapters also run where
myst-nb is not installed (Colab, Binder): there it simply returns the value.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def glue(name: str, value: Any, display: bool = False) -> Any:
    """Record ``value`` under ``name`` for ``{glue:text}`name``` roles in the book's prose.

    Parameters
    ----------
    name : str
        The key the prose refers to; must be a non-empty identifier-like string.
    value : object
        A number, string or figure computed by the cell.
    display : bool
        Also show the value in the cell's output.

    Returns
    -------
    object
        ``value`` itself, so a cell can glue and use a number in one line.
    """
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"glue needs a non-empty string name, got {name!r}.")
    if isinstance(value, np.generic):  # np.float64(0.5) would reach the page as that text
        value = value.item()
    try:
        from myst_nb import glue as _myst_glue
    except ImportError:  # outside the book's environment: nothing to record
        return value
    _myst_glue(name, value, display=display)
    return value
