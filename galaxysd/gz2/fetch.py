"""Download the real data into ``$GALAXYSD_DATA`` with pooch, recording checksums on first use.

None of the providers publishes checksums, so the first download of each file records its sha256 in
``<data_dir>/checksums.json`` and every later download (or call) verifies against it. Files land in
the same layout as a simulated survey (:func:`galaxysd.gz2.simulate.survey_files`), under
``<data_dir>/gz2/``, so the same loaders read both.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from galaxysd.cache import DigestMemo, atomic_write_text
from galaxysd.errors import DataError
from galaxysd.gz2.simulate.survey import SurveyFiles, survey_files

#: Remote files: path inside ``<data_dir>/gz2/`` -> URL (see ``reference/data.md``).
REMOTE: dict[str, str] = {
    "gz2_hart16.csv.gz": "https://gz2hart.s3.amazonaws.com/gz2_hart16.csv.gz",
    "gz2_filename_mapping.csv": "https://zenodo.org/records/3565489/files/gz2_filename_mapping.csv",
    "images_gz2.zip": "https://zenodo.org/records/3565489/files/images_gz2.zip",
    "dustlanes/Basic_Information.txt": "https://data.galaxyzoo.org/data/dustlanes/Basic_Information.txt",
    "gswlc/GSWLC-X2.dat.gz": "https://salims.pages.iu.edu/gswlc/GSWLC-X2.dat.gz",
}
#: Files without a stable direct URL: the user places them by hand.
MANUAL = {"yang/SDSS7": "https://gax.sjtu.edu.cn/data/Group.html",
          "yang/imodelC_1": "https://gax.sjtu.edu.cn/data/Group.html",
          "yang/modelC_group": "https://gax.sjtu.edu.cn/data/Group.html"}
CHECKSUMS = "checksums.json"


def data_root(data_dir: str | os.PathLike) -> Path:
    """The folder holding the real GZ2 files inside a data folder."""
    return Path(data_dir) / "gz2"


def _load_sums(data_dir: Path) -> dict:
    path = data_root(data_dir) / CHECKSUMS
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def verify_or_record(path: Path, name: str, data_dir: Path) -> str:
    """Check ``path`` against the recorded sha256 of ``name``, recording it if there is none.

    Raises
    ------
    DataError
        If the file's sha256 differs from the recorded one.
    """
    sums = _load_sums(data_dir)
    memo = DigestMemo(data_root(data_dir) / ".digests.json")  # unchanged files are not re-hashed
    digest = memo.digest(Path(path))
    memo.save()
    if name in sums and sums[name] != digest:
        raise DataError(f"{path}: sha256 {digest[:12]}... differs from the one recorded at first download "
                        f"({sums[name][:12]}...); delete the file to download it again, or delete its "
                        f"entry in {data_root(data_dir) / CHECKSUMS} if the provider changed it")
    if name not in sums:
        sums[name] = digest
        atomic_write_text(data_root(data_dir) / CHECKSUMS, json.dumps(sums, indent=2, sort_keys=True))
    return digest


def fetch(name: str, data_dir: str | os.PathLike, progress: bool = True, url: str | None = None) -> Path:
    """Download one remote file (if absent) into ``<data_dir>/gz2/<name>`` and verify its checksum.

    The download goes through :func:`pooch.retrieve` (with its progress bar). The first time a file
    is seen its sha256 is recorded in ``<data_dir>/gz2/checksums.json``; every later call -- a fresh
    download after the file was deleted, or simply a file already there -- is checked against it.

    Parameters
    ----------
    name : str
        A key of :data:`REMOTE`.
    data_dir : str or path-like
        ``$GALAXYSD_DATA`` (``RunPaths.data``).
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
        Unknown name, failed download, or checksum mismatch.
    """
    data_dir = Path(data_dir)
    if name in MANUAL:
        target = data_root(data_dir) / name
        if not target.is_file():
            raise DataError(f"{target} is missing: download it from {MANUAL[name]} and place it there")
        return target
    if name not in REMOTE:
        raise DataError(f"unknown data file {name!r}; known: {sorted(REMOTE)}")
    url = url or REMOTE[name]
    target = data_root(data_dir) / name
    if not target.is_file():
        import pooch
        try:
            pooch.retrieve(url, known_hash=None, fname=target.name, path=target.parent,
                           progressbar=progress)
        except Exception as exc:  # network errors come in many types
            raise DataError(f"download of {url} into {target} failed: {exc}") from exc
    verify_or_record(target, name, data_dir)
    return target


def fetch_all(data_dir: str | os.PathLike, images: bool = True, progress: bool = True) -> SurveyFiles:
    """Fetch every real file the paper profile needs and return their paths.

    The images stay in ``images_gz2.zip``; :func:`galaxysd.gz2.loaders.open_images` reads them from it.
    """
    for name in REMOTE:
        if name == "images_gz2.zip" and not images:
            continue
        fetch(name, data_dir, progress)
    for name in MANUAL:
        fetch(name, data_dir, progress)
    return real_files(data_dir)


def real_files(data_dir: str | os.PathLike) -> SurveyFiles:
    """The real files' paths in the survey layout; ``images`` is the zip unless an ``images/`` folder exists."""
    root = data_root(data_dir)
    files = survey_files(root)
    images = root / "images" if (root / "images").is_dir() else root / "images_gz2.zip"
    return SurveyFiles(**{**files.__dict__, "images": images})
