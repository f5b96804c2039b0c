import numpy as np
import pytest

from helpers import cache, config, models


@pytest.fixture(autouse=True)
def tmp_cache(tmp_path, monkeypatch):
    monkeypatch.setenv(config.CACHE_ENV, str(tmp_path / "cache"))


def test_cnn_and_mlp_shapes():
    cnn = models.build_cnn((28, 28, 1), 10)
    assert cnn.output_shape == (None, 10) and cnn.get_layer("features")
    mlp = models.build_mlp(64, 3, hidden=(8,))
    assert mlp.output_shape == (None, 3)
    assert mlp(np.zeros((2, 64), np.float32)).shape == (2, 3)


@pytest.mark.parametrize("bad", [1, 0, 2.0, True])
def test_bad_class_counts(bad):
    with pytest.raises(ValueError, match="n_classes"):
        models.build_cnn(n_classes=bad)


@pytest.mark.parametrize("shape", [(8, 8, 1), (28, 28, 1), (32, 32, 3)])
def test_cnn_takes_any_image_shape(shape):
    # digits (8 x 8), Fashion-MNIST, colour folders: the network adapts to the data
    cnn = models.build_cnn(shape, 4, filters=(4, 8), dense_units=8)
    assert cnn.input_shape == (None, *shape)
    assert cnn(np.zeros((2, *shape), np.float32)).shape == (2, 4)
    new = models.with_new_head(cnn, 3)
    assert new.input_shape == (None, *shape) and new.output_shape == (None, 3)


def test_bad_input_shapes():
    with pytest.raises(ValueError, match="input_shape"):
        models.build_cnn((28, 28))
    with pytest.raises(ValueError, match="too small for 3 pooling blocks"):
        models.build_cnn((6, 6, 1), filters=(4, 4, 4))
    with pytest.raises(ValueError, match="input_shape"):
        models.build_mlp(0)
    with pytest.raises(ValueError, match="code_dim"):
        models.build_autoencoder(16, code_dim=0)


def test_autoencoder_returns_shared_encoder():
    ae, enc = models.build_autoencoder(16, code_dim=2, hidden=(8,))
    x = np.random.default_rng(0).random((4, 16)).astype(np.float32)
    assert ae(x).shape == (4, 16) and enc(x).shape == (4, 2)
    assert enc.get_layer("code") is ae.get_layer("code")


def test_new_head_keeps_backbone_weights():
    cnn = models.build_cnn((8, 8, 1), 4, filters=(4,), dense_units=6)
    before = cnn.get_layer("features").get_weights()[0].copy()
    new = models.with_new_head(cnn, 3)
    assert new.output_shape == (None, 3)
    assert np.array_equal(new.get_layer("features").get_weights()[0], before)
    assert new.get_layer("head") is not cnn.get_layer("head")
    with pytest.raises(ValueError, match="no layer"):
        models.with_new_head(cnn, 3, feature_layer="nope")


def test_freeze_first_and_backbone():
    mlp = models.build_mlp(10, 3, hidden=(5, 4))
    models.freeze_first(mlp, 2)
    flags = [lay.trainable for lay in models.trainable_layers(mlp)]
    assert flags == [False, False, True]
    models.freeze_first(mlp, 0)
    assert all(lay.trainable for lay in models.trainable_layers(mlp))
    with pytest.raises(ValueError, match="between 0 and 3"):
        models.freeze_first(mlp, 4)
    models.freeze_backbone(mlp)
    assert [lay.name for lay in mlp.layers if lay.trainable and lay.weights] == ["head"]


