"""Figures and tables of Section 3 and Appendix B: Figure 2 (UpSet), Table 1, Figure B3, galleries."""

from __future__ import annotations

import warnings

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

from galaxysd import plots  # noqa: F401 (importing it applies the book's style)
from galaxysd.accessibility import describe
from galaxysd.gz2.labels import has_tag
from galaxysd.gz2.images import read_image
from galaxysd.gz2.prompts import TABLE1_PROMPTS, TABLE1_TAGS
from galaxysd.gz2.schema import TASK_BY_STEM, TASKS
from galaxysd.gz2.tags import PRIMARY_TAGS, SHORT_NAMES


def tag_indicators(labels: pd.DataFrame, tags=PRIMARY_TAGS) -> pd.DataFrame:
    """Boolean frame (galaxy x tag, short names) of the given tags, dropping tags nobody carries."""
    ind = pd.DataFrame({SHORT_NAMES.get(t, t): has_tag(labels, t).to_numpy() for t in tags})
    return ind.loc[:, ind.any(axis=0)]


def _label_bar_sizes(ax: plt.Axes, where: str) -> None:
    """Write each bar's size at its end, as upsetplot's ``show_counts`` does.

    Written here because upsetplot 0.9.0 (its last release) offsets its labels by a one-element
    array, which NumPy 2.4 and later refuse to take as a coordinate.
    """
    for rect in ax.patches:
        if where == "top":  # the intersection bars, drawn upwards
            margin = 0.01 * abs(float(np.subtract(*ax.get_ylim())))
            size = rect.get_height() + rect.get_y()
            ax.text(rect.get_x() + rect.get_width() / 2, size + margin, f"{size:.0f}", ha="center", va="bottom")
        else:  # the totals, drawn leftwards on an inverted x axis
            margin = 0.01 * abs(float(np.subtract(*ax.get_xlim())))
            size = rect.get_width() + rect.get_x()
            ax.text(size + margin, rect.get_y() + rect.get_height() / 2, f"{size:.0f}", ha="right", va="center")


