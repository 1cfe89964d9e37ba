"""SDSS objIDs read exactly: one parser for every reader of an objID (or another integer id).

An SDSS objID has 18 (DR7) or 19 (DR8+, GSWLC-2) digits, more than a float64 holds exactly (53 bits,
about 16 digits). A spreadsheet or a FITS-to-CSV tool that writes ``587722982300516593.0`` or
``5.877229823005166e+17`` has already passed the id through a float, and pandas reads a column holding
one such value as floats, rounding *every* id of the column. :func:`parse_objids` therefore reads ids
from their text, accepts only integer notation, and refuses anything else with a
:class:`~galaxysd.errors.DataError` naming the file, the line and the column. It never rounds.

Every reader of :mod:`galaxysd.gz2` (Hart16 table, filename mapping, dust-lane lists, GSWLC-2, Yang
groups) reads its id columns as text and passes them through :func:`parse_objids`.
"""

from __future__ import annotations

import gzip
import os
import re
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from galaxysd.errors import DataError

_FLOAT = re.compile(r"[-+]?(\d+\.\d*|\.\d+|\d+(\.\d*)?[eE][-+]?\d+)")
_SPLIT = re.compile(r"[,\s]+")


def line_of(path: str | os.PathLike, token: str, field: int | None = None) -> int | None:
    """The first line (1-based) of a text file, gzip'd or not, whose fields hold ``token``.

    Fields are split on commas and white space; with ``field`` only that field (0-based) is compared.
    Used to name the line of a bad value after pandas has read the file. ``None`` if not found.
    """
    path = Path(path)
    try:
        opener = gzip.open if path.name.lower().endswith(".gz") else open
        with opener(path, "rt", errors="replace") as handle:
            for number, line in enumerate(handle, 1):
                fields = [f.strip('"') for f in _SPLIT.split(line.strip())]
                if (field is None and token in fields) or (field is not None and len(fields) > field
                                                             and fields[field] == token):
                    return number
    except (OSError, EOFError, ValueError):
        return None
    return None


def _why(raw: str) -> str:
    if raw == "":
        return "is empty"
    if _FLOAT.fullmatch(raw):
        return ("is written in float notation: an 18-19 digit objID does not survive a float (it is "
                "rounded to the nearest float64, about 16 digits), so it is refused rather than rounded; "
                "export the column as integers (as text) from the original file")
    if re.fullmatch(r"\+?\d+", raw):
        return "has more digits than a 64-bit integer holds"
    return "is not an integer"


def parse_objids(values: Sequence | pd.Series | np.ndarray, source: str | os.PathLike, column: str,
                 lines: Sequence[int] | None = None, field: int | None = None) -> np.ndarray:
    """Read ids exactly as int64 from their text; refuse float notation and anything non-integer.

    Parameters
    ----------
    values : sequence, pandas.Series or numpy.ndarray
        The column as read (text, or integers from a binary file such as FITS).
    source : str or path-like
        The file, named in errors.
    column : str
        The column, named in errors.
    lines : sequence of int, optional
        Line number of each value in ``source``. Without it the line of a bad value is found by
        searching the file (:func:`line_of`), or the row is named if the file is not text.
    field : int, optional
        0-based field index of the column in a line, for that search.

    Returns
    -------
    numpy.ndarray
        int64 ids, exactly as written.

    Raises
    ------
    DataError
        Naming the file, the line (or row), the column, the value, how many values are bad, and why:
        float notation, empty, too long or not an integer. A column stored as floating point (binary
        files) is refused as a whole.

    Examples
    --------
    >>> parse_objids(["587722982300516593"], "t.csv", "dr7objid").tolist()
    [587722982300516593]
    """
    series = values if isinstance(values, pd.Series) else pd.Series(list(values) if not
                                                                     isinstance(values, np.ndarray) else values)
    if pd.api.types.is_integer_dtype(series.dtype) and not series.isna().any():
        return series.to_numpy(dtype=np.int64)
    if pd.api.types.is_float_dtype(series.dtype):
        raise DataError(f"{source}, column {column}: the ids are stored as floating-point numbers "
                        f"(e.g. {series.iloc[0]!r} in row 1), which cannot hold an 18-19 digit objID exactly; "
                        "store the column as integers")
    text = series.astype(object).where(series.notna(), "").astype(str).str.strip().str.lstrip("+")
    ok = text.str.fullmatch(r"\d{1,19}").to_numpy(bool)
    # 19 digits may still exceed int64: equal-length digit strings compare like the numbers
    ok &= ~((text.str.len() == 19).to_numpy(bool) & (text > str(2 ** 63 - 1)).to_numpy(bool))
    if not ok.all():
        row = int(np.flatnonzero(~ok)[0])
        raw = text.iloc[row]
        if lines is not None:
            where = f"line {lines[row]}"
        else:
            number = line_of(source, raw, field) if raw else None
            where = f"line {number}" if number else f"data row {row + 1}"
        raise DataError(f"{source}, {where}, column {column}: value {raw!r} {_why(raw)} "
                        f"({int((~ok).sum())} such value(s) in the column)")
    return np.fromiter((int(v) for v in text), dtype=np.int64, count=len(text))
