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

:class:`PatchKMeansFeatures` is a scikit-learn transformer (``fit`` on the
pool, ``transform`` any images; ``clone``, pipelines and grid searches work);
:func:`cached_patch_features` fits it once per (profile, dataset, seed,
hyper-parameters, data) and caches the features of the pool and the test set
through :func:`helpers.cache.cached_arrays`.

Example
-------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> images = rng.integers(0, 256, size=(50, 12, 12)).astype(np.uint8)
>>> feat = PatchKMeansFeatures(n_centroids=8, patch_size=4, n_patches=2000, random_state=0)
>>> feat.fit(images).transform(images).shape
(50, 32)
>>> flat = images.reshape(50, 144)          # rows of pixels work too
>>> feat.transform(flat).shape
(50, 32)
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from scipy import sparse
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.cluster import MiniBatchKMeans
from sklearn.utils.validation import check_is_fitted, validate_data

from . import cache, progress
from .validation import check_float, check_images, check_int

__all__ = [
    "PatchKMeansFeatures",
    "extract_random_patches",
    "normalize_patches",
    "zca_whitening",
    "triangle_encoding",
    "cached_patch_features",
    "book_params",
]


def _scaled(arr: np.ndarray) -> np.ndarray:
    """uint8 pixels become floats in [0, 1]; other numbers are taken as they are (float32)."""
    if arr.dtype == np.uint8:
        return arr.astype(np.float32) / 255.0
    return arr.astype(np.float32, copy=False)


def _as_images(images: Any, what: str = "images") -> np.ndarray:
    """A stack of images ``(n, h, w)`` or ``(n, h, w, c)`` as float32 ``(n, h, w, c)``."""
    arr = check_images(images, what)
    if len(arr) == 0:
        raise ValueError(f"{what} is empty.")
    x = _scaled(arr)
    return x[..., None] if x.ndim == 3 else x


def _patch_shape(image_shape: Sequence[int], patch_size: int) -> tuple[int, int]:
    """``(patch_size, patch_size)``, or ``(1, patch_size)`` for one-row images (1-D signals)."""
    h, w = int(image_shape[0]), int(image_shape[1])
    n_values = math.prod(int(v) for v in image_shape)
    ph = 1 if h == 1 else patch_size
    if patch_size > w or ph > h:
        raise ValueError(f"patch_size must be an integer between 1 and {min(h, w) if h > 1 else w} "
                         f"(the image side), got {patch_size!r} for {h} x {w} images "
                         f"(n_features = {n_values} per image): "
                         f"choose a smaller patch_size, e.g. with book_params(profile, image_shape).")
    return ph, patch_size


def _random_patches(x: np.ndarray, n_patches: int, ph: int, pw: int,
                    random_state: Any) -> np.ndarray:
    """``n_patches`` random ``ph x pw`` patches of ``x`` (n, h, w, c), flattened in (row, col, channel) order."""
    n, h, w, _ = x.shape
    rng = np.random.default_rng(random_state)
    img = rng.integers(0, n, size=n_patches)
    rows = rng.integers(0, h - ph + 1, size=n_patches)
    cols = rng.integers(0, w - pw + 1, size=n_patches)
    r = rows[:, None, None] + np.arange(ph)[None, :, None]
    c = cols[:, None, None] + np.arange(pw)[None, None, :]
    patches = x[img[:, None, None], r, c]
    return patches.reshape(n_patches, -1).astype(np.float32)


def extract_random_patches(
    images: Any, n_patches: int, patch_size: int, random_state: int | None = None
) -> np.ndarray:
    """Cut ``n_patches`` random square patches out of ``images``.

    Parameters
    ----------
    images : array of shape (n, h, w) or (n, h, w, c), uint8 or float in [0, 1]
    n_patches : int
        How many patches to return (drawn with replacement over images and positions).
    patch_size : int
        Side of a square patch in pixels; at most the image side.
    random_state : int, optional

    Returns
    -------
    patches : float32 array of shape (n_patches, patch_size * patch_size * c)
    """
    x = _as_images(images)
    patch_size = check_int(patch_size, "patch_size")
    n_patches = check_int(n_patches, "n_patches")
    ph, pw = _patch_shape(x.shape[1:], patch_size)
    return _random_patches(x, n_patches, ph, pw, random_state)


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
    cov = np.atleast_2d(np.cov(patches - mean, rowvar=False))
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


