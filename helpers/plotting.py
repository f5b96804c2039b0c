"""Figures in one consistent, readable style.

Every function draws on a fresh ``fig, ax`` (or takes an ``ax``) and returns
the figure, so a notebook cell shows it and myst-nb can caption it. Figures
keep an opaque white background, so they stay readable when the book is read
in dark mode, and use the Okabe-Ito palette, which colour-blind readers can
tell apart.
"""

from __future__ import annotations

from typing import Any, Sequence

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
    images : array of shape (n, h, w), (n, h, w, c) with 1, 3 or 4 channels (colour is
        shown as it is; ``cmap`` applies to grey images only), or (n, h*w) with a square h*w
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
    if images.ndim == 4 and images.shape[-1] == 1:
        images = images[..., 0]
    colour = images.ndim == 4 and images.shape[-1] in (3, 4)
    if not (images.ndim == 3 or colour) or len(images) == 0:
        raise ValueError(f"Expected a non-empty stack of images (n, h, w) or (n, h, w, 3), "
                         f"got shape {images.shape}.")
    if titles is not None and len(titles) != len(images):
        raise ValueError(f"Got {len(images)} images but {len(titles)} titles.")
    n_cols = max(1, min(n_cols, len(images)))
    n_rows = int(np.ceil(len(images) / n_cols))
    fig, axes = plt.subplots(n_rows, n_cols, figsize=(size * n_cols, size * n_rows * 1.15),
                             squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < len(images):
            ax.imshow(images[i], cmap=None if colour else cmap)
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


# --- clustering (chapter 3): contingency matrices, embeddings, scores against k ---------------

#: Ten colours a colour-blind reader can tell apart: Okabe-Ito without black, plus black and wine.
TEN_COLOURS = OKABE_ITO[:8] + ("#000000", "#882255")


def contingency_heatmap(
    counts: np.ndarray,
    row_labels: Sequence[str],
    col_labels: Sequence[str],
    *,
    xlabel: str = "true class",
    ylabel: str = "cluster",
    annotate: bool = True,
    ax: plt.Axes | None = None,
) -> plt.Figure:
    """A heat map of a (cluster x class) count matrix, each row shaded by its own share.

    Parameters
    ----------
    counts : array of shape (n_rows, n_cols)
        E.g. ``helpers.clustering.contingency(y_true, y_pred)[0].T`` (that function returns
        classes x clusters, as scikit-learn's ``contingency_matrix`` does).
    row_labels, col_labels : sequence of str
        Names of the rows (clusters) and columns (classes).
    annotate : bool
        Write the count in each cell (readable up to about 12 x 12).
    """
    counts = np.asarray(counts)
    if counts.ndim != 2 or counts.size == 0:
        raise ValueError(f"counts must be a non-empty 2-D array, got shape {counts.shape}.")
    if len(row_labels) != counts.shape[0] or len(col_labels) != counts.shape[1]:
        raise ValueError(f"counts has shape {counts.shape} but got {len(row_labels)} row labels "
                         f"and {len(col_labels)} column labels.")
    share = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    if ax is None:
        fig, ax = plt.subplots(figsize=(0.75 * counts.shape[1] + 2.5, 0.5 * counts.shape[0] + 1.8))
    else:
        fig = ax.figure
    ax.imshow(share, cmap="Blues", vmin=0, vmax=1, aspect="auto")
    ax.set_xticks(np.arange(counts.shape[1]), labels=list(col_labels), rotation=45, ha="right")
    ax.set_yticks(np.arange(counts.shape[0]), labels=list(row_labels))
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if annotate:
        for (i, j), value in np.ndenumerate(counts):
            ax.text(j, i, f"{value}", ha="center", va="center", fontsize=8,
                    color="white" if share[i, j] > 0.6 else "black")
    fig.tight_layout()
    return fig


def embedding_scatter(
    embedding: np.ndarray,
    labels: np.ndarray,
    names: Sequence[str] | None = None,
    *,
    title: str | None = None,
    ax: plt.Axes | None = None,
    point_size: float = 1.0,
    legend: bool = True,
) -> plt.Figure:
    """A 2-D map (UMAP, t-SNE, PCA) with one colour per label; returns the figure.

    Up to ten labels get the colour-blind-safe :data:`TEN_COLOURS`; more labels cycle
    through a qualitative colour map (over-clusterings are for texture, not reading).
    """
    embedding, labels = np.asarray(embedding), np.asarray(labels)
    if embedding.ndim != 2 or embedding.shape[1] != 2:
        raise ValueError(f"embedding must have shape (n, 2), got {embedding.shape}.")
    if len(embedding) != len(labels):
        raise ValueError(f"embedding and labels must have the same length, got "
                         f"{len(embedding)} and {len(labels)}.")
    values = np.unique(labels)
    if names is not None and len(names) < len(values):
        raise ValueError(f"Got {len(values)} distinct labels but only {len(names)} names.")
    if ax is None:
        fig, ax = plt.subplots(figsize=(6, 5))
    else:
        fig = ax.figure
    cmap = plt.get_cmap("tab20")
    for i, value in enumerate(values):
        colour = TEN_COLOURS[i] if len(values) <= 10 else cmap(i % 20)
        pts = embedding[labels == value]
        label = names[i] if names is not None else str(value)
        ax.scatter(pts[:, 0], pts[:, 1], s=point_size, color=colour, label=label, rasterized=True,
                   linewidths=0)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel("map axis 1 (no unit)")
    ax.set_ylabel("map axis 2 (no unit)")
    if title:
        ax.set_title(title)
    if legend and len(values) <= 10:
        ax.legend(markerscale=8, fontsize=9, loc="center left", bbox_to_anchor=(1.0, 0.5),
                  frameon=False)
    fig.tight_layout()
    return fig


def scores_against_k(
    ks: Sequence[int],
    scores: dict[str, Sequence[float]],
    *,
    xlabel: str = "number of clusters k (log scale)",
    ylabel: str = "score (0 to 1)",
    ax: plt.Axes | None = None,
) -> plt.Figure:
    """Line plot of several clustering scores (``{name: values}``) against the number of clusters."""
    if not scores:
        raise ValueError("scores is empty; pass {score name: one value per k}.")
    for name, values in scores.items():
        if len(values) != len(ks):
            raise ValueError(f"score {name!r} has {len(values)} values for {len(ks)} values of k.")
    if ax is None:
        fig, ax = plt.subplots(figsize=(6, 4))
    else:
        fig = ax.figure
    markers = "osD^v<>"
    for i, (name, values) in enumerate(scores.items()):
        ax.plot(ks, values, marker=markers[i % len(markers)], label=name, color=OKABE_ITO[i % 8])
    ax.set_xscale("log")
    ax.set_xticks(list(ks), labels=[str(k) for k in ks])
    ax.minorticks_off()
    ax.set_ylim(0, 1.02)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend(frameon=False)
    fig.tight_layout()
    return fig


def accuracy_vs_labels(
    summary: Sequence[dict],
    *,
    references: dict[str, float] | None = None,
    ax: plt.Axes | None = None,
) -> plt.Figure:
    """Test accuracy (%) against labels per class, one line with error bars per method.

    Parameters
    ----------
    summary : sequence of dict
        Rows with ``method``, ``labels_per_class``, ``accuracy_mean`` and
        ``accuracy_std`` (accuracies in [0, 1]), e.g. ``evaluation.summarize(table)``.
    references : dict, optional
        ``{label: accuracy in %}`` drawn as dotted horizontal lines (cited reference points).
    """
    rows = list(summary)
    needed = {"method", "labels_per_class", "accuracy_mean", "accuracy_std"}
    if not rows or not needed <= set(rows[0]):
        raise ValueError(f"summary must be a non-empty sequence of rows with keys {sorted(needed)}.")
    if ax is None:
        fig, ax = plt.subplots(figsize=(7.5, 4.8))
    else:
        fig = ax.figure
    methods = list(dict.fromkeys(r["method"] for r in rows))
    markers = "osD^vP*X"
    palette = [c for c in OKABE_ITO if c != "#F0E442"]  # yellow is hard to see on white
    for i, name in enumerate(methods):
        mine = sorted((r for r in rows if r["method"] == name), key=lambda r: r["labels_per_class"])
        x = [r["labels_per_class"] for r in mine]
        ax.errorbar(x, [100 * r["accuracy_mean"] for r in mine],
                    yerr=[100 * r["accuracy_std"] for r in mine], marker=markers[i % len(markers)],
                    capsize=3, label=name, color=palette[i % len(palette)])
    for j, (label, value) in enumerate((references or {}).items()):
        ax.axhline(value, ls=":", color="0.4", lw=1)
        ax.annotate(label, (1.0, value), xycoords=("axes fraction", "data"), ha="right",
                    va="bottom", fontsize=9, color="0.3")
    ax.set_xscale("log")
    budgets = sorted({r["labels_per_class"] for r in rows})
    ax.set_xticks(budgets, labels=[str(b) for b in budgets])
    ax.minorticks_off()
    ax.set_xlabel("labels per class (log scale)")
    ax.set_ylabel("test accuracy (%)")
    ax.legend(fontsize=9, loc="lower right")
    fig.tight_layout()
    return fig


def plot_records(
    records: Sequence[dict[str, Any]],
    x: str,
    y: str,
    group: str | Sequence[str],
    *,
    ax: Any = None,
    xlabel: str | None = None,
    ylabel: str | None = None,
    logx: bool = False,
) -> Any:
    """One line per group of ``records`` (e.g. per mask kind and strategy): ``y`` against ``x``.

    Parameters
    ----------
    records : sequence of dict
        As returned by :func:`helpers.challenges.missing_data_sweep` or
        :func:`helpers.challenges.run_compute_sweep`.
    x, y : str
        Keys for the axes.
    group : str or sequence of str
        Key(s) whose values name a line.
    ax : matplotlib Axes, optional
        Draw into it; a new figure is made otherwise.

    Returns
    -------
    matplotlib Figure
    """
    if not records:
        raise ValueError("records is empty: nothing to plot.")
    keys = [group] if isinstance(group, str) else list(group)
    for key in [x, y, *keys]:
        if key not in records[0]:
            raise ValueError(f"records have no key {key!r}; they have {sorted(records[0])}.")
    if ax is None:
        fig, ax = plt.subplots(figsize=(6, 4))
    else:
        fig = ax.figure
    names = list(dict.fromkeys(tuple(r[k] for k in keys) for r in records))
    markers = "osD^vP*X"
    for i, name in enumerate(names):
        rows = sorted((r for r in records if tuple(r[k] for k in keys) == name), key=lambda r: r[x])
        ax.plot([r[x] for r in rows], [r[y] for r in rows], marker=markers[i % len(markers)],
                label=", ".join(str(v) for v in name))
    if logx:
        from matplotlib.ticker import FuncFormatter

        ax.set_xscale("log")
        plain = FuncFormatter(lambda value, _: f"{value:g}")  # 0.2, 1, 10 rather than 2x10^-1
        ax.xaxis.set_major_formatter(plain)
        ax.xaxis.set_minor_formatter(plain)
    ax.set_xlabel(xlabel or x)
    ax.set_ylabel(ylabel or y)
    ax.legend(frameon=False)
    return fig
