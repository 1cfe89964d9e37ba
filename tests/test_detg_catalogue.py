"""The D-ETG catalogue: FITS, ECSV and VOTable with provenance read back; a plain CSV any reader takes."""

import csv
import shutil
import subprocess

import numpy as np
import pandas as pd
import pytest
from astropy.io import fits as afits
from astropy.io import votable
from astropy.io.votable import parse_single_table
from astropy.io.votable.ucd import check_ucd

from galaxysd.detg.catalogue import build_catalogue, read_catalogue, write_catalogue
from galaxysd.errors import DataError

PROV = {"PROFILE": "smoke", "MODELDIG": "a" * 64, "DATADIG": "b" * 64}


def _parts():
    ids = np.array([587722981741363001, 587722981741363002, 587722981741363003], dtype=np.int64)
    props = pd.DataFrame({"objid": ids[:2], "ra": [150.1, 151.2], "dec": [2.5, -1.0], "z": [0.05, 0.12],
                          "logmstar": [10.8, np.nan], "logsfr": [-0.4, -1.1], "loghalo": [12.1, np.nan]})
    scores = pd.DataFrame({"score_1": [0.9, 0.7, 0.8, 0.1], "score_2": [0.95, 0.6, 0.85, 0.05]},
                          index=pd.Index([*ids, 5], name="objid"))
    decisions = pd.DataFrame({"n_yes": [3, 2, 2], "n_no": [0, 1, 0], "n_unsure": [0, 0, 1],
                              "votes": ["a:yes;b:yes;c:yes", "a:yes;b:no;c:yes", "a:yes;b:unsure;c:yes"],
                              "status": "confirmed", "iteration": pd.array([1, 1, 2], dtype="Int64")},
                             index=pd.Index(ids, name="objid"))
    return ids, props, scores, decisions


def test_the_catalogue_round_trips_through_fits_ecsv_and_votable(tmp_path):
    ids, props, scores, decisions = _parts()
    table = build_catalogue(ids, props, scores, decisions, known_ids=ids[:1], provenance=PROV)
    fits, ecsv, vot, plain = write_catalogue(table, tmp_path)
    assert [p.name for p in (fits, ecsv, vot, plain)] == [f"detg_catalogue{s}" for s in (".fits", ".ecsv", ".vot", ".csv")]
    for path in (fits, ecsv, vot):
        back = read_catalogue(path)
        assert back["objid"].tolist() == ids.tolist()
        assert back["known"].tolist() == [True, False, False]
        assert np.allclose(back["score_2"], [0.95, 0.6, 0.85])
        assert back["votes"][1] == "a:yes;b:no;c:yes"
        assert back["iteration"].tolist() == [1, 1, 2]
        assert np.isnan(back["logmstar"][1]) and np.isnan(back["z"][2])
        assert back.meta["MODELDIG"] == "a" * 64 and back.meta["PROFILE"] == "smoke"
        assert int(back.meta["NNEW"]) == 2 and int(back.meta["NNOPROP"]) == 1
    assert str(read_catalogue(fits)["ra"].unit) == "deg"
    with pytest.raises(DataError, match="no provenance"):
        read_catalogue(plain)


def test_the_plain_csv_has_one_header_row_and_no_comment_lines(tmp_path):
    ids, props, scores, decisions = _parts()
    table = build_catalogue(ids, props, scores, decisions, known_ids=ids[:1], provenance=PROV)
    plain = write_catalogue(table, tmp_path)[3]
    rows = list(csv.reader(plain.open()))
    assert rows[0] == list(table.colnames) and not any(r[0].startswith("#") for r in rows)
    assert {len(r) for r in rows} == {len(table.colnames)} and len(rows) == 1 + len(ids)
    frame = pd.read_csv(plain)  # a reader told nothing about comments
    assert frame.objid.tolist() == ids.tolist() and frame.votes[1] == "a:yes;b:no;c:yes"
    assert np.isnan(frame.logmstar[1]) and rows[3][table.colnames.index("z")] == ""  # no value: an empty field


def test_the_votable_gives_every_column_a_valid_ucd_and_keeps_the_provenance(tmp_path):
    ids, props, scores, decisions = _parts()
    table = build_catalogue(ids, props, scores, decisions, known_ids=ids[:1], provenance=PROV)
    vot = write_catalogue(table, tmp_path)[2]
    parsed = parse_single_table(str(vot))
    ucds = {f.name: f.ucd for f in parsed.fields}
    assert ucds["ra"] == "pos.eq.ra;meta.main" and ucds["dec"] == "pos.eq.dec;meta.main"
    assert ucds["objid"] == "meta.id;meta.main" and ucds["z"] == "src.redshift"
    assert all(u and check_ucd(u, check_controlled_vocabulary=True) for u in ucds.values()), ucds
    fields = {f.name: f for f in parsed.fields}
    assert str(fields["ra"].unit) == "deg" and fields["known"].datatype == "boolean"
    assert fields["loghalo"].description == "log10 halo mass / (Msun/h) (Yang et al. groups)"
    assert {p.name: p.value for p in parsed.params}["DATADIG"] == "b" * 64
    assert votable.validate(str(vot), output=None, xmllint=False)   # astropy's VOTable checks: no violation


def test_the_fits_file_describes_its_columns_in_tcomm_keywords(tmp_path):
    ids, props, scores, decisions = _parts()
    table = build_catalogue(ids, props, scores, decisions, known_ids=ids[:1], provenance=PROV)
    fits = write_catalogue(table, tmp_path)[0]
    header = afits.getheader(fits, 1)
    for i, name in enumerate(table.colnames, start=1):
        assert header[f"TTYPE{i}"] == name and header[f"TCOMM{i}"] == table[name].description
    with afits.open(fits, checksum=True) as hdus:
        hdus.verify("exception")


@pytest.mark.skipif(shutil.which("fitsverify") is None, reason="fitsverify (HEASARC) is not installed")
def test_the_fits_file_passes_fitsverify_without_warnings(tmp_path):
    ids, props, scores, decisions = _parts()
    fits = write_catalogue(build_catalogue(ids, props, scores, decisions, ids[:1], PROV), tmp_path)[0]
    report = subprocess.run(["fitsverify", str(fits)], capture_output=True, text=True).stdout
    assert "Verification found 0 warning(s) and 0 error(s)" in report, report


def test_a_catalogue_without_provenance_is_refused(tmp_path):
    ids, props, scores, decisions = _parts()
    with pytest.raises(DataError, match="DATADIG"):
        build_catalogue(ids, props, scores, decisions, [], {"PROFILE": "x", "MODELDIG": "y"})
    table = build_catalogue(ids, props, scores, decisions, [], PROV)
    del table.meta["MODELDIG"]
    fits, ecsv, vot, _ = write_catalogue(table, tmp_path)
    for path in (fits, ecsv, vot):
        with pytest.raises(DataError, match="MODELDIG"):
            read_catalogue(path)


def test_a_confirmed_galaxy_without_scores_is_named():
    ids, props, scores, decisions = _parts()
    with pytest.raises(DataError, match="no scores"):
        build_catalogue(ids, props, scores.drop(index=ids[0]), decisions, [], PROV)
