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

Your own images: :func:`load_image_folder` reads a folder of labeled class
sub-folders, an unlabeled pool and an optional test set (any size, grey or
colour, through Keras' ``load_img``), and ``BOOK_DATASET=folder:/path`` hands
such a folder to :func:`load_dataset` and so to every chapter.
:func:`write_demo_folder` writes a small one for demos and tests.

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
        ``"fashion_mnist"``, ``"mnist"``, ``"digits"`` or ``"folder:/path"``
        (your own images, see :func:`load_image_folder`; its labeled images
        are the pool, its ``test/`` folder or else a stratified quarter of the
        labeled images the test set; ``BOOK_IMAGE_SIZE`` sets their size);
        default from ``BOOK_DATASET`` (see :func:`helpers.config.get_dataset_name`).
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
    folder = config.folder_of(dataset)
    names: tuple[str, ...] = FASHION_CLASSES if dataset == "fashion_mnist" else DIGIT_CLASSES
    if folder is not None:
        arrays, names, where = _load_folder_arrays(folder, verbose)
    elif dataset == "digits":
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
    return ((arrays["x_train"], arrays["y_train"].astype(np.int64)),
            (arrays["x_test"], arrays["y_test"].astype(np.int64)), names)


# ---------------------------------------------------------------- your own images

#: File endings read as images (case-insensitive); anything else is skipped and listed.
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif")
_GREY_MODES = ("1", "L", "LA", "I", "I;16", "I;16B", "I;16L", "F")
_EXAMPLES = 5  # files named in an error message before "... and N more"


class ImageFolderError(ValueError):
    """A folder of images cannot be used as it is; the message says why and what to do."""


@dataclass
class ImageFolder:
    """The images of a folder, as :func:`load_image_folder` returns them.

    Images are ``uint8`` arrays like :func:`load_dataset`'s: ``(n, h, w)`` when
    every image is grey, ``(n, h, w, 3)`` when any is in colour. Labels are
    class ids into ``class_names``. Paths are strings, in the order of the rows.

    Attributes
    ----------
    x_labeled, y_labeled, paths_labeled
        The images under ``labeled/<class>/`` and their classes.
    x_unlabeled, paths_unlabeled
        The images under ``unlabeled/`` (zero rows when there is none).
    x_test, y_test, paths_test
        The images under ``test/<class>/``, or ``None`` when there is no ``test/``.
    class_names : tuple of str
        The class folder names, sorted.
    skipped : list of (path, reason)
        Every file that was not read: non-image files, and unreadable images
        when ``skip_unreadable=True``. Nothing is skipped silently.
    root : pathlib.Path
    """

    x_labeled: np.ndarray
    y_labeled: np.ndarray
    paths_labeled: list[str]
    x_unlabeled: np.ndarray
    paths_unlabeled: list[str]
    x_test: np.ndarray | None
    y_test: np.ndarray | None
    paths_test: list[str] | None
    class_names: tuple[str, ...]
    skipped: list[tuple[str, str]]
    root: Path

    @property
    def image_shape(self) -> tuple[int, ...]:
        """Shape of one image: ``(h, w)`` or ``(h, w, 3)``."""
        return tuple(self.x_labeled.shape[1:])

    def describe(self) -> str:
        """One line: how many images of each kind, their shape, and what was skipped."""
        counts = np.bincount(self.y_labeled, minlength=len(self.class_names))
        test = "no test/ folder" if self.x_test is None else f"{len(self.x_test):,} test"
        skipped = f", {len(self.skipped)} file(s) skipped" if self.skipped else ""
        return (f"{self.root.name}: {len(self.y_labeled):,} labeled ({len(self.class_names)} classes, "
                f"{counts.min()}-{counts.max()} per class), {len(self.paths_unlabeled):,} unlabeled, "
                f"{test}; images {'x'.join(map(str, self.image_shape))}{skipped}")


def _listing(paths: list[str], more: str = "") -> str:
    shown = "\n".join(f"  - {p}" for p in paths[:_EXAMPLES])
    rest = f"\n  ... and {len(paths) - _EXAMPLES} more" if len(paths) > _EXAMPLES else ""
    return shown + rest + more


def _scan(folder: Path, skipped: list[tuple[str, str]]) -> list[Path]:
    """Image files under ``folder`` (any depth, sorted); other files go to ``skipped``."""
    images = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        if path.suffix.lower() in IMAGE_EXTENSIONS:
            images.append(path)
        else:
            skipped.append((str(path), f"not an image file (reads {', '.join(IMAGE_EXTENSIONS)})"))
    return images


def _class_folders(folder: Path, what: str) -> list[Path]:
    loose = sorted(p.name for p in folder.iterdir()
                   if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS)
    if loose:
        raise ImageFolderError(
            f"{folder} holds images directly ({', '.join(loose[:3])}...), but {what} images must "
            f"sit in one sub-folder per class, e.g. {folder / 'cat' / loose[0]}. Move them into "
            "class folders (or into unlabeled/ if their class is unknown).")
    return sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))


