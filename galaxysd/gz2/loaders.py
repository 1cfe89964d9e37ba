"""Readers of the real (and simulated) data files, each checking what it reads.

Every reader raises :class:`~galaxysd.errors.DataError` naming the file, the column and what was
expected when a file is malformed: a missing column, an unexpected sentinel, an image that will not
decode. Nothing is dropped silently: :func:`attach_images` returns a report of what had no image.

==============================  =======================================================
reader                          file
==============================  =======================================================
:func:`read_hart16`             ``gz2_hart16.csv[.gz]`` or ``.fits[.gz]`` (Hart et al. 2016)
:func:`read_filename_mapping`   ``gz2_filename_mapping.csv`` (Zenodo 3565489)
:func:`open_images`             ``images/`` folder or ``images_gz2.zip``
:func:`read_dustlanes`          Kaviraj et al. (2012) ``Basic_Information.txt`` and siblings
:func:`read_gswlc`              ``GSWLC-X2.dat[.gz]`` (Salim et al. 2016, 2018)
:func:`read_yang`               Yang et al. (2007) ``SDSS7``, ``imodelC_1``, ``modelC_group``
==============================  =======================================================
"""

from __future__ import annotations

import io
import os
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

import numpy as np
import pandas as pd
from PIL import Image, UnidentifiedImageError

from galaxysd.errors import DataError
from galaxysd.gz2.schema import ANSWERS, META_COLUMNS, hart16_columns

# ----------------------------------------------------------------------------- Hart16 table


def check_hart16(table: pd.DataFrame, source: str | os.PathLike = "table") -> pd.DataFrame:
    """Check a table against the Hart16 schema; return it with ``gz2class`` renamed ``gz2_class``.

    Checks: all 231 columns present; ``dr7objid`` integer and unique; counts non-negative integers;
    fractions, weighted fractions and debiased fractions within [0, 1] (NaN allowed); flags 0 or 1.

    Raises
    ------
    DataError
        Naming the column(s) and how many values are wrong.
    """
    if "gz2class" in table.columns and "gz2_class" not in table.columns:
        table = table.rename(columns={"gz2class": "gz2_class"})
    expected = hart16_columns()
    missing = [c for c in expected if c not in table.columns]
    if missing:
        raise DataError(f"{source}: {len(missing)} Hart16 column(s) missing, e.g. {missing[:4]}; "
                        "expected the 231 columns of gz2_hart16 (galaxysd.gz2.hart16_columns())")
    ids = pd.to_numeric(table["dr7objid"], errors="coerce")
    if ids.isna().any():
        raise DataError(f"{source}: column dr7objid has {int(ids.isna().sum())} non-integer value(s)")
    dup = ids.duplicated()
    if dup.any():
        raise DataError(f"{source}: column dr7objid has {int(dup.sum())} duplicate objID(s), "
                        f"e.g. {int(ids[dup].iloc[0])}")
    problems = []
    for a in ANSWERS:
        c = pd.to_numeric(table[a.col("count")], errors="coerce")
        bad = c.isna() | (c < 0) | (c != np.floor(c))
        if bad.any():
            problems.append(f"{a.col('count')}: {int(bad.sum())} value(s) not a non-negative integer")
        for suffix in ("fraction", "weighted_fraction", "debiased"):
            col = a.col(suffix)
            v = pd.to_numeric(table[col], errors="coerce")
            bad = (v < 0) | (v > 1.0001) | (v.isna() & table[col].notna())
            if bad.any():
                sample = v[bad].iloc[0] if v[bad].notna().any() else table[col][bad].iloc[0]
                problems.append(f"{col}: {int(bad.sum())} value(s) outside [0, 1] (e.g. {sample}; "
                                "a sentinel such as -999?)")
        f = pd.to_numeric(table[a.col("flag")], errors="coerce")
        bad = ~f.isin([0, 1])
        if bad.any():
            problems.append(f"{a.col('flag')}: {int(bad.sum())} value(s) not 0 or 1")
    if problems:
        raise DataError(f"{source}: {len(problems)} column(s) hold unexpected values: " + "; ".join(problems[:6]))
    table = table.copy()
    table["dr7objid"] = ids.astype(np.int64)
    return table[expected + [c for c in table.columns if c not in expected]]


