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
