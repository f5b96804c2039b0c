"""Tests of helpers.self_supervised: augmentations, NT-Xent, SimCLR pretraining, FixMatch, methods."""

import keras
import numpy as np
import pytest
from sklearn.metrics import silhouette_score

from helpers import evaluation
from helpers import self_supervised as sl


def bars(n=128, size=16, seed=0):
    """Two easy classes of uint8 images on a noisy background: a horizontal or a vertical bar."""
    rng = np.random.default_rng(seed)
    images, labels = [], []
    for c in range(2):
        for _ in range(n // 2):
            img = rng.integers(0, 60, (size, size)).astype(np.uint8)
            r = rng.integers(2, size - 4)
            if c == 0:
                img[r:r + 2, 2:size - 2] = 255
            else:
                img[2:size - 2, r:r + 2] = 255
            images.append(img)
            labels.append(c)
    order = rng.permutation(n)
    return np.array(images)[order], np.array(labels)[order]


def nt_xent_numpy(z1, z2, t):
    """The SimCLR loss written with nothing but NumPy, one view at a time."""
    z = np.concatenate([z1, z2]).astype(np.float64)
    z /= np.linalg.norm(z, axis=1, keepdims=True)
    n = len(z1)
    total = 0.0
    for i in range(2 * n):
        partner = (i + n) % (2 * n)
        others = [j for j in range(2 * n) if j != i]
        logits = np.array([z[i] @ z[j] / t for j in others])
        total += -(z[i] @ z[partner] / t) + np.log(np.exp(logits).sum())
    return total / (2 * n)


@pytest.fixture
def tmp_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("BOOK_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


# ----------------------------------------------------------------------- the loss


@pytest.mark.parametrize("t", [0.1, 0.5, 2.0])
def test_nt_xent_equals_a_numpy_reference(t):
    rng = np.random.default_rng(0)
    z1, z2 = rng.normal(size=(6, 4)), rng.normal(size=(6, 4))
    got = float(sl.nt_xent_loss(z1.astype("float32"), z2.astype("float32"), t))
    assert got == pytest.approx(nt_xent_numpy(z1, z2, t), rel=1e-4)


def test_nt_xent_is_small_when_views_agree_and_large_when_they_do_not():
    z = np.eye(8, dtype="float32")
    agree = float(sl.nt_xent_loss(z, z, 0.1))
    swapped = float(sl.nt_xent_loss(z, z[::-1].copy(), 0.1))
    assert agree < 0.01 < np.log(15) - 1 < swapped


def test_nt_xent_rejects_bad_input():
    z = np.ones((4, 3), "float32")
    with pytest.raises(ValueError, match="temperature"):
        sl.nt_xent_loss(z, z, 0.0)
    with pytest.raises(ValueError, match="temperature"):
        sl.nt_xent_loss(z, z, -1)
    with pytest.raises(ValueError, match="at least 2"):
        sl.nt_xent_loss(z[:1], z[:1], 0.2)
    with pytest.raises(ValueError, match="same shape"):
        sl.nt_xent_loss(z, z[:3], 0.2)


# ----------------------------------------------------------------------- augmentations


@pytest.mark.parametrize("shape", [(6, 28, 28, 1), (5, 32, 24, 3)])
@pytest.mark.parametrize("name", ["crop", "flip", "jitter", "erase", "augment", "weak"])
def test_augmentations_keep_shape_and_range(shape, name):
    x = np.random.default_rng(0).random(shape).astype("float32")
    seed = keras.random.SeedGenerator(3)
    fn = {"crop": lambda v: sl.random_resized_crop(v, seed),
          "flip": lambda v: sl.random_flip(v, seed),
          "jitter": lambda v: sl.color_jitter(v, seed),
          "erase": lambda v: sl.random_erasing(v, seed, probability=1.0),
          "augment": lambda v: sl.augment(v, seed),
          "weak": lambda v: sl.weak_augment(v, seed)}[name]
    out = keras.ops.convert_to_numpy(fn(x))
    assert out.shape == shape
    assert out.min() >= 0.0 and out.max() <= 1.0 + 1e-6
    assert not np.allclose(out, x)  # it changed something


def test_flip_mirrors_some_images_and_keeps_the_others():
    x = np.random.default_rng(1).random((40, 5, 5, 1)).astype("float32")
    out = keras.ops.convert_to_numpy(sl.random_flip(x, keras.random.SeedGenerator(0)))
    mirrored = np.array([np.array_equal(o, v[:, ::-1]) for o, v in zip(out, x)])
    kept = np.array([np.array_equal(o, v) for o, v in zip(out, x)])
    assert np.all(mirrored | kept) and 5 < mirrored.sum() < 35


def test_a_full_crop_is_the_identity_and_erasing_paints_a_rectangle():
    x = np.random.default_rng(2).random((4, 10, 10, 1)).astype("float32")
    same = sl.random_resized_crop(x, keras.random.SeedGenerator(0), scale=(1, 1), ratio=(1, 1))
    np.testing.assert_allclose(keras.ops.convert_to_numpy(same), x, atol=1e-5)
    erased = keras.ops.convert_to_numpy(sl.random_erasing(x, keras.random.SeedGenerator(0),
                                                          probability=1.0, area=(0.2, 0.2)))
    changed = (erased != x)[..., 0]
    for mask in changed:
        rows, cols = np.nonzero(mask)
        assert mask.sum() == (rows.max() - rows.min() + 1) * (cols.max() - cols.min() + 1)


def test_augmentations_reject_bad_input():
    seed = keras.random.SeedGenerator(0)
    with pytest.raises(ValueError, match="channels"):
        sl.augment(np.zeros((3, 8, 8), "float32"), seed)
    with pytest.raises(ValueError, match="scale"):
        sl.random_resized_crop(np.zeros((3, 8, 8, 1), "float32"), seed, scale=(0.9, 0.2))
    with pytest.raises(ValueError, match="brightness"):
        sl.color_jitter(np.zeros((3, 8, 8, 1), "float32"), seed, brightness=-0.1)
    with pytest.raises(ValueError, match="probability"):
        sl.random_erasing(np.zeros((3, 8, 8, 1), "float32"), seed, probability=2)


def test_as_float_images():
    out = sl.as_float_images(np.full((2, 4, 4), 255, np.uint8))
    assert out.shape == (2, 4, 4, 1) and out.dtype == np.float32 and out.max() == 1.0
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        sl.as_float_images(np.full((2, 4, 4), 3.0))
    with pytest.raises(ValueError, match="shape"):
        sl.as_float_images(np.zeros(16))


# ----------------------------------------------------------------------- networks and pretraining


def test_encoder_and_head_shapes():
    enc = sl.build_encoder((16, 16, 1), (8, 16))
    assert enc.output_shape == (None, 16) and enc.layers[-1].name == "features"
    head = sl.build_projection_head(16, (12, 6))
    assert head.output_shape == (None, 6)
    with pytest.raises(ValueError, match="input_shape"):
        sl.build_encoder((16, 16))
    with pytest.raises(ValueError, match="widths"):
        sl.build_encoder((16, 16, 1), ())


def test_short_pretraining_lowers_the_loss_and_separates_two_classes():
    x, y = bars(128)
    pre = sl.pretrain_simclr(x, epochs=8, batch_size=64, widths=(8, 16), projection_dims=(16, 8),
                             learning_rate=3e-3, random_state=1)
    assert len(pre.loss) == 8 and pre.loss[-1] < pre.loss[0] - 0.2
    keras.utils.set_random_seed(1)
    random_encoder = sl.build_encoder((16, 16, 1), (8, 16))

    def separation(encoder):
        return silhouette_score(sl.embed(encoder, x), y, metric="cosine")

    assert separation(pre.encoder) > separation(random_encoder) + 0.05
    assert not pre.from_cache and pre.seconds > 0


def test_a_cached_pretraining_never_trains_again(tmp_cache, monkeypatch):
    x, y = bars(64)
    kwargs = dict(epochs=2, batch_size=32, widths=(4,), projection_dims=(8,), random_state=0,
                  cache_params={"test": "cache"}, monitor=(x[:20], y[:20]))
    first = sl.pretrain_simclr(x, **kwargs)
    assert not first.from_cache and len(first.monitor) == 2

    def no_training(*args, **kw):
        raise AssertionError("a cached pretraining must not train")

    monkeypatch.setattr(sl.SimCLR, "fit", no_training)
    again = sl.pretrain_simclr(x, **kwargs)
    assert again.from_cache
    np.testing.assert_array_equal(again.loss, first.loss)
    np.testing.assert_array_equal(again.monitor, first.monitor)
    assert again.seconds == first.seconds and again.tag == first.tag
    for a, b in zip(again.encoder.get_weights(), first.encoder.get_weights()):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(AssertionError, match="must not train"):  # another setting is a new entry
        sl.pretrain_simclr(x, **{**kwargs, "temperature": 0.5})


def test_pretraining_rejects_bad_input():
    x, _ = bars(16)
    with pytest.raises(ValueError, match="temperature"):
        sl.pretrain_simclr(x, epochs=1, batch_size=8, temperature=0)
    with pytest.raises(ValueError, match="batch_size"):
        sl.pretrain_simclr(x, epochs=1, batch_size=1)
    with pytest.raises(ValueError, match="larger than the pool"):
        sl.pretrain_simclr(x, epochs=1, batch_size=32)
    with pytest.raises(ValueError, match="at least 2"):
        sl.pretrain_simclr(x[:1], epochs=1, batch_size=2)
    with pytest.raises(ValueError, match="shape"):
        sl.pretrain_simclr(x.reshape(16, -1)[0], epochs=1)
    with pytest.raises(ValueError, match="epochs"):
        sl.pretrain_simclr(x, epochs=0, batch_size=8)


def test_knn_accuracy_cv():
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1, 2], 10)
    features = np.eye(3)[y] + 0.01 * rng.normal(size=(30, 3))
    assert sl.knn_accuracy_cv(features, y) == 1.0
    assert sl.knn_accuracy_cv(rng.normal(size=(30, 3)), y) < 0.8
    with pytest.raises(ValueError, match="two labeled"):
        sl.knn_accuracy_cv(features[:4], np.array([0, 1, 2, 2]))


