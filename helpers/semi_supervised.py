"""Semi-supervised learning: spread a few labels over the pool, then teach a network.

Two ideas, both using the unlabeled pool *together with* the few labels:

* **Label spreading** (Zhou et al. 2004), see :func:`nearest_neighbors`,
  :func:`spreading_matrix` and :func:`spread_on_graph`. Build a
  k-nearest-neighbour graph of every image in the pool, in a feature space
  where neighbours tend to share a class. Start with the known labels and let
  them flow along the edges, a little at every step, until nothing changes.
  Every pool image ends up with a label *distribution*; its largest entry is a
  pseudo-label and its height a confidence.
* **Teacher -> student** (pseudo-labelling, Lee 2013; Xie et al. 2020): the
  spread labels (the teacher), of which :func:`select_confident` keeps the
  surest share, become training targets for a CNN (the student) on the *whole*
  pool (:func:`helpers.evaluation.teacher_student`). The CNN then learns from
  thousands of mostly-correct examples instead of a hundred correct ones;
  :mod:`helpers.self_training` lets student and graph take turns.

:func:`knn_label_purity` is the diagnostic that predicts when spreading works:
the share of each image's nearest neighbours that carry its own class.

Example
-------
>>> import numpy as np
>>> from sklearn.datasets import make_blobs
>>> x, y = make_blobs(300, centers=3, cluster_std=0.6, random_state=0)
>>> labeled = np.array([np.flatnonzero(y == c)[0] for c in range(3)])
>>> s = spreading_matrix(nearest_neighbors(x, n_neighbors=10)[0])
>>> result = spread_on_graph(s, labeled, y[labeled], alpha=0.9)
>>> float((result.labels == y).mean()) > 0.9
True
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.decomposition import PCA
from sklearn.neighbors import NearestNeighbors
from sklearn.preprocessing import StandardScaler

from . import progress

__all__ = [
    "SpreadResult",
    "prepare_graph_space",
    "knn_label_purity",
    "nearest_neighbors",
    "spreading_matrix",
    "spread_on_graph",
    "predict_from_neighbors",
    "choose_alpha",
    "select_confident",
    "pseudo_label_accuracy_by_confidence",
]


def _check_seed_labels(labeled_idx: Any, labels: Any, n: int, n_classes: int | None,
                       alpha: float) -> tuple[np.ndarray, np.ndarray, int]:
    """Validate the known labels that spreading starts from; return them and the class count."""
    labeled_idx, labels = np.asarray(labeled_idx), np.asarray(labels)
    if labeled_idx.ndim != 1 or labels.ndim != 1 or len(labeled_idx) != len(labels):
        raise ValueError(f"labeled_idx and labels must be 1-D with the same length, got "
                         f"{labeled_idx.shape} and {labels.shape}.")
    if len(labels) == 0:
        raise ValueError("No labeled samples: spreading needs at least one label per class.")
    if not np.issubdtype(labeled_idx.dtype, np.integer) or labeled_idx.min() < 0 \
            or labeled_idx.max() >= n:
        raise ValueError(f"labeled_idx must hold integer positions in 0..{n - 1}.")
    if not np.issubdtype(labels.dtype, np.integer) or labels.min() < 0:
        raise ValueError(f"labels must be non-negative integer class ids, got dtype {labels.dtype}.")
    n_classes = int(labels.max()) + 1 if n_classes is None else int(n_classes)
    missing = sorted(set(range(n_classes)) - set(labels.tolist()))
    if missing:
        raise ValueError(f"class(es) {missing} have no label, so nothing can spread to them. "
                         "Give at least one label per class.")
    if not 0.0 < float(alpha) < 1.0:
        raise ValueError(f"alpha must be strictly between 0 and 1, got {alpha!r}.")
    return labeled_idx, labels, n_classes


def _check_features(x: Any, what: str = "features") -> np.ndarray:
    x = np.asarray(x)
    if x.ndim != 2:
        raise ValueError(f"{what} must be a 2-D array (n_samples, n_features), got shape {x.shape}. "
                         "Flatten images with data.to_vectors or encode them first.")
    if len(x) < 2:
        raise ValueError(f"{what} needs at least two samples, got {len(x)}.")
    if not np.all(np.isfinite(x)):
        raise ValueError(f"{what} contains NaN or infinite values.")
    return x.astype(np.float32, copy=False)


def _check_n_neighbors(n_neighbors: Any, n_samples: int) -> int:
    if isinstance(n_neighbors, bool) or not isinstance(n_neighbors, (int, np.integer)) \
            or not 1 <= n_neighbors < n_samples:
        raise ValueError(f"n_neighbors must be an integer between 1 and n_samples - 1 "
                         f"({n_samples - 1}), got {n_neighbors!r}.")
    return int(n_neighbors)


def prepare_graph_space(
    x: Any, n_components: int | None = 64, *, x_query: Any | None = None,
    random_state: int | None = 0,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Standardise features and (optionally) project them on their top principal components.

    Distances in a few dozen PCA dimensions are cheaper and less noisy than
    in hundreds of raw feature dimensions; the nearest-neighbour graph is
    built there. The scaling and the projection are fitted on the pool ``x``
    only (no labels are used) and applied to ``x_query`` (e.g. the test set).

    Parameters
    ----------
    x : array (n, d)
    n_components : int or None
        Dimensions kept; ``None`` keeps all (standardised only).
    x_query : array (m, d), optional
        Further samples to map into the same space.
    random_state : int, optional
        For the randomised PCA solver.

    Returns
    -------
    z, z_query : float32 arrays (n, n_components) and (m, n_components) or None
    """
    x = _check_features(x)
    xq = None
    if x_query is not None:
        xq = _check_features(x_query, "x_query")
        if xq.shape[1] != x.shape[1]:
            raise ValueError(f"x_query has {xq.shape[1]} features, x has {x.shape[1]}.")
    steps: list[Any] = [StandardScaler()]
    if n_components is not None:
        if isinstance(n_components, bool) or not isinstance(n_components, (int, np.integer)) \
                or n_components < 1:
            raise ValueError(f"n_components must be a positive integer or None, got {n_components!r}.")
        if n_components < min(x.shape):
            steps.append(PCA(n_components=int(n_components), svd_solver="randomized",
                             random_state=random_state))
    z = x
    for step in steps:
        z = step.fit_transform(z)
        xq = None if xq is None else step.transform(xq)
    return z.astype(np.float32), None if xq is None else xq.astype(np.float32)


