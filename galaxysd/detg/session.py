"""One inspector's pass over a candidate list: record verdicts, save atomically, resume where they stopped.

This is the logic of the notebook's inspection tool without any browser: :mod:`galaxysd.detg.widget`
draws it with ipywidgets, and the tests drive it directly. Every recorded verdict is written at once
(through a temporary file and a rename) to the inspector's own file, ``<verdict_dir>/<inspector>.csv``,
in the format of :mod:`galaxysd.detg.verdicts`; opening a session on an existing file picks up its
verdicts, so a closed notebook or a crashed kernel loses nothing and the next page shown is the first
galaxy not yet judged.
"""

from __future__ import annotations

import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Mapping

import numpy as np
import pandas as pd

from galaxysd.detg.verdicts import (VERDICT_COLUMNS, VERDICT_WORDS, VerdictError, check_inspector,
                                    read_verdicts, verdict_path, write_verdicts)
from galaxysd.errors import ParameterError


def utc_now() -> str:
    """The current time as an ISO 8601 string in UTC (the default clock of a session)."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class InspectionSession:
    """An inspector's verdicts on an ordered list of candidates, saved after every change.

    Parameters
    ----------
    candidates : array-like of int
        objIDs in the order they are shown (for example by decreasing score).
    verdict_dir : path-like
        Folder of the verdict files; this inspector's is ``<verdict_dir>/<inspector>.csv``.
    inspector : str
        The inspector's name (letters, digits, ``_ - .``).
    clock : callable, optional
        Returns the time stamp of a verdict (default: :func:`utc_now`).

    Raises
    ------
    VerdictError
        If the existing file is malformed, judges galaxies outside ``candidates``, or holds another
        inspector's verdicts.

    Examples
    --------
    >>> session = InspectionSession(cand.objid, run / "verdicts", "alice")  # doctest: +SKIP
    >>> session.record(cand.objid[0], "yes"); session.page(12)  # doctest: +SKIP
    """

    def __init__(self, candidates, verdict_dir: str | os.PathLike, inspector: str,
                 clock: Callable[[], str] = utc_now):
        self.inspector = check_inspector(inspector)
        self.candidates = np.asarray(candidates, dtype=np.int64)
        if len(np.unique(self.candidates)) != len(self.candidates):
            raise ParameterError("the candidate list holds an objID twice")
        self.path = verdict_path(verdict_dir, inspector)
        self.clock = clock
        self._verdicts: dict[int, tuple[str, str]] = {}
        if self.path.is_file():
            old = read_verdicts(self.path, self.candidates)
            others = sorted(set(old.inspector) - {self.inspector})
            if others:
                raise VerdictError(f"{self.path} holds verdicts of {others}, not only of {self.inspector!r}: "
                                   "one file per inspector")
            self._verdicts = {int(r.objid): (r.verdict, str(r.time)) for r in old.itertuples()}

    def __len__(self) -> int:
        return len(self.candidates)

    @property
    def n_done(self) -> int:
        """Number of candidates judged so far."""
        return len(self._verdicts)

    @property
    def done(self) -> bool:
        """Whether every candidate has a verdict."""
        return self.n_done == len(self.candidates)

    def verdict(self, objid: int) -> str | None:
        """This inspector's verdict on ``objid`` (None if not judged yet)."""
        entry = self._verdicts.get(int(objid))
        return entry[0] if entry else None

    def pending(self) -> np.ndarray:
        """Candidates not judged yet, in display order."""
        return np.array([o for o in self.candidates if int(o) not in self._verdicts], dtype=np.int64)

    @property
    def position(self) -> int:
        """Index in the candidate list of the first galaxy not judged yet (``len(self)`` when done)."""
        for i, o in enumerate(self.candidates):
            if int(o) not in self._verdicts:
                return i
        return len(self.candidates)

    def page(self, size: int) -> np.ndarray:
        """The next ``size`` candidates to show: the first ones not judged yet."""
        if int(size) < 1:
            raise ParameterError(f"page size must be at least 1, got {size}")
        return self.pending()[:size]

    def record(self, objid: int, verdict: str, save: bool = True) -> None:
        """Record (or change) the verdict on one candidate and save the file.

        Raises
        ------
        VerdictError
            If ``objid`` is not a candidate or ``verdict`` is not one of yes / no / unsure.
        """
        self.record_many({objid: verdict}, save=save)

    def record_many(self, verdicts: Mapping[int, str], save: bool = True) -> None:
        """Record several verdicts (a page) and save once; ``None`` values are skipped."""
        known = set(self.candidates.tolist())
        staged = {}
        for objid, word in verdicts.items():
            if word is None:
                continue
            if int(objid) not in known:
                raise VerdictError(f"objid {objid} is not among the {len(self.candidates)} candidates of {self.path}")
            word = str(word).strip().lower()
            if word not in VERDICT_WORDS:
                raise VerdictError(f"unknown verdict word {word!r} for objid {objid}; one of {list(VERDICT_WORDS)}")
            staged[int(objid)] = (word, self.clock())
        self._verdicts.update(staged)
        if save and staged:
            self.save()

    def frame(self) -> pd.DataFrame:
        """The verdicts so far in the verdict-file format, in candidate order."""
        rows = [(o, self.inspector, *self._verdicts[int(o)]) for o in self.candidates if int(o) in self._verdicts]
        return pd.DataFrame(rows, columns=list(VERDICT_COLUMNS)).astype({"objid": np.int64})

    def save(self) -> Path:
        """Write the verdict file atomically (temporary file, then rename)."""
        return write_verdicts(self.frame(), self.path)
