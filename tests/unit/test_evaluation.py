"""Tests of helpers.evaluation: the methods x budgets x draws runner."""

import numpy as np
import pytest

from helpers import evaluation


@pytest.fixture(scope="module")
def digits():
    from sklearn.datasets import load_digits

    d = load_digits()
    x, y = (d.images * 16).clip(0, 255).astype(np.uint8), d.target
    return x[:1400], y[:1400], x[1400:], y[1400:]


def majority(task):
    return np.full(len(task.x_test), np.bincount(task.y_labeled).argmax())


def test_table_shape_and_paired_draws(digits):
    xp, yp, xt, yt = digits
    seen = {}

    def spy(task):
        seen.setdefault(task.random_state, []).append(tuple(task.labeled_idx))
        assert len(task.y_labeled) == len(task.labeled_idx)
        np.testing.assert_array_equal(yp[task.labeled_idx], task.y_labeled)
        return majority(task)

    result = evaluation.run_experiment({"a": spy, "b": spy}, xp, yp, xt, yt, budgets=(1, 3),
                                       n_draws=2, random_state=5, cache_params=None, verbose=False)
    table = result.table
    assert len(table) == 2 * 2 * 2
    assert set(table.columns) >= {"method", "labels_per_class", "n_labels", "draw", "accuracy",
                                  "seconds"}
    assert set(table.column("n_labels")) == {10, 30}
    # both methods saw the same labeled subset in every (budget, draw); draws differ
    for seed, subsets in seen.items():
        assert subsets[0] == subsets[1] and subsets[2] == subsets[3]
    assert seen[5][0] != seen[6][0]
    assert ("a", 3, 1) in result.predictions


def test_logistic_regression_learns_and_summary(digits):
    xp, yp, xt, yt = digits
    result = evaluation.run_experiment(
        {"logistic regression (pixels)": evaluation.logistic_regression_on_pixels(),
         "majority": majority},
        xp, yp, xt, yt, budgets=(2, 10), n_draws=2, cache_params=None, verbose=False)
    summary = evaluation.summarize(result.table)
    assert len(summary) == 4
    lr = {r["labels_per_class"]: r["accuracy_mean"] for r in summary
          if r["method"] == "logistic regression (pixels)"}
    assert lr[10] > lr[2] > 0.5
    assert (summary.column("accuracy_std") >= 0).all()
    assert set(summary.column("n_draws")) == {2}
    paired = evaluation.paired_differences(result.table, "logistic regression (pixels)", "majority")
    assert len(paired) == 2
    assert (paired.column("wins") == 2).all() and (paired.column("mean_difference") > 0.3).all()


def test_features_method(digits):
    xp, yp, xt, yt = digits
    fp, ft = xp.reshape(len(xp), -1).astype(float), xt.reshape(len(xt), -1).astype(float)
    m = evaluation.logistic_regression_on_features(fp, ft, C=1.0)
    result = evaluation.run_experiment({"f": m}, xp, yp, xt, yt, budgets=(5,), n_draws=1,
                                       cache_params=None, verbose=False)
    assert result.table[0]["accuracy"] > 0.7
    with pytest.raises(ValueError, match="columns"):
        evaluation.logistic_regression_on_features(fp, ft[:, :3])


def test_runs_are_cached(tmp_path, monkeypatch, digits):
    monkeypatch.setenv("BOOK_CACHE_DIR", str(tmp_path))
    xp, yp, xt, yt = digits
    calls = []

    def counted(task):
        calls.append(1)
        return majority(task)

    m = evaluation.Method("counted", counted, {"v": 1})
    kw = dict(budgets=(1,), n_draws=2, cache_params={"profile": "test"}, verbose=False)
    first = evaluation.run_experiment({"counted": m}, xp, yp, xt, yt, **kw)
    again = evaluation.run_experiment({"counted": m}, xp, yp, xt, yt, **kw)
    assert len(calls) == 2
    assert not any(r["cached"] for r in first.table) and all(r["cached"] for r in again.table)
    np.testing.assert_array_equal(first.table.column("accuracy"), again.table.column("accuracy"))


