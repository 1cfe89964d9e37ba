"""Verdict files: the one format every inspection step writes, its validation, and majority voting.

A verdict file is a CSV with the columns ``objid, inspector, verdict, time``: one row per galaxy an
inspector judged, ``verdict`` one of ``yes`` (a D-ETG), ``no``, ``unsure``, and ``time`` an ISO 8601
timestamp. Each inspector has one file, ``<verdict_dir>/<inspector>.csv``, whether the inspector is a
person using the notebook's tool (:mod:`galaxysd.detg.session`), a simulated one
(:mod:`galaxysd.detg.inspectors`), or a file a user supplies (the authors' released catalogue, turned
into this format). A candidate is confirmed when at least two inspectors say ``yes``, as in the paper.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Iterable

import numpy as np
import pandas as pd

from galaxysd.cache import atomic_write_text
from galaxysd.errors import DataError, GalaxySDError, ParameterError

VERDICT_COLUMNS = ("objid", "inspector", "verdict", "time")
VERDICT_WORDS = ("yes", "no", "unsure")
#: Inspectors' names become file names: letters, digits, ``_``, ``-`` and ``.`` only.
INSPECTOR_NAME = re.compile(r"[A-Za-z0-9_.-]+")
#: Candidates confirmed (or rejected) when at least this many inspectors agree (paper: two of three).
MIN_AGREE = 2


class VerdictError(DataError):
    """A verdict file is malformed: unknown objID, duplicate verdict, unknown word, missing inspector."""


class VerdictsMissingError(GalaxySDError):
    """Candidates wait for inspection: the message names the candidates file and the command to go on."""


def check_inspector(name: str) -> str:
    """Return ``name`` if it can name an inspector (and a file), else raise :class:`ParameterError`."""
    if not isinstance(name, str) or not INSPECTOR_NAME.fullmatch(name):
        raise ParameterError(f"inspector name {name!r} must be letters, digits, '_', '-' or '.' (it names a file)")
    return name


def verdict_path(verdict_dir: str | os.PathLike, inspector: str) -> Path:
    """Where an inspector's verdict file lives: ``<verdict_dir>/<inspector>.csv``."""
    return Path(verdict_dir) / f"{check_inspector(inspector)}.csv"


