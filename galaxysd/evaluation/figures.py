"""Figures of the evaluation chapters: A1 (SimCLR training), A2 (t-SNE), 4 (metrics vs step), 5 (Pareto)."""

from __future__ import annotations

from typing import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

import galaxysd.plots  # noqa: F401  (applies the book's matplotlib style)

#: Morphology classes of Figure A2: the first tag of this list that a galaxy carries names its class.
MORPHOLOGY_CLASSES = (("merger", "merger"), ("edge-on galaxy", "edge-on"), ("spiral galaxy", "spiral"),
                      ("bar-shaped structure in the center of galaxy", "barred"), ("ring", "ring"),
                      ("cigar-shaped galaxy", "cigar-shaped"), ("in-between round galaxy", "in-between round"),
                      ("completely round galaxy", "completely round"))
CLASS_COLOURS = {"completely round": "#d62728", "in-between round": "#ff7f0e", "cigar-shaped": "#bcbd22",
                 "edge-on": "#8c564b", "spiral": "#1f77b4", "barred": "#17becf", "ring": "#9467bd",
                 "merger": "#e377c2", "other": "#7f7f7f"}


def morphology_class(tags: str, separator: str = "|") -> str:
    """The Figure A2 class of a galaxy from its ``a|b|c`` tags ("other" if none applies).

    Examples
    --------
    >>> morphology_class("spiral galaxy|2 spiral arms")
    'spiral'
    """
    have = set(str(tags).split(separator))
    return next((name for tag, name in MORPHOLOGY_CLASSES if tag in have), "other")


def figure_a1(history: pd.DataFrame, label: str, smooth: int = 10) -> plt.Figure:
    """Figure A1: NT-Xent loss and top-1 positive-pair accuracy against training step.

    Parameters
    ----------
    history : pandas.DataFrame
        Columns ``step``, ``loss``, ``top1`` (:func:`galaxysd.evaluation.train.train_simclr`).
    label : str
        Profile caption (:func:`galaxysd.plots.profile_label`).
    smooth : int, optional
        Width of the running mean drawn over the per-step values.
    """
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.2))
    for ax, column, name in zip(axes, ("loss", "top1"), ("contrastive loss (NT-Xent)", "top-1 accuracy")):
        if len(history):
            ax.plot(history["step"], history[column], color="0.75", lw=0.8, label="per step")
            ax.plot(history["step"], history[column].rolling(max(1, smooth), min_periods=1).mean(), color="C0",
                    label=f"running mean ({smooth} steps)")
            ax.legend()
        else:
            ax.text(0.5, 0.5, "loaded weights:\nnot trained here", ha="center", va="center", transform=ax.transAxes)
        ax.set_xlabel("training step")
        ax.set_ylabel(name)
    axes[1].set_ylim(0, 1)
    fig.suptitle(f"Figure A1: SimCLR training ({label})")
    fig.tight_layout()
    return fig


def figure_a2(points: pd.DataFrame, label: str) -> plt.Figure:
    """Figure A2: t-SNE map of the real galaxies by morphology, with the generated ones placed on it.

    Parameters
    ----------
    points : pandas.DataFrame
        Columns ``x``, ``y``, ``kind`` ("real" or "generated"), ``group`` (morphology class for real
        galaxies, Table 1 letter for generated ones).
    label : str
        Profile caption.
    """
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.8), sharex=True, sharey=True)
    real, gen = points[points.kind == "real"], points[points.kind == "generated"]
    for ax in axes:
        for name, colour in CLASS_COLOURS.items():
            sel = real[real.group == name]
            if len(sel):
                ax.scatter(sel.x, sel.y, s=4, color=colour, alpha=0.6 if ax is axes[0] else 0.15,
                           label=f"{name} ({len(sel)})", rasterized=True)
        ax.set_xticks([]), ax.set_yticks([])
    axes[0].legend(markerscale=3, loc="best")
    axes[0].set_title("real galaxies by morphology")
    if len(gen):
        for letter, sel in gen.groupby("group"):
            axes[1].scatter(sel.x, sel.y, s=14, marker="o", facecolor="none", edgecolor="k", lw=0.5)
            axes[1].annotate(letter, (sel.x.median(), sel.y.median()), weight="bold", color="k",
                             ha="center", va="center", bbox=dict(boxstyle="round,pad=0.15", fc="w", alpha=0.7))
        axes[1].set_title("generated Table 1 galaxies (circles; letter at each prompt's median)")
    else:
        axes[1].set_title("no generated galaxies yet (run 03_generate)")
    fig.suptitle(f"Figure A2: t-SNE of the SimCLR embedding ({label})")
    fig.tight_layout()
    return fig


