"""Small synthetic problems and a transparent k-means, for the concepts chapter.

The real images of the book are too large to look at point by point. The
problems here are tiny on purpose: two-dimensional (or a few dozen
dimensions), generated in milliseconds, and built so that one idea is visible:

- :func:`make_moons_problem`: two classes that each form one connected,
  curved cluster. The unlabeled points reveal the class boundary, so
  spreading two labels along them works (the *cluster assumption* holds).
- :func:`make_stripes_problem`: two clusters (horizontal stripes) that do
  *not* follow the classes (left half versus right half). Structure found
  without labels points the wrong way.
- :func:`make_gaussian_classes`: two Gaussian classes in ``n_features``
  dimensions that differ along the first axis only, like a signal hidden
  among many noisy pixels.
- :func:`lloyd_kmeans`: Lloyd's algorithm for k-means in plain NumPy, which
  records the distortion (:func:`kmeans_distortion`) after every step, so a
  reader can watch the objective fall.

Every generator returns plain arrays ``(X, y)`` and takes a ``random_state``.

Example
-------
>>> X, y = make_moons_problem(n_samples=100, random_state=0)
>>> X.shape, sorted(set(y.tolist()))
((100, 2), [0, 1])
>>> result = lloyd_kmeans(X, n_clusters=2, random_state=0)
>>> bool(np.all(np.diff(result.distortions) <= 1e-12))
True
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from sklearn.datasets import make_moons

__all__ = [
    "LloydResult",
    "kmeans_distortion",
    "lloyd_kmeans",
    "make_gaussian_classes",
    "make_moons_problem",
    "make_stripes_problem",
]


def _check_n_samples(n_samples: int, minimum: int = 4) -> int:
    if not isinstance(n_samples, (int, np.integer)) or isinstance(n_samples, bool) or n_samples < minimum:
        raise ValueError(f"n_samples must be an integer >= {minimum}, got {n_samples!r}.")
    return int(n_samples)


def _check_non_negative(value: float, name: str) -> float:
    if not np.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}.")
    return float(value)


def make_moons_problem(
    n_samples: int = 300,
    noise: float = 0.1,
    random_state: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half-circles, one per class: clusters that *follow* the classes.

    Parameters
    ----------
    n_samples : int
        Total number of points (split evenly between the two classes).
    noise : float
        Standard deviation of the Gaussian noise added to the points.
    random_state : int, optional
        Seed for the noise.

    Returns
    -------
    X : ndarray of shape (n_samples, 2)
    y : ndarray of shape (n_samples,), integers 0 and 1
    """
    n_samples = _check_n_samples(n_samples)
    noise = _check_non_negative(noise, "noise")
    X, y = make_moons(n_samples=n_samples, noise=noise, random_state=random_state)
    return X, y.astype(np.int64)


