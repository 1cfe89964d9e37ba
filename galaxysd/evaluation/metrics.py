"""Quality metrics of generated galaxies, as pure functions on embedding arrays (§4.1).

The paper's three, for one condition p (a set of tags) with real embeddings X and generated Y:

- realism R^p: the mean over generated images of their largest cosine similarity to a real image;
- diversity D^p: the mean cosine similarity over all real x generated pairs (smaller: more diverse);
- consistency C^p: the mean over generated images of the fraction of judges that agree with the
  condition (:func:`consistency`, from the judges' answers).

Beyond the paper, in the same embedding, :mod:`galaxysd.evaluation.distances` holds the Fréchet and
kernel distances (FID, KID), precision / recall / density / coverage and a memorisation check.

Everything that compares every real with every generated image works in chunks of at most
``max_floats`` similarities (default 2^25, 128 MB in float32), so 28,000 real x 10,000 generated
images fit in well under 2 GB. Written here rather than taken from torchmetrics or torch-fidelity,
because those compute their own Inception features from images; these metrics take any embedding.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np
import pandas as pd

from galaxysd.errors import DataError

MAX_FLOATS = 1 << 25


def check_embeddings(values, name: str = "embeddings", dim: int | None = None) -> np.ndarray:
    """Embeddings as a finite float ``(n, d)`` array, or a :class:`DataError` naming what is wrong.

    Examples
    --------
    >>> check_embeddings(np.ones((3, 4))).shape
    (3, 4)
    """
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 2:
        raise DataError(f"{name}: expected a 2-d array (images x features), got shape {array.shape}")
    if dim is not None and array.shape[1] != dim:
        raise DataError(f"{name}: expected {dim} features per image (the other set's width), got {array.shape[1]}")
    bad = ~np.isfinite(array).all(axis=1)
    if bad.any():
        raise DataError(f"{name}: {int(bad.sum())} row(s) hold NaN or infinity, e.g. row {int(np.flatnonzero(bad)[0])}")
    return array


def check_pair(real, generated) -> tuple[np.ndarray, np.ndarray]:
    """Real and generated embeddings, checked: both finite, non-empty, of the same dimension."""
    real = check_embeddings(real, "real embeddings")
    generated = check_embeddings(generated, "generated embeddings", dim=real.shape[1])
    if len(real) == 0:
        raise DataError("real embeddings: the set is empty (no real galaxy carries this condition's tags)")
    if len(generated) == 0:
        raise DataError("generated embeddings: the set is empty")
    return real, generated


def unit_rows(array: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (a zero row stays zero)."""
    norms = np.linalg.norm(array, axis=1, keepdims=True)
    return array / np.where(norms > 0, norms, 1.0)