def read_hart16(path: str | os.PathLike) -> pd.DataFrame:
    """Read the Hart et al. (2016) GZ2 table from CSV (optionally gzip'd) or FITS, and check it.

    Parameters
    ----------
    path : str or path-like
        ``gz2_hart16.csv``, ``.csv.gz``, ``.fits`` or ``.fits.gz``.

    Returns
    -------
    pandas.DataFrame
        The 231 columns in file order (``gz2class`` renamed ``gz2_class``), ``dr7objid`` as int64.

    Raises
    ------
    DataError
        If the file is missing, unreadable, or fails :func:`check_hart16`.

    Examples
    --------
    >>> table = read_hart16(files.hart16)  # doctest: +SKIP
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"Hart16 table {path} does not exist")
    name = path.name.lower()
    try:
        if name.endswith((".fits", ".fits.gz", ".fit")):
            from astropy.table import Table
            tab = Table.read(path)
            for col in tab.colnames:
                if tab[col].dtype.kind == "S":
                    tab[col] = tab[col].astype(str)
            table = tab.to_pandas()
            table.columns = [c.lower() for c in table.columns]
        else:
            table = pd.read_csv(path, dtype={"dr7objid": "Int64", "rastring": str, "decstring": str,
                                             "sample": str, "gz2_class": str, "gz2class": str})
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        raise DataError(f"Hart16 table {path} could not be read: {exc}") from exc
    return check_hart16(table, path)


# ----------------------------------------------------------------------------- images


def read_filename_mapping(path: str | os.PathLike) -> pd.DataFrame:
    """Read ``gz2_filename_mapping.csv`` (columns ``objid, sample, asset_id``).

    Raises
    ------
    DataError
        If the file is missing, lacks a column, or holds a non-integer objid or asset_id.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"filename mapping {path} does not exist")
    frame = pd.read_csv(path)
    missing = [c for c in ("objid", "sample", "asset_id") if c not in frame.columns]
    if missing:
        raise DataError(f"filename mapping {path} lacks column(s) {missing}; expected objid, sample, asset_id")
    for col in ("objid", "asset_id"):
        v = pd.to_numeric(frame[col], errors="coerce")
        if v.isna().any():
            raise DataError(f"filename mapping {path}: column {col} has {int(v.isna().sum())} non-integer value(s)")
        frame[col] = v.astype(np.int64)
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
            raise DataError(f"image zip {self.path_zip} is not a valid zip file: {exc}") from exc
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
                tmp = dest / f".{int(a)}.jpg.tmp"
                tmp.write_bytes(self._zip.read(self._index[int(a)]))
                os.replace(tmp, target)
            out[int(a)] = target.resolve()
        return out