def _layout(root: Path) -> tuple[list[Path], Path | None, Path | None]:
    """The class folders of the labeled images, the unlabeled folder and the test folder."""
    how = (f"Expected the layout\n  {root}/labeled/<class name>/<images>   (a few per class)\n"
           f"  {root}/unlabeled/<images, any depth>   (optional)\n"
           f"  {root}/test/<class name>/<images>      (optional)\n"
           f"or class folders directly under {root} (besides unlabeled/ and test/).")
    if not root.is_dir():
        raise ImageFolderError(f"{root} does not exist or is not a folder. {how}")
    unlabeled = root / "unlabeled" if (root / "unlabeled").is_dir() else None
    test = root / "test" if (root / "test").is_dir() else None
    if (root / "labeled").is_dir():
        classes = _class_folders(root / "labeled", "labeled")
    else:
        classes = [p for p in _class_folders(root, "labeled")
                   if p.name not in ("unlabeled", "test")]
    if not classes:
        raise ImageFolderError(f"{root} has no class folders, so no labeled images. {how}")
    return classes, unlabeled, test


def _unreadable_error(unreadable: list[tuple[str, str]]) -> ImageFolderError:
    return ImageFolderError(
        f"{len(unreadable)} image file(s) could not be read (corrupt, truncated or not really "
        "images):\n" + _listing([f"{p}: {why}" for p, why in unreadable],
                                "\nReplace or remove them, or pass skip_unreadable=True to "
                                "skip them (they are then listed in .skipped)."))


def _size_of(image_size: int | tuple[int, int] | None) -> tuple[int, int] | None:
    return config.get_image_size(image_size) if image_size is not None else None


def _read_headers(paths: list[Path], unreadable: list[tuple[str, str]]) -> dict[Path, tuple[int, int, bool]]:
    """(height, width, is_colour) of each readable image, from its header only."""
    from PIL import Image, UnidentifiedImageError

    headers = {}
    for path in paths:
        try:
            with Image.open(path) as img:
                width, height = img.size
                colour = img.mode not in _GREY_MODES
                if img.mode == "P":  # a palette image is grey when its palette is
                    rgb = np.asarray(img.convert("RGB"))
                    colour = bool(np.any(rgb != rgb[..., :1]))
        except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as err:
            unreadable.append((str(path), f"unreadable image ({type(err).__name__}: {err})"))
            continue
        headers[path] = (height, width, colour)
    return headers


def _decode(path: Path, size: tuple[int, int], colour: bool, interpolation: str) -> np.ndarray:
    """One image, resized with its aspect ratio kept by a centred crop (Keras' ``load_img``)."""
    import keras

    img = keras.utils.load_img(path, color_mode="rgb" if colour else "grayscale",
                               target_size=size, interpolation=interpolation,
                               keep_aspect_ratio=True)
    arr = keras.utils.img_to_array(img, dtype="float32")
    if img.mode in ("I", "I;16", "I;16B", "I;16L"):  # 16-bit grey: scale to 8 bits
        arr = arr * (255.0 / max(float(arr.max()), 255.0))
    arr = np.clip(np.round(arr), 0, 255).astype(np.uint8)
    return arr if colour else arr[..., 0]


