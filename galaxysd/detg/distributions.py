"""Properties of galaxy samples for Figures 8, 9 and D4: side-table values with counts, CDF bands.

The side tables (GSWLC-2 for redshift, stellar mass and SFR; the Yang et al. group catalogue for halo
mass and r magnitude) are read and matched by :mod:`galaxysd.gz2.sidetables`, whose readers turn each
file's sentinel (-99, -999, a halo mass <= 0) into NaN; the labelled catalogue of ``01_data`` carries the
result and the flags ``in_gswlc`` and ``in_yang``. :func:`side_values` picks a sample's values and
counts, per column, the galaxies absent from the catalogue, absent from the side table, and present
with a missing value -- a figure states those counts rather than drop them silently.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import bootstrap

from galaxysd.errors import DataError, ParameterError

#: Which side table each property comes from (the catalogue's flag column); z is GSWLC's, else Yang's.
SOURCE_FLAG = {"z": ("in_gswlc", "in_yang"), "logmstar": ("in_gswlc",), "logsfr": ("in_gswlc",),
               "loghalo": ("in_yang",), "r_mag": ("in_yang",)}
#: One standard deviation of a normal distribution: the paper's 1 sigma bands.
ONE_SIGMA = 0.6827


def side_values(catalog: pd.DataFrame, ids, columns=("z", "logmstar", "logsfr", "loghalo", "r_mag")
                ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A sample's side-table values, and per column how many galaxies have none and why.

    Parameters
    ----------
    catalog : pandas.DataFrame
        The labelled catalogue (``objid``, the columns, ``in_gswlc``, ``in_yang``).
    ids : array-like of int
        The sample's objIDs.
    columns : sequence of str, optional
        Properties to pick (keys of :data:`SOURCE_FLAG`).

    Returns
    -------
    values : pandas.DataFrame
        ``objid`` and the columns for every objID of the sample found in the catalogue (NaN where missing).
    counts : pandas.DataFrame
        Index: column; ``n_sample``, ``not_in_catalog``, ``not_in_side_table``, ``missing_value`` (in the
        table with its sentinel), ``n_used``. The four last add up to ``n_sample``.

    Raises
    ------
    DataError
        If the catalogue lacks a column or its side-table flag.

    Examples
    --------
    >>> values, counts = side_values(cat, new_ids, ["logsfr", "loghalo"])  # doctest: +SKIP
    """
    ids = np.asarray(ids, dtype=np.int64)
    unknown = [c for c in columns if c not in SOURCE_FLAG]
    if unknown:
        raise ParameterError(f"unknown side-table column(s) {unknown}; one of {list(SOURCE_FLAG)}")
    needed = {"objid", *columns, *(f for c in columns for f in SOURCE_FLAG[c])}
    absent = sorted(needed - set(catalog.columns))
    if absent:
        raise DataError(f"the catalogue lacks column(s) {absent} (written by the 01_data labels stage)")
    sub = catalog[catalog.objid.isin(ids)].drop_duplicates("objid")
    not_in_catalog = int(len(np.setdiff1d(ids, sub.objid)))
    values = sub[["objid", *columns]].reset_index(drop=True)
    rows = {}
    for col in columns:
        listed = np.zeros(len(sub), bool)
        for flag in SOURCE_FLAG[col]:
            listed |= sub[flag].astype(str).str.lower().isin(["true", "1"]).to_numpy()
        value = sub[col].to_numpy(dtype=float)
        rows[col] = {"n_sample": int(len(np.unique(ids))), "not_in_catalog": not_in_catalog,
                     "not_in_side_table": int((~listed).sum()),
                     "missing_value": int((listed & np.isnan(value)).sum()),
                     "n_used": int((listed & ~np.isnan(value)).sum())}
        values.loc[~listed, col] = np.nan   # a value is used only where its table lists the galaxy
    return values, pd.DataFrame(rows).T.astype(int)


@dataclass
class CdfBand:
    """An empirical cumulative distribution on a grid with its bootstrap band."""

    grid: np.ndarray
    cdf: np.ndarray
    low: np.ndarray
    high: np.ndarray
    n: int


def _ecdf_on(grid):
    """Statistic for ``scipy.stats.bootstrap``: the ECDF at ``grid`` of each resample.

    Counting, per resample, the values at or below each grid point through ``searchsorted`` and
    ``bincount`` takes memory of the resamples' size, where comparing every value with every grid
    point would take that times the grid's length.
    """
    g = len(grid)

    def statistic(x, axis=-1):
        x = np.moveaxis(np.asarray(x), axis, -1)
        rows = x.reshape(-1, x.shape[-1])
        slot = np.searchsorted(grid, rows, side="left")   # x <= grid[j]  <=>  slot <= j
        flat = slot + (g + 1) * np.arange(len(rows))[:, None]
        counts = np.bincount(flat.ravel(), minlength=len(rows) * (g + 1)).reshape(len(rows), g + 1)
        cdf = counts.cumsum(axis=1)[:, :g] / x.shape[-1]
        out = cdf.reshape(*x.shape[:-1], g)
        return np.moveaxis(out, -1, 0)   # scipy wants the outputs first, then the resamples
    return statistic


def cdf_band(values, grid=None, level: float = ONE_SIGMA, n_resamples: int = 1000, seed: int = 0,
             n_grid: int = 200) -> CdfBand:
    """The empirical CDF of ``values`` and its percentile bootstrap band (default 1 sigma).

    Each bootstrap resample draws ``len(values)`` galaxies with replacement
    (``scipy.stats.bootstrap``, percentile method) and the band at each grid point holds the central
    ``level`` of the resampled CDFs there.

    Parameters
    ----------
    values : array-like of float
        The sample (NaN not allowed: count and remove missing values first, see :func:`side_values`).
    grid : array-like, optional
        Where to evaluate; default ``n_grid`` points spanning the values.
    level : float, optional
        Coverage of the band (0.6827 = 1 sigma, as in the paper's Figure 9).
    n_resamples : int, optional
        Bootstrap resamples.
    seed : int, optional
        Seed of the resampling.

    Returns
    -------
    CdfBand
        ``grid, cdf, low, high, n``.

    Raises
    ------
    DataError
        If ``values`` is empty or holds NaN.

    Examples
    --------
    >>> band = cdf_band(values.logsfr.dropna(), seed=0)  # doctest: +SKIP
    """
    x = np.asarray(values, dtype=float)
    if x.size == 0:
        raise DataError("cannot draw a CDF band of an empty sample")
    if np.isnan(x).any():
        raise DataError(f"{int(np.isnan(x).sum())} NaN value(s): count the missing ones and remove them first")
    if grid is None:
        pad = 0.02 * (np.ptp(x) or 1.0)
        grid = np.linspace(x.min() - pad, x.max() + pad, n_grid)
    grid = np.asarray(grid, dtype=float)
    stat = _ecdf_on(grid)
    if x.size < 2:   # one galaxy: the resamples are all alike, so the band is the CDF itself
        cdf = stat(x)
        return CdfBand(grid, cdf, cdf.copy(), cdf.copy(), 1)
    res = bootstrap((x,), stat, n_resamples=n_resamples, confidence_level=level, method="percentile",
                    vectorized=True, batch=200, random_state=np.random.default_rng([seed, 13]))
    return CdfBand(grid, stat(x), np.asarray(res.confidence_interval.low),
                   np.asarray(res.confidence_interval.high), int(x.size))
