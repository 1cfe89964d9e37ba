"""Quality metrics of generated galaxies, as pure functions on embedding arrays (§4.1).

The paper's three, for one condition p (a set of tags) with real embeddings X and generated Y:

- realism R^p: the mean over generated images of their largest cosine similarity to a real image;
- diversity D^p: the mean cosine similarity over all real x generated pairs (smaller: more diverse);
- consistency C^p: the mean over generated images of the fraction of judges that agree with the
  condition (:func:`consistency`, from the judges' answers).

Beyond the paper, in the same embedding: the Fréchet distance (FID) and the kernel distance (KID) of
the two sets, precision / recall / density / coverage (Naeem et al. 2020), and a memorisation check
(how close each generated image is to its nearest training galaxy, against held-out real ones).

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


def _pair(real, generated) -> tuple[np.ndarray, np.ndarray]:
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
    real, generated = _pair(real, generated)
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
    real, generated = _pair(real, generated)
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


def fid(real, generated) -> float:
    """Fréchet distance between Gaussians fitted to the two sets (FID, in this embedding).

    Examples
    --------
    >>> round(fid(np.eye(3), np.eye(3) + 1.0), 6)
    3.0
    """
    real, generated = _pair(real, generated)
    mu1, mu2 = real.mean(axis=0), generated.mean(axis=0)
    s1 = np.atleast_2d(np.cov(real, rowvar=False)) if len(real) > 1 else np.zeros((real.shape[1],) * 2)
    s2 = np.atleast_2d(np.cov(generated, rowvar=False)) if len(generated) > 1 else np.zeros_like(s1)
    # Tr sqrt(S1 S2) is the sum of the square roots of the eigenvalues of S1 S2 (real and >= 0 for
    # two covariance matrices): stable even when fewer images than features make them singular.
    eig = np.clip(np.real(np.linalg.eigvals(s1 @ s2)), 0.0, None)
    return float(max(((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2.0 * np.sqrt(eig).sum(), 0.0))


def kid(real, generated, subset_size: int = 1000, n_subsets: int = 20, seed: int = 0) -> tuple[float, float]:
    """Kernel distance (KID): unbiased MMD^2 with the cubic polynomial kernel, over random subsets.

    Returns
    -------
    (float, float)
        Mean and standard deviation over the subsets.

    Examples
    --------
    >>> kid(np.eye(4), np.eye(4), subset_size=4, n_subsets=1)[0] <= 0.0
    True
    """
    real, generated = _pair(real, generated)
    m = min(subset_size, len(real), len(generated))
    if m < 2:
        raise DataError(f"kid: need at least 2 images in each set, got {len(real)} real and {len(generated)} generated")
    d = real.shape[1]
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(n_subsets):
        x = real[rng.choice(len(real), m, replace=False)]
        y = generated[rng.choice(len(generated), m, replace=False)]
        kxx, kyy, kxy = ((a @ b.T / d + 1.0) ** 3 for a, b in ((x, x), (y, y), (x, y)))
        off = ~np.eye(m, dtype=bool)
        values.append(kxx[off].mean() + kyy[off].mean() - 2.0 * kxy.mean())
    return float(np.mean(values)), float(np.std(values))


def _distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    sq = (a ** 2).sum(1)[:, None] + (b ** 2).sum(1)[None, :] - 2.0 * a @ b.T
    return np.sqrt(np.maximum(sq, 0.0))


def _knn_radius(points: np.ndarray, k: int, max_floats: int) -> np.ndarray:
    radius = np.empty(len(points))
    step = max(1, max_floats // max(len(points), 1))
    for start in range(0, len(points), step):
        dist = _distances(points[start:start + step], points)
        radius[start:start + step] = np.partition(dist, k, axis=1)[:, k]  # index 0 is the point itself
    return radius


def prdc(real, generated, k: int = 5, max_floats: int = MAX_FLOATS) -> dict:
    """Precision, recall, density and coverage (Naeem et al. 2020) on unit-length embeddings.

    Each real galaxy owns a ball reaching its k-th nearest real neighbour. Precision: fraction of
    generated images inside some real ball; density: mean number of real balls holding a generated
    image, over k (can exceed 1); coverage: fraction of real balls holding a generated image; recall:
    fraction of real images inside some generated image's ball (k-th nearest generated neighbour).

    Raises
    ------
    DataError
        If either set has ``k`` or fewer images.

    Examples
    --------
    >>> prdc(np.eye(8), np.eye(8), k=2)["precision"]
    1.0
    """
    real, generated = _pair(real, generated)
    if min(len(real), len(generated)) <= k:
        raise DataError(f"prdc: need more than k={k} images in each set, got {len(real)} real and {len(generated)} generated")
    x, y = unit_rows(real), unit_rows(generated)
    r_real, r_gen = _knn_radius(x, k, max_floats), _knn_radius(y, k, max_floats)
    inside = np.zeros(len(y), dtype=bool)
    count = np.zeros(len(y))
    covered = np.zeros(len(x), dtype=bool)
    step = max(1, max_floats // len(x))
    for start in range(0, len(y), step):
        hit = _distances(y[start:start + step], x) <= r_real[None, :]
        inside[start:start + step] = hit.any(axis=1)
        count[start:start + step] = hit.sum(axis=1)
        covered |= hit.any(axis=0)
    recalled = np.zeros(len(x), dtype=bool)
    step = max(1, max_floats // len(y))
    for start in range(0, len(x), step):
        recalled[start:start + step] = (_distances(x[start:start + step], y) <= r_gen[None, :]).any(axis=1)
    return {"precision": float(inside.mean()), "recall": float(recalled.mean()),
            "density": float(count.sum() / (k * len(y))), "coverage": float(covered.mean())}


def memorisation(training, generated, held_out, quantile: float = 0.01, max_floats: int = MAX_FLOATS) -> dict:
    """Are we copying? Distance to the nearest training galaxy, generated against held-out real.

    A held-out real galaxy is never closer to the training set than chance allows; a generated one
    that is much closer than nearly all held-out ones (below their ``quantile``) looks like a copy.

    Returns
    -------
    dict
        ``gen_median`` and ``held_median`` (cosine distance 1 - cos to the nearest training galaxy),
        ``threshold`` (the held-out ``quantile``), ``copy_fraction`` (generated images below it; about
        ``quantile`` when nothing is copied), and ``p_value`` (one-sided Mann-Whitney test that the
        generated images lie closer to the training set than held-out ones do).

    Examples
    --------
    >>> train = np.random.default_rng(0).normal(size=(50, 8))
    >>> memorisation(train, train[:10], np.random.default_rng(1).normal(size=(40, 8)))["copy_fraction"]
    1.0
    """
    from scipy.stats import mannwhitneyu

    training = check_embeddings(training, "training embeddings")
    generated = check_embeddings(generated, "generated embeddings", dim=training.shape[1])
    held_out = check_embeddings(held_out, "held-out embeddings", dim=training.shape[1])
    if min(len(training), len(generated), len(held_out)) == 0:
        raise DataError("memorisation: the training, generated and held-out sets must all be non-empty")
    d_gen = 1.0 - nearest_cosine(generated, training, max_floats)[0]
    d_held = 1.0 - nearest_cosine(held_out, training, max_floats)[0]
    threshold = float(np.quantile(d_held, quantile))
    p = float(mannwhitneyu(d_gen, d_held, alternative="less", method="asymptotic").pvalue) if min(len(d_gen), len(d_held)) > 1 else float("nan")
    return {"gen_median": float(np.median(d_gen)), "held_median": float(np.median(d_held)),
            "threshold": threshold, "copy_fraction": float((d_gen <= threshold).mean()), "p_value": p}


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
    real, generated = _pair(real, generated)
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
