"""Label your own pool: a folder of images and a handful of labels in; labels, an honest
accuracy estimate and the images most worth labeling next out.

The method is the book's cheap workhorse (chapter 5): k-means patch features
(:class:`helpers.features.PatchKMeansFeatures`), a nearest-neighbour graph of
the whole folder (:func:`helpers.semi_supervised.nearest_neighbors`,
:func:`~helpers.semi_supervised.spreading_matrix`), and label spreading over it
(:func:`~helpers.semi_supervised.spread_on_graph`, with ``alpha`` chosen by
:func:`~helpers.semi_supervised.choose_alpha` from the labels alone). Every
step uses the unlabeled images; only the spreading uses the labels.

* :func:`label_pool` runs it all on a folder (see
  :func:`helpers.data.load_image_folder` for the layout) and returns
  :class:`PoolLabels`: a class and a confidence for every unlabeled image,
  the least confident ones (label those next), and the accuracy estimate.
* :func:`cross_validated_accuracy` is that estimate when there is no
  ``test/`` folder: the labeled images are split into folds, each fold is
  hidden in turn, the others are spread, and the hidden labels score the
  result. The spread across folds is reported with the mean.
* :func:`compare_labeling_strategies` simulates rounds of labeling on a pool
  whose labels are all known: the least confident images (active learning by
  uncertainty) against random images, from the same starting labels.
* ``python -m helpers.label_pool FOLDER --out labels.csv`` does the same from
  a shell and writes a CSV with ``path, predicted_class, confidence, label_next``.

Colour images are turned grey (ITU-R 601 luminance, as Pillow's ``"L"`` mode)
before the patch features, which read one channel.

Example
-------
>>> result = label_pool("my_photos", image_size=64)            # doctest: +SKIP
>>> result.accuracy.describe()                                   # doctest: +SKIP
'81.0 % (5-fold cross-validation inside the 50 labels; folds 70.0-90.0 %)'
>>> result.write_csv("labels.csv")                               # doctest: +SKIP
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from . import cache, config, data, features
from . import semi_supervised as ssl
from .validation import check_int, check_labels

__all__ = [
    "AccuracyEstimate",
    "PoolLabels",
    "as_grey",
    "pool_features",
    "build_graph",
    "spread_with_chosen_alpha",
    "cross_validated_accuracy",
    "least_confident",
    "label_pool",
    "write_predictions_csv",
    "compare_labeling_strategies",
    "main",
]

#: Luminance weights of red, green and blue (ITU-R 601, Pillow's "L" conversion).
LUMINANCE = np.array([0.299, 0.587, 0.114], dtype=np.float32)
CSV_COLUMNS = ("path", "predicted_class", "confidence", "label_next")


def as_grey(images: Any) -> np.ndarray:
    """Colour images ``(n, h, w, 3)`` to grey ``(n, h, w)`` by luminance; grey ones pass through.

    ``uint8`` stays ``uint8`` (rounded); floats stay floats. An alpha channel is dropped.
    """
    x = np.asarray(images)
    if x.ndim == 4 and x.shape[-1] == 1:
        return x[..., 0]
    if x.ndim == 4 and x.shape[-1] in (3, 4):
        grey = x[..., :3].astype(np.float32) @ LUMINANCE
        return np.clip(np.round(grey), 0, 255).astype(np.uint8) if x.dtype == np.uint8 else grey
    if x.ndim == 3:
        return x
    raise ValueError(f"images must be (n, h, w) or (n, h, w, channels), got shape {x.shape}.")


def pool_features(
    images: Any,
    images_query: Any | None = None,
    *,
    profile: str | None = None,
    random_state: int = 0,
    use_cache: bool = True,
    verbose: bool = False,
    **params: Any,
) -> tuple[np.ndarray, np.ndarray | None]:
    """k-means patch features of a pool (fitted on it, no labels) and of optional query images.

    The hyper-parameters default to the book's for ``profile``
    (:func:`helpers.features.book_params`); ``params`` override them. The result
    is cached under a fingerprint of the pixels themselves, so editing the
    folder never returns stale features.

    Returns
    -------
    features, features_query : float32 arrays ``(n, d)`` and ``(m, d)`` or ``None``
    """
    x = as_grey(images)
    xq = None if images_query is None else as_grey(images_query)
    if xq is not None and xq.shape[1:] != x.shape[1:]:
        raise ValueError(f"query images are {xq.shape[1:]}, the pool's {x.shape[1:]}; load both "
                         "with the same image_size.")
    chosen = {**features.book_params(profile or config.get_profile().name), **params}
    learner = features.PatchKMeansFeatures(random_state=random_state, **chosen)

    def compute() -> dict[str, np.ndarray]:
        learner.fit(x)
        out = {"pool": learner.transform(x)}
        if xq is not None:
            out["query"] = (learner.transform(xq) if len(xq)
                            else np.zeros((0, learner.n_features_out), np.float32))
        return out

    if not use_cache:
        result = compute()
    else:
        key = {"images": cache.fingerprint(x),
               "query": None if xq is None else cache.fingerprint(xq), **learner.get_params()}
        result = cache.cached_arrays("label-pool-features", key, compute, verbose=verbose)
    return result["pool"], result.get("query")


def build_graph(
    pool: Any, query: Any | None = None, *, n_neighbors: int = 10, n_components: int | None = 64,
    random_state: int = 0,
) -> tuple[Any, np.ndarray | None]:
    """The spreading graph of the pool, and the pool neighbours of query samples.

    Standardise and project (:func:`~helpers.semi_supervised.prepare_graph_space`),
    link each sample to its ``n_neighbors`` nearest (at most ``n - 1``), and
    normalise (:func:`~helpers.semi_supervised.spreading_matrix`).

    Returns
    -------
    s : scipy.sparse matrix (n, n)
    query_neighbors : int array (m, k) or None
    """
    n_neighbors = check_int(n_neighbors, "n_neighbors")
    pool = np.asarray(pool)
    has_query = query is not None and len(query) > 0
    z, zq = ssl.prepare_graph_space(pool, n_components, x_query=query if has_query else None,
                                    random_state=random_state)
    neighbors, query_neighbors = ssl.nearest_neighbors(z, min(n_neighbors, len(z) - 1), x_query=zq)
    return ssl.spreading_matrix(neighbors), query_neighbors


def spread_with_chosen_alpha(
    s: Any, labeled_idx: Any, labels: Any, *, n_classes: int, random_state: int = 0,
) -> tuple[ssl.SpreadResult, float]:
    """Spread ``labels`` over ``s`` with ``alpha`` chosen by cross-validation inside the labels."""
    alpha = ssl.choose_alpha(s, labeled_idx, labels, n_classes=n_classes, random_state=random_state)
    return ssl.spread_on_graph(s, labeled_idx, labels, n_classes=n_classes, alpha=alpha), alpha


@dataclass
class AccuracyEstimate:
    """How accurate the spread labels are estimated to be.

    Attributes
    ----------
    accuracy : float
        The estimate, a share in [0, 1] (the mean over folds for cross-validation).
    fold_accuracies : array
        One accuracy per fold (a single entry for a test set).
    method : str
        ``"test set"`` or ``"cross-validation"``.
    n_labels : int
        Labels the estimate rests on (test images, or labeled images split into folds).
    """

    accuracy: float
    fold_accuracies: np.ndarray
    method: str
    n_labels: int

    @property
    def spread(self) -> float:
        """Standard deviation across folds (0 for a test set)."""
        return float(np.std(self.fold_accuracies))

    def describe(self) -> str:
        """One sentence: the estimate, what it rests on, and how much the folds disagree."""
        if self.method == "test set":
            return f"{100 * self.accuracy:.1f} % (on the {self.n_labels} images of the test/ folder)"
        lo, hi = 100 * np.min(self.fold_accuracies), 100 * np.max(self.fold_accuracies)
        return (f"{100 * self.accuracy:.1f} % ({len(self.fold_accuracies)}-fold cross-validation "
                f"inside the {self.n_labels} labels; folds {lo:.1f}-{hi:.1f} %)")


def cross_validated_accuracy(
    s: Any, labeled_idx: Any, labels: Any, *, n_folds: int = 5, n_classes: int | None = None,
    random_state: int = 0,
) -> AccuracyEstimate:
    """Estimate the accuracy of label spreading with no test set: cross-validation inside the labels.

    The labels are split into ``n_folds`` stratified folds (fewer when a class
    has fewer labels). Each fold is hidden in turn; ``alpha`` is chosen and
    the labels spread from the other folds only, and the hidden labels score
    the result. The estimate is slightly pessimistic (each fold spreads from
    ``(k - 1) / k`` of the labels), and it is only as representative as the
    labeled images are of the pool: after labeling the *hardest* images
    (:func:`least_confident`) it underestimates.

    Raises
    ------
    ValueError
        If a class has fewer than two labels (nothing could be held out).
    """
    from sklearn.model_selection import StratifiedKFold

    labeled_idx = np.asarray(labeled_idx)
    labels = check_labels(labels, "labels", n=len(labeled_idx), n_classes=n_classes)
    n_folds = check_int(n_folds, "n_folds", minimum=2)
    n_classes = int(labels.max()) + 1 if n_classes is None else int(n_classes)
    counts = np.bincount(labels, minlength=n_classes)
    if counts.min() < 2:
        raise ValueError(
            f"Class {int(counts.argmin())} has {counts.min()} label(s): cross-validation needs at "
            "least two labeled images per class, one to keep and one to hide. Label one more "
            "image of that class, or add a test/ folder.")
    folds = StratifiedKFold(n_splits=int(min(n_folds, counts.min())), shuffle=True,
                            random_state=random_state)
    scores = []
    for keep, hide in folds.split(labeled_idx, labels):
        result, _ = spread_with_chosen_alpha(s, labeled_idx[keep], labels[keep],
                                             n_classes=n_classes, random_state=random_state)
        scores.append(float(np.mean(result.labels[labeled_idx[hide]] == labels[hide])))
    return AccuracyEstimate(float(np.mean(scores)), np.array(scores), "cross-validation", len(labels))


def least_confident(confidence: Any, n: int, candidates: Any | None = None) -> np.ndarray:
    """The ``n`` positions with the lowest confidence (among ``candidates``), least confident first."""
    confidence = np.asarray(confidence, dtype=np.float64)
    n = check_int(n, "n", minimum=0)
    pool = np.arange(len(confidence)) if candidates is None else np.asarray(candidates)
    order = np.argsort(confidence[pool], kind="stable")
    return pool[order[:n]]


@dataclass
class PoolLabels:
    """What :func:`label_pool` returns: a label for every unlabeled image, and what to label next.

    Attributes
    ----------
    paths : list of str
        The unlabeled images, in the order of the arrays below.
    labels : int array (n,)
        Predicted class ids (into ``class_names``).
    confidence : float array (n,)
        The height of each image's label distribution, in (0, 1]; low means unsure.
    label_next : int array
        Positions (into ``paths``) of the least confident images, least confident first.
    accuracy : AccuracyEstimate or None
        ``None`` when it cannot be estimated (no ``test/`` folder and a class
        with a single label); ``accuracy_note`` then says why.
    alpha : float
        The spreading weight chosen from the labels.
    class_names : tuple of str
    accuracy_note : str
    """

    paths: list[str]
    labels: np.ndarray
    confidence: np.ndarray
    label_next: np.ndarray
    accuracy: AccuracyEstimate | None
    alpha: float
    class_names: tuple[str, ...]
    accuracy_note: str = ""

    @property
    def predicted_names(self) -> list[str]:
        """The predicted class of every unlabeled image, by name."""
        return [self.class_names[i] for i in self.labels]

    def write_csv(self, path: str | os.PathLike, *, overwrite: bool = False) -> Path:
        """Write ``path, predicted_class, confidence, label_next``; see :func:`write_predictions_csv`."""
        return write_predictions_csv(self, path, overwrite=overwrite)


def _check_out_path(path: str | os.PathLike, overwrite: bool) -> Path:
    out = Path(path).expanduser()
    if out.suffix.lower() != ".csv":
        raise ValueError(f"{out} does not end in .csv; name the output file e.g. labels.csv.")
    if out.is_dir():
        raise ValueError(f"{out} is a folder; give a file name such as {out / 'labels.csv'}.")
    if out.exists() and not overwrite:
        raise FileExistsError(f"{out} already exists and was left as it is. Choose another name, "
                              "or pass overwrite=True (--overwrite on the command line) to replace it.")
    if not out.parent.is_dir():
        raise FileNotFoundError(f"The folder {out.parent} does not exist; create it first.")
    return out


def write_predictions_csv(result: PoolLabels, path: str | os.PathLike, *, overwrite: bool = False) -> Path:
    """One row per unlabeled image: its path, predicted class, confidence and ``label_next`` rank.

    ``label_next`` is 1 for the image most worth labeling, 2 for the next, and
    empty for images not suggested. An existing file is never replaced unless
    ``overwrite=True``; the file is written whole or not at all.
    """
    out = _check_out_path(path, overwrite)
    rank = {int(i): r + 1 for r, i in enumerate(result.label_next)}
    tmp = out.with_name(out.name + ".part")
    with open(tmp, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(CSV_COLUMNS)
        for i, (p, name, conf) in enumerate(zip(result.paths, result.predicted_names, result.confidence)):
            writer.writerow([p, name, f"{conf:.4f}", rank.get(i, "")])
    os.replace(tmp, out)
    return out


def label_pool(
    folder: data.ImageFolder | str | os.PathLike,
    *,
    image_size: int | tuple[int, int] | None = None,
    n_suggestions: int = 20,
    n_neighbors: int = 10,
    n_folds: int = 5,
    profile: str | None = None,
    random_state: int = 0,
    feature_params: dict[str, Any] | None = None,
    use_cache: bool = True,
    verbose: bool = False,
    **load_options: Any,
) -> PoolLabels:
    """Label every unlabeled image of a folder, estimate the accuracy, and say what to label next.

    Parameters
    ----------
    folder : ImageFolder or path
        A folder laid out as :func:`helpers.data.load_image_folder` reads it
        (or what that function returned).
    image_size : int or (h, w), optional
        Passed to the loader.
    n_suggestions : int
        How many of the least confident images to suggest for labeling.
    n_neighbors : int
        Edges per image in the graph.
    n_folds : int
        Folds of the cross-validation estimate (used when there is no ``test/``).
    profile : str, optional
        Whose patch-feature hyper-parameters to use (default: ``BOOK_PROFILE``).
    random_state : int
    feature_params : dict, optional
        Overrides of :class:`~helpers.features.PatchKMeansFeatures`' parameters.
    use_cache, verbose : bool
    **load_options
        More options for the loader (``skip_unreadable``, ``allow_upscaling``, ``progress``...).

    Raises
    ------
    helpers.data.ImageFolderError
        For a folder that cannot be read as it is (the message says what to do).
    ValueError
        When there is no unlabeled image. (Too few labels to estimate the accuracy
        is no error: ``accuracy`` is then ``None`` and ``accuracy_note`` says why.)
    """
    if not isinstance(folder, data.ImageFolder):
        folder = data.load_image_folder(folder, image_size=image_size, **load_options)
    n_suggestions = check_int(n_suggestions, "n_suggestions", minimum=0)
    if len(folder.paths_unlabeled) == 0:
        raise ValueError(f"{folder.root} has no unlabeled images, so there is nothing to label: "
                         "put the pool under unlabeled/.")
    n_labeled, n_classes = len(folder.y_labeled), len(folder.class_names)
    pool = np.concatenate([folder.x_labeled, folder.x_unlabeled])
    f_pool, f_test = pool_features(pool, folder.x_test, profile=profile, random_state=random_state,
                                   use_cache=use_cache, verbose=verbose, **(feature_params or {}))
    s, test_neighbors = build_graph(f_pool, f_test, n_neighbors=n_neighbors, random_state=random_state)
    labeled_idx = np.arange(n_labeled)
    note = ""
    result, alpha = spread_with_chosen_alpha(s, labeled_idx, folder.y_labeled, n_classes=n_classes,
                                             random_state=random_state)
    if test_neighbors is not None and len(test_neighbors):
        predicted = ssl.predict_from_neighbors(result.distributions, test_neighbors)
        acc = float(np.mean(predicted == folder.y_test))
        estimate = AccuracyEstimate(acc, np.array([acc]), "test set", len(folder.y_test))
    else:
        try:
            estimate = cross_validated_accuracy(s, labeled_idx, folder.y_labeled, n_folds=n_folds,
                                                n_classes=n_classes, random_state=random_state)
        except ValueError as err:  # a class with one label: still label the pool, say why no estimate
            estimate, note = None, str(err)
    confidence = result.confidence[n_labeled:]
    return PoolLabels(paths=list(folder.paths_unlabeled), labels=result.labels[n_labeled:],
                      confidence=confidence, label_next=least_confident(confidence, n_suggestions),
                      accuracy=estimate, alpha=alpha, class_names=folder.class_names,
                      accuracy_note=note)


def compare_labeling_strategies(
    s: Any,
    y_pool: Any,
    query_neighbors: Any,
    y_query: Any,
    *,
    n_start_per_class: int = 2,
    n_rounds: int = 4,
    batch_size: int = 20,
    n_draws: int = 3,
    strategies: Sequence[str] = ("uncertainty", "random"),
    random_state: int = 0,
) -> dict[str, np.ndarray]:
    """Simulate rounds of labeling on a pool whose labels are all known: which images to label next?

    Each draw starts from the same ``n_start_per_class`` random labels per
    class for every strategy (paired draws). Each round spreads the labels
    (``alpha`` chosen from them), scores the query set through its pool
    neighbours, then labels ``batch_size`` more pool images: the least
    confident ones (``"uncertainty"``) or random ones (``"random"``).

    Returns
    -------
    dict
        ``"n_labels"``: labels used at each round, shape ``(n_rounds + 1,)``;
        one entry per strategy: query accuracy, shape ``(n_draws, n_rounds + 1)``.
    """
    y_pool = check_labels(y_pool, "y_pool", n=s.shape[0])
    y_query = check_labels(y_query, "y_query", n=len(query_neighbors))
    n_rounds = check_int(n_rounds, "n_rounds", minimum=0)
    batch_size = check_int(batch_size, "batch_size")
    n_draws = check_int(n_draws, "n_draws")
    unknown = set(strategies) - {"uncertainty", "random"}
    if unknown or not strategies:
        raise ValueError(f"strategies must be among 'uncertainty' and 'random', got {list(strategies)}.")
    n_classes = int(y_pool.max()) + 1
    n_start = check_int(n_start_per_class, "n_start_per_class") * n_classes
    if n_start + n_rounds * batch_size > len(y_pool):
        raise ValueError(f"{n_start} starting labels plus {n_rounds} rounds of {batch_size} exceed "
                         f"the pool of {len(y_pool)} images; use fewer rounds or a smaller batch.")
    out = {name: np.zeros((n_draws, n_rounds + 1)) for name in strategies}
    for draw in range(n_draws):
        start = data.sample_labeled_subset(np.arange(len(y_pool)), y_pool, n_start_per_class,
                                           random_state=random_state + draw)[2]
        for name in strategies:
            rng = np.random.default_rng(random_state + 1000 + draw)
            labeled = start.copy()
            for r in range(n_rounds + 1):
                result, _ = spread_with_chosen_alpha(s, labeled, y_pool[labeled], n_classes=n_classes,
                                                     random_state=random_state)
                predicted = ssl.predict_from_neighbors(result.distributions, query_neighbors)
                out[name][draw, r] = np.mean(predicted == y_query)
                if r == n_rounds:
                    break
                rest = np.setdiff1d(np.arange(len(y_pool)), labeled)
                new = (least_confident(result.confidence, batch_size, rest) if name == "uncertainty"
                       else rng.choice(rest, size=batch_size, replace=False))
                labeled = np.concatenate([labeled, new])
    out["n_labels"] = n_start + batch_size * np.arange(n_rounds + 1)
    return out


def main(argv: list[str] | None = None) -> int:
    """``python -m helpers.label_pool FOLDER --out labels.csv``: label a folder's unlabeled images.

    Prints the accuracy estimate and the images to label next; exits 0 on
    success and 2 with a message (no traceback) when the input cannot be used.
    """
    import argparse

    parser = argparse.ArgumentParser(
        prog="python -m helpers.label_pool",
        description="Spread a few labels over a folder of images: write a CSV with a class and a "
                    "confidence for every unlabeled image, estimate the accuracy, and list the "
                    "images most worth labeling next. Layout: FOLDER/labeled/<class>/..., "
                    "FOLDER/unlabeled/..., optional FOLDER/test/<class>/...")
    parser.add_argument("folder")
    parser.add_argument("--out", required=True, help="the CSV file to write (never replaced "
                        "unless --overwrite)")
    parser.add_argument("--image-size", default=None, help="resize to this size, e.g. 32 or 48x64 "
                        "(needed when the images differ in size)")
    parser.add_argument("--suggest", type=int, default=20, help="how many images to suggest labeling next")
    parser.add_argument("--neighbors", type=int, default=10, help="edges per image in the graph")
    parser.add_argument("--profile", default=None, choices=sorted(config.PROFILES),
                        help="patch-feature size: quick (faster) or full (default: $BOOK_PROFILE or full)")
    parser.add_argument("--skip-unreadable", action="store_true", help="skip (and list) corrupt images")
    parser.add_argument("--allow-upscaling", action="store_true", help="enlarge images smaller than the size")
    parser.add_argument("--overwrite", action="store_true", help="replace the CSV if it exists")
    args = parser.parse_args(argv)
    try:
        _check_out_path(args.out, args.overwrite)  # fail before the work, not after
        folder = data.load_image_folder(args.folder, image_size=config.get_image_size(args.image_size),
                                        skip_unreadable=args.skip_unreadable,
                                        allow_upscaling=args.allow_upscaling, progress=True)
        print(folder.describe())
        for path, why in folder.skipped:
            print(f"  skipped {path}: {why}")
        result = label_pool(folder, n_suggestions=args.suggest, n_neighbors=args.neighbors,
                            profile=args.profile, verbose=False)
        out = result.write_csv(args.out, overwrite=args.overwrite)
    except (ValueError, FileExistsError, FileNotFoundError) as err:
        print(f"error: {err}")
        return 2
    if result.accuracy is not None:
        print(f"estimated accuracy: {result.accuracy.describe()}")
    else:
        print(f"no accuracy estimate: {result.accuracy_note}")
    print(f"wrote {len(result.paths):,} predicted labels to {out}")
    if len(result.label_next):
        print("label these next (least confident first):")
        for i in result.label_next:
            print(f"  {result.paths[i]}  (guess {result.class_names[result.labels[i]]}, "
                  f"confidence {result.confidence[i]:.2f})")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