def load_image_folder(
    root: str | os.PathLike,
    *,
    image_size: int | tuple[int, int] | None = None,
    color_mode: str = "auto",
    allow_upscaling: bool = False,
    skip_unreadable: bool = False,
    interpolation: str = "bilinear",
    progress: bool = False,
) -> ImageFolder:
    """Read a folder of your own images: a few labeled ones per class and an unlabeled pool.

    Layout (any image depth below each folder)::

        root/labeled/<class name>/...   the few images you have labeled
        root/unlabeled/...              the pool (optional)
        root/test/<class name>/...      a labeled test set (optional)

    ``root/<class name>/...`` without ``labeled/`` also works. PNG, JPEG, BMP
    and GIF files of any size are read, grey or colour, with Keras'
    :func:`keras.utils.load_img`. Every image is resized to ``image_size``;
    the aspect ratio is kept by cropping the centre of the longer side (as
    ``keep_aspect_ratio=True`` does in Keras), never by stretching.

    Parameters
    ----------
    root : path
    image_size : int or (height, width), optional
        Size of the returned images. ``None`` keeps the images' own size,
        which must then be the same for all of them.
    color_mode : {"auto", "grayscale", "rgb"}
        ``"auto"`` returns grey ``(n, h, w)`` arrays when every image is grey
        and ``(n, h, w, 3)`` when any is in colour (grey images then get three
        equal channels).
    allow_upscaling : bool
        Images smaller than ``image_size`` are an error unless this is set
        (enlarging blurs them; often a smaller ``image_size`` is the better fix).
    skip_unreadable : bool
        Corrupt or truncated image files are an error naming each of them,
        unless this is set: then they are skipped and listed in ``skipped``.
    interpolation : str
        Keras' resampling method (``"bilinear"``, ``"lanczos"``, ``"nearest"``, ...).
    progress : bool
        Show a progress bar while decoding.

    Returns
    -------
    ImageFolder
        ``uint8`` arrays, class ids, class names, file paths and the skipped files.

    Raises
    ------
    ImageFolderError
        For an empty folder, a class folder without images, a single class, a
        class that appears only in ``test/``, unreadable images (unless
        skipped), images of mixed sizes without ``image_size``, or images
        smaller than ``image_size`` (unless ``allow_upscaling``). Nothing is
        moved or deleted.

    Example
    -------
    >>> folder = load_image_folder("my_photos", image_size=64)      # doctest: +SKIP
    >>> folder.x_labeled.shape, folder.class_names                   # doctest: +SKIP
    ((40, 64, 64, 3), ('cat', 'dog'))
    """
    root = Path(root).expanduser()
    if color_mode not in ("auto", "grayscale", "rgb"):
        raise ValueError(f"color_mode must be 'auto', 'grayscale' or 'rgb', got {color_mode!r}.")
    size = _size_of(image_size)
    classes, unlabeled_dir, test_dir = _layout(root)
    class_names = tuple(p.name for p in classes)
    skipped: list[tuple[str, str]] = []
    labeled = {c.name: _scan(c, skipped) for c in classes}
    empty = [str(classes[i]) for i, n in enumerate(class_names) if not labeled[n]]
    if empty:
        raise ImageFolderError(
            "These class folders hold no image file, so their class has no example:\n"
            + _listing(empty, "\nPut at least one labeled image in each, or remove the folder."))
    if len(class_names) < 2:
        raise ImageFolderError(
            f"Only one class ({class_names[0]!r}) was found. Labels need at least two classes "
            f"to choose between: add a second class folder next to {classes[0]}.")
    test: dict[str, list[Path]] | None = None
    if test_dir is not None:
        test_classes = _class_folders(test_dir, "test")
        extra = sorted(p.name for p in test_classes if p.name not in class_names)
        if extra:
            raise ImageFolderError(
                f"The test folder has class(es) {extra} with no labeled example, so no method can "
                f"predict them. Add a few labeled images in {root / 'labeled'}/<class>/ "
                "(or remove those test folders).")
        test = {p.name: _scan(p, skipped) for p in test_classes}
    pool = _scan(unlabeled_dir, skipped) if unlabeled_dir is not None else []

    every = [p for n in class_names for p in labeled[n]] + pool
    every += [p for paths in (test or {}).values() for p in paths]
    unreadable: list[tuple[str, str]] = []
    headers = _read_headers(every, unreadable)
    if unreadable and not skip_unreadable:
        raise _unreadable_error(unreadable)

    sizes = {hw[:2] for hw in headers.values()}
    if size is None and len(sizes) > 1:
        examples = {}
        for path, (h, w, _) in headers.items():
            examples.setdefault((h, w), path)
        shown = "; ".join(f"{h}x{w} e.g. {p}" for (h, w), p in list(examples.items())[:3])
        side = min(min(hw) for hw in sizes)
        raise ImageFolderError(
            f"The images have {len(sizes)} different sizes (height x width: {shown}). Choose one "
            f"size for all, e.g. image_size={side} (or `export {config.IMAGE_SIZE_ENV}={side}`); "
            "each image is then resized with its centre cropped to keep its aspect ratio.")
    if size is None:
        size = next(iter(sizes)) if sizes else (1, 1)
    small = [str(p) for p, (h, w, _) in headers.items() if h < size[0] or w < size[1]]
    if small and not allow_upscaling:
        raise ImageFolderError(
            f"{len(small)} image(s) are smaller than image_size {size[0]}x{size[1]} and would be "
            "enlarged (blurred):\n" + _listing(small, "\nChoose a smaller image_size, or pass "
                                               "allow_upscaling=True to enlarge them."))
    colour = {"auto": any(c for _, _, c in headers.values()), "grayscale": False,
              "rgb": True}[color_mode]

    def decode_all(paths: list[Path]) -> tuple[np.ndarray, list[str]]:
        arrays, kept = [], []
        for path in paths:
            if path not in headers:
                continue
            try:
                arrays.append(_decode(path, size, colour, interpolation))
                kept.append(str(path))
            except (OSError, ValueError, SyntaxError) as err:  # e.g. a truncated file
                unreadable.append((str(path), f"unreadable image ({type(err).__name__}: {err})"))
        shape = (0, *size, 3) if colour else (0, *size)
        return (np.stack(arrays) if arrays else np.zeros(shape, np.uint8)), kept

    import keras  # noqa: F401  (imported before the progress bar starts: it takes seconds)

    with _bar(len(headers), progress) as bar:
        def decoded(paths: list[Path]) -> tuple[np.ndarray, list[str]]:
            x, kept = decode_all(paths)
            bar(sum(p in headers for p in paths))
            return x, kept

        per_class = [decoded(labeled[n]) for n in class_names]
        x_pool, paths_pool = decoded(pool)
        per_test = None if test is None else {n: decoded(paths) for n, paths in test.items()}

    if unreadable and not skip_unreadable:
        raise _unreadable_error(unreadable)
    skipped += unreadable
    lost = [class_names[i] for i, (x, _) in enumerate(per_class) if len(x) == 0]
    if lost:
        raise ImageFolderError(f"Every image of class(es) {lost} was unreadable; fix those files.")
    x_labeled = np.concatenate([x for x, _ in per_class])
    y_labeled = np.concatenate([np.full(len(x), i, np.int64) for i, (x, _) in enumerate(per_class)])
    paths_labeled = [p for _, kept in per_class for p in kept]
    x_test = y_test = paths_test = None
    if per_test is not None:
        names = sorted(per_test)
        x_test = np.concatenate([per_test[n][0] for n in names]) if names else x_labeled[:0]
        y_test = np.concatenate([np.full(len(per_test[n][0]), class_names.index(n), np.int64)
                                 for n in names]) if names else np.zeros(0, np.int64)
        paths_test = [p for n in names for p in per_test[n][1]]
    return ImageFolder(x_labeled, y_labeled, paths_labeled, x_pool, paths_pool, x_test, y_test,
                       paths_test, class_names, skipped, root)


