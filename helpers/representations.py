"""Representations of the unlabeled pool that make clustering easier.

Three ways to turn an image into a short vector, from cheapest to strongest:

- :func:`pca_codes`: the first principal components of the pixels;
- :func:`train_autoencoder` / :func:`autoencoder_codes`: the code layer of a dense
  autoencoder (:func:`helpers.models.build_autoencoder`) trained to reconstruct the
  pool; its weights are cached on disk (:func:`helpers.cache.cached_weights`);
- :func:`umap_embedding`: a UMAP embedding of any of those codes (cached with
  :func:`helpers.cache.cached_arrays`), used both to draw the pool in 2-D and to
  cluster it.

:func:`n2d_pipeline` is the chapter's strongest clustering, N2D (McConville et al., 2019):
autoencoder codes -> UMAP to a few dimensions -> Gaussian mixture (:func:`gmm_labels`),
run end to end with the cost of each step; :func:`n2d_over_seeds` repeats it over seeds.

Everything takes a ``random_state``; TensorFlow and UMAP are imported only when needed.

Example
-------
>>> import numpy as np
>>> x = np.random.default_rng(0).random((50, 16)).astype(np.float32)
>>> pca_codes(x, n_components=3).shape
(50, 3)
"""

from __future__ import annotations

import time
from typing import Any, Sequence

import numpy as np
from sklearn.decomposition import PCA
from sklearn.mixture import GaussianMixture

from . import cache, progress
from .clustering import clustering_scores
from .report import MetricsTable

__all__ = [
    "pca_codes", "autoencoder_params", "train_autoencoder", "autoencoder_codes",
    "umap_embedding", "gmm_labels", "n2d_pipeline", "n2d_over_seeds",
]


def _check_vectors(x: Any, what: str = "x") -> np.ndarray:
    arr = np.asarray(x)
    if arr.ndim != 2:
        raise ValueError(f"{what} must be a 2-D array (n_samples, n_features); got shape {arr.shape}. "
                         "Flatten images first with helpers.data.to_vectors.")
    if len(arr) == 0:
        raise ValueError(f"{what} is empty; pass at least one sample.")
    if not np.issubdtype(arr.dtype, np.floating):
        raise ValueError(f"{what} must hold floats (e.g. pixels scaled to [0, 1] by "
                         f"helpers.data.to_vectors), got dtype {arr.dtype}.")
    return arr.astype(np.float32, copy=False)


def pca_codes(x: Any, n_components: int = 50, *, random_state: int | None = 0) -> np.ndarray:
    """Project the rows of ``x`` on their first ``n_components`` principal components."""
    arr = _check_vectors(x)
    if isinstance(n_components, bool) or not isinstance(n_components, (int, np.integer)) or n_components < 1:
        raise ValueError(f"n_components must be a positive integer, got {n_components!r}.")
    n = int(min(n_components, arr.shape[1], len(arr)))
    return PCA(n_components=n, random_state=random_state).fit_transform(arr).astype(np.float32)


# --------------------------------------------------------------------------- autoencoder
def autoencoder_params(
    x: Any,
    *,
    code_dim: int,
    hidden: Sequence[int],
    epochs: int,
    batch_size: int,
    loss: str,
    learning_rate: float,
    random_state: int,
    tag: str,
) -> dict[str, Any]:
    """Everything a trained autoencoder depends on: its cache key."""
    return {
        "tag": tag, "data": cache.fingerprint(np.asarray(x)), "input_dim": int(np.asarray(x).shape[1]),
        "code_dim": int(code_dim), "hidden": [int(h) for h in hidden], "epochs": int(epochs),
        "batch_size": int(batch_size), "loss": loss, "learning_rate": float(learning_rate),
        "seed": int(random_state),
    }