def knn_label_purity(x: Any, y: Any, n_neighbors: int = 10) -> float:
    """Share of each sample's ``n_neighbors`` nearest neighbours (itself excluded) with its class.

    High purity means labels spread along the graph mostly reach images of
    the right class; it is a label-free property of the feature space that we
    can only *measure* here because the benchmark's pool happens to be labeled.
    """
    x = _check_features(x)
    y = np.asarray(y)
    if y.ndim != 1 or len(y) != len(x):
        raise ValueError(f"y must be a 1-D array with one label per row of x, got shape {y.shape} "
                         f"for {len(x)} rows.")
    k = _check_n_neighbors(n_neighbors, len(x))
    _, idx = NearestNeighbors(n_neighbors=k + 1).fit(x).kneighbors(x)
    return float(np.mean(y[idx[:, 1:]] == y[:, None]))


@dataclass
class SpreadResult:
    """What :func:`spread_on_graph` returns.

    Attributes
    ----------
    labels : array (n,)
        Pseudo-label of every pool sample (the true label where it was given).
    confidence : array (n,)
        Largest entry of each label distribution, in [0, 1].
    distributions : array (n, n_classes)
        The normalised label distribution of every sample.
    """

    labels: np.ndarray
    confidence: np.ndarray
    distributions: np.ndarray


def nearest_neighbors(
    x: Any, n_neighbors: int = 10, *, x_query: Any | None = None
) -> tuple[np.ndarray, np.ndarray | None]:
    """The ``n_neighbors`` nearest pool samples of every pool sample (and of query samples).

    Finding neighbours is the expensive step of label spreading, and it does
    not depend on the labels: do it once (and cache the indices), build the
    graph with :func:`spreading_matrix`, then spread any draw of labels over
    it in a second with :func:`spread_on_graph`.

    Parameters
    ----------
    x : array (n, d)
        The pool in the graph's feature space.
    n_neighbors : int
        Neighbours per sample (the sample itself excluded).
    x_query : array (m, d), optional
        Further samples (e.g. the test set) whose neighbours *in the pool* are
        also returned, to predict them with :func:`predict_from_neighbors`.

    Returns
    -------
    pool_neighbors : array of int (n, n_neighbors)
    query_neighbors : array of int (m, n_neighbors) or None
    """
    x = _check_features(x)
    k = _check_n_neighbors(n_neighbors, len(x))
    nn = NearestNeighbors(n_neighbors=k + 1).fit(x)
    with progress.clock(f"{k} nearest neighbours of {len(x):,} rows"):
        pool = nn.kneighbors(x, return_distance=False)
    # the sample itself is normally its own first neighbour; drop it (or, among duplicates, the last)
    own = pool == np.arange(len(x))[:, None]
    keep = np.where(own.any(1)[:, None], ~own, np.arange(k + 1)[None, :] < k)
    pool = pool[keep].reshape(len(x), k)
    query = None
    if x_query is not None:
        xq = _check_features(x_query, "x_query")
        if xq.shape[1] != x.shape[1]:
            raise ValueError(f"x_query has {xq.shape[1]} features, the pool {x.shape[1]}.")
        query = nn.kneighbors(xq, n_neighbors=k, return_distance=False)
    return pool.astype(np.int32), None if query is None else query.astype(np.int32)


