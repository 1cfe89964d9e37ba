"""Side tables: the Kaviraj et al. (2012) dust-lane list, GSWLC-2 and the Yang et al. group catalogue.

Each reader turns the file's missing-value sentinel into NaN and reports any other sentinel, a wrong
number of columns or a non-numeric value by file and column. :func:`side_table` matches them to the
GZ2 galaxies on the sky.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Iterable

import numpy as np
import pandas as pd

from galaxysd.errors import DataError
from galaxysd.gz2.images import READ_ERRORS
from galaxysd.gz2.objids import parse_objids


#: Column names of the Kaviraj et al. (2012) Basic_Information file.
DUSTLANE_BASIC_COLUMNS = ("objid", "ra", "dec", "z", "orientation", "morphology", "log_mhalo", "density")
DUSTLANE_MISSING = -999


def read_dustlanes(path: str | os.PathLike, columns: Iterable[str] | None = None,
                   allow_empty: bool = False, strict: bool = False) -> pd.DataFrame:
    """Read a Kaviraj et al. (2012) dust-lane file (free-text header, whitespace-separated data).

    Data lines are those whose first field is an 18-digit DR7 objID; -999 becomes NaN. The lines
    before the first data line are the header; a non-blank line after it that is not a data line is
    *skipped*, and always counted: ``frame.attrs["skipped_lines"]`` lists their line numbers and
    ``frame.attrs["header_lines"]`` counts the header's non-blank lines.

    Parameters
    ----------
    path : str or path-like
        ``Basic_Information.txt`` or one of its sibling files.
    columns : iterable of str, optional
        Column names. Default: :data:`DUSTLANE_BASIC_COLUMNS` when the file has 8 columns, otherwise
        ``objid, col2, col3, ...``.
    allow_empty : bool, optional
        Return an empty table (Basic_Information columns) instead of raising when there is no data
        line -- a small simulated survey may hold no known D-ETG. Ignored when ``strict``.
    strict : bool, optional
        The real data's rule: a file without data lines, or with any skipped line, is an error that
        names the file and the lines.

    Returns
    -------
    pandas.DataFrame
        ``objid`` as int64, the rest as floats with NaN for -999; ``attrs`` as above.

    Raises
    ------
    DataError
        If there are no data lines (unless ``allow_empty``), a line is skipped (with ``strict``), an
        objID is written in float notation (named by line), rows differ in length, a value is not a
        number, or a negative sentinel other than -999 appears.

    Examples
    --------
    >>> known = read_dustlanes(files.dustlanes, strict=True)  # doctest: +SKIP
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"dust-lane file {path} does not exist")
    rows, other = [], []
    for i, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
        fields = line.split()
        if fields and re.fullmatch(r"\d{18}", fields[0]):
            rows.append((i, fields))
        elif fields and re.fullmatch(r"[-+]?[\d.]+[eE]?[-+]?\d*", fields[0]) and _looks_like_objid(fields[0]):
            parse_objids([fields[0]], path, "objid (column 1)", lines=[i])  # raises: float notation
        elif fields:
            other.append((i, line.strip()))
    first = rows[0][0] if rows else None
    skipped = [(i, text) for i, text in other if first is not None and i > first]
    if strict and (not rows or skipped):
        shown = other if not rows else skipped
        listing = "; ".join(f"line {i}: {text[:60]!r}" for i, text in shown[:5])
        what = ("has no data line (a line starting with an 18-digit objID)" if not rows else
                f"has {len(skipped)} line(s) after the first data line that are not data lines")
        raise DataError(f"dust-lane file {path} {what}; the known D-ETG list must be read whole "
                        f"({len(rows)} data line(s), {len(other)} other non-blank line(s), e.g. {listing or 'none'}). "
                        "Is it an error page or a truncated download? Download it again.")
    if not rows and allow_empty:
        frame = pd.DataFrame({c: pd.Series(dtype=float) for c in (columns or DUSTLANE_BASIC_COLUMNS)})
        frame["objid"] = frame["objid"].astype(np.int64)
        frame.attrs.update(skipped_lines=[], header_lines=len(other))
        return frame
    if not rows:
        raise DataError(f"dust-lane file {path} has no data line (a line starting with an 18-digit objID) "
                        f"among its {len(other)} non-blank line(s)")
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
    frame["objid"] = parse_objids(frame["objid"], path, "objid", lines=[i for i, _ in rows])
    for col in columns[1:]:
        v = pd.to_numeric(frame[col], errors="coerce")
        if v.isna().any():
            raise DataError(f"dust-lane file {path}: column {col} has {int(v.isna().sum())} non-numeric value(s)")
        odd = (v <= -99) & (v != DUSTLANE_MISSING)
        if odd.any():
            raise DataError(f"dust-lane file {path}: column {col} has {int(odd.sum())} unexpected sentinel(s) "
                            f"(e.g. {v[odd].iloc[0]}); only -999 means missing")
        frame[col] = v.where(v != DUSTLANE_MISSING)
    frame.attrs.update(skipped_lines=[i for i, _ in skipped], header_lines=len(other) - len(skipped))
    return frame


