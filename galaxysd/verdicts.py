"""Verdicts earned by their sample: is one group of measurements larger than another, and how sure?

A sentence such as "early types are redder than spirals" is printed only when the images measured
support it: a two-sided Mann-Whitney U test (no assumption about the shape of the distributions, which
for image statistics of generated galaxies is anything but normal) at level :data:`ALPHA`, with a
bootstrap interval of the difference of the medians beside it. With fewer than
:data:`MIN_PER_GROUP` finite values in a group, or a difference the test cannot tell from chance, the
sentence says "too few images to tell" instead. Every chapter words its verdicts through
:func:`compare` and :func:`verdict`.

Examples
--------
>>> rng = np.random.default_rng(0)
>>> verdict(compare(rng.normal(1, 0.1, 40), rng.normal(0, 0.1, 40)), "early types are redder",
...         "early types are bluer", "whether early types are redder")[:23]
'early types are redder '
>>> verdict(compare([1.0, 2.0], [0.0, 0.5]), "redder", "bluer", "whether they are redder")
'too few images to tell whether they are redder (n = 2 and 2; at least 5 each are needed)'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

#: Level of the Mann-Whitney test below which a difference counts as shown.
ALPHA = 0.05

#: Fewest finite values per group for any verdict (with 4 and 4, no ordering reaches p < 0.05 anyway).
MIN_PER_GROUP = 5


@dataclass(frozen=True)
class Difference:
    """Two groups of measurements compared: medians, their difference with an interval, and a test.

    Attributes
    ----------
    n_a, n_b : int
        Finite values in each group.
    median_a, median_b : float
        Their medians (NaN for an empty group).
    difference : float
        ``median_a - median_b``.
    low, high : float
        Bootstrap percentile interval of the difference at ``level`` (NaN when too few values).
    p_value : float
        Two-sided Mann-Whitney U test of the two groups (NaN when too few values).
    level : float
        Confidence level of the interval.
    min_per_group : int
        Fewest values per group for a verdict.
    """

    n_a: int
    n_b: int
    median_a: float
    median_b: float
    difference: float
    low: float
    high: float
    p_value: float
    level: float = 0.95
    min_per_group: int = MIN_PER_GROUP

    @property
    def enough(self) -> bool:
        """Whether both groups have at least ``min_per_group`` values."""
        return min(self.n_a, self.n_b) >= self.min_per_group

    def sign(self, alpha: float = ALPHA) -> int:
        """+1 (a larger), -1 (b larger) if the test shows it at ``alpha``, else 0."""
        if not self.enough or not self.p_value < alpha:
            return 0
        return int(np.sign(self.difference))

    def evidence(self) -> str:
        """The numbers behind a verdict, e.g. ``"median difference 0.12, 95% interval 0.05 to 0.19; ..."``."""
        if not self.enough:
            return (f"n = {self.n_a} and {self.n_b}; at least {self.min_per_group} each are needed")
        return (f"median difference {self.difference:.3g}, {self.level:.0%} interval {self.low:.3g} to "
                f"{self.high:.3g}; Mann-Whitney p = {self.p_value:.2g}; n = {self.n_a} and {self.n_b}")


def compare(a: Sequence[float], b: Sequence[float], level: float = 0.95, n_resamples: int = 2000,
            seed: int = 0, min_per_group: int = MIN_PER_GROUP) -> Difference:
    """Compare two groups of measurements (NaNs are left out).

    Parameters
    ----------
    a, b : sequence of float
        The measurements, one per image.
    level : float, optional
        Confidence level of the bootstrap interval.
    n_resamples : int, optional
        Bootstrap resamples.
    seed : int, optional
        Seed of the bootstrap.
    min_per_group : int, optional
        Fewest finite values per group for a test.

    Returns
    -------
    Difference

    Examples
    --------
    >>> compare([1, 2, 3, 4, 5, 6], [0, 1, 2, 3, 4, 5]).difference
    1.0
    """
    from scipy import stats

    a = np.asarray(a, float)
    b = np.asarray(b, float)
    a, b = a[np.isfinite(a)], b[np.isfinite(b)]
    med_a = float(np.median(a)) if len(a) else np.nan
    med_b = float(np.median(b)) if len(b) else np.nan
    low = high = p_value = np.nan
    if min(len(a), len(b)) >= min_per_group:
        p_value = float(stats.mannwhitneyu(a, b, alternative="two-sided").pvalue)
        rng = np.random.default_rng(seed)
        boot = (np.median(rng.choice(a, (n_resamples, len(a))), axis=1)
                - np.median(rng.choice(b, (n_resamples, len(b))), axis=1))
        low, high = (float(v) for v in np.quantile(boot, [(1 - level) / 2, (1 + level) / 2]))
    return Difference(len(a), len(b), med_a, med_b, med_a - med_b, low, high, p_value, level, min_per_group)


def verdict(diff: Difference, larger: str, smaller: str, question: str, alpha: float = ALPHA) -> str:
    """One sentence: ``larger`` or ``smaller`` if the sample shows it, else "too few images to tell".

    Parameters
    ----------
    diff : Difference
        From :func:`compare` (group a against group b).
    larger, smaller : str
        What to say when a is shown larger, or shown smaller, than b.
    question : str
        What cannot be told otherwise, e.g. ``"whether early types are redder than spirals"``.
    alpha : float, optional
        Level of the test.

    Returns
    -------
    str
        The verdict, with its evidence in brackets.
    """
    sign = diff.sign(alpha)
    if sign > 0:
        return f"{larger} ({diff.evidence()})"
    if sign < 0:
        return f"{smaller} ({diff.evidence()})"
    return f"too few images to tell {question} ({diff.evidence()})"
