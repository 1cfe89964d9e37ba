"""The real data's folder, ``$GALAXYSD_DATA/gz2``: which files belong there, and what it holds now.

:func:`check_data` looks at a data folder *before anything is downloaded*: which files are present,
which are missing, where each is expected and how to get it (a URL, or the page to download it from
by hand); files found one folder too high or too low are pointed out. Nothing is created.
:mod:`galaxysd.gz2.fetch` downloads and verifies what this module finds missing.

Files land in the layout of a simulated survey (:func:`galaxysd.gz2.simulate.survey_files`), under
``<data_dir>/gz2/``, so the same loaders read both. The images count as present either as
``images_gz2.zip`` or unpacked in its layout, ``gz2/images/<asset_id>.jpg`` (the zip may then be
deleted).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

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
IMAGES_ZIP = "images_gz2.zip"
#: The name of one image file, ``<asset_id>.jpg``.
IMAGE_NAME = re.compile(r"\d+\.jpe?g", re.IGNORECASE)


def data_root(data_dir: str | os.PathLike) -> Path:
    """The folder holding the real GZ2 files inside a data folder."""
    return Path(data_dir) / "gz2"


def unpacked_images(data_dir: str | os.PathLike) -> Path | None:
    """The unpacked images folder ``<data_dir>/gz2/images`` if it holds ``<asset_id>.jpg`` files, else ``None``.

    The Zenodo zip unpacks to ``images/<asset_id>.jpg``; such a folder counts as the images, with or
    without the zip beside it.
    """
    folder = data_root(data_dir) / "images"
    if not folder.is_dir():
        return None
    with os.scandir(folder) as entries:
        return folder if any(IMAGE_NAME.fullmatch(e.name) for e in entries) else None


@dataclass
class FileStatus:
    """One data file in :class:`DataCheck`.

    Attributes
    ----------
    name : str
        Path inside ``<data_dir>/gz2`` (a key of :data:`REMOTE` or :data:`MANUAL`).
    path : pathlib.Path
        Where it is expected.
    present : bool
        Whether it is there (for the images: the zip or the unpacked folder).
    source : str
        Where to get it: its URL, or the page to download it from by hand.
    manual : bool
        Whether it must be downloaded by hand (no stable direct URL).
    found_at : pathlib.Path or None
        Where it was found instead, when missing where expected.
    suggest : pathlib.Path or None
        The data folder that would find it there.
    """

    name: str
    path: Path
    present: bool
    source: str
    manual: bool
    found_at: Path | None = None
    suggest: Path | None = None


@dataclass
class DataCheck:
    """What a data folder holds of the real files (:func:`check_data`)."""

    data_dir: Path
    files: list[FileStatus]

    @property
    def missing(self) -> list[FileStatus]:
        """The files that are not where they are expected."""
        return [f for f in self.files if not f.present]

    @property
    def complete(self) -> bool:
        """Whether every file is present."""
        return not self.missing

    def suggested_data_dirs(self) -> list[Path]:
        """Data folders that would hold the misplaced files (one level too high or too low)."""
        return list(dict.fromkeys(f.suggest for f in self.files if f.suggest is not None))

    def report(self) -> str:
        """A plain-text table: each file, present or missing, where it is expected, how to get it."""
        lines = [f"data folder {self.data_dir} (files expected under {data_root(self.data_dir)}):"]
        for d in self.suggested_data_dirs():
            lines.append(f"  The files seem to be under {d}: pass --data-dir {d} (or set GALAXYSD_DATA={d}).")
        for f in self.files:
            state = "present" if f.present else "MISSING"
            how = (f"download by hand from {f.source}" if f.manual else
                   f"unpacked from {f.source}" if f.path.is_dir() else f"from {f.source}")
            lines.append(f"  {state:8} {f.path}  [{how}]")
            if f.found_at is not None:
                lines.append(f"           found instead at {f.found_at}")
        if self.missing:
            auto = [f for f in self.missing if not f.manual and f.found_at is None]
            hand = [f for f in self.missing if f.manual and f.found_at is None]
            if auto:
                lines.append(f"  {len(auto)} file(s) can be downloaded with progress and verification by "
                             f"`python -m galaxysd fetch --data-dir {self.data_dir}`.")
            if hand:
                lines.append(f"  {len(hand)} file(s) must be downloaded by hand and placed where shown.")
        else:
            lines.append("  every file is present.")
        return "\n".join(lines)


def _found_elsewhere(data_dir: Path, name: str) -> tuple[Path | None, Path | None]:
    """A file one folder level too low (``<data_dir>/<name>``) or too high (``<data_dir>/*/gz2/<name>``).

    Returns where it is and the data folder that would find it (``None`` if no folder would).
    """
    if (data_dir / name).exists():
        return data_dir / name, data_dir.parent if data_dir.name == "gz2" else None
    if data_dir.is_dir():
        for sub in sorted(p for p in data_dir.iterdir() if p.is_dir()):
            if (sub / "gz2" / name).exists():
                return sub / "gz2" / name, sub
    return None, None


def check_data(data_dir: str | os.PathLike, images: bool = True) -> DataCheck:
    """Look at a data folder before anything is downloaded: what is present, missing, where, how to get it.

    Nothing is created or downloaded. A file missing where expected but found one folder level too
    high or too low is pointed out, with the ``--data-dir`` that would find it.

    Parameters
    ----------
    data_dir : str or path-like
        The data folder (``$GALAXYSD_DATA``); files are expected under ``<data_dir>/gz2/``.
    images : bool, optional
        Include the images (``images_gz2.zip``, or unpacked as ``gz2/images/<asset_id>.jpg``).

    Returns
    -------
    DataCheck
        Per file: present or not, expected path, source; ``.report()`` prints it.

    Examples
    --------
    >>> print(check_data("/data/galaxysd").report())  # doctest: +SKIP
    """
    data_dir = Path(data_dir).expanduser().resolve()
    root = data_root(data_dir)
    statuses = []
    for name, source in [*REMOTE.items(), *MANUAL.items()]:
        if name == IMAGES_ZIP and not images:
            continue
        path = root / name
        if name == IMAGES_ZIP and unpacked_images(data_dir) is not None:
            path = root / "images"  # unpacked images are read; the zip, if any, is not needed
        present = path.exists()
        found, suggest = None, None
        for alias in ([name, "images"] if name == IMAGES_ZIP else [name]):
            if not present and found is None:
                found, suggest = _found_elsewhere(data_dir, alias)
        statuses.append(FileStatus(name, path, present, source, name in MANUAL, found, suggest))
    return DataCheck(data_dir, statuses)
