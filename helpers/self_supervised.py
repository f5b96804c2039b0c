"""Self-supervised pretraining: SimCLR on the unlabeled pool, then FixMatch-style consistency.

Three ideas, each small enough to read in one sitting:

* **Augmentations are the teacher.** :func:`augment` draws two *views* of every image (random
  resized crop, mirror, brightness and contrast, erasing), written in ``keras.ops`` so that they run
  on any ``(n, h, w, c)`` batch inside a compiled training step.
* **Contrastive pretraining** (SimCLR, Chen et al. 2020). An encoder (the book's CNN, widened, with
  batch normalisation and global average pooling, see :func:`build_encoder`) and a small projection
  head are trained so that the two views of an image are each other's nearest neighbour among all
  the views of a batch: the NT-Xent loss, :func:`nt_xent_loss`. :class:`SimCLR` holds the training
  step; :func:`pretrain_simclr` trains it (or loads it from the book's cache) and :func:`embed`
  turns images into the encoder's features.
* **Consistency training** (FixMatch, Sohn et al. 2020). A classifier built on the pretrained encoder
  labels weakly augmented pool images; where it is confident, that label becomes the target for a
  strongly augmented view of the same image, with the labeled few in every batch
  (:class:`FixMatch`, :func:`consistency_train`).

The method factories at the bottom (:func:`probe_on_simclr`, :func:`spreading_on_simclr`,
:func:`fine_tuned_simclr`, :func:`consistency_from_simclr`) return
:class:`helpers.evaluation.Method` objects, so that the evaluation chapter can sweep them like every
other method of the book.

Example
-------
>>> import numpy as np
>>> a = np.array([[1.0, 0.0], [0.0, 1.0]], np.float32)
>>> round(float(nt_xent_loss(a, a, temperature=0.5)), 4)  # each view finds its partner easily
0.2395
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import keras
import numpy as np
from keras import layers, ops

from . import cache, data, evaluation, models, progress
from .validation import check_float, check_images, check_int, check_labels

__all__ = [
    "random_resized_crop",
    "random_flip",
    "color_jitter",
    "random_erasing",
    "augment",
    "weak_augment",
    "as_float_images",
    "build_encoder",
    "build_projection_head",
    "fold_batch_norm",
    "transfer_encoder",
    "nt_xent_loss",
    "SimCLR",
    "KnnMonitor",
    "Pretrained",
    "pretrain_simclr",
    "embed",
    "knn_accuracy_cv",
    "FixMatch",
    "consistency_train",
    "probe_on_simclr",
    "spreading_on_simclr",
    "fine_tuned_simclr",
    "consistency_from_simclr",
]

#: The augmentations of the book's SimCLR (strong views; FixMatch's strong views too).
STRONG = {"crop_scale": (0.3, 1.0), "flip": True, "brightness": 0.4, "contrast": 0.4, "erase": 0.5}
#: FixMatch's weak views: a gentle crop and a mirror, nothing else.
WEAK = {"crop_scale": (0.8, 1.0), "flip": True, "brightness": 0.0, "contrast": 0.0, "erase": 0.0}


# ----------------------------------------------------------------------------- augmentations


def _check_batch(images: Any) -> Any:
    shape = tuple(images.shape)
    if len(shape) != 4:
        raise ValueError(f"augmentations work on a batch of images (n, height, width, channels), got "
                         f"shape {shape}. Grey images (n, h, w)? Add a channel: x[..., None].")
    return images


def _range(value: Sequence[float], name: str, low: float, high: float) -> tuple[float, float]:
    pair = tuple(float(v) for v in value)
    if len(pair) != 2 or not low <= pair[0] <= pair[1] <= high:
        raise ValueError(f"{name} must be a pair (min, max) with {low} <= min <= max <= {high}, "
                         f"got {value!r}.")
    return pair  # type: ignore[return-value]


def random_resized_crop(images: Any, seed: Any, *, scale: Sequence[float] = (0.3, 1.0),
                        ratio: Sequence[float] = (3 / 4, 4 / 3)) -> Any:
    """Crop a random rectangle of each image (a share ``scale`` of its area, aspect ``ratio``)
    and stretch it back to full size (bilinear), as one affine transform per image.

    ``images`` is a float batch ``(n, h, w, c)``; ``seed`` a ``keras.random.SeedGenerator`` or int.
    """
    images = _check_batch(images)
    lo, hi = _range(scale, "scale", 1e-3, 1.0)
    r_lo, r_hi = _range(ratio, "ratio", 1e-3, 1e3)
    n, h, w = ops.shape(images)[0], images.shape[1], images.shape[2]
    area = keras.random.uniform((n,), lo, hi, seed=seed)
    aspect = ops.exp(keras.random.uniform((n,), np.log(r_lo), np.log(r_hi), seed=seed))
    cw = ops.minimum(ops.sqrt(area * aspect), 1.0)  # crop width, as a share of the image's
    ch = ops.minimum(ops.sqrt(area / aspect), 1.0)
    x0 = keras.random.uniform((n,), seed=seed) * (1.0 - cw) * (w - 1)
    y0 = keras.random.uniform((n,), seed=seed) * (1.0 - ch) * (h - 1)
    zero = ops.zeros_like(cw)
    # output pixel (x, y) reads input pixel (cw x + x0, ch y + y0)
    transform = ops.stack([cw, zero, x0, zero, ch, y0, zero, zero], axis=1)
    return ops.image.affine_transform(images, transform, interpolation="bilinear",
                                      fill_mode="constant", data_format="channels_last")


def random_flip(images: Any, seed: Any) -> Any:
    """Mirror a random half of the images left to right."""
    images = _check_batch(images)
    coin = keras.random.uniform((ops.shape(images)[0], 1, 1, 1), seed=seed) < 0.5
    return ops.where(coin, ops.flip(images, axis=2), images)


def color_jitter(images: Any, seed: Any, *, brightness: float = 0.4, contrast: float = 0.4) -> Any:
    """Shift each image's brightness by up to ``brightness`` and scale its contrast by a factor
    in ``[1 - contrast, 1 + contrast]``; the result is clipped to [0, 1]."""
    images = _check_batch(images)
    brightness = check_float(brightness, "brightness", minimum=0.0, maximum=1.0)
    contrast = check_float(contrast, "contrast", minimum=0.0, maximum=1.0)
    shape = (ops.shape(images)[0], 1, 1, 1)
    shift = keras.random.uniform(shape, -brightness, brightness, seed=seed)
    factor = keras.random.uniform(shape, 1.0 - contrast, 1.0 + contrast, seed=seed)
    mean = ops.mean(images, axis=(1, 2, 3), keepdims=True)
    return ops.clip((images - mean) * factor + mean + shift, 0.0, 1.0)


def random_erasing(images: Any, seed: Any, *, probability: float = 0.5,
                   area: Sequence[float] = (0.02, 0.2)) -> Any:
    """With ``probability``, paint a random rectangle (a share ``area`` of the image) in a random
    grey (Zhong et al. 2020): the network must recognise a garment with a part hidden."""
    images = _check_batch(images)
    probability = check_float(probability, "probability", minimum=0.0, maximum=1.0)
    lo, hi = _range(area, "area", 0.0, 1.0)
    n, h, w = ops.shape(images)[0], images.shape[1], images.shape[2]
    size = keras.random.uniform((n,), lo, hi, seed=seed) * h * w
    aspect = ops.exp(keras.random.uniform((n,), np.log(0.3), np.log(3.3), seed=seed))
    eh = ops.clip(ops.sqrt(size * aspect), 1.0, float(h))
    ew = ops.clip(ops.sqrt(size / aspect), 1.0, float(w))
    top = keras.random.uniform((n,), seed=seed) * (h - eh)
    left = keras.random.uniform((n,), seed=seed) * (w - ew)
    on = keras.random.uniform((n,), seed=seed) < probability
    rows = ops.reshape(ops.arange(h, dtype="float32"), (1, h, 1))
    cols = ops.reshape(ops.arange(w, dtype="float32"), (1, 1, w))

    def col(v: Any) -> Any:
        return ops.reshape(v, (-1, 1, 1))

    inside = ((rows >= col(top)) & (rows < col(top + eh)) & (cols >= col(left))
              & (cols < col(left + ew)) & col(on))
    grey = keras.random.uniform((n, 1, 1, 1), seed=seed)
    return ops.where(ops.expand_dims(inside, -1), grey, images)


def augment(images: Any, seed: Any, *, crop_scale: Sequence[float] = STRONG["crop_scale"],
            flip: bool = True, brightness: float = 0.4, contrast: float = 0.4,
            erase: float = 0.5) -> Any:
    """One random view of every image: resized crop, mirror, brightness/contrast, erasing.

    Works on float batches ``(n, h, w, c)`` in [0, 1] (NumPy or tensors, inside a ``tf.function``
    too) and keeps their shape and range. Set an argument to its neutral value (``flip=False``,
    ``brightness=0``, ``erase=0``, ``crop_scale=(1, 1)``) to switch that augmentation off.
    """
    x = ops.convert_to_tensor(images, dtype="float32")
    x = random_resized_crop(x, seed, scale=crop_scale)
    if flip:
        x = random_flip(x, seed)
    if brightness or contrast:
        x = color_jitter(x, seed, brightness=brightness, contrast=contrast)
    if erase:
        x = random_erasing(x, seed, probability=erase)
    return x


def weak_augment(images: Any, seed: Any) -> Any:
    """FixMatch's weak view: a gentle crop (80-100 % of the area) and a mirror."""
    return augment(images, seed, **WEAK)


