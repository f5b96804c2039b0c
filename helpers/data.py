"""Loading the datasets offline, and drawing subsamples and label budgets.

:func:`load_dataset` returns Keras-style ``uint8`` arrays. It never needs the
internet when the files are already on the machine, and it looks for them in
this order:

1. the folder named by ``BOOK_DATA_DIR`` (the four IDX ``.gz`` files, or
   ``mnist.npz`` for MNIST);
2. the Keras cache (``$KERAS_HOME/datasets`` or ``~/.keras/datasets``);
3. the folder Debian's ``dataset-fashion-mnist`` package installs
   (``/usr/share/datasets/fashion-mnist``);
4. the Keras download, as a last resort.

Every file is checked against its published SHA-256 before use. When
nothing works, the error lists each place tried and how to supply the files.

Example
-------
>>> (x_train, y_train), (x_test, y_test), class_names = load_dataset("digits")
>>> x_train.dtype, x_train.shape[1:], len(class_names)
(dtype('uint8'), (8, 8), 10)
"""

from __future__ import annotations

import gzip
import hashlib
import os
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.model_selection import train_test_split

from . import config

DATA_DIR_ENV = "BOOK_DATA_DIR"

FASHION_CLASSES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)
DIGIT_CLASSES = tuple(str(d) for d in range(10))

IDX_FILES = {
    "x_train": "train-images-idx3-ubyte.gz",
    "y_train": "train-labels-idx1-ubyte.gz",
    "x_test": "t10k-images-idx3-ubyte.gz",
    "y_test": "t10k-labels-idx1-ubyte.gz",
}
IDX_SHAPES = {"x_train": (60000, 28, 28), "y_train": (60000,),
              "x_test": (10000, 28, 28), "y_test": (10000,)}

# Accepted SHA-256 sums of each .gz file: the one the authors publish and, for
# Fashion-MNIST, Debian's repackaged copy (same pixels, gzip'ed again).
# A re-compressed copy is also accepted when its *uncompressed* bytes match.
SHA256_GZ: dict[str, dict[str, set[str]]] = {
    "fashion_mnist": {
        "train-images-idx3-ubyte.gz": {
            "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
            "b0564c3eedabfbf835052cff8503ea422014ce006caf5b757f851416ee8300c7"},
        "train-labels-idx1-ubyte.gz": {
            "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
            "0ae29f65d86684f32d1b9c85147786c547b9c6aebcaf235f0400a0cce308b056"},
        "t10k-images-idx3-ubyte.gz": {
            "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
            "cc1d090a38ace84dfa1aa66e3ada7c336ef481a96936906477e6dd344da56eaa"},
        "t10k-labels-idx1-ubyte.gz": {
            "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
            "8d3605d196f4be44669e46906da9733c8131fef761fdbfec72c424d5222f1a05"},
    },
    "mnist": {
        "train-images-idx3-ubyte.gz": {
            "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609"},
        "train-labels-idx1-ubyte.gz": {
            "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c"},
        "t10k-images-idx3-ubyte.gz": {
            "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6"},
        "t10k-labels-idx1-ubyte.gz": {
            "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6"},
    },
}
SHA256_RAW: dict[str, dict[str, str]] = {
    "fashion_mnist": {
        "train-images-idx3-ubyte.gz": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
        "train-labels-idx1-ubyte.gz": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
        "t10k-images-idx3-ubyte.gz": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
        "t10k-labels-idx1-ubyte.gz": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
    },
    "mnist": {},
}
SHA256_MNIST_NPZ = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"

DEBIAN_DIRS = {"fashion_mnist": Path("/usr/share/datasets/fashion-mnist")}
KERAS_SUBDIRS = {"fashion_mnist": "fashion-mnist", "mnist": ""}

Arrays = tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray], tuple[str, ...]]


class DataFileError(RuntimeError):
    """A data file is missing, corrupt, or is not the file it claims to be."""


class DatasetNotFoundError(FileNotFoundError):
    """No source for the dataset worked; the message lists what was tried."""


@dataclass(frozen=True)
class Source:
    """One place :func:`load_dataset` looks for a dataset."""

    description: str
    directory: Path | None


# --------------------------------------------------------------------------- files


