"""Time one sweep with n_jobs=1 and n_jobs=2: what running the runs in parallel buys here.

The sweep is the one the appendix "When one machine is not enough" times: logistic regression on
pixels, label budgets 50 and 100 per class, four draws, nothing cached. Run it as a script (it
prints one JSON line) or call :func:`measure`.

Usage::

    BOOK_PROFILE=quick python benchmarks/parallel.py
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def measure(n_jobs: tuple[int, ...] = (1, 2), dataset: str | None = None,
            method: str = "logistic regression") -> dict:
    """Seconds of the sweep for each ``n_jobs``, and the ratio of the first to the last.

    ``method="logistic regression"`` is the appendix's sweep (runs of a fraction of a second);
    ``method="CNN"`` times chapter 7's CNN from scratch at 10 and 50 labels per class, two draws
    (runs of seconds, each worker importing TensorFlow once).
    """
    from helpers import config, data, evaluation

    settings = config.setup(dataset=dataset, verbose=False)
    (x_pool, y_pool), (x_test, y_test), _ = data.load_profile_data(settings.profile,
                                                                    settings.dataset)
    if method == "CNN":
        epochs = settings.profile.epochs
        methods = {"CNN from scratch": evaluation.cnn_from_scratch(
            epochs=epochs, patience=max(3, epochs // 6))}
        sweep = dict(budgets=(10, 50), n_draws=2)
    else:
        methods = {"logistic regression (pixels)": evaluation.logistic_regression_on_pixels()}
        sweep = dict(budgets=(50, 100), n_draws=4)
    seconds, accuracies = {}, {}
    for n in n_jobs:
        start = time.perf_counter()
        result = evaluation.run_experiment(methods, x_pool, y_pool, x_test, y_test, **sweep,
                                           random_state=settings.seed, cache_params=None,
                                           n_jobs=n, verbose=False, progress=False)
        seconds[n] = time.perf_counter() - start
        accuracies[n] = [r["accuracy"] for r in result.table]
    first, last = n_jobs[0], n_jobs[-1]
    return {f"n_jobs_{n}_s": s for n, s in seconds.items()} | {
        "ratio": seconds[first] / seconds[last], "runs": len(accuracies[first]),
        "same_numbers": all(a == accuracies[first] for a in accuracies.values()),
        "profile": settings.profile.name, "dataset": settings.dataset, "method": method}


if __name__ == "__main__":
    print(json.dumps({"logistic regression": measure(), "CNN": measure(method="CNN")}))