def make_stripes_problem(
    n_samples: int = 300,
    gap: float = 3.0,
    width: float = 2.0,
    random_state: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Two horizontal stripes (the clusters) cut by a vertical class boundary.

    The points form two well-separated clusters, one above the other, but the
    class of a point is the *sign of its first coordinate*: each stripe holds
    both classes in equal shares. Any method that assumes "one cluster, one
    class" is misled here.

    Parameters
    ----------
    n_samples : int
        Total number of points (half in each stripe).
    gap : float
        Vertical distance between the centres of the two stripes.
    width : float
        Standard deviation of the points along the stripes (horizontal).
    random_state : int, optional
        Seed.

    Returns
    -------
    X : ndarray of shape (n_samples, 2)
    y : ndarray of shape (n_samples,), ``1`` where ``X[:, 0] > 0`` else ``0``
    """
    n_samples = _check_n_samples(n_samples)
    gap = _check_non_negative(gap, "gap")
    width = _check_non_negative(width, "width")
    if width == 0:
        raise ValueError("width must be > 0, or every point lies on the class boundary.")
    rng = np.random.default_rng(random_state)
    stripe = np.arange(n_samples) % 2  # 0 = upper stripe, 1 = lower stripe
    horizontal = rng.normal(0.0, width, size=n_samples)
    vertical = np.where(stripe == 0, gap / 2, -gap / 2) + rng.normal(0.0, 0.3, size=n_samples)
    X = np.column_stack([horizontal, vertical])
    y = (horizontal > 0).astype(np.int64)
    return X, y


def make_gaussian_classes(
    n_samples: int = 1000,
    n_features: int = 50,
    separation: float = 4.0,
    random_state: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Two Gaussian classes in ``n_features`` dimensions that differ along axis 0 only.

    Every feature is standard normal noise; class 1 is shifted by
    ``+separation / 2`` and class 0 by ``-separation / 2`` along the first
    feature. The best linear classifier thresholds the first feature; a
    classifier fitted to a handful of labels is distracted by the noise in the
    other ``n_features - 1`` features.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
    y : ndarray of shape (n_samples,), integers 0 and 1 (balanced)
    """
    n_samples = _check_n_samples(n_samples)
    if not isinstance(n_features, (int, np.integer)) or isinstance(n_features, bool) or n_features < 1:
        raise ValueError(f"n_features must be a positive integer, got {n_features!r}.")
    separation = _check_non_negative(separation, "separation")
    rng = np.random.default_rng(random_state)
    y = rng.permutation(np.arange(n_samples) % 2).astype(np.int64)
    X = rng.normal(size=(n_samples, int(n_features)))
    X[:, 0] += np.where(y == 1, separation / 2, -separation / 2)
    return X, y


# ----------------------------------------------------------------------------- k-means


def _check_points(X: np.ndarray) -> np.ndarray:
    X = np.asarray(X, dtype=float)
    if X.ndim != 2:
        raise ValueError(
            f"X must be a 2-D array (n_samples, n_features), got shape {X.shape}; "
            "flatten images first, e.g. X.reshape(len(X), -1)."
        )
    if len(X) == 0:
        raise ValueError("X is empty.")
    if not np.all(np.isfinite(X)):
        raise ValueError("X contains NaN or infinite values; impute or drop them first.")
    return X


def kmeans_distortion(X: np.ndarray, centers: np.ndarray, labels: np.ndarray | None = None) -> float:
    r"""The k-means objective: mean squared distance from each point to its centre.

    .. math:: J = \frac{1}{n} \sum_{i=1}^{n} \lVert x_i - \mu_{c_i} \rVert^2

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    centers : ndarray of shape (n_clusters, n_features)
        The codebook.
    labels : ndarray of shape (n_samples,), optional
        The centre assigned to each point. When omitted, each point uses its
        nearest centre (the smallest distortion these centres allow).

    Returns
    -------
    float
        ``J``. scikit-learn's ``KMeans.inertia_`` is the *sum*, ``n * J``.
    """
    X = _check_points(X)
    centers = np.asarray(centers, dtype=float)
    if centers.ndim != 2 or centers.shape[1] != X.shape[1] or len(centers) == 0:
        raise ValueError(
            f"centers must have shape (n_clusters, {X.shape[1]}), got {centers.shape}.")
    squared = ((X[:, None, :] - centers[None, :, :]) ** 2).sum(axis=2)
    if labels is None:
        return float(squared.min(axis=1).mean())
    labels = np.asarray(labels)
    if labels.shape != (len(X),) or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"labels must be {len(X)} integers, got shape {labels.shape}, dtype {labels.dtype}.")
    if labels.min() < 0 or labels.max() >= len(centers):
        raise ValueError(f"labels must lie in 0..{len(centers) - 1}.")
    return float(squared[np.arange(len(X)), labels].mean())


