"""Training the book's Keras classifiers: fit, pretrain on pseudo-labels, fine-tune.

Every function takes plain arrays (images ``(n, h, w, 1)`` or vectors ``(n, d)``
as ``float32``, integer labels ``(n,)``), validates them at the boundary, and
compiles the model itself with the loss that matches integer labels,
``sparse_categorical_crossentropy``. (The source article compiled with
``categorical_crossentropy`` on integer cluster ids, which Keras rejects.)

Two rules hold everywhere:

* **Never tune on the test set.** Early stopping watches a validation split
  carved, stratified, out of the *labeled* data passed in; the test set is
  only ever passed to :func:`evaluate_accuracy`.
* **Runs repeat.** ``random_state`` seeds the validation split, the shuffling
  and dropout; weights are initialised when a model is *built*, so seed before
  building (``keras.utils.set_random_seed``).

Example
-------
>>> import numpy as np
>>> from helpers import models
>>> rng = np.random.default_rng(0)
>>> x = rng.random((60, 8)).astype("float32"); y = (x[:, 0] > 0.5).astype(int)
>>> net = models.build_mlp(8, 2, hidden=(16,))
>>> history = fit_classifier(net, x, y, epochs=3, random_state=0, verbose=0)
>>> sorted(history.history)[:2]
['accuracy', 'loss']
"""

from __future__ import annotations

from typing import Any, Mapping

import keras
import numpy as np
from sklearn.model_selection import train_test_split

from . import cache, models, progress

__all__ = [
    "EpochProgress",
    "ProgressBar",
    "evaluate_accuracy",
    "fine_tune",
    "fit_classifier",
    "predict_classes",
    "pretrain_on_pseudo_labels",
    "repeat_to_steps",
    "split_validation",
    "transfer_first_layers",
]


# ----------------------------------------------------------------------- checking


def _n_outputs(model: keras.Model) -> int:
    shape = model.output_shape
    if not isinstance(shape, tuple) or len(shape) != 2 or shape[-1] is None:
        raise ValueError(f"{model.name} must end in a softmax layer of shape (None, n_classes), "
                         f"its output shape is {shape}.")
    return int(shape[-1])


def _check_inputs(model: keras.Model, x: Any, what: str = "x") -> np.ndarray:
    """``x`` as a float32 array whose sample shape matches the model's input."""
    x = np.asarray(x)
    if x.dtype == np.uint8:
        raise ValueError(f"{what} holds raw uint8 pixels; scale them to [0, 1] floats first "
                         "(data.to_tensors for a CNN, data.to_vectors for an MLP).")
    if x.size == 0 or len(x) == 0:
        raise ValueError(f"{what} is empty: there is nothing to train on or score.")
    expected = tuple(model.input_shape[1:])
    if tuple(x.shape[1:]) != expected:
        hint = ""
        if len(expected) == 3 and x.ndim == 3:
            hint = " Add the channel axis with data.to_tensors (or x[..., None])."
        elif len(expected) == 1 and x.ndim >= 3:
            hint = " Flatten the images with data.to_vectors."
        raise ValueError(f"{model.name} expects samples of shape {expected}, but {what} has "
                         f"samples of shape {tuple(x.shape[1:])}.{hint}")
    return x.astype(np.float32, copy=False)


def _check_labels(y: Any, n: int, n_classes: int, what: str = "y") -> np.ndarray:
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(f"{what} must be a 1-D array of integer class ids, got shape {y.shape}. "
                         "(One-hot labels? Pass y.argmax(axis=1).)")
    if len(y) != n:
        raise ValueError(f"x and {what} must have the same length, got {n} and {len(y)}.")
    if not np.issubdtype(y.dtype, np.integer):
        if np.issubdtype(y.dtype, np.floating) and np.all(np.mod(y, 1) == 0):
            y = y.astype(np.int64)
        else:
            raise ValueError(f"{what} must hold integer class ids, got dtype {y.dtype}.")
    if y.min() < 0 or y.max() >= n_classes:
        raise ValueError(f"{what} holds class ids from {int(y.min())} to {int(y.max())}, but the "
                         f"model's head has {n_classes} outputs (ids 0..{n_classes - 1}). Build the "
                         "model (or its new head) with as many classes as the labels have.")
    return y.astype(np.int64, copy=False)


