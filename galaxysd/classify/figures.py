"""Table 2 beside the paper's values, and the figure of the sweep over generated positives."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

import galaxysd.plots  # noqa: F401  (applies the book's matplotlib style)
from galaxysd.classify.metrics import SCORES

#: Table 2 of the paper: task -> method -> (purity, completeness, F1).
PAPER_TABLE2 = {
    "spiral": {"baseline": (0.67, 0.45, 0.54), "focal": (0.65, 0.36, 0.46), "augmented": (0.69, 0.70, 0.70)},
    "disk": {"baseline": (0.81, 0.52, 0.63), "focal": (0.80, 0.76, 0.78), "augmented": (0.83, 0.77, 0.80)},
    "bar": {"baseline": (0.59, 0.95, 0.73), "focal": (0.61, 0.85, 0.71), "augmented": (0.67, 0.86, 0.75)},
    "bulge": {"baseline": (0.30, 0.57, 0.40), "focal": (0.30, 0.72, 0.42), "augmented": (0.32, 0.75, 0.44)},
}
METHOD_NAMES = {"baseline": "baseline", "focal": "focal loss", "augmented": "+ generated (ours)",
                "oracle": "+ real instead (oracle)"}


def table2(scores: pd.DataFrame, ours_multiple: float, against: str = "label") -> pd.DataFrame:
    """Table 2: per task and method, each score as ``value [low, high] ± seed std`` beside the paper's.

    Parameters
    ----------
    scores : pandas.DataFrame
        From :func:`galaxysd.stages.s06_classification.score_stage`.
    ours_multiple : float
        Which number of generated positives (x real positives) is "ours".
    against : {"label", "truth"}, optional

    Returns
    -------
    pandas.DataFrame
        Index (task, method); per score a column of this run's text and one of the paper's value.

    Examples
    --------
    >>> table2(scores, 1.0)  # doctest: +SKIP
    """
    rows = []
    chosen = scores[(scores["against"] == against) & ((scores["method"] != "augmented")
                                                     | np.isclose(scores["multiple"], ours_multiple))]
    for (task, method), group in chosen.groupby(["task", "method"], sort=False):
        row = {"task": task, "method": METHOD_NAMES.get(method, method)}
        paper = PAPER_TABLE2.get(task, {}).get(method, (np.nan,) * 3)
        for name, published in zip(SCORES, paper):
            s = group.set_index("score").loc[name]
            row[name] = f"{s.value:.2f} [{s.low:.2f}, {s.high:.2f}] ± {s.seed_std:.2f}"
            if against == "label":
                row[f"{name} (paper)"] = published
        rows.append(row)
    return pd.DataFrame(rows).set_index(["task", "method"])


def table2_numbers(scores: pd.DataFrame, ours_multiple: float) -> pd.DataFrame:
    """Table 2 in plain numbers (for the CSV file): value, low, high, seed_std and the paper's value."""
    keep = (scores["method"] != "augmented") | np.isclose(scores["multiple"], ours_multiple)
    frame = scores[keep].copy()
    frame["paper"] = [PAPER_TABLE2.get(t, {}).get(m, (np.nan,) * 3)[SCORES.index(s)]
                      if a == "label" else np.nan
                      for t, m, s, a in zip(frame["task"], frame["method"], frame["score"], frame["against"])]
    return frame[["task", "method", "multiple", "against", "score", "value", "low", "high", "seed_std", "n_seeds",
                  "paper"]].reset_index(drop=True)


def sweep_figure(scores: pd.DataFrame, label: str, against: str = "label") -> plt.Figure:
    """F1, purity and completeness against the number of generated positives, one panel per task.

    Points are the mean over training seeds; thick bars the 68 % bootstrap interval over test
    galaxies, thin caps the spread (one standard deviation) over seeds. 0 on the horizontal axis is
    the baseline.

    Examples
    --------
    >>> fig = sweep_figure(scores, "demo profile")  # doctest: +SKIP
    """
    data = scores[(scores["against"] == against) & scores["method"].isin(["baseline", "augmented"])]
    tasks = list(dict.fromkeys(data["task"]))
    fig, axes = plt.subplots(1, len(tasks), figsize=(3.2 * len(tasks), 3.2), sharey=True, squeeze=False)
    colours = {"f1": "C0", "purity": "C1", "completeness": "C2"}
    for ax, task in zip(axes[0], tasks):
        for k, name in enumerate(("f1", "purity", "completeness")):
            rows = data[(data["task"] == task) & (data["score"] == name)].sort_values("multiple")
            x = rows["multiple"].to_numpy() + (k - 1) * 0.06
            ax.errorbar(x, rows["value"], yerr=[rows["value"] - rows["low"], rows["high"] - rows["value"]],
                        fmt="o-", color=colours[name], lw=1.2, elinewidth=2.5, label=name if task == tasks[0] else None)
            ax.errorbar(x, rows["value"], yerr=rows["seed_std"], fmt="none", color=colours[name], lw=0.8, capsize=3)
        ax.set_title(task)
        ax.set_xlabel("generated positives / real positives")
        ax.set_ylim(0, 1.02)
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("score on test positives")
    axes[0][0].legend(loc="lower right")
    fig.text(0.99, 0.01, label, ha="right", fontsize="small", color="0.4")
    fig.tight_layout()
    return fig
