"""Input checks shared by every helper, built on scikit-learn's own validators.

Each function returns the cleaned value or raises ``ValueError`` / ``TypeError`` with a message
that says what was expected, what was passed, and what to do. Helpers call them at their
boundary, so bad input fails at once with a clear message, before any training starts.

Example
-------
>>> import numpy as np
>>> check_int(3, "n_clusters", minimum=2)
3
>>> check_images(np.zeros((2, 8, 8), np.uint8)).shape
(2, 8, 8)
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
from sklearn.utils import check_array, check_scalar

__all__ = ["check_int", "check_float", "check_fraction", "check_images", "check_labels",
           "check_features", "check_same_length"]


def check_int(value: Any, name: str, *, minimum: int | None = 1, maximum: int | None = None) -> int:
    """An integer (not a bool) within ``[minimum, maximum]``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {value!r} ({type(value).__name__}).")
    return int(check_scalar(int(value), name, numbers.Integral, min_val=minimum, max_val=maximum))


def check_float(value: Any, name: str, *, minimum: float | None = None, maximum: float | None = None,
                include_minimum: bool = True, include_maximum: bool = True) -> float:
    """A real number within the given bounds (ints are accepted and converted)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {value!r} ({type(value).__name__}).")
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value!r}.")
    # scikit-learn's check_scalar wants the open/closed ends named only for bounds that exist
    lo = include_minimum and minimum is not None
    hi = include_maximum and maximum is not None
    closed = {(True, True): "both", (True, False): "left", (False, True): "right", (False, False): "neither"}
    return float(check_scalar(float(value), name, numbers.Real, min_val=minimum, max_val=maximum,
                              include_boundaries=closed[(lo, hi)]))


def check_fraction(value: Any, name: str, *, include_zero: bool = True, include_one: bool = False) -> float:
    """A share in [0, 1) by default (see ``include_zero`` / ``include_one``)."""
    return check_float(value, name, minimum=0.0, maximum=1.0, include_minimum=include_zero,
                       include_maximum=include_one)


def check_images(x: Any, name: str = "images", *, min_samples: int = 1) -> np.ndarray:
    """Images as ``(n, h, w)`` (grey) or ``(n, h, w, c)`` (channels last), any numeric dtype.

    Returned unchanged in dtype, so uint8 pixels stay uint8.
    """
    arr = np.asarray(x)
    if arr.ndim not in (3, 4):
        raise ValueError(f"{name} must be images of shape (n, height, width) or (n, height, width, "
                         f"channels); got an array of shape {arr.shape}. Flat rows of pixels? "
                         "Reshape them first, e.g. x.reshape(-1, 28, 28).")
    if not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise TypeError(f"{name} must hold numbers, got dtype {arr.dtype}.")
    if len(arr) < min_samples:
        raise ValueError(f"{name} holds {len(arr)} image(s); at least {min_samples} are needed.")
    if arr.ndim == 4 and arr.shape[-1] not in (1, 3, 4):
        raise ValueError(f"{name}: the last axis must be 1, 3 or 4 colour channels, got {arr.shape[-1]} "
                         f"(shape {arr.shape}). Channels-first arrays need np.moveaxis(x, 1, -1).")
    return arr


def check_features(x: Any, name: str = "features", *, min_samples: int = 1) -> np.ndarray:
    """A finite 2-D float array ``(n_samples, n_features)``, via ``sklearn.utils.check_array``."""
    try:
        return check_array(x, dtype=[np.float32, np.float64], ensure_min_samples=min_samples,
                           input_name=name)
    except ValueError as err:
        raise ValueError(f"{name}: {err} Flatten images first with helpers.data.to_vectors.") from err


def check_labels(y: Any, name: str = "labels", *, n: int | None = None, n_classes: int | None = None) -> np.ndarray:
    """Integer class labels as a 1-D int64 array, optionally of length ``n`` and in ``[0, n_classes)``."""
    arr = np.asarray(y)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array of class ids, got shape {arr.shape}. "
                         "One-hot labels? Pass labels.argmax(axis=1).")
    if arr.size and not (np.issubdtype(arr.dtype, np.integer)
                         or (np.issubdtype(arr.dtype, np.floating) and np.all(arr == np.round(arr)))):
        raise TypeError(f"{name} must be integer class ids, got dtype {arr.dtype}.")
    arr = arr.astype(np.int64)
    if n is not None and len(arr) != n:
        raise ValueError(f"{name} has {len(arr)} entries but there are {n} images; pass one label per image.")
    if arr.size and arr.min() < 0:
        raise ValueError(f"{name} must be non-negative class ids, got {arr.min()}.")
    if n_classes is not None and arr.size and arr.max() >= n_classes:
        raise ValueError(f"{name} holds class id {arr.max()} but there are only {n_classes} classes "
                         f"(ids 0..{n_classes - 1}).")
    return arr


def check_same_length(**arrays: Any) -> int:
    """The common length of the named arrays, or a ``ValueError`` naming each length."""
    lengths = {name: len(a) for name, a in arrays.items()}
    if len(set(lengths.values())) > 1:
        raise ValueError("these must have one entry per image, but their lengths differ: "
                         + ", ".join(f"{k}={v}" for k, v in lengths.items()) + ".")
    return next(iter(lengths.values()), 0)
