"""Simulated Galaxy Zoo 2 volunteers, and the 231-column Hart16 table their votes make.

Each galaxy is classified ``N`` times (about 44, as in GZ2). A classification walks the decision tree:
task 01 for everyone, then the task each answer leads to. Because every answer leads to exactly one
next task, the votes of ``N`` independent classifications are drawn task by task as multinomials: a
task's votes are the votes of the answers that lead to it, split by that task's answer probabilities.
The probabilities come from the galaxy's true morphology, blurred by a *visibility* ``v`` in (0, 1]
computed from what a volunteer sees -- the galaxy's angular size and brightness. Small, faint
galaxies (low ``v``) lose their features: votes drift to "smooth", "no bar", "no spiral", "nothing odd"
and "can't tell" arm numbers, as in the real GZ2 (Hart et al. 2016).

The *debiased* fractions undo part of that drift with the same visibility, estimated from the
observables alone (a stand-in for Hart et al.'s correction, which is fitted against redshift), so
distant galaxies remain somewhat under-featured even after debiasing -- as in the real catalogue.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from galaxysd.gz2.schema import ANSWERS, TASK_BY_STEM, TASKS, THRESHOLDS, hart16_columns

#: How much of the visibility drift the debiased fractions undo (0: nothing, 1: all).
DEBIAS_STRENGTH = 0.6
#: Beta parameters of the per-galaxy share of volunteer disagreement.
AMBIGUITY = (3.0, 4.0)


def visibility(r90_arcsec: np.ndarray, r_mag: np.ndarray) -> np.ndarray:
    """How well a volunteer can see a galaxy's features, from its angular size and r magnitude."""
    size = 1.0 / (1.0 + (6.0 / np.maximum(r90_arcsec, 0.1)) ** 2.5)
    bright = 1.0 / (1.0 + 10 ** (1.5 * (r_mag - 17.6)))
    return np.clip(size * bright, 0.02, 1.0)


def _soft(weights: np.ndarray, floor: float = 0.01) -> np.ndarray:
    w = np.maximum(weights, 0) + floor
    return w / w.sum(axis=1, keepdims=True)


def _confusion(true_idx: np.ndarray, matrix: list[list[float]]) -> np.ndarray:
    return np.asarray(matrix, float)[true_idx]


def answer_probabilities(pop: pd.DataFrame, vis: np.ndarray, rng: np.random.Generator | None = None,
                         ambiguity: tuple[float, float] = AMBIGUITY) -> dict[str, np.ndarray]:
    """Per task, an (n, n_answers) array of the probability of each answer for each galaxy.

    With ``rng``, each galaxy's probabilities are mixed with a random answer mixture in a proportion
    drawn from Beta(``ambiguity``): volunteers disagree more on some images than on others.
    """
    p = {**_presence_answers(pop, vis), **_detail_answers(pop, vis)}
    if rng is not None:
        p = _disagree(p, rng, ambiguity)
    return {k: val / val.sum(axis=1, keepdims=True) for k, val in p.items()}


