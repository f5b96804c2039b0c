"""Figures in one consistent, readable style.

Every function draws on a fresh ``fig, ax`` (or takes an ``ax``) and returns
the figure, so a notebook cell shows it and myst-nb can caption it. Figures
keep an opaque white background, so they stay readable when the book is read
in dark mode, and use the Okabe-Ito palette, which colour-blind readers can
tell apart.
"""

from __future__ import annotations

from typing import Sequence

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np

#: Okabe & Ito's colour-blind-safe palette (black last).
OKABE_ITO = ("#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2",
             "#D55E00", "#CC79A7", "#999999", "#000000")


def use_book_style() -> None:
    """Set matplotlib defaults for the book: large fonts, white background, safe colours."""
    mpl.rcParams.update({
        "figure.facecolor": "white",
        "axes.facecolor": "white",
        "savefig.facecolor": "white",
        "figure.dpi": 100,
        "savefig.dpi": 120,
        "font.size": 12,
        "axes.titlesize": 12,
        "axes.labelsize": 12,
        "legend.fontsize": 11,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.prop_cycle": mpl.cycler(color=list(OKABE_ITO)),
        "image.cmap": "gray_r",
    })


def image_grid(
    images: np.ndarray,
    titles: Sequence[str] | None = None,
    *,
    n_cols: int = 10,
    size: float = 1.2,
    cmap: str = "gray_r",
) -> plt.Figure:
    """Show a handful of images in a grid, each with an optional title above it.

    Parameters
    ----------
    images : array of shape (n, h, w) or (n, h*w) with a square h*w
    titles : sequence of str, optional
        One short label per image (true class, cluster id, ...).
    n_cols : int
        Images per row.
    size : float
        Inches per image.
    """
    images = np.asarray(images)
    if images.ndim == 2:
        side = int(round(np.sqrt(images.shape[1])))
        if side * side != images.shape[1]:
            raise ValueError(f"Cannot reshape vectors of length {images.shape[1]} into square images.")
        images = images.reshape(len(images), side, side)
    if images.ndim != 3 or len(images) == 0:
        raise ValueError(f"Expected a non-empty stack of images (n, h, w), got shape {images.shape}.")
    if titles is not None and len(titles) != len(images):
        raise ValueError(f"Got {len(images)} images but {len(titles)} titles.")
    n_cols = max(1, min(n_cols, len(images)))
    n_rows = int(np.ceil(len(images) / n_cols))
    fig, axes = plt.subplots(n_rows, n_cols, figsize=(size * n_cols, size * n_rows * 1.15),
                             squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < len(images):
            ax.imshow(images[i], cmap=cmap)
            if titles is not None:
                ax.set_title(str(titles[i]), fontsize=9)
    fig.tight_layout()
    return fig


def class_examples(
    x: np.ndarray,
    y: np.ndarray,
    class_names: Sequence[str],
    *,
    per_class: int = 8,
    random_state: int | None = 0,
    cmap: str = "gray_r",
) -> plt.Figure:
    """A grid with one row per class: ``per_class`` random examples, the class name on the left."""
    x, y = np.asarray(x), np.asarray(y)
    if len(x) != len(y):
        raise ValueError(f"x and y must have the same length, got {len(x)} and {len(y)}.")
    rng = np.random.default_rng(random_state)
    classes = np.unique(y)
    fig, axes = plt.subplots(len(classes), per_class, squeeze=False,
                             figsize=(0.9 * per_class + 1.6, 0.9 * len(classes)))
    for row, c in enumerate(classes):
        members = np.flatnonzero(y == c)
        picks = rng.choice(members, size=min(per_class, len(members)), replace=False)
        for col, ax in enumerate(axes[row]):
            ax.set_xticks([])
            ax.set_yticks([])
            for spine in ax.spines.values():
                spine.set_visible(False)
            if col < len(picks):
                ax.imshow(x[picks[col]], cmap=cmap)
        axes[row, 0].set_ylabel(class_names[int(c)], rotation=0, ha="right", va="center",
                                fontsize=10)
    fig.subplots_adjust(wspace=0.05, hspace=0.05, left=0.2)
    return fig


def bar_counts(
    counts: Sequence[float],
    labels: Sequence[str],
    *,
    xlabel: str = "number of images",
    ax: plt.Axes | None = None,
) -> plt.Figure:
    """A horizontal bar chart of counts per class (class balance)."""
    if len(counts) != len(labels):
        raise ValueError(f"Got {len(counts)} counts but {len(labels)} labels.")
    if ax is None:
        fig, ax = plt.subplots(figsize=(6, 0.35 * len(labels) + 1))
    else:
        fig = ax.figure
    positions = np.arange(len(labels))
    ax.barh(positions, counts, color=OKABE_ITO[4])
    ax.set_yticks(positions, labels=list(labels))
    ax.invert_yaxis()
    ax.set_xlabel(xlabel)
    fig.tight_layout()
    return fig
