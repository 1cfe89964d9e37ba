"""GZ2 images and the filename mapping: read from the extracted folder or straight from the zip.

Images are ``images/<asset_id>.jpg`` (Zenodo record 3565489); ``gz2_filename_mapping.csv`` maps DR7
objIDs to asset ids. :func:`attach_images` matches labelled galaxies to images and reports -- never
silently drops -- those it cannot match.
"""

from __future__ import annotations

import io
import os
import re
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

import numpy as np
import pandas as pd
from PIL import Image, UnidentifiedImageError

from galaxysd.cache import atomic_write_bytes
from galaxysd.errors import DataError
from galaxysd.gz2.objids import parse_objids

#: What reading a truncated, corrupt or non-CSV file can raise (pandas, gzip, zlib).
READ_ERRORS = (OSError, EOFError, ValueError, UnicodeDecodeError, zlib.error, pd.errors.ParserError,
               pd.errors.EmptyDataError)


def read_filename_mapping(path: str | os.PathLike) -> pd.DataFrame:
    """Read ``gz2_filename_mapping.csv`` (columns ``objid, sample, asset_id``).

    Raises
    ------
    DataError
        If the file is missing, lacks a column, or holds an objid or asset_id that is not written as
        an integer (float notation is refused, never rounded; the error names the line).
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"filename mapping {path} does not exist")
    try:
        frame = pd.read_csv(path, dtype={"objid": str, "asset_id": str})  # ids as text: read exactly
    except READ_ERRORS as exc:
        raise DataError(f"filename mapping {path} could not be read (truncated or not a CSV?): {exc}") from exc
    missing = [c for c in ("objid", "sample", "asset_id") if c not in frame.columns]
    if missing:
        raise DataError(f"filename mapping {path} lacks column(s) {missing}; expected objid, sample, asset_id")
    for col in ("objid", "asset_id"):
        frame[col] = parse_objids(frame[col], path, col, field=list(frame.columns).index(col))
    return frame


_JPG = re.compile(r"(?:^|/)(\d+)\.jpe?g$", re.IGNORECASE)


class ImageFolder:
    """GZ2 images in a folder, ``<root>/<asset_id>.jpg`` (the extracted Zenodo zip's ``images/``)."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)
        if not self.root.is_dir():
            raise DataError(f"image folder {self.root} does not exist")
        self._index = {int(m.group(1)): p for p in self.root.iterdir()
                       if not p.name.startswith(".") and (m := _JPG.search(p.name))}

    def asset_ids(self) -> set[int]:
        """Asset ids that have an image."""
        return set(self._index)

    def path(self, asset_id: int) -> Path:
        """Absolute path of an image."""
        return self._index[int(asset_id)].resolve()

    def read(self, asset_id: int) -> np.ndarray:
        """Decode one image into a (H, W, 3) uint8 array."""
        return _decode(self._index[int(asset_id)].read_bytes(), self._index[int(asset_id)])


class ImageZip:
    """GZ2 images read straight from ``images_gz2.zip``, skipping macOS ``__MACOSX``/``._*`` entries."""

    def __init__(self, path: str | os.PathLike):
        self.path_zip = Path(path)
        if not self.path_zip.is_file():
            raise DataError(f"image zip {self.path_zip} does not exist")
        try:
            self._zip = zipfile.ZipFile(self.path_zip)
        except zipfile.BadZipFile as exc:
            raise DataError(f"image zip {self.path_zip} is not a valid zip file (incomplete download? delete it "
                            f"and run `python -m galaxysd fetch`): {exc}") from exc
        self._index = {}
        for name in self._zip.namelist():
            base = name.rsplit("/", 1)[-1]
            if name.startswith("__MACOSX/") or "/__MACOSX/" in name or base.startswith("._"):
                continue
            m = _JPG.search(name)
            if m:
                self._index[int(m.group(1))] = name

    def asset_ids(self) -> set[int]:
        """Asset ids that have an image."""
        return set(self._index)

    def read(self, asset_id: int) -> np.ndarray:
        """Decode one image into a (H, W, 3) uint8 array."""
        name = self._index[int(asset_id)]
        return _decode(self._zip.read(name), f"{self.path_zip}:{name}")

    def extract(self, asset_ids: Iterable[int], dest: str | os.PathLike) -> dict[int, Path]:
        """Write the given images to ``dest/<asset_id>.jpg`` (skipping those already there)."""
        dest = Path(dest)
        dest.mkdir(parents=True, exist_ok=True)
        out = {}
        for a in asset_ids:
            target = dest / f"{int(a)}.jpg"
            if not target.is_file():
                atomic_write_bytes(target, self._zip.read(self._index[int(a)]))
            out[int(a)] = target.resolve()
        return out


def _decode(data: bytes, where) -> np.ndarray:
    return read_image(data, name=where)


#: The one resampling filter of every image read at another size (training latents, image-to-image
#: references, real galaxies measured or shown): Lanczos, antialiased when 424-pixel GZ2 images shrink.
RESAMPLING = Image.Resampling.LANCZOS


def _open_checked(source: str | os.PathLike | bytes, name, draft: bool):
    """Open and fully decode an image, turning every failure into a DataError naming the file."""
    where = name if name is not None else ("image bytes" if isinstance(source, bytes) else source)
    if not isinstance(source, bytes):
        path = Path(source)
        if not path.is_file():
            raise DataError(f"image {where} does not exist")
        if path.stat().st_size == 0:
            raise DataError(f"image {where} is empty (0 bytes): an interrupted copy or extraction?")
    elif not source:
        raise DataError(f"image {where} is empty (0 bytes)")
    try:
        img = Image.open(io.BytesIO(source) if isinstance(source, bytes) else source)
    except UnidentifiedImageError as exc:
        raise DataError(f"image {where} is not an image file Pillow can read ({exc}); expected a JPEG or "
                        f"PNG") from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise DataError(f"image {where} is truncated or corrupt ({exc}); replace the file or leave the "
                        f"galaxy out") from exc
    try:
        if draft:  # a JPEG decoded at 1/8 scale still reads every byte of it: truncation shows
            img.draft("RGB", (max(1, img.width // 8), max(1, img.height // 8)))
        img.load()
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        img.close()
        raise DataError(f"image {where} is truncated or corrupt ({exc}); replace the file or leave the "
                        f"galaxy out") from exc
    return img


def read_image(source: str | os.PathLike | bytes, resolution: int | None = None, name=None) -> np.ndarray:
    """Read one image as RGB, the one reader of every image the project uses.

    Parameters
    ----------
    source : str, path-like or bytes
        An image file (JPEG, PNG, anything Pillow reads) or its bytes.
    resolution : int, optional
        Resize to ``resolution`` x ``resolution`` pixels with :data:`RESAMPLING` (if not already).
    name : str, optional
        What to call the image in error messages (default: the path).

    Returns
    -------
    numpy.ndarray
        uint8 array of shape (H, W, 3).

    Raises
    ------
    DataError
        If the file does not exist, is empty, is not an image, or is truncated or corrupt; the
        message names the file.

    Examples
    --------
    >>> read_image("images/587722981736.jpg", 64).shape  # doctest: +SKIP
    (64, 64, 3)
    """
    with _open_checked(source, name, draft=False) as img:
        rgb = img.convert("RGB")
    if resolution and rgb.size != (resolution, resolution):
        rgb = rgb.resize((int(resolution), int(resolution)), RESAMPLING)
    return np.asarray(rgb, dtype=np.uint8)


def check_images(paths: Iterable[str | os.PathLike], objids: Iterable[int] | None = None,
                 progress: bool = True) -> pd.DataFrame:
    """The images that cannot be read, found cheaply before any long computation starts.

    Every file is opened and decoded in full (JPEGs at 1/8 scale, which still reads every byte, so a
    truncated file shows): about 3 ms a 424-pixel galaxy JPEG on a shared 2-core machine, so the
    paper's 28,000 training images take a minute or two.

    Parameters
    ----------
    paths : iterable of path-like
        Image files.
    objids : iterable of int, optional
        The galaxy of each image, for the report.
    progress : bool, optional
        Show a progress bar.

    Returns
    -------
    pandas.DataFrame
        One row per broken image: ``objid`` (if given), ``image_path`` and ``reason`` (the
        :class:`DataError` message); empty when every image reads.

    Examples
    --------
    >>> check_images(manifest["image_path"], manifest["objid"])  # doctest: +SKIP
    """
    from tqdm.auto import tqdm

    paths = [str(p) for p in paths]
    ids = list(objids) if objids is not None else [None] * len(paths)
    rows = []
    for objid, path in zip(ids, tqdm(paths, desc="check images", disable=not progress)):
        try:
            _open_checked(path, None, draft=True).close()
        except DataError as exc:
            rows.append({"objid": objid, "image_path": path, "reason": str(exc)})
    frame = pd.DataFrame(rows, columns=["objid", "image_path", "reason"])
    return frame if objids is not None else frame.drop(columns="objid")


def open_images(path: str | os.PathLike) -> ImageFolder | ImageZip:
    """Open the GZ2 images from a folder or a zip file.

    Parameters
    ----------
    path : str or path-like
        The ``images/`` folder, a folder holding ``images/``, or ``images_gz2.zip``.
    """
    path = Path(path)
    if path.is_file() and path.suffix.lower() == ".zip":
        return ImageZip(path)
    if (path / "images").is_dir():
        path = path / "images"
    return ImageFolder(path)


@dataclass
class ImageMatch:
    """What :func:`attach_images` found.

    Attributes
    ----------
    n_galaxies : int
        Galaxies asked for.
    n_matched : int
        Galaxies with an image.
    no_mapping : int
        Galaxies without a row in the filename mapping.
    no_image : int
        Galaxies whose mapping row names an asset with no image file.
    undecodable : list of int
        objIDs of the galaxies whose image failed to decode (only with ``check_decode``); they are
        left out.
    mapping_rows_without_image : int
        Rows of the whole mapping whose asset has no image (other samples, missing files).
    examples_no_mapping, examples_no_image : list of int
        Up to five objIDs of each kind, so the summary names the galaxies, not only their number.
    """

    n_galaxies: int
    n_matched: int
    no_mapping: int
    no_image: int
    mapping_rows_without_image: int
    undecodable: list = field(default_factory=list)
    examples_no_mapping: list = field(default_factory=list)
    examples_no_image: list = field(default_factory=list)

    def summary(self) -> str:
        """One paragraph for the notebook: every count, with example objIDs and asset ids."""

        def eg(ids, what):
            return f" (e.g. {what} {', '.join(str(i) for i in ids[:3])})" if len(ids) else ""

        return (f"{self.n_matched:,} of {self.n_galaxies:,} galaxies have an image; "
                f"{self.no_mapping:,} have no row in the filename mapping"
                f"{eg(self.examples_no_mapping, 'objID')}, "
                f"{self.no_image:,} map to an asset with no image file{eg(self.examples_no_image, 'objID')}, "
                f"{len(self.undecodable):,} images do not decode and are left out"
                f"{eg(self.undecodable, 'objID')}; "
                f"{self.mapping_rows_without_image:,} mapping rows in all have no image")


def attach_images(labels: pd.DataFrame, mapping: pd.DataFrame, images: ImageFolder | ImageZip,
                  extract_to: str | os.PathLike | None = None, check_decode: bool = False
                  ) -> tuple[pd.DataFrame, ImageMatch]:
    """Add ``asset_id`` and ``image_path`` to labelled galaxies and report those without an image.

    Parameters
    ----------
    labels : pandas.DataFrame
        Needs ``objid``.
    mapping : pandas.DataFrame
        From :func:`read_filename_mapping`.
    images : ImageFolder or ImageZip
        From :func:`open_images`.
    extract_to : path-like, optional
        For a zip: where to extract the matched images (their paths go into ``image_path``). Required
        when ``images`` is a zip.
    check_decode : bool, optional
        Check every matched image (:func:`check_images`) and report (by objID) and leave out those
        that cannot be read.

    Returns
    -------
    matched : pandas.DataFrame
        The galaxies that have an image, with ``asset_id`` and absolute ``image_path``.
    report : ImageMatch
        Counts of everything that was not matched.
    """
    have = images.asset_ids()
    # an objID may appear in several samples: prefer the row whose asset has an image
    mp = mapping.assign(_has=mapping["asset_id"].isin(list(have)))
    mp = mp.sort_values("_has", ascending=False, kind="stable").drop_duplicates("objid")
    merged = labels.merge(mp[["objid", "asset_id"]], on="objid", how="left")
    no_mapping = merged["asset_id"].isna()
    has_img = merged["asset_id"].fillna(-1).astype(np.int64).isin(list(have))
    matched = merged.loc[has_img].copy()
    matched["asset_id"] = matched["asset_id"].astype(np.int64)
    if isinstance(images, ImageZip):
        if extract_to is None:
            raise DataError("attach_images from a zip needs extract_to: a folder for the training images")
        paths = images.extract(matched["asset_id"], extract_to)
        matched["image_path"] = [str(paths[a]) for a in matched["asset_id"]]
    else:
        matched["image_path"] = [str(images.path(a)) for a in matched["asset_id"]]
    bad = []
    if check_decode:
        broken = check_images(matched["image_path"], matched["objid"], progress=False)
        bad = broken["objid"].astype(np.int64).tolist()
        matched = matched[~matched["objid"].isin(bad)]
    no_image = ~no_mapping & ~has_img
    report = ImageMatch(len(labels), len(matched), int(no_mapping.sum()), int(no_image.sum()),
                        int((~mapping["asset_id"].isin(list(have))).sum()), bad,
                        merged.loc[no_mapping, "objid"].head(5).astype(np.int64).tolist(),
                        merged.loc[no_image, "objid"].head(5).astype(np.int64).tolist())
    return matched.reset_index(drop=True), report