class _bar:
    """A tqdm progress bar when asked for (and installed); otherwise nothing."""

    def __init__(self, total: int, show: bool) -> None:
        self.total, self.show, self._tqdm = total, show, None

    def __enter__(self) -> "_bar":
        if self.show:
            try:
                from tqdm.auto import tqdm
            except ImportError:  # pragma: no cover - tqdm comes with the book's environment
                return self
            self._tqdm = tqdm(total=self.total, desc="reading images", unit="img")
        return self

    def __call__(self, n: int) -> None:
        if self._tqdm is not None:
            self._tqdm.update(n)

    def __exit__(self, *exc: object) -> None:
        if self._tqdm is not None:
            self._tqdm.close()


def _load_folder_arrays(root: Path, verbose: bool) -> tuple[dict[str, np.ndarray], tuple[str, ...], str]:
    """A folder as the chapters' arrays: its labeled images are the pool, ``test/`` the test set.

    Without ``test/``, a stratified quarter of the labeled images is held out as the test set
    (as for digits), so every chapter can still measure. The unlabeled images are not used
    here: the chapters are benchmarks that need the pool's labels. See :mod:`helpers.label_pool`.
    """
    folder = load_image_folder(root, image_size=config.get_image_size())
    x, y = folder.x_labeled, folder.y_labeled
    if folder.x_test is not None and len(folder.x_test):
        arrays = {"x_train": x, "y_train": y, "x_test": folder.x_test, "y_test": folder.y_test}
        where = f"{root} (labeled/ and test/)"
    else:
        counts = np.bincount(y, minlength=len(folder.class_names))
        if counts.min() < 4:
            raise ImageFolderError(
                f"{root} has no test/ folder, and class {folder.class_names[int(counts.argmin())]!r} "
                f"has only {counts.min()} labeled image(s): the chapters need at least 4 per class "
                "to hold a quarter out as a test set. Add labeled images or a test/ folder.")
        x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.25, stratify=y,
                                                            random_state=0)
        arrays = {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}
        where = f"{root} (labeled/, a stratified quarter held out as the test set)"
    if verbose and folder.paths_unlabeled:
        print(f"{len(folder.paths_unlabeled):,} unlabeled images are not used by the chapters; "
              "label them with helpers.label_pool.")
    if verbose and folder.skipped:
        print(f"{len(folder.skipped)} file(s) skipped, e.g. {folder.skipped[0][0]}: {folder.skipped[0][1]}")
    return arrays, folder.class_names, where


