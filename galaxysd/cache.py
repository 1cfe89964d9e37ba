"""Stage cache: load work whose parameters and inputs are unchanged instead of recomputing it.

A *stage* is one unit of heavy work (simulate the survey, compute labels, train the model...). It
writes its outputs into its own folder of the run directory, ``<run_dir>/<name>/``, and finishes by
writing a record, ``stage.json``, holding

- ``params``: the parameters that shaped the outputs (JSON-serialisable),
- ``inputs``: a content fingerprint of every input (a file, a folder, or an earlier stage's folder),
- ``key``: the sha256 of both, and ``outputs``: a content fingerprint of what the stage wrote (not
  what it cost: ``timing.json`` is left out).

Keys and records name content, not location: a path among the parameters or inputs that lies in the
run folder is recorded relative to it (:func:`portable`), so a run folder can move (a checkpoint
bundle, :mod:`galaxysd.checkpoint`) and two runs in two folders agree.

A later call with the same key finds the record and skips the work. An input that is itself a stage
folder is fingerprinted by its record's ``outputs`` digest, so when an upstream stage recomputes and
writes different files, every stage downstream of it misses too. Files are fingerprinted by content
(sha256); the digest of an unchanged file (same size and modification time) is memoised in
``<run_dir>/.fingerprints.json`` so that multi-GB inputs are hashed once.

Work happens in a sibling folder, ``.<name>.partial-<key>``, that is renamed into place only when the
stage succeeds, so a crash never leaves a half-written stage that looks complete. A failed stage's
partial folder is kept: the next call with the same key hands it to ``compute`` again, so a long
computation (training) can resume from the checkpoints it left there.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping

from galaxysd.errors import GalaxySDError
from galaxysd.paths import CHAPTER_NAME, PACKAGE_DIR, run_folder_of

RECORD_NAME = "stage.json"
_CHUNK = 1 << 20


def _canonical(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str)


def sha256_file(path: Path) -> str:
    """Content digest of one file (hex sha256)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


class DigestMemo:
    """sha256 of files keyed by (path, size, mtime_ns), persisted in a JSON file.

    Hashing a multi-GB input (the GZ2 image zip) takes seconds; an unchanged file (same size and
    modification time) keeps the digest computed the first time.

    Parameters
    ----------
    path : pathlib.Path
        The JSON file holding the memo (created on :meth:`save`).

    Examples
    --------
    >>> memo = DigestMemo(run_dir / ".fingerprints.json"); digest = memo.digest(file); memo.save()  # doctest: +SKIP
    """

    def __init__(self, path: Path):
        self.path = path
        try:
            self.table = json.loads(path.read_text())
        except (OSError, ValueError):
            self.table = {}
        self.changed = False

    def digest(self, file: Path) -> str:
        stat = file.stat()
        key = str(file.resolve())
        stamp = [stat.st_size, stat.st_mtime_ns]
        entry = self.table.get(key)
        if entry and entry[:2] == stamp:
            return entry[2]
        value = sha256_file(file)
        self.table[key] = [*stamp, value]
        self.changed = True
        return value

    def save(self) -> None:
        if self.changed:
            atomic_write_text(self.path, json.dumps(self.table))
            self.changed = False


TIMING_FILE = "timing.json"


def stage_timing(stage_dir: str | os.PathLike) -> dict:
    """What a stage wrote about its own run in ``timing.json`` (``seconds``, images, ...), or ``{}``.

    Examples
    --------
    >>> stage_timing("/nonexistent/stage")
    {}
    """
    path = Path(stage_dir) / TIMING_FILE
    return json.loads(path.read_text()) if path.is_file() else {}


@contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success rename it onto ``path`` in one step.

    The one way the package writes a file or a folder: whatever writes into the yielded path (a
    ``savefig``, ``save_file``, ``to_csv``, ``save_pretrained`` into a folder) either lands whole or not
    at all, so a crash never leaves half a file under the real name. On error the temporary is removed.

    Parameters
    ----------
    path : str or path-like
        The file or folder to write. A folder that already exists is replaced.

    Yields
    ------
    pathlib.Path
        A fresh temporary path in the same folder (same filesystem, so the rename is atomic); it keeps
        ``path``'s suffix so writers that pick a format from the name still do.

    Examples
    --------
    >>> import tempfile
    >>> target = Path(tempfile.mkdtemp()) / "table.csv"
    >>> with atomic_path(target) as tmp:
    ...     _ = tmp.write_text("a,b\\n1,2\\n")
    >>> target.read_text()
    'a,b\\n1,2\\n'
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # unique per call: two processes, or two threads of one, may write the same file at once
    token = uuid.uuid4().hex[:12]
    tmp = path.with_name(f".{path.stem}.{token}.tmp{path.suffix}")
    try:
        yield tmp
        if tmp.is_dir() and path.is_dir():
            # os.replace cannot put a folder over a non-empty one: move the old one aside first
            old = path.with_name(f".{path.name}.{token}.old")
            os.replace(path, old)
            os.replace(tmp, path)
            _remove(old)
        else:
            os.replace(tmp, path)
    except BaseException:
        _remove(tmp)
        raise


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` to ``path`` through :func:`atomic_path`."""
    with atomic_path(path) as tmp:
        tmp.write_text(text)


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` through :func:`atomic_path`."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def fingerprint(path: str | os.PathLike, memo: DigestMemo | None = None) -> str:
    """Content fingerprint of a file, a folder, or a finished stage folder.

    Parameters
    ----------
    path : str or path-like
        A file (its sha256), a stage folder (its record's output digest) or any other folder (digest
        of its files' relative paths and contents; hidden files, ``timing.json`` and the records of
        stages nested in it excluded, so that two runs of the same work agree).
    memo : optional
        Memo of file digests, to avoid re-hashing unchanged large files.

    Returns
    -------
    str
        Hex digest.

    Raises
    ------
    GalaxySDError
        If ``path`` does not exist.
    """
    path = Path(path)
    hash_file = memo.digest if memo is not None else sha256_file
    if path.is_file():
        return hash_file(path)
    if not path.is_dir():
        raise GalaxySDError(f"stage input {path} does not exist; run the stage that makes it first")
    record = path / RECORD_NAME
    if record.is_file():
        return json.loads(record.read_text())["outputs"]
    digest = hashlib.sha256()
    # what a stage cost (timing.json, a nested stage's record) is not what it made: left out
    for file in sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith(".")
                       and p.name not in (TIMING_FILE, RECORD_NAME)):
        digest.update(file.relative_to(path).as_posix().encode())
        digest.update(hash_file(file).encode())
    return digest.hexdigest()


@dataclass
class StageResult:
    """What :func:`run_stage` returns.

    Attributes
    ----------
    path : pathlib.Path
        The stage folder holding its outputs.
    hit : bool
        ``True`` if the outputs were loaded from an earlier run, ``False`` if computed now.
    record : dict
        The stage record (params, inputs, key, outputs, and ``seconds``: how long computing it took).
    """

    path: Path
    hit: bool
    record: dict