def train_autoencoder(
    x: Any,
    *,
    code_dim: int = 10,
    hidden: Sequence[int] = (500, 500, 2000),
    epochs: int = 10,
    batch_size: int = 256,
    loss: str = "mse",
    learning_rate: float = 1e-3,
    random_state: int = 0,
    tag: str = "",
    verbose: bool = True,
) -> tuple[Any, Any, dict[str, Any]]:
    """Train (or load from the cache) a dense autoencoder that reconstructs the rows of ``x``.

    The model is :func:`helpers.models.build_autoencoder` with the given sizes, trained
    with Adam to minimise ``loss`` between each vector and its reconstruction.

    Parameters
    ----------
    x : array of shape (n, d), floats in [0, 1]
        The unlabeled pool as vectors (``helpers.data.to_vectors``).
    code_dim, hidden : int, sequence of int
        Size of the code layer and of the hidden layers of the encoder (mirrored in the decoder).
    epochs, batch_size, loss, learning_rate :
        The training recipe.
    random_state : int
        Seeds the weights' initialisation and the shuffling.
    tag : str
        A label that goes into the cache key, e.g. ``"full-fashion_mnist"``
        (the profile and dataset), so the cache folder stays readable.
    verbose : bool
        Report cache use and training time.

    Returns
    -------
    autoencoder, encoder : keras.Model
        The trained model and its encoder half (they share weights).
    info : dict
        ``"seconds"`` (time spent training now; 0 when loaded from the cache),
        ``"train_seconds"`` (how long training took when the weights were made, also
        when they are loaded), ``"cached"`` and ``"params"`` (the cache key).
    """
    arr = _check_vectors(x)
    if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 0:
        raise ValueError(f"epochs must be a non-negative integer, got {epochs!r}.")
    import keras  # local imports: TensorFlow is slow to import

    from . import models

    params = autoencoder_params(arr, code_dim=code_dim, hidden=hidden, epochs=epochs,
                                batch_size=batch_size, loss=loss, learning_rate=learning_rate,
                                random_state=random_state, tag=tag)
    keras.utils.set_random_seed(int(random_state))
    autoencoder, encoder = models.build_autoencoder(arr.shape[1], code_dim=int(code_dim),
                                                    hidden=tuple(int(h) for h in hidden))

    def train(model: Any) -> None:
        model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss=loss)
        from .training import ProgressBar  # on standard error: JupyterLab shows it, the HTML book not

        model.fit(arr, arr, epochs=int(epochs), batch_size=int(batch_size), shuffle=True, verbose=0,
                  callbacks=[ProgressBar("autoencoder")])

    start = time.perf_counter()
    cached = cache.cached_weights("autoencoder", params, autoencoder, train, verbose=verbose)
    seconds = 0.0 if cached else time.perf_counter() - start
    # the training time is stored beside the weights, so a cached model still reports its cost
    timing = cache.cache_path("autoencoder", params, ".seconds.npy")
    if not cached:
        np.save(timing, np.array(seconds))
        if verbose:
            print(f"trained the autoencoder for {epochs} epochs in {seconds:.0f} s")
    train_seconds = float(np.load(timing)) if timing.exists() else float("nan")
    return autoencoder, encoder, {"seconds": seconds, "train_seconds": train_seconds,
                                  "cached": cached, "params": params}


def autoencoder_codes(encoder: Any, x: Any, *, batch_size: int = 1024) -> np.ndarray:
    """The code vector of every row of ``x`` under a trained ``encoder``."""
    arr = _check_vectors(x)
    return np.asarray(encoder.predict(arr, batch_size=batch_size, verbose=0), dtype=np.float32)