def _presence_answers(pop: pd.DataFrame, v: np.ndarray) -> dict[str, np.ndarray]:
    """Tasks 01-06: is there a feature (disk, edge-on, bar, spiral, bulge, odd)? Faint ones fade with ``v``."""
    n = len(pop)
    kind = pop["kind"].to_numpy()
    ell, disk, irr = kind == "elliptical", kind == "disk", kind == "irregular"
    edge = pop["edge_on"].to_numpy(bool)
    spiral = pop["spiral"].to_numpy(bool)
    q = pop["axis_ratio"].to_numpy()
    odd_any = pop[["ring", "merger", "disturbed", "irregular", "lens", "dust_lane"]].to_numpy(bool)
    p = {}
    # t01 smooth / features / star: features fade with visibility
    feat_true = np.select([ell, edge, spiral, disk, irr], [0.06, 0.93, 0.97, 0.75, 0.92], 0.5)
    feat_true = np.where(pop["merger"].to_numpy(bool) & ell, 0.4, feat_true)
    feat = feat_true * (0.25 + 0.75 * v)
    star = np.full(n, 0.01)
    p["t01_smooth_or_features"] = np.stack([1 - feat - star, feat, star], 1)
    # t02 edge-on
    yes = np.where(edge, 0.95, np.where(q < 0.4, 0.35, 0.03))
    p["t02_edgeon"] = np.stack([yes, 1 - yes], 1)
    # t03 bar
    bar = np.where(pop["bar"].to_numpy(bool), 0.93 * (0.3 + 0.7 * v), 0.04)
    p["t03_bar"] = np.stack([bar, 1 - bar], 1)
    # t04 spiral
    sp = np.where(spiral, 0.98 * (0.4 + 0.6 * v), np.where(disk, 0.12, 0.05))
    p["t04_spiral"] = np.stack([sp, 1 - sp], 1)
    # t05 bulge prominence
    order = {"none": 0, "just_noticeable": 1, "obvious": 2, "dominant": 3}
    bidx = pop["bulge_class"].map(order).fillna(0).to_numpy(int)
    p["t05_bulge_prominence"] = _confusion(bidx, [[0.9, 0.08, 0.015, 0.005], [0.04, 0.92, 0.035, 0.005],
                                                  [0.01, 0.05, 0.9, 0.04], [0.005, 0.015, 0.08, 0.9]])
    # t06 odd
    odd = np.where(odd_any.any(1), 0.95 * (0.45 + 0.55 * v), 0.05)
    p["t06_odd"] = np.stack([odd, 1 - odd], 1)
    return p


def _detail_answers(pop: pd.DataFrame, v: np.ndarray) -> dict[str, np.ndarray]:
    """Tasks 07-11: what a feature looks like (roundness, odd feature, bulge shape, winding, arm number)."""
    n = len(pop)
    q = pop["axis_ratio"].to_numpy()
    p = {}
    # t07 roundedness, from the apparent axis ratio
    centres = np.array([0.93, 0.63, 0.33])
    w = np.exp(-((q[:, None] - centres[None]) / 0.09) ** 2)
    p["t07_rounded"] = _soft(w, 0.005)
    # t08 odd feature: ring, lens, disturbed, irregular, other, merger, dust lane
    f = pop[["ring", "lens", "disturbed", "irregular"]].to_numpy(float)
    w = np.column_stack([f, np.full(n, 0.02), pop["merger"].to_numpy(float),
                         pop["dust_lane"].to_numpy(float)])
    p["t08_odd_feature"] = _soft(w, 0.006)
    # t09 bulge shape
    sidx = pop["bulge_shape"].map({"rounded": 0, "boxy": 1, "none": 2}).fillna(2).to_numpy(int)
    p["t09_bulge_shape"] = _confusion(sidx, [[0.93, 0.05, 0.02], [0.08, 0.9, 0.02], [0.05, 0.02, 0.93]])
    # t10 winding
    widx = pop["winding"].map({"tight": 0, "medium": 1, "loose": 2}).fillna(1).to_numpy(int)
    p["t10_arms_winding"] = _confusion(widx, [[0.92, 0.07, 0.01], [0.05, 0.9, 0.05], [0.01, 0.07, 0.92]])
    # t11 arm number: 1, 2, 3, 4, more than 4, can't tell (more "can't tell" when hard to see)
    aidx = np.clip(pop["arms"].to_numpy(int) - 1, 0, 4)
    arms = _confusion(aidx, [[0.9, 0.06, 0.01, 0.005, 0.005, 0.02], [0.01, 0.93, 0.03, 0.005, 0.005, 0.02],
                             [0.005, 0.05, 0.9, 0.03, 0.005, 0.01], [0.005, 0.01, 0.04, 0.9, 0.035, 0.01],
                             [0.005, 0.01, 0.01, 0.05, 0.91, 0.015]])
    cant = (1 - v) * 0.5
    arms = arms * (1 - cant[:, None])
    arms[:, 5] += cant
    p["t11_arms_number"] = arms
    return p