def upset_figure(labels: pd.DataFrame, title: str = "", tags=PRIMARY_TAGS, show_counts: bool = True,
                 min_subset_size: int | None = None, max_subset_rank: int | None = 25) -> plt.Figure:
    """Figure 2: an UpSet plot of how the primary tags co-occur (upsetplot).

    Parameters
    ----------
    labels : pandas.DataFrame
        Galaxies with a ``tags`` column (e.g. the training manifest).
    title : str, optional
        Figure title (say which profile made it).
    tags : sequence of str, optional
        The tag phrases to show (default: the primary tags, without bulge, arm number or winding).
    show_counts : bool, optional
        Print the size above each bar.
    min_subset_size, max_subset_rank : int, optional
        Hide the rarest combinations.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import upsetplot

    ind = tag_indicators(labels, tags)
    ind = ind[ind.any(axis=1)]
    data = upsetplot.from_indicators(list(ind.columns), data=ind)
    fig = plt.figure(figsize=(11, 5.5))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        axes = upsetplot.UpSet(data, subset_size="count", sort_by="cardinality", show_counts=False,
                               min_subset_size=min_subset_size, max_subset_rank=max_subset_rank,
                               facecolor="0.25").plot(fig=fig)
    if show_counts:
        _label_bar_sizes(axes["intersections"], "top")
        _label_bar_sizes(axes["totals"], "left")
    if title:
        fig.suptitle(title)
    combos = int(ind.groupby(list(ind.columns)).ngroups)
    return describe(fig, f"{title + '. ' if title else ''}UpSet plot of how {len(ind.columns)} morphology tags "
                    f"co-occur in {len(ind)} tagged galaxies: bars give the number of galaxies with each of the "
                    f"{min(combos, max_subset_rank or combos)} most common tag combinations (dots below mark "
                    "the tags in a combination), and side bars the total per tag.")


def table1(manifest: pd.DataFrame, labelled: pd.DataFrame | None = None) -> pd.DataFrame:
    """Table 1: the prompts A-P and how many galaxies carry each prompt's tags.

    Parameters
    ----------
    manifest : pandas.DataFrame
        Training galaxies (needs ``tags``).
    labelled : pandas.DataFrame, optional
        All labelled galaxies, for a second count column.

    Returns
    -------
    pandas.DataFrame
        Indexed by letter: ``prompt``, ``training galaxies`` (and ``labelled galaxies``).
    """
    rows = []
    for letter, prompt in TABLE1_PROMPTS.items():
        row = {"prompt": prompt, "training galaxies": _carry(manifest, TABLE1_TAGS[letter])}
        if labelled is not None:
            row["labelled galaxies"] = _carry(labelled, TABLE1_TAGS[letter])
        rows.append(row)
    return pd.DataFrame(rows, index=pd.Index(list(TABLE1_PROMPTS), name="type"))


def _carry(frame: pd.DataFrame, tags) -> int:
    ok = np.ones(len(frame), bool)
    for t in tags:
        ok &= has_tag(frame, t).to_numpy()
    return int(ok.sum())


# positions of the task boxes in Figure B3 (x, y in data units), laid out so that no arrow crosses a box
_POS = {"t01_smooth_or_features": (0.50, 0.92), "t07_rounded": (0.13, 0.72), "t02_edgeon": (0.52, 0.72),
        "t09_bulge_shape": (0.42, 0.51), "t03_bar": (0.85, 0.58), "t04_spiral": (0.85, 0.41),
        "t10_arms_winding": (0.93, 0.23), "t11_arms_number": (0.93, 0.05), "t05_bulge_prominence": (0.60, 0.20),
        "t06_odd": (0.20, 0.27), "t08_odd_feature": (0.20, 0.05)}
_BOX_W, _BOX_H, _BOX_PAD = 0.22, 0.1, 0.012


def _box_exit(centre, towards):
    """Where the straight line from a box's centre towards a point leaves the box (with its padding)."""
    (x0, y0), (x1, y1) = centre, towards
    dx, dy = x1 - x0, y1 - y0
    tx = (_BOX_W / 2 + _BOX_PAD) / abs(dx) if dx else np.inf
    ty = (_BOX_H / 2 + _BOX_PAD) / abs(dy) if dy else np.inf
    t = min(tx, ty)
    return x0 + t * dx, y0 + t * dy


def question_tree_figure(title: str = "") -> plt.Figure:
    """Figure B3: the GZ2 decision tree, drawn from :data:`galaxysd.gz2.schema.TASKS`.

    Each box is a task (its number, short name and answers); each arrow is an answer leading to the
    next task (Willett et al. 2013, Table 2), labelled with the answers that take it ("any answer"
    when all of them do). T01 and T06 (orange) are asked in every classification.

    Parameters
    ----------
    title : str, optional
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> fig = question_tree_figure("Figure B3")  # doctest: +SKIP
    """
    fig, ax = plt.subplots(figsize=(12, 8.5))
    fig.subplots_adjust(left=0.01, right=0.99, bottom=0.01, top=0.95)
    ax.set_xlim(0, 1.06)
    ax.set_ylim(-0.05, 1.0)
    ax.axis("off")
    w, h = _BOX_W, _BOX_H
    for t in TASKS:
        x, y = _POS[t.stem]
        colour = "#fde9c9" if t.number in (1, 6) else "#dbe8f6"
        ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0.01",
                                    facecolor=colour, edgecolor="0.3", zorder=2))
        ax.text(x, y + 0.025, f"T{t.number:02d} {t.short}", ha="center", va="center",
                weight="bold", zorder=3)
        answers = ", ".join(a.label for a in t.answers)
        ax.text(x, y - 0.02, _wrap(answers, 34), ha="center", va="center", fontsize="small", color="0.15",
                zorder=3)
    # one arrow per (task -> next task) edge, from box edge to box edge, labelled with its answers
    edges: dict[tuple[str, str], list[str]] = {}
    for t in TASKS:
        for a in t.answers:
            if a.leads_to:
                edges.setdefault((t.stem, a.leads_to), []).append(a.label)
    for (src, dst), labels in edges.items():
        start = _box_exit(_POS[src], _POS[dst])
        end = _box_exit(_POS[dst], _POS[src])
        ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=14, color="0.35", lw=1.2,
                                     shrinkA=0, shrinkB=0, zorder=1))
        text = "any answer" if len(labels) == len(TASK_BY_STEM[src].answers) else " / ".join(labels)
        ax.text((start[0] + end[0]) / 2, (start[1] + end[1]) / 2, _wrap(text, 22), fontsize="small",
                style="italic", ha="center", va="center", color="#7a2e00", zorder=4,
                bbox=dict(boxstyle="round,pad=0.2", facecolor="white", edgecolor="none", alpha=0.9))
    ax.text(0.53, -0.04, "Orange: asked in every classification. 'star or artifact', T06 'no' and every T08 "
            "answer end the classification.", ha="center", color="0.3")
    if title:
        ax.set_title(title, fontsize="large")
    return describe(fig, f"{title + '. ' if title else ''}Flow chart of the Galaxy Zoo 2 decision tree: "
                    f"{len(TASKS)} questions in boxes, each listing its answers, with arrows from an answer to "
                    "the next question it leads to.")


