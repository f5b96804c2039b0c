"""Clustering the unlabeled pool, and scoring a clustering honestly.

Cluster ids are arbitrary names: k-means may call the trousers "cluster 7".
Comparing cluster ids with class labels directly (as the source article does)
therefore measures luck, not structure. The functions here score a clustering
the way the literature does:

- :func:`cluster_accuracy` matches clusters to classes one-to-one with the
  Hungarian algorithm (:func:`scipy.optimize.linear_sum_assignment`) and
  counts the images whose matched class is right;
- :func:`contingency` counts the images of each class in each cluster (classes x clusters,
  as :func:`sklearn.metrics.cluster.contingency_matrix`);
- :func:`match_clusters` returns that matching (or the majority,
  many-to-one mapping that :func:`purity` uses);
- NMI and ARI come from :mod:`sklearn.metrics` and do not depend on names;
- :func:`clustering_scores` and :func:`metrics_table` compute them all at once.

:func:`fit_kmeans` and :func:`kmeans_labels` fit (mini-batch) k-means with a
``random_state``, optionally on a PCA projection of the data first, which on
Fashion-MNIST gives a partition close to the one on pixels (chapter 3 measures how close) in a
fraction of the time.

Example
-------
>>> import numpy as np
>>> y_true = np.array([0, 0, 1, 1, 2, 2])
>>> y_pred = np.array([5, 5, 3, 3, 4, 4])      # a perfect clustering, other names
>>> float(np.mean(y_true == y_pred))            # the article's direct comparison
0.0
>>> cluster_accuracy(y_true, y_pred)
1.0
>>> match_clusters(y_true, y_pred)
{3: 1, 4: 2, 5: 0}
"""

from __future__ import annotations

import time
from typing import Any, Mapping, Sequence

import numpy as np
from scipy.optimize import linear_sum_assignment
from sklearn.cluster import KMeans, MiniBatchKMeans
from sklearn.decomposition import PCA
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score
from sklearn.metrics.cluster import contingency_matrix
from sklearn.pipeline import Pipeline, make_pipeline

from . import progress
from .report import MetricsTable

__all__ = [
    "check_labels", "contingency", "match_clusters", "relabel", "cluster_accuracy",
    "direct_accuracy", "purity", "clustering_scores", "metrics_table",
    "fit_kmeans", "kmeans_labels", "sweep_n_clusters",
]


# --------------------------------------------------------------------------- validation
def _as_labels(labels: Any, what: str) -> np.ndarray:
    arr = np.asarray(labels)
    if arr.ndim != 1:
        raise ValueError(f"{what} must be a 1-D array of integer labels, got shape {arr.shape}.")
    if arr.size == 0:
        raise ValueError(f"{what} is empty; pass one label per image.")
    if arr.dtype == bool or not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(
            f"{what} must hold integer labels (cluster ids or class indices), got dtype "
            f"{arr.dtype}. Convert with `.astype(int)` if the values are whole numbers."
        )
    return arr.astype(np.int64, copy=False)


def check_labels(y_true: Any, y_pred: Any) -> tuple[np.ndarray, np.ndarray]:
    """Validate a pair of label arrays and return them as ``int64`` arrays.

    Raises
    ------
    ValueError
        If either array is not 1-D, is empty, holds non-integers, or the two
        lengths differ.
    """
    t = _as_labels(y_true, "y_true")
    p = _as_labels(y_pred, "y_pred")
    if len(t) != len(p):
        raise ValueError(
            f"y_true and y_pred must have one label per image each, got lengths {len(t)} and {len(p)}."
        )
    return t, p


def _check_n_clusters(n_clusters: Any, n_samples: int | None = None) -> int:
    if isinstance(n_clusters, bool) or not isinstance(n_clusters, (int, np.integer)) or n_clusters < 1:
        raise ValueError(f"n_clusters (k) must be a positive integer, got {n_clusters!r}.")
    if n_samples is not None and n_clusters > n_samples:
        raise ValueError(f"n_clusters={n_clusters} is larger than the number of samples ({n_samples}); "
                         "use fewer clusters or more data.")
    return int(n_clusters)


def _check_x(x: Any) -> np.ndarray:
    arr = np.asarray(x)
    if arr.ndim < 2:
        raise ValueError(f"x must be a 2-D array (n_samples, n_features), got shape {arr.shape}.")
    if len(arr) == 0:
        raise ValueError("x is empty; pass at least one sample.")
    if arr.ndim > 2:  # images (n, h, w): flatten, the article's first bug
        arr = arr.reshape(len(arr), -1)
    if not np.issubdtype(arr.dtype, np.floating):
        arr = arr.astype(np.float32)
    return arr