def _disagree(p: dict[str, np.ndarray], rng: np.random.Generator,
              ambiguity: tuple[float, float]) -> dict[str, np.ndarray]:
    """Volunteers disagree: blur each galaxy's answers toward a random mixture, more for some galaxies
    (ambiguous images) than others."""
    base = rng.beta(ambiguity[0], ambiguity[1], len(next(iter(p.values()))))
    out = {}
    for k, val in p.items():
        noise = rng.gamma(1.0, size=val.shape)
        noise /= noise.sum(1, keepdims=True)
        a = np.clip(base * rng.uniform(0.6, 1.4, len(base)), 0, 0.9)[:, None]
        out[k] = (1 - a) * val + a * noise
    return out


def cast_votes(pop: pd.DataFrame, rng: np.random.Generator, n_classifications: np.ndarray | None = None
               ) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """Draw vote counts for every answer by walking the tree with multinomials.

    Returns
    -------
    counts : dict
        Answer column stem -> int array of votes.
    n_class : numpy.ndarray
        Classifications per galaxy.
    vis : numpy.ndarray
        The visibility used.
    """
    n = len(pop)
    vis = visibility(pop["r90_arcsec"].to_numpy(), pop["r_mag"].to_numpy())
    probs = answer_probabilities(pop, vis, rng)
    if n_classifications is None:
        n_classifications = np.maximum(16, np.round(rng.normal(44, 9, n))).astype(np.int64)
    reach = {t.stem: np.zeros(n, np.int64) for t in TASKS}
    reach["t01_smooth_or_features"] = n_classifications.copy()
    counts = {}
    # walk tasks in an order where every parent comes first
    walk = ["t01_smooth_or_features", "t07_rounded", "t02_edgeon", "t09_bulge_shape", "t03_bar",
            "t04_spiral", "t10_arms_winding", "t11_arms_number", "t05_bulge_prominence", "t06_odd",
            "t08_odd_feature"]
    for stem in walk:
        task = TASK_BY_STEM[stem]
        drawn = rng.multinomial(reach[stem], probs[stem])
        for j, a in enumerate(task.answers):
            counts[a.column] = drawn[:, j]
            if a.leads_to is not None:
                reach[a.leads_to] += drawn[:, j]
    return counts, n_classifications, vis


def _gz2_class(conf: dict[str, np.ndarray], n: int) -> np.ndarray:
    """A simplified GZ2 class string (Willett et al. 2013 style) from majority answers."""
    out = np.full(n, "S", dtype=object)
    smooth = conf["t01_smooth_or_features_a01_smooth"]
    rnd = np.array(["r", "i", "c"])[conf["t07"]]
    out[smooth] = "E" + rnd[smooth]
    edge = ~smooth & conf["t02_edgeon_a04_yes"]
    shape = np.array(["r", "b", "n"])[conf["t09"]]
    out[edge] = "Se" + shape[edge]
    face = ~smooth & ~edge
    bulge = np.array(["d", "c", "b", "a"])[conf["t05"]]
    barred = np.where(conf["t03_bar_a06_bar"], "SB", "S")
    arms = np.array(["1", "2", "3", "4", "+", "?"])[conf["t11"]]
    wind = np.array(["t", "m", "l"])[conf["t10"]]
    spiral = conf["t04_spiral_a08_spiral"]
    out[face] = (barred + bulge + np.where(spiral, arms + wind, ""))[face]
    out[conf["t01_smooth_or_features_a03_star_or_artifact"]] = "A"
    return out