def _wrap(text: str, width: int) -> str:
    words, lines, cur = text.split(), [], ""
    for word in words:
        if cur and len(cur) + len(word) + 1 > width:
            lines.append(cur)
            cur = word
        else:
            cur = f"{cur} {word}".strip()
    return "\n".join(lines + [cur])


def gallery_figure(frame: pd.DataFrame, tags, n_per_tag: int = 6, seed: int = 0, title: str = "") -> plt.Figure:
    """A grid of images: one row per tag, ``n_per_tag`` random galaxies carrying it.

    Parameters
    ----------
    frame : pandas.DataFrame
        Needs ``tags`` and ``image_path`` (e.g. the training manifest).
    tags : sequence of str
        One row per tag phrase; rows with no galaxy are left blank.
    """
    rng = np.random.default_rng(seed)
    tags = list(tags)
    fig, axes = plt.subplots(len(tags), n_per_tag, figsize=(1.3 * n_per_tag + 2.2, 1.3 * len(tags)),
                             squeeze=False)
    for i, tag in enumerate(tags):
        pool = frame.loc[has_tag(frame, tag), "image_path"].to_numpy()
        pick = rng.choice(pool, min(n_per_tag, len(pool)), replace=False) if len(pool) else []
        for j in range(n_per_tag):
            ax = axes[i, j]
            ax.set_xticks([])
            ax.set_yticks([])
            for s in ax.spines.values():
                s.set_visible(False)
            if j < len(pick):
                ax.imshow(read_image(pick[j]))
        axes[i, 0].set_ylabel(_wrap(SHORT_NAMES.get(tag, tag), 18), rotation=0, ha="right", va="center",
                              fontsize="small")
    fig.subplots_adjust(wspace=0.03, hspace=0.05, top=1 - 0.35 / fig.get_figheight())
    if title:
        fig.suptitle(title, y=1 - 0.1 / fig.get_figheight())
    names = ", ".join(SHORT_NAMES.get(t, t) for t in tags)
    return describe(fig, f"{title + '. ' if title else ''}Grid of galaxy images, one row per tag and up to "
                    f"{n_per_tag} random galaxies carrying it; rows: {names}.")


def task_name(stem: str) -> str:
    """``"T03 bar"`` for ``"t03_bar"``."""
    t = TASK_BY_STEM[stem]
    return f"T{t.number:02d} {t.short}"