def _check_positive_int(value: Any, name: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}.")
    return int(value)


# -------------------------------------------------------------------------- pieces


class ProgressBar(keras.callbacks.Callback):
    """A text progress bar over a training's optimiser steps, written to standard error.

    JupyterLab shows it under the running cell, so a reader who waits minutes for a
    pretraining sees it move. The HTML book drops standard error
    (``stderr_output: remove`` in ``_config.yml``), so the published pages show none
    of it; Keras' own bars (``verbose=1``) print to standard output and would.
    It only reads the step count and the epoch's loss: the weights are the same
    with or without it.

    Parameters
    ----------
    desc : str
        What is training, shown before the bar.
    mininterval : float
        Seconds between redraws.

    Examples
    --------
    >>> bar = ProgressBar("autoencoder")  # model.fit(..., callbacks=[bar])
    """

    def __init__(self, desc: str = "training", *, mininterval: float = 1.0) -> None:
        super().__init__()
        if not isinstance(desc, str):
            raise ValueError(f"desc must be a string, got {desc!r}.")
        if isinstance(mininterval, bool) or not isinstance(mininterval, (int, float)) or mininterval < 0:
            raise ValueError(f"mininterval must be a number >= 0, got {mininterval!r}.")
        self.desc, self.mininterval = desc, float(mininterval)
        self.bar: Any = None

    def on_train_begin(self, logs: Mapping[str, float] | None = None) -> None:
        epochs, steps = self.params.get("epochs"), self.params.get("steps")
        total = int(epochs) * int(steps) if epochs and steps else None
        self.bar = progress.bar(total, self.desc, unit="step", mininterval=self.mininterval)

    def on_train_batch_end(self, batch: int, logs: Mapping[str, float] | None = None) -> None:
        if self.bar is not None:
            self.bar.update(1)

    def on_epoch_end(self, epoch: int, logs: Mapping[str, float] | None = None) -> None:
        if self.bar is not None and logs and "loss" in logs:
            self.bar.set_postfix_str(f"epoch {epoch + 1}, loss {float(logs['loss']):.3f}",
                                     refresh=False)

    def on_train_end(self, logs: Mapping[str, float] | None = None) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


class EpochProgress(keras.callbacks.Callback):
    """Print one short line every ``every`` epochs, and for the last epoch run.

    Keras' own progress bars fill a printed page; this prints, e.g.::

        epoch  5/30  loss 0.812  acc 0.713  val_acc 0.650

    Parameters
    ----------
    every : int
        Print every ``every``-th epoch.
    label : str
        A prefix naming the run (``"head"``, ``"full"``, ...).
    """

    def __init__(self, every: int = 5, label: str = "") -> None:
        super().__init__()
        self.every = _check_positive_int(every, "every")
        self.label = label
        self._total = 0

    def on_train_begin(self, logs: Mapping[str, float] | None = None) -> None:
        self._total = int(self.params.get("epochs", 0) or 0)
        self._last: tuple[int, dict[str, float]] | None = None
        self._printed = 0

    def on_epoch_end(self, epoch: int, logs: Mapping[str, float] | None = None) -> None:
        done = epoch + 1
        self._last = (done, dict(logs or {}))
        if done % self.every == 0 or done == self._total:
            self._print(done, logs or {})

    def on_train_end(self, logs: Mapping[str, float] | None = None) -> None:
        if self._last is not None and self._last[0] != self._printed:  # early stopping ended it
            self._print(*self._last, note="  (stopped early)")

    def _print(self, done: int, logs: Mapping[str, float], note: str = "") -> None:
        self._printed = done
        parts = [f"{self.label + ' ' if self.label else ''}epoch {done:>{len(str(self._total))}}"
                 f"/{self._total}"]
        for key, short in (("loss", "loss"), ("accuracy", "acc"),
                           ("val_loss", "val_loss"), ("val_accuracy", "val_acc")):
            if key in logs:
                parts.append(f"{short} {float(logs[key]):.3f}")
        print("  ".join(parts) + note)