# --------------------------------------------------------------------------- UMAP, mixture, N2D
def umap_embedding(
    x: Any,
    *,
    n_components: int = 2,
    n_neighbors: int = 15,
    min_dist: float = 0.1,
    metric: str = "euclidean",
    n_epochs: int | None = None,
    random_state: int = 0,
    tag: str = "",
    use_cache: bool = True,
    return_seconds: bool = False,
    verbose: bool = False,
) -> np.ndarray | tuple[np.ndarray, float]:
    """A UMAP embedding of the rows of ``x`` (McInnes et al., 2018), cached on disk.

    Parameters
    ----------
    x : array of shape (n, d)
        Pixels or codes.
    n_components, n_neighbors, min_dist, metric, n_epochs :
        Passed to ``umap.UMAP``. ``min_dist=0`` packs clusters tightly, which suits
        clustering; ``0.1`` (UMAP's default) draws a more readable map. ``n_epochs=None``
        lets UMAP choose (500 below 10,000 samples, 200 above); 200 keeps small runs fast.
    random_state : int
        Seed; with it UMAP runs on one thread and repeats exactly.
    tag : str
        Goes into the cache key (e.g. profile and dataset).
    use_cache : bool
        Set to ``False`` to always recompute.
    return_seconds : bool
        Also return how long the embedding took to compute (stored with it in the cache,
        so a cached embedding still reports its cost).

    Returns
    -------
    embedding : ndarray of shape (n, n_components), float32
    seconds : float, only with ``return_seconds=True``
    """
    arr = _check_vectors(x)
    for name, value, low in (("n_components", n_components, 1), ("n_neighbors", n_neighbors, 2)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
            raise ValueError(f"{name} must be an integer >= {low}, got {value!r}.")
    if n_neighbors >= len(arr):
        raise ValueError(f"n_neighbors={n_neighbors} needs more than {n_neighbors} samples, got {len(arr)}.")

    def compute() -> dict[str, np.ndarray]:
        try:
            import umap
        except ImportError as err:  # pragma: no cover - umap-learn is in requirements.txt
            raise ImportError("umap_embedding needs umap-learn: `pip install umap-learn`.") from err
        import warnings

        reducer = umap.UMAP(n_components=int(n_components), n_neighbors=int(n_neighbors),
                            min_dist=float(min_dist), metric=metric, n_epochs=n_epochs,
                            random_state=int(random_state), verbose=False)
        start = time.perf_counter()
        with warnings.catch_warnings(), progress.clock(f"UMAP of {len(arr):,} rows"):
            warnings.simplefilter("ignore", UserWarning)  # "n_jobs overridden to 1 by setting random_state"
            embedding = reducer.fit_transform(arr).astype(np.float32)
        return {"embedding": embedding, "seconds": np.array(time.perf_counter() - start)}

    params = {"tag": tag, "data": cache.fingerprint(arr), "n_components": int(n_components),
              "n_neighbors": int(n_neighbors), "min_dist": float(min_dist), "metric": metric,
              "n_epochs": n_epochs, "seed": int(random_state)}
    result = compute() if not use_cache else cache.cached_arrays("umap", params, compute, verbose=verbose)
    if return_seconds:
        return result["embedding"], float(result["seconds"])
    return result["embedding"]


def gmm_labels(
    x: Any,
    n_clusters: int = 10,
    *,
    covariance_type: str = "full",
    random_state: int | None = 0,
    n_init: int = 1,
) -> np.ndarray:
    """Cluster the rows of ``x`` with a Gaussian mixture; returns each row's most likely component."""
    arr = _check_vectors(x)
    if isinstance(n_clusters, bool) or not isinstance(n_clusters, (int, np.integer)) or n_clusters < 1:
        raise ValueError(f"n_clusters (k) must be a positive integer, got {n_clusters!r}.")
    if n_clusters > len(arr):
        raise ValueError(f"n_clusters={n_clusters} is larger than the number of samples ({len(arr)}).")
    gmm = GaussianMixture(n_components=int(n_clusters), covariance_type=covariance_type,
                          random_state=random_state, n_init=n_init)
    return gmm.fit(arr).predict(arr).astype(np.int64)


def n2d_pipeline(
    x: Any,
    n_clusters: int = 10,
    *,
    code_dim: int = 10,
    hidden: Sequence[int] = (500, 500, 2000),
    epochs: int = 10,
    batch_size: int = 256,
    loss: str = "mse",
    learning_rate: float = 1e-3,
    umap_components: int = 10,
    n_neighbors: int = 20,
    min_dist: float = 0.0,
    n_epochs: int | None = None,
    random_state: int = 0,
    tag: str = "",
    verbose: bool = False,
) -> dict[str, Any]:
    """The whole N2D recipe on the pool ``x``: train the autoencoder, encode, UMAP, Gaussian mixture.

    The autoencoder's arguments are those of :func:`train_autoencoder`, the UMAP ones
    those of :func:`umap_embedding` (``umap_components`` is its ``n_components``);
    McConville et al. embed in as many dimensions as clusters, with 20 neighbours and
    ``min_dist=0``. Every expensive step is cached; the returned ``seconds`` are the times each step took
    when it was computed (also when it is now loaded from the cache), so they state the
    real cost of the method.

    Returns
    -------
    dict
        ``labels`` (cluster ids), ``codes`` (autoencoder codes), ``embedding`` (UMAP),
        ``seconds`` (``{"autoencoder", "umap", "mixture", "total"}``).
    """
    _, encoder, info = train_autoencoder(x, code_dim=code_dim, hidden=hidden, epochs=epochs,
                                         batch_size=batch_size, loss=loss,
                                         learning_rate=learning_rate, random_state=random_state,
                                         tag=tag, verbose=verbose)
    start = time.perf_counter()
    codes = autoencoder_codes(encoder, x)
    encode_seconds = time.perf_counter() - start
    embedding, umap_seconds = umap_embedding(
        codes, n_components=umap_components, n_neighbors=n_neighbors, min_dist=min_dist,
        n_epochs=n_epochs, random_state=random_state, tag=tag, return_seconds=True,
        verbose=verbose)
    start = time.perf_counter()
    labels = gmm_labels(embedding, n_clusters, random_state=random_state)
    mixture_seconds = time.perf_counter() - start
    seconds = {"autoencoder": info["train_seconds"] + encode_seconds, "umap": umap_seconds,
               "mixture": mixture_seconds}
    seconds["total"] = float(sum(seconds.values()))
    return {"labels": labels, "codes": codes, "embedding": embedding, "seconds": seconds}


def n2d_over_seeds(
    x: Any,
    y_true: Any,
    seeds: Sequence[int],
    **kwargs: Any,
) -> MetricsTable:
    """Run :func:`n2d_pipeline` once per seed (a new autoencoder each time) and score each run.

    The spread over seeds, not the best seed, is what a reader can expect: every seed trains
    a new autoencoder, a new embedding and a new mixture.

    Returns
    -------
    MetricsTable
        One row per seed with ``acc``, ``nmi``, ``ari``, ``purity`` and ``seconds`` (total).
    """
    if len(seeds) == 0:
        raise ValueError("seeds is empty; pass the seeds to run, e.g. (0, 1, 2).")
    rows = []
    for seed in seeds:
        run = n2d_pipeline(x, random_state=int(seed), **kwargs)
        scores = clustering_scores(y_true, run["labels"])
        rows.append({"method": f"N2D, seed {seed}", "seed": int(seed), **scores,
                     "seconds": run["seconds"]["total"]})
    return MetricsTable(rows, ("method", "acc", "nmi", "ari", "purity", "seconds"))
