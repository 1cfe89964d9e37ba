"""Comparing training methods (Table 2): scores per method with their intervals, and whether
generated positives help.

- :func:`score_task`: purity, completeness and F1 per method and number of generated positives, the
  training seeds pooled, with bootstrap intervals (:func:`galaxysd.classify.metrics.bootstrap_scores`);
- :func:`differences`: every method against the baseline, paired by training seed, with an
  interval over seeds and test galaxies (:func:`galaxysd.classify.metrics.paired_difference`);
- :func:`verdicts`: one sentence per task, a gain or a loss only where that interval excludes zero.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from galaxysd.classify.metrics import (BETTER, SCORES, TOO_SMALL, VERDICT_LEVEL, WORSE, bootstrap_scores,
                                       paired_difference)
from galaxysd.errors import DataError


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
        preds = [run_calls(predictions, r).astype(float) for r in group.itertuples()]
        table = bootstrap_scores(y, preds, confidence, n_resamples, seed)
        rows.append(table.assign(method=method, multiple=multiple).rename_axis("score").reset_index())
    return pd.concat(rows, ignore_index=True)


def run_calls(predictions: pd.DataFrame, run) -> np.ndarray:
    """Which test galaxies one run calls positive: its score at or above its threshold.

    Parameters
    ----------
    predictions : pandas.DataFrame
        A training stage's ``predictions.csv`` (one score column per run).
    run : row of ``runs.csv``
        With ``run`` (the score column) and ``threshold``.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> run_calls(pd.DataFrame({"a": [0.2, 0.5, 0.9]}), SimpleNamespace(run="a", threshold=0.5)).tolist()
    [False, True, True]
    """
    return predictions[run.run].to_numpy() >= run.threshold


def paired_predictions(predictions: pd.DataFrame, runs: pd.DataFrame, method: str, multiple: float,
                       against: str = "label", baseline: str = "baseline"):
    """The test labels and the 0/1 predictions of the baseline and of one method, paired by seed.

    Parameters
    ----------
    predictions, runs : pandas.DataFrame
        A training stage's ``predictions.csv`` (one score column per run) and ``runs.csv`` (``run``,
        ``method``, ``multiple``, ``seed``, ``threshold``).
    method : str
    multiple : float
        Its number of generated positives (units of the real positives).
    against : {"label", "truth"}, optional
    baseline : str, optional

    Returns
    -------
    tuple
        ``(y, baseline_predictions, method_predictions, seeds)``, the predictions ``(n_seeds, n_galaxies)``
        over the seeds both methods ran.

    Raises
    ------
    DataError
        If the two methods share no seed.
    """
    def by_seed(rows: pd.DataFrame) -> dict:
        return {int(r.seed): run_calls(predictions, r).astype(float) for r in rows.itertuples()}

    base = by_seed(runs[runs["method"] == baseline])
    other = by_seed(runs[(runs["method"] == method) & np.isclose(runs["multiple"], multiple)])
    seeds = sorted(set(base) & set(other))
    if not seeds:
        raise DataError(f"runs.csv: no training seed shared by {baseline!r} and {method!r} (x{multiple:g}); "
                        "a paired comparison needs both trained with the same seeds")
    return (predictions[against].to_numpy(float), np.array([base[s] for s in seeds]),
            np.array([other[s] for s in seeds]), seeds)


def differences(predictions: pd.DataFrame, runs: pd.DataFrame, against: str = "label",
                scores: Sequence[str] = SCORES, level: float = VERDICT_LEVEL, n_resamples: int = 2000,
                seed: int = 0) -> pd.DataFrame:
    """Every method against the baseline, paired by seed (:func:`galaxysd.classify.metrics.paired_difference`).

    Parameters
    ----------
    predictions, runs : pandas.DataFrame
        As for :func:`paired_predictions`.
    against : {"label", "truth"}, optional
    scores : sequence of str, optional
    level, n_resamples, seed
        Of the bootstrap.

    Returns
    -------
    pandas.DataFrame
        One row per (method, multiple, score) other than the baseline: ``difference`` (method minus
        baseline), ``low``, ``high``, ``verdict`` and the rest of :func:`paired_difference`'s keys.

    Examples
    --------
    >>> differences(predictions, runs)  # doctest: +SKIP
    """
    rows = []
    pairs = runs.loc[runs["method"] != "baseline", ["method", "multiple"]].drop_duplicates()
    for method, multiple in pairs.itertuples(index=False):
        y, base, other, _ = paired_predictions(predictions, runs, method, multiple, against)
        for name in scores:
            rows.append({"method": method, "multiple": float(multiple), "against": against, "score": name,
                         **paired_difference(y, base, other, name, level, n_resamples, seed)})
    return pd.DataFrame(rows)


#: How a verdict on generated positives reads.
WORDS = {BETTER: "generated positives raise {score}", WORSE: "generated positives lower {score}",
         TOO_SMALL: "too small a difference to tell on this test set"}


def sentence(row, words: dict = WORDS, score: str = "F1") -> str:
    """One verdict in words with its numbers, from a row of :func:`differences`.

    Parameters
    ----------
    row : mapping
        ``a``, ``b``, ``difference``, ``low``, ``high``, ``level``, ``n_seeds``, ``n_galaxies``, ``verdict``.
    words : dict, optional
        Verdict -> phrase (``{score}`` is replaced by ``score``).
    score : str, optional

    Returns
    -------
    str

    Examples
    --------
    >>> sentence({"a": 0.5, "b": 0.6, "difference": 0.1, "low": 0.04, "high": 0.16, "level": 0.95,
    ...           "n_seeds": 3, "n_galaxies": 400, "verdict": "better"})[:35]
    '0.50 -> 0.60 (difference +0.10, 95%'
    """
    return (f"{row['a']:.2f} -> {row['b']:.2f} (difference {row['difference']:+.2f}, {row['level']:.0%} interval "
            f"{row['low']:+.2f} to {row['high']:+.2f} over {row['n_seeds']} paired seed"
            f"{'s' if row['n_seeds'] != 1 else ''} and {row['n_galaxies']:,} test galaxies): "
            + words[row["verdict"]].format(score=score))


def verdicts(diffs: pd.DataFrame, ours_multiple: float, against: str = "label") -> dict:
    """One sentence per task: does "ours" beat the baseline's F1?

    Read from the paired difference over seeds and test galaxies (:func:`differences`): a gain when
    its interval lies above zero, a loss when below, otherwise too small to tell.

    Parameters
    ----------
    diffs : pandas.DataFrame
        :func:`differences` rows with a ``task`` column.
    ours_multiple : float
        The number of generated positives of "ours", in units of the real positives.
    against : {"label", "truth"}, optional

    Returns
    -------
    dict
        ``verdict_<task>`` -> sentence.
    """
    rows = diffs[(diffs["method"] == "augmented") & np.isclose(diffs["multiple"], ours_multiple)
                 & (diffs["score"] == "f1") & (diffs["against"] == against)]
    return {f"verdict_{r['task']}": sentence(r) for _, r in rows.iterrows()}
