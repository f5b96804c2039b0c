"""Tests of helpers.challenges: masking, imputation, imbalance, per-class recall, compute sweeps."""

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest

from helpers import challenges as ch
from helpers import plotting


@pytest.fixture
def images():
    rng = np.random.default_rng(0)
    return rng.integers(1, 256, size=(20, 10, 10)).astype(np.uint8)


# ------------------------------------------------------------------ masking


@pytest.mark.parametrize("share", [0.0, 0.1, 0.5, 1.0])
def test_random_mask_hides_exact_share(images, share):
    masked, mask = ch.mask_pixels(images, share, kind="random", random_state=1)
    assert mask.shape == images.shape and mask.dtype == bool
    assert (mask.sum(axis=(1, 2)) == round(share * 100)).all()
    assert masked.dtype == images.dtype
    assert (masked[mask] == 0).all() and (masked[~mask] == images[~mask]).all()


def test_block_mask_is_one_square(images):
    _, mask = ch.mask_pixels(images, 0.25, kind="block", random_state=2)
    for m in mask:
        rows, cols = np.flatnonzero(m.any(axis=1)), np.flatnonzero(m.any(axis=0))
        assert len(rows) == len(cols) == 5 and m.sum() == 25
        assert m[rows.min():rows.max() + 1, cols.min():cols.max() + 1].all()


def test_masks_are_reproducible_and_differ_between_images(images):
    a = ch.mask_pixels(images, 0.3, random_state=5)[1]
    b = ch.mask_pixels(images, 0.3, random_state=5)[1]
    assert (a == b).all()
    assert not (a[0] == a[1]).all()


def test_mask_does_not_modify_input(images):
    before = images.copy()
    ch.mask_pixels(images, 0.5, random_state=0)
    assert (images == before).all()


@pytest.mark.parametrize("share", [-0.1, 1.5, 50, float("nan"), "0.5", True])
def test_mask_rejects_bad_share(images, share):
    with pytest.raises((ValueError, TypeError), match="share"):
        ch.mask_pixels(images, share)


def test_mask_rejects_bad_kind_and_shape(images):
    with pytest.raises(ValueError, match="kind"):
        ch.mask_pixels(images, 0.2, kind="stripes")
    with pytest.raises(ValueError, match="shape"):
        ch.mask_pixels(images.reshape(20, -1), 0.2)


# --------------------------------------------------------------- imputation


def test_mean_imputation_uses_observed_pixels_only():
    x = np.array([[[10.0, 0.0]], [[30.0, 8.0]], [[99.0, 4.0]]])
    mask = np.array([[[False, False]], [[False, False]], [[True, True]]])
    filled = ch.impute(x, mask, strategy="mean")
    assert filled[2, 0, 0] == pytest.approx(20.0) and filled[2, 0, 1] == pytest.approx(4.0)
    assert (filled[:2] == x[:2]).all()


def test_mean_imputation_with_reference_and_never_observed_pixel():
    ref = np.array([[[2.0, 0.0]], [[4.0, 0.0]]])
    ref_mask = np.array([[[False, True]], [[False, True]]])  # second pixel never observed
    target = np.zeros((1, 1, 2))
    filled = ch.impute(target, np.ones((1, 1, 2), bool), strategy="mean", reference=(ref, ref_mask))
    assert filled.tolist() == [[[3.0, 3.0]]]  # unobserved pixel gets the overall observed mean


def test_zero_and_knn_imputation(images):
    masked, mask = ch.mask_pixels(images, 0.2, random_state=0)
    masked[mask] = 77
    assert (ch.impute(masked, mask, strategy="zero")[mask] == 0).all()
    filled = ch.impute(masked, mask, strategy="knn", n_neighbors=3)
    assert filled.shape == images.shape and np.isfinite(filled).all()
    assert (filled[~mask] == images[~mask]).all()


def test_impute_rejects_bad_input(images):
    mask = np.zeros(images.shape, bool)
    with pytest.raises(ValueError, match="strategy"):
        ch.impute(images, mask, strategy="median")
    with pytest.raises(ValueError, match="boolean"):
        ch.impute(images, mask.astype(int))
    with pytest.raises(ValueError, match="boolean"):
        ch.impute(images, mask[:5])


