"""The one place that decides *how much* the book computes and *on what*.

Two environment variables steer every chapter:

``BOOK_PROFILE``
    ``full`` (default) runs the published experiments on the whole dataset;
    ``quick`` runs the very same code on a stratified subsample with fewer
    epochs and one label draw, so that each chapter finishes in about a minute
    on a 2-core laptop (this is what the tests and CI use).
``BOOK_DATASET``
    ``fashion_mnist`` (default), ``mnist`` (the source article's choice),
    ``digits`` (scikit-learn's bundled 8x8 digits, for tiny demos and tests), or
    ``folder:/path/to/images`` (your own images, see
    :func:`helpers.data.load_image_folder` for the layout).
``BOOK_IMAGE_SIZE``
    Only for a ``folder:`` dataset: the size every image is resized to, e.g.
    ``32`` or ``48x64`` (height x width). Unset, the images must all have one size.

Nothing here does work at import time: TensorFlow is imported only inside
:func:`seed_everything`.

Example
-------
>>> from helpers import config
>>> settings = config.setup(profile="quick", dataset="digits", verbose=False)
>>> settings.profile.name, settings.dataset
('quick', 'digits')
"""

from __future__ import annotations

import os
import random
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

#: The seed every chapter starts from unless told otherwise.
SEED: int = 42

#: Names accepted for ``BOOK_DATASET`` / ``dataset=``.
DATASETS: tuple[str, ...] = ("fashion_mnist", "mnist", "digits")
DEFAULT_DATASET: str = "fashion_mnist"
DEFAULT_PROFILE: str = "full"

PROFILE_ENV = "BOOK_PROFILE"
DATASET_ENV = "BOOK_DATASET"
IMAGE_SIZE_ENV = "BOOK_IMAGE_SIZE"
#: ``BOOK_DATASET=folder:/path`` names a folder of your own images.
FOLDER_PREFIX = "folder:"
CACHE_ENV = "BOOK_CACHE_DIR"


@dataclass(frozen=True)
class Profile:
    """How much computing a run of the book does.

    Attributes
    ----------
    name : str
        ``"quick"`` or ``"full"``.
    n_pool : int or None
        Size of the unlabeled pool (a stratified subsample of the training
        split); ``None`` keeps all of it.
    n_test : int or None
        Size of the test set (stratified subsample); ``None`` keeps all of it.
    epochs : int
        Epochs for supervised training and fine-tuning on the few labels.
    pretrain_epochs : int
        Epochs for training on the unlabeled pool (autoencoders, pseudo-labels).
    n_draws : int
        How many independent draws of the labeled subset each experiment
        averages over (the error bars of the book).
    label_budgets : tuple of int
        Labels *per class* that the evaluation sweeps.
    batch_size : int
        Mini-batch size for Keras training.
    """

    name: str
    n_pool: int | None
    n_test: int | None
    epochs: int
    pretrain_epochs: int
    n_draws: int
    label_budgets: tuple[int, ...]
    batch_size: int = 128

    def describe(self) -> str:
        """A one-line, human-readable summary of the profile."""
        pool = "all" if self.n_pool is None else f"{self.n_pool:,}"
        test = "all" if self.n_test is None else f"{self.n_test:,}"
        draws = "1 label draw" if self.n_draws == 1 else f"{self.n_draws} label draws"
        return f"profile {self.name} (pool {pool}, test {test}, {self.epochs} epochs, {draws})"


PROFILES: dict[str, Profile] = {
    "quick": Profile(
        name="quick",
        n_pool=5000,
        n_test=1000,
        epochs=15,
        pretrain_epochs=3,
        n_draws=1,
        label_budgets=(1, 10, 50),
    ),
    "full": Profile(
        name="full",
        n_pool=None,
        n_test=None,
        epochs=60,
        pretrain_epochs=15,
        n_draws=3,
        label_budgets=(1, 5, 10, 50, 100),
    ),
}


@dataclass(frozen=True)
class Settings:
    """What :func:`setup` decided: the profile, the dataset and the seed."""

    profile: Profile
    dataset: str
    seed: int

    def describe(self) -> str:
        """A one-line summary for the top of a notebook."""
        return f"{self.dataset}, {self.profile.describe()}, seed {self.seed}"


def get_profile(name: str | None = None) -> Profile:
    """Return the :class:`Profile` called ``name``, or the one ``BOOK_PROFILE`` names.

    Parameters
    ----------
    name : str, optional
        ``"quick"`` or ``"full"``. When omitted, the environment variable
        ``BOOK_PROFILE`` decides, and ``"full"`` is the default.

    Raises
    ------
    ValueError
        If the name is not a known profile.
    """
    chosen = name if name is not None else os.environ.get(PROFILE_ENV, DEFAULT_PROFILE)
    key = chosen.strip().lower()
    if key not in PROFILES:
        raise ValueError(
            f"Unknown profile {chosen!r}. Use one of {sorted(PROFILES)}, "
            f"e.g. `export {PROFILE_ENV}=quick` for a fast run."
        )
    return PROFILES[key]


