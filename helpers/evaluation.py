"""An honest label-efficiency experiment: methods x label budgets x label draws.

The rules the runner enforces (after Oliver et al. 2018):

* **Paired draws.** For a budget of ``b`` labels per class and draw ``d``,
  every method gets the *same* labeled subset (drawn with seed
  ``random_state + d`` by :func:`helpers.data.sample_labeled_subset`), so
  differences between methods are not differences in luck.
* **The test set is touched once per run**, to score the predictions a
  method returns. Methods tune and early-stop only on their labeled budget.
* **Every finished run is cached on disk** (keyed by profile, dataset,
  method name and parameters, budget, draw, seed and the data's sizes): a
  re-run of the chapter is instant and an interrupted sweep resumes.

A *method* is any callable ``method(task) -> predicted test labels`` that
receives a :class:`Task`. :class:`Method` attaches a name and the parameters
that belong in the cache key; the factories at the bottom build the book's
baselines.

Example
-------
>>> import numpy as np
>>> from sklearn.datasets import load_digits
>>> d = load_digits()
>>> x, y = (d.images * 16).astype(np.uint8), d.target
>>> result = run_experiment({"logreg": logistic_regression_on_pixels()}, x[:1500], y[:1500],
...                         x[1500:], y[1500:], budgets=(2, 5), n_draws=2, cache_params=None,
...                         verbose=False)
>>> len(result.table), result.table.columns[:4]
(4, ['method', 'labels_per_class', 'n_labels', 'draw'])
>>> summarize(result.table).columns[:4]
['method', 'labels_per_class', 'n_labels', 'accuracy_mean']
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, NamedTuple, Sequence

import numpy as np

from . import cache, data
from .report import MetricsTable
from .validation import check_int

__all__ = [
    "Task",
    "Method",
    "ExperimentResult",
    "run_experiment",
    "summarize",
    "paired_differences",
    "logistic_regression_on_pixels",
    "logistic_regression_on_features",
    "cnn_from_scratch",
    "fine_tuned_network",
    "first_layers_transferred",
    "cluster_pretrained_cnn",
    "ClusterPretrained",
    "kmeans_ids",
    "network_input_shape",
    "default_patience",
    "label_spreading_on_graph",
    "teacher_student",
    "propagation_student",
]


@dataclass
class Task:
    """One run's inputs: the whole pool (images), the few labels, the test images.

    Attributes
    ----------
    x_pool : array (n, h, w) uint8
        Every image of the pool; the labeled ones are ``x_pool[labeled_idx]``.
    labeled_idx : array of int (m,)
        Which pool images carry a label.
    y_labeled : array of int (m,)
        Their labels.
    x_test : array (n_test, h, w) uint8
        Images to predict (never their labels).
    n_classes : int
    random_state : int
        Seed for this run (differs between draws).
    """

    x_pool: np.ndarray
    labeled_idx: np.ndarray
    y_labeled: np.ndarray
    x_test: np.ndarray
    n_classes: int
    random_state: int

    @property
    def x_labeled(self) -> np.ndarray:
        """The labeled images."""
        return self.x_pool[self.labeled_idx]


@dataclass
class Method:
    """A named method: ``fit_predict(task)`` returns the predicted class of every test image.

    ``params`` are the hyper-parameters that belong in the cache key (change
    one and the runs are recomputed).
    """

    name: str
    fit_predict: Callable[[Task], np.ndarray]
    params: Mapping[str, Any] = field(default_factory=dict)

    def __call__(self, task: Task) -> np.ndarray:
        return self.fit_predict(task)


@dataclass
class ExperimentResult:
    """What :func:`run_experiment` returns.

    Attributes
    ----------
    table : MetricsTable
        One row (a dict) per run: ``method, labels_per_class, n_labels, draw, accuracy,
        seconds, cached``.
    predictions : dict
        ``(method, labels_per_class, draw) -> predicted test labels``.
    """

    table: MetricsTable
    predictions: dict[tuple[str, int, int], np.ndarray]


def _as_method(name: str, method: Any) -> Method:
    if isinstance(method, Method):  # the mapping's key is the name shown in the table
        return method if method.name == name else Method(name, method.fit_predict, method.params)
    if callable(method):
        return Method(name=name, fit_predict=method, params={})
    raise TypeError(f"method {name!r} must be a callable task -> predictions or a Method, "
                    f"got {type(method).__name__}.")


def _check_budgets(budgets: Sequence[int], y_pool: np.ndarray) -> tuple[int, ...]:
    budgets = tuple(budgets)
    if not budgets:
        raise ValueError("budgets is empty: give at least one number of labels per class.")
    for b in budgets:
        if isinstance(b, bool) or not isinstance(b, (int, np.integer)) or b < 1:
            raise ValueError(f"label budgets are positive integers (labels per class), got {b!r}.")
    smallest = int(np.bincount(y_pool).min())
    if max(budgets) > smallest:
        raise ValueError(f"A budget of {max(budgets)} labels per class is larger than the smallest "
                         f"class of the pool ({smallest} images). Use budgets <= {smallest} or a "
                         "larger pool.")
    return tuple(int(b) for b in budgets)


@dataclass
class _Cell:
    """One run of the sweep: a method on one (budget, draw)'s task, and its cache key."""

    method: Method
    budget: int
    draw: int
    task: Task
    key: dict[str, Any] | None


