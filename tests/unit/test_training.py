import keras
import numpy as np
import pytest

from helpers import cache, config, models, training


@pytest.fixture(autouse=True)
def tmp_cache(tmp_path, monkeypatch):
    monkeypatch.setenv(config.CACHE_ENV, str(tmp_path / "cache"))


def blobs(n=120, d=6, n_classes=3, seed=0):
    """Well-separated Gaussian blobs: an MLP learns them in a few epochs."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 3, size=(n_classes, d))
    y = np.arange(n) % n_classes
    x = centres[y] + rng.normal(0, 0.5, size=(n, d))
    return x.astype(np.float32), y


def small_mlp(d=6, n_classes=3, seed=0):
    keras.utils.set_random_seed(seed)
    return models.build_mlp(d, n_classes, hidden=(16, 8))


def test_fit_learns_above_chance():
    x, y = blobs()
    net = small_mlp()
    history = training.fit_classifier(net, x, y, epochs=10, learning_rate=1e-2, batch_size=32,
                                      random_state=0, verbose=0)
    assert "val_loss" in history.history and "accuracy" in history.history
    assert training.evaluate_accuracy(net, x, y) > 0.8  # chance is 1/3


def test_fit_is_repeatable():
    x, y = blobs()
    runs = []
    for _ in range(2):
        net = small_mlp(seed=1)
        training.fit_classifier(net, x, y, epochs=3, random_state=5, verbose=0)
        runs.append(net.get_layer("head").get_weights()[0])
    assert np.allclose(runs[0], runs[1])


def test_progress_lines_are_compact(capsys):
    x, y = blobs()
    training.fit_classifier(small_mlp(), x, y, epochs=6, random_state=0, verbose=1,
                            progress_every=3, patience=None, label="demo")
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2 and lines[0].startswith("demo epoch 3/6") and "val_acc" in lines[0]
    progress = training.EpochProgress(every=5, label="x")
    progress.set_params({"epochs": 20})
    progress.on_train_begin()
    for epoch in range(7):  # early stopping ends training after epoch 7
        progress.on_epoch_end(epoch, {"loss": 1.0})
    progress.on_train_end()
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines == ["x epoch  5/20  loss 1.000", "x epoch  7/20  loss 1.000  (stopped early)"]


@pytest.mark.parametrize("x_bad, y_bad, match", [
    (np.zeros((10, 6), np.float32), np.zeros(9, int), "same length"),
    (np.zeros((10, 6), np.float32), np.full(10, 3), "ids 0..2"),
    (np.zeros((10, 6), np.float32), np.full(10, -1), "ids 0..2"),
    (np.zeros((0, 6), np.float32), np.zeros(0, int), "empty"),
    (np.zeros((10, 5), np.float32), np.zeros(10, int), r"shape \(6,\)"),
    (np.zeros((10, 6), np.uint8), np.zeros(10, int), "uint8"),
    (np.zeros((10, 6), np.float32), np.zeros((10, 3), int), "1-D"),
    (np.zeros((10, 6), np.float32), np.full(10, 0.5), "integer"),
])
def test_bad_inputs_have_clear_errors(x_bad, y_bad, match):
    with pytest.raises(ValueError, match=match):
        training.fit_classifier(small_mlp(), x_bad, y_bad, epochs=1, verbose=0)


def test_bad_settings():
    x, y = blobs()
    with pytest.raises(ValueError, match="epochs"):
        training.fit_classifier(small_mlp(), x, y, epochs=0)
    with pytest.raises(ValueError, match="validation_fraction"):
        training.fit_classifier(small_mlp(), x, y, epochs=1, validation_fraction=1.0)
    with pytest.raises(ValueError, match="mode"):
        training.fine_tune(small_mlp(), x, y, n_classes=3, mode="partial")
    with pytest.raises(ValueError, match="n_classes"):
        training.fine_tune(small_mlp(), x, y, n_classes=1)
    with pytest.raises(ValueError, match="Add the channel axis"):
        cnn = models.build_cnn((8, 8, 1), 3, filters=(2,), dense_units=4)
        training.evaluate_accuracy(cnn, np.zeros((4, 8, 8), np.float32), np.zeros(4, int))


def test_split_validation_is_stratified_and_never_empty_per_class():
    y = np.repeat(np.arange(5), 10)
    train_idx, val_idx = training.split_validation(y, 0.2, random_state=0)
    assert len(np.intersect1d(train_idx, val_idx)) == 0 and len(train_idx) + len(val_idx) == 50
    assert np.bincount(y[val_idx]).tolist() == [2] * 5
    one_each = np.arange(5)
    train_idx, val_idx = training.split_validation(one_each, 0.2)
    assert len(val_idx) == 0 and len(train_idx) == 5


def test_linear_probe_keeps_backbone_and_original():
    x, y = blobs()
    net = small_mlp()
    original = [w.copy() for w in net.get_weights()]
    backbone_before = net.get_layer("features").get_weights()[0].copy()
    new, histories = training.fine_tune(net, x, y % 2, n_classes=2, mode="linear_probe",
                                        head_epochs=3, random_state=0, verbose=0)
    assert set(histories) == {"head"} and new.output_shape == (None, 2)
    assert np.array_equal(new.get_layer("features").get_weights()[0], backbone_before)
    assert all(np.array_equal(a, b) for a, b in zip(original, net.get_weights()))
    assert all(lay.trainable for lay in new.layers)  # handed back unfrozen


def test_full_fine_tune_changes_backbone_and_learns():
    x, y = blobs(seed=3)
    net = small_mlp()
    backbone_before = net.get_layer("features").get_weights()[0].copy()
    new, histories = training.fine_tune(net, x, y, n_classes=3, mode="full", head_epochs=5,
                                        full_epochs=20, head_learning_rate=1e-2,
                                        full_learning_rate=1e-2, random_state=0, verbose=0)
    assert set(histories) == {"head", "full"}
    assert not np.array_equal(new.get_layer("features").get_weights()[0], backbone_before)
    assert training.evaluate_accuracy(new, x, y) > 0.6


def test_transfer_first_layers_copies_and_freezes():
    source = small_mlp(seed=0)
    target = small_mlp(seed=1)
    training.transfer_first_layers(source, target, 1, freeze=True)
    layers_s, layers_t = models.trainable_layers(source), models.trainable_layers(target)
    assert np.array_equal(layers_s[0].get_weights()[0], layers_t[0].get_weights()[0])
    assert not np.array_equal(layers_s[1].get_weights()[0], layers_t[1].get_weights()[0])
    assert [lay.trainable for lay in layers_t] == [False, True, True]
    x, y = blobs()
    frozen = layers_t[0].get_weights()[0].copy()
    training.fit_classifier(target, x, y, epochs=2, verbose=0)
    assert np.array_equal(layers_t[0].get_weights()[0], frozen)
    with pytest.raises(ValueError, match="between 0 and 3"):
        training.transfer_first_layers(source, target, 4)
    with pytest.raises(ValueError, match="weight shapes"):
        training.transfer_first_layers(source, models.build_mlp(5, 3, hidden=(16, 8)), 1)


def test_pretrain_is_cached_with_history():
    x, y = blobs(n=60)
    first = small_mlp(seed=2)
    h1 = training.pretrain_on_pseudo_labels(first, x, y, epochs=2, random_state=0,
                                            cache_params={"test": 1}, verbose=0)
    second = small_mlp(seed=7)
    h2 = training.pretrain_on_pseudo_labels(second, x, y, epochs=2, random_state=0,
                                            cache_params={"test": 1}, verbose=0)
    assert all(np.array_equal(a, b) for a, b in zip(first.get_weights(), second.get_weights()))
    assert np.allclose(h1.history["accuracy"], h2.history["accuracy"])
    assert len(list(config.cache_dir("pseudo-label-pretraining").glob("*.weights.h5"))) == 1
    with pytest.raises(ValueError, match="pseudo_labels"):
        training.pretrain_on_pseudo_labels(small_mlp(), x, y + 5, epochs=1, verbose=0)


def test_fingerprint_of_a_model_is_its_architecture():
    # same layers, other seed -> same architecture; another width -> another fingerprint
    assert cache.fingerprint(small_mlp(seed=0)) == cache.fingerprint(small_mlp(seed=1))
    other = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3), keras.layers.Dense(2)])
    assert cache.fingerprint(small_mlp(seed=0)) != cache.fingerprint(other)


def test_min_steps_per_epoch_cycles_small_data():
    x, y = blobs(n=30)
    net = small_mlp()
    training.fit_classifier(net, x, y, epochs=2, batch_size=16, validation_fraction=0.0,
                            min_steps_per_epoch=5, verbose=0)
    assert int(net.optimizer.iterations.numpy()) == 2 * 6  # 2 batches per pass, 3 passes
    with pytest.raises(ValueError, match="min_steps_per_epoch"):
        training.fit_classifier(net, x, y, epochs=1, min_steps_per_epoch=0, verbose=0)


def test_repeat_to_steps():
    x, y = np.arange(40)[:, None], np.arange(40) % 4
    xr, yr = training.repeat_to_steps(x, y, 16, 10)
    assert len(yr) == 160 and -(-len(yr) // 16) >= 10
    np.testing.assert_array_equal(xr[:40], x) and np.testing.assert_array_equal(yr[120:], y)
    xr, yr = training.repeat_to_steps(x, y, 4, 10)  # 40 images are already ten batches of 4
    assert xr is x and yr is y
    xr, _ = training.repeat_to_steps(x[:10], y[:10], 16, 10)  # one label per class, ten classes
    assert len(xr) == 160
    with pytest.raises(ValueError, match="same length"):
        training.repeat_to_steps(x, y[:3], 16, 10)
    with pytest.raises(ValueError, match="min_steps"):
        training.repeat_to_steps(x, y, 16, 0)


def _compile(net, learning_rate):
    net.compile(optimizer=keras.optimizers.Adam(learning_rate),
                loss="sparse_categorical_crossentropy", metrics=["accuracy"])


def test_fit_classifier_is_the_plain_keras_loop():
    # what a chapter writes in view gives the helper's weights exactly
    from sklearn.model_selection import train_test_split

    x, y = blobs(n=60)
    net = small_mlp(seed=4)
    training.fit_classifier(net, x, y, epochs=4, batch_size=8, learning_rate=1e-2, patience=2,
                            min_steps_per_epoch=10, random_state=3, verbose=0)
    plain = small_mlp(seed=4)
    x_train, x_val, y_train, y_val = train_test_split(x, y, test_size=0.2, stratify=y,
                                                      random_state=3)
    repeats = -(-10 * 8 // len(y_train))
    keras.utils.set_random_seed(3)
    _compile(plain, 1e-2)
    plain.fit(np.concatenate([x_train] * repeats), np.concatenate([y_train] * repeats), epochs=4,
              batch_size=8, validation_data=(x_val, y_val), verbose=0,
              callbacks=[keras.callbacks.EarlyStopping(patience=2, restore_best_weights=True)])
    for a, b in zip(net.get_weights(), plain.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_fine_tune_is_the_plain_keras_freeze_unfreeze_pattern():
    x, y = blobs(n=60, seed=2)
    source = small_mlp(seed=0)
    helper, _ = training.fine_tune(source, x, y % 2, n_classes=2, head_epochs=3, full_epochs=3,
                                   head_learning_rate=1e-2, full_learning_rate=1e-3, batch_size=8,
                                   validation_fraction=0.0, patience=None, random_state=7,
                                   verbose=0)
    keras.utils.set_random_seed(7)
    base = keras.models.clone_model(source)
    base.set_weights(source.get_weights())
    base.trainable = False
    head = keras.layers.Dense(2, activation="softmax", name="head")(base.layers[-2].output)
    model = keras.Model(base.input, head)
    for stage_lr in (1e-2, 1e-3):
        keras.utils.set_random_seed(7)
        _compile(model, stage_lr)
        model.fit(x, y % 2, epochs=3, batch_size=8, verbose=0)
        base.trainable = True  # unfreeze for the second stage
    for a, b in zip(helper.get_weights(), model.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert any(not np.allclose(a, b) for a, b in zip(helper.get_weights()[:2],
                                                     source.get_weights()[:2]))


def test_fine_tune_depends_only_on_its_random_state():
    x, y = blobs(n=60, seed=5)
    keras.utils.set_random_seed(0)
    source = models.build_mlp(6, 3, hidden=(16, 8), dropout=0.3)  # the copy's dropout is seeded too
    runs = []
    for noise in (0, 1):
        keras.utils.set_random_seed(100 + noise)  # whatever ran before must not matter
        np.random.default_rng(noise).random(3)
        net, _ = training.fine_tune(source, x, y, n_classes=3, head_epochs=2, full_epochs=2,
                                    batch_size=16, random_state=11, verbose=0)
        runs.append(net.get_weights())
    for a, b in zip(*runs):
        np.testing.assert_array_equal(a, b)


def test_progress_bar_counts_steps_on_stderr_and_changes_no_weight(capsys):
    x, y = blobs(n=64)
    weights = []
    for bar in (None, "demo training"):
        net = small_mlp(seed=2)
        training.fit_classifier(net, x, y, epochs=3, batch_size=16, validation_fraction=0.0,
                                patience=None, random_state=4, verbose=0, progress_bar=bar)
        weights.append(net.get_layer("head").get_weights()[0])
    np.testing.assert_array_equal(weights[0], weights[1])
    out = capsys.readouterr()
    assert "demo training" in out.err and "12/12" in out.err  # 3 epochs x 4 steps of 16
    assert "epoch 3, loss" in out.err
    assert "demo training" not in out.out  # stdout reaches the HTML book; the bar must not


def test_progress_bar_rejects_bad_settings():
    with pytest.raises(ValueError, match="desc must be a string"):
        training.ProgressBar(3)
    with pytest.raises(ValueError, match="mininterval"):
        training.ProgressBar("x", mininterval=-1)
    bar = training.ProgressBar("x")  # callbacks outside a fit do nothing
    bar.on_train_batch_end(0)
    bar.on_train_end()