def _decode(data: bytes, where) -> np.ndarray:
    try:
        with Image.open(io.BytesIO(data)) as img:
            return np.asarray(img.convert("RGB"))
    except (UnidentifiedImageError, OSError, SyntaxError) as exc:
        raise DataError(f"image {where} does not decode as an image: {exc}") from exc


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
        Asset ids whose image failed to decode (only with ``check_decode``).
    mapping_rows_without_image : int
        Rows of the whole mapping whose asset has no image (other samples, missing files).
    """

    n_galaxies: int
    n_matched: int
    no_mapping: int
    no_image: int
    mapping_rows_without_image: int
    undecodable: list = field(default_factory=list)

    def summary(self) -> str:
        """One line for the notebook."""
        return (f"{self.n_matched:,} of {self.n_galaxies:,} galaxies have an image; "
                f"{self.no_mapping:,} have no mapping row, {self.no_image:,} map to a missing image, "
                f"{len(self.undecodable):,} images do not decode; {self.mapping_rows_without_image:,} "
                "mapping rows in all have no image")


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
        Decode every matched image and report (and drop) those that fail.

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
        for a in matched["asset_id"]:
            try:
                images.read(a)
            except DataError:
                bad.append(int(a))
        matched = matched[~matched["asset_id"].isin(bad)]
    report = ImageMatch(len(labels), len(matched), int(no_mapping.sum()), int((~no_mapping & ~has_img).sum()),
                        int((~mapping["asset_id"].isin(list(have))).sum()), bad)
    return matched.reset_index(drop=True), report


# ----------------------------------------------------------------------------- side tables

#: Column names of the Kaviraj et al. (2012) Basic_Information file.
DUSTLANE_BASIC_COLUMNS = ("objid", "ra", "dec", "z", "orientation", "morphology", "log_mhalo", "density")
DUSTLANE_MISSING = -999


def read_dustlanes(path: str | os.PathLike, columns: Iterable[str] | None = None,
                   allow_empty: bool = False) -> pd.DataFrame:
    """Read a Kaviraj et al. (2012) dust-lane file (free-text header, whitespace-separated data).

    Data lines are those whose first field is an 18-digit DR7 objID; -999 becomes NaN.

    Parameters
    ----------
    path : str or path-like
        ``Basic_Information.txt`` or one of its sibling files.
    columns : iterable of str, optional
        Column names. Default: :data:`DUSTLANE_BASIC_COLUMNS` when the file has 8 columns, otherwise
        ``objid, col2, col3, ...``.
    allow_empty : bool, optional
        Return an empty table (Basic_Information columns) instead of raising when there is no data
        line -- a small simulated survey may hold no known D-ETG.

    Returns
    -------
    pandas.DataFrame
        ``objid`` as int64, the rest as floats with NaN for -999.

    Raises
    ------
    DataError
        If there are no data lines, rows differ in length, a value is not a number, or a negative
        sentinel other than -999 appears.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"dust-lane file {path} does not exist")
    rows = []
    for i, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
        fields = line.split()
        if fields and re.fullmatch(r"\d{18}", fields[0]):
            rows.append((i, fields))
    if not rows and allow_empty:
        frame = pd.DataFrame({c: pd.Series(dtype=float) for c in (columns or DUSTLANE_BASIC_COLUMNS)})
        frame["objid"] = frame["objid"].astype(np.int64)
        return frame
    if not rows:
        raise DataError(f"dust-lane file {path} has no data line (a line starting with an 18-digit objID)")
    widths = {len(f) for _, f in rows}
    if len(widths) > 1:
        bad = [i for i, f in rows if len(f) != len(rows[0][1])]
        raise DataError(f"dust-lane file {path}: rows have {sorted(widths)} fields; "
                        f"{len(bad)} line(s) differ from the first, e.g. line {bad[0]}")
    width = widths.pop()
    if columns is None:
        columns = DUSTLANE_BASIC_COLUMNS if width == len(DUSTLANE_BASIC_COLUMNS) else \
            ("objid",) + tuple(f"col{j}" for j in range(2, width + 1))
    columns = list(columns)
    if len(columns) != width:
        raise DataError(f"dust-lane file {path}: {width} columns, but {len(columns)} names were given")
    frame = pd.DataFrame([f for _, f in rows], columns=columns)
    frame["objid"] = frame["objid"].astype(np.int64)
    for col in columns[1:]:
        v = pd.to_numeric(frame[col], errors="coerce")
        if v.isna().any():
            raise DataError(f"dust-lane file {path}: column {col} has {int(v.isna().sum())} non-numeric value(s)")
        odd = (v <= -99) & (v != DUSTLANE_MISSING)
        if odd.any():
            raise DataError(f"dust-lane file {path}: column {col} has {int(odd.sum())} unexpected sentinel(s) "
                            f"(e.g. {v[odd].iloc[0]}); only -999 means missing")
        frame[col] = v.where(v != DUSTLANE_MISSING)
    return frame


#: Columns of GSWLC-2 (Salim et al. 2018), in file order.
GSWLC_COLUMNS = ("objid", "glxid", "plate", "mjd", "fiber_id", "ra", "dec", "z", "chi2", "logmstar",
                 "logmstar_err", "logsfr", "logsfr_err", "a_fuv", "a_fuv_err", "a_b", "a_b_err", "a_v",
                 "a_v_err", "flag_sed", "uv_survey", "flag_uv", "flag_midir", "flag_mgs")
GSWLC_MISSING = -99