def _limit_threads(n_threads: int) -> None:
    """Limit this worker process's OpenMP and TensorFlow thread pools to ``n_threads``.

    Environment variables cover libraries loaded later (TensorFlow reads
    ``TF_NUM_INTRAOP_THREADS`` / ``TF_NUM_INTEROP_THREADS`` when its runtime starts);
    :mod:`tf.config.threading` covers a TensorFlow already loaded. (BLAS is limited per run,
    in :func:`_run_cell`.)
    """
    import os
    import sys

    os.environ["OMP_NUM_THREADS"] = os.environ["TF_NUM_INTRAOP_THREADS"] = str(n_threads)
    os.environ["TF_NUM_INTEROP_THREADS"] = "1"
    if "tensorflow" in sys.modules:
        import tensorflow as tf

        try:
            tf.config.threading.set_intra_op_parallelism_threads(n_threads)
            tf.config.threading.set_inter_op_parallelism_threads(1)
        except RuntimeError:  # the runtime has started; the limits set at its start hold
            pass


def _seed_everything(seed: int) -> None:
    """Seed Python, NumPy and (if loaded) Keras / TensorFlow, as ``keras.utils.set_random_seed``.

    A run must not depend on what its process ran before: serial and parallel sweeps run the
    cells in different processes and orders. Keras is not imported here just to seed it (a
    scikit-learn method should not pay for it); in a process without Keras, its global seed
    generator is created later from the Python seed set here, which is what ``set_random_seed``
    would give.
    """
    import random
    import sys

    random.seed(seed)
    np.random.seed(seed)
    if "keras" in sys.modules:
        import keras

        keras.utils.set_random_seed(seed)


def _run_cell(cell: _Cell, n_expected: int, caller_pid: int, tf_threads: int | None,
              blas_threads: int) -> dict[str, np.ndarray]:
    """Run one cell (in the caller or in a worker), store it in the cache, return its arrays.

    BLAS runs with ``blas_threads`` in every run, serial or parallel: a sum split over a
    different number of threads is rounded differently, and the numbers of a sweep must not
    depend on ``n_jobs``. TensorFlow's threads are limited in worker processes only.
    """
    import os

    from threadpoolctl import threadpool_limits

    if tf_threads is not None and os.getpid() != caller_pid:  # a worker process, never the caller
        _limit_threads(tf_threads)
    _seed_everything(cell.task.random_state)
    with threadpool_limits(limits=blas_threads, user_api="blas"):
        start = time.perf_counter()
        pred = np.asarray(cell.method(cell.task))
        seconds = time.perf_counter() - start
    if pred.shape != (n_expected,):
        raise ValueError(f"method {cell.method.name!r} returned {pred.shape} predictions; "
                         f"it must return one class per test image ({n_expected},).")
    out = {"pred": pred.astype(np.int64), "seconds": np.float64(seconds)}
    if cell.key is not None:  # stored by the worker, so an interrupted sweep resumes
        cache.store_arrays("evaluation-run", cell.key, out)
    return out


def _say(cell: _Cell, out: Mapping[str, np.ndarray], acc: float, cached: bool) -> None:
    flag = " (cached)" if cached else ""
    print(f"{cell.method.name:>28s}  {cell.budget:>4d}/class  draw {cell.draw}  "
          f"acc {acc:.3f}  {float(out['seconds']):6.1f} s{flag}", flush=True)


def _show_progress(progress: bool | None, n_runs: int) -> bool:
    if progress is None:  # a bar whenever a run has to be computed (even one can take minutes)
        return n_runs > 0
    return bool(progress)