def test_mask_augment_keeps_originals_and_sources(images):
    aug, source = ch.mask_augment(images, copies=2, share=0.3, random_state=0)
    assert aug.shape == (60, 10, 10) and source.tolist() == list(range(20)) * 3
    assert (aug[:20] == images).all() and (aug[20:] == 0).any()
    with pytest.raises(ValueError, match="copies"):
        ch.mask_augment(images, copies=-1, share=0.3)
    with pytest.raises(TypeError, match="copies"):
        ch.mask_augment(images, copies=1.5, share=0.3)


# ---------------------------------------------------------------- imbalance


def test_geometric_class_sizes():
    sizes = ch.geometric_class_sizes(1000, 10, 10)
    assert sizes[0] == 1000 and sizes[-1] == 100 and (np.diff(sizes) <= 0).all()
    assert (ch.geometric_class_sizes(50, 4, 1) == 50).all()


@pytest.mark.parametrize("ratio", [0.5, 0, -3, float("inf")])
def test_bad_imbalance_ratio(ratio):
    with pytest.raises(ValueError, match="imbalance_ratio"):
        ch.geometric_class_sizes(100, 5, ratio)


def test_imbalanced_indices_follow_the_order():
    y = np.repeat(np.arange(5), 40)
    idx = ch.imbalanced_indices(y, 8, order=[4, 3, 2, 1, 0], random_state=0)
    counts = np.bincount(y[idx], minlength=5)
    assert counts[4] == 40 and counts[0] == 5 and len(np.unique(idx)) == len(idx)
    again = ch.imbalanced_indices(y, 8, order=[4, 3, 2, 1, 0], random_state=0)
    assert (idx == again).all()


def test_imbalanced_indices_bad_input():
    y = np.repeat(np.arange(3), 10)
    with pytest.raises(ValueError, match="order"):
        ch.imbalanced_indices(y, 2, order=[0, 1])
    with pytest.raises(ValueError, match="too small"):
        ch.imbalanced_indices(y, 2, n_max=11)
    with pytest.raises(ValueError, match="two classes"):
        ch.imbalanced_indices(np.zeros(5, int), 2)
    with pytest.raises(TypeError, match="integer"):
        ch.imbalanced_indices(y.astype(float), 2)
    with pytest.raises(ValueError, match="empty"):
        ch.imbalanced_indices(np.array([], dtype=int), 2)


def test_imbalanced_label_budget():
    y = np.array([0] * 90 + [1] * 9 + [2] * 1)
    idx = ch.imbalanced_label_budget(y, 20, min_per_class=1, random_state=0)
    assert len(idx) == 20 and len(np.unique(idx)) == 20
    assert set(y[idx]) == {0, 1, 2}
    with pytest.raises(ValueError, match="n_labels"):
        ch.imbalanced_label_budget(y, 2, min_per_class=1)
    with pytest.raises(ValueError, match="n_labels"):
        ch.imbalanced_label_budget(y, 101)
    with pytest.raises(ValueError, match="min_per_class"):
        ch.imbalanced_label_budget(y, 10, min_per_class=2)


def test_cluster_stratified_indices_spread_over_clusters():
    clusters = np.array([0] * 100 + [1] * 10 + [2] * 2)
    idx = ch.cluster_stratified_indices(clusters, 12, random_state=0)
    assert len(idx) == 12 and len(np.unique(idx)) == 12
    counts = np.bincount(clusters[idx], minlength=3)
    assert counts[2] == 2 and counts[1] >= 4 and counts[0] >= 4  # the small cluster gives all it has
    assert (ch.cluster_stratified_indices(clusters, 12, random_state=0) == idx).all()