@dataclass
class LloydResult:
    """What :func:`lloyd_kmeans` found, and how it got there.

    Attributes
    ----------
    centers : ndarray of shape (n_clusters, n_features)
        Final codebook.
    labels : ndarray of shape (n_samples,)
        Final assignment of each point to a centre.
    distortions : list of float
        The distortion after the initial assignment and after every
        update-and-reassign step; it never increases.
    center_history : list of ndarray
        The codebook at the start and after every update step.
    n_iter : int
        Number of update steps run.
    converged : bool
        True if the assignment stopped changing before ``max_iter``.
    """

    centers: np.ndarray
    labels: np.ndarray
    distortions: list[float] = field(default_factory=list)
    center_history: list[np.ndarray] = field(default_factory=list)
    n_iter: int = 0
    converged: bool = False


def _nearest(X: np.ndarray, centers: np.ndarray) -> np.ndarray:
    squared = ((X[:, None, :] - centers[None, :, :]) ** 2).sum(axis=2)
    return squared.argmin(axis=1)


def lloyd_kmeans(
    X: np.ndarray,
    n_clusters: int | None = None,
    *,
    init: np.ndarray | None = None,
    max_iter: int = 100,
    random_state: int | None = None,
) -> LloydResult:
    """Lloyd's algorithm for k-means, in NumPy, recording the objective at every step.

    Alternates two steps, each of which can only lower the distortion
    :func:`kmeans_distortion`: *assign* every point to its nearest centre, then
    *update* every centre to the mean of its points. Stops when the assignment
    no longer changes. A centre that loses all its points stays where it is.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    n_clusters : int, optional
        Number of centres ``k``; required unless ``init`` is given.
    init : ndarray of shape (n_clusters, n_features), optional
        Starting centres. By default, ``n_clusters`` distinct points of ``X``
        drawn at random (Forgy initialisation).
    max_iter : int
        Maximum number of update steps.
    random_state : int, optional
        Seed for the random initialisation.

    Returns
    -------
    LloydResult

    Examples
    --------
    >>> X = np.array([[0.0], [0.2], [5.0], [5.2]])
    >>> res = lloyd_kmeans(X, init=np.array([[0.0], [0.2]]))
    >>> res.centers.ravel().round(2).tolist(), res.converged
    ([0.1, 5.1], True)
    """
    X = _check_points(X)
    if init is None:
        if (not isinstance(n_clusters, (int, np.integer)) or isinstance(n_clusters, bool)
                or not 1 <= n_clusters <= len(X)):
            raise ValueError(
                f"n_clusters must be an integer between 1 and the number of points ({len(X)}), "
                f"got {n_clusters!r}.")
        rng = np.random.default_rng(random_state)
        centers = X[rng.choice(len(X), size=int(n_clusters), replace=False)].copy()
    else:
        centers = np.array(init, dtype=float)
        if centers.ndim != 2 or centers.shape[1] != X.shape[1] or len(centers) == 0:
            raise ValueError(
                f"init must have shape (n_clusters, {X.shape[1]}), got {centers.shape}.")
        if n_clusters is not None and n_clusters != len(centers):
            raise ValueError(f"n_clusters={n_clusters} but init holds {len(centers)} centres.")
    if not isinstance(max_iter, (int, np.integer)) or max_iter < 1:
        raise ValueError(f"max_iter must be a positive integer, got {max_iter!r}.")

    labels = _nearest(X, centers)
    result = LloydResult(centers, labels, [kmeans_distortion(X, centers, labels)], [centers.copy()])
    for step in range(1, int(max_iter) + 1):
        for j in range(len(centers)):  # update: each centre moves to the mean of its points
            members = labels == j
            if members.any():
                centers[j] = X[members].mean(axis=0)
        new_labels = _nearest(X, centers)  # assign: each point to its nearest centre
        result.center_history.append(centers.copy())
        result.distortions.append(kmeans_distortion(X, centers, new_labels))
        result.n_iter = step
        if np.array_equal(new_labels, labels):
            result.converged = True
            labels = new_labels
            break
        labels = new_labels
    result.centers, result.labels = centers, labels
    return result
