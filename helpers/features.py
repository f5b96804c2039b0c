"""k-means as a feature learner (Coates & Ng, 2011), in a few plain NumPy steps.

Clustering does not have to produce the *labels* of whole images (the source
article's plan). Coates and Ng cluster small *patches* instead, and use the
centroids as a bank of learned filters:

1. cut many random ``patch_size x patch_size`` patches out of unlabeled images;
2. normalise each patch (subtract its mean, divide by its standard deviation)
   and whiten them all with ZCA, so k-means is not dominated by brightness and
   by the strong correlations between neighbouring pixels;
3. run k-means on the whitened patches: the centroids are edge, corner and
   blob detectors learned from the pool, no labels involved;
4. encode every patch of an image with the soft "triangle" code
   ``f_k = max(0, mean_j(z_j) - z_k)`` where ``z_k`` is the distance to centroid
   ``k`` (about half the codes are zero: a sparse, non-linear feature);
5. sum the codes over the four quadrants of the image: ``4 * n_centroids``
   features per image, on which a *linear* classifier or a nearest-neighbour
   graph works far better than on pixels.

:class:`PatchKMeansFeatures` is an sklearn-style transformer (``fit`` on the
pool, ``transform`` any images); :func:`cached_patch_features` fits it once per
(profile, dataset, seed, hyper-parameters) and caches the features of the pool
and the test set through :func:`helpers.cache.cached_arrays`.

Example
-------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> images = rng.integers(0, 256, size=(50, 12, 12)).astype(np.uint8)
>>> feat = PatchKMeansFeatures(n_centroids=8, patch_size=4, n_patches=2000, random_state=0)
>>> feat.fit(images).transform(images).shape
(50, 32)
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from sklearn.cluster import MiniBatchKMeans

from . import cache

__all__ = [
    "PatchKMeansFeatures",
    "extract_random_patches",
    "normalize_patches",
    "zca_whitening",
    "triangle_encoding",
    "cached_patch_features",
    "book_params",
]


def _as_images(images: Any, what: str = "images") -> np.ndarray:
    """Validate a stack of grey images ``(n, h, w)`` and return float32 values in [0, 1]."""
    arr = np.asarray(images)
    if arr.ndim == 4 and arr.shape[-1] == 1:
        arr = arr[..., 0]
    if arr.ndim != 3:
        raise ValueError(f"{what} must be a stack of grey images of shape (n, h, w), "
                         f"got shape {arr.shape}. Reshape flat vectors with .reshape(-1, h, w).")
    if len(arr) == 0:
        raise ValueError(f"{what} is empty.")
    if arr.dtype == np.uint8:
        return arr.astype(np.float32) / 255.0
    arr = arr.astype(np.float32)
    if arr.max(initial=0.0) > 1.0 + 1e-6:
        raise ValueError(f"{what} must be uint8 (0-255) or floats in [0, 1]; got values up to "
                         f"{arr.max():.3g}. Divide by 255 first.")
    return arr


def extract_random_patches(
    images: Any, n_patches: int, patch_size: int, random_state: int | None = None
) -> np.ndarray:
    """Cut ``n_patches`` random square patches out of ``images``.

    Parameters
    ----------
    images : array of shape (n, h, w), uint8 or float in [0, 1]
    n_patches : int
        How many patches to return (drawn with replacement over images and positions).
    patch_size : int
        Side of a square patch in pixels; at most the image side.
    random_state : int, optional

    Returns
    -------
    patches : float32 array of shape (n_patches, patch_size * patch_size)
    """
    x = _as_images(images)
    n, h, w = x.shape
    if not isinstance(patch_size, (int, np.integer)) or not 1 <= patch_size <= min(h, w):
        raise ValueError(f"patch_size must be an integer between 1 and {min(h, w)} "
                         f"(the image side), got {patch_size!r}.")
    if not isinstance(n_patches, (int, np.integer)) or n_patches < 1:
        raise ValueError(f"n_patches must be a positive integer, got {n_patches!r}.")
    rng = np.random.default_rng(random_state)
    img = rng.integers(0, n, size=n_patches)
    rows = rng.integers(0, h - patch_size + 1, size=n_patches)
    cols = rng.integers(0, w - patch_size + 1, size=n_patches)
    offsets = np.arange(patch_size)
    r = rows[:, None, None] + offsets[None, :, None]
    c = cols[:, None, None] + offsets[None, None, :]
    patches = x[img[:, None, None], r, c]
    return patches.reshape(n_patches, -1).astype(np.float32)


def normalize_patches(patches: np.ndarray, eps: float = 0.01) -> np.ndarray:
    """Subtract each patch's mean and divide by its standard deviation (``sqrt(var + eps)``).

    ``eps`` keeps flat background patches from being blown up into noise; with
    pixels in [0, 1], ``0.01`` plays the role of Coates & Ng's ``10`` on 0-255 pixels.
    """
    patches = np.asarray(patches, dtype=np.float32)
    if patches.ndim != 2:
        raise ValueError(f"patches must be a 2-D array (n_patches, n_pixels), got shape {patches.shape}.")
    mean = patches.mean(axis=1, keepdims=True)
    var = patches.var(axis=1, keepdims=True)
    return (patches - mean) / np.sqrt(var + eps)


def zca_whitening(patches: np.ndarray, eps: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    """Fit ZCA whitening on ``patches``: returns ``(mean, matrix)`` with ``white = (p - mean) @ matrix``.

    ZCA rotates to the principal axes, rescales each to unit variance (``eps``
    damps the tiny, noisy directions) and rotates back, so whitened patches
    still look like images, with edges emphasised.
    """
    patches = np.asarray(patches, dtype=np.float64)
    if patches.ndim != 2 or len(patches) < 2:
        raise ValueError(f"zca_whitening needs at least two patches as a 2-D array, got shape {patches.shape}.")
    mean = patches.mean(axis=0)
    cov = np.cov(patches - mean, rowvar=False)
    eigval, eigvec = np.linalg.eigh(cov)
    matrix = eigvec @ np.diag(1.0 / np.sqrt(np.clip(eigval, 0.0, None) + eps)) @ eigvec.T
    return mean.astype(np.float32), matrix.astype(np.float32)


def triangle_encoding(distances: np.ndarray) -> np.ndarray:
    """Coates & Ng's soft "triangle" code: ``max(0, mean_k(z_k) - z_k)`` for every row of distances.

    A centroid gets a positive code only when it is closer than average, so
    each patch activates roughly half of the centroids, and the closer ones more.
    """
    z = np.asarray(distances, dtype=np.float32)
    if z.ndim < 1:
        raise ValueError("distances must have at least one axis (the centroids).")
    return np.maximum(0.0, z.mean(axis=-1, keepdims=True) - z)


class PatchKMeansFeatures:
    """Learn a k-means dictionary of image patches and encode images with it (Coates & Ng 2011).

    Parameters
    ----------
    n_centroids : int
        Size of the dictionary (k-means clusters of patches).
    patch_size : int
        Side of the square patches, in pixels.
    stride : int
        Step between the patches that are encoded (1 = every position).
    n_patches : int
        Random patches used to fit the whitening and k-means.
    norm_eps, zca_eps : float
        Regularisers of the per-patch normalisation and of the whitening.
    pooling : int
        The encoded patches are summed over a ``pooling x pooling`` grid of
        image regions (2 = the four quadrants of the paper).
    batch_size : int
        Images encoded at a time (bounds memory).
    random_state : int, optional

    Attributes
    ----------
    centroids_ : array (n_centroids, patch_size**2)
        The learned filters, in whitened space.
    mean_, whitening_ : arrays
        The ZCA transform.
    """

    def __init__(
        self,
        n_centroids: int = 400,
        patch_size: int = 5,
        stride: int = 1,
        n_patches: int = 100_000,
        norm_eps: float = 0.01,
        zca_eps: float = 0.1,
        pooling: int = 2,
        batch_size: int = 250,
        random_state: int | None = 0,
    ) -> None:
        self.n_centroids = n_centroids
        self.patch_size = patch_size
        self.stride = stride
        self.n_patches = n_patches
        self.norm_eps = norm_eps
        self.zca_eps = zca_eps
        self.pooling = pooling
        self.batch_size = batch_size
        self.random_state = random_state

    def get_params(self) -> dict[str, Any]:
        """The hyper-parameters, e.g. for a cache key."""
        return {k: getattr(self, k) for k in (
            "n_centroids", "patch_size", "stride", "n_patches", "norm_eps", "zca_eps",
            "pooling", "random_state")}

    def _check_params(self) -> None:
        for name in ("n_centroids", "patch_size", "stride", "n_patches", "pooling", "batch_size"):
            value = getattr(self, name)
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}.")
        if self.n_centroids < 2:
            raise ValueError(f"n_centroids must be at least 2, got {self.n_centroids}.")

    def fit(self, images: Any, y: Any = None) -> "PatchKMeansFeatures":
        """Learn the whitening and the centroids from random patches of ``images`` (labels unused)."""
        self._check_params()
        x = _as_images(images)
        if self.n_patches < self.n_centroids:
            raise ValueError(f"n_patches ({self.n_patches}) must be at least n_centroids "
                             f"({self.n_centroids}); k-means needs more points than clusters.")
        patches = extract_random_patches(x, self.n_patches, self.patch_size, self.random_state)
        patches = normalize_patches(patches, self.norm_eps)
        self.mean_, self.whitening_ = zca_whitening(patches, self.zca_eps)
        white = (patches - self.mean_) @ self.whitening_
        kmeans = MiniBatchKMeans(n_clusters=self.n_centroids, batch_size=4096, n_init=3,
                                 max_iter=100, random_state=self.random_state)
        kmeans.fit(white)
        self.centroids_ = kmeans.cluster_centers_.astype(np.float32)
        self.image_shape_ = x.shape[1:]
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "centroids_"):
            raise RuntimeError("This PatchKMeansFeatures is not fitted yet; call fit(images) first.")

    @property
    def n_features_out(self) -> int:
        """Features per image: ``n_centroids * pooling**2``."""
        return int(self.n_centroids * self.pooling ** 2)

    def _encode_batch(self, x: np.ndarray) -> np.ndarray:
        p, s, g = self.patch_size, self.stride, self.pooling
        windows = sliding_window_view(x, (p, p), axis=(1, 2))[:, ::s, ::s]
        n, rows, cols = windows.shape[:3]
        patches = normalize_patches(windows.reshape(-1, p * p), self.norm_eps)
        white = (patches - self.mean_) @ self.whitening_
        c = self.centroids_
        sq = (white * white).sum(1, keepdims=True) - 2.0 * (white @ c.T) + (c * c).sum(1)[None, :]
        codes = triangle_encoding(np.sqrt(np.maximum(sq, 0.0, out=sq), out=sq))
        codes = codes.reshape(n, rows, cols, -1)
        row_edges = np.linspace(0, rows, g + 1).round().astype(int)
        col_edges = np.linspace(0, cols, g + 1).round().astype(int)
        pooled = [codes[:, r0:r1, c0:c1].sum(axis=(1, 2))
                  for r0, r1 in zip(row_edges[:-1], row_edges[1:])
                  for c0, c1 in zip(col_edges[:-1], col_edges[1:])]
        return np.concatenate(pooled, axis=1)

    def transform(self, images: Any) -> np.ndarray:
        """Encode ``images`` as pooled triangle codes: float32 array ``(n, n_features_out)``."""
        self._check_fitted()
        x = _as_images(images)
        if x.shape[1:] != self.image_shape_:
            raise ValueError(f"images have shape {x.shape[1:]}, but the features were fitted on "
                             f"{self.image_shape_} images.")
        out = np.empty((len(x), self.n_features_out), dtype=np.float32)
        for start in range(0, len(x), self.batch_size):
            out[start:start + self.batch_size] = self._encode_batch(x[start:start + self.batch_size])
        return out

    def fit_transform(self, images: Any, y: Any = None) -> np.ndarray:
        """``fit(images)`` then ``transform(images)``."""
        return self.fit(images).transform(images)


#: The book's choice of hyper-parameters, fixed a priori (close to Coates & Ng's), per profile:
#: the quick profile learns fewer centroids so a chapter stays within about a minute.
BOOK_PARAMS: dict[str, dict[str, int]] = {
    "full": {"n_centroids": 200, "patch_size": 5, "stride": 1, "n_patches": 100_000},
    "quick": {"n_centroids": 100, "patch_size": 5, "stride": 1, "n_patches": 50_000},
}


def book_params(profile: str) -> dict[str, int]:
    """The hyper-parameters the chapters use in ``profile`` (``"quick"`` or ``"full"``)."""
    if profile not in BOOK_PARAMS:
        raise ValueError(f"Unknown profile {profile!r}; use one of {sorted(BOOK_PARAMS)}.")
    return dict(BOOK_PARAMS[profile])


def cached_patch_features(
    x_pool: np.ndarray,
    x_test: np.ndarray,
    *,
    profile: str,
    dataset: str,
    random_state: int = 0,
    verbose: bool = True,
    **params: Any,
) -> dict[str, np.ndarray]:
    """Fit :class:`PatchKMeansFeatures` on the pool and encode pool and test set, once.

    The result is cached on disk under a key made of ``profile``, ``dataset``,
    ``random_state``, the hyper-parameters and the data sizes, so every later
    chapter (and rebuild) loads it in a second.

    Returns
    -------
    dict with ``"pool"`` and ``"test"`` (float32 feature matrices) and
    ``"centroids"`` (the learned filters, whitened space).
    """
    params.setdefault("batch_size", 100)
    learner = PatchKMeansFeatures(random_state=random_state, **params)
    key = {"profile": profile, "dataset": dataset, "n_pool": len(x_pool), "n_test": len(x_test),
           **learner.get_params()}

    def compute() -> dict[str, np.ndarray]:
        learner.fit(x_pool)
        return {"pool": learner.transform(x_pool), "test": learner.transform(x_test),
                "centroids": learner.centroids_}

    return cache.cached_arrays("patch-kmeans-features", key, compute, verbose=verbose)