def spreading_matrix(neighbors: Any) -> Any:
    """The symmetrically normalised affinity ``S = D^-1/2 W D^-1/2`` of Zhou et al. (2004).

    ``W`` links every sample to each of its nearest neighbours, in both
    directions (an edge if either is among the other's neighbours), and ``D``
    holds the number of links of every sample.

    Parameters
    ----------
    neighbors : array of int (n, k)
        From :func:`nearest_neighbors`.

    Returns
    -------
    scipy.sparse.csr_matrix (n, n), float32
    """
    from scipy import sparse

    neighbors = np.asarray(neighbors)
    if neighbors.ndim != 2 or not np.issubdtype(neighbors.dtype, np.integer):
        raise ValueError(f"neighbors must be a 2-D integer array (n, k), got {neighbors.shape} "
                         f"{neighbors.dtype}.")
    n, k = neighbors.shape
    if neighbors.size and (neighbors.min() < 0 or neighbors.max() >= n):
        raise ValueError("neighbors must hold positions 0..n-1 of the pool itself.")
    w = sparse.csr_matrix((np.ones(n * k, dtype=np.float32),
                           (np.repeat(np.arange(n), k), neighbors.ravel())), shape=(n, n))
    w = ((w + w.T) > 0).astype(np.float32)
    d = np.asarray(w.sum(axis=1)).ravel()
    inv_sqrt = sparse.diags(1.0 / np.sqrt(np.maximum(d, 1e-12)))
    return (inv_sqrt @ w @ inv_sqrt).tocsr().astype(np.float32)


def spread_on_graph(
    s: Any,
    labeled_idx: Any,
    labels: Any,
    *,
    n_classes: int | None = None,
    alpha: float = 0.99,
    n_iter: int = 50,
    normalize_classes: bool = True,
) -> SpreadResult:
    """Label spreading (Zhou et al. 2004) over a prebuilt graph: ``F <- alpha S F + (1 - alpha) Y``.

    ``Y`` holds a one-hot row for every labeled sample and zeros elsewhere.
    Each iteration, every sample collects the label mass of its neighbours
    (weighted by ``S``) and is pulled back towards its own initial label.
    The iteration converges to ``(1 - alpha) (I - alpha S)^-1 Y``.

    Parameters
    ----------
    s : sparse matrix (n, n)
        The normalised affinity from :func:`spreading_matrix`.
    labeled_idx, labels : arrays of int (m,)
        Where the known labels are, and what they are.
    n_classes : int, optional
        Default ``labels.max() + 1``.
    alpha : float in (0, 1)
        Weight of the neighbours against the initial label; close to 1 lets
        labels travel far along the graph.
    n_iter : int
        Iterations (each costs one sparse matrix product).
    normalize_classes : bool
        Divide each class's column by its total mass before taking the
        largest entry ("class mass normalisation", Zhu et al. 2003), so a class
        does not win merely because its labels sit in a dense region.
    """
    n = s.shape[0]
    labeled_idx, labels, n_classes = _check_seed_labels(labeled_idx, labels, n, n_classes, alpha)
    if isinstance(n_iter, bool) or not isinstance(n_iter, (int, np.integer)) or n_iter < 1:
        raise ValueError(f"n_iter must be a positive integer, got {n_iter!r}.")
    y0 = np.zeros((n, n_classes), dtype=np.float32)
    y0[labeled_idx, labels] = 1.0
    f = y0.copy()
    for _ in range(int(n_iter)):
        f = float(alpha) * (s @ f) + (1.0 - float(alpha)) * y0
    # each class's total mass depends on how many labels it had and where; normalise the columns
    # so that no class wins just by having more (or more central) labels
    if normalize_classes:
        f = f / np.maximum(f.sum(axis=0, keepdims=True), 1e-12)
    sums = f.sum(axis=1, keepdims=True)
    dist = np.where(sums > 0, f / np.where(sums > 0, sums, 1.0), 1.0 / n_classes).astype(np.float32)
    pseudo = dist.argmax(1)
    pseudo[labeled_idx] = labels
    return SpreadResult(labels=pseudo, confidence=dist.max(1), distributions=dist)