def as_float_images(images: Any, name: str = "images", *, min_samples: int = 1) -> np.ndarray:
    """Images as float32 ``(n, h, w, c)`` in [0, 1]: uint8 pixels are divided by 255, grey
    ``(n, h, w)`` stacks get a channel axis."""
    x = check_images(images, name, min_samples=min_samples)
    if x.ndim == 3:
        x = x[..., None]
    if np.issubdtype(x.dtype, np.integer):
        return x.astype(np.float32) / 255.0
    x = x.astype(np.float32, copy=False)
    if x.size and (x.min() < 0.0 or x.max() > 1.0):
        raise ValueError(f"{name}: float images must lie in [0, 1], got values in "
                         f"[{x.min():.3g}, {x.max():.3g}]. Divide uint8 pixels by 255.")
    return x


# ----------------------------------------------------------------------------- the networks


def build_encoder(input_shape: Sequence[int] = (28, 28, 1), widths: Sequence[int] = (32, 64, 128),
                  name: str = "encoder") -> keras.Model:
    """The book's CNN, widened for contrastive learning: [conv-BN-ReLU-pool] blocks (no pool
    after the last) and global average pooling, whose output layer is named ``"features"``.

    With a ``"features"`` layer it plugs into :func:`helpers.models.with_new_head` and
    :func:`helpers.training.fine_tune` like every network of the book.
    """
    shape = tuple(input_shape)
    if len(shape) != 3 or any(not isinstance(d, int) or d < 1 for d in shape):
        raise ValueError(f"input_shape must be (height, width, channels), got {input_shape!r}.")
    widths = [check_int(f, "widths") for f in widths]
    if not widths:
        raise ValueError("widths is empty: give the number of filters of each conv block.")
    inputs = keras.Input(shape=shape, name="image")
    x = inputs
    for i, f in enumerate(widths):
        x = layers.Conv2D(f, 3, padding="same", use_bias=False, name=f"conv_{i + 1}")(x)
        x = layers.BatchNormalization(name=f"bn_{i + 1}")(x)
        x = layers.Activation("relu", name=f"relu_{i + 1}")(x)
        if i < len(widths) - 1:
            x = layers.MaxPooling2D(2, name=f"pool_{i + 1}")(x)
    x = layers.GlobalAveragePooling2D(name="features")(x)
    return keras.Model(inputs, x, name=name)