def get_dataset_name(name: str | None = None) -> str:
    """Return the dataset name to use, from ``name`` or ``BOOK_DATASET``.

    A built-in name is normalised (``"Fashion-MNIST"`` -> ``"fashion_mnist"``).
    ``"folder:/path"`` names a folder of your own images; it comes back as
    ``"folder:"`` followed by the folder's absolute path.

    Raises
    ------
    ValueError
        If the name is not one of :data:`DATASETS`, or names a folder that does not exist.
    """
    chosen = name if name is not None else os.environ.get(DATASET_ENV, DEFAULT_DATASET)
    if not isinstance(chosen, str):
        raise TypeError(f"dataset must be a string, got {chosen!r} ({type(chosen).__name__}).")
    if chosen.strip().lower().startswith(FOLDER_PREFIX):
        raw = chosen.strip()[len(FOLDER_PREFIX):].strip()
        if not raw:
            raise ValueError(f"{chosen!r} names no folder. Write the path after the colon, "
                             f"e.g. `export {DATASET_ENV}={FOLDER_PREFIX}/home/me/photos`.")
        path = Path(raw).expanduser().resolve()
        if not path.is_dir():
            raise ValueError(f"The dataset {chosen!r} names the folder {path}, which does not "
                             "exist or is not a folder. Check the path (relative paths are "
                             "relative to where Python runs).")
        return f"{FOLDER_PREFIX}{path}"
    key = chosen.strip().lower().replace("-", "_")
    if key not in DATASETS:
        raise ValueError(
            f"Unknown dataset {chosen!r}. Use one of {list(DATASETS)} or "
            f"'{FOLDER_PREFIX}/path/to/your/images', e.g. `export {DATASET_ENV}=mnist`."
        )
    return key


def folder_of(dataset: str) -> Path | None:
    """The folder a ``"folder:/path"`` dataset name points to, or ``None`` for a built-in dataset."""
    if isinstance(dataset, str) and dataset.startswith(FOLDER_PREFIX):
        return Path(dataset[len(FOLDER_PREFIX):])
    return None


def get_image_size(value: str | int | tuple[int, int] | None = None) -> tuple[int, int] | None:
    """The image size for a ``folder:`` dataset, from ``value`` or ``BOOK_IMAGE_SIZE``.

    Accepts ``32`` (square), ``"48x64"`` (height x width) or a pair; returns
    ``(height, width)``, or ``None`` when neither is set (keep the images' own size).

    Raises
    ------
    ValueError
        If the size is not one or two positive integers.
    """
    chosen = value if value is not None else os.environ.get(IMAGE_SIZE_ENV) or None
    if chosen is None:
        return None
    parts: list[object]
    if isinstance(chosen, str):
        parts = [p.strip() for p in chosen.lower().replace("×", "x").split("x")]
    elif isinstance(chosen, (tuple, list)):
        parts = list(chosen)
    else:
        parts = [chosen]
    ok = 1 <= len(parts) <= 2 and all(
        (isinstance(p, str) and p.isdigit())
        or (isinstance(p, (int, np.integer)) and not isinstance(p, bool)) for p in parts)
    sizes = [int(p) for p in parts] if ok else []  # type: ignore[call-overload]
    ok = ok and all(s >= 1 for s in sizes)
    if not ok:
        raise ValueError(f"Image size {chosen!r} is not one or two positive integers. Use e.g. 32 "
                         f"or '48x64' (height x width), e.g. `export {IMAGE_SIZE_ENV}=32`.")
    return (sizes[0], sizes[-1])