def choose_alpha(
    s: Any,
    labeled_idx: Any,
    labels: Any,
    *,
    candidates: tuple[float, ...] = (0.5, 0.9, 0.99),
    n_folds: int = 5,
    n_classes: int | None = None,
    default: float = 0.99,
    random_state: int | None = 0,
) -> float:
    """Pick ``alpha`` for :func:`spread_on_graph` by cross-validation *inside the labeled budget*.

    The labels are split into ``n_folds`` stratified folds; each fold is
    hidden in turn, the others are spread, and the hidden labels score the
    pseudo-labels. The candidate with the most correct held-out labels wins
    (ties go to the earlier candidate). No pool or test labels are used. With
    fewer than two labels in some class nothing can be held out and
    ``default`` is returned.
    """
    from sklearn.model_selection import StratifiedKFold

    labeled_idx, labels = np.asarray(labeled_idx), np.asarray(labels)
    if not candidates:
        raise ValueError("candidates is empty; give at least one alpha to try.")
    counts = np.bincount(labels)
    counts = counts[counts > 0]
    if counts.min() < 2:
        return float(default)
    folds = StratifiedKFold(n_splits=int(min(n_folds, counts.min())), shuffle=True,
                            random_state=random_state)
    n_classes = int(labels.max()) + 1 if n_classes is None else int(n_classes)
    correct = np.zeros(len(candidates))
    for fit, held in folds.split(labeled_idx, labels):
        for i, alpha in enumerate(candidates):
            res = spread_on_graph(s, labeled_idx[fit], labels[fit], n_classes=n_classes,
                                  alpha=alpha)
            correct[i] += np.sum(res.labels[labeled_idx[held]] == labels[held])
    return float(candidates[int(np.argmax(correct))])


def predict_from_neighbors(distributions: Any, neighbors: Any) -> np.ndarray:
    """Predict new samples by averaging the label distributions of their pool neighbours.

    Parameters
    ----------
    distributions : array (n_pool, n_classes)
        From :func:`spread_on_graph`.
    neighbors : array of int (m, k)
        Pool neighbours of each new sample (from :func:`nearest_neighbors` with ``x_query``).
    """
    distributions, neighbors = np.asarray(distributions), np.asarray(neighbors)
    if distributions.ndim != 2 or neighbors.ndim != 2:
        raise ValueError("distributions must be (n_pool, n_classes) and neighbors (m, k).")
    if neighbors.size and (neighbors.min() < 0 or neighbors.max() >= len(distributions)):
        raise ValueError("neighbors must index rows of distributions (pool positions).")
    return distributions[neighbors].mean(axis=1).argmax(axis=1)


def select_confident(
    confidence: Any, pseudo_labels: Any, keep: float = 0.8, *, per_class: bool = True
) -> np.ndarray:
    """Indices of the most confident pseudo-labels: the share ``keep`` of them.

    With ``per_class=True`` the share is taken within each pseudo-class, so a
    class whose confidences are all low (a hard class) is not dropped whole.

    Returns
    -------
    array of int, sorted
    """
    confidence = np.asarray(confidence, dtype=np.float64)
    pseudo_labels = np.asarray(pseudo_labels)
    if confidence.shape != pseudo_labels.shape or confidence.ndim != 1:
        raise ValueError(f"confidence and pseudo_labels must be 1-D with the same length, got "
                         f"{confidence.shape} and {pseudo_labels.shape}.")
    if not 0.0 < float(keep) <= 1.0:
        raise ValueError(f"keep must be a share in (0, 1], got {keep!r}.")
    if not per_class:
        n_keep = max(1, int(round(keep * len(confidence))))
        return np.sort(np.argsort(-confidence, kind="stable")[:n_keep])
    chosen = []
    for c in np.unique(pseudo_labels):
        members = np.flatnonzero(pseudo_labels == c)
        n_keep = max(1, int(round(keep * len(members))))
        chosen.append(members[np.argsort(-confidence[members], kind="stable")[:n_keep]])
    return np.sort(np.concatenate(chosen))


def pseudo_label_accuracy_by_confidence(
    confidence: Any, pseudo_labels: Any, y_true: Any, n_bins: int = 5
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Accuracy of pseudo-labels in confidence quantile bins (lowest to highest).

    Returns
    -------
    bin_centres, accuracy, share
        Median confidence, accuracy of the pseudo-labels and share of samples in each bin.
    """
    confidence = np.asarray(confidence, dtype=np.float64)
    pseudo_labels, y_true = np.asarray(pseudo_labels), np.asarray(y_true)
    if not (confidence.shape == pseudo_labels.shape == y_true.shape) or confidence.ndim != 1:
        raise ValueError("confidence, pseudo_labels and y_true must be 1-D arrays of the same length.")
    if isinstance(n_bins, bool) or not isinstance(n_bins, (int, np.integer)) or n_bins < 1:
        raise ValueError(f"n_bins must be a positive integer, got {n_bins!r}.")
    order = np.argsort(confidence, kind="stable")
    bins = np.array_split(order, n_bins)
    centres = np.array([np.median(confidence[b]) for b in bins])
    acc = np.array([np.mean(pseudo_labels[b] == y_true[b]) for b in bins])
    share = np.array([len(b) / len(order) for b in bins])
    return centres, acc, share