def test_warm_start_copies_every_layer_but_the_head():
    import keras

    from helpers import models

    keras.utils.set_random_seed(0)
    source = models.build_cnn((28, 28, 1), 10, filters=(4, 8), dense_units=16)
    keras.utils.set_random_seed(1)
    student = models.build_cnn((28, 28, 1), 10, filters=(4, 8), dense_units=16)
    head = [w.copy() for w in student.get_layer("head").get_weights()]
    evaluation._warm_start(student, source)
    for name in ("conv_1", "conv_2", "features"):
        for a, b in zip(student.get_layer(name).get_weights(), source.get_layer(name).get_weights()):
            np.testing.assert_array_equal(a, b)
    for a, b in zip(student.get_layer("head").get_weights(), head):
        np.testing.assert_array_equal(a, b)  # the head stays the student's own
    wider = models.build_cnn((28, 28, 1), 10, filters=(8, 8), dense_units=16)
    with pytest.raises(ValueError, match="same filters"):
        evaluation._warm_start(wider, source)
    # the warm start is part of the method's identity (its cache key)
    neighbors = np.tile(np.arange(5), (20, 1))
    cold = evaluation.propagation_student(neighbors, tag="g").params
    warm = evaluation.propagation_student(neighbors, init=source, tag="g").params
    assert "init" not in cold and warm["init"] and {k: warm[k] for k in cold} == cold


def test_bad_input(digits):
    xp, yp, xt, yt = digits
    run = evaluation.run_experiment
    kw = dict(n_draws=1, cache_params=None, verbose=False)
    with pytest.raises(ValueError, match="larger than the smallest class"):
        run({"m": majority}, xp, yp, xt, yt, budgets=(1000,), **kw)
    with pytest.raises(ValueError, match="positive integers"):
        run({"m": majority}, xp, yp, xt, yt, budgets=(0,), **kw)
    with pytest.raises(ValueError, match="different lengths"):
        run({"m": majority}, xp, yp[:-1], xt, yt, budgets=(1,), **kw)
    with pytest.raises(ValueError, match="different lengths"):
        run({"m": majority}, xp, yp, xt, yt[:-1], budgets=(1,), **kw)
    with pytest.raises(ValueError, match="empty"):
        run({}, xp, yp, xt, yt, budgets=(1,), **kw)
    with pytest.raises(TypeError, match="callable"):
        run({"m": 3}, xp, yp, xt, yt, budgets=(1,), **kw)
    with pytest.raises(ValueError, match="one class per test image"):
        run({"m": lambda task: np.zeros(3)}, xp, yp, xt, yt, budgets=(1,), **kw)
    table = run({"m": majority}, xp, yp, xt, yt, budgets=(1,), **kw).table
    with pytest.raises(ValueError, match="unknown method"):
        evaluation.paired_differences(table, "nope", "m")
    with pytest.raises(ValueError, match="lacks column"):
        evaluation.summarize([{k: v for k, v in r.items() if k != "seconds"} for r in table])


def test_graph_methods_on_digits(digits):
    from helpers import semi_supervised as ssl

    xp, yp, xt, yt = digits
    z, zt = ssl.prepare_graph_space(xp.reshape(len(xp), -1).astype(float), 20,
                                    x_query=xt.reshape(len(xt), -1).astype(float))
    pool_nb, test_nb = ssl.nearest_neighbors(z, 10, x_query=zt)
    spread = evaluation.label_spreading_on_graph(pool_nb, test_nb)
    result = evaluation.run_experiment({"spread": spread,
                                        "logistic regression (pixels)":
                                        evaluation.logistic_regression_on_pixels()},
                                       xp, yp, xt, yt, budgets=(3,), n_draws=1, cache_params=None,
                                       verbose=False)
    acc = {r["method"]: r["accuracy"] for r in result.table}
    assert acc["spread"] > 0.8 and acc["spread"] > acc["logistic regression (pixels)"]
    with pytest.raises(ValueError, match="rows do not match"):
        evaluation.run_experiment({"s": evaluation.label_spreading_on_graph(pool_nb, test_nb[:10])},
                                  xp, yp, xt, yt, budgets=(1,), n_draws=1, cache_params=None,
                                  verbose=False)