def redshift_bias_figure(hart16: pd.DataFrame, catalog: pd.DataFrame, truth: pd.DataFrame | None = None,
                         n_bins: int = 8, title: str = "") -> plt.Figure:
    """Mean "features or disk" vote fraction against redshift, raw and debiased (and true, if known).

    Volunteers call distant, small galaxies smooth too often; the debiased fractions of Hart et al.
    (2016) correct part of that. On a simulated survey the true share of disk galaxies is drawn too.

    Parameters
    ----------
    hart16 : pandas.DataFrame
        The Hart16 table.
    catalog : pandas.DataFrame
        The labelled catalogue (for ``objid`` and ``z``).
    truth : pandas.DataFrame, optional
        Simulated truth (``objid``, ``kind``).
    n_bins : int, optional
        Redshift bins (equal numbers of galaxies).
    """
    col = "t01_smooth_or_features_a02_features_or_disk"
    frame = pd.DataFrame({"objid": hart16["dr7objid"].to_numpy(), "weighted": hart16[f"{col}_weighted_fraction"],
                          "debiased": hart16[f"{col}_debiased"]}).merge(catalog[["objid", "z"]], on="objid")
    if truth is not None:
        frame = frame.merge(truth[["objid", "kind"]], on="objid", how="left")
        frame["true"] = (frame["kind"] != "elliptical").astype(float)
    frame = frame.dropna(subset=["z"])
    frame["bin"] = pd.qcut(frame["z"], n_bins, duplicates="drop")
    grouped = frame.groupby("bin", observed=True)
    z = grouped["z"].median()
    fig, ax = plt.subplots(figsize=(6.5, 4))
    ax.plot(z, grouped["weighted"].mean(), "o-", color="0.5", label="weighted vote fraction")
    ax.plot(z, grouped["debiased"].mean(), "s-", color="C0", label="debiased fraction")
    if truth is not None:
        ax.plot(z, grouped["true"].mean(), "k--", label="true share of disk galaxies (simulation)")
    ax.set_xlabel("redshift")
    ax.set_ylabel('mean "features or disk" fraction')
    ax.set_ylim(0, 1)
    ax.legend()
    if title:
        ax.set_title(_wrap(title, 60))
    fig.tight_layout()
    return fig


def thresholds_table(threshold_inclusive: bool = False, min_votes: int = 20, votes_inclusive: bool = False,
                     fraction: str = "weighted_fraction", thresholds=None) -> pd.DataFrame:
    """The well-sampled conditions of every task (Willett et al. 2013, Table 3), as the notebook applies them.

    Parameters
    ----------
    threshold_inclusive : bool, optional
        Write ``≥`` instead of ``>`` for the preceding answers (see :func:`~galaxysd.gz2.labels.well_sampled`).
    min_votes : int, optional
        Votes a task needs (more than this, or at least this with ``votes_inclusive``).
    votes_inclusive : bool, optional
        Write ``≥`` instead of ``>`` for the votes.
    fraction : str, optional
        The vote fraction the thresholds apply to (named in the column header).
    thresholds : mapping, optional
        Default :data:`galaxysd.gz2.schema.THRESHOLDS`.

    Returns
    -------
    pandas.DataFrame
        Indexed by task (``"T03 bar"``): the preceding answers that must pass (``"—"`` for T01 and
        T06, asked in every classification) and the votes the task needs.

    Examples
    --------
    >>> thresholds_table().loc["T03 bar", "votes on the task"]
    '> 20'
    """
    from galaxysd.gz2.schema import ANSWER_BY_COLUMN, THRESHOLDS

    thresholds = THRESHOLDS if thresholds is None else thresholds
    op = "≥" if threshold_inclusive else ">"
    rows = []
    for stem, conds in thresholds.items():
        parts = []
        for col, thr in conds:
            a, task = ANSWER_BY_COLUMN[col], TASK_BY_STEM[ANSWER_BY_COLUMN[col].task]
            label = f"{task.short} {a.label!r}" if a.label in ("yes", "no") else a.label
            parts.append(f"T{task.number:02d} {label} {op} {thr:.3f}")
        rows.append({"task": task_name(stem),
                     f"preceding answers that must pass ({fraction.replace('_', ' ')})": " and ".join(parts) or "—",
                     "votes on the task": f"{'≥' if votes_inclusive else '>'} {min_votes}"})
    return pd.DataFrame(rows).set_index("task")


def tags_present(frame: pd.DataFrame, tags=PRIMARY_TAGS) -> list[str]:
    """The tags of ``tags`` that at least one galaxy of ``frame`` carries, in the given order."""
    return [t for t in tags if has_tag(frame, t).any()]
