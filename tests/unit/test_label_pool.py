import csv

import numpy as np
import pytest

from helpers import config, data, label_pool
from helpers import semi_supervised as ssl

SMALL = {"n_centroids": 16, "n_patches": 3000}  # patch features small enough for a unit test


@pytest.fixture
def demo(tmp_path, monkeypatch):
    """A folder of 12x12 digits, 3 labeled per class, 80 unlabeled, some in colour."""
    monkeypatch.setenv(config.CACHE_ENV, str(tmp_path / "cache"))
    truth = data.write_demo_folder(tmp_path / "pool", n_labeled_per_class=3, n_unlabeled=80,
                                   size=12, vary_size=False, random_state=1)
    return tmp_path / "pool", truth


def test_as_grey_matches_pillow_luminance():
    from PIL import Image

    rgb = np.random.default_rng(0).integers(0, 256, (2, 5, 6, 3)).astype(np.uint8)
    grey = label_pool.as_grey(rgb)
    pil = np.stack([np.asarray(Image.fromarray(im).convert("L")) for im in rgb])
    assert grey.shape == (2, 5, 6) and grey.dtype == np.uint8
    assert np.abs(grey.astype(int) - pil).max() <= 1
    assert label_pool.as_grey(rgb[..., :1]).shape == (2, 5, 6)
    assert label_pool.as_grey(grey) is grey
    with pytest.raises(ValueError, match=r"\(n, h, w\)"):
        label_pool.as_grey(np.zeros((4, 4)))


def test_least_confident_orders_and_restricts():
    conf = np.array([0.9, 0.1, 0.5, 0.3, 0.2])
    assert label_pool.least_confident(conf, 3).tolist() == [1, 4, 3]
    assert label_pool.least_confident(conf, 2, candidates=[0, 2, 3]).tolist() == [3, 2]
    assert label_pool.least_confident(conf, 0).tolist() == []
    with pytest.raises(ValueError, match="n"):
        label_pool.least_confident(conf, -1)


def two_blob_graph():
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal(0, 0.3, (30, 2)), rng.normal(5, 0.3, (30, 2))])
    y = np.repeat([0, 1], 30)
    s, _ = label_pool.build_graph(x, n_neighbors=5, n_components=None)
    return s, y


def test_cross_validated_accuracy_on_separable_blobs():
    s, y = two_blob_graph()
    idx = np.array([0, 1, 2, 30, 31, 32])
    est = label_pool.cross_validated_accuracy(s, idx, y[idx], n_folds=5)
    assert est.method == "cross-validation" and len(est.fold_accuracies) == 3  # 3 labels per class
    assert est.accuracy == 1.0 and est.spread == 0.0 and est.n_labels == 6
    assert "3-fold cross-validation inside the 6 labels" in est.describe()


def test_cross_validation_catches_a_mislabeled_image():
    s, y = two_blob_graph()
    idx = np.array([0, 1, 2, 3, 30, 31, 32, 33])
    labels = y[idx].copy()
    labels[0] = 1  # one wrong label in blob 0
    est = label_pool.cross_validated_accuracy(s, idx, labels, n_folds=4)
    assert est.accuracy < 1.0 and est.spread > 0


def test_cross_validation_needs_two_labels_per_class():
    s, y = two_blob_graph()
    with pytest.raises(ValueError, match="at least two labeled images per class"):
        label_pool.cross_validated_accuracy(s, np.array([0, 1, 30]), np.array([0, 0, 1]))
    with pytest.raises(ValueError, match="n_folds"):
        label_pool.cross_validated_accuracy(s, np.array([0, 1, 30, 31]), np.array([0, 0, 1, 1]),
                                            n_folds=1)


def test_label_pool_on_a_folder(demo):
    root, truth = demo
    result = label_pool.label_pool(root, n_suggestions=7, feature_params=SMALL)
    assert len(result.paths) == 80 and result.labels.shape == (80,)
    assert result.class_names == tuple(str(d) for d in range(10))
    assert ((result.confidence > 0) & (result.confidence <= 1)).all()
    nxt = result.label_next
    assert len(nxt) == 7 and result.confidence[nxt].max() <= np.delete(result.confidence, nxt).min()
    true = np.array([truth[p] for p in result.paths])
    assert np.mean(result.labels == true) > 0.5  # ten classes: chance is 0.1
    assert result.accuracy.method == "cross-validation" and result.accuracy.n_labels == 30
    assert 0.2 < result.accuracy.accuracy <= 1.0 and 0.5 <= result.alpha < 1


def test_label_pool_uses_a_test_folder(tmp_path, monkeypatch):
    monkeypatch.setenv(config.CACHE_ENV, str(tmp_path / "cache"))
    data.write_demo_folder(tmp_path / "pool", n_labeled_per_class=3, n_unlabeled=60,
                           n_test_per_class=2, size=12, vary_size=False)
    result = label_pool.label_pool(tmp_path / "pool", feature_params=SMALL)
    assert result.accuracy.method == "test set" and result.accuracy.n_labels == 20
    assert "test/ folder" in result.accuracy.describe()