def fold_batch_norm(encoder: keras.Model) -> keras.Model:
    """The same function as ``encoder`` in inference mode, without batch normalisation.

    Each BN layer's frozen statistics and scale are folded into the convolution before it
    (``kernel * gamma / sqrt(var + eps)``, bias ``beta - mean * gamma / sqrt(var + eps)``), which
    gives back the book's plain conv-ReLU-pool CNN. Fine-tuning that network on a few labeled
    images cannot disturb statistics learned on the whole pool: batches of 16 clean images are
    nothing like the pretraining's batches of augmented views. An encoder without BN layers is
    returned as it is.
    """
    convs = [lay for lay in encoder.layers if isinstance(lay, layers.Conv2D)]
    norms = [lay for lay in encoder.layers if isinstance(lay, layers.BatchNormalization)]
    if not norms:
        return encoder
    if len(norms) != len(convs) or any(c.use_bias for c in convs):
        raise ValueError(f"{encoder.name} is not an encoder of build_encoder (one bias-free conv "
                         "and one batch normalisation per block).")
    inputs = keras.Input(shape=encoder.input_shape[1:], name="image")
    x = inputs
    folded = []
    for i, (conv, bn) in enumerate(zip(convs, norms)):
        new = layers.Conv2D(conv.filters, conv.kernel_size, padding=conv.padding, activation="relu",
                            name=f"conv_{i + 1}")
        x = new(x)
        if i < len(convs) - 1:
            x = layers.MaxPooling2D(2, name=f"pool_{i + 1}")(x)
        folded.append((new, conv, bn))
    x = layers.GlobalAveragePooling2D(name="features")(x)
    model = keras.Model(inputs, x, name=f"{encoder.name}_folded")
    for new, conv, bn in folded:
        kernel = np.asarray(conv.kernel)
        gamma = np.asarray(bn.gamma) if bn.scale else np.ones(kernel.shape[-1], np.float32)
        beta = np.asarray(bn.beta) if bn.center else np.zeros(kernel.shape[-1], np.float32)
        factor = gamma / np.sqrt(np.asarray(bn.moving_variance) + bn.epsilon)
        new.set_weights([kernel * factor, beta - np.asarray(bn.moving_mean) * factor])
    return model


