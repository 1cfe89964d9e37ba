"""The D-ETG catalogue: FITS and CSV with provenance, read back."""

import numpy as np
import pandas as pd
import pytest

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


def test_the_catalogue_round_trips_through_fits_and_csv(tmp_path):
    ids, props, scores, decisions = _parts()
    table = build_catalogue(ids, props, scores, decisions, known_ids=ids[:1], provenance=PROV)
    fits, csv = write_catalogue(table, tmp_path)
    for path in (fits, csv):
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
    plain = pd.read_csv(csv, comment="#")
    assert plain.objid.tolist() == ids.tolist()


def test_a_catalogue_without_provenance_is_refused(tmp_path):
    ids, props, scores, decisions = _parts()
    with pytest.raises(DataError, match="DATADIG"):
        build_catalogue(ids, props, scores, decisions, [], {"PROFILE": "x", "MODELDIG": "y"})
    table = build_catalogue(ids, props, scores, decisions, [], PROV)
    del table.meta["MODELDIG"]
    fits, _ = write_catalogue(table, tmp_path)
    with pytest.raises(DataError, match="MODELDIG"):
        read_catalogue(fits)


def test_a_confirmed_galaxy_without_scores_is_named():
    ids, props, scores, decisions = _parts()
    with pytest.raises(DataError, match="no scores"):
        build_catalogue(ids, props, scores.drop(index=ids[0]), decisions, [], PROV)