def test_frozen_layers_do_not_change_during_fit():
    config.seed_everything(0)
    mlp = models.build_mlp(6, 2, hidden=(5,))
    models.freeze_backbone(mlp)
    mlp.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    before = mlp.get_layer("features").get_weights()[0].copy()
    head_before = mlp.get_layer("head").get_weights()[0].copy()
    x = np.random.default_rng(0).random((32, 6)).astype(np.float32)
    mlp.fit(x, (x[:, 0] > 0.5).astype(int), epochs=2, verbose=0)
    assert np.array_equal(mlp.get_layer("features").get_weights()[0], before)
    assert not np.array_equal(mlp.get_layer("head").get_weights()[0], head_before)


def test_copy_model_is_independent():
    mlp = models.build_mlp(4, 2, hidden=(3,))
    twin = models.copy_model(mlp)
    twin.get_layer("head").set_weights([w * 0 for w in twin.get_layer("head").get_weights()])
    assert not np.array_equal(mlp.get_layer("head").get_weights()[0], 0)


def test_cache_key_is_stable_and_sensitive():
    assert cache.cache_key({"a": 1, "b": (1, 2)}) == cache.cache_key({"b": [1, 2], "a": 1})
    assert cache.cache_key({"a": 1}) != cache.cache_key({"a": 2})
    assert cache.cache_key({"a": np.int64(3)}) == cache.cache_key({"a": 3})
    with pytest.raises(TypeError, match="cannot fingerprint"):
        cache.cache_key({"a": object()})
    with pytest.raises(TypeError, match="mapping"):
        cache.cache_key([1, 2])


def test_cached_arrays_computes_once_and_recovers_from_corruption():
    calls = []

    def compute():
        calls.append(1)
        return {"v": np.arange(4)}

    assert cache.cached_arrays("t", {"k": 1}, compute, verbose=False)["v"].tolist() == [0, 1, 2, 3]
    cache.cached_arrays("t", {"k": 1}, compute, verbose=False)
    assert len(calls) == 1
    cache.cache_path("t", {"k": 1}, ".npz").write_bytes(b"garbage")
    cache.cached_arrays("t", {"k": 1}, compute, verbose=False)
    assert len(calls) == 2
    cache.cached_arrays("t", {"k": 2}, compute, verbose=False)
    assert len(calls) == 3
    with pytest.raises(ValueError, match="plain words"):
        cache.cache_path("../x", {}, ".npz")


def test_cached_weights_round_trip():
    mlp = models.build_mlp(4, 2, hidden=(3,))
    trained = []

    def train(model):
        trained.append(1)
        model.get_layer("head").set_weights([w + 1 for w in model.get_layer("head").get_weights()])

    assert cache.cached_weights("m", {"h": 3}, mlp, train, verbose=False) is False
    other = models.build_mlp(4, 2, hidden=(3,))
    assert cache.cached_weights("m", {"h": 3}, other, train, verbose=False) is True
    assert len(trained) == 1
    for a, b in zip(mlp.get_weights(), other.get_weights()):
        assert np.array_equal(a, b)


def test_fingerprint_of_arrays_depends_on_content_shape_and_dtype():
    a = np.arange(6, dtype=np.int64)
    assert cache.fingerprint(a) == cache.fingerprint(a.copy())
    assert cache.fingerprint(a) != cache.fingerprint(a.reshape(2, 3))
    assert cache.fingerprint(a) != cache.fingerprint(a.astype(np.int32))
    b = a.copy()
    b[0] = 1
    assert cache.fingerprint(a) != cache.fingerprint(b)
    assert cache.fingerprint(a, b) != cache.fingerprint(b, a)  # order matters


def test_fingerprint_of_params_ignores_key_and_set_order():
    assert cache.cache_key({"a": 1, "b": {3, 1, 2}}) == cache.cache_key({"b": {2, 3, 1}, "a": 1})
    assert cache.cache_key({"x": np.int64(3)}) == cache.cache_key({"x": 3})
    assert cache.cache_key({"a": 1}) != cache.cache_key({"a": 2})


def test_fingerprint_rejects_what_it_cannot_hash():
    with pytest.raises(TypeError, match="cannot fingerprint"):
        cache.fingerprint({"f": object()})