def transfer_encoder(encoder: keras.Model, x_pool: Any, *, batch_size: int = 1024) -> keras.Model:
    """The encoder as a starting point for fine-tuning: batch normalisation folded into the
    convolutions (:func:`fold_batch_norm`), then its features standardised with the statistics of
    the unlabeled pool (a ``Normalization`` layer, now named ``"features"``).

    Standardised features are what the linear probe sees; a softmax head on them learns in a few
    dozen steps, where on the raw, small, post-ReLU averages it barely moves.
    """
    folded = fold_batch_norm(encoder)
    features = embed(folded, x_pool, batch_size=batch_size)
    norm = layers.Normalization(axis=-1, mean=features.mean(0), variance=features.var(0) + 1e-6,
                                name="features")
    inputs = keras.Input(shape=folded.input_shape[1:], name="image")
    x = inputs
    for lay in folded.layers[1:-1]:  # the folded conv blocks (their weights, shared)
        x = lay(x)
    x = layers.GlobalAveragePooling2D(name="pooled")(x)
    return keras.Model(inputs, norm(x), name=f"{encoder.name}_transfer")


def build_projection_head(input_dim: int, dims: Sequence[int] = (128, 64),
                          name: str = "projection") -> keras.Model:
    """The MLP ``g`` of SimCLR: Dense-ReLU layers, the last one linear. The loss lives on its
    output; the encoder's features below it are what later chapters reuse."""
    dims = [check_int(d, "dims") for d in dims]
    if not dims:
        raise ValueError("dims is empty: give at least the size of the projection.")
    inputs = keras.Input(shape=(check_int(input_dim, "input_dim"),), name="features")
    x = inputs
    for i, d in enumerate(dims):
        last = i == len(dims) - 1
        x = layers.Dense(d, activation=None if last else "relu", name=f"proj_{i + 1}")(x)
    return keras.Model(inputs, x, name=name)


def nt_xent_loss(z1: Any, z2: Any, temperature: float = 0.2) -> Any:
    """The normalised-temperature cross-entropy of SimCLR.

    Row ``i`` of ``z1`` and row ``i`` of ``z2`` are two views of one image. Among the other
    ``2n - 1`` views of the batch, each view must pick out its partner: a softmax over cosine
    similarities divided by ``temperature``, averaged over all ``2n`` views.

    Parameters
    ----------
    z1, z2 : arrays (n, d)
        Projections of the two views (any scale: they are L2-normalised here).
    temperature : float > 0
        Small values sharpen the softmax (SimCLR uses 0.1-0.5).
    """
    temperature = check_float(temperature, "temperature", minimum=0.0, include_minimum=False)
    if len(z1.shape) != 2 or tuple(z1.shape) != tuple(z2.shape):
        raise ValueError(f"z1 and z2 must be 2-D with the same shape (n, d), got {tuple(z1.shape)} "
                         f"and {tuple(z2.shape)}.")
    if z1.shape[0] is not None and z1.shape[0] < 2:
        raise ValueError(f"a batch of {z1.shape[0]} image(s) has no negatives to contrast with; "
                         "use a batch of at least 2 (SimCLR works best with hundreds).")
    n = ops.shape(z1)[0]
    z = ops.normalize(ops.concatenate([z1, z2], axis=0), axis=1)
    sim = ops.matmul(z, ops.transpose(z)) / temperature
    sim = sim - 1e9 * ops.eye(2 * n, dtype=sim.dtype)  # a view is not its own partner
    partner = ops.concatenate([ops.arange(n, 2 * n), ops.arange(0, n)])
    return ops.mean(keras.losses.sparse_categorical_crossentropy(partner, sim, from_logits=True))


class SimCLR(keras.Model):
    """Contrastive pretraining: two augmented views per image, NT-Xent on their projections.

    ``fit`` takes batches of images (float ``(n, h, w, c)`` in [0, 1]) and no labels. The encoder
    and the projection head are the model's layers; after training, keep ``encoder``.
    """

    def __init__(self, encoder: keras.Model, projection: keras.Model, *, temperature: float = 0.2,
                 augmentation: Mapping[str, Any] | None = None, seed: int = 0, **kwargs: Any):
        super().__init__(**kwargs)
        self.encoder, self.projection = encoder, projection
        self.temperature = check_float(temperature, "temperature", minimum=0.0,
                                       include_minimum=False)
        self.augmentation = dict(STRONG if augmentation is None else augmentation)
        self.seed_generator = keras.random.SeedGenerator(int(seed))
        self.loss_tracker = keras.metrics.Mean(name="loss")

    @property
    def metrics(self) -> list[Any]:
        return [self.loss_tracker]

    def call(self, images: Any, training: bool = False) -> Any:
        return self.projection(self.encoder(images, training=training), training=training)

    def train_step(self, images: Any) -> dict[str, Any]:
        import tensorflow as tf  # the book's backend: the gradient tape lives there

        n = ops.shape(images)[0]
        views = ops.concatenate([augment(images, self.seed_generator, **self.augmentation),
                                 augment(images, self.seed_generator, **self.augmentation)], 0)
        with tf.GradientTape() as tape:
            z = self(views, training=True)  # both views in one pass: one set of BN statistics
            loss = nt_xent_loss(z[:n], z[n:], self.temperature)
        grads = tape.gradient(loss, self.trainable_weights)
        self.optimizer.apply(grads, self.trainable_weights)
        self.loss_tracker.update_state(loss)
        return {"loss": self.loss_tracker.result()}


