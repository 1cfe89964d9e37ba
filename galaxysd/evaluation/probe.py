"""Linear probes: does an embedding know a galaxy's morphology?

A logistic regression (scikit-learn) on the frozen embedding learns each tag from part of the
labelled galaxies and is scored on the rest by balanced accuracy (the mean of the hit rates on
galaxies with and without the tag, so a rare tag cannot be "learnt" by always saying no). The same
probe on a second embedding -- a randomly initialised encoder -- says how much training added; a
paired bootstrap over the held-out galaxies puts an interval on the difference.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from galaxysd.errors import DataError
from galaxysd.evaluation.metrics import check_embeddings


def tag_matrix(tags: Sequence[str], features: Sequence[str], separator: str = "|") -> pd.DataFrame:
    """Boolean table: does galaxy i carry tag f? (``tags`` as the manifest writes them, ``a|b|c``).

    Examples
    --------
    >>> tag_matrix(["smooth|completely round galaxy", "spiral galaxy"], ["smooth", "spiral galaxy"]).sum().tolist()
    [1, 1]
    """
    sets = [set(str(t).split(separator)) if isinstance(t, str) and t else set() for t in tags]
    return pd.DataFrame({f: [f in s for s in sets] for f in features})


def split_indices(n: int, test_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A seeded random split of ``n`` galaxies into training and held-out indices."""
    order = np.random.default_rng([seed, 7]).permutation(n)
    n_test = int(round(test_fraction * n))
    return np.sort(order[n_test:]), np.sort(order[:n_test])


