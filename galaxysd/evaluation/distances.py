"""How far a generated set lies from the real one, beyond the paper's metrics, in the same embedding.

- :func:`fid` and :func:`kid`: the Fréchet and kernel distances of the two sets;
- :func:`prdc`: precision / recall / density / coverage (Naeem et al. 2020);
- :func:`memorisation`: how close each generated image is to its nearest training galaxy, against
  held-out real ones.

Like :mod:`galaxysd.evaluation.metrics` (whose helpers they share), they take any embedding and
compare large sets in chunks of at most ``max_floats`` similarities.
"""

from __future__ import annotations

import numpy as np

from galaxysd.errors import DataError
from galaxysd.evaluation.metrics import MAX_FLOATS, check_embeddings, check_pair, nearest_cosine, unit_rows


def fid(real, generated) -> float:
    """Fréchet distance between Gaussians fitted to the two sets (FID, in this embedding).

    Examples
    --------
    >>> round(fid(np.eye(3), np.eye(3) + 1.0), 6)
    3.0
    """
    real, generated = check_pair(real, generated)
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
    real, generated = check_pair(real, generated)
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
    real, generated = check_pair(real, generated)
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