def validate_verdicts(frame: pd.DataFrame, source: str = "verdicts", candidates=None,
                      inspectors: Iterable[str] | None = None) -> pd.DataFrame:
    """Check a verdict table and return it normalised (``objid`` int64, verdict words lower case).

    Parameters
    ----------
    frame : pandas.DataFrame
        Columns :data:`VERDICT_COLUMNS` (as read from a file, strings are fine).
    source : str, optional
        What to name in error messages (a file path).
    candidates : array-like of int, optional
        objIDs that may be judged; any other objID is an error.
    inspectors : iterable of str, optional
        Inspectors who must each have at least one verdict.

    Returns
    -------
    pandas.DataFrame
        The verdicts, columns in :data:`VERDICT_COLUMNS` order.

    Raises
    ------
    VerdictError
        On a missing column, a non-integer or unknown objID, an empty inspector, an unknown verdict word,
        an unparseable time, a second verdict by the same inspector on the same galaxy, or an expected
        inspector without verdicts.

    Examples
    --------
    >>> validate_verdicts(pd.read_csv("verdicts/alice.csv"), "alice.csv", candidates=cand.objid)  # doctest: +SKIP
    """
    missing = [c for c in VERDICT_COLUMNS if c not in frame.columns]
    if missing:
        raise VerdictError(f"{source}: column(s) {missing} missing; a verdict file has {list(VERDICT_COLUMNS)}")
    out = frame[list(VERDICT_COLUMNS)].copy()
    objid = pd.to_numeric(out["objid"], errors="coerce")
    bad = objid.isna() | (objid != objid.round())
    if bad.any():
        raise VerdictError(f"{source}: {int(bad.sum())} objid value(s) are not integers, e.g. {out['objid'][bad].iloc[0]!r}")
    out["objid"] = out["objid"].astype(np.int64)
    out["inspector"] = out["inspector"].fillna("").astype(str).str.strip()
    empty = out["inspector"] == ""
    if empty.any():
        raise VerdictError(f"{source}: {int(empty.sum())} row(s) name no inspector, e.g. objid {out['objid'][empty].iloc[0]}")
    for name in out["inspector"].unique():
        if not INSPECTOR_NAME.fullmatch(name):
            raise VerdictError(f"{source}: inspector name {name!r} must be letters, digits, '_', '-' or '.'")
    out["verdict"] = out["verdict"].fillna("").astype(str).str.strip().str.lower()
    unknown = ~out["verdict"].isin(VERDICT_WORDS)
    if unknown.any():
        raise VerdictError(f"{source}: {int(unknown.sum())} unknown verdict word(s), e.g. "
                           f"{out['verdict'][unknown].iloc[0]!r} for objid {out['objid'][unknown].iloc[0]}; "
                           f"a verdict is one of {list(VERDICT_WORDS)}")
    times = pd.to_datetime(out["time"], errors="coerce", utc=True, format="ISO8601")
    if times.isna().any():
        raise VerdictError(f"{source}: {int(times.isna().sum())} time value(s) are not ISO 8601 timestamps, "
                           f"e.g. {out['time'][times.isna()].iloc[0]!r}")
    dup = out.duplicated(["objid", "inspector"], keep=False)
    if dup.any():
        first = out[dup].iloc[0]
        raise VerdictError(f"{source}: duplicate verdict: inspector {first.inspector!r} judged objid {first.objid} "
                           f"{int(dup.sum())} times (one verdict per inspector and galaxy)")
    if candidates is not None:
        stray = ~out["objid"].isin(np.asarray(candidates, dtype=np.int64))
        if stray.any():
            raise VerdictError(f"{source}: {int(stray.sum())} unknown objid(s) not among the candidates, "
                               f"e.g. {out['objid'][stray].iloc[0]}")
    if inspectors is not None:
        absent = sorted(set(inspectors) - set(out["inspector"]))
        if absent:
            raise VerdictError(f"{source}: no verdict from inspector(s) {absent}")
    return out.reset_index(drop=True)


def write_verdicts(frame: pd.DataFrame, path: str | os.PathLike) -> Path:
    """Validate a verdict table and write it atomically as CSV; returns the path."""
    frame = validate_verdicts(frame, str(path))
    atomic_write_text(Path(path), frame.to_csv(index=False))
    return Path(path)


def read_verdicts(paths: str | os.PathLike | Iterable[str | os.PathLike], candidates=None,
                  inspectors: Iterable[str] | None = None) -> pd.DataFrame:
    """Read and validate one or more verdict files into one table.

    Parameters
    ----------
    paths : path-like or iterable of path-like
        Verdict files (one per inspector, or a combined file).
    candidates : array-like of int, optional
        objIDs that may be judged (see :func:`validate_verdicts`).
    inspectors : iterable of str, optional
        Inspectors who must appear across the files.

    Returns
    -------
    pandas.DataFrame
        Every verdict, columns :data:`VERDICT_COLUMNS`.

    Raises
    ------
    VerdictError
        If a file does not exist or fails :func:`validate_verdicts`, including a duplicate verdict
        spread over two files.
    """
    paths = [paths] if isinstance(paths, (str, os.PathLike)) else list(paths)
    frames = []
    for path in paths:
        if not Path(path).is_file():
            raise VerdictError(f"verdict file {path} does not exist")
        raw = pd.read_csv(path, dtype=str, keep_default_na=False)
        frames.append(validate_verdicts(raw, str(path), candidates))
    both = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=list(VERDICT_COLUMNS))
    return validate_verdicts(both, ", ".join(map(str, paths)) or "verdicts", candidates, inspectors)