def test_cluster_stratified_indices_even_quota_is_the_plain_numpy_recipe():
    # what chapter 8 writes out in view: k equal quotas, drawn cluster by cluster, then shuffled
    clusters = np.repeat(np.arange(4), 25)
    rng = np.random.default_rng(3)
    picks = [rng.choice(np.flatnonzero(clusters == c), 5, replace=False) for c in range(4)]
    expected = rng.permutation(np.concatenate(picks))
    assert (ch.cluster_stratified_indices(clusters, 20, random_state=3) == expected).all()


def test_cluster_stratified_indices_remainder_and_bad_input():
    clusters = np.repeat(np.arange(3), 10)
    counts = np.bincount(clusters[ch.cluster_stratified_indices(clusters, 7, random_state=1)])
    assert sorted(counts.tolist()) == [2, 2, 3]
    with pytest.raises(ValueError, match="n_labels"):
        ch.cluster_stratified_indices(clusters, 0)
    with pytest.raises(TypeError, match="n_labels"):
        ch.cluster_stratified_indices(clusters, 2.5)
    with pytest.raises(ValueError, match="exceeds"):
        ch.cluster_stratified_indices(clusters, 500)


def test_per_class_recall():
    y_true = np.array([0, 0, 1, 1, 2])
    y_pred = np.array([0, 1, 1, 1, 0])
    rec = ch.per_class_recall(y_true, y_pred, n_classes=4)
    assert rec[:3].tolist() == [0.5, 1.0, 0.0] and np.isnan(rec[3])
    with pytest.raises(ValueError, match="same length"):
        ch.per_class_recall(y_true, y_pred[:3])


def test_clusters_per_class_split_and_swallowed():
    y = np.array([0] * 6 + [1] * 2)
    clusters = np.array([0, 0, 0, 1, 1, 1, 1, 1])  # class 0 owns both, class 1 none
    assert ch.clusters_per_class(y, clusters).tolist() == [2, 0]
    with pytest.raises(ValueError, match="same length"):
        ch.clusters_per_class(y, clusters[:3])


# ------------------------------------------------------------------ sweeps


def test_run_compute_sweep_records_and_times():
    calls = []

    def build():
        return {"seen": 0}

    def train(learner, x):
        learner["seen"] += len(x)
        calls.append(len(x))

    records = ch.run_compute_sweep(build, train, lambda learner: learner["seen"],
                                   np.zeros((40, 3)), [10, 40], [1, 3], random_state=0)
    assert [(r["pool_size"], r["epochs"], r["score"]) for r in records] == [
        (10, 1, 10), (10, 3, 30), (40, 1, 40), (40, 3, 120)]
    assert calls == [10] * 3 + [40] * 3
    assert all(r["seconds"] >= 0 for r in records)
    assert records[1]["seconds"] >= records[0]["seconds"]


def test_run_compute_sweep_bad_input():
    args = (dict, lambda a, b: None, lambda a: 0.0, np.zeros((5, 2)))
    with pytest.raises(ValueError, match="exceeds"):
        ch.run_compute_sweep(*args, [10], [1])
    with pytest.raises(ValueError, match="checkpoint"):
        ch.run_compute_sweep(*args, [5], [0])
    with pytest.raises(ValueError, match="at least one"):
        ch.run_compute_sweep(*args, [], [1])


def test_missing_data_sweep_and_plot(images):
    def evaluate(pool, test):
        assert pool.dtype == np.float32 and pool.shape == images.shape
        return {"dark": float((pool == 0).mean()), "n_test": len(test)}

    records = ch.missing_data_sweep(images, images[:5], evaluate, (0.0, 0.5),
                                    strategies=("zero", "mean"), random_state=0)
    assert len(records) == 2 * 2 * 2
    clean = [r for r in records if r["share"] == 0]
    assert all(r["dark"] == 0 for r in clean)
    zero = next(r for r in records if r["share"] == 0.5 and r["strategy"] == "zero" and r["kind"] == "random")
    mean = next(r for r in records if r["share"] == 0.5 and r["strategy"] == "mean" and r["kind"] == "random")
    assert zero["dark"] == pytest.approx(0.5) and mean["dark"] == 0
    fig = plotting.plot_records(records, "share", "dark", ["kind", "strategy"])
    assert len(fig.axes[0].lines) == 4
    with pytest.raises(ValueError, match="no key"):
        plotting.plot_records(records, "share", "accuracy", "kind")
    with pytest.raises(ValueError, match="strategies"):
        ch.missing_data_sweep(images, images, evaluate, (0.1,), strategies=("median",))
    with pytest.raises(ValueError, match="share"):
        ch.missing_data_sweep(images, images, evaluate, (2.0,))


