import gzip

import numpy as np
import pytest

from helpers import config, data


# ----------------------------------------------------------------- loading files


def test_loads_idx_files_from_env_dir(fake_idx_dir):
    folder, arrays = fake_idx_dir
    (x, y), (xt, yt), names = data.load_dataset("fashion_mnist", allow_download=False)
    assert x.dtype == np.uint8 and x.shape == (50, 28, 28)
    assert (x == arrays["x_train"]).all() and (yt == arrays["y_test"]).all()
    assert names == data.FASHION_CLASSES
    assert data.locate_dataset("fashion_mnist").directory == folder


def test_missing_files_list_every_place_tried(fake_idx_dir):
    folder, _ = fake_idx_dir
    (folder / data.IDX_FILES["y_test"]).unlink()
    with pytest.raises(data.DatasetNotFoundError) as info:
        data.load_dataset("fashion_mnist", allow_download=False)
    message = str(info.value)
    assert "BOOK_DATA_DIR" in message and "Keras cache" in message
    assert "apt-get install dataset-fashion-mnist" in message
    assert data.locate_dataset("fashion_mnist") is None


def test_wrong_checksum_is_refused_and_file_kept(fake_idx_dir):
    folder, _ = fake_idx_dir
    path = folder / data.IDX_FILES["y_train"]
    path.write_bytes(gzip.compress(b"\x00\x00\x08\x01\x00\x00\x00\x01\x07"))
    with pytest.raises(data.DataFileError, match="SHA-256"):
        data.load_dataset("fashion_mnist", allow_download=False)
    assert path.exists()  # nothing is deleted


def test_truncated_gzip_gives_clear_error(fake_idx_dir):
    folder, _ = fake_idx_dir
    path = folder / data.IDX_FILES["x_test"]
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(data.DataFileError, match="truncated or corrupt"):
        data.load_dataset("fashion_mnist", allow_download=False)


def test_not_gzip_at_all(tmp_path):
    path = tmp_path / "train-labels-idx1-ubyte.gz"
    path.write_bytes(b"this is not gzip")
    with pytest.raises(data.DataFileError, match="gzip"):
        data.verify_idx_file(path, "fashion_mnist")


def test_recompressed_copy_accepted_by_content(fake_idx_dir, monkeypatch):
    import hashlib

    folder, arrays = fake_idx_dir
    name = data.IDX_FILES["y_train"]
    raw = gzip.decompress((folder / name).read_bytes())
    (folder / name).write_bytes(gzip.compress(raw, compresslevel=1, mtime=123))
    monkeypatch.setitem(data.SHA256_RAW, "fashion_mnist", {name: hashlib.sha256(raw).hexdigest()})
    (_, y), _, _ = data.load_dataset("fashion_mnist", allow_download=False)
    assert (y == arrays["y_train"]).all()


def test_parse_idx_rejects_bad_magic_and_shapes():
    good = bytes([0, 0, 8, 1, 0, 0, 0, 3, 1, 2, 3])
    assert data.parse_idx(good, (3,)).tolist() == [1, 2, 3]
    with pytest.raises(data.DataFileError, match="magic"):
        data.parse_idx(b"\x01" + good[1:], (3,))
    with pytest.raises(data.DataFileError, match="expected shape"):
        data.parse_idx(good, (4,))
    with pytest.raises(data.DataFileError, match="truncated"):
        data.parse_idx(good[:-1], (3,))
    with pytest.raises(data.DataFileError, match="header"):
        data.parse_idx(bytes([0, 0, 8, 2, 0, 0]), (3,))


def test_mnist_npz_checksum_checked(tmp_path, monkeypatch):
    np.savez(tmp_path / "mnist.npz", x_train=np.zeros((2, 28, 28), np.uint8))
    monkeypatch.setenv(data.DATA_DIR_ENV, str(tmp_path))
    with pytest.raises(data.DataFileError, match="mnist.npz"):
        data.load_dataset("mnist", allow_download=False)


def test_download_failure_is_reported(fake_idx_dir, monkeypatch):
    folder, _ = fake_idx_dir
    monkeypatch.setenv(data.DATA_DIR_ENV, str(folder / "empty"))

    def offline(dataset):
        raise OSError("network unreachable")

    monkeypatch.setattr(data, "_download_with_keras", offline)
    with pytest.raises(data.DatasetNotFoundError, match="network unreachable"):
        data.load_dataset("fashion_mnist")


def test_unknown_dataset_name():
    with pytest.raises(ValueError, match="Unknown dataset"):
        data.load_dataset("imagenet")


