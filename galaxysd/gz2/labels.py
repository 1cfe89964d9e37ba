"""Labels from votes: well-sampled tasks, confident answers, tags, exclusion and balancing.

Everything works on a table in the Hart et al. (2016) schema (a :class:`pandas.DataFrame`) and is
vectorised over rows: a 239,695-row table is labelled in about a second.

The paper's recipe (Section 3), each step a function here:

1. :func:`well_sampled` -- a task is well sampled when the preceding answers' weighted vote fractions
   pass Willett et al. (2013) Table 3 and the task has more than 20 votes;
2. :func:`confident_answers` -- an answer is confident when its task is well sampled and its debiased
   fraction exceeds 0.8;
3. :func:`label_catalog` -- the confident answers become tag phrases (:mod:`galaxysd.gz2.tags`);
4. :func:`exclude_detg` -- known D-ETGs and early types with a dust lane are kept out of training;
5. :func:`balance` -- over-represented tag combinations are down-sampled to a cap (2,000).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Mapping

import numpy as np
import pandas as pd

from galaxysd.errors import DataError, ParameterError
from galaxysd.gz2.schema import ANSWERS, TASKS, THRESHOLDS, task_count_columns
from galaxysd.gz2.tags import CAPTION_PREFIX, EARLY_TYPE_TAGS, EMPTY_CAPTION, TAG_ORDER, TAG_PHRASES, TAG_SEPARATOR

#: The paper's published counts (Section 3), shown beside every profile's own.
PAPER_COUNTS = {"n_table": 239695, "n_labelled": 71455, "n_training": 27910, "n_known_detg": 352,
                "largest_group_before": 14835}
#: The paper's choices (Section 3).
MIN_VOTES = 20
MIN_DEBIASED = 0.8
BALANCE_CAP = 2000


def _require(table: pd.DataFrame, columns: Iterable[str], what: str) -> None:
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise DataError(f"{what} needs {len(missing)} column(s) the table lacks, e.g. {missing[:3]}; "
                        "expected the Hart et al. (2016) schema (galaxysd.gz2.hart16_columns())")


def _compare(values: np.ndarray, threshold: float, inclusive: bool) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        return values >= threshold if inclusive else values > threshold


def task_votes(table: pd.DataFrame) -> pd.DataFrame:
    """Votes per task: the sum of the task's answers' ``_count`` columns (one column per task)."""
    cols = [c for t in TASKS for c in task_count_columns(t.stem)]
    _require(table, cols, "task_votes")
    out = {}
    for t in TASKS:
        counts = table[task_count_columns(t.stem)].to_numpy(dtype=np.float64)
        out[t.stem] = np.nansum(counts, axis=1)
    return pd.DataFrame(out, index=table.index)


def well_sampled(table: pd.DataFrame, min_votes: int = MIN_VOTES, votes_inclusive: bool = False,
                 threshold_inclusive: bool = False, fraction: str = "weighted_fraction",
                 thresholds: Mapping[str, tuple] = THRESHOLDS) -> pd.DataFrame:
    """Which tasks are well sampled for each galaxy (Willett et al. 2013, Table 3).

    Parameters
    ----------
    table : pandas.DataFrame
        Hart16-schema table.
    min_votes : int, optional
        A task needs more than ``min_votes`` votes (the paper: more than 20).
    votes_inclusive : bool, optional
        Use ``>=`` instead of ``>`` for the vote count.
    threshold_inclusive : bool, optional
        Use ``>=`` (Willett's flags) instead of ``>`` (the paper's text) for the preceding fractions.
    fraction : str, optional
        Which fraction the thresholds apply to: ``"weighted_fraction"`` (Willett et al. 2013, default),
        ``"fraction"`` or ``"debiased"``.
    thresholds : mapping, optional
        Task stem -> ((answer column stem, threshold), ...); default :data:`~galaxysd.gz2.schema.THRESHOLDS`.

    Returns
    -------
    pandas.DataFrame
        Boolean, one column per task stem, same index as ``table``.

    Raises
    ------
    DataError
        If a needed column is missing.

    Examples
    --------
    >>> ws = well_sampled(table)  # doctest: +SKIP
    >>> ws["t03_bar"].mean()  # doctest: +SKIP
    """
    if fraction not in ("weighted_fraction", "fraction", "debiased"):
        raise ParameterError(f"fraction must be weighted_fraction, fraction or debiased, got {fraction!r}")
    needed = {f"{col}_{fraction}" for conds in thresholds.values() for col, _ in conds}
    _require(table, sorted(needed), "well_sampled")
    votes = task_votes(table)
    out = {}
    for t in TASKS:
        ok = _compare(votes[t.stem].to_numpy(), min_votes, votes_inclusive)
        for col, thr in thresholds.get(t.stem, ()):
            ok &= _compare(table[f"{col}_{fraction}"].to_numpy(dtype=np.float64), thr, threshold_inclusive)
        out[t.stem] = ok
    return pd.DataFrame(out, index=table.index)


def confident_answers(table: pd.DataFrame, min_debiased: float = MIN_DEBIASED,
                      sampled: pd.DataFrame | None = None, **well_sampled_kw) -> pd.DataFrame:
    """Which answers are confident: task well sampled and debiased fraction above ``min_debiased``.

    Parameters
    ----------
    table : pandas.DataFrame
        Hart16-schema table.
    min_debiased : float, optional
        The debiased fraction must exceed this (the paper: 0.8).
    sampled : pandas.DataFrame, optional
        A precomputed :func:`well_sampled` result.
    **well_sampled_kw
        Passed to :func:`well_sampled`.

    Returns
    -------
    pandas.DataFrame
        Boolean, one column per answer column stem (37), same index as ``table``.
    """
    _require(table, [a.col("debiased") for a in ANSWERS], "confident_answers")
    if sampled is None:
        sampled = well_sampled(table, **well_sampled_kw)
    out = {}
    for a in ANSWERS:
        deb = table[a.col("debiased")].to_numpy(dtype=np.float64)
        out[a.column] = sampled[a.task].to_numpy() & _compare(deb, min_debiased, False)
    return pd.DataFrame(out, index=table.index)


def tag_matrix(confident: pd.DataFrame) -> pd.DataFrame:
    """Confident answers as tag phrases: a boolean frame with one column per tag, in canonical order."""
    by_tag = {TAG_PHRASES[a.column]: confident[a.column].to_numpy() for a in ANSWERS
              if a.column in TAG_PHRASES}
    return pd.DataFrame({tag: by_tag[tag] for tag in TAG_ORDER}, index=confident.index)


def join_tags(tags: pd.DataFrame, separator: str = TAG_SEPARATOR, prefix: str = "") -> pd.Series:
    """Join each row's true tag columns (in column order) into one string, without a Python row loop.

    Rows are encoded as bit patterns; each distinct pattern (a few hundred at most) is joined once.
    """
    bits = tags.to_numpy(dtype=bool)
    if bits.shape[1] > 62:
        raise ParameterError("join_tags handles at most 62 tag columns")
    weights = (np.int64(1) << np.arange(bits.shape[1], dtype=np.int64))
    codes = bits.astype(np.int64) @ weights
    uniq, inverse = np.unique(codes, return_inverse=True)
    names = list(tags.columns)
    strings = np.array([prefix + separator.join(n for i, n in enumerate(names) if (u >> i) & 1)
                        for u in uniq.tolist()], dtype=object)
    return pd.Series(strings[inverse.ravel()], index=tags.index)


def label_catalog(table: pd.DataFrame, min_debiased: float = MIN_DEBIASED, min_votes: int = MIN_VOTES,
                  votes_inclusive: bool = False, threshold_inclusive: bool = False,
                  fraction: str = "weighted_fraction") -> pd.DataFrame:
    """Tags and captions of every galaxy of a Hart16-schema table.

    Parameters
    ----------
    table : pandas.DataFrame
        Hart16-schema table (needs ``dr7objid`` and the answer columns).
    min_debiased, min_votes, votes_inclusive, threshold_inclusive, fraction
        See :func:`well_sampled` and :func:`confident_answers`.

    Returns
    -------
    pandas.DataFrame
        One row per input row: ``objid`` (int64), ``tags`` (``"|"``-joined, canonical order, ``""`` if
        none), ``caption`` (:data:`~galaxysd.gz2.tags.EMPTY_CAPTION` if none), ``n_tags``, one boolean ``ws_<task>`` column per task (well sampled) and one
        boolean ``conf_<answer column stem>`` column per answer (confident).

    Examples
    --------
    >>> labels = label_catalog(table)  # doctest: +SKIP
    >>> (labels.n_tags > 0).sum()  # galaxies with confident tags  # doctest: +SKIP
    """
    _require(table, ["dr7objid"], "label_catalog")
    sampled = well_sampled(table, min_votes=min_votes, votes_inclusive=votes_inclusive,
                           threshold_inclusive=threshold_inclusive, fraction=fraction)
    conf = confident_answers(table, min_debiased=min_debiased, sampled=sampled)
    tags = tag_matrix(conf)
    joined = join_tags(tags)
    out = pd.DataFrame({"objid": table["dr7objid"].to_numpy(dtype=np.int64), "tags": joined.to_numpy()},
                       index=table.index)
    out["caption"] = np.where(out["tags"] == "", EMPTY_CAPTION,
                              CAPTION_PREFIX + out["tags"].str.replace(TAG_SEPARATOR, ", ", regex=False))
    out["n_tags"] = tags.sum(axis=1).to_numpy()
    for t in TASKS:
        out[f"ws_{t.stem}"] = sampled[t.stem].to_numpy()
    for a in ANSWERS:
        out[f"conf_{a.column}"] = conf[a.column].to_numpy()
    return out.reset_index(drop=True)


def nan_debiased(table: pd.DataFrame, labels: pd.DataFrame) -> pd.Series:
    """How many galaxies lose a possible tag to a NaN debiased fraction, per answer.

    A NaN debiased fraction never passes the confidence cut, so the answer silently cannot become a
    tag. This counts, per answer that has a tag phrase, the galaxies whose task is well sampled
    (``ws_<task>`` of :func:`label_catalog`) but whose debiased fraction is NaN, so that the loss is
    reported rather than silent.

    Parameters
    ----------
    table : pandas.DataFrame
        The Hart16-schema table that ``labels`` was made from (same row order).
    labels : pandas.DataFrame
        From :func:`label_catalog`.

    Returns
    -------
    pandas.Series
        Answer column stem -> number of galaxies; ``.attrs["n_galaxies"]`` counts the galaxies with
        at least one such answer.

    Examples
    --------
    >>> nan_debiased(table, label_catalog(table)).sum()  # doctest: +SKIP
    """
    hit = np.zeros(len(table), bool)
    out = {}
    for a in ANSWERS:
        if a.column not in TAG_PHRASES:
            continue
        bad = labels[f"ws_{a.task}"].to_numpy(bool) & np.isnan(table[a.col("debiased")].to_numpy(np.float64))
        out[a.column] = int(bad.sum())
        hit |= bad
    series = pd.Series(out, name="galaxies", dtype=np.int64)
    series.attrs["n_galaxies"] = int(hit.sum())
    return series


def has_tag(labels: pd.DataFrame, tag: str) -> pd.Series:
    """Boolean: which galaxies carry ``tag`` (exact phrase match within the ``"|"``-joined tags)."""
    padded = TAG_SEPARATOR + labels["tags"].astype(str) + TAG_SEPARATOR
    return padded.str.contains(TAG_SEPARATOR + tag + TAG_SEPARATOR, regex=False)


def tag_counts(labels: pd.DataFrame, tags: Iterable[str] = TAG_ORDER) -> pd.Series:
    """How many galaxies carry each tag."""
    return pd.Series({t: int(has_tag(labels, t).sum()) for t in tags}, name="galaxies")


@dataclass
class Exclusion:
    """What :func:`exclude_detg` removed.

    Attributes
    ----------
    known_detg : int
        Galaxies removed because they are on the known D-ETG list.
    early_dust : int
        Further galaxies removed because they are tagged early-type together with "dust lane".
    known_not_found : int
        Known D-ETGs that are not in the labelled table at all.
    """

    known_detg: int
    early_dust: int
    known_not_found: int
    removed_objids: np.ndarray = field(repr=False, default_factory=lambda: np.empty(0, np.int64))


def early_type_with_dust(labels: pd.DataFrame) -> pd.Series:
    """Boolean: galaxies tagged early-type (completely round or in-between round) and "dust lane"."""
    early = np.zeros(len(labels), bool)
    for tag in EARLY_TYPE_TAGS:
        early |= has_tag(labels, tag).to_numpy()
    return pd.Series(early & has_tag(labels, "dust lane").to_numpy(), index=labels.index)


def exclude_detg(labels: pd.DataFrame, known_objids: Iterable[int]) -> tuple[pd.DataFrame, Exclusion]:
    """Remove known D-ETGs and every early type tagged with a dust lane, as the paper does for training.

    Parameters
    ----------
    labels : pandas.DataFrame
        Needs ``objid`` and ``tags``.
    known_objids : iterable of int
        DR7 objIDs of the known D-ETGs (Kaviraj et al. 2012 on the paper profile).

    Returns
    -------
    kept : pandas.DataFrame
        ``labels`` without the excluded rows.
    exclusion : Exclusion
        The counts of what was removed and why.
    """
    known = np.asarray(list(known_objids), dtype=np.int64)
    ids = labels["objid"].to_numpy(dtype=np.int64)
    is_known = np.isin(ids, known)
    dusty = early_type_with_dust(labels).to_numpy() & ~is_known
    drop = is_known | dusty
    report = Exclusion(int(is_known.sum()), int(dusty.sum()), int((~np.isin(known, ids)).sum()),
                       ids[drop])
    return labels.loc[~drop].reset_index(drop=True), report


def balance(labels: pd.DataFrame, cap: int = BALANCE_CAP, by: str = "tags", seed: int = 0) -> pd.DataFrame:
    """Down-sample over-represented tag combinations to at most ``cap`` galaxies each.

    The paper caps the over-represented labels at 2,000 (e.g. 14,835 "smooth, completely round galaxy"
    become 2,000). Here a *label* is a galaxy's full tag combination (column ``by``), so rare
    combinations keep every galaxy and common ones are randomly thinned.

    Parameters
    ----------
    labels : pandas.DataFrame
        Labelled galaxies; needs column ``by``.
    cap : int, optional
        Largest number of galaxies kept per combination.
    by : str, optional
        Column whose values define the groups.
    seed : int, optional
        Seed of the random thinning.

    Returns
    -------
    pandas.DataFrame
        The kept rows in their original order.
    """
    if cap < 1:
        raise ParameterError(f"balance cap must be a positive number of galaxies, got {cap}")
    rng = np.random.default_rng(seed)
    keys = labels[by].to_numpy()
    _, inverse, sizes = np.unique(keys.astype(str), return_inverse=True, return_counts=True)
    inverse = inverse.ravel()
    # random rank of each row within its group; keep rank < cap
    order = np.lexsort((rng.random(len(labels)), inverse))
    rank = np.empty(len(labels), np.int64)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    rank[order] = np.arange(len(labels)) - np.repeat(starts, sizes)
    return labels.loc[rank < cap].reset_index(drop=True)
