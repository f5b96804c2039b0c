"""Self-training with label propagation: a student network and a graph that teach each other.

Chapter 5's teacher -> student step trains a network once on labels spread
over a fixed graph, so the student inherits the graph's mistakes. Iscen et
al. (2019, "Label propagation for deep semi-supervised learning") alternate
instead:

1. train the network on the current pseudo-labels, each weighted by how sure
   the graph is of it, on *augmented* images (small shifts, mirror images);
2. build a new nearest-neighbour graph in the network's own feature space
   (the ``"features"`` layer), where the network has already learned what the
   pseudo-labels agree on;
3. spread the few true labels over the new graph: new pseudo-labels, new weights;
4. repeat.

Augmentation matters: without it the network has no reason to disagree with
its teacher, because it can memorise each pseudo-label pixel for pixel.

Example
-------
>>> import numpy as np
>>> from helpers.self_training import augment_images, entropy_weights
>>> x = np.zeros((2, 5, 5, 1), dtype="float32"); x[:, 2, 2] = 1.0
>>> augment_images(x, max_shift=1, flip=False, random_state=0).sum(axis=(1, 2, 3))
array([1., 1.], dtype=float32)
>>> entropy_weights(np.array([[1.0, 0.0], [0.5, 0.5]]))
array([1., 0.], dtype=float32)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np

from . import cache
from . import semi_supervised as ssl

__all__ = [
    "PropagationRounds",
    "augment_images",
    "entropy_weights",
    "training_set",
    "train_round",
    "feature_graph",
    "propagate_and_train",
]


def augment_images(
    images: Any, *, max_shift: int = 2, flip: bool = True, random_state: int | None = None
) -> np.ndarray:
    """Randomly shifted (and, optionally, mirrored) copies of ``images``.

    Each image moves by a whole number of pixels in ``[-max_shift, max_shift]``
    along both axes (the uncovered border is filled with zeros, the background
    of MNIST-like images), and with ``flip`` half of them are mirrored left to
    right. Mirroring suits clothes (a mirrored shoe is still a shoe) but not
    digits; the chapters switch it off for MNIST.

    Parameters
    ----------
    images : array (n, height, width) or (n, height, width, channels)
    max_shift : int
        Largest shift in pixels; ``0`` disables shifting.
    flip : bool
        Mirror a random half of the images.
    random_state : int, optional

    Returns
    -------
    array of the same shape and dtype
    """
    x = np.asarray(images)
    if x.ndim not in (3, 4) or x.shape[0] == 0:
        raise ValueError(f"images must be a non-empty array (n, height, width[, channels]), got "
                         f"shape {x.shape}; reshape vectors with helpers.data.to_tensors first.")
    if isinstance(max_shift, bool) or not isinstance(max_shift, (int, np.integer)) or max_shift < 0:
        raise ValueError(f"max_shift must be a non-negative integer, got {max_shift!r}.")
    n, height, width = x.shape[:3]
    if 2 * max_shift >= min(height, width):
        raise ValueError(f"max_shift={max_shift} would move {height}x{width} images off the frame; "
                         "use a shift smaller than half the image size.")
    rng = np.random.default_rng(random_state)
    out = x
    if max_shift:
        pad = [(0, 0), (max_shift, max_shift), (max_shift, max_shift)] + [(0, 0)] * (x.ndim - 3)
        padded = np.pad(x, pad)
        top = rng.integers(0, 2 * max_shift + 1, n)
        left = rng.integers(0, 2 * max_shift + 1, n)
        rows = top[:, None, None] + np.arange(height)[None, :, None]
        cols = left[:, None, None] + np.arange(width)[None, None, :]
        out = padded[np.arange(n)[:, None, None], rows, cols]
    if flip:
        mirror = rng.random(n) < 0.5
        out = out.copy() if out is x else out
        out[mirror] = out[mirror][:, :, ::-1]
    return out.astype(x.dtype, copy=False)


def entropy_weights(distributions: Any) -> np.ndarray:
    """How sure a label distribution is: ``1 - H(p) / log(C)``, in [0, 1].

    A one-hot row scores 1 (certain), a uniform row 0 (no information). Used
    as the weight of each pseudo-label in the student's loss (Iscen et al. 2019).
    """
    p = np.asarray(distributions, dtype=np.float64)
    if p.ndim != 2 or p.shape[1] < 2 or p.shape[0] == 0:
        raise ValueError(f"distributions must be (n_samples, n_classes >= 2), got shape {p.shape}.")
    if not np.all(np.isfinite(p)) or p.min() < 0:
        raise ValueError("distributions must be finite and non-negative (rows of probabilities).")
    sums = p.sum(axis=1, keepdims=True)
    p = np.where(sums > 0, p / np.where(sums > 0, sums, 1.0), 1.0 / p.shape[1])
    entropy = -(p * np.log(np.maximum(p, 1e-12))).sum(axis=1)
    return np.clip(1.0 - entropy / np.log(p.shape[1]), 0.0, 1.0).astype(np.float32)


@dataclass(frozen=True)
class PropagationRounds:
    """What each round of :func:`propagate_and_train` trained on.

    Attributes
    ----------
    labels : array of int (rounds, n)
        The pseudo-labels of every pool image in each round (round 0: the
        initial teacher's).
    weights : array of float (rounds, n)
        Their weights in the loss (1 for the truly labeled images).
    alphas : array of float (rounds,)
        The spreading parameter of each round's graph (round 0: ``nan``, the
        initial distributions were given).
    """

    labels: np.ndarray
    weights: np.ndarray
    alphas: np.ndarray


def training_set(
    labels: Any, weights: Any, labeled_idx: Any, y_labeled: Any, *, labeled_share: float = 0.05
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """What a round trains on: every pool image with its pseudo-label and weight, and the truly
    labeled images (weight 1) repeated so they make up about ``labeled_share`` of it.

    Returns
    -------
    idx, y, w : arrays
        Pool positions (labeled images repeated), their targets and their loss weights.
    """
    labels, weights = np.asarray(labels), np.asarray(weights, dtype=np.float32)
    labeled_idx, y_labeled = np.asarray(labeled_idx), np.asarray(y_labeled)
    repeats = max(1, int(round(labeled_share * len(labels) / len(labeled_idx))))
    keep = np.ones(len(labels), dtype=bool)
    keep[labeled_idx] = False
    idx = np.concatenate([np.flatnonzero(keep), np.tile(labeled_idx, repeats)])
    y = np.concatenate([labels[keep], np.tile(y_labeled, repeats)])
    w = np.concatenate([weights[keep], np.ones(len(labeled_idx) * repeats, dtype=np.float32)])
    return idx, y, w


def train_round(
    model: Any, x: Any, labels: Any, weights: Any, labeled_idx: Any, y_labeled: Any, *,
    epochs: int, batch_size: int = 128, labeled_share: float = 0.05, max_shift: int = 2,
    flip: bool = True, random_state: int | np.random.Generator | None = None,
) -> None:
    """One round of the student's training (in place): ``epochs`` passes over freshly augmented
    copies of the pool, each pseudo-label weighted in the loss (see :func:`training_set`).

    ``model`` must be compiled. ``random_state`` (an int or a NumPy ``Generator``, which
    :func:`propagate_and_train` shares between rounds) draws each epoch's augmentation seed and
    shuffling seed, in that order.
    """
    import tensorflow as tf  # the backend; a tf.data pipeline trains about twice as fast on a CPU

    rng = random_state if isinstance(random_state, np.random.Generator) \
        else np.random.default_rng(random_state)
    x = np.asarray(x)
    idx, y, w = training_set(labels, weights, labeled_idx, y_labeled, labeled_share=labeled_share)
    for _ in range(int(epochs)):
        xa = augment_images(x[idx], max_shift=max_shift, flip=flip,
                            random_state=int(rng.integers(2**31)))
        ds = tf.data.Dataset.from_tensor_slices((xa, y, w)).shuffle(
            len(y), seed=int(rng.integers(2**31))).batch(batch_size).prefetch(2)
        model.fit(ds, epochs=1, shuffle=False, verbose=0)


def feature_graph(model: Any, x: Any, n_neighbors: int = 10) -> Any:
    """The spreading matrix of a kNN graph in the network's ``"features"`` layer.

    The features are scaled to unit length (so distances compare directions), each image is
    linked to its ``n_neighbors`` nearest pool images
    (:func:`helpers.semi_supervised.nearest_neighbors`), and the links are normalised
    (:func:`helpers.semi_supervised.spreading_matrix`).
    """
    from . import models

    f = models.feature_extractor(model).predict(np.asarray(x), batch_size=1024, verbose=0)
    f /= np.linalg.norm(f, axis=1, keepdims=True) + 1e-8
    neighbors, _ = ssl.nearest_neighbors(f, n_neighbors)
    return ssl.spreading_matrix(neighbors)


def propagate_and_train(
    model: Any,
    x_pool: Any,
    labeled_idx: Any,
    labels: Any,
    initial_distributions: Any,
    *,
    rounds: int = 3,
    epochs_per_round: int = 4,
    n_neighbors: int = 10,
    alpha: float | str = 0.99,
    max_shift: int = 2,
    flip: bool = True,
    labeled_share: float = 0.05,
    batch_size: int = 128,
    learning_rate: float = 1e-3,
    random_state: int | None = 0,
    cache_params: Mapping[str, Any] | None = None,
    verbose: bool = False,
) -> PropagationRounds:
    """Alternate training a network on weighted pseudo-labels and re-spreading the true labels
    over a graph of the network's own features (Iscen et al. 2019).

    Parameters
    ----------
    model : keras.Model
        A classifier with a ``"features"`` layer and ``n_classes`` softmax
        outputs (e.g. :func:`helpers.models.build_cnn`), freshly built and
        seeded. It is compiled and trained in place.
    x_pool : array (n, height, width, channels)
        The whole pool, labeled images included.
    labeled_idx, labels : arrays of int (m,)
        Positions of the truly labeled images in the pool and their classes.
    initial_distributions : array (n, n_classes)
        The first teacher: e.g. :func:`helpers.semi_supervised.spread_on_graph`'s
        ``distributions`` over the k-means feature graph.
    rounds : int
        Training rounds; between two rounds the graph is rebuilt in the
        network's feature space and the labels are spread again.
    epochs_per_round : int
        Passes over the (augmented) pool per round.
    n_neighbors : int
        Neighbours per image in the rebuilt graphs.
    alpha : float or "auto"
        Spreading parameter on the rebuilt graphs. The default 0.99 (Iscen et
        al.'s choice) lets the labels travel far. ``"auto"`` chooses it by
        cross-validation inside the labeled budget
        (:func:`helpers.semi_supervised.choose_alpha`), but that estimate is
        biased here: the network was trained on the held-out labeled images,
        so they sit in the right neighbourhoods of its feature space whatever
        ``alpha`` does to the rest of the pool.
    max_shift, flip : int, bool
        The augmentation (:func:`augment_images`).
    labeled_share : float
        The true labels are repeated to fill about this share of every epoch.
    batch_size, learning_rate : int, float
        Adam's mini-batches and step size (kept across rounds).
    random_state : int, optional
        Seeds shuffling, dropout and augmentation.
    cache_params : mapping, optional
        When given, the trained weights and the rounds are cached under these
        parameters plus the architecture, the data and every setting above.
    verbose : bool
        One line per round.

    Returns
    -------
    PropagationRounds
    """
    import keras

    x = np.asarray(x_pool, dtype=np.float32)
    if x.ndim != 4:
        raise ValueError(f"x_pool must be images (n, height, width, channels), got shape {x.shape}; "
                         "use helpers.data.to_tensors.")
    dist0 = np.asarray(initial_distributions, dtype=np.float32)
    n_classes = int(model.output_shape[-1])
    if dist0.shape != (len(x), n_classes):
        raise ValueError(f"initial_distributions must have one row per pool image and one column "
                         f"per class, shape {(len(x), n_classes)}; got {dist0.shape}.")
    if isinstance(alpha, str) and alpha != "auto":
        raise ValueError(f"alpha must be a number in (0, 1) or 'auto', got {alpha!r}.")
    labeled_idx, y_lab, n_classes = ssl._check_seed_labels(labeled_idx, labels, len(x), n_classes,
                                                           0.5 if alpha == "auto" else alpha)
    for name, value in (("rounds", rounds), ("epochs_per_round", epochs_per_round)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}.")
    if not 0.0 < float(labeled_share) < 1.0:
        raise ValueError(f"labeled_share must be in (0, 1), got {labeled_share!r}.")
    n_neighbors = ssl._check_n_neighbors(n_neighbors, len(x))  # fail before training, not after
    augment_images(x[:1], max_shift=max_shift, flip=flip)  # checks max_shift against the image size

    def spread(s: Any) -> tuple[ssl.SpreadResult, float]:
        a = (ssl.choose_alpha(s, labeled_idx, y_lab, n_classes=n_classes, random_state=random_state)
             if alpha == "auto" else float(alpha))
        return ssl.spread_on_graph(s, labeled_idx, y_lab, n_classes=n_classes, alpha=a), a

    def run(net: Any) -> dict[str, np.ndarray]:
        rng = np.random.default_rng(random_state)
        if random_state is not None:
            keras.utils.set_random_seed(int(random_state))
        net.compile(optimizer=keras.optimizers.Adam(float(learning_rate)),
                    loss="sparse_categorical_crossentropy")
        pseudo = dist0.argmax(1)
        pseudo[labeled_idx] = y_lab
        weights = entropy_weights(dist0)
        weights[labeled_idx] = 1.0
        record = {"labels": [pseudo], "weights": [weights], "alphas": [np.nan]}
        for r in range(int(rounds)):
            train_round(net, x, pseudo, weights, labeled_idx, y_lab, epochs=int(epochs_per_round),
                        batch_size=batch_size, labeled_share=labeled_share, max_shift=max_shift,
                        flip=flip, random_state=rng)
            if verbose:
                print(f"round {r + 1}/{rounds}: trained {epochs_per_round} epoch(s)")
            if r == rounds - 1:
                break
            result, a = spread(feature_graph(net, x, n_neighbors))
            pseudo, weights = result.labels, entropy_weights(result.distributions)
            weights[labeled_idx] = 1.0
            for key, value in (("labels", pseudo), ("weights", weights), ("alphas", a)):
                record[key].append(value)
        return {k: np.asarray(v) for k, v in record.items()}

    if cache_params is None:
        out = run(model)
    else:
        params = {**dict(cache_params), "architecture": cache.fingerprint(model),
                  "data": cache.fingerprint(x, labeled_idx, y_lab, dist0),
                  "rounds": int(rounds), "epochs_per_round": int(epochs_per_round),
                  "n_neighbors": int(n_neighbors), "alpha": alpha, "max_shift": int(max_shift),
                  "flip": bool(flip), "labeled_share": float(labeled_share),
                  "batch_size": int(batch_size), "learning_rate": float(learning_rate),
                  "random_state": random_state}
        trained: dict[str, dict[str, np.ndarray]] = {}

        def train_and_record(net: Any) -> None:
            trained["record"] = run(net)
            cache.cached_arrays("propagation-rounds", params, lambda: trained["record"],
                                refresh=True, verbose=False)

        cache.cached_weights("propagation-student", params, model, train_and_record,
                             verbose=verbose)
        out = trained.get("record") or cache.cached_arrays("propagation-rounds", params,
                                                          lambda: run(model), verbose=False)
    return PropagationRounds(labels=out["labels"].astype(np.int64),
                             weights=out["weights"].astype(np.float32),
                             alphas=out["alphas"].astype(np.float64))