def run_experiment(
    methods: Mapping[str, Any],
    x_pool: np.ndarray,
    y_pool: np.ndarray,
    x_test: np.ndarray,
    y_test: np.ndarray,
    *,
    budgets: Sequence[int],
    n_draws: int,
    random_state: int = 0,
    cache_params: Mapping[str, Any] | None = None,
    n_jobs: int | None = None,
    threads_per_job: int | None = None,
    progress: bool | None = None,
    verbose: bool = True,
) -> ExperimentResult:
    """Run every method on every label budget and draw; score each on the test set once.

    Parameters
    ----------
    methods : mapping name -> Method or callable
        Each gets a :class:`Task` and returns predicted test labels. The key is
        the method's name in the table and in the cache key.
    x_pool, y_pool : arrays
        The pool and its labels. Only the drawn labels reach a method; the
        rest of ``y_pool`` is used for nothing but drawing.
    x_test, y_test : arrays
        The test set; ``y_test`` scores the predictions and nothing else.
    budgets : sequence of int
        Labels per class.
    n_draws : int
        Independent label draws per budget (paired across methods).
    random_state : int
        Draw ``d`` uses seed ``random_state + d``.
    cache_params : mapping, optional
        Profile, dataset, ... identifying the data; when given, each finished
        run is stored with :func:`helpers.cache.store_arrays` (by the worker that
        ran it) and found there next time. ``None`` disables the cache.
    n_jobs : int, optional
        How many runs at once, through :class:`joblib.Parallel`. ``None`` lets
        :func:`joblib.parallel_config` decide (one at a time by default); inside
        ``joblib.parallel_config(backend="dask")`` the runs go to a
        ``dask.distributed`` cluster. Every run seeds itself and runs BLAS on
        ``threads_per_job`` threads (1 by default) wherever it runs, so the
        scikit-learn and NumPy methods give the serial numbers exactly. Keras
        methods give them exactly when each worker has as many TensorFlow
        threads as the serial process (``threads_per_job=os.cpu_count()`` on
        one machine); with fewer, TensorFlow sums in a different order and a
        few predictions of a network can change.
    threads_per_job : int, optional
        TensorFlow threads in each worker process, by default the machine's
        cores divided by the runs at once (so workers x threads <= cores); give
        it explicitly on a cluster of other machines, or set it to the cores of
        the machine for numbers identical to a serial run (see ``n_jobs``). BLAS (NumPy, SciPy,
        scikit-learn) uses this many threads in every run, serial or parallel,
        1 by default, so that the numbers do not depend on ``n_jobs``.
    progress : bool, optional
        A ``tqdm`` bar over the runs (written to stderr, which the HTML book
        drops). ``None``: shown whenever a run has to be computed.
    verbose : bool
        One line per run.

    Returns
    -------
    ExperimentResult
    """
    import os

    import joblib

    x_pool, y_pool = np.asarray(x_pool), np.asarray(y_pool)
    x_test, y_test = np.asarray(x_test), np.asarray(y_test)
    if len(x_pool) != len(y_pool):
        raise ValueError(f"x_pool and y_pool have different lengths: {len(x_pool)} and {len(y_pool)}.")
    if len(x_test) != len(y_test):
        raise ValueError(f"x_test and y_test have different lengths: {len(x_test)} and {len(y_test)}.")
    if not methods:
        raise ValueError("methods is empty: give at least one name -> method.")
    if isinstance(n_draws, bool) or not isinstance(n_draws, (int, np.integer)) or n_draws < 1:
        raise ValueError(f"n_draws must be a positive integer, got {n_draws!r}.")
    if n_jobs is not None and (isinstance(n_jobs, bool) or not isinstance(n_jobs, (int, np.integer))
                               or n_jobs == 0):
        raise ValueError(f"n_jobs must be None, a positive integer or -1 (all cores), got {n_jobs!r}.")
    if threads_per_job is not None:
        threads_per_job = check_int(threads_per_job, "threads_per_job", minimum=1)
    budgets = _check_budgets(budgets, y_pool)
    resolved = [_as_method(name, m) for name, m in methods.items()]
    n_classes = int(max(y_pool.max(), y_test.max())) + 1

    # 1. the cells, in a fixed order: budget -> draw -> method (one labeled subset per draw)
    cells = []
    for budget in budgets:
        for draw in range(int(n_draws)):
            seed = int(random_state) + draw
            _, y_lab, idx = data.sample_labeled_subset(x_pool, y_pool, budget, random_state=seed)
            task = Task(x_pool, idx, y_lab, x_test, n_classes, seed)
            for method in resolved:
                key = None if cache_params is None else {
                    **dict(cache_params), "method": method.name, "params": dict(method.params),
                    "budget": budget, "draw": draw, "seed": seed, "n_pool": len(y_pool),
                    "n_test": len(y_test)}
                cells.append(_Cell(method, budget, draw, task, key))

    # 2. what the cache already holds
    outs: list[dict[str, np.ndarray] | None] = [
        None if c.key is None else cache.load_arrays("evaluation-run", c.key) for c in cells]
    todo = [i for i, out in enumerate(outs) if out is None]

    # 3. the rest, one after the other or through joblib's active backend (loky, dask, ...)
    if todo:
        workers = joblib.effective_n_jobs(n_jobs)
        tf_threads = threads_per_job or (max(1, (os.cpu_count() or 1) // workers) if workers > 1
                                         else None)
        args = (len(y_test), os.getpid(), tf_threads, threads_per_job or 1)
        if workers == 1:
            results = (_run_cell(cells[i], *args) for i in todo)
        else:
            results = joblib.Parallel(n_jobs=n_jobs, return_as="generator")(
                joblib.delayed(_run_cell)(cells[i], *args) for i in todo)
        if _show_progress(progress, len(todo)):
            from tqdm.std import tqdm  # plain text on stderr: JupyterLab shows it, the HTML book not

            results = tqdm(results, total=len(todo), desc="runs", unit="run", mininterval=1.0)
        for i, out in zip(todo, results):
            outs[i] = out
            if verbose:
                _say(cells[i], out, float(np.mean(out["pred"] == y_test)), cached=False)

    # 4. the table, in the cells' order whatever order the runs finished in
    fresh = set(todo)
    rows, predictions = [], {}
    n_labels_per_budget = len(np.unique(y_pool))
    for i, (cell, out) in enumerate(zip(cells, outs)):
        pred = out["pred"]
        acc = float(np.mean(pred == y_test))
        rows.append({"method": cell.method.name, "labels_per_class": cell.budget,
                     "n_labels": cell.budget * n_labels_per_budget, "draw": cell.draw,
                     "accuracy": acc, "seconds": float(out["seconds"]), "cached": i not in fresh})
        predictions[(cell.method.name, cell.budget, cell.draw)] = pred
        if verbose and rows[-1]["cached"]:  # fresh runs were reported as they finished
            _say(cell, out, acc, cached=True)
    columns = ["method", "labels_per_class", "n_labels", "draw", "accuracy", "seconds", "cached"]
    return ExperimentResult(MetricsTable(rows, columns), predictions)


def _check_table(table: Sequence[Mapping[str, Any]], needed: set[str]) -> None:
    if not table:
        raise ValueError("the table is empty; pass run_experiment(...).table.")
    missing = needed - set(table[0])
    if missing:
        raise ValueError(f"table lacks column(s) {sorted(missing)}; pass run_experiment(...).table.")


def summarize(table: Sequence[Mapping[str, Any]]) -> MetricsTable:
    """Mean and standard deviation over draws of accuracy and seconds, per method and budget.

    The standard deviation is the sample one (``ddof=1``), and 0 with a single
    draw. Rows keep the order in which methods and budgets first appear.
    """
    _check_table(table, {"method", "labels_per_class", "n_labels", "accuracy", "seconds"})
    groups: dict[tuple[str, int, int], list[Mapping[str, Any]]] = {}
    for row in table:
        groups.setdefault((row["method"], row["labels_per_class"], row["n_labels"]), []).append(row)
    rows = []
    for (name, budget, n_labels), members in groups.items():
        acc = np.array([m["accuracy"] for m in members], dtype=float)
        rows.append({"method": name, "labels_per_class": budget, "n_labels": n_labels,
                     "accuracy_mean": float(acc.mean()),
                     "accuracy_std": float(acc.std(ddof=1)) if len(acc) > 1 else 0.0,
                     "seconds_mean": float(np.mean([m["seconds"] for m in members])),
                     "n_draws": len(acc)})
    return MetricsTable(rows, list(rows[0]))


def paired_differences(table: Sequence[Mapping[str, Any]], method: str,
                       baseline: str) -> MetricsTable:
    """Per budget: ``method``'s accuracy minus ``baseline``'s on the *same* draws.

    Returns a table with the mean, smallest and largest paired difference and
    how many draws ``method`` won.
    """
    _check_table(table, {"method", "labels_per_class", "draw", "accuracy"})
    names = {row["method"] for row in table}
    for name in (method, baseline):
        if name not in names:
            raise ValueError(f"unknown method {name!r}; the table has {sorted(names)}.")
    acc = {(r["method"], r["labels_per_class"], r["draw"]): r["accuracy"] for r in table}
    rows = []
    for budget in dict.fromkeys(r["labels_per_class"] for r in table):
        draws = sorted({d for (m, b, d) in acc if b == budget and m == method}
                       & {d for (m, b, d) in acc if b == budget and m == baseline})
        diff = np.array([acc[(method, budget, d)] - acc[(baseline, budget, d)] for d in draws])
        if len(diff) == 0:
            continue
        rows.append({"method": f"{method} - {baseline}", "labels_per_class": budget,
                     "mean_difference": float(diff.mean()), "min_difference": float(diff.min()),
                     "max_difference": float(diff.max()), "wins": int((diff > 0).sum()),
                     "draws": len(diff)})
    return MetricsTable(rows, list(rows[0]) if rows else None)


# ------------------------------------------------------------------ the baselines


def logistic_regression_on_pixels(C: float = 1.0, max_iter: int = 500) -> Method:
    """Baseline: multinomial logistic regression on the labeled images' pixels (scaled to [0, 1])."""
    from sklearn.linear_model import LogisticRegression

    def fit_predict(task: Task) -> np.ndarray:
        clf = LogisticRegression(C=C, max_iter=max_iter)
        clf.fit(data.to_vectors(task.x_labeled), task.y_labeled)
        return clf.predict(data.to_vectors(task.x_test))

    return Method("logistic regression (pixels)", fit_predict, {"C": C, "max_iter": max_iter})


def logistic_regression_on_features(
    features_pool: np.ndarray, features_test: np.ndarray, *, C: float = 0.1,
    name: str = "logistic regression (k-means features)", max_iter: int = 1000,
) -> Method:
    """Logistic regression on precomputed features (rows aligned with the pool and the test set).

    Features are standardised with statistics of the whole *pool* (no labels needed).
    """
    from sklearn.linear_model import LogisticRegression

    features_pool, features_test = np.asarray(features_pool), np.asarray(features_test)
    if features_pool.ndim != 2 or features_test.ndim != 2 or \
            features_pool.shape[1] != features_test.shape[1]:
        raise ValueError(f"features_pool and features_test must be 2-D with the same number of "
                         f"columns, got {features_pool.shape} and {features_test.shape}.")
    mean = features_pool.mean(0)
    scale = features_pool.std(0) + 1e-6

    def fit_predict(task: Task) -> np.ndarray:
        if len(features_pool) != len(task.x_pool) or len(features_test) != len(task.x_test):
            raise ValueError("the features' rows do not match the task's pool and test set.")
        clf = LogisticRegression(C=C, max_iter=max_iter)
        clf.fit((features_pool[task.labeled_idx] - mean) / scale, task.y_labeled)
        return clf.predict((features_test - mean) / scale)

    return Method(name, fit_predict, {"C": C, "max_iter": max_iter,
                                      "features": [list(features_pool.shape), float(mean.sum())]})


# ------------------------------------------------------------------ the book's networks
# One definition per method. Every chapter builds "CNN from scratch" and "the article's recipe"
# with the factories below and these settings, so the same method on the same label draw gives
# the same number, from the same cache entry, wherever it appears.

#: Convolution filters and dense units of the book's small CNN (chapter 4).
NETWORK_FILTERS: tuple[int, ...] = (16, 32)
NETWORK_DENSE_UNITS = 64
#: Mini-batch size on a labeled budget, and the fewest optimiser steps an epoch takes (tiny
#: budgets are repeated, see :func:`helpers.training.repeat_to_steps`).
BATCH_SIZE = 16
MIN_STEPS = 10
#: Adam's step size for a new head on frozen features, then for all layers (ten times below 1e-3).
HEAD_LEARNING_RATE = 1e-2
FULL_LEARNING_RATE = 1e-4
#: The recipe's pretraining on cluster ids: passes over the pool, mini-batch size, and k-means
#: on a PCA projection.
RECIPE_PRETRAIN_EPOCHS = 3
PRETRAIN_BATCH_SIZE = 64
KMEANS_PCA, KMEANS_N_INIT = 50, 3


def default_patience(epochs: int) -> int:
    """Early-stopping patience for a run of at most ``epochs`` epochs: ``max(3, epochs // 6)``."""
    return max(3, int(epochs) // 6)


def _check_schedule(epochs: int, batch_size: int, min_steps: int | None) -> None:
    """Fail when a factory is built, not in the middle of a sweep."""
    from .validation import check_int

    check_int(epochs, "epochs")
    check_int(batch_size, "batch_size")
    if min_steps is not None:
        check_int(min_steps, "min_steps_per_epoch")


def _patience(patience: int | str, epochs: int) -> int:
    if patience == "auto":
        return default_patience(epochs)
    if isinstance(patience, bool) or not isinstance(patience, (int, np.integer)) or patience < 1:
        raise ValueError(f"patience must be a positive integer or 'auto', got {patience!r}.")
    return int(patience)


def network_input_shape(images: np.ndarray) -> tuple[int, ...]:
    """The input shape the book's CNN needs for ``images`` (as :func:`helpers.data.to_tensors`
    prepares them): ``(28, 28, 1)`` for Fashion-MNIST, ``(8, 8, 1)`` for scikit-learn's digits."""
    images = np.asarray(images)
    if images.ndim < 3 or len(images) == 0:
        raise ValueError(f"expected a non-empty stack of images (n, h, w), got shape {images.shape}.")
    return tuple(int(d) for d in data.to_tensors(images[:1]).shape[1:])


def _small_cnn(n_classes: int, seed: int, filters: Sequence[int] = NETWORK_FILTERS,
               dense_units: int = NETWORK_DENSE_UNITS,
               input_shape: Sequence[int] | None = None) -> Any:
    """The book's CNN with fresh weights drawn from ``seed``; ``input_shape`` from the data
    (:func:`network_input_shape`; ``None`` means 28 x 28 x 1)."""
    import keras

    from . import models

    keras.utils.set_random_seed(int(seed))
    shape = (28, 28, 1) if input_shape is None else tuple(input_shape)
    return models.build_cnn(shape, n_classes, filters=tuple(filters), dense_units=dense_units)


def cnn_from_scratch(
    *, epochs: int, patience: int | str = "auto", batch_size: int = BATCH_SIZE,
    min_steps_per_epoch: int | None = MIN_STEPS, filters: Sequence[int] = NETWORK_FILTERS,
    dense_units: int = NETWORK_DENSE_UNITS, name: str = "CNN from scratch",
) -> Method:
    """Baseline: chapter 4's small CNN trained on the labeled images alone.

    Early stopping watches a fifth of the labeled budget (stratified); with one
    label per class there is nothing to hold out and all ``epochs`` run.
    ``patience="auto"`` is :func:`default_patience`. The input shape comes from
    the task's images.
    """
    from . import training

    _check_schedule(epochs, batch_size, min_steps_per_epoch)
    patience = _patience(patience, epochs)

    def fit_predict(task: Task) -> np.ndarray:
        net = _small_cnn(task.n_classes, task.random_state, filters, dense_units,
                         network_input_shape(task.x_pool))
        training.fit_classifier(net, data.to_tensors(task.x_labeled), task.y_labeled, epochs=epochs,
                                batch_size=batch_size, patience=patience,
                                min_steps_per_epoch=min_steps_per_epoch,
                                random_state=task.random_state, verbose=0)
        return training.predict_classes(net, data.to_tensors(task.x_test))

    return Method(name, fit_predict, {"epochs": epochs, "patience": patience, "batch_size": batch_size,
                                      "min_steps": min_steps_per_epoch, "filters": list(filters),
                                      "dense_units": dense_units})


def fine_tuned_network(
    pretrained: Any, *, epochs: int, patience: int | str = "auto", batch_size: int = BATCH_SIZE,
    head_learning_rate: float = HEAD_LEARNING_RATE, full_learning_rate: float = FULL_LEARNING_RATE,
    min_steps_per_epoch: int | None = MIN_STEPS, mode: str = "full",
    name: str = "article's recipe (k-means ids, fine-tuned)", tag: str = "",
) -> Method:
    """Fine-tune a pretrained network on the labels: a new head on frozen features, then
    (``mode="full"``) all layers at a small learning rate (:func:`helpers.training.fine_tune`).

    ``pretrained`` is either a Keras model (shared by every run, e.g. chapter
    4's network pretrained on k-means ids, :func:`cluster_pretrained_cnn`) or a
    callable ``task -> model`` that builds one per run. ``mode="linear_probe"``
    stops after the new head. ``tag`` names the pretrained weights in the cache
    key; for a model it defaults to a fingerprint of its weights, so the same
    weights give the same cache entry in every chapter.
    """
    from . import training

    if mode not in ("full", "linear_probe"):
        raise ValueError(f"mode must be 'full' or 'linear_probe', got {mode!r}.")
    is_model = hasattr(pretrained, "layers")
    if not is_model and not callable(pretrained):
        raise TypeError("pretrained must be a Keras model or a callable task -> model, got "
                        f"{type(pretrained).__name__}.")
    if is_model and not tag:
        tag = cache.fingerprint(*pretrained.get_weights())
    _check_schedule(epochs, batch_size, min_steps_per_epoch)
    patience = _patience(patience, epochs)

    def fit_predict(task: Task) -> np.ndarray:
        base = pretrained if is_model else pretrained(task)
        net, _ = training.fine_tune(
            base, data.to_tensors(task.x_labeled), task.y_labeled, n_classes=task.n_classes,
            mode=mode, head_epochs=epochs, full_epochs=epochs, batch_size=batch_size,
            head_learning_rate=head_learning_rate, full_learning_rate=full_learning_rate,
            patience=patience, min_steps_per_epoch=min_steps_per_epoch,
            random_state=task.random_state, verbose=0)
        return training.predict_classes(net, data.to_tensors(task.x_test))

    params = {"epochs": epochs, "patience": patience, "batch_size": batch_size,
              "head_lr": head_learning_rate, "full_lr": full_learning_rate,
              "min_steps": min_steps_per_epoch, "pretrained": tag}
    if mode != "full":
        params["mode"] = mode
    return Method(name, fit_predict, params)


def first_layers_transferred(
    source: Any, k: int, *, freeze: bool, epochs: int, patience: int | str = "auto",
    batch_size: int = BATCH_SIZE, min_steps_per_epoch: int | None = MIN_STEPS,
    name: str | None = None,
) -> Method:
    """Yosinski et al.'s experiment: the first ``k`` weight-holding layers of ``source`` copied
    into a fresh CNN of the same architecture (frozen or not), the rest random, trained on the
    labels (:func:`helpers.training.transfer_first_layers`). ``source`` must have the book's
    architecture (:func:`_small_cnn`; only the head may differ). With the same settings, ``k=0``
    gives exactly :func:`cnn_from_scratch`'s network.
    """
    from . import training

    if not hasattr(source, "layers"):
        raise TypeError(f"source must be a Keras model, got {type(source).__name__}.")
    _check_schedule(epochs, batch_size, min_steps_per_epoch)
    patience = _patience(patience, epochs)

    def fit_predict(task: Task) -> np.ndarray:
        net = _small_cnn(task.n_classes, task.random_state, input_shape=network_input_shape(task.x_pool))
        training.transfer_first_layers(source, net, k, freeze=freeze)
        training.fit_classifier(net, data.to_tensors(task.x_labeled), task.y_labeled, epochs=epochs,
                                batch_size=batch_size, patience=patience,
                                min_steps_per_epoch=min_steps_per_epoch,
                                random_state=task.random_state, verbose=0)
        return training.predict_classes(net, data.to_tensors(task.x_test))

    mode = "frozen" if freeze else "fine-tuned"
    return Method(name or f"first {k} layers copied, {mode}", fit_predict,
                  {"k": int(k), "freeze": bool(freeze), "epochs": epochs, "patience": patience,
                   "batch_size": batch_size, "min_steps": min_steps_per_epoch,
                   "source": cache.fingerprint(*source.get_weights())})


def kmeans_ids(x_pool: np.ndarray, n_clusters: int = 10, *, random_state: int,
               cache_params: Mapping[str, Any] | None = None) -> np.ndarray:
    """The article's pseudo-labels: k-means cluster ids of the pool's pixels (on a PCA
    projection of ``KMEANS_PCA`` components, ``KMEANS_N_INIT`` starts), cached when
    ``cache_params`` is given."""
    from . import clustering

    def compute() -> dict[str, np.ndarray]:
        return {"ids": clustering.kmeans_labels(data.to_vectors(x_pool), n_clusters,
                                                n_init=KMEANS_N_INIT, random_state=random_state,
                                                pca_components=KMEANS_PCA)}

    if cache_params is None:
        return compute()["ids"]
    key = {**dict(cache_params), "k": int(n_clusters), "pca": KMEANS_PCA, "n_init": KMEANS_N_INIT}
    return cache.cached_arrays("ch04-kmeans-ids", key, compute, verbose=False)["ids"]


class ClusterPretrained(NamedTuple):
    """What :func:`cluster_pretrained_cnn` returns."""

    model: Any
    ids: np.ndarray
    history: Any


def cluster_pretrained_cnn(
    x_pool: np.ndarray, n_clusters: int = 10, *, random_state: int,
    epochs: int = RECIPE_PRETRAIN_EPOCHS, cache_params: Mapping[str, Any] | None = None,
    verbose: int = 0,
) -> ClusterPretrained:
    """The article's recipe, step 1: the book's CNN trained to predict each pool image's k-means
    cluster id (:func:`kmeans_ids`). Weights and ids are cached when ``cache_params`` is given,
    so every chapter that shows the recipe reuses one trained copy.

    Fine-tune the result with :func:`fine_tuned_network` (the recipe's step 2)::

        recipe = cluster_pretrained_cnn(x_pool, random_state=0, cache_params=key)
        method = fine_tuned_network(recipe.model, epochs=15)

    ``epochs`` defaults to ``RECIPE_PRETRAIN_EPOCHS`` in every profile: leave it, so that every
    chapter shares one trained copy.
    """
    from . import training

    ids = kmeans_ids(x_pool, n_clusters, random_state=random_state, cache_params=cache_params)
    net = _small_cnn(int(n_clusters), random_state, input_shape=network_input_shape(x_pool))
    history = training.pretrain_on_pseudo_labels(
        net, data.to_tensors(x_pool), ids, epochs=epochs, batch_size=PRETRAIN_BATCH_SIZE,
        random_state=random_state, verbose=verbose,
        cache_params=None if cache_params is None else {**dict(cache_params), "recipe": 1},
        cache_name="recipe-pretraining")
    return ClusterPretrained(net, ids, history)


def _alpha(s: Any, task: Task, alpha: float | str) -> float:
    if alpha == "auto":
        from . import semi_supervised as ssl

        return ssl.choose_alpha(s, task.labeled_idx, task.y_labeled, n_classes=task.n_classes,
                                random_state=task.random_state)
    if isinstance(alpha, str):
        raise ValueError(f"alpha must be a number in (0, 1) or 'auto', got {alpha!r}.")
    return float(alpha)


def label_spreading_on_graph(
    pool_neighbors: np.ndarray, query_neighbors: np.ndarray, *, alpha: float | str = "auto",
    n_iter: int = 50, name: str = "label spreading (k-means features)", tag: str = "",
) -> Method:
    """Spread the labels over a prebuilt kNN graph of the pool; predict a test image from its
    pool neighbours (see :mod:`helpers.semi_supervised`). ``tag`` names the graph in the cache key.

    ``alpha="auto"`` picks it per run by cross-validation inside the labeled budget
    (:func:`helpers.semi_supervised.choose_alpha`)."""
    from . import semi_supervised as ssl

    s = ssl.spreading_matrix(pool_neighbors)

    def fit_predict(task: Task) -> np.ndarray:
        if len(pool_neighbors) != len(task.x_pool) or len(query_neighbors) != len(task.x_test):
            raise ValueError("the graph's rows do not match the task's pool and test set.")
        spread = ssl.spread_on_graph(s, task.labeled_idx, task.y_labeled, n_classes=task.n_classes,
                                     alpha=_alpha(s, task, alpha), n_iter=n_iter)
        return ssl.predict_from_neighbors(spread.distributions, query_neighbors)

    return Method(name, fit_predict, {"alpha": alpha, "n_iter": n_iter, "graph": tag,
                                      "k": int(np.asarray(pool_neighbors).shape[1])})


def teacher_student(
    pool_neighbors: np.ndarray, *, epochs: int, keep: float = 0.8, alpha: float | str = "auto",
    n_iter: int = 50, batch_size: int = 128, filters: Sequence[int] = (16, 32),
    dense_units: int = 64, cache_params: Mapping[str, Any] | None = None,
    name: str = "teacher -> student CNN", tag: str = "",
) -> Method:
    """Spread the labels over the pool's graph (teacher), keep the most confident share of every
    pseudo-class, and train chapter 4's CNN on them (student); the student predicts the test set.

    With ``cache_params`` the student's weights are cached per labeled draw (the key includes a
    fingerprint of the pseudo-labels), so chapter 5's student is reused by chapter 7.
    """
    from . import semi_supervised as ssl
    from . import training

    s = ssl.spreading_matrix(pool_neighbors)

    def fit_predict(task: Task) -> np.ndarray:
        if len(pool_neighbors) != len(task.x_pool):
            raise ValueError("the graph's rows do not match the task's pool.")
        spread = ssl.spread_on_graph(s, task.labeled_idx, task.y_labeled, n_classes=task.n_classes,
                                     alpha=_alpha(s, task, alpha), n_iter=n_iter)
        kept = ssl.select_confident(spread.confidence, spread.labels, keep)
        net = _small_cnn(task.n_classes, task.random_state, filters, dense_units,
                         network_input_shape(task.x_pool))
        x_pool = data.to_tensors(task.x_pool)
        training.pretrain_on_pseudo_labels(
            net, x_pool[kept], spread.labels[kept], epochs=epochs, batch_size=batch_size,
            random_state=task.random_state, cache_params=cache_params, cache_name="student",
            verbose=0)
        return training.predict_classes(net, data.to_tensors(task.x_test))

    return Method(name, fit_predict, {"epochs": epochs, "keep": keep, "alpha": alpha,
                                      "n_iter": n_iter, "batch_size": batch_size,
                                      "filters": list(filters), "dense_units": dense_units,
                                      "graph": tag, "k": int(np.asarray(pool_neighbors).shape[1])})


def _warm_start(net: Any, init: Any) -> None:
    """Copy ``init``'s weights into ``net``, layer by layer by name, except the ``"head"``.

    The head of a network pretrained on the pool predicts pseudo-classes (e.g. k-means ids)
    whose order means nothing for the true classes, so ``net`` keeps its own, seeded head.
    """
    source = {layer.name: layer for layer in init.layers}
    copied = 0
    for layer in net.layers:
        if layer.name == "head" or not layer.weights or layer.name not in source:
            continue
        weights = source[layer.name].get_weights()
        if [w.shape for w in weights] != [tuple(w.shape) for w in layer.weights]:
            raise ValueError(f"init's layer {layer.name!r} has weights of shapes "
                             f"{[w.shape for w in weights]}, the student's "
                             f"{[tuple(w.shape) for w in layer.weights]}; build init with the "
                             "same filters and dense_units.")
        layer.set_weights(weights)
        copied += 1
    if copied == 0:
        raise ValueError("init shares no layer with the student; pass a network built by "
                         "helpers.models.build_cnn with the same filters and dense_units.")


def propagation_student(
    pool_neighbors: np.ndarray, *, rounds: int = 3, epochs_per_round: int = 4,
    alpha: float | str = "auto", round_alpha: float = 0.99, n_iter: int = 50, max_shift: int = 2,
    flip: bool = True, batch_size: int = 128, filters: Sequence[int] = (16, 32), dense_units: int = 64,
    init: Any = None, init_tag: str = "", cache_params: Mapping[str, Any] | None = None,
    name: str = "propagation <-> student CNN", tag: str = "",
) -> Method:
    """Chapter 5's best method: spread the labels over the pool's graph (the first teacher), then
    alternate training chapter 4's CNN on augmented images with weighted pseudo-labels and
    re-spreading the labels over a graph of the network's features
    (:func:`helpers.self_training.propagate_and_train`); the last student predicts the test set.

    ``alpha`` is the first teacher's (``"auto"``: cross-validated inside the labeled budget),
    ``round_alpha`` that of the graphs rebuilt between rounds (fixed: the network has seen the
    labeled images, so cross-validating on them is biased). ``flip`` mirrors training images
    (right for clothes, wrong for digits). With ``cache_params`` the student is cached per labeled
    draw, so chapter 5's run is reused by chapter 7.

    ``init`` (optional) is a network of the same architecture already trained on the pool
    without labels, e.g. chapter 4's network pretrained on k-means ids: every draw's student
    then starts from its weights (a fresh head) instead of from random ones, so that fewer
    rounds and epochs suffice. That pretraining does not depend on the labels and is paid once
    for every draw and budget. ``init_tag`` names its weights in the cache key.
    """
    from . import self_training
    from . import semi_supervised as ssl
    from . import training

    s = ssl.spreading_matrix(pool_neighbors)  # label-independent: built once for every run
    k = int(np.asarray(pool_neighbors).shape[1])
    if init is not None and not init_tag:
        init_tag = cache.fingerprint(*init.get_weights())
    student_key = None if cache_params is None else (
        dict(cache_params) if init is None else {**dict(cache_params), "init": init_tag})

    def fit_predict(task: Task) -> np.ndarray:
        if len(pool_neighbors) != len(task.x_pool):
            raise ValueError("the graph's rows do not match the task's pool.")
        teacher = ssl.spread_on_graph(s, task.labeled_idx, task.y_labeled,
                                      n_classes=task.n_classes, alpha=_alpha(s, task, alpha),
                                      n_iter=n_iter)
        net = _small_cnn(task.n_classes, task.random_state, filters, dense_units,
                         input_shape=network_input_shape(task.x_pool))
        if init is not None:
            _warm_start(net, init)
        self_training.propagate_and_train(
            net, data.to_tensors(task.x_pool), task.labeled_idx, task.y_labeled,
            teacher.distributions, rounds=rounds, epochs_per_round=epochs_per_round,
            n_neighbors=k, alpha=round_alpha, max_shift=max_shift, flip=flip, batch_size=batch_size,
            random_state=task.random_state, cache_params=student_key)
        return training.predict_classes(net, data.to_tensors(task.x_test))

    params = {"rounds": rounds, "epochs_per_round": epochs_per_round, "alpha": alpha,
              "round_alpha": round_alpha, "n_iter": n_iter, "max_shift": max_shift, "flip": flip,
              "batch_size": batch_size, "filters": list(filters), "dense_units": dense_units,
              "graph": tag, "k": k}
    if init is not None:  # keys of runs without a warm start stay as they were
        params["init"] = init_tag
    return Method(name, fit_predict, params)