def sha256_of(path: str | os.PathLike) -> str:
    """Return the SHA-256 hex digest of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _read_gz(path: Path) -> bytes:
    try:
        with gzip.open(path, "rb") as handle:
            return handle.read()
    except (OSError, EOFError, zlib.error) as err:  # BadGzipFile is an OSError
        raise DataFileError(
            f"{path} is not a readable gzip file ({err}). It is probably truncated or "
            "corrupt: delete it and copy the original file again."
        ) from err


def verify_idx_file(path: Path, dataset: str) -> bytes:
    """Check ``path`` against its published checksum; return the uncompressed bytes.

    Raises
    ------
    DataFileError
        If the file is unreadable or its checksum matches no known copy.
    """
    name = path.name
    accepted = SHA256_GZ.get(dataset, {}).get(name, set())
    gz_sum = sha256_of(path)
    raw = _read_gz(path)
    if gz_sum in accepted:
        return raw
    raw_expected = SHA256_RAW.get(dataset, {}).get(name)
    if raw_expected and hashlib.sha256(raw).hexdigest() == raw_expected:
        return raw
    raise DataFileError(
        f"{path} has SHA-256 {gz_sum}, which is not the published checksum of "
        f"{dataset}'s {name}. The file is corrupt or belongs to another dataset: "
        "replace it with the original."
    )


def parse_idx(raw: bytes, expected_shape: tuple[int, ...], what: str = "IDX data") -> np.ndarray:
    """Decode IDX bytes (the MNIST file format) into a ``uint8`` array.

    Raises
    ------
    DataFileError
        If the header is malformed or the shape is not ``expected_shape``.
    """
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise DataFileError(f"{what}: not an unsigned-byte IDX file (bad magic number).")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataFileError(f"{what}: the IDX header is truncated.")
    shape = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    if shape != tuple(expected_shape):
        raise DataFileError(f"{what}: expected shape {tuple(expected_shape)}, the file says {shape}.")
    body = np.frombuffer(raw, dtype=np.uint8, offset=header)
    if body.size != int(np.prod(shape)):
        raise DataFileError(
            f"{what}: expected {int(np.prod(shape))} values, found {body.size} (truncated file?)."
        )
    return body.reshape(shape).copy()


def _load_idx_dir(directory: Path, dataset: str) -> dict[str, np.ndarray]:
    arrays = {}
    for key, filename in IDX_FILES.items():
        path = directory / filename
        raw = verify_idx_file(path, dataset)
        arrays[key] = parse_idx(raw, IDX_SHAPES[key], what=str(path))
    return arrays


def _load_npz(path: Path) -> dict[str, np.ndarray]:
    digest = sha256_of(path)
    if digest != SHA256_MNIST_NPZ:
        raise DataFileError(
            f"{path} has SHA-256 {digest}, not the published {SHA256_MNIST_NPZ}: "
            "replace it with the original mnist.npz."
        )
    with np.load(path, allow_pickle=False) as npz:
        arrays = {key: npz[key] for key in IDX_SHAPES}
    for key, shape in IDX_SHAPES.items():
        if arrays[key].shape != shape:
            raise DataFileError(f"{path}: {key} has shape {arrays[key].shape}, expected {shape}.")
    return arrays


def _has_files(directory: Path, dataset: str) -> bool:
    if dataset == "mnist" and (directory / "mnist.npz").is_file():
        return True
    return all((directory / f).is_file() for f in IDX_FILES.values())


def _load_from_dir(directory: Path, dataset: str) -> dict[str, np.ndarray]:
    if dataset == "mnist" and (directory / "mnist.npz").is_file():
        return _load_npz(directory / "mnist.npz")
    return _load_idx_dir(directory, dataset)


def keras_cache_dir(dataset: str) -> Path:
    """The folder where ``keras.datasets.<dataset>.load_data`` keeps its files."""
    home = Path(os.environ.get("KERAS_HOME", Path.home() / ".keras")).expanduser()
    return home / "datasets" / KERAS_SUBDIRS.get(dataset, dataset)


def candidate_sources(dataset: str) -> list[Source]:
    """The local places searched for ``dataset``, in order (the download is not listed)."""
    sources = []
    env = os.environ.get(DATA_DIR_ENV)
    if env:
        sources.append(Source(f"${DATA_DIR_ENV}", Path(env).expanduser()))
    sources.append(Source("the Keras cache", keras_cache_dir(dataset)))
    if dataset in DEBIAN_DIRS:
        sources.append(Source("Debian's dataset package", DEBIAN_DIRS[dataset]))
    return sources


def _download_with_keras(dataset: str) -> dict[str, np.ndarray]:
    import keras

    loader = {"fashion_mnist": keras.datasets.fashion_mnist,
              "mnist": keras.datasets.mnist}[dataset]
    (x_train, y_train), (x_test, y_test) = loader.load_data()
    arrays = {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}
    # Keras does not hash Fashion-MNIST's files; check what it saved.
    if dataset == "fashion_mnist":
        _load_idx_dir(keras_cache_dir(dataset), dataset)
    return arrays


def _how_to_supply(dataset: str) -> str:
    if dataset == "fashion_mnist":
        return (
            "To run offline, do one of:\n"
            "  * on Debian/Ubuntu: sudo apt-get install dataset-fashion-mnist\n"
            f"  * copy the four files {', '.join(IDX_FILES.values())} into a folder and\n"
            f"    export {DATA_DIR_ENV}=/that/folder\n"
            f"  * copy them into {keras_cache_dir(dataset)}\n"
            "The files are published at https://github.com/zalandoresearch/fashion-mnist."
        )
    return (
        "To run offline, do one of:\n"
        f"  * copy mnist.npz (Keras' copy) or the four IDX .gz files into a folder and\n"
        f"    export {DATA_DIR_ENV}=/that/folder\n"
        f"  * copy mnist.npz into {keras_cache_dir(dataset)}\n"
        "Or run once with internet access: keras.datasets.mnist.load_data() caches it."
    )


# ------------------------------------------------------------------------- datasets


def _load_digits_arrays() -> dict[str, np.ndarray]:
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = np.clip(np.round(digits.images * (255.0 / 16.0)), 0, 255).astype(np.uint8)
    x_train, x_test, y_train, y_test = train_test_split(
        images, digits.target.astype(np.uint8), test_size=0.25,
        stratify=digits.target, random_state=0,
    )
    return {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}


def locate_dataset(name: str | None = None) -> Source | None:
    """Return the first local :class:`Source` that holds the dataset's files, or ``None``."""
    dataset = config.get_dataset_name(name)
    if dataset == "digits":
        return Source("scikit-learn's bundled digits", None)
    for source in candidate_sources(dataset):
        if source.directory is not None and _has_files(source.directory, dataset):
            return source
    return None


