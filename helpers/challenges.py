"""The three challenges of chapter 8 as reusable experiments: incomplete, imbalanced, costly data.

Incomplete data
    :func:`mask_pixels` hides a share of each image's pixels, scattered at
    random or as one square block, and returns the mask; :func:`impute` fills
    the hidden pixels (zeros, the per-pixel mean of the observed values, or
    scikit-learn's ``KNNImputer``); :func:`mask_augment` adds randomly masked
    copies of training images (masking-aware training).
Imbalanced data
    :func:`imbalanced_indices` draws a pool whose class sizes fall
    geometrically by an imbalance ratio; :func:`imbalanced_label_budget`
    spends a label budget in proportion to the class sizes;
    :func:`cluster_stratified_indices` spreads it evenly over clusters instead;
    :func:`per_class_recall` and :func:`clusters_per_class` show who pays.
Limited compute
    :func:`run_compute_sweep` trains one learner per pool size epoch by epoch,
    times only the training, and scores it at chosen epochs.

Every function takes plain NumPy arrays, a ``random_state`` where chance is
involved, and checks its inputs with messages that say what to change.

Example
-------
>>> import numpy as np
>>> images = np.full((4, 6, 6), 200, dtype=np.uint8)
>>> masked, mask = mask_pixels(images, 0.25, kind="block", random_state=0)
>>> mask.shape, int(mask[0].sum()), int(masked[mask].max())
((4, 6, 6), 9, 0)
>>> filled = impute(masked, mask, strategy="mean")
>>> float(filled[mask].min())  # every hidden pixel gets the observed mean, 200
200.0
"""

from __future__ import annotations

import time
from typing import Any, Callable, Iterable, Sequence

import numpy as np
from sklearn.metrics import recall_score

from helpers.validation import check_float, check_fraction, check_images, check_int, check_labels

MASK_KINDS = ("random", "block")
IMPUTE_STRATEGIES = ("zero", "mean", "knn")


# --------------------------------------------------------------------- validation
# Thin wrappers on helpers.validation, which says what was expected and what to do.


def _check_share(share: float, name: str = "share") -> float:
    return check_fraction(share, name, include_one=True)


def _check_images(images: np.ndarray, name: str = "images") -> np.ndarray:
    return check_images(images, name)  # (n, h, w) or (n, h, w, channels)


def _check_labels(y: np.ndarray, name: str = "y") -> np.ndarray:
    y = np.asarray(y)
    if y.ndim == 1 and len(y) and not np.issubdtype(y.dtype, np.integer):
        raise TypeError(f"{name} must hold integer class labels, got dtype {y.dtype}.")
    y = check_labels(y, name)
    if len(y) == 0:
        raise ValueError(f"{name} is empty; pass one class label per image.")
    return y


# ------------------------------------------------------------------ incomplete data