# ----------------------------------------------------------------------- consistency and methods


def test_consistency_training_uses_the_pool_and_rejects_bad_input():
    x, y = bars(96)
    keras.utils.set_random_seed(0)
    enc = sl.build_encoder((16, 16, 1), (8,))
    from helpers import models

    net = models.with_new_head(enc, 2)
    before = [w.copy() for w in net.get_weights()]
    hist = sl.consistency_train(net, x[:8], y[:8], x, epochs=2, batch_size=32, labeled_batch_size=8,
                                threshold=0.5)
    assert set(hist) >= {"loss", "supervised", "mask_rate"} and len(hist["loss"]) == 2
    assert all(0.0 <= r <= 1.0 for r in hist["mask_rate"]) and max(hist["mask_rate"]) > 0
    assert any(not np.allclose(a, b) for a, b in zip(before, net.get_weights()))
    with pytest.raises(ValueError, match="threshold"):
        sl.consistency_train(net, x[:8], y[:8], x, epochs=1, threshold=1.5)
    with pytest.raises(ValueError, match="y_labeled"):
        sl.consistency_train(net, x[:8], y[:7], x, epochs=1)
    with pytest.raises(ValueError, match="class id"):
        sl.consistency_train(net, x[:8], y[:8] + 5, x, epochs=1)


