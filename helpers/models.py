"""Small Keras model builders shared by the chapters.

Each builder returns an *uncompiled* ``keras.Model`` with named layers, so a
chapter shows ``compile``/``fit`` in view. The convention for transfer: a model
is a *backbone* (everything up to the feature layer, named ``"features"``)
followed by a *head* (the final ``Dense`` layer, named ``"head"``).
:func:`with_new_head` swaps the head; :func:`freeze_first` freezes layers.

Example
-------
>>> model = build_cnn(input_shape=(28, 28, 1), n_classes=10)
>>> new = with_new_head(model, n_classes=5)
>>> new.output_shape
(None, 5)
"""

from __future__ import annotations

from typing import Sequence

import keras
from keras import layers


def _check_classes(n_classes: int) -> int:
    if not isinstance(n_classes, int) or isinstance(n_classes, bool) or n_classes < 2:
        raise ValueError(f"n_classes must be an integer >= 2, got {n_classes!r}.")
    return n_classes


def _check_shape(input_shape: Sequence[int], ndim: int, what: str) -> tuple[int, ...]:
    shape = tuple(input_shape)
    if len(shape) != ndim or any((not isinstance(d, int)) or d < 1 for d in shape):
        raise ValueError(f"{what} needs input_shape with {ndim} positive integers, got {input_shape!r}.")
    return shape


def build_mlp(
    input_dim: int = 784,
    n_classes: int = 10,
    hidden: Sequence[int] = (256, 128),
    dropout: float = 0.0,
    name: str = "mlp",
) -> keras.Model:
    """A multilayer perceptron on flat vectors: ``input_dim`` -> hidden ReLU layers -> softmax.

    The last hidden layer is named ``"features"`` and the output layer ``"head"``.
    """
    (input_dim,) = _check_shape((input_dim,), 1, "build_mlp")
    _check_classes(n_classes)
    if not hidden:
        raise ValueError("build_mlp needs at least one hidden layer size.")
    inputs = keras.Input(shape=(input_dim,), name="pixels")
    x = inputs
    for i, units in enumerate(hidden):
        last = i == len(hidden) - 1
        x = layers.Dense(units, activation="relu", name="features" if last else f"dense_{i + 1}")(x)
        if dropout and not last:
            x = layers.Dropout(dropout, name=f"dropout_{i + 1}")(x)
    if dropout:
        x = layers.Dropout(dropout, name="dropout_features")(x)
    outputs = layers.Dense(n_classes, activation="softmax", name="head")(x)
    return keras.Model(inputs, outputs, name=name)


def build_cnn(
    input_shape: Sequence[int] = (28, 28, 1),
    n_classes: int = 10,
    filters: Sequence[int] = (32, 64),
    dense_units: int = 128,
    dropout: float = 0.3,
    name: str = "cnn",
) -> keras.Model:
    """A small convolutional network: [conv-pool] blocks -> dense ``"features"`` -> ``"head"``.

    Small enough to train on a laptop CPU (a few seconds per 1,000 images per epoch).
    ``input_shape`` is ``(height, width, channels)``: take it from the data
    (``x.shape[1:]``), e.g. ``(28, 28, 1)`` for Fashion-MNIST, ``(8, 8, 1)`` for
    scikit-learn's digits, ``(32, 32, 3)`` for colour images. Each block halves
    the height and width, so they must be at least ``2 ** len(filters)``.
    """
    shape = _check_shape(input_shape, 3, "build_cnn")
    _check_classes(n_classes)
    smallest = 2 ** len(filters)
    if min(shape[:2]) < smallest:
        raise ValueError(f"build_cnn: images of {shape[0]} x {shape[1]} pixels are too small for "
                         f"{len(filters)} pooling blocks (each halves them; at least {smallest} x "
                         f"{smallest} needed). Pass fewer filters.")
    inputs = keras.Input(shape=shape, name="image")
    x = inputs
    for i, f in enumerate(filters):
        x = layers.Conv2D(f, 3, padding="same", activation="relu", name=f"conv_{i + 1}")(x)
        x = layers.MaxPooling2D(2, name=f"pool_{i + 1}")(x)
    x = layers.Flatten(name="flatten")(x)
    if dropout:
        x = layers.Dropout(dropout, name="dropout_flat")(x)
    x = layers.Dense(dense_units, activation="relu", name="features")(x)
    if dropout:
        x = layers.Dropout(dropout, name="dropout_features")(x)
    outputs = layers.Dense(n_classes, activation="softmax", name="head")(x)
    return keras.Model(inputs, outputs, name=name)


