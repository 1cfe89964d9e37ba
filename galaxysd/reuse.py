"""Reuse an executed notebook when nothing it depends on has changed since it ran.

A rebuild of the book whose stages are all cached still pays, per notebook, for a kernel, the imports
of torch and diffusers, and the reading of every cached stage: about a minute over eight chapters.
When nothing a notebook can see has changed, its executed copy is reused instead.

Why not jupyter-cache (Jupyter Book's own execution cache)? It keys on a notebook's code cells only,
so it would reuse a page whose data, stages, parameters or package code have changed. Here the key
covers all of them:

- the notebook's source, every parameter value the runner gives it, and whether the exercises'
  solutions are executed (``--exercises``);
- the ``galaxysd`` package (code, style and profiles) and the versions of the main libraries;
- the run folder's chapters up to this one (``NN_*`` with ``NN`` at most the notebook's number), the
  data folder when it lies outside the run folder, and any other file or folder outside it that a
  parameter names by its absolute path (people's verdicts kept elsewhere, supplied verdict files):
  each file's path, size and modification time;
- the figures the notebook wrote, which must still be there, the same size.

The key is recorded after the notebook has run, so it describes the state its own stages left; a
stage recomputed since (even to the same content), a verdict file added to a chapter's folder, or an
edited parameter all make the next run execute the notebook again. ``--force`` always executes.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
from importlib import metadata
from pathlib import Path
from typing import Iterable, Mapping

from galaxysd.cache import atomic_write_text
from galaxysd.parameters import RUNNER_PARAMETERS

#: Libraries whose version is part of a notebook's key.
LIBRARIES = ("torch", "diffusers", "transformers", "accelerate", "numpy", "pandas", "scikit-learn",
             "scipy", "matplotlib", "astropy", "papermill")
PACKAGE_DIR = Path(__file__).parent


def _tree_listing(folder: Path, digest: "hashlib._Hash", skip: Path | None = None) -> None:
    """Feed every file under ``folder`` (relative path, size, modification time) to ``digest``."""
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames.sort()
        here = Path(dirpath)
        if skip is not None and (here == skip or skip in here.parents):
            dirnames[:] = []
            continue
        for name in sorted(filenames):
            path = here / name
            try:
                stat = path.stat()
            except FileNotFoundError:  # removed while we walked: the key will simply differ next time
                continue
            digest.update(f"{path.relative_to(folder)}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())


def _package_digest() -> str:
    digest = hashlib.sha256()
    for path in sorted(PACKAGE_DIR.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(PACKAGE_DIR)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def _versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "absent"
    return versions


def chapter_number(name: str) -> int | None:
    """The number a notebook or run-folder name starts with (``"05_quality"`` -> 5), else ``None``."""
    head = name.split("_", 1)[0]
    return int(head) if head.isdigit() else None


def notebook_key(name: str, source: str | os.PathLike, parameters: Mapping, run_dir: str | os.PathLike,
                 data_dir: str | os.PathLike | None = None, exercises: bool = False) -> str:
    """The digest of everything notebook ``name`` can see (see the module's description).

    Parameters
    ----------
    name : str
        The notebook, e.g. ``"05_quality"``.
    source : str or path-like
        Its source file.
    parameters : mapping
        Every parameter value the runner gives it.
    run_dir : str or path-like
        The profile's run folder.
    data_dir : str or path-like, optional
        The data folder; walked only when it lies outside ``run_dir``.
    exercises : bool, optional
        Whether the exercises' solution cells are executed (:func:`galaxysd.book.gate_solutions`).

    Returns
    -------
    str
        Hex digest.

    Examples
    --------
    >>> key = notebook_key("05_quality", "notebooks/05_quality.py", plan.parameters, paths.run)  # doctest: +SKIP
    """
    digest = hashlib.sha256()
    digest.update(Path(source).read_bytes())
    digest.update(json.dumps(dict(parameters), sort_keys=True, default=str).encode())
    digest.update(b"[exercises]" if exercises else b"[no exercises]")
    digest.update(_package_digest().encode())
    digest.update(json.dumps(_versions(), sort_keys=True).encode())
    run = Path(run_dir)
    limit = chapter_number(name)
    if run.is_dir():
        for chapter in sorted(run.iterdir()):
            number = chapter_number(chapter.name)
            if chapter.is_dir() and number is not None and (limit is None or number <= limit):
                digest.update(f"[{chapter.name}]".encode())
                _tree_listing(chapter, digest)
    if data_dir:
        data = Path(data_dir).resolve()
        if data.is_dir() and run.resolve() not in (data, *data.parents):
            digest.update(b"[data]")
            _tree_listing(data, digest)
    for path in named_paths(parameters, run):
        digest.update(f"[{path}]".encode())
        if path.is_file():
            stat = path.stat()
            digest.update(f"{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
        else:
            _tree_listing(path, digest)
    return digest.hexdigest()


def named_paths(parameters: Mapping, run_dir: str | os.PathLike) -> list[Path]:
    """Existing files and folders that parameter values name by an absolute path, outside ``run_dir``.

    A value may be a string or a list of strings; the runner's own folders (run, figures, data) are
    left to :func:`notebook_key`'s other rules.

    Examples
    --------
    >>> named_paths({"seed": 0, "verdict_dir": "", "supplied_verdicts": []}, "runs/demo")
    []
    """
    run = Path(run_dir).resolve()
    found = []
    for name, value in parameters.items():
        if name in RUNNER_PARAMETERS:
            continue
        for item in value if isinstance(value, (list, tuple)) else [value]:
            if isinstance(item, str) and item and os.path.isabs(item) and Path(item).exists():
                path = Path(item).resolve()
                if path != run and run not in path.parents:
                    found.append(path)
    return sorted(set(found))


def _record_path(output_dir: Path, name: str) -> Path:
    return Path(output_dir) / f".{name}.reuse.json"


def remember(output_dir: str | os.PathLike, name: str, key: str, seconds: float,
             figures: Iterable[str | os.PathLike]) -> Path:
    """Record that ``<output_dir>/<name>.ipynb`` was executed with ``key`` and wrote ``figures``."""
    files = {str(Path(f)): Path(f).stat().st_size for f in figures if Path(f).is_file()}
    record = {"key": key, "seconds": round(seconds, 1), "figures": files}
    path = _record_path(Path(output_dir), name)
    atomic_write_text(path, json.dumps(record, indent=2))
    return path


def reusable(output_dir: str | os.PathLike, name: str, key: str) -> dict | None:
    """The record of an executed notebook that can be reused as it is, or ``None``.

    Reusable when the executed notebook exists, was recorded with the same key, and every figure it
    wrote is still there with the size it had.
    """
    output_dir = Path(output_dir)
    record_file = _record_path(output_dir, name)
    if not (output_dir / f"{name}.ipynb").is_file() or not record_file.is_file():
        return None
    try:
        record = json.loads(record_file.read_text())
    except json.JSONDecodeError:
        return None
    if record.get("key") != key:
        return None
    for path, size in record.get("figures", {}).items():
        if not Path(path).is_file() or Path(path).stat().st_size != size:
            return None
    return record


def forget(output_dir: str | os.PathLike, name: str) -> None:
    """Drop the record, so the next run executes the notebook."""
    _record_path(Path(output_dir), name).unlink(missing_ok=True)


def snapshot(folder: str | os.PathLike) -> dict[str, tuple[int, int]]:
    """Size and modification time of every file under ``folder`` (to tell later what a notebook wrote)."""
    folder = Path(folder)
    if not folder.is_dir():
        return {}
    return {str(p): (p.stat().st_size, p.stat().st_mtime_ns) for p in folder.rglob("*") if p.is_file()}


def written_since(folder: str | os.PathLike, before: Mapping[str, tuple[int, int]]) -> list[Path]:
    """Files under ``folder`` that are new or changed since :func:`snapshot` gave ``before``."""
    now = snapshot(folder)
    return sorted(Path(p) for p, stat in now.items() if before.get(p) != stat and not Path(p).name.startswith("."))