def _check_image_shape(image_shape: Any) -> tuple[int, int, int] | None:
    if image_shape is None:
        return None
    try:
        dims = tuple(check_int(v, "image_shape entries") for v in image_shape)
    except TypeError as err:
        raise TypeError(f"image_shape must be None or (height, width) or (height, width, channels) "
                        f"of positive integers, got {image_shape!r}.") from err
    if len(dims) not in (2, 3):
        raise ValueError(f"image_shape must be (height, width) or (height, width, channels), "
                         f"got {image_shape!r}.")
    return (dims[0], dims[1], dims[2] if len(dims) == 3 else 1)


class PatchKMeansFeatures(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Learn a k-means dictionary of image patches and encode images with it (Coates & Ng 2011).

    A scikit-learn transformer: it takes images ``(n, h, w)`` (grey),
    ``(n, h, w, c)`` (channels last), or rows of pixels ``(n, h * w * c)``, and
    returns ``n_centroids * pooling**2`` non-negative features per image.
    uint8 pixels are divided by 255; other numbers are used as they are (the
    regularisers assume pixels in [0, 1]).

    Parameters
    ----------
    n_centroids : int
        Size of the dictionary (k-means clusters of patches), at least 2.
    patch_size : int
        Side of the square patches, in pixels. One-row images (1-D signals)
        get patches of ``1 x patch_size``.
    stride : int
        Step between the patches that are encoded (1 = every position).
    n_patches : int
        Random patches used to fit the whitening and k-means (at least ``n_centroids``).
    norm_eps, zca_eps : float
        Regularisers of the per-patch normalisation and of the whitening.
    pooling : int
        The encoded patches are summed over a ``pooling x pooling`` grid of
        image regions (2 = the four quadrants of the paper).
    batch_size : int
        Images encoded at a time (bounds memory; does not change the result).
    image_shape : tuple, optional
        ``(height, width)`` or ``(height, width, channels)`` of the images when
        they come as flat rows. ``None`` reads a row of ``d`` values as a square
        grey image when ``d`` is a square number (784 -> 28 x 28) and as a
        one-row image (a 1-D signal) otherwise. Ignored for 3-D / 4-D input,
        whose shape says it.
    random_state : int, optional
        Seeds the choice of patches and k-means.

    Attributes
    ----------
    centroids_ : array (n_centroids, n_patch_values)
        The learned filters, in whitened space.
    mean_, whitening_ : arrays
        The ZCA transform: ``white = (patch - mean_) @ whitening_``.
    image_shape_ : tuple (height, width, channels)
        The shape of the images seen in ``fit``; ``transform`` wants the same.
    n_features_in_ : int
        Pixel values per image (``height * width * channels``).

    Examples
    --------
    >>> from sklearn.base import clone
    >>> from sklearn.datasets import load_digits
    >>> x = load_digits().data / 16           # flat rows of 64 pixels
    >>> feat = PatchKMeansFeatures(n_centroids=10, patch_size=3, n_patches=2000)
    >>> feat.fit_transform(x).shape, feat.image_shape_
    ((1797, 40), (8, 8, 1))
    >>> clone(feat).set_params(n_centroids=5).get_params()["n_centroids"]
    5
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
        image_shape: tuple[int, ...] | None = None,
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
        self.image_shape = image_shape
        self.random_state = random_state

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True  # (n, h, w) grey images
        tags.transformer_tags.preserves_dtype = ["float32"]  # the codes are float32
        return tags

    def _check_params(self) -> None:
        for name in ("patch_size", "stride", "n_patches", "pooling", "batch_size"):
            check_int(getattr(self, name), name, minimum=1)
        check_int(self.n_centroids, "n_centroids", minimum=2)
        check_float(self.norm_eps, "norm_eps", minimum=0.0)
        check_float(self.zca_eps, "zca_eps", minimum=0.0)
        if self.n_patches < self.n_centroids:
            raise ValueError(f"n_patches ({self.n_patches}) must be at least n_centroids "
                             f"({self.n_centroids}); k-means needs more points than clusters.")
        _check_image_shape(self.image_shape)

    def _validate_images(self, X: Any, *, reset: bool) -> np.ndarray:
        """Check ``X`` and return it as float32 images ``(n, h, w, c)``."""
        if sparse.issparse(X):  # scikit-learn's own message: dense data is required
            validate_data(self, X, reset=reset)
        arr = X if hasattr(X, "iloc") else np.asarray(X)
        if arr.ndim in (3, 4):
            images = check_images(arr, "X")
            shape = images.shape[1:] if images.ndim == 4 else images.shape[1:] + (1,)
            if not reset and shape != self.image_shape_:
                raise ValueError(f"X holds images of shape {shape}, but this transformer was "
                                 f"fitted on {self.image_shape_} images.")
            flat_in: Any = images.reshape(len(images), -1)
        else:
            flat_in = X  # 2-D rows of pixels (validate_data rejects any other shape)
            shape = None
        is_uint8 = getattr(flat_in, "dtype", None) == np.uint8
        flat = validate_data(self, flat_in, reset=reset, dtype=np.uint8 if is_uint8 else np.float32)
        if shape is None:
            shape = self._flat_shape(flat.shape[1]) if reset else self.image_shape_
        if reset:
            self.image_shape_ = tuple(int(v) for v in shape)
        return _scaled(flat).reshape((len(flat),) + tuple(shape))

    def _flat_shape(self, n_values: int) -> tuple[int, int, int]:
        given = _check_image_shape(self.image_shape)
        if given is not None:
            if math.prod(given) != n_values:
                raise ValueError(f"image_shape={self.image_shape} holds {math.prod(given)} pixel "
                                 f"values, but X has {n_values} features per row.")
            return given
        side = math.isqrt(n_values)
        return (side, side, 1) if side * side == n_values else (1, n_values, 1)

    @property
    def n_features_out(self) -> int:
        """Features per image: ``n_centroids * pooling**2``."""
        return int(self.n_centroids * self.pooling ** 2)

    def fit(self, X: Any, y: Any = None) -> "PatchKMeansFeatures":
        """Learn the whitening and the centroids from random patches of ``X`` (``y`` is ignored).

        Parameters
        ----------
        X : array (n, h, w), (n, h, w, c) or (n, h * w * c)
            Unlabeled images.
        y : ignored
        """
        self._check_params()
        x = self._validate_images(X, reset=True)
        ph, pw = _patch_shape(x.shape[1:], self.patch_size)
        patches = _random_patches(x, self.n_patches, ph, pw, self.random_state)
        patches = normalize_patches(patches, self.norm_eps)
        self.mean_, self.whitening_ = zca_whitening(patches, self.zca_eps)
        white = (patches - self.mean_) @ self.whitening_
        kmeans = MiniBatchKMeans(n_clusters=self.n_centroids, batch_size=4096, n_init=3,
                                 max_iter=100, random_state=self.random_state)
        kmeans.fit(white)
        self.centroids_ = kmeans.cluster_centers_.astype(np.float32)
        self._n_features_out = self.n_features_out
        return self

    def _encode_batch(self, x: np.ndarray) -> np.ndarray:
        s, g = self.stride, self.pooling
        ph, pw = _patch_shape(x.shape[1:], self.patch_size)
        # (n, rows, cols, c, ph, pw) -> patches flattened in (row, col, channel) order, as in fit
        windows = sliding_window_view(x, (ph, pw), axis=(1, 2))[:, ::s, ::s]
        n, rows, cols = windows.shape[:3]
        windows = np.moveaxis(windows, 3, -1)
        patches = normalize_patches(windows.reshape(n * rows * cols, -1), self.norm_eps)
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

    def transform(self, X: Any) -> np.ndarray:
        """Encode ``X`` as pooled triangle codes: float32 array ``(n, n_centroids * pooling**2)``."""
        check_is_fitted(self, "centroids_")
        x = self._validate_images(X, reset=False)
        out = np.empty((len(x), self.n_features_out), dtype=np.float32)
        for start in range(0, len(x), self.batch_size):
            out[start:start + self.batch_size] = self._encode_batch(x[start:start + self.batch_size])
        return out


#: The book's choice of hyper-parameters, fixed a priori (close to Coates & Ng's), per profile:
#: the quick profile learns fewer centroids so a chapter stays within about a minute.
BOOK_PARAMS: dict[str, dict[str, int]] = {
    "full": {"n_centroids": 200, "patch_size": 5, "stride": 1, "n_patches": 100_000},
    "quick": {"n_centroids": 100, "patch_size": 5, "stride": 1, "n_patches": 50_000},
}

#: Images smaller than this (per side) get 3 x 3 patches instead of 5 x 5: on 8 x 8 digits a
#: 5 x 5 patch covers most of the image, leaving 4 x 4 positions to encode and pool.
SMALL_IMAGE_SIDE: int = 16


def book_params(profile: str, image_shape: Sequence[int] | None = None) -> dict[str, int]:
    """The hyper-parameters the chapters use in ``profile`` (``"quick"`` or ``"full"``).

    Parameters
    ----------
    profile : str
    image_shape : (height, width[, channels]), optional
        The images' shape, e.g. ``x_pool.shape[1:]``. Images of 28 x 28 (the
        default, ``None``) get 5 x 5 patches pooled over the four quadrants, as in
        Coates & Ng on 32 x 32 images; images smaller than ``SMALL_IMAGE_SIDE`` a
        side (the 8 x 8 digits) get 3 x 3 patches, so that 6 x 6 positions remain to pool.
    """
    if profile not in BOOK_PARAMS:
        raise ValueError(f"Unknown profile {profile!r}; use one of {sorted(BOOK_PARAMS)}.")
    params = dict(BOOK_PARAMS[profile])
    if image_shape is not None:
        shape = tuple(image_shape)
        if len(shape) not in (2, 3):
            raise ValueError(f"image_shape must be (height, width) or (height, width, channels), "
                             f"got {image_shape!r}; pass x_pool.shape[1:].")
        if min(shape[:2]) < SMALL_IMAGE_SIDE:
            params["patch_size"] = 3
    return params


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

    The result is cached on disk under a key (:func:`helpers.cache.cache_key`) made of
    ``profile``, ``dataset``, ``random_state``, the hyper-parameters and a
    :func:`helpers.cache.fingerprint` of the data, so every later chapter (and
    rebuild) loads it in a second.

    Returns
    -------
    dict with ``"pool"`` and ``"test"`` (float32 feature matrices) and
    ``"centroids"`` (the learned filters, whitened space).
    """
    params.setdefault("batch_size", 100)
    learner = PatchKMeansFeatures(random_state=random_state, **params)
    settings = {k: v for k, v in learner.get_params().items() if k != "batch_size"}
    key = {"profile": profile, "dataset": dataset, "n_pool": len(x_pool), "n_test": len(x_test),
           "data": cache.fingerprint(np.asarray(x_pool), np.asarray(x_test)), **settings}

    def encode(x: np.ndarray, what: str) -> np.ndarray:  # in chunks, so a bar can show progress
        x = np.asarray(x)  # chunks of whole batches: the same batches as one transform call
        chunk = learner.batch_size * max(1, 2000 // learner.batch_size)
        if len(x) == 0:
            return learner.transform(x)
        with progress.bar(len(x), f"encoding the {what}", unit="image", delay=5.0) as shown:
            parts = []
            for start in range(0, len(x), chunk):
                parts.append(learner.transform(x[start:start + chunk]))
                shown.update(len(parts[-1]))
        return np.concatenate(parts)

    def compute() -> dict[str, np.ndarray]:
        with progress.clock("patch features: whitening and k-means on random patches"):
            learner.fit(x_pool)
        return {"pool": encode(x_pool, "pool"), "test": encode(x_test, "test set"),
                "centroids": learner.centroids_}

    return cache.cached_arrays("patch-kmeans-features", key, compute, verbose=verbose)