def read_gswlc(path: str | os.PathLike) -> pd.DataFrame:
    """Read a GSWLC-2 catalogue (``GSWLC-X2.dat[.gz]``): 24 whitespace-separated columns, -99 = missing.

    Raises
    ------
    DataError
        If the file has a number of columns other than 24, a non-numeric value, or a sentinel other
        than -99 (e.g. -999) in the physical columns.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"GSWLC file {path} does not exist")
    try:
        frame = pd.read_csv(path, sep=r"\s+", header=None, dtype=str, comment="#")
    except (pd.errors.ParserError, pd.errors.EmptyDataError, OSError) as exc:
        raise DataError(f"GSWLC file {path} could not be parsed: {exc}") from exc
    if frame.shape[1] != len(GSWLC_COLUMNS):
        raise DataError(f"GSWLC file {path} has {frame.shape[1]} columns; expected {len(GSWLC_COLUMNS)} "
                        f"({', '.join(GSWLC_COLUMNS[:6])}, ...)")
    frame.columns = list(GSWLC_COLUMNS)
    out = pd.DataFrame({"objid": pd.to_numeric(frame["objid"], errors="coerce")})
    if out["objid"].isna().any():
        raise DataError(f"GSWLC file {path}: column objid has {int(out['objid'].isna().sum())} non-integer value(s)")
    out["objid"] = frame["objid"].astype(np.int64)
    for col in GSWLC_COLUMNS[1:]:
        v = pd.to_numeric(frame[col], errors="coerce")
        if v.isna().any():
            raise DataError(f"GSWLC file {path}: column {col} has {int(v.isna().sum())} non-numeric value(s)")
        odd = (v < -90) & (v != GSWLC_MISSING)
        if odd.any():
            raise DataError(f"GSWLC file {path}: column {col} has {int(odd.sum())} unexpected sentinel(s) "
                            f"(e.g. {v[odd].iloc[0]}); only -99 means missing")
        out[col] = v.where(v != GSWLC_MISSING)
    return out


def _read_table(path: Path, names: list[str], what: str, skip_comments: bool = True) -> pd.DataFrame:
    if not path.is_file():
        raise DataError(f"{what} file {path} does not exist")
    # skip a free-text header: leading lines whose first field is not a number
    header = 0
    with open(path, errors="replace") as handle:
        for line in handle:
            first = line.split()[0] if line.split() else ""
            if first.startswith("#") or not re.fullmatch(r"[-+]?\d+(\.\d*)?([eE][-+]?\d+)?", first):
                header += 1
                continue
            break
    try:
        frame = pd.read_csv(path, sep=r"\s+", header=None, skiprows=header,
                            comment="#" if skip_comments else None)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, OSError) as exc:
        raise DataError(f"{what} file {path} could not be parsed: {exc}") from exc
    if frame.shape[1] < len(names):
        raise DataError(f"{what} file {path} has {frame.shape[1]} columns; expected at least {len(names)} "
                        f"({', '.join(names)})")
    frame = frame.iloc[:, :len(names)]
    frame.columns = names
    non_num = [c for c in names if not pd.api.types.is_numeric_dtype(frame[c])]
    if non_num:
        raise DataError(f"{what} file {path}: column(s) {non_num} hold non-numeric values")
    return frame


def read_yang(galaxies: str | os.PathLike, members: str | os.PathLike, groups: str | os.PathLike) -> pd.DataFrame:
    """Read the Yang et al. (2007) DR7 group catalogue into one row per galaxy.

    Parameters
    ----------
    galaxies : path-like
        ``SDSS7``: galaxy id, NYU-VAGC id, RA, Dec, z, apparent r magnitude, ...
    members : path-like
        ``imodelC_1``: galaxy id, NYU-VAGC id, group id, brightest flag, most-massive flag.
    groups : path-like
        ``modelC_group``: group id, RA, Dec, z, log L, log M*, log M_halo (luminosity ranking),
        log M_halo (stellar-mass ranking), ... (leading header lines are skipped).

    Returns
    -------
    pandas.DataFrame
        ``galaxy_id, ra, dec, z, r_mag, group_id, brightest, most_massive, loghalo_l, loghalo_m``
        (halo masses in log10 Msun/h; NaN where a group has none, i.e. <= 0).

    Raises
    ------
    DataError
        If a file is missing, too narrow, non-numeric, or a member points at an unknown galaxy or group.
    """
    gal = _read_table(Path(galaxies), ["galaxy_id", "nyu_id", "ra", "dec", "z", "r_mag"], "Yang SDSS7")
    mem = _read_table(Path(members), ["galaxy_id", "nyu_id", "group_id", "brightest", "most_massive"],
                      "Yang imodelC_1")
    grp = _read_table(Path(groups), ["group_id", "g_ra", "g_dec", "g_z", "log_l", "log_mstar", "loghalo_l",
                                     "loghalo_m"], "Yang modelC_group")
    unknown = ~mem["galaxy_id"].isin(gal["galaxy_id"])
    if unknown.any():
        raise DataError(f"Yang imodelC_1 {members}: {int(unknown.sum())} member(s) name a galaxy id absent from {galaxies}")
    unknown = ~mem["group_id"].isin(grp["group_id"])
    if unknown.any():
        raise DataError(f"Yang imodelC_1 {members}: {int(unknown.sum())} member(s) name a group id absent from {groups}")
    out = gal.merge(mem[["galaxy_id", "group_id", "brightest", "most_massive"]], on="galaxy_id", how="left")
    out = out.merge(grp[["group_id", "loghalo_l", "loghalo_m"]], on="group_id", how="left")
    for col in ("loghalo_l", "loghalo_m"):
        out[col] = out[col].where(out[col] > 0)
    return out[["galaxy_id", "ra", "dec", "z", "r_mag", "group_id", "brightest", "most_massive",
                "loghalo_l", "loghalo_m"]]


def match_sky(ra1, dec1, ra2, dec2, radius_arcsec: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Nearest neighbour of each (ra1, dec1) among (ra2, dec2) within ``radius_arcsec``.

    Returns
    -------
    index : numpy.ndarray
        Index into the second list, -1 where nothing lies within the radius.
    separation : numpy.ndarray
        Separation in arcsec (inf where unmatched).
    """
    from scipy.spatial import cKDTree

    def unit(ra, dec):
        ra, dec = np.radians(np.asarray(ra, float)), np.radians(np.asarray(dec, float))
        return np.column_stack([np.cos(dec) * np.cos(ra), np.cos(dec) * np.sin(ra), np.sin(dec)])

    tree = cKDTree(unit(ra2, dec2))
    chord = 2 * np.sin(np.radians(radius_arcsec / 3600) / 2)
    dist, idx = tree.query(unit(ra1, dec1), k=1, distance_upper_bound=chord)
    ok = np.isfinite(dist)
    sep = np.full(len(dist), np.inf)
    sep[ok] = np.degrees(2 * np.arcsin(dist[ok] / 2)) * 3600
    return np.where(ok, idx, -1), sep