def write_demo_folder(
    root: str | os.PathLike,
    *,
    dataset: str = "digits",
    n_labeled_per_class: int = 5,
    n_unlabeled: int = 300,
    n_test_per_class: int = 0,
    size: int = 32,
    colour: str | None = "random",
    share_grey: float = 0.3,
    vary_size: bool = True,
    random_state: int = 0,
) -> dict[str, int]:
    """Write a small folder of PNG images in :func:`load_image_folder`'s layout, for demos and tests.

    Images come from a built-in dataset (``digits`` always works offline),
    enlarged to ``size`` pixels (some up to twice that when ``vary_size``,
    so the loader has to resize them). With ``colour="random"`` each colour
    image gets a random ink and background colour (colour carries no class
    information); with ``colour="class"`` the tint depends on the class;
    ``None`` writes grey images only. A share ``share_grey`` of the images
    stays grey either way.

    Returns
    -------
    dict
        The true class id of every written image, by path: the answer key
        that a real unlabeled pool does not have.
    """
    from PIL import Image

    root = Path(root).expanduser()
    if root.exists() and any(root.iterdir()):
        raise FileExistsError(f"{root} is not empty; write the demo into a new folder.")
    if colour not in (None, "random", "class"):
        raise ValueError(f"colour must be None, 'random' or 'class', got {colour!r}.")
    (x, y), (x_test, y_test), names = load_dataset(dataset, allow_download=False)
    rng = np.random.default_rng(random_state)
    n_classes = len(names)
    labeled = [rng.choice(np.flatnonzero(y == c), n_labeled_per_class, replace=False)
               for c in range(n_classes)]
    rest = np.setdiff1d(np.arange(len(y)), np.concatenate(labeled))
    unlabeled = rng.choice(rest, size=min(n_unlabeled, len(rest)), replace=False)
    tests = [rng.choice(np.flatnonzero(y_test == c), n_test_per_class, replace=False)
             for c in range(n_classes)] if n_test_per_class else []
    class_tints = rng.uniform(0.3, 1.0, size=(n_classes, 3))
    truth: dict[str, int] = {}

    def write(image: np.ndarray, label: int, path: Path) -> None:
        side = int(size * rng.uniform(1.0, 2.0)) if vary_size else size
        img = Image.fromarray(image).resize((side, side), Image.Resampling.BILINEAR)
        if colour is not None and rng.random() >= share_grey:
            ink = class_tints[label] if colour == "class" else rng.uniform(0.3, 1.0, 3)
            back = (1.0 - ink) * 0.3 if colour == "class" else rng.uniform(0.0, 0.3, 3)
            grey = np.asarray(img, np.float32)[..., None] / 255.0
            rgb = 255.0 * (grey * ink + (1.0 - grey) * back)
            img = Image.fromarray(np.clip(np.round(rgb), 0, 255).astype(np.uint8), "RGB")
        path.parent.mkdir(parents=True, exist_ok=True)
        img.save(path)
        truth[str(path)] = int(label)

    safe = [n.replace("/", "-").replace(" ", "_") for n in names]
    for c, picks in enumerate(labeled):
        for i in picks:
            write(x[i], c, root / "labeled" / safe[c] / f"{i:05d}.png")
    for i in unlabeled:
        write(x[i], int(y[i]), root / "unlabeled" / f"{i:05d}.png")
    for c, picks in enumerate(tests):
        for i in picks:
            write(x_test[i], c, root / "test" / safe[c] / f"t{i:05d}.png")
    return truth


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
    """``uint8`` images to ``float32`` tensors in [0, 1] for a CNN: ``(n, h, w)`` becomes
    ``(n, h, w, 1)``; colour images ``(n, h, w, c)`` keep their channels."""
    images = np.asarray(images)
    if images.ndim == 3:
        images = images[..., None]
    if images.ndim != 4:
        raise ValueError(f"Expected images of shape (n, h, w) or (n, h, w, channels), got shape "
                         f"{images.shape}.")
    return images.astype(np.float32) / 255.0



