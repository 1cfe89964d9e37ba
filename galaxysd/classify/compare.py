"""Comparing training methods (Table 2): scores per method with their intervals, and whether
generated positives help.

- :func:`score_task`: purity, completeness and F1 per method and number of generated positives, the
  training seeds pooled, with bootstrap intervals (:func:`galaxysd.classify.metrics.bootstrap_scores`);
- :func:`verdicts`: one sentence per task, a gain or a loss only beyond two uncertainties.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from galaxysd.classify.metrics import bootstrap_scores


def score_task(predictions: pd.DataFrame, runs: pd.DataFrame, against: str = "label", confidence: float = 0.68,
               n_resamples: int = 1000, seed: int = 0) -> pd.DataFrame:
    """Purity, completeness and F1 per method and number of generated positives, seeds pooled.

    Returns
    -------
    pandas.DataFrame
        One row per (method, multiple, score): ``value``, ``low``, ``high``, ``seed_std``, ``n_seeds``.
    """
    y = predictions[against].to_numpy(float)
    rows = []
    for (method, multiple), group in runs.groupby(["method", "multiple"], sort=False):
        preds = [(predictions[r.run].to_numpy() >= r.threshold).astype(float) for r in group.itertuples()]
        table = bootstrap_scores(y, preds, confidence, n_resamples, seed)
        rows.append(table.assign(method=method, multiple=multiple).rename_axis("score").reset_index())
    return pd.concat(rows, ignore_index=True)


def method_difference(scores: pd.DataFrame, task: str, against: str, ours: float, name: str = "f1"):
    """The baseline's and "ours" (augmented at ``ours`` times the positives) rows of :func:`score_task`
    for one task and score, and the uncertainty of their difference."""
    rows = scores[(scores["task"] == task) & (scores["against"] == against) & (scores["score"] == name)]
    base = rows[rows["method"] == "baseline"].iloc[0]
    aug = rows[(rows["method"] == "augmented") & np.isclose(rows["multiple"], ours)].iloc[0]
    # A method's uncertainty: its bootstrap half-width (test galaxies) and the standard error of the
    # mean over training seeds, in quadrature.
    def sigma(r) -> float:
        return float(np.hypot((r.high - r.low) / 2, r.seed_std / np.sqrt(r.n_seeds)))

    return base, aug, float(np.hypot(sigma(base), sigma(aug)))


def verdicts(scores: pd.DataFrame, ours_multiple: float) -> dict:
    """One sentence per task: does "ours" beat the baseline's F1, given the intervals?

    The difference of the seed-averaged F1s is compared with its uncertainty: per method, the 68 %
    bootstrap half-width over test galaxies and the standard error over training seeds, the two
    methods added in quadrature (conservative: both are scored on the same test galaxies). Beyond two
    uncertainties it is a gain or a loss, otherwise too small to tell.

    Returns
    -------
    dict
        ``verdict_<task>`` -> sentence.
    """
    out = {}
    for task in dict.fromkeys(scores["task"]):
        base, aug, sigma = method_difference(scores, task, "label", ours_multiple)
        diff = aug.value - base.value
        if abs(diff) > 2 * sigma:
            word = "generated positives raise F1" if diff > 0 else "generated positives lower F1"
        else:
            word = "too small a difference to tell on this test set"
        out[f"verdict_{task}"] = (f"{base.value:.2f} -> {aug.value:.2f} (difference {diff:+.2f} ± {sigma:.2f}): "
                                  f"{word}")
    return out