def nearest_cosine(queries, pool, max_floats: int = MAX_FLOATS) -> tuple[np.ndarray, np.ndarray]:
    """For each query row, the largest cosine similarity to a row of ``pool`` and that row's index.

    Examples
    --------
    >>> sim, index = nearest_cosine(np.eye(2), np.eye(2))
    >>> sim.tolist(), index.tolist()
    ([1.0, 1.0], [0, 1])
    """
    pool_u = unit_rows(check_embeddings(pool, "pool")).astype(np.float32)
    queries_u = unit_rows(check_embeddings(queries, "queries", dim=pool_u.shape[1])).astype(np.float32)
    best = np.empty(len(queries_u))
    where = np.empty(len(queries_u), dtype=np.int64)
    step = max(1, max_floats // max(len(pool_u), 1))
    for start in range(0, len(queries_u), step):
        sims = queries_u[start:start + step] @ pool_u.T
        where[start:start + step] = sims.argmax(axis=1)
        best[start:start + step] = sims.max(axis=1)
    return np.clip(best, -1.0, 1.0), where


def realism(real, generated, max_floats: int = MAX_FLOATS) -> float:
    """R^p: mean over generated images of the largest cosine similarity to a real image.

    Raises
    ------
    DataError
        Empty sets, NaN, wrong shapes (:func:`check_embeddings`).

    Examples
    --------
    >>> realism(np.eye(3), np.eye(3))
    1.0
    """
    real, generated = check_pair(real, generated)
    return float(nearest_cosine(generated, real, max_floats)[0].mean())


def diversity(real, generated) -> float:
    """D^p: mean cosine similarity over all real x generated pairs (smaller: more diverse).

    The mean of the pairwise dot products of unit vectors is the dot product of their means, so
    no pair is ever formed: exact, and linear in the number of images.

    Examples
    --------
    >>> diversity(np.eye(2), np.eye(2))
    0.5
    """
    real, generated = check_pair(real, generated)
    return float(unit_rows(real).mean(axis=0) @ unit_rows(generated).mean(axis=0))


def consistency(answers: pd.DataFrame, truth: Mapping[str, bool]) -> float:
    """C^p: mean over generated images of the fraction of judges whose answer matches the condition.

    Parameters
    ----------
    answers : pandas.DataFrame
        One row per generated image, one boolean column per judge (feature).
    truth : mapping
        Feature -> its value under the condition; only these judges are asked (a prompt that names
        no roundness says nothing about it).

    Raises
    ------
    DataError
        If a feature of ``truth`` has no judge, no feature is determined, or there are no images.

    Examples
    --------
    >>> consistency(pd.DataFrame({"spiral": [True, False]}), {"spiral": True})
    0.5
    """
    missing = [f for f in truth if f not in answers.columns]
    if missing:
        raise DataError(f"consistency: no judge was trained for {missing}; judges exist for {list(answers.columns)}")
    if not truth:
        raise DataError("consistency: the condition determines no judged feature")
    if len(answers) == 0:
        raise DataError("consistency: no generated images")
    agree = np.column_stack([answers[f].to_numpy(bool) == bool(v) for f, v in truth.items()])
    return float(agree.mean(axis=1).mean())


def condition_table(real, real_masks: Mapping[str, np.ndarray], generated, generated_labels,
                    answers: pd.DataFrame | None = None, truths: Mapping[str, Mapping[str, bool]] | None = None,
                    max_floats: int = MAX_FLOATS) -> pd.DataFrame:
    """R^p, D^p (and C^p) of every condition p, with the numbers of images behind them.

    Parameters
    ----------
    real : array (n_real, d)
        Embeddings of the real galaxies.
    real_masks : mapping
        Condition -> boolean mask over ``real``: the real galaxies carrying the condition's tags.
    generated : array (n_gen, d)
        Embeddings of the generated galaxies.
    generated_labels : sequence
        Condition of each generated galaxy.
    answers : pandas.DataFrame, optional
        The judges' answers on each generated galaxy (one boolean column per feature).
    truths : mapping, optional
        Condition -> {feature: value} (:func:`galaxysd.evaluation.judges.condition_truth`).

    Returns
    -------
    pandas.DataFrame
        Index: condition; columns ``n_real``, ``n_generated``, ``realism``, ``diversity``,
        ``consistency`` and ``note``. A condition that no real galaxy carries gets NaN and a note
        saying so, rather than a division by zero.

    Examples
    --------
    >>> float(condition_table(np.eye(2), {"A": np.array([True, False])}, np.eye(2)[:1], ["A"]).realism["A"])
    1.0
    """
    real = check_embeddings(real, "real embeddings")
    generated = check_embeddings(generated, "generated embeddings", dim=real.shape[1])
    labels = np.asarray(list(generated_labels), dtype=object)
    if len(labels) != len(generated):
        raise DataError(f"condition_table: {len(labels)} labels for {len(generated)} generated embeddings")
    rows = []
    for condition, mask in real_masks.items():
        mask = np.asarray(mask, dtype=bool)
        if mask.shape != (len(real),):
            raise DataError(f"condition_table: the mask of {condition!r} has shape {mask.shape}, expected ({len(real)},)")
        mine = labels == condition
        row = {"condition": condition, "n_real": int(mask.sum()), "n_generated": int(mine.sum()),
               "realism": np.nan, "diversity": np.nan, "consistency": np.nan, "note": ""}
        if not mask.any():
            row["note"] = "no real galaxy carries its tags"
        elif not mine.any():
            row["note"] = "no generated galaxies"
        else:
            row["realism"] = realism(real[mask], generated[mine], max_floats)
            row["diversity"] = diversity(real[mask], generated[mine])
        if answers is not None and truths is not None and mine.any() and truths.get(condition):
            row["consistency"] = consistency(answers.loc[mine].reset_index(drop=True), truths[condition])
        rows.append(row)
    return pd.DataFrame(rows).set_index("condition")


def global_means(table: pd.DataFrame) -> dict:
    """The global metrics: means over the conditions that have a value (R, D, C of the paper).

    Examples
    --------
    >>> global_means(pd.DataFrame({"realism": [0.5, 1.0], "diversity": [0.2, np.nan], "consistency": [1, 1]}))["diversity"]
    0.2
    """
    return {name: float(table[name].mean()) if table[name].notna().any() else float("nan")
            for name in ("realism", "diversity", "consistency")}


def per_image(real, generated, max_floats: int = MAX_FLOATS) -> pd.DataFrame:
    """Each generated image's share of R^p and D^p: its largest and its mean cosine similarity to the real set.

    ``realism`` and ``diversity`` are the means of these columns; keeping them per image lets a
    change between checkpoints be bootstrapped image by image (:func:`paired_change`).

    Examples
    --------
    >>> per_image(np.eye(2), np.eye(2)[:1]).to_dict("list")
    {'realism': [1.0], 'diversity': [0.5]}
    """
    real, generated = check_pair(real, generated)
    best = nearest_cosine(generated, real, max_floats)[0]
    mean_sim = unit_rows(generated) @ unit_rows(real).mean(axis=0)
    return pd.DataFrame({"realism": best, "diversity": mean_sim})


def paired_change(before, after, groups, n_boot: int = 2000, seed: int = 0) -> tuple[float, float, float]:
    """Change of a metric between two checkpoints that generated the same images (same seeds and references).

    The metric is the mean over groups (conditions) of the mean over their images; the interval
    comes from resampling images within each group, pairs kept together.

    Parameters
    ----------
    before, after : array (n,)
        Per-image values at the two checkpoints, row i from the same planned sample.
    groups : sequence (n,)
        Condition of each image.

    Returns
    -------
    (float, float, float)
        The change (after - before) and its 95 % bootstrap interval.

    Examples
    --------
    >>> paired_change([0.1, 0.2, 0.3], [0.2, 0.3, 0.4], ["A", "A", "B"])[0]
    0.1
    """
    diff = np.asarray(after, float) - np.asarray(before, float)
    groups = np.asarray(list(groups), dtype=object)
    if diff.shape != groups.shape or len(diff) == 0:
        raise DataError(f"paired_change: {len(diff)} paired values for {len(groups)} group labels")
    rng = np.random.default_rng([seed, 13])
    means, boots = [], []
    for group in dict.fromkeys(groups):
        d = diff[groups == group]
        means.append(d.mean())
        boots.append(d[rng.integers(0, len(d), (n_boot, len(d)))].mean(axis=1))
    boot = np.mean(boots, axis=0)
    return float(round(np.mean(means), 12)), float(np.quantile(boot, 0.025)), float(np.quantile(boot, 0.975))
