import dataclasses
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


def test_missing_files_list_every_place_tried(fake_idx_dir):
    folder, _ = fake_idx_dir
    (folder / data.IDX_FILES["y_test"]).unlink()
    with pytest.raises(data.DatasetNotFoundError) as info:
        data.load_dataset("fashion_mnist", allow_download=False)
    message = str(info.value)
    assert "BOOK_DATA_DIR" in message and "Keras cache" in message
    assert "apt-get install dataset-fashion-mnist" in message


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
    prof = dataclasses.replace(config.PROFILES["quick"], n_pool=20, n_test=10)
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
    colour = data.to_tensors(np.full((2, 4, 4, 3), 255, dtype=np.uint8))
    assert colour.shape == (2, 4, 4, 3) and colour.max() == 1.0



# ------------------------------------------------------------ a folder of your own images


def write_image(path, array, fmt=None):
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.asarray(array, dtype=np.uint8)).save(path, format=fmt)
    return path


def make_folder(root, *, classes=("ant", "bee"), per_class=3, n_unlabeled=4, size=(12, 12),
                colour=False, test=0):
    """labeled/<class>/ with images of value 40*(class+1); unlabeled/ in a nested folder."""
    rng = np.random.default_rng(0)
    shape = (*size, 3) if colour else size
    for c, name in enumerate(classes):
        for i in range(per_class):
            write_image(root / "labeled" / name / f"{i}.png", np.full(shape, 40 * (c + 1)))
        for i in range(test):
            write_image(root / "test" / name / f"t{i}.png", np.full(shape, 40 * (c + 1)))
    for i in range(n_unlabeled):
        write_image(root / "unlabeled" / "batch1" / f"u{i}.jpg", rng.integers(0, 256, size))
    return root


def test_folder_loads_labeled_unlabeled_and_test(tmp_path):
    root = make_folder(tmp_path, test=2)
    folder = data.load_image_folder(root)
    assert folder.class_names == ("ant", "bee")
    assert folder.x_labeled.dtype == np.uint8 and folder.x_labeled.shape == (6, 12, 12)
    assert folder.y_labeled.tolist() == [0, 0, 0, 1, 1, 1]
    assert (folder.x_labeled[folder.y_labeled == 1] == 80).all()
    assert folder.paths_labeled[3].endswith("bee/0.png")
    assert folder.x_unlabeled.shape == (4, 12, 12) and "batch1" in folder.paths_unlabeled[0]
    assert folder.x_test.shape == (4, 12, 12) and folder.y_test.tolist() == [0, 0, 1, 1]
    assert folder.skipped == [] and "6 labeled" in folder.describe()


def test_folder_without_labeled_subfolder_and_without_pool(tmp_path):
    write_image(tmp_path / "ant" / "a.png", np.zeros((8, 8)))
    write_image(tmp_path / "bee" / "b.bmp", np.full((8, 8), 255), "BMP")
    folder = data.load_image_folder(tmp_path)
    assert folder.class_names == ("ant", "bee") and folder.x_unlabeled.shape == (0, 8, 8)
    assert folder.x_test is None and folder.y_labeled.tolist() == [0, 1]


def test_one_colour_image_makes_every_image_rgb(tmp_path):
    root = make_folder(tmp_path)
    write_image(root / "labeled" / "bee" / "red.gif", np.tile([200, 0, 0], (12, 12, 1)), "GIF")
    folder = data.load_image_folder(root)
    assert folder.x_labeled.shape == (7, 12, 12, 3) and folder.image_shape == (12, 12, 3)
    red = folder.x_labeled[folder.paths_labeled.index(str(root / "labeled/bee/red.gif"))]
    assert red[..., 0].mean() > 150 and red[..., 1].mean() < 50
    grey = folder.x_labeled[0]
    assert (grey[..., 0] == grey[..., 1]).all()  # a grey image gets three equal channels
    assert data.load_image_folder(root, color_mode="grayscale").x_labeled.ndim == 3


def test_resizing_keeps_the_aspect_ratio_by_cropping_the_centre(tmp_path):
    wide = np.zeros((20, 60), np.uint8)
    wide[:, 20:40] = 255  # white centre third, black sides
    write_image(tmp_path / "a" / "wide.png", wide)
    write_image(tmp_path / "b" / "square.png", np.full((30, 30), 255))
    folder = data.load_image_folder(tmp_path, image_size=10)
    assert folder.x_labeled.shape == (2, 10, 10)
    assert folder.x_labeled[0].min() > 200  # only the white centre is kept, not squeezed sides


def test_non_image_files_are_skipped_and_listed(tmp_path):
    root = make_folder(tmp_path)
    (root / "unlabeled" / "notes.txt").write_text("not an image")
    folder = data.load_image_folder(root)
    assert len(folder.x_unlabeled) == 4
    assert [(p.endswith("notes.txt"), "not an image" in why) for p, why in folder.skipped] == [(True, True)]


@pytest.mark.parametrize("how", ["garbage", "truncated"])
def test_unreadable_image_is_named_and_skipped_only_when_allowed(tmp_path, how):
    root = make_folder(tmp_path)
    bad = root / "unlabeled" / "bad.png"
    if how == "garbage":
        bad.write_bytes(b"this is no png")
    else:
        write_image(bad, np.random.default_rng(1).integers(0, 256, (12, 12)))
        bad.write_bytes(bad.read_bytes()[:120])  # the header is intact, the pixels cut short
    with pytest.raises(data.ImageFolderError, match="bad.png") as info:
        data.load_image_folder(root)
    assert "skip_unreadable=True" in str(info.value) and bad.exists()  # nothing deleted
    folder = data.load_image_folder(root, skip_unreadable=True)
    assert len(folder.x_unlabeled) == 4 and folder.skipped[0][0] == str(bad)


