"""Every reader of an objID reads it exactly or refuses it by file, line and column; none rounds."""

import gzip

import numpy as np
import pandas as pd
import pytest
from test_gz2_loaders import DUST_HEADER, gswlc_line, hart16_frame, write_mapping, write_yang

from galaxysd.errors import DataError
from galaxysd.gz2 import loaders
from galaxysd.gz2.objids import parse_objids

# 587722982300516593 is not a float64: it would round to 587722982300516608
EXACT = 587722982300516593
FLOAT_FORMS = ["587722982300516593.0", "5.877229823005166e+17"]


def test_an_objid_beyond_float_precision_is_read_exactly_by_every_reader(tmp_path):
    assert float(EXACT) != EXACT
    frame = hart16_frame()
    frame.loc[1, "dr7objid"] = EXACT
    frame.to_csv(tmp_path / "gz2_hart16.csv", index=False)
    assert loaders.read_hart16(tmp_path / "gz2_hart16.csv").dr7objid.iloc[1] == EXACT
    write_mapping(tmp_path / "m.csv", [(EXACT, "original", 7)])
    assert loaders.read_filename_mapping(tmp_path / "m.csv").objid.tolist() == [EXACT]
    (tmp_path / "Basic_Information.txt").write_text(DUST_HEADER + f"{EXACT} 150.1 2.2 0.05 1 3 12.5 1.2\n")
    assert loaders.read_dustlanes(tmp_path / "Basic_Information.txt").objid.tolist() == [EXACT]
    (tmp_path / "GSWLC-X2.dat").write_text(gswlc_line(1237645876861272165, 150.1, 2.2) + "\n")
    assert loaders.read_gswlc(tmp_path / "GSWLC-X2.dat").objid.tolist() == [1237645876861272165]


@pytest.mark.parametrize("written", FLOAT_FORMS)
def test_hart16_objid_in_float_notation_is_refused_with_line_and_column(tmp_path, written):
    frame = hart16_frame().astype({"dr7objid": object})
    frame.loc[2, "dr7objid"] = written
    frame.to_csv(tmp_path / "gz2_hart16.csv.gz", index=False)
    with pytest.raises(DataError, match=r"gz2_hart16.csv.gz, line 4, column dr7objid: value .* float notation"):
        loaders.read_hart16(tmp_path / "gz2_hart16.csv.gz")


def test_hart16_fits_with_float_objids_is_refused(tmp_path):
    from astropy.table import Table
    frame = hart16_frame()
    frame["dr7objid"] = frame["dr7objid"].astype(float)
    Table.from_pandas(frame).write(tmp_path / "gz2_hart16.fits")
    with pytest.raises(DataError, match="dr7objid: the ids are stored as floating-point"):
        loaders.read_hart16(tmp_path / "gz2_hart16.fits")


@pytest.mark.parametrize("written", FLOAT_FORMS)
def test_mapping_objid_in_float_notation_is_refused_with_line_and_column(tmp_path, written):
    write_mapping(tmp_path / "gz2_filename_mapping.csv", [(587722981741363201, "original", 1), (written, "extra", 2)])
    with pytest.raises(DataError, match=r"mapping.csv, line 3, column objid: value .* float notation"):
        loaders.read_filename_mapping(tmp_path / "gz2_filename_mapping.csv")


def test_mapping_asset_id_that_is_not_an_integer_is_refused(tmp_path):
    write_mapping(tmp_path / "m.csv", [(587722981741363201, "original", "12.5")])
    with pytest.raises(DataError, match=r"line 2, column asset_id: value '12.5'"):
        loaders.read_filename_mapping(tmp_path / "m.csv")


@pytest.mark.parametrize("written", FLOAT_FORMS)
def test_dustlane_objid_in_float_notation_is_refused_with_line(tmp_path, written):
    path = tmp_path / "Basic_Information.txt"
    path.write_text(DUST_HEADER + f"{EXACT + 1} 150.1 2.2 0.05 1 3 12.5 1.2\n{written} 151.0 2.3 0.07 3 1 -999 0.4\n")
    with pytest.raises(DataError, match=r"Basic_Information.txt, line 19, column objid.*float notation"):
        loaders.read_dustlanes(path)


@pytest.mark.parametrize("written", FLOAT_FORMS + ["1237645876861272165.5", "abc"])
def test_gswlc_objid_not_an_integer_is_the_projects_error_with_line(tmp_path, written):
    path = tmp_path / "GSWLC-X2.dat.gz"
    with gzip.open(path, "wt") as f:
        f.write(gswlc_line(1237645876861272165, 150.1, 2.2) + "\n")
        f.write(gswlc_line(written, 151.0, 2.3) + "\n")
    with pytest.raises(DataError, match=r"GSWLC-X2.dat.gz, line 2, column objid: value"):
        loaders.read_gswlc(path)


def test_yang_group_id_in_float_notation_is_refused_with_line(tmp_path):
    galaxies, members, groups = write_yang(tmp_path)
    members.write_text("1 101 1 1 1\n2 102 2.0 1 1\n")
    with pytest.raises(DataError, match=r"imodelC_1, line 2, column group_id: value '2.0' is written in float"):
        loaders.read_yang(galaxies, members, groups)


def test_parse_objids_never_rounds_and_names_what_is_wrong():
    assert parse_objids(pd.Series([str(EXACT), "+12"]), "f", "c").tolist() == [EXACT, 12]
    assert parse_objids(np.array([EXACT]), "f", "c").tolist() == [EXACT]
    for bad, why in (("", "is empty"), ("9223372036854775808", "has more digits"), ("1e3", "is written in float notation")):
        with pytest.raises(DataError, match=f"f, data row 2, column c: value '{bad}' {why}"):
            parse_objids(["1", bad], "f", "c")


def test_the_training_manifest_refuses_a_float_objid_too(tmp_path):
    from galaxysd.gz2.manifest import read_training_manifest
    (tmp_path / "manifest.csv").write_text("objid,image_path,tags,caption\n"
                                           f"{EXACT},/a.jpg,ring,\"sdss, ring\"\n"
                                           "5.877229823005166e+17,/b.jpg,ring,\"sdss, ring\"\n")
    with pytest.raises(DataError, match=r"manifest.csv, line 3, column objid: value '5.877229823005166e\+17'"):
        read_training_manifest(tmp_path / "manifest.csv")
    (tmp_path / "manifest.csv").write_text(f"objid,image_path,tags,caption\n{EXACT},/a.jpg,ring,\"sdss, ring\"\n")
    assert read_training_manifest(tmp_path / "manifest.csv").objid.tolist() == [EXACT]