def _looks_like_objid(field: str) -> bool:
    """A number of objID size (>= 1e15) written as a float: an objID that went through a spreadsheet."""
    try:
        return abs(float(field)) >= 1e15 and not field.lstrip("+").isdigit()
    except ValueError:
        return False


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
        If the file has a number of columns other than 24, an objid not written as an integer (named
        by line), a non-numeric value, or a sentinel other than -99 (e.g. -999) in the physical columns.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"GSWLC file {path} does not exist")
    try:
        frame = pd.read_csv(path, sep=r"\s+", header=None, dtype=str, comment="#")
    except READ_ERRORS as exc:
        raise DataError(f"GSWLC file {path} could not be parsed (truncated download?): {exc}") from exc
    if frame.shape[1] != len(GSWLC_COLUMNS):
        raise DataError(f"GSWLC file {path} has {frame.shape[1]} columns; expected {len(GSWLC_COLUMNS)} "
                        f"({', '.join(GSWLC_COLUMNS[:6])}, ...)")
    frame.columns = list(GSWLC_COLUMNS)
    out = pd.DataFrame({"objid": parse_objids(frame["objid"], path, "objid", field=0)})
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


#: Columns read from each Yang et al. (2007) file, in file order (later columns are ignored).
YANG_COLUMNS = {"SDSS7": ["galaxy_id", "nyu_id", "ra", "dec", "z", "r_mag"],
                "imodelC_1": ["galaxy_id", "nyu_id", "group_id", "brightest", "most_massive"],
                "modelC_group": ["group_id", "g_ra", "g_dec", "g_z", "log_l", "log_mstar", "loghalo_l",
                                 "loghalo_m"]}
_YANG_IDS = ("galaxy_id", "nyu_id", "group_id")


def read_yang_file(path: str | os.PathLike, kind: str | None = None) -> pd.DataFrame:
    """Read one Yang et al. (2007) file (``SDSS7``, ``imodelC_1`` or ``modelC_group``) and check it.

    Parameters
    ----------
    path : str or path-like
        The file; its name gives ``kind`` unless ``kind`` is given.
    kind : str, optional
        A key of :data:`YANG_COLUMNS`.

    Returns
    -------
    pandas.DataFrame
        The columns of :data:`YANG_COLUMNS`; id columns as exact int64.

    Raises
    ------
    DataError
        If the file is missing, too narrow, non-numeric, or an id is not written as an integer.
    """
    path = Path(path)
    kind = kind or path.name
    if kind not in YANG_COLUMNS:
        raise DataError(f"Yang file {path}: unknown kind {kind!r}; expected one of {sorted(YANG_COLUMNS)}")
    return _read_table(path, YANG_COLUMNS[kind], f"Yang {kind}")


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
    ids = {i: str for i, name in enumerate(names) if name in _YANG_IDS}  # ids as text: read exactly
    try:
        frame = pd.read_csv(path, sep=r"\s+", header=None, skiprows=header, dtype=ids,
                            comment="#" if skip_comments else None)
    except READ_ERRORS as exc:
        raise DataError(f"{what} file {path} could not be parsed: {exc}") from exc
    if frame.shape[1] < len(names):
        raise DataError(f"{what} file {path} has {frame.shape[1]} columns; expected at least {len(names)} "
                        f"({', '.join(names)})")
    frame = frame.iloc[:, :len(names)]
    frame.columns = names
    for i, name in enumerate(names):
        if name in _YANG_IDS:
            frame[name] = parse_objids(frame[name], path, name, field=i)
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
    gal = read_yang_file(galaxies, "SDSS7")
    mem = read_yang_file(members, "imodelC_1")
    grp = read_yang_file(groups, "modelC_group")
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