def test_one_label_in_a_class_still_labels_the_pool(tmp_path, monkeypatch):
    monkeypatch.setenv(config.CACHE_ENV, str(tmp_path / "cache"))
    data.write_demo_folder(tmp_path / "pool", n_labeled_per_class=2, n_unlabeled=40, size=10,
                           vary_size=False)
    extra = sorted((tmp_path / "pool" / "labeled" / "3").iterdir())[1]
    extra.rename(tmp_path / "pool" / "unlabeled" / "moved.png")  # class 3 keeps one label
    result = label_pool.label_pool(tmp_path / "pool", feature_params=SMALL)
    assert result.accuracy is None and "at least two labeled images" in result.accuracy_note
    assert len(result.paths) == 41
    out = tmp_path / "labels.csv"
    monkeypatch.setattr(label_pool.features, "book_params", lambda profile: {"patch_size": 5, **SMALL})
    assert label_pool.main([str(tmp_path / "pool"), "--out", str(out)]) == 0
    assert out.exists()


def test_label_pool_without_unlabeled_images(tmp_path):
    data.write_demo_folder(tmp_path / "pool", n_labeled_per_class=2, n_unlabeled=0, size=8,
                           vary_size=False)
    with pytest.raises(ValueError, match="unlabeled/"):
        label_pool.label_pool(tmp_path / "pool", feature_params=SMALL)


def test_features_are_cached_by_content(demo):
    root, _ = demo
    folder = data.load_image_folder(root)
    pool = np.concatenate([folder.x_labeled, folder.x_unlabeled])
    first, none = label_pool.pool_features(pool, random_state=0, **SMALL)
    again, _ = label_pool.pool_features(pool, random_state=0, **SMALL)
    assert none is None and (first == again).all() and first.shape == (110, 64)
    changed = pool.copy()
    changed[0] = 255 - changed[0]
    other, _ = label_pool.pool_features(changed, random_state=0, **SMALL)
    assert not np.allclose(other, first)  # a new key, not the stale entry


def read_csv(path):
    with open(path, newline="") as handle:
        return list(csv.reader(handle))


def test_csv_is_written_whole_and_never_replaced_silently(demo, tmp_path):
    root, _ = demo
    result = label_pool.label_pool(root, n_suggestions=3, feature_params=SMALL)
    out = result.write_csv(tmp_path / "labels.csv")
    rows = read_csv(out)
    assert rows[0] == list(label_pool.CSV_COLUMNS) and len(rows) == 81
    ranked = sorted((int(r[3]), r[0]) for r in rows[1:] if r[3])
    assert [p for _, p in ranked] == [result.paths[i] for i in result.label_next]
    assert {r[1] for r in rows[1:]} <= set(result.class_names)
    out.write_text("my notes")
    with pytest.raises(FileExistsError, match="overwrite=True"):
        result.write_csv(out)
    assert out.read_text() == "my notes"
    result.write_csv(out, overwrite=True)
    assert len(read_csv(out)) == 81
    with pytest.raises(ValueError, match=".csv"):
        result.write_csv(tmp_path / "labels.txt")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        result.write_csv(tmp_path / "no" / "labels.csv")
    with pytest.raises(ValueError, match="is a folder"):
        (tmp_path / "dir.csv").mkdir()
        result.write_csv(tmp_path / "dir.csv")


def test_command_line(demo, tmp_path, capsys, monkeypatch):
    root, _ = demo
    monkeypatch.setattr(label_pool.features, "book_params", lambda profile: {"patch_size": 5, **SMALL})
    out = tmp_path / "labels.csv"
    assert label_pool.main([str(root), "--out", str(out), "--suggest", "2", "--profile", "quick"]) == 0
    printed = capsys.readouterr().out
    assert "estimated accuracy" in printed and "label these next" in printed
    assert len(read_csv(out)) == 81
    out.write_text("keep me")
    assert label_pool.main([str(root), "--out", str(out)]) == 2
    assert "already exists" in capsys.readouterr().out and out.read_text() == "keep me"
    assert label_pool.main([str(tmp_path / "nowhere"), "--out", str(tmp_path / "x.csv")]) == 2
    assert "does not exist" in capsys.readouterr().out
    assert not (tmp_path / "x.csv").exists()


def test_compare_labeling_strategies_is_paired(demo):
    root, truth = demo
    folder = data.load_image_folder(root)
    pool = np.concatenate([folder.x_labeled, folder.x_unlabeled])
    y = np.array([truth[p] for p in folder.paths_labeled + folder.paths_unlabeled])
    f, _ = label_pool.pool_features(pool, **SMALL)
    s, query = label_pool.build_graph(f[:90], f[90:], n_neighbors=5)
    out = label_pool.compare_labeling_strategies(s, y[:90], query, y[90:], n_start_per_class=1,
                                                 n_rounds=2, batch_size=5, n_draws=2)
    assert out["n_labels"].tolist() == [10, 15, 20]
    assert out["uncertainty"].shape == out["random"].shape == (2, 3)
    assert (out["uncertainty"][:, 0] == out["random"][:, 0]).all()  # the same starting labels
    assert ((out["random"] >= 0) & (out["random"] <= 1)).all()
    with pytest.raises(ValueError, match="strategies"):
        label_pool.compare_labeling_strategies(s, y[:90], query, y[90:], strategies=("margin",))
    with pytest.raises(ValueError, match="exceed"):
        label_pool.compare_labeling_strategies(s, y[:90], query, y[90:], n_rounds=50, batch_size=5)


def test_build_graph_clamps_neighbours_on_a_tiny_pool():
    x = np.random.default_rng(0).normal(size=(4, 3))
    s, q = label_pool.build_graph(x, x[:2], n_neighbors=10, n_components=None)
    assert s.shape == (4, 4) and q.shape == (2, 3)
    res = ssl.spread_on_graph(s, np.array([0, 1]), np.array([0, 1]))
    assert res.labels.shape == (4,)
