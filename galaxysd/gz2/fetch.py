"""The real data in ``$GALAXYSD_DATA/gz2``: download with pooch, check each file, record good files' checksums.

Three steps, each usable on its own:

- :func:`~galaxysd.gz2.datafolder.check_data` (:mod:`galaxysd.gz2.datafolder`, re-exported here) looks
  at a data folder *before anything is downloaded*: what is present, missing, misplaced, and how to
  get it. Nothing is created.
- :func:`fetch` downloads one file (pooch, with a progress bar) into the folder the caller names,
  checks it, and removes any folder it created if the download fails.
- :func:`verify_or_record` checks a file against the sha256 recorded in ``<data_dir>/gz2/checksums.json``.
  None of the providers publishes checksums, so the first good copy is recorded -- *after* the file
  passes its own check (the zip opens and lists its images; a table parses with its schema), never
  before: a truncated download is reported ("incomplete download?") and not recorded.

``python -m galaxysd fetch --data-dir DIR`` runs the three (:func:`fetch_all` with ``download=True``);
the notebooks only check (``download=False``) and say what to run, so nothing is downloaded into a
folder the user did not name.
"""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path
from typing import Callable

from galaxysd.cache import DigestMemo, atomic_write_text
from galaxysd.errors import DataError
from galaxysd.gz2.datafolder import (  # noqa: F401  (re-exported: the folder's layout and its check)
    IMAGE_NAME, IMAGES_ZIP, MANUAL, REMOTE, DataCheck, FileStatus, check_data, data_root, unpacked_images)
from galaxysd.gz2.simulate.survey import SurveyFiles, survey_files

CHECKSUMS = "checksums.json"


def _load_sums(data_dir: Path) -> dict:
    path = data_root(data_dir) / CHECKSUMS
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def _check_zip(path: Path) -> None:
    try:
        with zipfile.ZipFile(path) as zf:
            names = zf.namelist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise DataError(f"not a valid zip file ({exc})") from exc
    if not any(IMAGE_NAME.fullmatch(n.rsplit("/", 1)[-1]) and not n.startswith("__MACOSX/") for n in names):
        raise DataError(f"the zip lists {len(names)} entries but no <asset_id>.jpg image")


def _checker(name: str) -> Callable[[Path], object]:
    """The file's own check: its reader, which raises DataError on a malformed or truncated file."""
    from galaxysd.gz2 import loaders
    if name == IMAGES_ZIP:
        return _check_zip
    if name.startswith("yang/"):
        return lambda p: loaders.read_yang_file(p, name.split("/", 1)[1])
    return {"gz2_hart16.csv.gz": loaders.read_hart16, "gz2_filename_mapping.csv": loaders.read_filename_mapping,
            "dustlanes/Basic_Information.txt": lambda p: loaders.read_dustlanes(p, strict=True),
            "gswlc/GSWLC-X2.dat.gz": loaders.read_gswlc}[name]


def check_file(path: str | os.PathLike, name: str) -> str | None:
    """Run a data file's own check; ``None`` if it passes, else what is wrong.

    Parameters
    ----------
    path : str or path-like
        The file.
    name : str
        A key of :data:`REMOTE` or :data:`MANUAL` (which check applies).

    Examples
    --------
    >>> check_file(root / "images_gz2.zip", "images_gz2.zip")  # doctest: +SKIP
    """
    try:
        _checker(name)(Path(path))
    except DataError as exc:
        return str(exc)
    return None


def _refetch_hint(name: str, data_dir: Path) -> str:
    if name in MANUAL:
        return f"download it again from {MANUAL[name]} and put it at {data_root(data_dir) / name}"
    return f"delete it and run `python -m galaxysd fetch --data-dir {data_dir}`"


def verify_or_record(path: Path, name: str, data_dir: Path) -> str:
    """Check ``path`` against the recorded sha256 of ``name``; record it only for a file that passes its check.

    A file with a recorded checksum that matches is trusted (unchanged files are not re-hashed:
    :class:`~galaxysd.cache.DigestMemo`). A file without one is first checked by :func:`check_file`
    (the zip opens and lists its images, a table parses with its schema); only then is its sha256
    recorded.

    Returns
    -------
    str
        The file's sha256.

    Raises
    ------
    DataError
        If the file fails its own check (with "incomplete download?" and what to do; nothing is
        recorded), or its sha256 differs from the recorded one.
    """
    data_dir = Path(data_dir)
    sums = _load_sums(data_dir)
    memo = DigestMemo(data_root(data_dir) / ".digests.json")  # unchanged files are not re-hashed
    digest = memo.digest(Path(path))
    memo.save()
    if sums.get(name) == digest:
        return digest
    problem = check_file(path, name)
    if problem:
        recorded = ("its sha256 also differs from the one recorded for a good copy" if name in sums else
                    "no checksum was recorded for it")
        raise DataError(f"{path} fails its check -- incomplete download? {problem.rstrip('.')}. What to do: "
                        f"{_refetch_hint(name, data_dir)} ({recorded})")
    if name in sums:
        raise DataError(f"{path}: sha256 {digest[:12]}... differs from the one recorded for a good copy "
                        f"({sums[name][:12]}...), although the file passes its check: if the provider changed "
                        f"it, delete its entry in {data_root(data_dir) / CHECKSUMS}; otherwise "
                        f"{_refetch_hint(name, data_dir)}")
    sums[name] = digest
    atomic_write_text(data_root(data_dir) / CHECKSUMS, json.dumps(sums, indent=2, sort_keys=True))
    return digest


