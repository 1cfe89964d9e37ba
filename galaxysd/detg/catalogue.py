"""The catalogue of confirmed D-ETGs, written as FITS, ECSV, VOTable and plain CSV.

One row per galaxy the inspection panel confirmed: objID, coordinates, redshift, stellar mass, SFR,
halo mass, the classifier's score in every iteration, the inspectors' votes, the iteration that first
put it before them, and whether it was already on the known list. The files, all through astropy:

- ``.fits``: a binary table; the provenance (profile, the digests of the model and the data that made
  it, the counts) in its header, each column's description as ``TCOMMn`` (and in astropy's serialised
  column block), units as ``TUNITn``;
- ``.ecsv``: the same table and header as text (types, units and descriptions survive a round trip);
- ``.vot``: a VOTable (what TOPCAT and Aladin open first) with a UCD per column
  (``pos.eq.ra;meta.main``, ``src.redshift``, ...) and the provenance as ``PARAM`` elements;
- ``.csv``: plain CSV, one header row and no comment lines, for spreadsheets and any CSV reader
  (missing values are empty fields; the provenance is in the other three).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
from astropy import units as u
from astropy.table import MaskedColumn, Table

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
#: Unified Content Descriptors (IVOA UCD1+) of the columns, for the VOTable; ``score_<k>`` columns
#: are ``stat.probability``.
UCDS = {
    "objid": "meta.id;meta.main", "ra": "pos.eq.ra;meta.main", "dec": "pos.eq.dec;meta.main",
    "z": "src.redshift", "logmstar": "phys.mass", "logsfr": "phys.SFR", "loghalo": "phys.mass",
    "n_yes": "meta.number", "n_no": "meta.number", "n_unsure": "meta.number", "votes": "meta.note",
    "iteration": "meta.number", "known": "meta.code",
}
#: The files :func:`write_catalogue` writes, by suffix.
SUFFIXES = (".fits", ".ecsv", ".vot", ".csv")


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
    """Write the catalogue as ``<stem>.fits``, ``.ecsv``, ``.vot`` and ``.csv``, each atomically.

    Returns
    -------
    list of pathlib.Path
        The files, in the order of :data:`SUFFIXES`.

    Examples
    --------
    >>> fits, ecsv, vot, csv = write_catalogue(table, paths.figures)  # doctest: +SKIP
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    writers = {".fits": _write_fits, ".ecsv": lambda t, p: t.write(p, format="ascii.ecsv", delimiter=","),
               ".vot": _write_votable, ".csv": _write_plain_csv}
    written = []
    for suffix in SUFFIXES:
        target = out / f"{stem}{suffix}"
        with atomic_path(target) as tmp:
            writers[suffix](table, tmp)
        written.append(target)
    return written


def _write_fits(table: Table, path: Path) -> None:
    from astropy.io import fits

    hdu = fits.table_to_hdu(table)
    for i, name in enumerate(table.colnames, start=1):
        if table[name].description:  # the HEASARC convention TOPCAT and fv show beside each column
            hdu.header.set(f"TCOMM{i}", table[name].description, after=f"TFORM{i}")
    fits.HDUList([fits.PrimaryHDU(), hdu]).writeto(path, overwrite=True, checksum=True)


def _write_votable(table: Table, path: Path) -> None:
    from astropy.io.votable import from_table, writeto
    from astropy.io.votable.tree import Param

    votable = from_table(table)
    fields = votable.get_first_table()
    for field in fields.fields:
        field.ucd = UCDS.get(field.name, "stat.probability" if field.name.startswith("score_") else None)
        if field.datatype == "bit":  # one true/false value, not a bit array
            field.datatype = "boolean"
    for key, value in table.meta.items():
        fields.params.append(Param(votable, name=key, value=str(value), datatype="char", arraysize="*"))
    writeto(votable, str(path))


def _write_plain_csv(table: Table, path: Path) -> None:
    plain = Table(table, copy=True)
    plain.meta.clear()
    for name in plain.colnames:
        if plain[name].dtype.kind == "f":  # NaN (no value in a side table) becomes an empty field
            plain[name] = MaskedColumn(plain[name], mask=np.isnan(plain[name]))
    plain.write(path, format="ascii.csv", overwrite=True)


def read_catalogue(path: str | os.PathLike) -> Table:
    """Read a catalogue written by :func:`write_catalogue` (FITS, ECSV or VOTable) and check its provenance.

    Raises
    ------
    DataError
        If the file does not exist, is not ``.fits``, ``.ecsv`` or ``.vot`` (the plain ``.csv`` carries
        no provenance: read it with any CSV reader), or lacks a provenance keyword.

    Examples
    --------
    >>> table = read_catalogue("figures/demo/detg_catalogue.fits")  # doctest: +SKIP
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"catalogue {path} does not exist")
    if path.suffix not in (".fits", ".ecsv", ".vot"):
        raise DataError(f"catalogue {path}: expected a .fits, .ecsv or .vot file (a plain .csv carries no "
                        f"provenance; read it with pandas.read_csv)")
    if path.suffix == ".vot":
        from astropy.io.votable import parse_single_table

        votable = parse_single_table(str(path))
        table = votable.to_table()
        table.meta.update({p.name: str(p.value) for p in votable.params})
        for name in table.colnames:  # NaN stays NaN, as in the other files, not a masked entry
            if table[name].dtype.kind == "f" and hasattr(table[name], "filled"):
                table[name] = table[name].filled(np.nan)
    else:
        # NaN stays NaN (a missing side-table value), as in the ECSV, rather than becoming a masked entry
        kw = {"mask_invalid": False} if path.suffix == ".fits" else {}
        table = Table.read(path, format="fits" if path.suffix == ".fits" else "ascii.ecsv", **kw)
    missing = [k for k in PROVENANCE_KEYS if k not in table.meta]
    if missing:
        raise DataError(f"catalogue {path} lacks the provenance keyword(s) {missing}")
    return table