def load_dataset(
    name: str | None = None,
    *,
    allow_download: bool = True,
    verbose: bool = False,
) -> Arrays:
    """Load a dataset as Keras-style ``uint8`` arrays.

    Parameters
    ----------
    name : str, optional
        ``"fashion_mnist"``, ``"mnist"`` or ``"digits"``; default from
        ``BOOK_DATASET`` (see :func:`helpers.config.get_dataset_name`).
    allow_download : bool
        Try the Keras download when no local copy is found.
    verbose : bool
        Print where the data came from.

    Returns
    -------
    (x_train, y_train), (x_test, y_test), class_names
        Images of shape ``(n, 28, 28)`` (``(n, 8, 8)`` for digits), labels of
        shape ``(n,)``, and the ten class names.

    Raises
    ------
    DatasetNotFoundError
        If no source works; the message lists each place tried and why.
    DataFileError
        If a file exists but is corrupt or fails its checksum (nothing is deleted).
    """
    dataset = config.get_dataset_name(name)
    if dataset == "digits":
        arrays = _load_digits_arrays()
        where = "scikit-learn's bundled digits"
    else:
        tried: list[str] = []
        arrays, where = None, ""
        for source in candidate_sources(dataset):
            directory = source.directory
            if directory is None or not _has_files(directory, dataset):
                tried.append(f"  - {source.description}: {directory} (files not there)")
                continue
            arrays, where = _load_from_dir(directory, dataset), f"{source.description} ({directory})"
            break
        if arrays is None:
            if allow_download:
                try:
                    arrays, where = _download_with_keras(dataset), "the Keras download"
                except Exception as err:  # network errors come in many types
                    tried.append(f"  - the Keras download: failed ({type(err).__name__}: {err})")
            else:
                tried.append("  - the Keras download: not attempted (allow_download=False)")
        if arrays is None:
            raise DatasetNotFoundError(
                f"Could not find the {dataset} dataset. Places tried, in order:\n"
                + "\n".join(tried) + "\n" + _how_to_supply(dataset)
            )
    if verbose:
        print(f"{dataset}: {len(arrays['y_train']):,} training and "
              f"{len(arrays['y_test']):,} test images from {where}")
    names = FASHION_CLASSES if dataset == "fashion_mnist" else DIGIT_CLASSES
    return ((arrays["x_train"], arrays["y_train"].astype(np.int64)),
            (arrays["x_test"], arrays["y_test"].astype(np.int64)), names)


# ------------------------------------------------------------------------ sampling


def _check_xy(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x, y = np.asarray(x), np.asarray(y)
    if y.ndim != 1:
        raise ValueError(f"y must be a 1-D array of class labels, got shape {y.shape}.")
    if len(x) != len(y):
        raise ValueError(f"x and y must have the same length, got {len(x)} and {len(y)}.")
    if len(y) == 0:
        raise ValueError("x and y are empty.")
    if not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"y must hold integer class labels, got dtype {y.dtype}.")
    return x, y


def stratified_indices(y: np.ndarray, n: int, random_state: int | None = None) -> np.ndarray:
    """Indices of a stratified random subsample of size ``n`` (class shares kept).

    Raises
    ------
    ValueError
        If ``n`` is not between the number of classes and ``len(y)``.
    """
    y = np.asarray(y)
    n_classes = len(np.unique(y))
    if not isinstance(n, (int, np.integer)) or n < n_classes or n > len(y):
        raise ValueError(
            f"n must be an integer between the number of classes ({n_classes}) and the "
            f"number of samples ({len(y)}), got {n!r}."
        )
    if n == len(y):
        return np.random.default_rng(random_state).permutation(len(y))
    idx, _ = train_test_split(np.arange(len(y)), train_size=int(n), stratify=y,
                              random_state=random_state)
    return np.asarray(idx)