# --------------------------------------------------------------------------- matching and metrics
def contingency(y_true: Any, y_pred: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Counts of images per (class, cluster) pair, oriented like scikit-learn's.

    The table is :func:`sklearn.metrics.cluster.contingency_matrix`: one row per true
    class, one column per cluster.

    Returns
    -------
    counts : ndarray of shape (n_classes, n_clusters)
        ``counts[i, j]`` is the number of images of class ``classes[i]`` in cluster ``clusters[j]``.
    classes, clusters : ndarray
        The sorted class labels and cluster ids that index the rows and the columns.

    Example
    -------
    >>> counts, classes, clusters = contingency([0, 0, 1], [7, 5, 5])
    >>> counts.tolist(), classes.tolist(), clusters.tolist()
    ([[1, 1], [1, 0]], [0, 1], [5, 7])
    """
    t, p = check_labels(y_true, y_pred)
    counts = np.asarray(contingency_matrix(t, p), dtype=np.int64)
    return counts, np.unique(t), np.unique(p)


def match_clusters(y_true: Any, y_pred: Any, *, many_to_one: bool = False) -> dict[int, int]:
    """The cluster -> class mapping that scores a clustering.

    Parameters
    ----------
    y_true, y_pred : array-like of int
        True classes and cluster ids, one per image.
    many_to_one : bool
        ``False`` (default): the one-to-one matching that maximises the number
        of correctly named images (Hungarian algorithm), as in clustering
        accuracy. When there are more clusters than classes, only as many
        clusters as there are classes get a class; the others are left out
        of the mapping. ``True``: every cluster gets its majority class
        (several clusters may share a class), as in :func:`purity`.

    Returns
    -------
    dict
        ``{cluster id: class}``, in the order of the cluster ids.
    """
    counts, classes, clusters = contingency(y_true, y_pred)
    if many_to_one:
        best = counts.argmax(axis=0)  # the majority class of every cluster (column)
        return {int(c): int(classes[i]) for c, i in zip(clusters, best)}
    rows, cols = linear_sum_assignment(counts, maximize=True)  # rows: classes, cols: clusters
    return {int(clusters[j]): int(classes[i]) for i, j in sorted(zip(rows, cols), key=lambda ij: ij[1])}


def relabel(y_pred: Any, mapping: Mapping[int, int], *, unmatched: int = -1) -> np.ndarray:
    """Translate cluster ids into classes with ``mapping``; ids not in it become ``unmatched``."""
    p = _as_labels(y_pred, "y_pred")
    out = np.full(p.shape, unmatched, dtype=np.int64)
    for cluster, cls in mapping.items():
        out[p == cluster] = cls
    return out


def cluster_accuracy(y_true: Any, y_pred: Any) -> float:
    """Clustering accuracy (ACC): the share of images named right after the best one-to-one matching.

    ``ACC = max over one-to-one maps m of (1/n) * sum_i [y_i == m(c_i)]``, found with
    the Hungarian algorithm. It is 1.0 for any renaming of a perfect clustering.
    With more clusters than classes, the images in unmatched clusters count as wrong.
    """
    counts, _, _ = contingency(y_true, y_pred)
    rows, cols = linear_sum_assignment(counts, maximize=True)
    return float(counts[rows, cols].sum() / counts.sum())


def direct_accuracy(y_true: Any, y_pred: Any) -> float:
    """``mean(y_true == y_pred)``: what comparing cluster ids with labels *without matching* reports.

    This is the source article's mistake; it is here only to show how misleading it is.
    """
    t, p = check_labels(y_true, y_pred)
    return float(np.mean(t == p))


def purity(y_true: Any, y_pred: Any) -> float:
    """Purity: the share of images that belong to their cluster's majority class.

    Purity never falls when clusters are split, and reaches 1.0 with one cluster per image,
    so compare it only between clusterings with the same number of clusters.
    """
    counts, _, _ = contingency(y_true, y_pred)
    return float(counts.max(axis=0).sum() / counts.sum())


def clustering_scores(y_true: Any, y_pred: Any) -> dict[str, float]:
    """ACC, NMI, ARI, purity, the direct (unmatched) accuracy, and the number of clusters.

    Example
    -------
    >>> scores = clustering_scores([0, 0, 1, 1], [1, 1, 0, 0])
    >>> scores["acc"], scores["nmi"], scores["ari"], scores["direct"]
    (1.0, 1.0, 1.0, 0.0)
    """
    t, p = check_labels(y_true, y_pred)
    return {
        "acc": cluster_accuracy(t, p),
        "nmi": float(normalized_mutual_info_score(t, p)),
        "ari": float(adjusted_rand_score(t, p)),
        "purity": purity(t, p),
        "direct": direct_accuracy(t, p),
        "k": int(len(np.unique(p))),
    }


def metrics_table(
    y_true: Any,
    predictions: Mapping[str, Any],
    *,
    seconds: Mapping[str, float] | None = None,
    columns: Sequence[str] = ("method", "k", "acc", "nmi", "ari", "purity"),
) -> MetricsTable:
    """Score several clusterings of the same images in one call.

    Parameters
    ----------
    y_true : array-like of int
        The true classes.
    predictions : mapping
        ``{method name: cluster ids}``.
    seconds : mapping, optional
        ``{method name: wall time}``; adds a ``"seconds"`` column at the end (or fills the one
        named in ``columns``).
    columns : sequence of str
        Which scores to show, in order (any key of :func:`clustering_scores`).

    Returns
    -------
    MetricsTable
        One row per method; shows as a table in Jupyter.
    """
    if not predictions:
        raise ValueError("predictions is empty; pass {method name: cluster ids}.")
    rows = []
    for name, y_pred in predictions.items():
        row: dict[str, Any] = {"method": name, **clustering_scores(y_true, y_pred)}
        if seconds is not None and name in seconds:
            row["seconds"] = float(seconds[name])
        rows.append(row)
    cols = list(columns)
    if seconds and "seconds" not in cols:
        cols.append("seconds")
    return MetricsTable(rows, cols)


# --------------------------------------------------------------------------- fitting
def fit_kmeans(
    x: Any,
    n_clusters: int = 10,
    *,
    random_state: int | None = 0,
    n_init: int = 10,
    pca_components: int | None = None,
    minibatch: bool = False,
    batch_size: int = 4096,
    max_iter: int = 300,
) -> KMeans | MiniBatchKMeans | Pipeline:
    """Fit k-means (or mini-batch k-means) to the rows of ``x``.

    Parameters
    ----------
    x : array of shape (n, d), or images (n, h, w) which are flattened
    n_clusters : int
        k, the number of clusters (>= 1).
    random_state : int or None
        Seed for the initialisation; the same seed gives the same clusters.
    n_init : int
        Restarts; the best (lowest inertia) is kept.
    pca_components : int, optional
        Project on the first principal components before clustering (much faster on
        784 pixels; with 50 components chapter 3 measures how close the partition stays).
    minibatch : bool
        Use :class:`sklearn.cluster.MiniBatchKMeans` (faster, slightly worse inertia).
    batch_size, max_iter : int
        Passed to the estimator.

    Returns
    -------
    estimator
        The fitted estimator (a ``Pipeline`` of PCA and k-means when ``pca_components`` is
        given); ``predict`` assigns new rows, and :func:`kmeans_labels` returns the pool's ids.
    """
    arr = _check_x(x)
    k = _check_n_clusters(n_clusters, len(arr))
    if minibatch:
        model: Any = MiniBatchKMeans(n_clusters=k, random_state=random_state, n_init=n_init,
                                     batch_size=batch_size, max_iter=max_iter)
    else:
        model = KMeans(n_clusters=k, random_state=random_state, n_init=n_init, max_iter=max_iter)
    if pca_components is not None:
        if not isinstance(pca_components, (int, np.integer)) or pca_components < 1:
            raise ValueError(f"pca_components must be a positive integer or None, got {pca_components!r}.")
        n_comp = int(min(pca_components, arr.shape[1], len(arr)))
        model = make_pipeline(PCA(n_components=n_comp, random_state=random_state), model)
    kind = "mini-batch k-means" if minibatch else "k-means"
    with progress.clock(f"{kind}, k={k}, {n_init} start{'s' if n_init != 1 else ''} on {len(arr):,} rows"):
        model.fit(arr)  # the clock shows in JupyterLab after 5 s; the HTML book drops it
    return model


def _final_step(model: Any) -> Any:
    return model[-1] if isinstance(model, Pipeline) else model


def kmeans_labels(x: Any, n_clusters: int = 10, **kwargs: Any) -> np.ndarray:
    """The cluster id of every row of ``x`` (same arguments as :func:`fit_kmeans`)."""
    return np.asarray(_final_step(fit_kmeans(x, n_clusters, **kwargs)).labels_, dtype=np.int64)


def sweep_n_clusters(
    x: Any,
    y_true: Any,
    ks: Sequence[int],
    *,
    random_state: int | None = 0,
    **kwargs: Any,
) -> MetricsTable:
    """Cluster ``x`` with each k in ``ks`` and score every clustering against ``y_true``.

    Used to show over-clustering: as k grows, purity and NMI rise while one-to-one
    accuracy falls, because only as many clusters as classes can be matched.
    Extra keyword arguments go to :func:`fit_kmeans`.
    """
    arr = _check_x(x)
    t = _as_labels(y_true, "y_true")
    if len(t) != len(arr):
        raise ValueError(f"x and y_true must have the same length, got {len(arr)} and {len(t)}.")
    if len(ks) == 0:
        raise ValueError("ks is empty; pass the numbers of clusters to try, e.g. (10, 50, 200).")
    rows = []
    for k in ks:
        start = time.perf_counter()
        labels = kmeans_labels(arr, k, random_state=random_state, **kwargs)
        elapsed = time.perf_counter() - start
        scores = clustering_scores(t, labels)
        scores["k"] = int(k)
        rows.append({"method": f"k-means, k={k}", **scores, "seconds": elapsed})
    return MetricsTable(rows, ("method", "k", "acc", "nmi", "ari", "purity", "seconds"))