def portable(obj: Any, run_dir: str | os.PathLike | None = None) -> Any:
    """``obj`` with every absolute path in the run folder or the package named relative to it.

    A path inside the run folder becomes ``"<run>/01_data/survey/..."`` and one inside the installed
    package ``"<galaxysd>/imstats.py"``; anything else (the real data's folder, numbers, text) is kept.
    Stage keys and records are made of it, so a run folder that moves keeps its keys, and two runs in
    two folders record the same stages.

    Parameters
    ----------
    obj : any
        A JSON-like value: str, path, dict, list or tuple of them, or anything else (kept).
    run_dir : str or path-like, optional
        The run folder.

    Returns
    -------
    any
        The same structure, paths rewritten as text.

    Examples
    --------
    >>> portable({"survey": "/x/runs/demo/01_data/survey/gz2.csv", "n": 3}, "/x/runs/demo")
    {'survey': '<run>/01_data/survey/gz2.csv', 'n': 3}
    """
    if isinstance(obj, Mapping):
        return {k: portable(v, run_dir) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [portable(v, run_dir) for v in obj]
    if not isinstance(obj, (str, os.PathLike)) or not os.path.isabs(obj):
        return obj
    path = Path(os.path.abspath(obj))
    roots = [("<run>", Path(os.path.abspath(run_dir)))] if run_dir is not None else []
    for label, root in [*roots, ("<galaxysd>", PACKAGE_DIR)]:
        if path.is_relative_to(root):
            return f"{label}/{path.relative_to(root).as_posix()}".rstrip("/")
    return str(obj)


def _run_folder(run_dir: Path, name: str) -> Path:
    """The run folder of a stage: ``run_dir``, unless the stage is nested in another's folder.

    A stage named after a chapter (``"05_quality/generated"``) lies in the run folder itself; one that
    is not (``"step-000010"``, run inside ``05_quality/generated``'s partial folder) lies in a chapter's.
    """
    if CHAPTER_NAME.fullmatch(Path(name).parts[0]):
        return run_dir
    return run_folder_of(run_dir) or run_dir


def stage_key(params: Mapping[str, Any], inputs: Iterable[str | os.PathLike] = (),
              memo: DigestMemo | None = None, run_dir: str | os.PathLike | None = None) -> tuple[str, dict]:
    """The cache key of a stage and the input fingerprints it was made from.

    Both name content, not location: paths among the parameters are taken :func:`portable` to
    ``run_dir``, and inputs count by their fingerprints only (the record names them portably).
    """
    input_prints = {portable(p, run_dir): fingerprint(p, memo) for p in inputs}
    key = hashlib.sha256(_canonical({"params": portable(params, run_dir),
                                     "inputs": sorted(input_prints.values())}).encode()).hexdigest()
    return key, input_prints


def run_stage(run_dir: str | os.PathLike, name: str, params: Mapping[str, Any],
              compute: Callable[[Path], Any], inputs: Iterable[str | os.PathLike] = (),
              force: bool = False, verbose: bool = True) -> StageResult:
    """Run ``compute`` into ``<run_dir>/<name>/`` unless an up-to-date record says it already ran.

    Parameters
    ----------
    run_dir : str or path-like
        The profile's run folder.
    name : str
        Stage name, used as the folder name (``"01_data/labels"`` makes a nested folder).
    params : mapping
        JSON-serialisable parameters that determine the outputs; any change recomputes the stage.
    compute : callable
        ``compute(out_dir)`` writes the stage's files into ``out_dir``: a partial folder that is empty,
        or holds what an interrupted earlier attempt with the same key left (checkpoints to resume).
    inputs : iterable of path-like, optional
        Files, folders or earlier stage folders the stage reads; a change of content recomputes it.
    force : bool, optional
        Recompute even if the record matches.
    verbose : bool, optional
        Print one line saying whether the stage was loaded or computed.

    Returns
    -------
    StageResult
        The stage folder, whether it was a cache hit, and its record.

    Examples
    --------
    >>> result = run_stage(run, "labels", {"min_debiased": 0.8}, compute=write_labels)  # doctest: +SKIP
    """
    run_dir = Path(run_dir)
    out = run_dir / name
    run_dir.mkdir(parents=True, exist_ok=True)
    memo = DigestMemo(run_dir / ".fingerprints.json")
    root = _run_folder(run_dir, name)
    key, input_prints = stage_key(params, list(inputs), memo, root)
    record_path = out / RECORD_NAME
    if not force and record_path.is_file():
        record = json.loads(record_path.read_text())
        if record.get("key") == key:
            memo.save()
            if verbose:
                print(f"[stage {name}] up to date, loaded from the run folder")
            return StageResult(out, True, record)

    out.parent.mkdir(parents=True, exist_ok=True)
    work = out.parent / f".{out.name}.partial-{key[:16]}"
    work.mkdir(exist_ok=True)
    started = time.perf_counter()
    compute(work)  # on failure the partial folder stays, for inspection and resumption
    # What computing the stage cost, so that a book built from loaded stages can still say it
    # (a resumed stage records only its last attempt).
    record = {"name": name, "params": json.loads(_canonical(portable(params, root))), "inputs": input_prints,
              "key": key, "outputs": fingerprint(work, memo),
              "seconds": round(time.perf_counter() - started, 1)}
    (work / RECORD_NAME).write_text(json.dumps(record, indent=2))
    if out.exists():
        shutil.rmtree(out)
    os.replace(work, out)
    memo.save()
    if verbose:
        print(f"[stage {name}] computed into the run folder")
    return StageResult(out, False, record)