def stratified_subsample(
    x: np.ndarray, y: np.ndarray, n: int, random_state: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """A stratified random subsample ``(x[idx], y[idx])`` of size ``n``."""
    x, y = _check_xy(x, y)
    idx = stratified_indices(y, n, random_state)
    return x[idx], y[idx]


def sample_labeled_subset(
    x: np.ndarray, y: np.ndarray, n_per_class: int, random_state: int | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Draw ``n_per_class`` labeled examples of every class: the book's label budget.

    Returns
    -------
    x_labeled, y_labeled, indices
        The drawn examples (shuffled) and their indices into ``x``, so that
        ``np.delete(x, indices, axis=0)`` is the rest of the pool.

    Raises
    ------
    ValueError
        If a class has fewer than ``n_per_class`` examples (the message names it).
    """
    x, y = _check_xy(x, y)
    if not isinstance(n_per_class, (int, np.integer)) or n_per_class < 1:
        raise ValueError(f"n_per_class must be a positive integer, got {n_per_class!r}.")
    rng = np.random.default_rng(random_state)
    classes, counts = np.unique(y, return_counts=True)
    too_small = {int(c): int(k) for c, k in zip(classes, counts) if k < n_per_class}
    if too_small:
        raise ValueError(
            f"Cannot draw {n_per_class} labels per class: class(es) {too_small} "
            "(class: examples) have fewer. Use a smaller budget or a larger pool."
        )
    picks = [rng.choice(np.flatnonzero(y == c), size=n_per_class, replace=False) for c in classes]
    idx = rng.permutation(np.concatenate(picks))
    return x[idx], y[idx], idx


def load_profile_data(
    profile: config.Profile | str | None = None,
    dataset: str | None = None,
    *,
    random_state: int = config.SEED,
    allow_download: bool = True,
    verbose: bool = True,
) -> Arrays:
    """Load a dataset and cut it down to what the profile asks for.

    The quick profile keeps a stratified subsample of the pool (training
    split) and of the test set; the full profile keeps everything. Same
    return value as :func:`load_dataset`.
    """
    prof = profile if isinstance(profile, config.Profile) else config.get_profile(profile)
    (x_pool, y_pool), (x_test, y_test), names = load_dataset(
        dataset, allow_download=allow_download, verbose=verbose)
    if prof.n_pool is not None and prof.n_pool < len(y_pool):
        x_pool, y_pool = stratified_subsample(x_pool, y_pool, prof.n_pool, random_state)
    if prof.n_test is not None and prof.n_test < len(y_test):
        x_test, y_test = stratified_subsample(x_test, y_test, prof.n_test, random_state + 1)
    if verbose:
        print(f"profile {prof.name}: pool {len(y_pool):,} images, test {len(y_test):,} images")
    return (x_pool, y_pool), (x_test, y_test), names


def to_vectors(images: np.ndarray) -> np.ndarray:
    """Flatten ``uint8`` images ``(n, h, w)`` to ``float32`` vectors in [0, 1], shape ``(n, h*w)``.

    This is the fix for the source article's first bug: a ``Dense`` layer (and
    scikit-learn) wants one row of numbers per image, not a 28x28 grid.
    """
    images = np.asarray(images)
    if images.ndim < 2:
        raise ValueError(f"Expected a stack of images (n, h, w), got shape {images.shape}.")
    return images.reshape(len(images), -1).astype(np.float32) / 255.0


def to_tensors(images: np.ndarray) -> np.ndarray:
    """``uint8`` images ``(n, h, w)`` to ``float32`` ``(n, h, w, 1)`` in [0, 1], for a CNN."""
    images = np.asarray(images)
    if images.ndim != 3:
        raise ValueError(f"Expected images of shape (n, h, w), got shape {images.shape}.")
    return images[..., None].astype(np.float32) / 255.0



def main(argv: list[str] | None = None) -> int:
    """``python -m helpers.data check [--dataset NAME]``: say where the data is, offline.

    Exits 0 when the dataset is found locally and passes its checksums, 1 otherwise.
    """
    import argparse

    parser = argparse.ArgumentParser(prog="python -m helpers.data")
    parser.add_argument("command", choices=["check"])
    parser.add_argument("--dataset", default=None, help="default: $BOOK_DATASET or fashion_mnist")
    args = parser.parse_args(argv)
    try:
        load_dataset(args.dataset, allow_download=False, verbose=True)
    except (DatasetNotFoundError, DataFileError, ValueError) as err:
        print(err)
        return 1
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