def seed_everything(seed: int = SEED, *, threads: int | None = None) -> None:
    """Make Python, NumPy, Keras and TensorFlow runs repeatable on a CPU.

    Seeds every random generator, switches TensorFlow to deterministic
    kernels, runs one TensorFlow operation at a time (its inter-op pool has one
    thread; each operation still uses every core), and (optionally) fixes the
    threads of each operation. With the same seed, the same data and the same
    versions, training gives the same weights on the same machine.

    Deterministic kernels alone are not enough: with two inter-op threads on a
    2-core machine, one SimCLR epoch gave a loss that changed in the seventh digit
    from one process to the next, and chapters drifted by tenths of a point. With
    one inter-op thread it repeated to the last bit, and that short run took
    about 7 % longer.

    Parameters
    ----------
    seed : int
        The seed for :mod:`random`, NumPy and Keras/TensorFlow.
    threads : int, optional
        Threads for TensorFlow's intra-op pool (the threads of one operation).
        The pools can only be set before TensorFlow runs its first operation;
        afterwards they are left as they are.
    """
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}.")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("TF_DETERMINISTIC_OPS", "1")
    random.seed(int(seed))
    np.random.seed(int(seed))
    import keras  # local import: keras is slow to import and not needed by every helper
    import tensorflow as tf

    keras.utils.set_random_seed(int(seed))
    # Many small fits trigger TensorFlow's "retracing" warning, which names functions by memory
    # address; it is noise on a printed page and changes from run to run.
    tf.get_logger().setLevel("ERROR")
    tf.config.experimental.enable_op_determinism()
    try:
        tf.config.threading.set_inter_op_parallelism_threads(1)  # see the docstring
        if threads is not None:
            tf.config.threading.set_intra_op_parallelism_threads(int(threads))
    except RuntimeError:  # TensorFlow already initialised: keep its pools
        pass


def setup(
    profile: str | None = None,
    dataset: str | None = None,
    seed: int = SEED,
    *,
    deterministic: bool = True,
    verbose: bool = True,
) -> Settings:
    """Read the profile and dataset, seed everything, and report the choice.

    This is what each chapter's setup cell calls. Arguments override the
    environment variables ``BOOK_PROFILE`` and ``BOOK_DATASET``.

    Parameters
    ----------
    profile, dataset : str, optional
        Override the environment (see :func:`get_profile`, :func:`get_dataset_name`).
    seed : int
        Global seed.
    deterministic : bool
        Also seed Keras/TensorFlow (imports TensorFlow, about 5 s).
    verbose : bool
        Print a one-line summary.
    """
    global _SETUP_AT
    _SETUP_AT = time.monotonic()  # a page's run time counts from here (see run_time_words)
    settings = Settings(get_profile(profile), get_dataset_name(dataset), int(seed))
    # Show NumPy scalars as plain numbers (69.6, not np.float64(69.6)) in the book's outputs.
    np.set_printoptions(legacy="1.25")
    if deterministic:
        seed_everything(settings.seed)
    else:
        random.seed(settings.seed)
        np.random.seed(settings.seed)
    if verbose:
        print(settings.describe())
    return settings


#: When :func:`setup` last ran in this process (``time.monotonic()``), or None.
_SETUP_AT: float | None = None


def duration_words(seconds: float) -> str:
    """A duration for prose: ``"40 seconds"``, ``"3.5 minutes"``, ``"1.6 hours"``."""
    from .validation import check_float  # imported here: config stays light to import

    seconds = check_float(seconds, "seconds", minimum=0.0)
    if seconds < 90:
        n = round(float(seconds))
        return f"{n} second{'s' if n != 1 else ''}"
    if seconds < 90 * 60:
        return f"{seconds / 60:.1f} minutes"
    return f"{seconds / 3600:.1f} hours"


def run_time_words() -> str:
    """How long ago :func:`setup` ran, in words: what executing a page took so far.

    Each page's last (hidden) cell glues it, and the page's opening says how long the page
    took to execute when the book was built, on the machine that built it.

    Raises
    ------
    RuntimeError
        If :func:`setup` has not run in this process.
    """
    if _SETUP_AT is None:
        raise RuntimeError("config.setup() has not run in this process: run the page's setup cell "
                           "(it calls config.setup()) first.")
    return duration_words(time.monotonic() - _SETUP_AT)


def repo_root() -> Path:
    """The book's repository root (the folder holding ``_config.yml``), if any."""
    here = Path(__file__).resolve().parent.parent
    return here


def cache_dir(*parts: str, create: bool = True) -> Path:
    """Folder for artefacts that are expensive to recompute (weights, clusterings).

    ``BOOK_CACHE_DIR`` overrides the location. Otherwise the cache lives in
    ``.cache/`` at the repository root when the book is run from a checkout,
    and in ``~/.cache/few-labels-many-images`` when ``helpers`` was
    pip-installed (Colab, Binder).

    Parameters
    ----------
    *parts : str
        Sub-folders, e.g. ``cache_dir("autoencoder", "full-fashion_mnist")``.
    create : bool
        Create the folder if it does not exist.
    """
    env = os.environ.get(CACHE_ENV)
    if env:
        base = Path(env).expanduser()
    elif (repo_root() / "_config.yml").exists():
        base = repo_root() / ".cache"
    else:
        base = Path.home() / ".cache" / "few-labels-many-images"
    path = base.joinpath(*parts)
    if create:
        path.mkdir(parents=True, exist_ok=True)
    return path