# ------------------------------------------------------- the in-view recipes of chapter 8


def test_random_mask_is_the_k_smallest_random_keys(images):
    # chapter 8 writes the random mask as argsort of one random key per pixel
    n, h, w = images.shape
    keys = np.random.default_rng(4).random((n, h * w))
    hidden = np.argsort(keys, axis=1)[:, :30]
    expected = np.zeros((n, h * w), bool)
    np.put_along_axis(expected, hidden, True, axis=1)
    assert (ch.mask_pixels(images, 0.3, random_state=4)[1] == expected.reshape(n, h, w)).all()


def test_mean_imputation_agrees_with_simple_imputer(images):
    from sklearn.impute import SimpleImputer

    masked, mask = ch.mask_pixels(images, 0.4, random_state=0)
    flat = np.where(mask, np.nan, masked.astype(float)).reshape(len(images), -1)
    expected = SimpleImputer(strategy="mean").fit_transform(flat).reshape(images.shape)
    np.testing.assert_allclose(ch.impute(masked, mask, strategy="mean"), expected, rtol=1e-5)


def test_label_budget_is_one_per_class_then_random():
    y = np.array([0] * 50 + [1] * 30 + [2] * 5)
    rng = np.random.default_rng(9)
    first = np.concatenate([rng.choice(np.flatnonzero(y == c), 1, replace=False) for c in range(3)])
    rest = rng.choice(np.setdiff1d(np.arange(len(y)), first), 7, replace=False)
    expected = rng.permutation(np.concatenate([first, rest]))
    assert (ch.imbalanced_label_budget(y, 10, random_state=9) == expected).all()


def test_per_class_recall_mean_is_balanced_accuracy():
    from sklearn.metrics import balanced_accuracy_score

    rng = np.random.default_rng(0)
    y_true, y_pred = rng.integers(0, 4, 200), rng.integers(0, 4, 200)
    rec = ch.per_class_recall(y_true, y_pred)
    assert rec.mean() == pytest.approx(balanced_accuracy_score(y_true, y_pred))


def test_check_images_messages(images):
    with pytest.raises(ValueError, match=r"\(n, height, width, channels\)"):
        ch.mask_pixels(images[..., None, None], 0.2)
    with pytest.raises(TypeError, match="numbers"):
        ch.mask_pixels(np.array([[["a"]]]), 0.2)


@pytest.mark.parametrize("kind", ["random", "block"])
def test_colour_images_lose_every_channel_of_a_hidden_pixel(images, kind):
    colour = np.stack([images, images // 2, 255 - images], axis=-1)
    masked, mask = ch.mask_pixels(colour, 0.3, kind=kind, random_state=3)
    _, grey_mask = ch.mask_pixels(images, 0.3, kind=kind, random_state=3)
    assert mask.shape == colour.shape and masked.dtype == colour.dtype
    assert (mask == grey_mask[..., None]).all()  # the same pixels as a grey image, in all channels
    assert (masked[mask] == 0).all() and (masked[~mask] == colour[~mask]).all()
    for strategy in ("zero", "mean", "knn"):
        filled = ch.impute(masked, mask, strategy=strategy)
        assert filled.shape == colour.shape and (filled[~mask] == colour[~mask]).all()
    # the mean fill is per position and channel, as for grey images channel by channel
    filled = ch.impute(masked, mask, strategy="mean")
    for c in range(3):
        expected = ch.impute(masked[..., c], mask[..., c], strategy="mean")
        np.testing.assert_allclose(filled[..., c], expected)
    augmented, source = ch.mask_augment(colour, 2, 0.2, random_state=0)
    assert augmented.shape == (3 * len(colour), *colour.shape[1:]) and (source < len(colour)).all()
