"""Inspection steps for :func:`galaxysd.detg.search.run_search`, one per way verdicts come in.

Every step has the signature ``step(candidates, iteration, iteration_dir) -> verdicts`` and returns
verdicts in the one format of :mod:`galaxysd.detg.verdicts`:

- :func:`simulated_step`: a panel of simulated inspectors looks up the simulated truth;
- :func:`file_step`: people judged the candidates with the notebook's tool (or wrote verdict files by
  hand); it writes the list to inspect and, while verdicts are missing, stops the search with a
  message naming that file and the command to go on;
- :func:`supplied_step`: verdicts a user already has for any galaxies of the survey (for example the
  authors' released catalogue, turned into the verdict format); candidates without one are counted.

A step that reads files names them in its attribute ``sources`` (the verdict folder, or the supplied
files), so that the search stage can key on what they say: a verdict changed after a finished search
searches again (:func:`galaxysd.stages.s08_detg_catalog.search_stage`).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable

import numpy as np
import pandas as pd

from galaxysd.cache import atomic_write_text
from galaxysd.detg.inspectors import SimulatedInspector, simulated_inspection
from galaxysd.detg.verdicts import VERDICT_COLUMNS, read_verdicts, require_verdicts

TO_INSPECT_NAME = "to_inspect.csv"


def simulated_step(panel: Iterable[SimulatedInspector], true_ids, seed: int = 0):
    """An inspection step in which ``panel`` judges every candidate against ``true_ids``.

    Examples
    --------
    >>> step = simulated_step(simulated_panel(), gz2.true_detg(run), seed=0)  # doctest: +SKIP
    """
    panel = list(panel)
    true_ids = np.asarray(true_ids, dtype=np.int64)

    def step(candidates: pd.DataFrame, iteration: int, folder: Path) -> pd.DataFrame:
        return simulated_inspection(candidates["objid"].to_numpy(np.int64), true_ids, panel, seed)

    return step


def file_step(verdict_root: str | os.PathLike, inspectors: Iterable[str], command: str):
    """An inspection step that reads people's verdict files, or stops until they exist.

    For iteration ``k`` it writes the candidates not judged before to ``<iteration_dir>/to_inspect.csv``
    and expects one file per inspector in ``<verdict_root>/iter<k>/<inspector>.csv`` covering all of them.

    Parameters
    ----------
    verdict_root : path-like
        Folder of the verdict folders (kept outside any stage folder, so verdicts survive recomputing).
    inspectors : iterable of str
        The people who judge every candidate (paper: three).
    command : str
        The command that goes on once the verdicts are in (printed when the search stops).

    Raises
    ------
    VerdictsMissingError
        From the step, when an inspector has not judged every candidate yet.
    """
    inspectors = list(inspectors)

    def step(candidates: pd.DataFrame, iteration: int, folder: Path) -> pd.DataFrame:
        to_inspect = Path(folder) / TO_INSPECT_NAME
        atomic_write_text(to_inspect, candidates.to_csv(index=False, float_format="%.9g"))
        verdict_dir = Path(verdict_root) / f"iter{iteration}"
        files = require_verdicts(to_inspect, verdict_dir, inspectors, command)
        return read_verdicts(files, candidates["objid"], inspectors)

    step.sources = [Path(verdict_root)]
    return step


def supplied_step(paths, counts: dict | None = None):
    """An inspection step that takes each candidate's verdicts from files covering any galaxies.

    Parameters
    ----------
    paths : path-like or iterable of path-like
        Verdict files (validated on reading; objIDs outside the candidates are allowed here).
    counts : dict, optional
        Filled per iteration with ``{k: {"candidates": n, "without_verdict": m}}`` so that the
        candidates nobody judged are reported, not silently dropped.
    """
    paths = [paths] if isinstance(paths, (str, os.PathLike)) else list(paths)
    verdicts = read_verdicts(paths)

    def step(candidates: pd.DataFrame, iteration: int, folder: Path) -> pd.DataFrame:
        ids = candidates["objid"].to_numpy(np.int64)
        mine = verdicts[verdicts.objid.isin(ids)]
        if counts is not None:
            counts[iteration] = {"candidates": int(len(ids)),
                                 "without_verdict": int((~np.isin(ids, mine.objid)).sum())}
        return mine[list(VERDICT_COLUMNS)].reset_index(drop=True)

    step.sources = [Path(p) for p in paths]
    return step