def test_empty_or_missing_folder(tmp_path):
    with pytest.raises(data.ImageFolderError, match="labeled/<class name>"):
        data.load_image_folder(tmp_path)
    with pytest.raises(data.ImageFolderError, match="does not exist"):
        data.load_image_folder(tmp_path / "nowhere")


def test_class_folder_without_images(tmp_path):
    root = make_folder(tmp_path)
    (root / "labeled" / "cow").mkdir()
    (root / "labeled" / "cow" / "readme.md").write_text("todo")
    with pytest.raises(data.ImageFolderError, match=r"no image file[\s\S]*cow"):
        data.load_image_folder(root)


def test_single_class_is_refused(tmp_path):
    make_folder(tmp_path, classes=("ant",))
    with pytest.raises(data.ImageFolderError, match="at least two classes"):
        data.load_image_folder(tmp_path)


def test_loose_images_in_labeled_folder(tmp_path):
    root = make_folder(tmp_path)
    write_image(root / "labeled" / "stray.png", np.zeros((12, 12)))
    with pytest.raises(data.ImageFolderError, match="one sub-folder per class"):
        data.load_image_folder(root)


def test_mixed_sizes_need_an_image_size(tmp_path):
    root = make_folder(tmp_path)
    write_image(root / "unlabeled" / "big.png", np.zeros((30, 40)))
    with pytest.raises(data.ImageFolderError, match=r"2 different sizes[\s\S]*image_size=12"):
        data.load_image_folder(root)
    assert data.load_image_folder(root, image_size=12).x_unlabeled.shape == (5, 12, 12)


def test_images_smaller_than_the_size(tmp_path):
    root = make_folder(tmp_path, size=(8, 8))
    with pytest.raises(data.ImageFolderError, match=r"smaller than image_size 16x16[\s\S]*allow_upscaling"):
        data.load_image_folder(root, image_size=16)
    assert data.load_image_folder(root, image_size=16, allow_upscaling=True).image_shape == (16, 16)


def test_a_class_only_in_test_is_refused(tmp_path):
    root = make_folder(tmp_path, test=1)
    write_image(root / "test" / "cow" / "c.png", np.zeros((12, 12)))
    with pytest.raises(data.ImageFolderError, match=r"\['cow'\]"):
        data.load_image_folder(root)


def test_bad_folder_options(tmp_path):
    root = make_folder(tmp_path)
    with pytest.raises(ValueError, match="color_mode"):
        data.load_image_folder(root, color_mode="cmyk")
    with pytest.raises(ValueError, match="positive integers"):
        data.load_image_folder(root, image_size=0)


def test_folder_dataset_through_load_dataset(tmp_path, capsys):
    root = make_folder(tmp_path, per_class=8, test=2, colour=True)
    (x, y), (xt, yt), names = data.load_dataset(f"folder:{root}", verbose=True)
    assert names == ("ant", "bee") and x.shape == (16, 12, 12, 3) and len(xt) == 4
    assert "4 unlabeled images are not used" in capsys.readouterr().out
    for sub in ("test",):
        import shutil
        shutil.rmtree(root / sub)
    (x, y), (xt, yt), _ = data.load_dataset(f"folder:{root}")
    assert len(x) == 12 and len(xt) == 4 and np.bincount(yt).tolist() == [2, 2]


def test_folder_dataset_needs_enough_labels_without_test(tmp_path):
    root = make_folder(tmp_path, per_class=2)
    with pytest.raises(data.ImageFolderError, match="at least 4 per class"):
        data.load_dataset(f"folder:{root}")


def test_folder_dataset_from_the_environment(tmp_path, monkeypatch):
    root = make_folder(tmp_path, per_class=8, size=(20, 16))
    monkeypatch.setenv(config.DATASET_ENV, f"folder:{root}")
    monkeypatch.setenv(config.IMAGE_SIZE_ENV, "10x8")
    prof = dataclasses.replace(config.PROFILES["quick"], n_pool=10, n_test=2)
    (x, y), (xt, yt), names = data.load_profile_data(prof, verbose=False)
    assert x.shape == (10, 10, 8) and len(xt) == 2 and names == ("ant", "bee")


def test_write_demo_folder_round_trips_through_the_loader(tmp_path):
    truth = data.write_demo_folder(tmp_path / "demo", n_labeled_per_class=2, n_unlabeled=15,
                                   n_test_per_class=1, size=10, colour="class", share_grey=0.0)
    folder = data.load_image_folder(tmp_path / "demo", image_size=10)
    assert folder.x_labeled.shape == (20, 10, 10, 3) and len(folder.x_unlabeled) == 15
    assert len(truth) == 20 + 15 + 10
    assert [truth[p] for p in folder.paths_labeled] == folder.y_labeled.tolist()
    assert [truth[p] for p in folder.paths_test] == folder.y_test.tolist()
    with pytest.raises(FileExistsError, match="not empty"):
        data.write_demo_folder(tmp_path / "demo")
    with pytest.raises(ValueError, match="colour"):
        data.write_demo_folder(tmp_path / "other", colour="sepia")


def test_demo_folder_command(tmp_path, capsys):
    assert data.main(["demo-folder", "--to", str(tmp_path / "d"), "--labeled-per-class", "1",
                      "--unlabeled", "3", "--size", "8", "--colour", "none"]) == 0
    assert "wrote 13 images" in capsys.readouterr().out
    folder = data.load_image_folder(tmp_path / "d", image_size=8)
    assert folder.x_labeled.ndim == 3  # grey only
