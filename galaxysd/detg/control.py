"""A control sample of normal early types matched in redshift and stellar mass, without replacement.

The paper compares new and known D-ETGs with 4,000 normal early-type galaxies "matched in redshift
and stellar mass" and does not say how. Here: greedy nearest-neighbour matching without replacement in
the plane of (z, log M*), each axis divided by its standard deviation in the pool so that both count
alike. Matching runs in rounds; in each round the targets, in a seeded random order, each take the
nearest pool galaxy nobody has taken (within an optional caliper), until ``n_control`` galaxies are
drawn. The random order shares out the close matches fairly between targets that compete for them; an
optimal assignment (``scipy.optimize.linear_sum_assignment``) would need a targets x pool cost matrix
that does not fit in memory for the paper's pool, which is why the greedy rounds are written here.
Galaxies without a redshift or a stellar mass cannot be matched: they are counted, never dropped
silently. The result carries the three distributions (targets, controls, pool) for a figure and a
two-sample Kolmogorov-Smirnov test per variable.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree
from scipy.stats import ks_2samp

from galaxysd.errors import DataError, ParameterError

MATCH_COLUMNS = ("z", "logmstar")
#: The paper's control sample size.
PAPER_N_CONTROL = 4000


@dataclass
class ControlMatch:
    """A matched control sample.

    Attributes
    ----------
    control_ids : numpy.ndarray
        objIDs of the controls, in the order they were drawn.
    pairs : pandas.DataFrame
        ``target, control, distance`` (in pool standard deviations), ``round``.
    counts : dict
        ``n_targets``, ``n_targets_unmatchable`` (no z or mass), ``n_pool``, ``n_pool_unmatchable``,
        ``n_pool_targets`` (targets removed from the pool), ``n_control``, ``n_refused_caliper``.
    distributions : pandas.DataFrame
        ``sample`` (``target``, ``control``, ``pool``) and the matched columns, for a figure.
    ks : pandas.DataFrame
        Per matched column: the KS statistic and p-value of targets against controls.
    """

    control_ids: np.ndarray
    pairs: pd.DataFrame
    counts: dict
    distributions: pd.DataFrame
    ks: pd.DataFrame


def _usable(frame: pd.DataFrame, columns, what: str) -> pd.DataFrame:
    missing = [c for c in ("objid", *columns) if c not in frame.columns]
    if missing:
        raise DataError(f"the {what} table lacks column(s) {missing}")
    return frame[["objid", *columns]].dropna()


def match_control(targets: pd.DataFrame, pool: pd.DataFrame, n_control: int = PAPER_N_CONTROL,
                  columns=MATCH_COLUMNS, caliper: float | None = None, seed: int = 0) -> ControlMatch:
    """Draw ``n_control`` pool galaxies matched to ``targets`` in ``columns``, without replacement.

    Parameters
    ----------
    targets : pandas.DataFrame
        ``objid`` and ``columns`` of the galaxies to match (new and known D-ETGs).
    pool : pandas.DataFrame
        ``objid`` and ``columns`` of the candidates for the control (normal early types); targets
        that are also in the pool are removed from it.
    n_control : int, optional
        Controls to draw (paper: 4,000).
    columns : sequence of str, optional
        Matched variables (default redshift and log stellar mass).
    caliper : float, optional
        Largest allowed distance in pool standard deviations; farther neighbours are refused.
    seed : int, optional
        Seed of the targets' order in each round.

    Returns
    -------
    ControlMatch
        Controls, pairs, counts, the distributions and KS tests.

    Raises
    ------
    DataError
        If no target can be matched, or the pool has fewer usable galaxies than ``n_control``, or the
        caliper leaves fewer than ``n_control`` matches.
    ParameterError
        If ``n_control < 1``.

    Examples
    --------
    >>> match = match_control(detg[["objid", "z", "logmstar"]], etgs, n_control=400, seed=0)  # doctest: +SKIP
    """
    if int(n_control) < 1:
        raise ParameterError(f"n_control must be at least 1, got {n_control}")
    columns = list(columns)
    tgt, pl = _usable(targets, columns, "target"), _usable(pool, columns, "pool")
    in_pool = pl.objid.isin(targets.objid)
    pl = pl[~in_pool].reset_index(drop=True)
    counts = {"n_targets": int(len(targets)), "n_targets_unmatchable": int(len(targets) - len(tgt)),
              "n_pool": int(len(pool)), "n_pool_targets": int(in_pool.sum()),
              "n_pool_unmatchable": int(len(pool) - len(pl) - in_pool.sum()), "n_control": int(n_control)}
    if len(tgt) == 0:
        raise DataError(f"none of the {len(targets)} targets has all of {columns}: nothing to match")
    if len(pl) < n_control:
        raise DataError(f"the pool has {len(pl)} usable galaxies (with {columns}), fewer than n_control={n_control}")
    scale = pl[columns].std(ddof=0).replace(0, 1).to_numpy()
    tx, px = tgt[columns].to_numpy() / scale, pl[columns].to_numpy() / scale
    tree = cKDTree(px)
    used = np.zeros(len(pl), bool)
    active = np.ones(len(tgt), bool)   # a target whose caliper has no free neighbour left drops out
    rng = np.random.default_rng([seed, 11])
    pairs, refused, rnd = [], 0, 0
    while len(pairs) < n_control and active.any():
        rnd += 1
        for t in rng.permutation(np.nonzero(active)[0]):
            if len(pairs) == n_control:
                break
            j, d = _nearest_free(tree, tx[t], used, caliper)
            if j < 0:
                active[t] = False
                refused += 1
                continue
            used[j] = True
            pairs.append((tgt.objid.iat[t], pl.objid.iat[j], d, rnd))
    counts["n_refused_caliper"] = refused
    if len(pairs) < n_control:
        raise DataError(f"the caliper {caliper} leaves {len(pairs)} matches, fewer than n_control={n_control}")
    pairs = pd.DataFrame(pairs, columns=["target", "control", "distance", "round"])
    ctl = pl.set_index("objid").loc[pairs.control, columns].reset_index()
    dist = pd.concat([tgt.assign(sample="target"), ctl.assign(sample="control"), pl.assign(sample="pool")],
                     ignore_index=True)[["sample", "objid", *columns]]
    ks = pd.DataFrame([dict(zip(("column", "statistic", "p_value"), (c, *ks_2samp(tgt[c], ctl[c]))))
                       for c in columns]).set_index("column")
    return ControlMatch(pairs.control.to_numpy(np.int64), pairs, counts, dist, ks)


def _nearest_free(tree: cKDTree, point: np.ndarray, used: np.ndarray, caliper: float | None) -> tuple[int, float]:
    """Nearest pool galaxy not yet used (within the caliper): doubling k until a free one appears."""
    k, n = 8, len(used)
    bound = np.inf if caliper is None else caliper
    while True:
        k = min(k, n)
        d, j = tree.query(point, k=k, distance_upper_bound=bound)
        d, j = np.atleast_1d(d), np.atleast_1d(j)
        ok = np.isfinite(d)
        free = ok & ~used[np.where(ok, j, 0)]
        if free.any():
            first = np.argmax(free)
            return int(j[first]), float(d[first])
        if k == n or not ok.all():
            return -1, np.inf
        k *= 4