def split_validation(
    y: np.ndarray,
    validation_fraction: float,
    random_state: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Stratified train/validation indices carved out of the labeled data.

    The validation part holds at least one example of every class. When a class
    has a single example (one label per class), no split is possible and all
    indices go to training (the validation part is empty).

    The indices come in the order of scikit-learn's ``train_test_split``, so
    ``x[train_idx]`` is exactly the ``x_train`` of
    ``train_test_split(x, y, test_size=n_val, stratify=y, random_state=random_state)``.

    Returns
    -------
    train_idx, val_idx : arrays of int
    """
    y = np.asarray(y)
    if not 0.0 <= float(validation_fraction) < 1.0:
        raise ValueError(f"validation_fraction must be in [0, 1), got {validation_fraction!r}.")
    everything = np.arange(len(y))
    classes, counts = np.unique(y, return_counts=True)
    if validation_fraction == 0 or counts.min() < 2:
        return everything, everything[:0]
    n_val = max(len(classes), int(round(validation_fraction * len(y))))
    if len(y) - n_val < len(classes):
        return everything, everything[:0]
    train_idx, val_idx = train_test_split(everything, test_size=n_val, stratify=y,
                                          random_state=random_state)
    return train_idx, val_idx


def predict_classes(model: keras.Model, x: Any, batch_size: int = 1024) -> np.ndarray:
    """The class id with the highest predicted probability, for every row of ``x``."""
    x = _check_inputs(model, x)
    probs = model.predict(x, batch_size=_check_positive_int(batch_size, "batch_size"), verbose=0)
    return np.asarray(probs).argmax(axis=1)


def evaluate_accuracy(model: keras.Model, x: Any, y: Any, batch_size: int = 1024) -> float:
    """Share of rows of ``x`` whose predicted class equals ``y`` (a float in [0, 1])."""
    x = _check_inputs(model, x)
    y = _check_labels(y, len(x), _n_outputs(model))
    return float(np.mean(predict_classes(model, x, batch_size) == y))


# ------------------------------------------------------------------------ training


def fit_classifier(
    model: keras.Model,
    x: Any,
    y: Any,
    *,
    epochs: int,
    batch_size: int = 128,
    learning_rate: float = 1e-3,
    validation_fraction: float = 0.2,
    validation_data: tuple[Any, Any] | None = None,
    patience: int | None = 10,
    min_steps_per_epoch: int | None = None,
    random_state: int | None = None,
    verbose: int = 1,
    progress_every: int = 5,
    label: str = "",
    progress_bar: str | None = None,
) -> keras.callbacks.History:
    """Compile ``model`` (Adam, sparse categorical cross-entropy) and train it on ``(x, y)``.

    Early stopping (when ``patience`` is set and there is validation data)
    watches the validation loss and restores the best epoch's weights. The
    validation data is either given explicitly or carved, stratified, out of
    ``(x, y)``: it always comes from the labeled budget, never the test set.

    It is plain Keras, so a chapter can write the same in view and get the same
    weights::

        keras.utils.set_random_seed(random_state)
        model.compile(optimizer=keras.optimizers.Adam(learning_rate),
                      loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        model.fit(x_train, y_train, epochs=epochs, batch_size=batch_size,
                  validation_data=(x_val, y_val), callbacks=[early_stopping])

    Parameters
    ----------
    model : keras.Model
        A model ending in a softmax ``(None, n_classes)``. Layers whose
        ``trainable`` is ``False`` stay unchanged.
    x : array, shape (n, ...)
        Float inputs matching ``model.input_shape``.
    y : array of int, shape (n,)
        Class ids in ``0 .. n_classes - 1``.
    epochs : int
        Maximum number of passes over the training part.
    batch_size, learning_rate : int, float
        Mini-batch size and Adam's step size.
    validation_fraction : float
        Share of ``(x, y)`` held out for early stopping, when
        ``validation_data`` is not given. Ignored (no hold-out) when some class
        has a single example.
    validation_data : (x_val, y_val), optional
        Explicit validation data, e.g. a split shared by several runs.
    patience : int or None
        Epochs without improvement of the validation loss before stopping;
        ``None`` trains for exactly ``epochs``.
    min_steps_per_epoch : int, optional
        With a handful of labels one pass over the data is one or two
        optimiser steps, and most of an epoch's time goes into Keras'
        bookkeeping and the validation pass. When set, the training data is
        repeated (:func:`repeat_to_steps`) so that one epoch takes at least
        this many steps.
    random_state : int, optional
        Seeds the split, the shuffling and dropout.
    verbose : int
        ``0`` silent, ``1`` one line every ``progress_every`` epochs.
    label : str
        Prefix for the progress lines.
    progress_bar : str, optional
        Show a :class:`ProgressBar` on standard error with this description (for
        long trainings; the HTML book does not show it).

    Returns
    -------
    keras.callbacks.History
        ``history.history`` holds per-epoch ``loss`` and ``accuracy`` (and
        ``val_loss``, ``val_accuracy`` with validation data).
    """
    epochs = _check_positive_int(epochs, "epochs")
    batch_size = _check_positive_int(batch_size, "batch_size")
    if not float(learning_rate) > 0:
        raise ValueError(f"learning_rate must be positive, got {learning_rate!r}.")
    x = _check_inputs(model, x)
    n_classes = _n_outputs(model)
    y = _check_labels(y, len(x), n_classes)
    if validation_data is not None:
        x_val = _check_inputs(model, validation_data[0], "x_val")
        y_val = _check_labels(validation_data[1], len(x_val), n_classes, "y_val")
        x_fit, y_fit = x, y
    else:
        train_idx, val_idx = split_validation(y, validation_fraction, random_state)
        x_fit, y_fit = x[train_idx], y[train_idx]
        x_val, y_val = x[val_idx], y[val_idx]
    has_val = len(y_val) > 0
    if random_state is not None:
        keras.utils.set_random_seed(int(random_state))
    model.compile(optimizer=keras.optimizers.Adam(float(learning_rate)),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    callbacks: list[keras.callbacks.Callback] = []
    if patience is not None and has_val:
        callbacks.append(keras.callbacks.EarlyStopping(
            monitor="val_loss", patience=_check_positive_int(patience, "patience"),
            restore_best_weights=True))
    if verbose:
        callbacks.append(EpochProgress(progress_every, label))
    if progress_bar is not None:
        callbacks.append(ProgressBar(progress_bar))
    if min_steps_per_epoch is not None:
        x_fit, y_fit = repeat_to_steps(x_fit, y_fit, batch_size, min_steps_per_epoch)
    return model.fit(x_fit, y_fit, epochs=epochs, batch_size=batch_size, shuffle=True,
                     validation_data=(x_val, y_val) if has_val else None,
                     callbacks=callbacks, verbose=0)


def repeat_to_steps(x: Any, y: Any, batch_size: int, min_steps: int) -> tuple[np.ndarray, np.ndarray]:
    """Repeat ``(x, y)`` whole so that one epoch in batches of ``batch_size`` takes at least
    ``min_steps`` optimiser steps (unchanged when it already does).

    With ten labels per class, one epoch in batches of 16 is a handful of steps, and Keras'
    per-epoch bookkeeping and validation pass cost more than the learning.

    >>> x, y = repeat_to_steps(np.zeros((40, 3)), np.arange(40) % 4, 16, 10)
    >>> len(y)  # four copies: 160 images, ten batches of 16
    160
    """
    x, y = np.asarray(x), np.asarray(y)
    batch_size = _check_positive_int(batch_size, "batch_size")
    min_steps = _check_positive_int(min_steps, "min_steps_per_epoch")
    if len(x) != len(y) or len(y) == 0:
        raise ValueError(f"x and y must be non-empty and have the same length, got {len(x)} and "
                         f"{len(y)}.")
    repeats = -(-min_steps * batch_size // len(y))  # ceil: enough images for min_steps batches
    if repeats <= 1:
        return x, y
    return np.concatenate([x] * repeats), np.concatenate([y] * repeats)


def _history_from(arrays: Mapping[str, np.ndarray]) -> keras.callbacks.History:
    history = keras.callbacks.History()
    history.history = {key: [float(v) for v in np.asarray(value)] for key, value in arrays.items()}
    return history


def pretrain_on_pseudo_labels(
    model: keras.Model,
    x_pool: Any,
    pseudo_labels: Any,
    *,
    epochs: int,
    batch_size: int = 128,
    learning_rate: float = 1e-3,
    random_state: int | None = None,
    cache_params: Mapping[str, Any] | None = None,
    cache_name: str = "pseudo-label-pretraining",
    verbose: int = 1,
    progress_every: int = 1,
) -> keras.callbacks.History:
    """Train ``model`` to predict ``pseudo_labels`` (e.g. k-means ids) on the unlabeled pool.

    This is the pretraining step of the source article's recipe: the "labels"
    are cluster ids, so the network learns to reproduce a partition. There is
    no validation split and no early stopping: the pool carries no true labels,
    and a fixed, small number of epochs keeps the cost bounded.

    Parameters
    ----------
    model : keras.Model
        Its head must have one output per pseudo-label (``n_clusters``).
    x_pool : array, shape (n, ...)
    pseudo_labels : array of int, shape (n,)
        Ids in ``0 .. n_clusters - 1``.
    epochs, batch_size, learning_rate, random_state
        As in :func:`fit_classifier`.
    cache_params : mapping, optional
        When given (e.g. ``{"profile": "full", "dataset": "fashion_mnist"}``),
        the trained weights are stored with :func:`helpers.cache.cached_weights`
        under a key made of these parameters, the architecture, a fingerprint
        of the data and pseudo-labels, and the training settings; a later call
        with the same key loads them instead of training.
    cache_name : str
        The cache entry's name.
    verbose : int
        ``0`` silent, ``1`` one line every ``progress_every`` epochs.

    Returns
    -------
    keras.callbacks.History
        Per-epoch ``loss`` and ``accuracy`` (the fit to the pseudo-labels), also
        when the weights came from the cache.
    """
    x_pool = _check_inputs(model, x_pool, "x_pool")
    pseudo_labels = _check_labels(pseudo_labels, len(x_pool), _n_outputs(model), "pseudo_labels")

    def train(net: keras.Model) -> keras.callbacks.History:
        return fit_classifier(net, x_pool, pseudo_labels, epochs=epochs, batch_size=batch_size,
                              learning_rate=learning_rate, validation_fraction=0.0,
                              patience=None, random_state=random_state, verbose=verbose,
                              progress_every=progress_every, label="pretrain",
                              progress_bar="pretraining on pseudo-labels")

    if cache_params is None:
        return train(model)
    params = {**dict(cache_params), "architecture": cache.fingerprint(model),
              "data": cache.fingerprint(x_pool, pseudo_labels), "epochs": int(epochs),
              "batch_size": int(batch_size), "learning_rate": float(learning_rate),
              "random_state": random_state}
    history_name = f"{cache_name}-history"
    trained: dict[str, keras.callbacks.History] = {}

    def train_and_record(net: keras.Model) -> None:
        trained["history"] = train(net)
        cache.cached_arrays(history_name, params,
                            lambda: {k: np.asarray(v) for k, v in trained["history"].history.items()},
                            refresh=True, verbose=False)

    cache.cached_weights(cache_name, params, model, train_and_record, verbose=bool(verbose))
    if "history" in trained:
        return trained["history"]
    return _history_from(cache.cached_arrays(history_name, params, lambda: {}, verbose=False))


def fine_tune(
    model: keras.Model,
    x: Any,
    y: Any,
    *,
    n_classes: int,
    mode: str = "full",
    head_epochs: int = 20,
    full_epochs: int = 20,
    head_learning_rate: float = 1e-3,
    full_learning_rate: float = 1e-4,
    batch_size: int = 128,
    validation_fraction: float = 0.2,
    patience: int | None = 10,
    min_steps_per_epoch: int | None = None,
    copy: bool = True,
    random_state: int | None = None,
    verbose: int = 1,
    progress_every: int = 5,
) -> tuple[keras.Model, dict[str, keras.callbacks.History]]:
    """Reuse ``model``'s backbone for a new task with ``n_classes`` classes.

    Stage 1 (always): a fresh head on the *frozen* backbone (a linear probe on
    the learned features). Stage 2 (``mode="full"``): unfreeze everything and
    train on at a lower learning rate, so the new head's first, large gradients
    do not wreck the pretrained features. Both stages use the same validation
    split of ``(x, y)`` for early stopping.

    Parameters
    ----------
    model : keras.Model
        A pretrained model with a ``"features"`` layer (see :mod:`helpers.models`).
    x, y : arrays
        The few labeled examples of the new task.
    n_classes : int
        Classes of the new task (the new head's size).
    mode : {"full", "linear_probe"}
        Two-stage fine-tuning, or stage 1 only.
    head_epochs, full_epochs : int
        Maximum epochs of each stage.
    head_learning_rate, full_learning_rate : float
        Adam's step size in each stage (the second is usually 10x smaller).
    batch_size, validation_fraction, patience, min_steps_per_epoch
        As in :func:`fit_classifier`.
    copy : bool
        Work on a copy, leaving ``model`` untouched (the default). With
        ``copy=False`` the new model shares, and changes, ``model``'s layers.
    random_state : int, optional
        Seeds the new head's initial weights, the split, shuffling and dropout.

    Returns
    -------
    new_model : keras.Model
        The backbone with its new, trained head (everything trainable again).
    histories : dict
        ``{"head": History}`` and, for ``mode="full"``, ``"full": History``.
    """
    if mode not in ("full", "linear_probe"):
        raise ValueError(f"mode must be 'full' or 'linear_probe', got {mode!r}.")
    if random_state is not None:  # before the copy: its dropout layer draws a seed when built
        keras.utils.set_random_seed(int(random_state))
    base = models.copy_model(model) if copy else model
    new = models.with_new_head(base, n_classes)
    x = _check_inputs(new, x)
    y = _check_labels(y, len(x), n_classes)
    train_idx, val_idx = split_validation(y, validation_fraction, random_state)
    common = dict(batch_size=batch_size, validation_data=(x[val_idx], y[val_idx]),
                  patience=patience, min_steps_per_epoch=min_steps_per_epoch,
                  random_state=random_state, verbose=verbose, progress_every=progress_every)
    if len(val_idx) == 0:
        common["validation_data"] = None
        common["validation_fraction"] = 0.0
    x_fit, y_fit = x[train_idx], y[train_idx]
    histories = {}
    models.freeze_backbone(new)
    histories["head"] = fit_classifier(new, x_fit, y_fit, epochs=head_epochs,
                                       learning_rate=head_learning_rate, label="head", **common)
    for lay in new.layers:  # everything trainable again (also what we hand back)
        lay.trainable = True
    if mode == "full":
        histories["full"] = fit_classifier(new, x_fit, y_fit, epochs=full_epochs,
                                           learning_rate=full_learning_rate, label="full",
                                           **common)
    return new, histories


def transfer_first_layers(
    source: keras.Model,
    target: keras.Model,
    k: int,
    *,
    freeze: bool = False,
) -> keras.Model:
    """Copy the first ``k`` weight-holding layers of ``source`` into ``target``; returns ``target``.

    The experiment of Yosinski et al. (2014): the first ``k`` layers come from
    a network trained on another task, the rest keep ``target``'s fresh random
    initialisation. With ``freeze=True`` the copied layers are frozen
    (Yosinski's "AnB"); otherwise they are fine-tuned with the rest ("AnB+").
    Recompile (``fit_classifier`` does) after calling this.

    Raises
    ------
    ValueError
        If ``k`` is out of range or a copied layer's weight shapes differ.
    """
    src, dst = models.trainable_layers(source), models.trainable_layers(target)
    limit = min(len(src), len(dst))
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 0 <= k <= limit:
        raise ValueError(f"k must be an integer between 0 and {limit} (layers with weights in both "
                         f"models), got {k!r}.")
    for s, d in zip(src[:k], dst[:k]):
        shapes_s = [tuple(w.shape) for w in s.get_weights()]
        shapes_d = [tuple(w.shape) for w in d.get_weights()]
        if shapes_s != shapes_d:
            raise ValueError(f"cannot copy layer {s.name!r} into {d.name!r}: weight shapes "
                             f"{shapes_s} and {shapes_d} differ. Build both models with the same "
                             "architecture (only the head may differ).")
        d.set_weights(s.get_weights())
    models.freeze_first(target, int(k) if freeze else 0)
    return target