def _new_folders(folder: Path) -> list[Path]:
    """The folders that creating ``folder`` would create, deepest first."""
    made = []
    while not folder.exists():
        made.append(folder)
        folder = folder.parent
    return made


def _remove_empty(folders: list[Path]) -> None:
    for folder in folders:  # deepest first
        try:
            folder.rmdir()
        except OSError:
            return


def fetch(name: str, data_dir: str | os.PathLike, progress: bool = True, url: str | None = None) -> Path:
    """Download one remote file (if absent) into ``<data_dir>/gz2/<name>``, check it, verify its checksum.

    The download goes through :func:`pooch.retrieve` (with its progress bar) into the folder given,
    never another. A failed download leaves no folder behind that it created; a downloaded file that
    fails its own check is deleted and reported ("incomplete download?"). The first good copy's
    sha256 is recorded in ``<data_dir>/gz2/checksums.json``; every later call is checked against it.

    Parameters
    ----------
    name : str
        A key of :data:`REMOTE` (or :data:`MANUAL`: then only checked, never downloaded).
    data_dir : str or path-like
        The data folder the user named (``$GALAXYSD_DATA``, ``--data-dir``).
    progress : bool, optional
        Show pooch's progress bar.
    url : str, optional
        Download from this address instead of ``REMOTE[name]`` (a mirror).

    Returns
    -------
    pathlib.Path
        The local file.

    Raises
    ------
    DataError
        Unknown name, manual file missing, failed download, a file that fails its check, or a
        checksum mismatch.

    Examples
    --------
    >>> fetch("gz2_filename_mapping.csv", "/data/galaxysd")  # doctest: +SKIP
    """
    data_dir = Path(data_dir)
    target = data_root(data_dir) / name
    if name in MANUAL:
        if not target.is_file():
            raise DataError(f"{target} is missing: download it from {MANUAL[name]} and place it there")
        verify_or_record(target, name, data_dir)
        return target
    if name not in REMOTE:
        raise DataError(f"unknown data file {name!r}; known: {sorted(REMOTE)}")
    url = url or REMOTE[name]
    if not target.is_file():
        import pooch
        made = _new_folders(target.parent)
        try:
            pooch.retrieve(url, known_hash=None, fname=target.name, path=target.parent, progressbar=progress)
        except Exception as exc:  # network errors come in many types
            _remove_empty(made)
            raise DataError(f"download of {url} into {target} failed: {exc}") from exc
        problem = check_file(target, name)
        if problem:
            target.unlink()
            _remove_empty(made)
            raise DataError(f"the file downloaded from {url} fails its check -- incomplete download? "
                            f"{problem.rstrip('.')}. "
                            f"It was deleted; run `python -m galaxysd fetch --data-dir {data_dir}` to try again")
    verify_or_record(target, name, data_dir)
    return target


def fetch_all(data_dir: str | os.PathLike, images: bool = True, progress: bool = True,
              download: bool = False) -> SurveyFiles:
    """Check the data folder, download what is missing (only with ``download``), verify every file.

    Parameters
    ----------
    data_dir : str or path-like
        The data folder the user named.
    images : bool, optional
        Also the images (the zip is not downloaded when they are unpacked: :func:`unpacked_images`).
    progress : bool, optional
        Progress bars of the downloads.
    download : bool, optional
        Download missing files (``python -m galaxysd fetch``). ``False`` (the notebooks): a missing
        file is an error carrying :meth:`DataCheck.report`, before anything is downloaded or created.

    Returns
    -------
    SurveyFiles
        The real files' paths (:func:`real_files`).

    Raises
    ------
    DataError
        A file is missing (without ``download``, or a manual one), a download fails, or a file fails
        its check or checksum.

    Examples
    --------
    >>> files = fetch_all(paths.data)  # doctest: +SKIP
    """
    check = check_data(data_dir, images=images)
    if check.missing and (not download or any(f.found_at for f in check.missing)):
        raise DataError(f"the real data are incomplete; nothing was downloaded.\n{check.report()}")
    for status in check.files:
        if (status.manual and not status.present) or (status.name == IMAGES_ZIP and status.path.is_dir()):
            continue  # placed by hand (reported below); unpacked images: a folder, not checksummed
        fetch(status.name, check.data_dir, progress)
    hand = [f for f in check.files if f.manual and not f.present]
    if hand:
        raise DataError(f"{len(hand)} file(s) must be downloaded by hand and placed where shown:\n"
                        f"{check_data(data_dir, images=images).report()}")
    return real_files(check.data_dir)


def real_files(data_dir: str | os.PathLike) -> SurveyFiles:
    """The real files' paths in the survey layout; ``images`` is the zip unless the images are unpacked."""
    root = data_root(data_dir)
    files = survey_files(root)
    images = unpacked_images(data_dir) or root / IMAGES_ZIP
    return SurveyFiles(**{**files.__dict__, "images": images})
