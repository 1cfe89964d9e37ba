"""Score every galaxy of a survey in batches that survive a kill: a manifest of score parts.

``<out_dir>/manifest.json`` says what is being scored (a digest of the objID list, the batch size,
and the caller's key for the model); ``<out_dir>/parts/part-NNNNNN.csv`` holds one batch's
``objid, score``, each written atomically once the batch is scored. A killed run leaves whole parts
only, and the next call with the same manifest scores just the missing batches. A different objID
list, batch size or key starts afresh. Batches are dealt round-robin to ``world`` processes (for
example ``accelerate``'s ``process_index`` / ``num_processes``); :func:`collect_scores` joins the parts
once every batch is in.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
from tqdm import tqdm

from galaxysd.cache import atomic_write_text
from galaxysd.errors import DataError, GalaxySDError, ParameterError

MANIFEST_NAME = "manifest.json"
PARTS_DIR = "parts"


class ScoringIncompleteError(GalaxySDError):
    """Some batches of a scoring run have no part file yet (another process, or a killed run)."""


def ids_digest(ids) -> str:
    """sha256 of an objID list (order matters)."""
    return hashlib.sha256(np.ascontiguousarray(np.asarray(ids, dtype=np.int64)).tobytes()).hexdigest()


def _part(out_dir: Path, batch: int) -> Path:
    return out_dir / PARTS_DIR / f"part-{batch:06d}.csv"


def _read_manifest(out_dir: Path) -> dict | None:
    try:
        return json.loads((out_dir / MANIFEST_NAME).read_text())
    except (OSError, ValueError):
        return None


def _open_manifest(out_dir: Path, manifest: dict) -> None:
    path = out_dir / MANIFEST_NAME
    if _read_manifest(out_dir) == manifest:
        return
    # a different list, batch size or model: the old parts describe something else
    for part in sorted((out_dir / PARTS_DIR).glob("part-*.csv")):
        part.unlink()
    (out_dir / PARTS_DIR).mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, json.dumps(manifest, indent=2))


def open_scoring(ids, out_dir: str | os.PathLike, batch_size: int = 1024, key: str = "") -> dict:
    """Write (or keep) the manifest of a scoring run; process 0 calls it before the others score.

    Returns
    -------
    dict
        The manifest.
    """
    ids = np.asarray(ids, dtype=np.int64)
    manifest = {"ids_sha256": ids_digest(ids), "n": int(len(ids)), "batch_size": int(batch_size),
                "n_batches": int(-(-len(ids) // batch_size)), "key": str(key)}
    _open_manifest(Path(out_dir), manifest)
    return manifest


def score_survey(ids, scorer: Callable[[np.ndarray], np.ndarray], out_dir: str | os.PathLike,
                 batch_size: int = 1024, key: str = "", rank: int = 0, world: int = 1,
                 progress: bool = True) -> pd.DataFrame | None:
    """Score ``ids`` batch by batch, resuming from the part files a previous run left.

    Parameters
    ----------
    ids : array-like of int
        objIDs to score, in a fixed order.
    scorer : callable
        ``scorer(objids) -> scores``: one finite float per objID of the batch.
    out_dir : path-like
        Folder of the manifest and the parts.
    batch_size : int, optional
        objIDs per batch (and per part file).
    key : str, optional
        Names the model that scores (for example a digest of its training set); a new key discards
        the parts of the old one.
    rank, world : int, optional
        This process's index and the number of processes; process ``rank`` scores the batches
        ``rank, rank + world, ...``.
    progress : bool, optional
        Show a tqdm bar.

    Returns
    -------
    pandas.DataFrame or None
        ``objid, score`` in the order of ``ids`` when ``world == 1``; None for a shard of a
        multi-process run (call :func:`collect_scores` once every process has finished).

    Raises
    ------
    DataError
        If the scorer returns the wrong number of scores or a non-finite score (naming the batch).
    ParameterError
        If ``batch_size < 1`` or ``rank`` is not in ``[0, world)``.
    ScoringIncompleteError
        If ``rank > 0`` and process 0 has not opened the manifest of this scoring yet.

    Examples
    --------
    >>> scores = score_survey(cat.objid, model_scorer, run / "08/iter1/scores", key=digest)  # doctest: +SKIP
    """
    if int(batch_size) < 1:
        raise ParameterError(f"batch_size must be at least 1, got {batch_size}")
    if not 0 <= rank < world:
        raise ParameterError(f"rank must lie in [0, world={world}), got {rank}")
    ids = np.asarray(ids, dtype=np.int64)
    out = Path(out_dir)
    if rank == 0:
        manifest = open_scoring(ids, out, batch_size, key)
    else:
        manifest = {"ids_sha256": ids_digest(ids), "n": int(len(ids)), "batch_size": int(batch_size),
                    "n_batches": int(-(-len(ids) // batch_size)), "key": str(key)}
    n_batches = manifest["n_batches"]
    if rank > 0 and _read_manifest(out) != manifest:
        # only process 0 may discard stale parts; the others wait for it (accelerate:
        # score on the main process first, or call wait_for_everyone() after it has started)
        raise ScoringIncompleteError(f"process {rank}: {out / MANIFEST_NAME} does not describe this scoring yet; "
                                     "process 0 opens it, the other processes start after it")
    todo = [b for b in range(rank, n_batches, world) if not _part(out, b).is_file()]
    for b in tqdm(todo, desc="scoring the survey", unit="batch", disable=not progress, mininterval=2.0):
        batch = ids[b * batch_size:(b + 1) * batch_size]
        scores = np.asarray(scorer(batch), dtype=np.float64).reshape(-1)
        if len(scores) != len(batch):
            raise DataError(f"the scorer returned {len(scores)} scores for the {len(batch)} galaxies of batch {b}")
        if not np.isfinite(scores).all():
            raise DataError(f"the scorer returned {int((~np.isfinite(scores)).sum())} non-finite score(s) in batch {b}")
        frame = pd.DataFrame({"objid": batch, "score": scores})
        atomic_write_text(_part(out, b), frame.to_csv(index=False, float_format="%.9g"))
    return collect_scores(out) if world == 1 else None


def scoring_progress(out_dir: str | os.PathLike) -> tuple[int, int]:
    """(batches done, batches in all) of a scoring folder; (0, 0) when it has no manifest."""
    out = Path(out_dir)
    try:
        manifest = json.loads((out / MANIFEST_NAME).read_text())
    except (OSError, ValueError):
        return 0, 0
    done = sum(_part(out, b).is_file() for b in range(manifest["n_batches"]))
    return done, manifest["n_batches"]


def scoring_complete(out_dir: str | os.PathLike, ids=None, key: str | None = None) -> bool:
    """Whether every batch is scored (and, if given, for these ``ids`` and this ``key``)."""
    out = Path(out_dir)
    try:
        manifest = json.loads((out / MANIFEST_NAME).read_text())
    except (OSError, ValueError):
        return False
    if ids is not None and manifest["ids_sha256"] != ids_digest(ids):
        return False
    if key is not None and manifest["key"] != str(key):
        return False
    done, total = scoring_progress(out)
    return done == total


def collect_scores(out_dir: str | os.PathLike) -> pd.DataFrame:
    """Join the part files of a finished scoring run into ``objid, score`` (manifest order).

    Raises
    ------
    ScoringIncompleteError
        If a batch has no part file yet, naming how many are missing and the folder.
    """
    out = Path(out_dir)
    if not (out / MANIFEST_NAME).is_file():
        raise ScoringIncompleteError(f"{out} has no {MANIFEST_NAME}: nothing was scored there")
    manifest = json.loads((out / MANIFEST_NAME).read_text())
    missing = [b for b in range(manifest["n_batches"]) if not _part(out, b).is_file()]
    if missing:
        raise ScoringIncompleteError(f"{len(missing)} of {manifest['n_batches']} batches in {out} are not scored "
                                     f"yet (first: {missing[0]}); run the scoring again to finish them")
    parts = [pd.read_csv(_part(out, b), dtype={"objid": np.int64}) for b in range(manifest["n_batches"])]
    frame = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame({"objid": [], "score": []})
    if len(frame) != manifest["n"]:
        raise DataError(f"{out}: the parts hold {len(frame)} scores, the manifest expects {manifest['n']}")
    return frame
