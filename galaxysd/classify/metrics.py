"""Scores of a binary classifier on its positives: threshold, purity, completeness, F1, intervals.

- :func:`choose_threshold`: the decision threshold that maximises F1 on the validation set (the same
  rule for every method, so no method is tuned on the test set).
- :func:`binary_scores`: purity (precision), completeness (recall) and F1 (scikit-learn).
- :func:`bootstrap_scores`: the same scores averaged over several training seeds, each with a
  bootstrap interval over test galaxies (:func:`scipy.stats.bootstrap`, paired resampling).
- :func:`paired_difference`: the difference between two methods trained in pairs, with an interval
  over seeds and test galaxies, and the verdict it allows (better, worse, too small to tell).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from galaxysd.errors import DataError

#: The three scores, in Table 2's order.
SCORES = ("purity", "completeness", "f1")


def choose_threshold(y_true: Sequence[float], scores: Sequence[float]) -> float:
    """The score threshold with the largest F1 on a validation set.

    Among the thresholds that :func:`sklearn.metrics.precision_recall_curve` lists, the one with the
    highest F1 (the smallest such threshold if several tie). A galaxy is called positive when its
    score is at least the threshold.

    Parameters
    ----------
    y_true : sequence of float
        0 / 1 labels.
    scores : sequence of float
        Predicted probabilities.

    Returns
    -------
    float

    Raises
    ------
    DataError
        If the validation set has no positives (no threshold can be chosen).

    Examples
    --------
    >>> choose_threshold([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    0.35
    """
    from sklearn.metrics import precision_recall_curve

    y = np.asarray(y_true, dtype=float)
    if not (y == 1).any():
        raise DataError("the validation set has no positives, so no decision threshold can be chosen; "
                        "use a larger validation fraction or sample")
    precision, recall, thresholds = precision_recall_curve(y, np.asarray(scores, dtype=float))
    precision, recall = precision[:-1], recall[:-1]
    f1 = np.divide(2 * precision * recall, precision + recall, out=np.zeros_like(precision),
                   where=(precision + recall) > 0)
    return float(thresholds[int(np.argmax(f1))])


def binary_scores(y_true: Sequence[float], y_pred: Sequence[float]) -> dict:
    """Purity (precision), completeness (recall) and F1 of the positive class (0 where undefined).

    Examples
    --------
    >>> binary_scores([1, 1, 0, 0], [1, 0, 1, 0])
    {'purity': 0.5, 'completeness': 0.5, 'f1': 0.5}
    """
    from sklearn.metrics import f1_score, precision_score, recall_score

    y, p = np.asarray(y_true, int), np.asarray(y_pred, int)
    return {"purity": float(precision_score(y, p, zero_division=0)),
            "completeness": float(recall_score(y, p, zero_division=0)),
            "f1": float(f1_score(y, p, zero_division=0))}


def _counts_score(name: str, y: np.ndarray, p: np.ndarray, axis: int) -> np.ndarray:
    # Vectorised over bootstrap resamples: scikit-learn scores one sample per call, and a thousand
    # resamples x seeds x methods of calls would dominate the chapter's cached run time.
    tp = (y * p).sum(axis)
    predicted, actual = p.sum(axis), y.sum(axis)
    purity = np.divide(tp, predicted, out=np.zeros(np.shape(tp)), where=predicted > 0)
    completeness = np.divide(tp, actual, out=np.zeros(np.shape(tp)), where=actual > 0)
    if name == "purity":
        return purity
    if name == "completeness":
        return completeness
    return np.divide(2 * tp, predicted + actual, out=np.zeros(np.shape(tp)), where=(predicted + actual) > 0)


def bootstrap_scores(y_true: Sequence[float], predictions: Sequence[Sequence[float]], confidence: float = 0.68,
                     n_resamples: int = 1000, seed: int = 0) -> pd.DataFrame:
    """Scores averaged over seeds, with a bootstrap interval over test galaxies and the seeds' spread.

    Parameters
    ----------
    y_true : sequence of float
        0 / 1 labels of the test galaxies.
    predictions : sequence of sequences
        One 0 / 1 prediction vector per training seed, each aligned with ``y_true``.
    confidence : float, optional
        Confidence level of the interval (0.68: one sigma).
    n_resamples : int, optional
        Bootstrap resamples.
    seed : int, optional
        Seed of the resampling (the same resamples for every score).

    Returns
    -------
    pandas.DataFrame
        Index :data:`SCORES`; columns ``value`` (mean over seeds), ``low`` and ``high`` (percentile
        bootstrap interval of that mean, resampling test galaxies with replacement and every seed's
        predictions with them), ``seed_std`` (standard deviation over seeds; 0 for one seed) and
        ``n_seeds``.

    Raises
    ------
    DataError
        If a prediction vector's length differs from ``y_true``'s.

    Examples
    --------
    >>> float(bootstrap_scores([1, 1, 0, 0], [[1, 0, 1, 0], [1, 1, 0, 0]], n_resamples=200).loc["f1", "value"])
    0.75
    """
    from scipy.stats import bootstrap

    y = np.asarray(y_true, dtype=float)
    preds = np.atleast_2d(np.asarray(predictions, dtype=float))
    if preds.shape[1] != len(y):
        raise DataError(f"{preds.shape[1]} predictions per seed for {len(y)} test galaxies")
    rows = {}
    for name in SCORES:
        per_seed = np.array([_counts_score(name, y, p, 0) for p in preds])

        def statistic(labels, *seed_preds, axis=-1):
            return np.mean([_counts_score(name, labels, p, axis) for p in seed_preds], axis=0)

        result = bootstrap((y, *preds), statistic, paired=True, vectorized=True, n_resamples=n_resamples,
                           confidence_level=confidence, method="percentile", rng=np.random.default_rng(seed))
        low, high = result.confidence_interval
        rows[name] = {"value": float(per_seed.mean()), "low": float(low), "high": float(high),
                      "seed_std": float(per_seed.std(ddof=1)) if len(per_seed) > 1 else 0.0,
                      "n_seeds": len(per_seed)}
    return pd.DataFrame.from_dict(rows, orient="index")


#: Confidence level of the interval a verdict between two methods is read from.
VERDICT_LEVEL = 0.95
#: The verdict words: the interval of the difference (b minus a) above zero, below zero, or across it.
BETTER, WORSE, TOO_SMALL = "better", "worse", "too small to tell"


def paired_difference(y_true: Sequence[float], predictions_a, predictions_b, name: str = "f1",
                      level: float = VERDICT_LEVEL, n_resamples: int = 2000, seed: int = 0) -> dict:
    """The difference of a score between two methods trained in pairs, with a hierarchical bootstrap interval.

    Method b's score minus method a's, averaged over training seeds, where seed ``s`` of a and seed
    ``s`` of b are a pair (the same start weights and order, :mod:`galaxysd.classify.train`) scored on
    the same test galaxies. Each bootstrap resample draws the seed pairs with replacement and, once,
    the test galaxies with replacement, and scores both methods of every drawn pair on those galaxies:
    the interval holds both the luck of the training run and that of the test set, while what the
    two methods share (the test galaxies, the seed's start) cancels in the difference. Written by hand
    because :func:`scipy.stats.bootstrap` resamples one level only.

    Parameters
    ----------
    y_true : sequence of float
        0 / 1 labels of the test galaxies.
    predictions_a, predictions_b : array-like, shape (n_seeds, n_galaxies)
        0 / 1 predictions per seed, the rows of a and b paired.
    name : {"purity", "completeness", "f1"}, optional
    level : float, optional
        Confidence level of the percentile interval.
    n_resamples : int, optional
    seed : int, optional
        Seed of the resampling.

    Returns
    -------
    dict
        ``a``, ``b`` (seed-averaged scores), ``difference`` (b - a), ``low``, ``high``, ``seed_std``
        (standard deviation of the per-seed differences), ``n_seeds``, ``n_galaxies``, ``level`` and
        ``verdict``: :data:`BETTER` if the interval lies above zero, :data:`WORSE` below, else
        :data:`TOO_SMALL`.

    Raises
    ------
    DataError
        If the two methods have different numbers of seeds or predictions of the wrong length.

    Examples
    --------
    >>> y = np.tile([1, 1, 0, 0], 25)
    >>> paired_difference(y, [y * 0 + 1], [y])["verdict"]
    'better'
    """
    y = np.asarray(y_true, dtype=float)
    a = np.atleast_2d(np.asarray(predictions_a, dtype=float))
    b = np.atleast_2d(np.asarray(predictions_b, dtype=float))
    if a.shape != b.shape or a.shape[1] != len(y):
        raise DataError(f"paired predictions must have the same shape (seeds, {len(y)} test galaxies); "
                        f"got {a.shape} and {b.shape}")
    n_seeds, n = a.shape
    y_seeds = np.broadcast_to(y, a.shape)
    score_a, score_b = _counts_score(name, y_seeds, a, 1), _counts_score(name, y_seeds, b, 1)
    per_seed = score_b - score_a
    rng = np.random.default_rng(seed)
    boot = []
    for start in range(0, n_resamples, 250):  # chunks bound the memory: (chunk, n) per seed
        size = min(250, n_resamples - start)
        rows = rng.integers(0, n, (size, n))
        seeds = rng.integers(0, n_seeds, (size, n_seeds))
        ys = y[rows]
        diff = np.stack([_counts_score(name, ys, b[s][rows], 1) - _counts_score(name, ys, a[s][rows], 1)
                         for s in range(n_seeds)])  # (seed, resample)
        boot.append(np.take_along_axis(diff.T, seeds, axis=1).mean(axis=1))
    low, high = np.quantile(np.concatenate(boot), [(1 - level) / 2, (1 + level) / 2])
    verdict = BETTER if low > 0 else WORSE if high < 0 else TOO_SMALL
    return {"a": float(score_a.mean()), "b": float(score_b.mean()),
            "difference": float(per_seed.mean()), "low": float(low), "high": float(high),
            "seed_std": float(per_seed.std(ddof=1)) if n_seeds > 1 else 0.0, "n_seeds": int(n_seeds),
            "n_galaxies": int(n), "level": float(level), "verdict": verdict}