def main(argv: list[str] | None = None) -> int:
    """``python -m helpers.data check [--dataset NAME]``: say where the data is, offline.

    Exits 0 when the dataset is found locally and passes its checksums, 1 otherwise.
    ``python -m helpers.data demo-folder --to PATH`` writes a small image folder
    (:func:`write_demo_folder`).
    """
    import argparse

    parser = argparse.ArgumentParser(prog="python -m helpers.data")
    parser.add_argument("command", choices=["check", "demo-folder"],
                        help="check: find the dataset offline; demo-folder: write a folder of PNG "
                             "images (see write_demo_folder) into --to")
    parser.add_argument("--dataset", default=None, help="default: $BOOK_DATASET or fashion_mnist "
                        "(digits for demo-folder)")
    parser.add_argument("--to", default=None, help="demo-folder: the new folder to write")
    parser.add_argument("--labeled-per-class", type=int, default=5)
    parser.add_argument("--unlabeled", type=int, default=300)
    parser.add_argument("--size", type=int, default=32)
    parser.add_argument("--colour", choices=["random", "class", "none"], default="random")
    args = parser.parse_args(argv)
    if args.command == "demo-folder":
        if not args.to:
            parser.error("demo-folder needs --to FOLDER")
        truth = write_demo_folder(args.to, dataset=args.dataset or "digits",
                                  n_labeled_per_class=args.labeled_per_class,
                                  n_unlabeled=args.unlabeled, size=args.size,
                                  colour=None if args.colour == "none" else args.colour)
        print(f"wrote {len(truth)} images into {args.to}")
        return 0
    try:
        load_dataset(args.dataset, allow_download=False, verbose=True)
    except (DatasetNotFoundError, DataFileError, ValueError) as err:
        print(err)
        return 1
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
