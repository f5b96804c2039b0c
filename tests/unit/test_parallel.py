"""The sweep in parallel: joblib workers and a dask.distributed cluster give the serial numbers,
finished runs land in the cache (so an interrupted sweep resumes), workers limit their threads."""

from __future__ import annotations

import threading

import joblib
import numpy as np
import pytest

from helpers import cache, evaluation
from helpers import semi_supervised as ssl


@pytest.fixture(scope="module")
def digits():
    from sklearn.datasets import load_digits

    d = load_digits()
    x, y = (d.images * 16).clip(0, 255).astype(np.uint8), d.target
    return x[:1400], y[:1400], x[1400:], y[1400:]


@pytest.fixture
def tmp_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("BOOK_CACHE_DIR", str(tmp_path))  # workers started later inherit it
    return tmp_path


def sweep_methods(digits):
    xp, _, xt, _ = digits
    z = xp.reshape(len(xp), -1) / 16.0
    pool_nb, test_nb = ssl.nearest_neighbors(z, 8, x_query=xt.reshape(len(xt), -1) / 16.0)
    return {"logistic regression (pixels)": evaluation.logistic_regression_on_pixels(max_iter=200),
            "label spreading": evaluation.label_spreading_on_graph(pool_nb, test_nb, alpha=0.9)}


def as_tuples(result):
    return [(r["method"], r["labels_per_class"], r["draw"], r["accuracy"]) for r in result.table]


def test_dask_local_cluster_gives_the_serial_results(digits, tmp_cache):
    distributed = pytest.importorskip("distributed")
    xp, yp, xt, yt = digits
    methods = sweep_methods(digits)
    kwargs = dict(budgets=(1, 5), n_draws=2, random_state=3, verbose=False, progress=False)
    serial = evaluation.run_experiment(methods, xp, yp, xt, yt, cache_params=None, **kwargs)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster):
        with joblib.parallel_config(backend="dask"):
            on_dask = evaluation.run_experiment(methods, xp, yp, xt, yt,
                                                cache_params={"test": "dask"}, **kwargs)
    assert as_tuples(on_dask) == as_tuples(serial)
    for key, pred in serial.predictions.items():
        np.testing.assert_array_equal(on_dask.predictions[key], pred)
    assert not any(on_dask.table.column("cached"))
    # the workers stored every run: a second, serial sweep computes nothing
    again = evaluation.run_experiment(methods, xp, yp, xt, yt, cache_params={"test": "dask"},
                                      **kwargs)
    assert all(again.table.column("cached"))
    assert as_tuples(again) == as_tuples(serial)


def test_keras_methods_give_the_serial_results_in_worker_processes(digits):
    # Keras methods must not depend on what their process ran before (dropout seeds of a cloned
    # network come from the global random state), and a pretrained model travels to the workers.
    import keras

    from helpers import models

    xp, yp, xt, yt = (np.pad(a, ((0, 0), (10, 10), (10, 10))) if a.ndim == 3 else a
                      for a in digits)  # 28 x 28, the book's network's input
    keras.utils.set_random_seed(0)
    pretrained = models.build_cnn((28, 28, 1), 10, filters=(4, 8), dense_units=16)
    methods = {"cnn": evaluation.cnn_from_scratch(epochs=2, patience=2, filters=(4, 8),
                                                  dense_units=16),
               "fine-tuned": evaluation.fine_tuned_network(pretrained, epochs=2, patience=2,
                                                           tag="tiny")}
    # as many TensorFlow (and BLAS) threads per run as the serial process: the same sums
    import os

    kwargs = dict(budgets=(3,), n_draws=1, cache_params=None, verbose=False, progress=False,
                  threads_per_job=os.cpu_count())
    serial = evaluation.run_experiment(methods, xp, yp, xt, yt, n_jobs=1, **kwargs)
    parallel = evaluation.run_experiment(methods, xp, yp, xt, yt, n_jobs=2, **kwargs)
    assert as_tuples(parallel) == as_tuples(serial)


def test_joblib_processes_give_the_serial_results(digits):
    xp, yp, xt, yt = digits
    methods = sweep_methods(digits)
    kwargs = dict(budgets=(2,), n_draws=2, cache_params=None, verbose=False, progress=False)
    serial = evaluation.run_experiment(methods, xp, yp, xt, yt, n_jobs=1, **kwargs)
    parallel = evaluation.run_experiment(methods, xp, yp, xt, yt, n_jobs=2, **kwargs)
    assert as_tuples(parallel) == as_tuples(serial)