def test_methods_plug_into_the_evaluation_runner(tmp_cache, monkeypatch):
    x, y = bars(96)
    keras.utils.set_random_seed(0)
    enc = sl.build_encoder((16, 16, 1), (8,))
    f = sl.embed(enc, x)
    from helpers import semi_supervised as ssl

    nb, nq = ssl.nearest_neighbors(f[:64], 5, x_query=f[64:])
    methods = {
        "probe": sl.probe_on_simclr(f[:64], f[64:]),
        "spread": sl.spreading_on_simclr(nb, nq, tag="t"),
        "consistency": sl.consistency_from_simclr(enc, fine_tune_epochs=2, patience=2, epochs=1,
                                                  tag="t", batch_size=32, threshold=0.5,
                                                  cache_params={"test": 1}),
    }
    result = evaluation.run_experiment(methods, x[:64], y[:64], x[64:], y[64:], budgets=(4,),
                                       n_draws=1, cache_params=None, verbose=False)
    assert [r["method"] for r in result.table] == ["probe", "spread", "consistency"]
    assert all(0.0 <= r["accuracy"] <= 1.0 for r in result.table)
    monkeypatch.setattr(sl, "consistency_train", lambda *a, **k: pytest.fail("trained again"))
    again = evaluation.run_experiment({"consistency": methods["consistency"]}, x[:64], y[:64],
                                      x[64:], y[64:], budgets=(4,), n_draws=1, cache_params=None,
                                      verbose=False)
    np.testing.assert_array_equal(again.predictions[("consistency", 4, 0)],
                                  result.predictions[("consistency", 4, 0)])


def test_folding_batch_norm_keeps_the_inference_function():
    x, _ = bars(32)
    keras.utils.set_random_seed(0)
    enc = sl.build_encoder((16, 16, 1), (4, 8))
    for lay in enc.layers:  # statistics and scales unlike the defaults
        if isinstance(lay, keras.layers.BatchNormalization):
            c = lay.gamma.shape[0]
            rng = np.random.default_rng(c)
            lay.set_weights([rng.uniform(0.5, 2, c), rng.normal(size=c), rng.normal(size=c),
                             rng.uniform(0.5, 2, c)])
    folded = sl.fold_batch_norm(enc)
    assert not any(isinstance(lay, keras.layers.BatchNormalization) for lay in folded.layers)
    assert folded.layers[-1].name == "features"
    np.testing.assert_allclose(sl.embed(folded, x), sl.embed(enc, x), rtol=1e-4, atol=1e-5)
    assert sl.fold_batch_norm(folded) is folded


def test_transfer_encoder_standardises_the_folded_features_on_the_pool():
    x, _ = bars(64)
    keras.utils.set_random_seed(0)
    enc = sl.build_encoder((16, 16, 1), (4, 8))
    start = sl.transfer_encoder(enc, x)
    assert start.layers[-1].name == "features" and start.output_shape == (None, 8)
    assert not any(isinstance(lay, keras.layers.BatchNormalization) for lay in start.layers)
    f = sl.embed(start, x)
    np.testing.assert_allclose(f.mean(0), 0, atol=1e-4)
    raw = sl.embed(enc, x)
    np.testing.assert_allclose(f, (raw - raw.mean(0)) / np.sqrt(raw.var(0) + 1e-6), atol=1e-3)