def embed(encoder: keras.Model, images: Any, *, batch_size: int = 1024) -> np.ndarray:
    """The encoder's features of ``images`` (uint8 or [0, 1] floats), as float32 ``(n, d)``."""
    x = as_float_images(images)
    with progress.clock(f"embedding {len(x):,} images"):
        return np.asarray(encoder.predict(x, batch_size=check_int(batch_size, "batch_size"),
                                          verbose=0), dtype=np.float32)


def knn_accuracy_cv(features: Any, y: Any, *, n_neighbors: int = 5, n_folds: int = 5,
                    random_state: int = 0) -> float:
    """k-NN accuracy (cosine distance) by stratified cross-validation *inside* the labeled set.

    A monitor for pretraining that needs no labels beyond the budget: the better the features,
    the more often a labeled image's nearest labeled neighbours share its class.
    """
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.neighbors import KNeighborsClassifier

    x = np.asarray(features, dtype=np.float32)
    y = check_labels(y, n=len(x))
    smallest = int(np.bincount(y)[np.bincount(y) > 0].min())
    if smallest < 2:
        raise ValueError("every class needs at least two labeled images to cross-validate.")
    folds = StratifiedKFold(min(check_int(n_folds, "n_folds", minimum=2), smallest), shuffle=True,
                            random_state=random_state)
    k = min(check_int(n_neighbors, "n_neighbors"), len(y) - len(y) // folds.n_splits - 1)
    clf = KNeighborsClassifier(n_neighbors=max(1, k), metric="cosine")
    return float(cross_val_score(clf, x, y, cv=folds).mean())


class KnnMonitor(keras.callbacks.Callback):
    """Every ``every`` epochs, :func:`knn_accuracy_cv` of the encoder's features of the labeled
    images; the scores land in ``scores`` and in the history as ``knn_cv``. Embedding in inference
    mode draws no random numbers, so the monitor does not change the trained weights."""

    def __init__(self, x_labeled: Any, y_labeled: Any, *, every: int = 1, n_neighbors: int = 5):
        super().__init__()
        self.x = as_float_images(x_labeled, "x_labeled")
        self.y = check_labels(y_labeled, "y_labeled", n=len(self.x))
        self.every = check_int(every, "every")
        self.n_neighbors = check_int(n_neighbors, "n_neighbors")
        self.scores: list[float] = []
        self.epochs: list[int] = []

    def score(self, encoder: keras.Model) -> float:
        return knn_accuracy_cv(embed(encoder, self.x), self.y, n_neighbors=self.n_neighbors)

    def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        if (epoch + 1) % self.every == 0:
            self.epochs.append(epoch + 1)
            self.scores.append(self.score(self.model.encoder))
            if logs is not None:
                logs["knn_cv"] = self.scores[-1]


@dataclass
class Pretrained:
    """What :func:`pretrain_simclr` returns.

    Attributes
    ----------
    encoder, projection : keras.Model
    loss : array (epochs,)
        The NT-Xent loss after every epoch.
    monitor_epochs, monitor : arrays
        Epochs at which the k-NN monitor ran and its cross-validated accuracy (empty without one).
    seconds : float
        Training time (measured when it trained; a cached run reports that original cost).
    from_cache : bool
    params : dict
        The cache key's parameters (``tag`` is their fingerprint, for downstream keys).
    """

    encoder: keras.Model
    projection: keras.Model
    loss: np.ndarray
    monitor_epochs: np.ndarray
    monitor: np.ndarray
    seconds: float
    from_cache: bool
    params: dict

    @property
    def tag(self) -> str:
        return cache.cache_key(self.params)


def pretrain_simclr(
    x_pool: Any,
    *,
    epochs: int,
    batch_size: int = 256,
    temperature: float = 0.2,
    learning_rate: float = 1e-3,
    widths: Sequence[int] = (32, 64, 128),
    projection_dims: Sequence[int] = (128, 64),
    augmentation: Mapping[str, Any] | None = None,
    monitor: tuple[Any, Any] | None = None,
    monitor_every: int = 1,
    random_state: int = 0,
    cache_params: Mapping[str, Any] | None = None,
    verbose: int = 0,
) -> Pretrained:
    """Train a SimCLR encoder on the unlabeled pool, or load it from the cache.

    Adam with a cosine-decaying learning rate; every epoch is one pass over the pool in
    shuffled batches of ``batch_size`` images (two views each; the last incomplete batch is
    dropped). With ``cache_params`` (e.g. profile, dataset, seed) the weights, the loss curve and
    the training time are stored under a key made of them, the data's fingerprint and every
    setting here: a second call with the same key trains nothing.

    Parameters
    ----------
    x_pool : images (n, h, w) uint8 or (n, h, w, c) in [0, 1]
    epochs, batch_size, temperature, learning_rate : training settings
    widths, projection_dims : the encoder's conv widths and the projection head's sizes
    augmentation : mapping, optional
        Arguments of :func:`augment` (default :data:`STRONG`).
    monitor : (x_labeled, y_labeled), optional
        Run :class:`KnnMonitor` every ``monitor_every`` epochs (not part of the weights' key:
        it does not change them; its scores are cached beside them per labeled set).
    random_state : int
        Seeds the weights, the shuffling and the augmentations.
    """
    x = as_float_images(x_pool, "x_pool", min_samples=2)
    epochs = check_int(epochs, "epochs")
    batch_size = check_int(batch_size, "batch_size", minimum=2)
    temperature = check_float(temperature, "temperature", minimum=0.0, include_minimum=False)
    learning_rate = check_float(learning_rate, "learning_rate", minimum=0.0, include_minimum=False)
    if batch_size > len(x):
        raise ValueError(f"batch_size={batch_size} is larger than the pool ({len(x)} images); "
                         "use a smaller batch.")
    aug = dict(STRONG if augmentation is None else augmentation)
    keras.utils.set_random_seed(int(random_state))
    encoder = build_encoder(x.shape[1:], widths)
    projection = build_projection_head(encoder.output_shape[-1], projection_dims)
    mon = None
    if monitor is not None:
        mon = KnnMonitor(*monitor, every=check_int(monitor_every, "monitor_every"))
    params = {**dict(cache_params or {}), "data": cache.fingerprint(x), "epochs": epochs,
              "batch_size": batch_size, "temperature": temperature, "learning_rate": learning_rate,
              "widths": list(widths), "projection": list(projection_dims),
              "augmentation": {k: list(v) if isinstance(v, tuple) else v for k, v in aug.items()},
              "random_state": int(random_state)}
    steps = epochs * (len(x) // batch_size)
    record: dict[str, Any] = {}

    def train(_: keras.Model) -> None:
        import tensorflow as tf

        model = SimCLR(encoder, projection, temperature=temperature, augmentation=aug,
                       seed=int(random_state))
        model.compile(optimizer=keras.optimizers.Adam(
            keras.optimizers.schedules.CosineDecay(learning_rate, steps)))
        ds = (tf.data.Dataset.from_tensor_slices(x).shuffle(len(x), seed=int(random_state))
              .batch(batch_size, drop_remainder=True).prefetch(2))
        start = time.perf_counter()
        from .training import ProgressBar  # on standard error: JupyterLab shows it, the HTML book not

        bar = [] if verbose else [ProgressBar("SimCLR pretraining")]  # verbose: Keras' own bar
        hist = model.fit(ds, epochs=epochs, verbose=verbose, shuffle=False,
                         callbacks=([mon] if mon else []) + bar)
        record["seconds"] = time.perf_counter() - start
        record["loss"] = np.asarray(hist.history["loss"], dtype=np.float64)

    network = keras.Sequential([encoder, projection], name="simclr_network")
    if cache_params is None:
        train(network)
        from_cache = False
        loss, seconds = record["loss"], record["seconds"]
    else:
        from_cache = cache.cached_weights("simclr", params, network, train, verbose=bool(verbose))
        stored = cache.cached_arrays(
            "simclr-history", params,
            lambda: {"loss": record.get("loss", np.zeros(0)),  # weights without a history: unknown
                     "seconds": np.float64(record.get("seconds", np.nan))},
            refresh=not from_cache, verbose=False)
        loss, seconds = stored["loss"], float(stored["seconds"])
    mon_epochs, mon_scores = np.zeros(0, np.int64), np.zeros(0)
    if mon is not None:
        def monitor_arrays() -> dict[str, np.ndarray]:
            if mon.scores:  # it trained now, with the monitor watching
                return {"epochs": np.asarray(mon.epochs), "scores": np.asarray(mon.scores)}
            return {"epochs": np.asarray([epochs]), "scores": np.asarray([mon.score(encoder)])}

        if cache_params is None:
            got = monitor_arrays()
        else:
            key = {**params, "monitor": cache.fingerprint(mon.x, mon.y), "every": mon.every}
            got = cache.cached_arrays("simclr-monitor", key, monitor_arrays,
                                      refresh=bool(mon.scores), verbose=False)
        mon_epochs, mon_scores = got["epochs"], got["scores"]
    return Pretrained(encoder, projection, np.asarray(loss), mon_epochs, mon_scores, seconds,
                      from_cache, params)


# ----------------------------------------------------------------------------- consistency


class FixMatch(keras.Model):
    """FixMatch-style consistency training of a softmax ``classifier``.

    Each step takes a batch of labeled images and a batch of pool images. The classifier labels a
    weak view of every pool image; where its confidence reaches ``threshold``, that label is the
    target for a strong view of the same image. Loss: cross-entropy on the labeled batch (weak
    views) plus ``unlabeled_weight`` times the masked cross-entropy on the strong views.
    """

    def __init__(self, classifier: keras.Model, *, threshold: float = 0.95,
                 unlabeled_weight: float = 1.0, strong: Mapping[str, Any] | None = None,
                 seed: int = 0, **kwargs: Any):
        super().__init__(**kwargs)
        self.classifier = classifier
        self.threshold = check_float(threshold, "threshold", minimum=0.0, maximum=1.0)
        self.unlabeled_weight = check_float(unlabeled_weight, "unlabeled_weight", minimum=0.0)
        self.strong = dict(STRONG if strong is None else strong)
        self.seed_generator = keras.random.SeedGenerator(int(seed))
        self.trackers = {k: keras.metrics.Mean(name=k) for k in ("loss", "supervised", "mask_rate")}

    @property
    def metrics(self) -> list[Any]:
        return list(self.trackers.values())

    def call(self, images: Any, training: bool = False) -> Any:
        return self.classifier(images, training=training)

    def train_step(self, batch: Any) -> dict[str, Any]:
        import tensorflow as tf

        (x_lab, y_lab), x_unl = batch
        m, u = ops.shape(x_lab)[0], ops.shape(x_unl)[0]
        x = ops.concatenate([weak_augment(x_lab, self.seed_generator),
                             weak_augment(x_unl, self.seed_generator),
                             augment(x_unl, self.seed_generator, **self.strong)], axis=0)
        with tf.GradientTape() as tape:
            p = self.classifier(x, training=True)
            p_lab, p_weak, p_strong = p[:m], ops.stop_gradient(p[m:m + u]), p[m + u:]
            supervised = ops.mean(keras.losses.sparse_categorical_crossentropy(y_lab, p_lab))
            mask = ops.cast(ops.max(p_weak, axis=1) >= self.threshold, p.dtype)
            target = ops.argmax(p_weak, axis=1)
            consistency = ops.mean(mask * keras.losses.sparse_categorical_crossentropy(target, p_strong))
            loss = supervised + self.unlabeled_weight * consistency
        grads = tape.gradient(loss, self.classifier.trainable_weights)
        self.optimizer.apply(grads, self.classifier.trainable_weights)
        for name, value in (("loss", loss), ("supervised", supervised), ("mask_rate", ops.mean(mask))):
            self.trackers[name].update_state(value)
        return {k: t.result() for k, t in self.trackers.items()}


def consistency_train(
    classifier: keras.Model,
    x_labeled: Any,
    y_labeled: Any,
    x_pool: Any,
    *,
    epochs: int,
    batch_size: int = 256,
    labeled_batch_size: int = 64,
    threshold: float = 0.95,
    unlabeled_weight: float = 1.0,
    learning_rate: float = 1e-4,
    random_state: int = 0,
    verbose: int = 0,
) -> dict[str, list[float]]:
    """Train ``classifier`` (softmax output) in place with :class:`FixMatch` for ``epochs`` passes
    over the pool; the labeled images (repeated, shuffled) appear in every batch.

    Returns the per-epoch history: ``loss``, ``supervised`` and ``mask_rate`` (the share of pool
    images whose weak-view confidence reached ``threshold``).
    """
    import tensorflow as tf

    xl = as_float_images(x_labeled, "x_labeled")
    xu = as_float_images(x_pool, "x_pool", min_samples=2)
    n_classes = classifier.output_shape[-1]
    yl = check_labels(y_labeled, "y_labeled", n=len(xl), n_classes=n_classes)
    if xl.shape[1:] != xu.shape[1:]:
        raise ValueError(f"labeled images {xl.shape[1:]} and pool images {xu.shape[1:]} differ in shape.")
    epochs = check_int(epochs, "epochs")
    batch_size = min(check_int(batch_size, "batch_size", minimum=2), len(xu))
    lab_batch = min(check_int(labeled_batch_size, "labeled_batch_size"), len(xl))
    seed = int(random_state)
    keras.utils.set_random_seed(seed)
    model = FixMatch(classifier, threshold=threshold, unlabeled_weight=unlabeled_weight, seed=seed)
    model.compile(optimizer=keras.optimizers.Adam(check_float(learning_rate, "learning_rate",
                                                              minimum=0.0, include_minimum=False)))
    labeled = (tf.data.Dataset.from_tensor_slices((xl, yl)).shuffle(len(xl), seed=seed).repeat()
               .batch(lab_batch, drop_remainder=True))
    pool = tf.data.Dataset.from_tensor_slices(xu).shuffle(len(xu), seed=seed + 1).batch(
        batch_size, drop_remainder=True)
    hist = model.fit(tf.data.Dataset.zip((labeled, pool)).prefetch(2), epochs=epochs,
                     verbose=verbose, shuffle=False)
    return {k: [float(v) for v in vals] for k, vals in hist.history.items()}


# ----------------------------------------------------------------------------- methods


def probe_on_simclr(features_pool: Any, features_test: Any, *, C: float = 0.1,
                    name: str = "logistic regression (SimCLR features)") -> evaluation.Method:
    """A linear probe: logistic regression on the encoder's features (standardised on the pool)."""
    return evaluation.logistic_regression_on_features(features_pool, features_test, C=C, name=name)


def spreading_on_simclr(pool_neighbors: Any, query_neighbors: Any, *, tag: str,
                        name: str = "label spreading (SimCLR features)") -> evaluation.Method:
    """Chapter 5's label spreading over a kNN graph built in the SimCLR feature space.

    ``tag`` names the graph (and so the encoder) in the cache key."""
    return evaluation.label_spreading_on_graph(pool_neighbors, query_neighbors, name=name, tag=tag)


def _transfer_per_pool(encoder: keras.Model) -> Any:
    """``task -> transfer_encoder(encoder, task.x_pool)``, built once per pool."""
    memo: dict[str, keras.Model] = {}

    def build(task: evaluation.Task) -> keras.Model:
        key = cache.fingerprint(np.asarray(task.x_pool))
        if key not in memo:
            memo.clear()
            memo[key] = transfer_encoder(encoder, task.x_pool)
        return memo[key]

    return build


def fine_tuned_simclr(encoder: keras.Model, *, epochs: int, patience: int, tag: str,
                      batch_size: int = 16, name: str = "fine-tuned SimCLR encoder"
                      ) -> evaluation.Method:
    """Chapter 4's two-stage fine-tuning (new head on the frozen encoder, then everything at a
    small learning rate, early stopping inside the labeled budget) of the SimCLR encoder, made
    ready for it by :func:`transfer_encoder` (BN folded, features standardised on the pool)."""
    return evaluation.fine_tuned_network(_transfer_per_pool(encoder), epochs=epochs,
                                         patience=patience, batch_size=batch_size, name=name,
                                         tag=f"{tag}/transfer")


def consistency_from_simclr(
    encoder: keras.Model, *, fine_tune_epochs: int, patience: int, epochs: int, tag: str,
    threshold: float = 0.95, batch_size: int = 256, labeled_batch_size: int = 64,
    learning_rate: float = 1e-4, cache_params: Mapping[str, Any] | None = None,
    name: str = "SimCLR + consistency (FixMatch)",
) -> evaluation.Method:
    """Fine-tune the SimCLR encoder on the labels (as :func:`fine_tuned_simclr`), then train it
    with :func:`consistency_train` on the pool for ``epochs`` passes; predict the test set.

    With ``cache_params`` the final weights are cached per labeled draw, so a second call with
    the same labels (in another chapter) trains nothing."""
    from . import training

    base = _transfer_per_pool(encoder)
    params = {"fine_tune_epochs": fine_tune_epochs, "patience": patience, "epochs": epochs,
              "threshold": threshold, "batch_size": batch_size,
              "labeled_batch_size": labeled_batch_size, "learning_rate": learning_rate,
              "pretrained": tag, "transfer": "bn folded, standardised"}

    def fit_predict(task: evaluation.Task) -> np.ndarray:
        x_lab = data.to_tensors(task.x_labeled)
        start = base(task)
        net = models.with_new_head(models.copy_model(start), task.n_classes)

        def train(model: keras.Model) -> None:
            tuned, _ = training.fine_tune(
                start, x_lab, task.y_labeled, n_classes=task.n_classes, mode="full",
                head_epochs=fine_tune_epochs, full_epochs=fine_tune_epochs, batch_size=16,
                head_learning_rate=1e-2, full_learning_rate=1e-4, patience=patience,
                random_state=task.random_state, verbose=0)
            model.set_weights(tuned.get_weights())
            consistency_train(model, x_lab, task.y_labeled, task.x_pool, epochs=epochs,
                              batch_size=batch_size, labeled_batch_size=labeled_batch_size,
                              threshold=threshold, learning_rate=learning_rate,
                              random_state=task.random_state)

        if cache_params is None:
            train(net)
        else:
            key = {**dict(cache_params), **params, "labels": cache.fingerprint(
                np.asarray(task.labeled_idx), np.asarray(task.y_labeled)),
                "pool": [len(task.x_pool)], "seed": task.random_state}
            cache.cached_weights("simclr-consistency", key, net, train, verbose=False)
        return np.argmax(net.predict(data.to_tensors(task.x_test), batch_size=1024, verbose=0), 1)

    return evaluation.Method(name, fit_predict, params)