def mask_pixels(
    images: np.ndarray,
    share: float,
    *,
    kind: str = "random",
    fill: float = 0,
    random_state: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Hide a share of every image's pixels, as a missing-data sensor would.

    Parameters
    ----------
    images : array of shape (n, h, w) or (n, h, w, channels)
        The images (any dtype; ``uint8`` stays ``uint8``). A hidden pixel of a
        colour image loses all its channels.
    share : float in [0, 1]
        Fraction of each image's pixels to hide. ``"block"`` hides one square
        of side ``round(sqrt(share) * min(h, w))`` pixels, so the share is
        matched as closely as a square allows.
    kind : {"random", "block"}
        ``"random"``: pixels missing completely at random, each image its own
        set of exactly ``round(share * h * w)`` pixels. ``"block"``: one square
        at a random position in each image (an occlusion or a torn scan).
    fill : float
        Value written into hidden pixels (what a naive pipeline sees).
    random_state : int, optional
        Seed for the positions.

    Returns
    -------
    masked : array like ``images``
        A copy with the hidden pixels set to ``fill``.
    mask : bool array of the images' shape
        ``True`` where a pixel is hidden (in every channel of a colour pixel).

    Examples
    --------
    >>> x = np.ones((2, 4, 4))
    >>> masked, mask = mask_pixels(x, 0.5, random_state=0)
    >>> mask.sum(axis=(1, 2)).tolist(), float(masked.sum())
    ([8, 8], 16.0)
    """
    images = _check_images(images)
    share = _check_share(share)
    if kind not in MASK_KINDS:
        raise ValueError(f"kind must be one of {MASK_KINDS}, got {kind!r}.")
    rng = np.random.default_rng(random_state)
    n, h, w = images.shape[:3]
    mask = np.zeros((n, h, w), dtype=bool)
    if kind == "random":
        k = int(round(share * h * w))
        if k > 0:
            # argpartition of random keys: k distinct pixels per image, vectorised
            keys = rng.random((n, h * w))
            hidden = np.argpartition(keys, k - 1, axis=1)[:, :k] if k < h * w else np.tile(
                np.arange(h * w), (n, 1))
            flat = mask.reshape(n, h * w)
            np.put_along_axis(flat, hidden, True, axis=1)
    else:
        side = int(round(np.sqrt(share) * min(h, w)))
        if side > 0:
            tops = rng.integers(0, h - side + 1, size=n)
            lefts = rng.integers(0, w - side + 1, size=n)
            rows = tops[:, None] + np.arange(side)[None, :]
            cols = lefts[:, None] + np.arange(side)[None, :]
            mask[np.arange(n)[:, None, None], rows[:, :, None], cols[:, None, :]] = True
    # every channel of a hidden pixel: the mask takes the images' shape (a copy, writable)
    mask = np.broadcast_to(mask.reshape(n, h, w, *[1] * (images.ndim - 3)), images.shape).copy()
    masked = images.copy()
    masked[mask] = fill
    return masked, mask


def impute(
    images: np.ndarray,
    mask: np.ndarray,
    *,
    strategy: str = "mean",
    reference: tuple[np.ndarray, np.ndarray] | None = None,
    n_neighbors: int = 5,
) -> np.ndarray:
    """Fill hidden pixels from the observed ones.

    Parameters
    ----------
    images : array of shape (n, h, w) or (n, h, w, channels)
        Images whose hidden pixels hold any value (they are ignored).
    mask : bool array of the images' shape
        ``True`` where a pixel is hidden (as returned by :func:`mask_pixels`).
    strategy : {"zero", "mean", "knn"}
        ``"zero"``: hidden pixels become 0 (black), the naive choice.
        ``"mean"``: the mean of that pixel position over the images where it is
        observed (scikit-learn's ``SimpleImputer`` does the same on vectors);
        a position observed nowhere gets the mean of all observed values.
        ``"knn"``: scikit-learn's ``KNNImputer`` on the flattened images (the
        mean of the ``n_neighbors`` nearest images on the observed pixels;
        slow beyond a few thousand images).
    reference : (images, mask), optional
        Where the per-pixel statistics (``"mean"``) or neighbours (``"knn"``)
        come from, e.g. the training pool when filling test images. Defaults
        to ``(images, mask)`` themselves.
    n_neighbors : int
        Neighbours for ``"knn"``.

    Returns
    -------
    float32 array of the images' shape
        The filled images, on the same scale as ``images``.
    """
    images = _check_images(images)
    mask = np.asarray(mask)
    if mask.shape != images.shape or mask.dtype != bool:
        raise ValueError(f"mask must be a boolean array of the images' shape {images.shape}, "
                         f"got {mask.dtype} of shape {mask.shape}.")
    if strategy not in IMPUTE_STRATEGIES:
        raise ValueError(f"strategy must be one of {IMPUTE_STRATEGIES}, got {strategy!r}.")
    ref_images, ref_mask = (images, mask) if reference is None else (
        _check_images(reference[0]), np.asarray(reference[1]))
    if ref_mask.shape != ref_images.shape or ref_images.shape[1:] != images.shape[1:]:
        raise ValueError("reference must be (images, mask) with the same image size as images.")
    filled = images.astype(np.float32).copy()
    if strategy == "zero":
        filled[mask] = 0.0
    elif strategy == "mean":
        observed = ~ref_mask
        counts = observed.sum(axis=0)
        sums = np.where(observed, ref_images, 0).astype(np.float64).sum(axis=0)
        overall = sums.sum() / max(counts.sum(), 1)
        means = np.where(counts > 0, sums / np.maximum(counts, 1), overall).astype(np.float32)
        filled = np.where(mask, means[None], filled)
    else:
        from sklearn.impute import KNNImputer

        check_int(n_neighbors, "n_neighbors", minimum=1)
        target = np.where(mask, np.nan, filled).reshape(len(images), -1)
        ref = np.where(ref_mask, np.nan, ref_images.astype(np.float32)).reshape(len(ref_images), -1)
        imputer = KNNImputer(n_neighbors=n_neighbors, keep_empty_features=True).fit(ref)
        filled = imputer.transform(target).astype(np.float32).reshape(images.shape)
    return filled


def mask_augment(
    images: np.ndarray,
    copies: int,
    share: float,
    *,
    kind: str = "random",
    random_state: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The images plus ``copies`` randomly masked copies of each: masking-aware training data.

    Returns
    -------
    augmented : array of shape (n * (copies + 1), h, w[, channels])
        The originals first, then the masked copies (hidden pixels set to 0).
    source : int array
        For each augmented image, the row of ``images`` it came from, so that
        ``y[source]`` are its labels.
    """
    images = _check_images(images)
    copies = check_int(copies, "copies", minimum=0)
    share = _check_share(share)
    rng = np.random.default_rng(random_state)
    parts, sources = [images], [np.arange(len(images))]
    for _ in range(copies):
        masked, _ = mask_pixels(images, share, kind=kind, random_state=rng.integers(2**31))
        parts.append(masked)
        sources.append(np.arange(len(images)))
    return np.concatenate(parts), np.concatenate(sources)


# ------------------------------------------------------------------ imbalanced data


def geometric_class_sizes(n_max: int, n_classes: int, imbalance_ratio: float) -> np.ndarray:
    """Class sizes falling geometrically from ``n_max`` to ``n_max / imbalance_ratio``.

    The size of the class ranked ``r`` (0 = largest) is
    ``round(n_max * imbalance_ratio ** (-r / (n_classes - 1)))``, at least 1.

    >>> geometric_class_sizes(1000, 3, 100).tolist()
    [1000, 100, 10]
    """
    n_max = check_int(n_max, "n_max", minimum=1)
    n_classes = check_int(n_classes, "n_classes", minimum=2)
    imbalance_ratio = check_float(imbalance_ratio, "imbalance_ratio (largest / smallest class size, "
                                  "1 = balanced)", minimum=1.0)
    ranks = np.arange(n_classes)
    sizes = np.round(n_max * float(imbalance_ratio) ** (-ranks / (n_classes - 1)))
    return np.maximum(sizes, 1).astype(np.int64)


def imbalanced_indices(
    y: np.ndarray,
    imbalance_ratio: float,
    *,
    n_max: int | None = None,
    order: Sequence[int] | None = None,
    random_state: int | None = None,
) -> np.ndarray:
    """Indices of an imbalanced subsample: class sizes fall geometrically by ``imbalance_ratio``.

    Parameters
    ----------
    y : int array
        Labels of a (typically balanced) pool.
    imbalance_ratio : float >= 1
        Size of the largest class divided by the size of the smallest.
    n_max : int, optional
        Size of the largest class; defaults to the size of the smallest class
        in ``y``, so that every class can supply its share.
    order : sequence of int, optional
        The classes from largest to smallest; defaults to a random order drawn
        with ``random_state``.
    random_state : int, optional
        Seed for the order and the members drawn.

    Returns
    -------
    int array
        Indices into ``y`` (shuffled).
    """
    y = _check_labels(y)
    rng = np.random.default_rng(random_state)
    classes, counts = np.unique(y, return_counts=True)
    if len(classes) < 2:
        raise ValueError("y must contain at least two classes to be made imbalanced.")
    n_max = int(counts.min()) if n_max is None else check_int(n_max, "n_max", minimum=1)
    order = rng.permutation(classes) if order is None else np.asarray(order)
    if sorted(order.tolist()) != classes.tolist():
        raise ValueError(f"order must list every class in y exactly once, {classes.tolist()}, "
                         f"got {list(order)}.")
    sizes = geometric_class_sizes(n_max, len(classes), imbalance_ratio)
    have = dict(zip(classes.tolist(), counts.tolist()))
    short = {int(c): (int(s), have[int(c)]) for c, s in zip(order, sizes) if s > have[int(c)]}
    if short:
        raise ValueError(f"Class(es) {short} (class: (needed, available)) are too small; "
                         "lower n_max.")
    picks = [rng.choice(np.flatnonzero(y == c), size=int(s), replace=False)
             for c, s in zip(order, sizes)]
    return rng.permutation(np.concatenate(picks))


def imbalanced_label_budget(
    y: np.ndarray,
    n_labels: int,
    *,
    min_per_class: int = 1,
    random_state: int | None = None,
) -> np.ndarray:
    """Spend ``n_labels`` labels on random pool images: the budget follows the class sizes.

    This is what happens when one labels images picked at random from an
    imbalanced pool. ``min_per_class`` labels of every class are drawn first
    (a classifier cannot predict a class it has never seen), the rest
    uniformly from the remaining images.

    Returns
    -------
    int array
        Indices into ``y`` of the images to label.
    """
    y = _check_labels(y)
    n_labels = check_int(n_labels, "n_labels", minimum=1)
    min_per_class = check_int(min_per_class, "min_per_class", minimum=0)
    classes, counts = np.unique(y, return_counts=True)
    if n_labels < min_per_class * len(classes) or n_labels > len(y):
        raise ValueError(f"n_labels must be between min_per_class * n_classes = "
                         f"{min_per_class * len(classes)} and the pool size {len(y)}, got {n_labels}.")
    if (counts < min_per_class).any():
        raise ValueError(f"Some classes have fewer than min_per_class={min_per_class} images.")
    rng = np.random.default_rng(random_state)
    first = [rng.choice(np.flatnonzero(y == c), size=min_per_class, replace=False) for c in classes]
    first = np.concatenate(first).astype(np.int64)
    rest = np.setdiff1d(np.arange(len(y)), first)
    extra = rng.choice(rest, size=n_labels - len(first), replace=False)
    return rng.permutation(np.concatenate([first, extra]))


def cluster_stratified_indices(
    clusters: np.ndarray, n_labels: int, *, random_state: int | None = None
) -> np.ndarray:
    """Spread a label budget evenly over clusters: about ``n_labels / k`` images from each.

    Needs no labels, only a clustering of the pool, so it is a practical way
    to label small groups that random picking would miss. Clusters too small
    to supply their share give what they have; the rest is drawn at random
    from the other images.

    Returns
    -------
    int array
        Indices of the images to label.
    """
    clusters = _check_labels(clusters)
    n_labels = check_int(n_labels, "n_labels", minimum=1)
    if n_labels > len(clusters):
        raise ValueError(f"n_labels ({n_labels}) exceeds the number of images ({len(clusters)}).")
    rng = np.random.default_rng(random_state)
    ids = np.unique(clusters)
    base, extra = divmod(n_labels, len(ids))
    quota = dict.fromkeys(ids.tolist(), base)
    if extra:  # the remainder goes to clusters chosen at random, one label each
        for c in rng.choice(ids, size=extra, replace=False).tolist():
            quota[c] += 1
    picks = []
    for c in ids.tolist():
        members = np.flatnonzero(clusters == c)
        picks.append(rng.choice(members, size=min(quota[c], len(members)), replace=False))
    chosen = np.concatenate(picks).astype(np.int64)
    if len(chosen) < n_labels:
        rest = np.setdiff1d(np.arange(len(clusters)), chosen)
        chosen = np.concatenate([chosen, rng.choice(rest, n_labels - len(chosen), replace=False)])
    return rng.permutation(chosen)


def per_class_recall(
    y_true: np.ndarray, y_pred: np.ndarray, n_classes: int | None = None
) -> np.ndarray:
    """Recall of every class: the share of its test images predicted as that class.

    Parameters
    ----------
    y_true, y_pred : int arrays of equal length
    n_classes : int, optional
        Number of classes (labels ``0 .. n_classes-1``); defaults to
        ``max(y_true) + 1``. A class absent from ``y_true`` gets NaN.

    Returns
    -------
    float array of shape (n_classes,)
        Its mean over classes is the *balanced accuracy*.
    """
    y_true, y_pred = _check_labels(y_true), _check_labels(y_pred)
    if len(y_true) != len(y_pred):
        raise ValueError(f"y_true and y_pred must have the same length, got {len(y_true)} "
                         f"and {len(y_pred)}.")
    k = int(y_true.max()) + 1 if n_classes is None else check_int(n_classes, "n_classes", minimum=1)
    labels = np.arange(k)
    recall = recall_score(y_true, y_pred, labels=labels, average=None, zero_division=0)
    present = np.isin(labels, y_true)
    return np.where(present, recall, np.nan)


def clusters_per_class(y: np.ndarray, clusters: np.ndarray, n_classes: int | None = None) -> np.ndarray:
    """How many clusters each class owns (is the most frequent class of).

    A class that owns two or more clusters was *split*; a class that owns
    none was *swallowed* by clusters of other classes.

    Returns
    -------
    int array of shape (n_classes,)
    """
    y, clusters = _check_labels(y), _check_labels(clusters)
    if len(y) != len(clusters):
        raise ValueError(f"y and clusters must have the same length, got {len(y)} and {len(clusters)}.")
    k = int(y.max()) + 1 if n_classes is None else check_int(n_classes, "n_classes", minimum=1)
    owners = [np.bincount(y[clusters == c], minlength=k).argmax() for c in np.unique(clusters)]
    return np.bincount(np.asarray(owners, dtype=np.int64), minlength=k)


# ------------------------------------------------------------------- limited compute


def run_compute_sweep(
    build: Callable[[], Any],
    train_one_epoch: Callable[[Any, np.ndarray], Any],
    score: Callable[[Any], float],
    x_pool: np.ndarray,
    pool_sizes: Iterable[int],
    checkpoints: Iterable[int],
    *,
    random_state: int | None = None,
    verbose: bool = False,
) -> list[dict[str, float]]:
    """Accuracy against pool size, epochs and wall time, for any learner trained epoch by epoch.

    For each pool size a fresh learner is built and trained on a random
    subset of ``x_pool`` (smaller pools are subsets of larger ones) for
    ``max(checkpoints)`` epochs. After each epoch listed in ``checkpoints`` it
    is scored. Only ``train_one_epoch`` is timed, so ``seconds`` is the
    training cost, not the cost of scoring.

    Parameters
    ----------
    build : callable ``() -> learner``
        Makes a fresh, untrained learner (seed it inside for repeatable runs).
    train_one_epoch : callable ``(learner, x) -> any``
        One pass over ``x``.
    score : callable ``(learner) -> float``
        E.g. the test accuracy of a few-label classifier on the learner's features.
    x_pool : array
        The unlabeled pool (first axis = images).
    pool_sizes : iterable of int
        Pool sizes to try, each between 1 and ``len(x_pool)``.
    checkpoints : iterable of int
        Epochs after which to score, each >= 1.
    random_state : int, optional
        Seed for the subsets.
    verbose : bool
        Print each record as it is measured.

    Returns
    -------
    list of dict
        One record per (pool size, checkpoint) with keys ``pool_size``,
        ``epochs``, ``seconds`` (cumulative training time) and ``score``.
    """
    x_pool = np.asarray(x_pool)
    sizes = sorted({check_int(s, "each pool size", minimum=1) for s in pool_sizes})
    marks = sorted({check_int(e, "each checkpoint", minimum=1) for e in checkpoints})
    if not sizes or not marks:
        raise ValueError("pool_sizes and checkpoints must each list at least one value.")
    if sizes[-1] > len(x_pool):
        raise ValueError(f"pool size {sizes[-1]} exceeds the pool ({len(x_pool)} images).")
    order = np.random.default_rng(random_state).permutation(len(x_pool))
    records: list[dict[str, float]] = []
    for size in sizes:
        subset = x_pool[order[:size]]
        learner = build()
        seconds = 0.0
        for epoch in range(1, marks[-1] + 1):
            start = time.perf_counter()
            train_one_epoch(learner, subset)
            seconds += time.perf_counter() - start
            if epoch in marks:
                record = {"pool_size": size, "epochs": epoch, "seconds": seconds,
                          "score": float(score(learner))}
                records.append(record)
                if verbose:
                    print(record)
    return records


def missing_data_sweep(
    x_pool: np.ndarray,
    x_test: np.ndarray,
    evaluate: Callable[[np.ndarray, np.ndarray], dict[str, float]],
    shares: Iterable[float],
    *,
    kinds: Sequence[str] = MASK_KINDS,
    strategies: Sequence[str] = ("zero", "mean"),
    random_state: int | None = None,
    verbose: bool = False,
) -> list[dict[str, Any]]:
    """Score a pipeline on pool and test images with a growing share of pixels missing.

    For every mask kind and share, the pool and the test images are masked
    (independently, with seeds derived from ``random_state``), the hidden
    pixels are filled with each strategy of :func:`impute` (test images with
    statistics of the pool), and ``evaluate(pool_images, test_images)`` is
    called. A share of 0 is evaluated once and reported for every kind and
    strategy.

    Parameters
    ----------
    x_pool, x_test : arrays of shape (n, h, w) or (n, h, w, channels)
    evaluate : callable ``(pool_images, test_images) -> dict of scores``
        Receives float32 images on the scale of the inputs.
    shares : iterable of float in [0, 1]
    kinds : sequence of {"random", "block"}
    strategies : sequence of {"zero", "mean", "knn"}
    random_state : int, optional
    verbose : bool
        Print each record as it is measured.

    Returns
    -------
    list of dict
        One record per (kind, share, strategy): those three keys, ``seconds``
        and the scores ``evaluate`` returned.
    """
    x_pool, x_test = _check_images(x_pool), _check_images(x_test)
    shares = [_check_share(s) for s in shares]
    if not shares:
        raise ValueError("shares is empty; pass the fractions to hide, e.g. (0, 0.25, 0.5).")
    for kind in kinds:
        if kind not in MASK_KINDS:
            raise ValueError(f"kinds must be among {MASK_KINDS}, got {kind!r}.")
    for strategy in strategies:
        if strategy not in IMPUTE_STRATEGIES:
            raise ValueError(f"strategies must be among {IMPUTE_STRATEGIES}, got {strategy!r}.")
    seeds = np.random.default_rng(random_state).integers(2**31, size=2)
    records: list[dict[str, Any]] = []
    clean: dict[str, Any] | None = None
    for kind in kinds:
        for share in shares:
            if share == 0 and clean is None:
                start = time.perf_counter()
                clean = dict(evaluate(x_pool.astype(np.float32), x_test.astype(np.float32)))
                clean["seconds"] = time.perf_counter() - start
            if share == 0:
                records += [{"kind": kind, "share": 0.0, "strategy": s, **clean} for s in strategies]
                continue
            pool, pool_mask = mask_pixels(x_pool, share, kind=kind, random_state=int(seeds[0]))
            test, test_mask = mask_pixels(x_test, share, kind=kind, random_state=int(seeds[1]))
            for strategy in strategies:
                start = time.perf_counter()
                filled_pool = impute(pool, pool_mask, strategy=strategy)
                filled_test = impute(test, test_mask, strategy=strategy, reference=(pool, pool_mask))
                scores = dict(evaluate(filled_pool, filled_test))
                records.append({"kind": kind, "share": share, "strategy": strategy, **scores,
                                "seconds": time.perf_counter() - start})
                if verbose:
                    print(records[-1])
    return records
