"""Readers of the real (and simulated) data files, each checking what it reads.

This module reads the Hart16 table and gathers every other reader (from :mod:`galaxysd.gz2.images`
and :mod:`galaxysd.gz2.sidetables`) under one name.

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
:func:`read_yang_file`          one of those three files, checked on its own
==============================  =======================================================

Every id column (objIDs, asset ids, Yang ids) is read as text and parsed by
:func:`~galaxysd.gz2.objids.parse_objids`, which reads it exactly or refuses it (float notation, as
spreadsheets write it) naming the file, line and column; it never rounds.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from galaxysd.errors import DataError
from galaxysd.gz2.images import (READ_ERRORS, ImageFolder, ImageMatch, ImageZip,  # noqa: F401 (re-export)
                                 attach_images, open_images, read_filename_mapping)
from galaxysd.gz2.objids import parse_objids
from galaxysd.gz2.schema import ANSWERS, hart16_columns
from galaxysd.gz2.sidetables import (DUSTLANE_BASIC_COLUMNS, DUSTLANE_MISSING, GSWLC_COLUMNS,  # noqa: F401
                                     GSWLC_MISSING, YANG_COLUMNS, match_sky, read_dustlanes, read_gswlc,
                                     read_yang, read_yang_file, side_table)

# The readers of images and side tables live in their own modules and are re-exported here, so
# that every reader has one import path (the table in the docstring above).
__all__ = ["check_hart16", "read_hart16",
           "READ_ERRORS", "ImageFolder", "ImageMatch", "ImageZip", "attach_images", "open_images",
           "read_filename_mapping",
           "DUSTLANE_BASIC_COLUMNS", "DUSTLANE_MISSING", "GSWLC_COLUMNS", "GSWLC_MISSING", "match_sky",
           "read_dustlanes", "read_gswlc", "read_yang", "read_yang_file", "YANG_COLUMNS", "side_table",
           "parse_objids"]

# ----------------------------------------------------------------------------- Hart16 table


def check_hart16(table: pd.DataFrame, source: str | os.PathLike = "table") -> pd.DataFrame:
    """Check a table against the Hart16 schema; return it with ``gz2class`` renamed ``gz2_class``.

    Checks: all 231 columns present; ``dr7objid`` integer (read exactly from its text by
    :func:`~galaxysd.gz2.objids.parse_objids`, float notation refused) and unique; counts non-negative integers;
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
    ids = pd.Series(parse_objids(table["dr7objid"], source, "dr7objid",
                                 field=list(table.columns).index("dr7objid")), index=table.index)
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
        If the file is missing, unreadable, or fails :func:`check_hart16` (for instance an objID
        written in float notation, named by line and column).

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
            # objIDs as text: one float-notated value would make pandas round the whole column
            table = pd.read_csv(path, dtype={"dr7objid": str, "rastring": str, "decstring": str,
                                             "sample": str, "gz2_class": str, "gz2class": str})
    except READ_ERRORS as exc:
        raise DataError(f"Hart16 table {path} could not be read (truncated download or wrong format?): "
                        f"{exc}") from exc
    return check_hart16(table, path)
