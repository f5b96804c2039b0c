"""An on-disk cache for artefacts that are expensive to recompute.

Trained weights, embeddings and clusterings are stored under
:func:`helpers.config.cache_dir`, in files whose names carry a hash of
everything that determines them (profile, dataset, hyper-parameters, seed).
Change any of those and a new entry is computed; keep them and later chapters
(and later builds) load the result in a fraction of a second. An interrupted
run resumes from whatever was already stored.

Example
-------
>>> import numpy as np
>>> calls = []
>>> def compute():
...     calls.append(1)
...     return {"codes": np.arange(3)}
>>> first = cached_arrays("demo", {"k": 3}, compute, verbose=False)
>>> again = cached_arrays("demo", {"k": 3}, compute, verbose=False)
>>> len(calls), again["codes"].tolist()
(1, [0, 1, 2])
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import uuid
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np

from . import config


def fingerprint(*objects: Any) -> str:
    """A short, stable hash of whatever determines a cached artefact: the one hash of the book.

    Every cache key is built from it. It understands

    - mappings and sequences of JSON-like values (keys sorted, sets sorted, NumPy scalars as
      Python numbers), e.g. a dict of hyper-parameters;
    - NumPy arrays (their shape, dtype and bytes), e.g. a data set or a set of labels;
    - Keras models (their architecture: layer types and weight shapes, not the weight values;
      hash ``model.get_weights()`` for those).

    Examples
    --------
    >>> import numpy as np
    >>> fingerprint({"k": 3, "seed": 0}) == fingerprint({"seed": 0, "k": 3})
    True
    >>> fingerprint(np.arange(4)) == fingerprint(np.arange(4).reshape(2, 2))
    False
    """
    digest = hashlib.sha256()
    for obj in objects:
        _feed(digest, obj)
    return digest.hexdigest()[:16]


def _feed(digest: Any, obj: Any) -> None:
    if isinstance(obj, np.ndarray):
        arr = np.ascontiguousarray(obj)
        digest.update(f"array{arr.shape}{arr.dtype}".encode())
        digest.update(memoryview(arr).cast("B") if arr.size else b"")
    elif hasattr(obj, "layers") and hasattr(obj, "get_weights"):  # a Keras model
        layout = [(type(layer).__name__, [list(w.shape) for w in layer.weights]) for layer in obj.layers]
        digest.update(("model" + json.dumps(layout)).encode())
    else:
        try:
            text = json.dumps(obj, sort_keys=True, default=_json_default)
        except (TypeError, ValueError) as err:
            raise TypeError(f"cannot fingerprint {type(obj).__name__}: {err}. Pass NumPy arrays, "
                            "Keras models, or mappings / lists of numbers and strings.") from err
        digest.update(("json" + text).encode())


def cache_key(params: Mapping[str, Any]) -> str:
    """The key of a cache entry: the :func:`fingerprint` of its mapping of parameters."""
    if not isinstance(params, Mapping):
        raise TypeError(f"params must be a mapping of parameter names to values, got {type(params).__name__}.")
    return fingerprint(dict(params))


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return {"array": fingerprint(value)}
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=lambda v: json.dumps(v, sort_keys=True, default=_json_default))
    raise TypeError(f"{value!r} ({type(value).__name__}) is not JSON-serialisable")


def cache_path(name: str, params: Mapping[str, Any], suffix: str) -> Path:
    """Where the entry ``name`` with these ``params`` lives (the folder is created)."""
    if not name or "/" in name or name.startswith("."):
        raise ValueError(f"cache entry names are plain words like 'autoencoder', got {name!r}.")
    return config.cache_dir(name) / f"{cache_key(params)}{suffix}"


def _atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Write ``path`` through a temporary file in the same folder, then rename it into place.

    The rename is atomic, so a reader (another worker of a parallel sweep, or a later build)
    sees either no entry or a complete one, never a half-written file; an interrupted write
    leaves no entry behind. The temporary name is unique per process *and* thread, so several
    workers writing the same entry at once do not trample each other (the last rename wins,
    and all of them wrote the same result).
    """
    unique = f"{os.getpid()}-{threading.get_ident()}-{uuid.uuid4().hex[:8]}"
    tmp = path.with_name(f".tmp{unique}-{path.name}")  # keeps .npz / .weights.h5
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def load_arrays(name: str, params: Mapping[str, Any]) -> dict[str, np.ndarray] | None:
    """The arrays stored under ``name`` and ``params``, or ``None`` if there is no (readable) entry.

    A corrupt entry (e.g. from a disk that filled up) counts as missing.
    """
    path = cache_path(name, params, ".npz")
    if not path.exists():
        return None
    try:
        with np.load(path, allow_pickle=False) as stored:
            return {key: stored[key] for key in stored.files}
    except (OSError, ValueError, EOFError):
        return None


def store_arrays(name: str, params: Mapping[str, Any], arrays: Mapping[str, Any]) -> Path:
    """Store ``arrays`` under ``name`` and ``params`` (atomically); return the entry's path."""
    arrays = {key: np.asarray(value) for key, value in dict(arrays).items()}
    path = cache_path(name, params, ".npz")
    _atomic_write(path, lambda tmp: np.savez(tmp, **arrays))
    return path


def cached_arrays(
    name: str,
    params: Mapping[str, Any],
    compute: Callable[[], Mapping[str, np.ndarray]],
    *,
    refresh: bool = False,
    verbose: bool = True,
) -> dict[str, np.ndarray]:
    """Return the arrays ``compute()`` makes, computing them only on a cache miss.

    Parameters
    ----------
    name : str
        The kind of artefact, e.g. ``"kmeans-labels"``.
    params : mapping
        Everything the result depends on (profile, dataset, seed, hyper-parameters).
    compute : callable
        Returns a mapping of array names to NumPy arrays.
    refresh : bool
        Ignore a stored entry and recompute it.
    verbose : bool
        Say whether the result was loaded or computed.
    """
    path = cache_path(name, params, ".npz")
    if not refresh:
        arrays = load_arrays(name, params)
        if arrays is not None:
            if verbose:
                print(f"[cache] loaded {name} from {path.name}")
            return arrays
        if path.exists() and verbose:  # a corrupt entry is recomputed, not fatal
            print(f"[cache] {path.name} is unreadable; recomputing {name}")
    arrays = {key: np.asarray(value) for key, value in dict(compute()).items()}
    store_arrays(name, params, arrays)
    if verbose:
        print(f"[cache] computed and stored {name} in {path.name}")
    return arrays


def cached_weights(
    name: str,
    params: Mapping[str, Any],
    model: Any,
    train: Callable[[Any], Any],
    *,
    refresh: bool = False,
    verbose: bool = True,
) -> bool:
    """Load ``model``'s weights from the cache, or call ``train(model)`` and store them.

    ``model`` must be built (its weights created) with the same architecture
    each time; the architecture belongs in ``params``.

    Returns
    -------
    bool
        ``True`` if the weights came from the cache, ``False`` if they were trained now.
    """
    path = cache_path(name, params, ".weights.h5")
    if path.exists() and not refresh:
        try:
            model.load_weights(path)
            if verbose:
                print(f"[cache] loaded {name} weights from {path.name}")
            return True
        except (OSError, ValueError) as err:
            if verbose:
                print(f"[cache] could not load {path.name} ({err}); training {name} again")
    train(model)
    _atomic_write(path, lambda tmp: model.save_weights(tmp))
    if verbose:
        print(f"[cache] trained and stored {name} weights in {path.name}")
    return False