def fit_logistic(x: np.ndarray, y: np.ndarray, seed: int = 0):
    """Standardise, then a class-balanced logistic regression (the probe and the judges)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    model = make_pipeline(StandardScaler(), LogisticRegression(C=0.1, class_weight="balanced", max_iter=2000,
                                                               random_state=seed))
    return model.fit(x, y)


def balanced_accuracy(y: np.ndarray, pred: np.ndarray) -> float:
    """Mean of the hit rates on positives and on negatives (NaN if either class is absent)."""
    y, pred = np.asarray(y, bool), np.asarray(pred, bool)
    if y.all() or not y.any():
        return float("nan")
    return float(0.5 * ((pred[y]).mean() + (~pred[~y]).mean()))


def bootstrap_balanced_accuracy(y, predictions, n_boot: int = 1000, seed: int = 0, chunk: int = 100) -> np.ndarray:
    """Balanced accuracy of several predictions on the same bootstrap resamples of the galaxies.

    Every prediction vector is scored on the same resampled galaxies (a paired bootstrap), so the
    difference of two rows is the bootstrap distribution of the difference of their balanced
    accuracies. Resamples that lack positives or negatives have no balanced accuracy and are left
    out. Written by hand because :func:`scipy.stats.bootstrap` cannot drop such resamples.

    Parameters
    ----------
    y : array (n,)
        The true labels (bool).
    predictions : sequence of arrays (n,)
        Predicted labels (bool), each aligned with ``y``.
    n_boot : int, optional
        Resamples drawn (with replacement, ``n`` galaxies each).
    seed : int, optional
    chunk : int, optional
        Resamples scored at once (memory: ``chunk * n`` indices).

    Returns
    -------
    numpy.ndarray
        ``(len(predictions), n_kept)``: one row per prediction, one column per resample kept.

    Examples
    --------
    >>> y = np.arange(20) % 2 == 0
    >>> bootstrap_balanced_accuracy(y, [y, ~y], n_boot=50).mean(axis=1).tolist()
    [1.0, 0.0]
    """
    y = np.asarray(y, bool)
    preds = [np.asarray(p, bool) for p in predictions]
    rng = np.random.default_rng([seed, 11])
    out = []
    for start in range(0, n_boot, chunk):
        idx = rng.integers(0, len(y), (min(chunk, n_boot - start), len(y)))
        ys = y[idx]
        pos = ys.sum(1)
        neg = len(y) - pos
        ok = (pos > 0) & (neg > 0)
        rows = []
        for pred in preds:
            hits = pred[idx] == ys
            rows.append(0.5 * ((hits & ys).sum(1)[ok] / pos[ok] + (hits & ~ys).sum(1)[ok] / neg[ok]))
        out.append(np.asarray(rows).reshape(len(preds), -1))
    return np.concatenate(out, axis=1) if out else np.zeros((len(preds), 0))


def _boot_difference(y, pred_a, pred_b, n_boot: int, seed: int) -> tuple[float, float]:
    a, b = bootstrap_balanced_accuracy(y, [pred_a, pred_b], n_boot, seed)
    return float(np.quantile(a - b, 0.025)), float(np.quantile(a - b, 0.975))


def linear_probe(embeddings: Mapping[str, np.ndarray], labels: pd.DataFrame, test_fraction: float = 0.3,
                 seed: int = 0, min_positive: int = 10, n_boot: int = 1000) -> pd.DataFrame:
    """Balanced accuracy of a linear probe per tag on two embeddings of the same galaxies.

    Parameters
    ----------
    embeddings : mapping
        Exactly two entries, name -> ``(n, d)`` array (e.g. ``{"trained": ..., "random": ...}``);
        the difference is first minus second.
    labels : pandas.DataFrame
        ``n`` rows, one boolean column per tag (:func:`tag_matrix`).
    test_fraction : float, optional
        Share of galaxies held out for scoring.
    seed : int, optional
    min_positive : int, optional
        Fewest galaxies with the tag needed in both parts; rarer tags get a note instead of a score.
    n_boot : int, optional
        Bootstrap resamples of the held-out galaxies for the interval on the difference.

    Returns
    -------
    pandas.DataFrame
        Index: tag; columns ``n_tagged_train``, ``n_tagged_test``, one per embedding, ``difference``,
        ``low``, ``high`` (95 % interval of the difference) and ``note``.

    Raises
    ------
    DataError
        If there are not two embeddings, or their rows do not match the labels.

    Examples
    --------
    >>> table = linear_probe({"trained": emb, "random": emb0}, tag_matrix(tags, PRIMARY_TAGS))  # doctest: +SKIP
    """
    names = list(embeddings)
    if len(names) != 2:
        raise DataError(f"linear_probe: expected two embeddings to compare, got {names}")
    arrays = [check_embeddings(embeddings[k], f"{k} embeddings") for k in names]
    for name, array in zip(names, arrays):
        if len(array) != len(labels):
            raise DataError(f"linear_probe: {name} embeddings have {len(array)} rows for {len(labels)} labelled galaxies")
    train, test = split_indices(len(labels), test_fraction, seed)
    rows = []
    for tag in labels.columns:
        y = labels[tag].to_numpy(bool)
        row = {"tag": tag, "n_tagged_train": int(y[train].sum()), "n_tagged_test": int(y[test].sum()),
               names[0]: np.nan, names[1]: np.nan, "difference": np.nan, "low": np.nan, "high": np.nan, "note": ""}
        few = min(row["n_tagged_train"], row["n_tagged_test"], (~y[train]).sum(), (~y[test]).sum())
        if few < min_positive:
            row["note"] = f"too few galaxies to tell (fewer than {min_positive} in a part)"
            rows.append(row)
            continue
        preds = [fit_logistic(a[train], y[train], seed).predict(a[test]).astype(bool) for a in arrays]
        row[names[0]], row[names[1]] = (balanced_accuracy(y[test], p) for p in preds)
        row["difference"] = row[names[0]] - row[names[1]]
        row["low"], row["high"] = _boot_difference(y[test], preds[0], preds[1], n_boot, seed)
        rows.append(row)
    return pd.DataFrame(rows).set_index("tag")


def probe_verdict(table: pd.DataFrame, first: str = "trained", second: str = "random") -> tuple[str, int, int]:
    """A sentence on which embedding the probes favour, earned by the bootstrap intervals.

    Returns
    -------
    (str, int, int)
        The sentence, the number of tags where ``first`` is ahead, and the number of tags scored.
    """
    scored = table.dropna(subset=["difference"])
    if scored.empty:
        return "too few labelled galaxies to tell", 0, 0
    ahead = int((scored["difference"] > 0).sum())
    sure_ahead = int((scored["low"] > 0).sum())
    sure_behind = int((scored["high"] < 0).sum())
    text = (f"the {first} embedding is ahead of the {second} one on {ahead} of {len(scored)} tags; its lead "
            f"is outside the 95 % bootstrap interval of chance on {sure_ahead}, and it is behind beyond "
            f"that interval on {sure_behind}")
    return text, ahead, len(scored)