def figure4(curves: pd.DataFrame, per_prompt: pd.DataFrame, label: str) -> plt.Figure:
    """Figure 4: global realism, diversity and consistency against training step; realism per prompt.

    Parameters
    ----------
    curves : pandas.DataFrame
        Index: training step; columns ``realism``, ``diversity``, ``consistency``.
    per_prompt : pandas.DataFrame
        Index: training step; one column of realism per prompt (letter).
    label : str
        Profile caption.
    """
    fig = plt.figure(figsize=(10, 6.4))
    top = [fig.add_subplot(2, 3, i + 1) for i in range(3)]
    for ax, name in zip(top, ("consistency", "diversity", "realism")):
        ax.plot(curves.index, curves[name], "o-", color="C0")
        ax.set_title(name + (" (lower: more diverse)" if name == "diversity" else ""))
        ax.set_xlabel("training step")
    bottom = fig.add_subplot(2, 1, 2)
    colours = plt.cm.tab20(np.linspace(0, 1, max(len(per_prompt.columns), 1)))
    for colour, letter in zip(colours, per_prompt.columns):
        bottom.plot(per_prompt.index, per_prompt[letter], "o-", ms=3, color=colour, label=letter)
    bottom.set_xlabel("training step")
    bottom.set_ylabel("realism per prompt")
    bottom.legend(ncol=8)
    fig.suptitle(f"Figure 4: quality of the generated galaxies during training ({label})")
    fig.tight_layout()
    return fig


def pareto_front(realism: Sequence[float], diversity: Sequence[float]) -> np.ndarray:
    """Indices of the points no other point beats on both realism (higher) and diversity (lower), by realism.

    Examples
    --------
    >>> pareto_front([0.9, 0.8, 0.7], [0.5, 0.3, 0.4]).tolist()
    [1, 0]
    """
    r, d = np.asarray(realism, float), np.asarray(diversity, float)
    keep = [i for i in range(len(r))
            if not np.any((r >= r[i]) & (d <= d[i]) & ((r > r[i]) | (d < d[i])))]
    return np.asarray(sorted(keep, key=lambda i: r[i]), dtype=int)


def figure5(points: pd.DataFrame, label: str) -> plt.Figure:
    """Figure 5: realism against diversity per prompt type, with each type's Pareto front.

    Parameters
    ----------
    points : pandas.DataFrame
        Columns ``type`` (prompt type), ``realism``, ``diversity`` and ``step``; one row per prompt and
        checkpoint.
    label : str
        Profile caption.
    """
    fig, ax = plt.subplots(figsize=(6.4, 4.8))
    for i, (kind, sel) in enumerate(points.dropna(subset=["realism", "diversity"]).groupby("type", sort=False)):
        colour = f"C{i % 10}"
        ax.scatter(sel.diversity, sel.realism, s=12 + 30 * sel.step / max(points.step.max(), 1), color=colour,
                   alpha=0.7, label=kind)
        front = sel.iloc[pareto_front(sel.realism.to_numpy(), sel.diversity.to_numpy())]
        ax.plot(front.diversity, front.realism, "--", color=colour, lw=1)
    ax.set_xlabel("diversity (mean cosine similarity to real; lower: more diverse)")
    ax.set_ylabel("realism")
    ax.legend(title="prompt type (marker size: training step)")
    ax.set_title(f"Figure 5: realism-diversity Pareto fronts ({label})")
    fig.tight_layout()
    return fig
