"""The catalogue of confirmed D-ETGs, written as FITS and CSV with its provenance in the header.

One row per galaxy the inspection panel confirmed: objID, coordinates, redshift, stellar mass, SFR,
halo mass, the classifier's score in every iteration, the inspectors' votes, the iteration that first
put it before them, and whether it was already on the known list. The header records the profile,
the digests of the model and the data that made it, and the counts. Both files are written through
``astropy.table`` (the CSV in the ECSV dialect with commas, so types, units and the header survive a
round trip; ``pandas.read_csv(path, comment="#")`` reads it too).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
from astropy import units as u
from astropy.table import Table

from galaxysd.cache import atomic_path
from galaxysd.errors import DataError

#: Header keywords every catalogue carries (FITS keywords are at most eight characters).
PROVENANCE_KEYS = ("PROFILE", "MODELDIG", "DATADIG")
PROPERTY_COLUMNS = ("ra", "dec", "z", "logmstar", "logsfr", "loghalo")
DESCRIPTIONS = {
    "objid": "SDSS DR7 objID", "ra": "right ascension (J2000)", "dec": "declination (J2000)",
    "z": "spectroscopic redshift", "logmstar": "log10 stellar mass / Msun (GSWLC-2)",
    "logsfr": "log10 SFR / (Msun/yr) (GSWLC-2)", "loghalo": "log10 halo mass / (Msun/h) (Yang et al. groups)",
    "n_yes": "inspectors who said yes", "n_no": "inspectors who said no", "n_unsure": "inspectors unsure",
    "votes": "inspector:verdict pairs", "iteration": "search iteration that first made it a candidate",
    "known": "already on the known D-ETG list",
}


def build_catalogue(confirmed_ids, properties: pd.DataFrame, scores: pd.DataFrame, decisions: pd.DataFrame,
                    known_ids, provenance: dict) -> Table:
    """Assemble the catalogue table of the confirmed D-ETGs.

    Parameters
    ----------
    confirmed_ids : array-like of int
        objIDs of the confirmed galaxies.
    properties : pandas.DataFrame
        ``objid`` and :data:`PROPERTY_COLUMNS` (NaN where a side table has no value).
    scores : pandas.DataFrame
        Index ``objid``; one ``score_<k>`` column per iteration (:class:`~galaxysd.detg.search.SearchResult`).
    decisions : pandas.DataFrame
        Index ``objid``; ``n_yes, n_no, n_unsure, votes`` and ``iteration``.
    known_ids : array-like of int
        The known D-ETG list.
    provenance : dict
        At least ``PROFILE``, ``MODELDIG`` and ``DATADIG``; more short keys may follow.

    Returns
    -------
    astropy.table.Table
        One row per confirmed galaxy, sorted by objID; ``meta`` holds the provenance and the counts
        ``NCONF``, ``NKNOWN``, ``NNEW`` and ``NNOPROP`` (confirmed galaxies without properties).

    Raises
    ------
    DataError
        If a provenance key is missing or a confirmed galaxy has no scores or no decision.

    Examples
    --------
    >>> table = build_catalogue(result.confirmed(), props, result.scores, result.decisions, known,
    ...                         {"PROFILE": "demo", "MODELDIG": m, "DATADIG": d})  # doctest: +SKIP
    """
    missing = [k for k in PROVENANCE_KEYS if k not in provenance]
    if missing:
        raise DataError(f"catalogue provenance lacks {missing}; give {list(PROVENANCE_KEYS)}")
    ids = np.unique(np.asarray(confirmed_ids, dtype=np.int64))
    for what, frame in (("scores", scores), ("decisions", decisions)):
        absent = np.setdiff1d(ids, frame.index.to_numpy(np.int64))
        if len(absent):
            raise DataError(f"{len(absent)} confirmed galaxies have no {what}, e.g. objid {absent[0]}")
    props = properties.drop_duplicates("objid").set_index("objid").reindex(ids)
    table = Table()
    table["objid"] = ids
    for col in PROPERTY_COLUMNS:
        table[col] = props[col].to_numpy(dtype=float) if col in props else np.full(len(ids), np.nan)
    table["ra"].unit = table["dec"].unit = u.deg
    for col in sorted(scores.columns, key=lambda c: int(c.split("_")[-1])):
        table[col] = scores.loc[ids, col].to_numpy(dtype=float)
        table[col].description = f"classifier score in iteration {col.split('_')[-1]}"
    dec = decisions.loc[ids]
    for col in ("n_yes", "n_no", "n_unsure"):
        table[col] = dec[col].to_numpy(np.int64)
    table["votes"] = np.array(dec["votes"].astype(str).tolist(), dtype=str)  # fixed width for FITS
    table["iteration"] = dec["iteration"].fillna(0).to_numpy(np.int64) if "iteration" in dec else 0
    table["known"] = np.isin(ids, np.asarray(known_ids, dtype=np.int64))
    for col, text in DESCRIPTIONS.items():
        table[col].description = text
    table.meta.update({k: str(v) for k, v in provenance.items()})
    table.meta.update({"NCONF": len(ids), "NKNOWN": int(table["known"].sum()),
                       "NNEW": int((~table["known"]).sum()),
                       "NNOPROP": int(props[[c for c in PROPERTY_COLUMNS if c in props]].isna().all(axis=1).sum())
                       if len(props.columns) else len(ids)})
    return table


def write_catalogue(table: Table, out_dir: str | os.PathLike, stem: str = "detg_catalogue") -> list[Path]:
    """Write the catalogue as ``<stem>.fits`` and ``<stem>.csv`` (ECSV, commas), each atomically.

    Returns
    -------
    list of pathlib.Path
        The FITS file, then the CSV file.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for suffix, fmt, kw in ((".fits", "fits", {}), (".csv", "ascii.ecsv", {"delimiter": ","})):
        target = out / f"{stem}{suffix}"
        with atomic_path(target) as tmp:
            table.write(tmp, format=fmt, overwrite=True, **kw)
        written.append(target)
    return written


def read_catalogue(path: str | os.PathLike) -> Table:
    """Read a catalogue written by :func:`write_catalogue` (FITS or CSV) and check its provenance.

    Raises
    ------
    DataError
        If the file does not exist, is neither ``.fits`` nor ``.csv``, or lacks a provenance keyword.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"catalogue {path} does not exist")
    formats = {".fits": "fits", ".csv": "ascii.ecsv"}
    if path.suffix not in formats:
        raise DataError(f"catalogue {path}: expected a .fits or .csv file")
    # NaN stays NaN (a missing side-table value), as in the CSV, rather than becoming a masked entry
    kw = {"mask_invalid": False} if path.suffix == ".fits" else {}
    table = Table.read(path, format=formats[path.suffix], **kw)
    missing = [k for k in PROVENANCE_KEYS if k not in table.meta]
    if missing:
        raise DataError(f"catalogue {path} lacks the provenance keyword(s) {missing}")
    return table