def hart16_table(pop: pd.DataFrame, meta: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    """Simulated votes for a population, as a table with the exact 231 Hart16 columns.

    Parameters
    ----------
    pop : pandas.DataFrame
        The population (:func:`~galaxysd.gz2.simulate.population.draw_population`).
    meta : pandas.DataFrame
        ``dr7objid``, ``ra``, ``dec`` and ``sample`` per galaxy (same order as ``pop``).
    seed : int, optional
        Seed of the votes.

    Returns
    -------
    pandas.DataFrame
        Columns in the order of :func:`galaxysd.gz2.hart16_columns`.
    """
    rng = np.random.default_rng([seed, 2])
    n = len(pop)
    counts, n_class, vis = cast_votes(pop, rng)
    # the visibility drift, estimated from observables only, partly undone by debiasing
    lean = {"t01_smooth_or_features": 0.25 + 0.75 * vis, "t03_bar": 0.3 + 0.7 * vis,
            "t04_spiral": 0.4 + 0.6 * vis, "t06_odd": 0.45 + 0.55 * vis}
    positive = {"t01_smooth_or_features": 1, "t03_bar": 0, "t04_spiral": 0, "t06_odd": 0}
    cols: dict[str, np.ndarray] = {}
    majority: dict[str, np.ndarray] = {}
    for t in TASKS:
        c = np.column_stack([counts[a.column] for a in t.answers]).astype(float)
        wts = c * rng.uniform(0.82, 1.0, c.shape)  # user weights (consistency), <= 1 per vote
        tot, wtot = c.sum(1, keepdims=True), wts.sum(1, keepdims=True)
        frac = np.divide(c, tot, out=np.zeros_like(c), where=tot > 0)
        wfrac = np.divide(wts, wtot, out=np.zeros_like(c), where=wtot > 0)
        deb = wfrac.copy()
        if t.stem in lean:
            k = positive[t.stem]
            boosted = np.minimum(1.0, wfrac[:, k] / lean[t.stem] ** DEBIAS_STRENGTH)
            gain = boosted - wfrac[:, k]
            deb[:, k] = boosted
            others = [j for j in range(c.shape[1]) if j != k and not (t.number == 1 and j == 2)]
            rest = deb[:, others].sum(1)
            for j in others:
                deb[:, j] = np.where(rest > 0, deb[:, j] - gain * deb[:, j] / np.where(rest > 0, rest, 1), 0)
            deb = np.clip(deb, 0, 1)
        for j, a in enumerate(t.answers):
            cols[a.col("count")] = c[:, j].astype(np.int64)
            cols[a.col("weight")] = np.round(wts[:, j], 3)
            cols[a.col("fraction")] = np.round(frac[:, j], 3)
            cols[a.col("weighted_fraction")] = np.round(wfrac[:, j], 3)
            cols[a.col("debiased")] = np.round(deb[:, j], 6)
            majority[a.column] = wfrac[:, j] > 0.5
        majority[t.stem[:3]] = wfrac.argmax(1)
    # flags: Willett-style clean labels (weighted fraction >= 0.8 on a well-sampled task)
    task_votes = {t.stem: sum(cols[a.col("count")] for a in t.answers) for t in TASKS}
    for t in TASKS:
        ok = task_votes[t.stem] >= 20
        for col, thr in THRESHOLDS[t.stem]:
            ok &= cols[f"{col}_weighted_fraction"] >= thr
        for a in t.answers:
            cols[a.col("flag")] = (ok & (cols[a.col("weighted_fraction")] >= 0.8)).astype(np.int64)
    ra, dec = meta["ra"].to_numpy(), meta["dec"].to_numpy()
    head = {
        "dr7objid": meta["dr7objid"].to_numpy(np.int64), "ra": np.round(ra, 6), "dec": np.round(dec, 6),
        "rastring": [_hms(x) for x in ra], "decstring": [_dms(x) for x in dec],
        "sample": meta["sample"].to_numpy(), "gz2_class": _gz2_class(majority, n),
        "total_classifications": n_class, "total_votes": sum(cols[a.col("count")] for a in ANSWERS),
    }
    table = pd.DataFrame({**head, **cols})
    return table[hart16_columns()]


def _hms(ra_deg: float) -> str:
    h = ra_deg / 15.0
    hh = int(h)
    mm = int((h - hh) * 60)
    ss = ((h - hh) * 60 - mm) * 60
    return f"{hh:02d}:{mm:02d}:{ss:05.2f}"


def _dms(dec_deg: float) -> str:
    sign = "-" if dec_deg < 0 else "+"
    d = abs(dec_deg)
    dd = int(d)
    mm = int((d - dd) * 60)
    ss = ((d - dd) * 60 - mm) * 60
    return f"{sign}{dd:02d}:{mm:02d}:{ss:04.1f}"