def test_digits_are_bundled_and_keras_shaped():
    (x, y), (xt, yt), names = data.load_dataset("digits")
    assert x.dtype == np.uint8 and x.shape[1:] == (8, 8) and x.max() <= 255
    assert len(x) + len(xt) == 1797 and set(np.unique(y)) == set(range(10))
    assert names[3] == "3"


def test_check_command(fake_idx_dir, capsys):
    assert data.main(["check", "--dataset", "fashion_mnist"]) == 0
    assert "50 training" in capsys.readouterr().out
    folder, _ = fake_idx_dir
    (folder / data.IDX_FILES["x_train"]).unlink()
    assert data.main(["check", "--dataset", "fashion_mnist"]) == 1


# ---------------------------------------------------------------------- sampling


def test_stratified_subsample_keeps_class_shares():
    y = np.repeat(np.arange(4), [40, 30, 20, 10])
    x = np.arange(100)
    xs, ys = data.stratified_subsample(x, y, 50, random_state=0)
    assert np.bincount(ys).tolist() == [20, 15, 10, 5]
    assert (y[xs] == ys).all()
    xs2, _ = data.stratified_subsample(x, y, 50, random_state=0)
    assert (xs == xs2).all()


def test_stratified_subsample_bad_sizes():
    y = np.repeat(np.arange(3), 5)
    with pytest.raises(ValueError, match="between"):
        data.stratified_subsample(np.zeros(15), y, 16)
    with pytest.raises(ValueError, match="between"):
        data.stratified_subsample(np.zeros(15), y, 2)
    with pytest.raises(ValueError, match="same length"):
        data.stratified_subsample(np.zeros(14), y, 5)


def test_sample_labeled_subset_draws_n_per_class():
    y = np.repeat(np.arange(5), 20)
    x = np.arange(100) * 10
    xl, yl, idx = data.sample_labeled_subset(x, y, 3, random_state=1)
    assert np.bincount(yl).tolist() == [3] * 5
    assert (x[idx] == xl).all() and len(set(idx)) == 15
    again = data.sample_labeled_subset(x, y, 3, random_state=1)[2]
    other = data.sample_labeled_subset(x, y, 3, random_state=2)[2]
    assert (idx == again).all() and not (idx == other).all()


def test_label_budget_larger_than_a_class_is_a_clear_error():
    y = np.array([0] * 10 + [1] * 4)
    with pytest.raises(ValueError, match=r"class\(es\) \{1: 4\}"):
        data.sample_labeled_subset(np.zeros(14), y, 5)


@pytest.mark.parametrize("bad", [0, -1, 2.5, "3"])
def test_label_budget_must_be_positive_int(bad):
    with pytest.raises(ValueError, match="n_per_class"):
        data.sample_labeled_subset(np.zeros(4), np.array([0, 0, 1, 1]), bad)


def test_labels_must_be_integers_and_not_empty():
    with pytest.raises(ValueError, match="integer"):
        data.sample_labeled_subset(np.zeros(4), np.array([0.0, 0.5, 1.0, 1.0]), 1)
    with pytest.raises(ValueError, match="empty"):
        data.sample_labeled_subset(np.zeros(0), np.zeros(0, dtype=int), 1)
    with pytest.raises(ValueError, match="1-D"):
        data.sample_labeled_subset(np.zeros(4), np.zeros((4, 1), dtype=int), 1)


def test_load_profile_data_quick_subsamples(fake_idx_dir):
    prof = config.with_overrides(config.PROFILES["quick"], n_pool=20, n_test=10)
    (x, y), (xt, yt), _ = data.load_profile_data(prof, "fashion_mnist", allow_download=False,
                                                 verbose=False)
    assert len(y) == 20 and len(yt) == 10
    assert np.bincount(y).tolist() == [2] * 10
    full = config.PROFILES["full"]
    (x, y), _, _ = data.load_profile_data(full, "fashion_mnist", allow_download=False,
                                          verbose=False)
    assert len(y) == 50


def test_to_vectors_and_tensors():
    images = np.full((3, 4, 4), 255, dtype=np.uint8)
    v = data.to_vectors(images)
    assert v.shape == (3, 16) and v.dtype == np.float32 and v.max() == 1.0
    t = data.to_tensors(images)
    assert t.shape == (3, 4, 4, 1)
    with pytest.raises(ValueError, match="stack of images"):
        data.to_vectors(np.zeros(5))
    with pytest.raises(ValueError, match=r"\(n, h, w\)"):
        data.to_tensors(np.zeros((3, 16)))