def report_threads(task):
    """A 'method' whose predictions are the worker's BLAS and TensorFlow thread limits."""
    import os

    from threadpoolctl import threadpool_info

    blas = max((p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"),
               default=1)
    tf = int(os.environ.get("TF_NUM_INTRAOP_THREADS", "0"))
    pred = np.zeros(len(task.x_test), dtype=int)
    pred[0], pred[1] = blas, tf
    return pred


def test_workers_limit_their_threads(digits):
    xp, yp, xt, yt = digits
    result = evaluation.run_experiment({"threads": report_threads}, xp, yp, xt, yt, budgets=(1, 2),
                                       n_draws=1, cache_params=None, n_jobs=2, threads_per_job=1,
                                       verbose=False, progress=False)
    for pred in result.predictions.values():
        assert pred[0] == 1 and pred[1] == 1


def test_an_interrupted_sweep_resumes_from_the_cache(digits, tmp_cache):
    xp, yp, xt, yt = digits
    calls = []

    def flaky(task):  # fails on the second budget, as if the machine had been switched off
        calls.append(len(task.y_labeled))
        if len(task.y_labeled) > 10:
            raise KeyboardInterrupt
        return np.zeros(len(task.x_test), dtype=int)

    kwargs = dict(budgets=(1, 3), n_draws=1, cache_params={"test": "resume"}, verbose=False,
                  progress=False)
    with pytest.raises(KeyboardInterrupt):
        evaluation.run_experiment({"m": flaky}, xp, yp, xt, yt, **kwargs)
    assert calls == [10, 30]
    calls.clear()

    def steady(task):  # the same method (same name, same params), now on a machine that stays on
        calls.append(len(task.y_labeled))
        return np.zeros(len(task.x_test), dtype=int)

    result = evaluation.run_experiment({"m": steady}, xp, yp, xt, yt, **kwargs)
    assert result.table.column("cached").tolist() == [True, False]
    assert calls == [30]  # only the run that never finished was computed again


def test_concurrent_writes_of_one_entry_stay_readable(tmp_cache):
    arrays = {"pred": np.arange(1000), "seconds": np.float64(1.5)}
    threads = [threading.Thread(target=cache.store_arrays, args=("race", {"k": 1}, arrays))
               for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stored = cache.load_arrays("race", {"k": 1})
    np.testing.assert_array_equal(stored["pred"], arrays["pred"])
    folder = cache.cache_path("race", {"k": 1}, ".npz").parent
    assert [p.name for p in folder.iterdir() if p.name.startswith(".tmp")] == []
    assert cache.load_arrays("race", {"k": 2}) is None


def test_a_corrupt_entry_counts_as_missing(tmp_cache):
    path = cache.store_arrays("broken", {"k": 1}, {"v": np.arange(3)})
    path.write_bytes(b"not an npz file")
    assert cache.load_arrays("broken", {"k": 1}) is None


@pytest.mark.parametrize("bad, message", [({"n_jobs": 0}, "n_jobs"), ({"n_jobs": 1.5}, "n_jobs"),
                                          ({"threads_per_job": 0}, "threads_per_job")])
def test_bad_parallel_arguments(digits, bad, message):
    xp, yp, xt, yt = digits
    with pytest.raises((ValueError, TypeError), match=message):
        evaluation.run_experiment({"m": lambda t: np.zeros(len(t.x_test), dtype=int)}, xp, yp, xt,
                                  yt, budgets=(1,), n_draws=1, cache_params=None, verbose=False,
                                  **bad)


def test_serial_runs_use_one_blas_thread_and_give_it_back(digits):
    from threadpoolctl import threadpool_info

    def blas_threads():
        return [p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"]

    before = blas_threads()
    xp, yp, xt, yt = digits
    result = evaluation.run_experiment({"threads": report_threads}, xp, yp, xt, yt, budgets=(1,),
                                       n_draws=1, cache_params=None, n_jobs=1, verbose=False)
    if before:  # a BLAS is loaded: the run saw one thread, the caller keeps its own
        assert result.predictions[("threads", 1, 0)][0] == 1
    assert blas_threads() == before