def side_table(hart16: pd.DataFrame, gswlc: pd.DataFrame, yang: pd.DataFrame,
               radius_arcsec: float = 1.0) -> pd.DataFrame:
    """Redshift, stellar mass, SFR, halo mass and r magnitude per GZ2 galaxy, matched on the sky.

    Parameters
    ----------
    hart16 : pandas.DataFrame
        Needs ``dr7objid``, ``ra``, ``dec``.
    gswlc, yang : pandas.DataFrame
        From :func:`read_gswlc` and :func:`read_yang`.
    radius_arcsec : float, optional
        Match radius.

    Returns
    -------
    pandas.DataFrame
        ``objid, z, logmstar, logsfr, loghalo, r_mag, in_gswlc, in_yang``; NaN where unmatched or missing.
        ``z`` is GSWLC's, else Yang's; ``loghalo`` is the luminosity-ranked halo mass (log Msun/h).
    """
    ra, dec = hart16["ra"].to_numpy(), hart16["dec"].to_numpy()
    gi, _ = match_sky(ra, dec, gswlc["ra"], gswlc["dec"], radius_arcsec)
    yi, _ = match_sky(ra, dec, yang["ra"], yang["dec"], radius_arcsec)

    def pick(frame, index, col):
        vals = frame[col].to_numpy(dtype=float)
        return np.where(index >= 0, vals[np.clip(index, 0, len(vals) - 1)], np.nan) if len(vals) else \
            np.full(len(index), np.nan)

    z = pick(gswlc, gi, "z")
    z = np.where(np.isnan(z), pick(yang, yi, "z"), z)
    return pd.DataFrame({"objid": hart16["dr7objid"].to_numpy(np.int64), "z": z,
                         "logmstar": pick(gswlc, gi, "logmstar"), "logsfr": pick(gswlc, gi, "logsfr"),
                         "loghalo": pick(yang, yi, "loghalo_l"), "r_mag": pick(yang, yi, "r_mag"),
                         "in_gswlc": gi >= 0, "in_yang": yi >= 0})