def test_accuracy_plot():
    import matplotlib

    matplotlib.use("Agg")
    from helpers import plotting

    rows = [{"method": m, "labels_per_class": b, "accuracy_mean": a, "accuracy_std": 0.01}
            for m, base in (("a", 0.5), ("b", 0.6)) for b, a in ((1, base), (10, base + 0.2))]
    fig = plotting.accuracy_vs_labels(rows, references={"human": 83.5})
    ax = fig.axes[0]
    assert ax.get_xscale() == "log" and len(ax.get_legend().get_texts()) == 2
    with pytest.raises(ValueError, match="rows with keys"):
        plotting.accuracy_vs_labels([{"method": "a"}])


# ------------------------------------------------------- the book's networks (one definition each)


@pytest.fixture(scope="module")
def tiny_digits():
    """8 x 8 digits: the network must take its input shape from the data, not (28, 28, 1)."""
    from sklearn.datasets import load_digits

    d = load_digits()
    x, y = (d.images * 16).clip(0, 255).astype(np.uint8), d.target
    return x[:600], y[:600], x[1500:], y[1500:]


def _task(x_pool, y_pool, x_test, budget=5, seed=0):
    from helpers import data

    _, y_lab, idx = data.sample_labeled_subset(x_pool, y_pool, budget, random_state=seed)
    return evaluation.Task(x_pool, idx, y_lab, x_test, 10, seed)


def test_network_input_shape_comes_from_the_data(tiny_digits):
    xp = tiny_digits[0]
    assert evaluation.network_input_shape(xp) == (8, 8, 1)
    assert evaluation.network_input_shape(np.zeros((2, 28, 28), np.uint8)) == (28, 28, 1)
    with pytest.raises(ValueError, match="stack of images"):
        evaluation.network_input_shape(np.zeros((5, 64), np.uint8))
    assert evaluation.default_patience(15) == 3 and evaluation.default_patience(60) == 10


def test_cnn_from_scratch_on_digits_is_repeatable_and_learns(tiny_digits):
    xp, yp, xt, yt = tiny_digits
    method = evaluation.cnn_from_scratch(epochs=4)
    assert method.params["patience"] == evaluation.default_patience(4)
    assert method.params["min_steps"] == evaluation.MIN_STEPS
    assert method.params["batch_size"] == evaluation.BATCH_SIZE
    task = _task(xp, yp, xt)
    first, second = method(task), method(task)
    np.testing.assert_array_equal(first, second)  # same draw, same number, in every chapter
    assert first.shape == yt.shape
    assert np.mean(first == yt) > 0.3  # chance is 0.1
    with pytest.raises(ValueError, match="patience"):
        evaluation.cnn_from_scratch(epochs=4, patience=0)