def build_autoencoder(
    input_dim: int = 784,
    code_dim: int = 10,
    hidden: Sequence[int] = (500, 500, 2000),
    name: str = "autoencoder",
) -> tuple[keras.Model, keras.Model]:
    """A dense autoencoder for flat vectors in [0, 1]: returns ``(autoencoder, encoder)``.

    The default sizes (500-500-2000-code) follow DEC and N2D. The code layer is
    linear and named ``"code"``; the reconstruction uses a sigmoid, so train the
    autoencoder with binary cross-entropy or mean squared error on [0, 1] pixels.
    """
    (input_dim,) = _check_shape((input_dim,), 1, "build_autoencoder")
    if not isinstance(code_dim, int) or code_dim < 1:
        raise ValueError(f"code_dim must be a positive integer, got {code_dim!r}.")
    inputs = keras.Input(shape=(input_dim,), name="pixels")
    x = inputs
    for i, units in enumerate(hidden):
        x = layers.Dense(units, activation="relu", name=f"enc_{i + 1}")(x)
    code = layers.Dense(code_dim, name="code")(x)
    x = code
    for i, units in enumerate(reversed(hidden)):
        x = layers.Dense(units, activation="relu", name=f"dec_{i + 1}")(x)
    outputs = layers.Dense(input_dim, activation="sigmoid", name="reconstruction")(x)
    autoencoder = keras.Model(inputs, outputs, name=name)
    encoder = keras.Model(inputs, code, name=f"{name}_encoder")
    return autoencoder, encoder


def feature_extractor(model: keras.Model, layer: str = "features") -> keras.Model:
    """The sub-model from ``model``'s input to the output of ``layer`` (shares weights)."""
    try:
        target = model.get_layer(layer)
    except ValueError as err:
        names = [lay.name for lay in model.layers]
        raise ValueError(f"{model.name} has no layer {layer!r}; its layers are {names}.") from err
    return keras.Model(model.inputs, target.output, name=f"{model.name}_{layer}")


def with_new_head(
    model: keras.Model,
    n_classes: int,
    feature_layer: str = "features",
    name: str | None = None,
) -> keras.Model:
    """A new model: ``model``'s backbone (same weight objects) plus a fresh softmax head.

    The backbone's layers are *shared*, not copied: training the new model
    changes them in ``model`` too. Clone first (``keras.models.clone_model``
    plus ``set_weights``) to keep the original intact.
    """
    _check_classes(n_classes)
    backbone = feature_extractor(model, feature_layer)
    x = backbone.output
    dropout = [lay for lay in model.layers if lay.name == "dropout_features"]
    if dropout:
        x = dropout[0](x)
    outputs = layers.Dense(n_classes, activation="softmax", name="head")(x)
    return keras.Model(backbone.inputs, outputs, name=name or f"{model.name}_new_head")


def copy_model(model: keras.Model) -> keras.Model:
    """An independent copy of ``model`` with the same architecture and weights."""
    clone = keras.models.clone_model(model)
    clone.set_weights(model.get_weights())
    return clone


def trainable_layers(model: keras.Model) -> list[layers.Layer]:
    """The layers of ``model`` that hold weights, in order (input layers excluded)."""
    return [lay for lay in model.layers if lay.weights]


def freeze_first(model: keras.Model, k: int) -> keras.Model:
    """Freeze the first ``k`` weight-holding layers of ``model``, unfreeze the rest; returns ``model``.

    Recompile the model afterwards: Keras reads ``trainable`` at compile time.
    ``k=0`` unfreezes everything; ``k`` equal to the number of such layers freezes all.
    """
    weighted = trainable_layers(model)
    if not isinstance(k, int) or k < 0 or k > len(weighted):
        raise ValueError(f"k must be an integer between 0 and {len(weighted)} (the layers with "
                         f"weights in {model.name}), got {k!r}.")
    for i, lay in enumerate(weighted):
        lay.trainable = i >= k
    return model


def freeze_backbone(model: keras.Model, head: str = "head") -> keras.Model:
    """Freeze every layer except ``head`` (a linear probe on frozen features); returns ``model``."""
    names = [lay.name for lay in model.layers]
    if head not in names:
        raise ValueError(f"{model.name} has no layer {head!r}; its layers are {names}.")
    for lay in model.layers:
        lay.trainable = lay.name == head
    return model
