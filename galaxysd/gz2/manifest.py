"""The training manifest: the table of images and tags that the diffusion model is fine-tuned on.

``01_data`` writes it to ``<run_dir>/01_data/training/manifest.csv`` (stage ``"01_data/training"``)
with one row per training galaxy and the columns

- ``objid`` (int64): SDSS DR7 objID;
- ``image_path`` (str): the galaxy's JPEG, relative to the manifest's folder when it lies in the run folder
  (:func:`galaxysd.paths.portable_path`; read back as an absolute path);
- ``tags`` (str): the galaxy's tag phrases in canonical order joined by ``"|"``;
- ``caption`` (str): ``"sdss, "`` + the tags joined by ``", "``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from galaxysd.cache import atomic_path
from galaxysd.errors import DataError
from galaxysd.gz2.objids import parse_objids
from galaxysd.paths import portable_path, resolve_stored

#: Stage name and file name of the training manifest.
TRAINING_STAGE = "01_data/training"
MANIFEST_NAME = "manifest.csv"
MANIFEST_COLUMNS = ("objid", "image_path", "tags", "caption")


def training_manifest_path(run_dir: str | os.PathLike) -> Path:
    """Where ``01_data`` writes the training manifest inside a run folder."""
    return Path(run_dir) / TRAINING_STAGE / MANIFEST_NAME


def write_manifest(frame: pd.DataFrame, path: str | os.PathLike) -> Path:
    """Write a manifest atomically (:func:`galaxysd.cache.atomic_path`) after checking its columns.

    Image paths inside the run folder are written relative to the manifest (it can move with the run).
    """
    _check(frame, path)
    path = Path(path)
    frame = frame.loc[:, list(MANIFEST_COLUMNS)].copy()
    frame["image_path"] = [portable_path(p, path.parent) for p in frame["image_path"].astype(str)]
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, index=False)
    return path


def _check(frame: pd.DataFrame, path) -> None:
    missing = [c for c in MANIFEST_COLUMNS if c not in frame.columns]
    if missing:
        raise DataError(f"training manifest {path} lacks column(s) {missing}; expected {list(MANIFEST_COLUMNS)}")
    empty = frame["tags"].isna() | (frame["tags"].astype(str) == "")
    if empty.any():
        raise DataError(f"training manifest {path}: {int(empty.sum())} row(s) have no tags")
    bad = ~frame["caption"].astype(str).str.startswith("sdss")
    if bad.any():
        raise DataError(f"training manifest {path}: {int(bad.sum())} caption(s) do not start with 'sdss, '")


def read_training_manifest(path: str | os.PathLike, check_images: bool = False) -> pd.DataFrame:
    """Read and validate a training manifest.

    Parameters
    ----------
    path : str or path-like
        ``manifest.csv`` (or a run folder, in which case the ``01_data/training`` stage is read).
    check_images : bool, optional
        Also check that every ``image_path`` exists.

    Returns
    -------
    pandas.DataFrame
        Columns ``objid`` (int64), ``image_path`` (absolute), ``tags``, ``caption``.

    Raises
    ------
    DataError
        If the file is missing, lacks a column, has a row without tags, an objid not written as an
        integer (:func:`~galaxysd.gz2.objids.parse_objids`), or (with ``check_images``) names images
        that do not exist.

    Examples
    --------
    >>> manifest = read_training_manifest(paths.run)  # doctest: +SKIP
    """
    path = Path(path)
    if path.is_dir():
        path = training_manifest_path(path)
    if not path.is_file():
        raise DataError(f"training manifest {path} does not exist; run notebook 01_data first")
    frame = pd.read_csv(path, dtype={"objid": str, "image_path": str, "tags": str, "caption": str})
    _check(frame, path)
    frame["objid"] = parse_objids(frame["objid"], path, "objid", field=list(frame.columns).index("objid"))
    frame["image_path"] = [resolve_stored(p, path.parent) for p in frame["image_path"]]
    if check_images:
        missing = [p for p in frame["image_path"] if not Path(p).is_file()]
        if missing:
            raise DataError(f"training manifest {path}: {len(missing)} image(s) missing, e.g. {missing[0]}")
    return frame