def test_fine_tuned_network_on_tiny_data(tiny_digits, tmp_path, monkeypatch):
    from helpers import config

    monkeypatch.setenv(config.CACHE_ENV, str(tmp_path / "cache"))
    xp, yp, xt, yt = tiny_digits
    key = {"test": "recipe"}
    recipe = evaluation.cluster_pretrained_cnn(xp, epochs=2, random_state=0, cache_params=key)
    assert recipe.model.input_shape == (None, 8, 8, 1) and recipe.model.output_shape == (None, 10)
    assert len(recipe.ids) == len(xp) and set(np.unique(recipe.ids)) == set(range(10))
    again = evaluation.cluster_pretrained_cnn(xp, epochs=2, random_state=0, cache_params=key)
    for a, b in zip(recipe.model.get_weights(), again.model.get_weights()):  # loaded, not retrained
        np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(recipe.history.history["loss"], again.history.history["loss"])

    before = [w.copy() for w in recipe.model.get_weights()]
    full = evaluation.fine_tuned_network(recipe.model, epochs=3)
    probe = evaluation.fine_tuned_network(recipe.model, epochs=3, mode="linear_probe")
    # the cache key names the pretrained weights: the same weights give the same key everywhere
    assert full.params == evaluation.fine_tuned_network(again.model, epochs=3).params
    assert full.params["pretrained"] != evaluation.fine_tuned_network(
        evaluation._small_cnn(10, 1, input_shape=(8, 8, 1)), epochs=3).params["pretrained"]
    assert probe.params["mode"] == "linear_probe" and "mode" not in full.params
    task = _task(xp, yp, xt)
    pred_full, pred_probe = full(task), probe(task)
    assert pred_full.shape == pred_probe.shape == yt.shape
    assert np.mean(pred_full == yt) > 0.2 and np.mean(pred_probe == yt) > 0.2  # chance 0.1
    assert not np.array_equal(pred_full, pred_probe)
    np.testing.assert_array_equal(pred_full, full(task))
    for a, b in zip(before, recipe.model.get_weights()):  # every run starts from the same weights
        np.testing.assert_array_equal(a, b)
    # a callable builds the pretrained network per run
    per_run = evaluation.fine_tuned_network(lambda t: recipe.model, epochs=3, tag="same")
    np.testing.assert_array_equal(per_run(task), pred_full)
    with pytest.raises(ValueError, match="mode"):
        evaluation.fine_tuned_network(recipe.model, epochs=3, mode="partial")
    with pytest.raises(TypeError, match="Keras model or a callable"):
        evaluation.fine_tuned_network(3, epochs=3)


def test_first_layers_transferred_with_k0_is_the_cnn_from_scratch(tiny_digits):
    xp, yp, xt, yt = tiny_digits
    source = evaluation._small_cnn(10, 3, input_shape=(8, 8, 1))
    task = _task(xp, yp, xt, budget=3, seed=2)
    scratch = evaluation.cnn_from_scratch(epochs=2)(task)
    np.testing.assert_array_equal(
        evaluation.first_layers_transferred(source, 0, freeze=False, epochs=2)(task), scratch)
    copied = evaluation.first_layers_transferred(source, 2, freeze=True, epochs=2)
    assert copied.params["k"] == 2 and copied.params["freeze"] is True
    assert copied.name == "first 2 layers copied, frozen"
    assert copied(task).shape == yt.shape
    with pytest.raises(TypeError, match="Keras model"):
        evaluation.first_layers_transferred("net", 1, freeze=True, epochs=2)


@pytest.mark.parametrize("factory", [
    lambda **kw: evaluation.cnn_from_scratch(**kw),
    lambda **kw: evaluation.fine_tuned_network(evaluation._small_cnn(3, 0, input_shape=(8, 8, 1)), **kw),
    lambda **kw: evaluation.first_layers_transferred(
        evaluation._small_cnn(3, 0, input_shape=(8, 8, 1)), 1, freeze=True, **kw),
])
@pytest.mark.parametrize("bad, error, match", [
    ({"epochs": 0}, ValueError, "epochs"),
    ({"epochs": 2.5}, TypeError, "epochs"),
    ({"epochs": 3, "batch_size": 0}, ValueError, "batch_size"),
    ({"epochs": 3, "min_steps_per_epoch": 0}, ValueError, "min_steps_per_epoch"),
    ({"epochs": 3, "patience": "never"}, ValueError, "patience"),
])
def test_network_factories_reject_bad_settings_when_built(factory, bad, error, match):
    with pytest.raises(error, match=match):
        factory(**bad)