def majority(verdicts: pd.DataFrame, candidates=None, min_agree: int = MIN_AGREE) -> pd.DataFrame:
    """Votes per galaxy and the panel's decision.

    Parameters
    ----------
    verdicts : pandas.DataFrame
        Validated verdicts (:func:`read_verdicts`).
    candidates : array-like of int, optional
        Galaxies to report even without a verdict (status ``uninspected``).
    min_agree : int, optional
        Votes needed to confirm (``yes``) or reject (``no``) a galaxy (paper: 2 of 3).

    Returns
    -------
    pandas.DataFrame
        Index ``objid``; ``n_yes, n_no, n_unsure, n_votes``, ``votes`` (``"alice:yes;bob:no"``) and
        ``status``: ``confirmed`` (at least ``min_agree`` yes and more yes than no), ``rejected`` (the
        same for no), ``undecided`` or ``uninspected``.

    Examples
    --------
    >>> decided = majority(read_verdicts(files), candidates=cand.objid)  # doctest: +SKIP
    """
    if int(min_agree) < 1:
        raise ParameterError(f"min_agree must be at least 1, got {min_agree}")
    v = verdicts.sort_values(["objid", "inspector"])
    counts = pd.crosstab(v["objid"], v["verdict"]).reindex(columns=list(VERDICT_WORDS), fill_value=0)
    counts.columns = [f"n_{w}" for w in VERDICT_WORDS]
    counts["votes"] = (v["inspector"] + ":" + v["verdict"]).groupby(v["objid"]).agg(";".join)
    ids = counts.index if candidates is None else \
        pd.Index(np.unique(np.concatenate([counts.index, np.asarray(candidates, np.int64)])))
    out = counts.reindex(ids)
    out[[f"n_{w}" for w in VERDICT_WORDS]] = out[[f"n_{w}" for w in VERDICT_WORDS]].fillna(0).astype(np.int64)
    out["votes"] = out["votes"].fillna("")
    out["n_votes"] = out[["n_yes", "n_no", "n_unsure"]].sum(axis=1)
    status = np.where((out.n_yes >= min_agree) & (out.n_yes > out.n_no), "confirmed",
                      np.where((out.n_no >= min_agree) & (out.n_no > out.n_yes), "rejected", "undecided"))
    out["status"] = np.where(out.n_votes == 0, "uninspected", status)
    out.index.name = "objid"
    return out[["n_yes", "n_no", "n_unsure", "n_votes", "votes", "status"]]


def require_verdicts(candidates_file: str | os.PathLike, verdict_dir: str | os.PathLike,
                     inspectors: Iterable[str], command: str) -> list[Path]:
    """The inspectors' verdict files, or a clear stop when any inspector has not judged every candidate.

    Parameters
    ----------
    candidates_file : path-like
        The CSV of candidates to inspect (column ``objid``).
    verdict_dir : path-like
        Folder of ``<inspector>.csv`` verdict files.
    inspectors : iterable of str
        Who must judge every candidate.
    command : str
        The command that goes on once the verdicts are in (printed in the message).

    Returns
    -------
    list of pathlib.Path
        One verdict file per inspector, each validated against the candidates.

    Raises
    ------
    VerdictsMissingError
        Naming the candidates file, the missing or unfinished inspectors, and ``command``.
    VerdictError
        If a verdict file exists but is malformed.
    """
    candidates = pd.read_csv(candidates_file)["objid"].to_numpy(np.int64)
    files, waiting = [], []
    for name in inspectors:
        path = verdict_path(verdict_dir, name)
        if not path.is_file():
            waiting.append(f"{name} (no file {path})")
            files.append(path)
            continue
        done = read_verdicts(path, candidates)
        left = len(np.setdiff1d(candidates, done.loc[done.inspector == name, "objid"]))
        if left:
            waiting.append(f"{name} ({left} of {len(candidates)} candidates not judged yet)")
        files.append(path)
    if waiting:
        raise VerdictsMissingError(
            f"candidates wait for inspection: inspect the {len(candidates)} galaxies of {candidates_file} "
            f"(the notebook's inspection tool writes {Path(verdict_dir)}/<inspector>.csv, or supply verdict "
            f"files in the columns {', '.join(VERDICT_COLUMNS)}); waiting for: {'; '.join(waiting)}. "
            f"Then go on with: {command}")
    return files
