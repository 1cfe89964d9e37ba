"""Loaders read small files written here in the real formats, and name what is wrong with broken ones."""

import gzip
import io
import json
import zipfile

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from galaxysd.cache import sha256_file
from galaxysd.errors import DataError
from galaxysd.gz2 import fetch, loaders
from galaxysd.gz2.manifest import read_training_manifest, write_manifest
from galaxysd.gz2.schema import hart16_columns

IDS = [587722981741363201, 587722981741363202, 587722981741363203]


def hart16_frame():
    rng = np.random.default_rng(0)
    rows = []
    for objid in IDS:
        row = {}
        for col in hart16_columns():
            if col.endswith("_count"):
                row[col] = int(rng.integers(0, 30))
            elif col.endswith("_flag"):
                row[col] = 0
            elif col.endswith(("_weight",)):
                row[col] = float(rng.uniform(0, 30))
            elif col.endswith(("_fraction", "_debiased")):
                row[col] = float(rng.uniform(0, 1))
            else:
                row[col] = 0
        row.update(dr7objid=objid, ra=150.1, dec=2.2, rastring="10:00:24.00", decstring="+02:12:00.0",
                   sample="original", gz2_class="Sc2m", total_classifications=44, total_votes=120)
        rows.append(row)
    return pd.DataFrame(rows)[hart16_columns()]


def jpeg_bytes(value=128, size=8):
    buf = io.BytesIO()
    Image.fromarray(np.full((size, size, 3), value, np.uint8)).save(buf, format="JPEG")
    return buf.getvalue()


# -------------------------------------------------------------- Hart16 table

@pytest.mark.parametrize("name", ["gz2_hart16.csv", "gz2_hart16.csv.gz"])
def test_hart16_reads_csv_and_gzipped_csv(tmp_path, name):
    path = tmp_path / name
    hart16_frame().to_csv(path, index=False)
    table = loaders.read_hart16(path)
    assert list(table.columns) == hart16_columns()
    assert table.dr7objid.dtype == np.int64 and table.dr7objid.tolist() == IDS


def test_hart16_reads_fits_with_gz2class_column(tmp_path):
    from astropy.table import Table
    frame = hart16_frame().rename(columns={"gz2_class": "gz2class"})
    Table.from_pandas(frame).write(tmp_path / "gz2_hart16.fits")
    table = loaders.read_hart16(tmp_path / "gz2_hart16.fits")
    assert "gz2_class" in table.columns and table.gz2_class.tolist() == ["Sc2m"] * 3
    assert table.dr7objid.tolist() == IDS


def test_hart16_missing_column_is_named(tmp_path):
    hart16_frame().drop(columns=["t03_bar_a06_bar_debiased"]).to_csv(tmp_path / "t.csv", index=False)
    with pytest.raises(DataError, match="t03_bar_a06_bar_debiased"):
        loaders.read_hart16(tmp_path / "t.csv")


def test_hart16_sentinel_in_a_fraction_is_reported(tmp_path):
    frame = hart16_frame()
    frame.loc[1, "t04_spiral_a08_spiral_debiased"] = -999
    frame.to_csv(tmp_path / "t.csv", index=False)
    with pytest.raises(DataError, match=r"t04_spiral_a08_spiral_debiased: 1 value\(s\) outside \[0, 1\]"):
        loaders.read_hart16(tmp_path / "t.csv")


def test_hart16_duplicate_objid_is_reported(tmp_path):
    frame = hart16_frame()
    frame.loc[2, "dr7objid"] = IDS[0]
    frame.to_csv(tmp_path / "t.csv", index=False)
    with pytest.raises(DataError, match="duplicate"):
        loaders.read_hart16(tmp_path / "t.csv")


def test_hart16_missing_file_is_a_data_error(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        loaders.read_hart16(tmp_path / "nope.csv.gz")


# -------------------------------------------------------------- images and mapping

def write_zenodo_zip(path, assets, broken=()):
    with zipfile.ZipFile(path, "w") as zf:
        for a in assets:
            zf.writestr(f"images/{a}.jpg", b"not a jpeg" if a in broken else jpeg_bytes())
            zf.writestr(f"__MACOSX/images/._{a}.jpg", b"\x00\x05\x16\x07 mac resource fork")
    return path


def write_mapping(path, rows):
    pd.DataFrame(rows, columns=["objid", "sample", "asset_id"]).to_csv(path, index=False)
    return path


def test_zip_in_zenodo_layout_skips_macosx_entries(tmp_path):
    zf = loaders.open_images(write_zenodo_zip(tmp_path / "images_gz2.zip", [11, 12, 13]))
    assert zf.asset_ids() == {11, 12, 13}
    assert zf.read(12).shape == (8, 8, 3)


def test_image_that_will_not_decode_is_named(tmp_path):
    zf = loaders.open_images(write_zenodo_zip(tmp_path / "images_gz2.zip", [11, 12], broken=[12]))
    with pytest.raises(DataError, match="12.jpg"):
        zf.read(12)


def test_attach_images_counts_what_has_no_image(tmp_path):
    zpath = write_zenodo_zip(tmp_path / "images_gz2.zip", [11, 12, 13], broken=[13])
    mapping = loaders.read_filename_mapping(write_mapping(tmp_path / "gz2_filename_mapping.csv", [
        (IDS[0], "stripe82", 98), (IDS[0], "original", 11), (IDS[1], "original", 13), (IDS[2], "extra", 99),
        (1, "extra", 12)]))
    labels = pd.DataFrame({"objid": IDS + [5]})
    matched, report = loaders.attach_images(labels, mapping, loaders.open_images(zpath),
                                            extract_to=tmp_path / "extracted", check_decode=True)
    assert matched.objid.tolist() == [IDS[0]]
    assert (tmp_path / "extracted" / "11.jpg").is_file()
    assert matched.image_path.iloc[0] == str((tmp_path / "extracted" / "11.jpg").resolve())
    assert (report.n_matched, report.no_mapping, report.no_image, report.undecodable) == (1, 1, 1, [IDS[1]])
    assert report.mapping_rows_without_image == 2
    assert "1 of 4 galaxies have an image" in report.summary()


def test_image_folder_reads_extracted_layout(tmp_path):
    (tmp_path / "images").mkdir()
    for a in (5, 6):
        (tmp_path / "images" / f"{a}.jpg").write_bytes(jpeg_bytes())
    (tmp_path / "images" / "._5.jpg").write_bytes(b"junk")
    folder = loaders.open_images(tmp_path)
    assert folder.asset_ids() == {5, 6}
    assert folder.path(6) == (tmp_path / "images" / "6.jpg").resolve()


def test_mapping_without_asset_id_column_is_named(tmp_path):
    pd.DataFrame({"objid": [1], "sample": ["original"]}).to_csv(tmp_path / "m.csv", index=False)
    with pytest.raises(DataError, match="asset_id"):
        loaders.read_filename_mapping(tmp_path / "m.csv")


def test_attach_images_from_zip_needs_a_folder(tmp_path):
    zpath = write_zenodo_zip(tmp_path / "images_gz2.zip", [11])
    mapping = pd.DataFrame({"objid": [IDS[0]], "sample": ["original"], "asset_id": [11]})
    with pytest.raises(DataError, match="extract_to"):
        loaders.attach_images(pd.DataFrame({"objid": [IDS[0]]}), mapping, loaders.open_images(zpath))


# -------------------------------------------------------------- dust lanes

DUST_HEADER = """Early-type galaxies with dust lanes
Kaviraj et al. 2012

Columns:
(1) objID
(2-3) RA, Dec
(4) redshift
(5) dust-lane orientation
(6) morphology
(7) log halo mass
(8) density

Notes:
We assign value -999 if there is no counterpart in the cross-matching.

References:
Kaviraj et al. 2012
"""


def test_dustlanes_parse_data_lines_and_missing_values(tmp_path):
    path = tmp_path / "Basic_Information.txt"
    path.write_text(DUST_HEADER + f"{IDS[0]} 150.1 2.2 0.05 1 3 12.5 1.2\n{IDS[1]} 151.0 2.3 0.07 3 1 -999 0.4\n")
    frame = loaders.read_dustlanes(path)
    assert frame.objid.tolist() == IDS[:2]
    assert np.isnan(frame.log_mhalo.iloc[1]) and frame.log_mhalo.iloc[0] == 12.5


def test_dustlanes_unexpected_sentinel_is_reported(tmp_path):
    path = tmp_path / "Basic_Information.txt"
    path.write_text(DUST_HEADER + f"{IDS[0]} 150.1 2.2 -99 1 3 12.5 1.2\n")
    with pytest.raises(DataError, match="column z has 1 unexpected sentinel"):
        loaders.read_dustlanes(path)


def test_dustlanes_ragged_rows_are_reported(tmp_path):
    path = tmp_path / "Basic_Information.txt"
    path.write_text(DUST_HEADER + f"{IDS[0]} 150.1 2.2 0.05 1 3 12.5 1.2\n{IDS[1]} 151.0 2.3 0.07 3\n")
    with pytest.raises(DataError, match=r"1 line\(s\) differ from the first, e.g. line 19"):
        loaders.read_dustlanes(path)


def test_dustlanes_without_data_lines_is_an_error(tmp_path):
    path = tmp_path / "Basic_Information.txt"
    path.write_text(DUST_HEADER)
    with pytest.raises(DataError, match="no data line"):
        loaders.read_dustlanes(path)
    assert loaders.read_dustlanes(path, allow_empty=True).empty


# -------------------------------------------------------------- GSWLC-2

def gswlc_line(objid, ra, dec, sfr=-0.3, sfr_err=0.1):
    vals = [objid, 12, 266, 51630, 3, ra, dec, 0.05, 1.1, 10.5, 0.05, sfr, sfr_err, 1, 0.2, 0.5, 0.1,
            0.3, 0.05, 0, 1, 1, 0, 1]
    return " ".join(str(v) for v in vals)


def test_gswlc_reads_gzip_and_turns_minus_99_into_nan(tmp_path):
    path = tmp_path / "GSWLC-X2.dat.gz"
    with gzip.open(path, "wt") as f:
        f.write(gswlc_line(1237645876861272165, 150.1, 2.2) + "\n")
        f.write(gswlc_line(1237645876861272166, 151.0, 2.3, sfr=-99, sfr_err=-99) + "\n")
    frame = loaders.read_gswlc(path)
    assert frame.shape == (2, 24)
    assert frame.objid.iloc[0] == 1237645876861272165
    assert frame.logsfr.isna().tolist() == [False, True]


def test_gswlc_wrong_column_count_is_reported(tmp_path):
    path = tmp_path / "GSWLC-X2.dat"
    path.write_text(gswlc_line(1237645876861272165, 150.1, 2.2).rsplit(" ", 1)[0] + "\n")
    with pytest.raises(DataError, match="23 columns; expected 24"):
        loaders.read_gswlc(path)


def test_gswlc_other_sentinel_is_reported(tmp_path):
    path = tmp_path / "GSWLC-X2.dat"
    path.write_text(gswlc_line(1237645876861272165, 150.1, 2.2, sfr=-999) + "\n")
    with pytest.raises(DataError, match="logsfr has 1 unexpected sentinel"):
        loaders.read_gswlc(path)


# -------------------------------------------------------------- Yang et al. groups

def write_yang(tmp_path, member_group=2):
    (tmp_path / "SDSS7").write_text("1 101 150.1 2.2 0.05 16.2 17.77 0.9 -21 0.7 -21 0.7 1\n"
                                    "2 102 151.0 2.3 0.07 16.8 17.77 0.9 -20 0.6 -20 0.6 1\n")
    (tmp_path / "imodelC_1").write_text(f"1 101 1 1 1\n2 102 {member_group} 1 1\n")
    (tmp_path / "modelC_group").write_text("group catalogue\n  columns: id ra dec z\n# header 3\n"
                                           "1 150.1 2.2 0.05 10.5 10.8 12.9 13.0 1.0\n"
                                           "2 151.0 2.3 0.07 10.1 10.3 0.0 0.0 1.0\n")
    return tmp_path / "SDSS7", tmp_path / "imodelC_1", tmp_path / "modelC_group"


def test_yang_joins_galaxies_groups_and_halo_masses(tmp_path):
    frame = loaders.read_yang(*write_yang(tmp_path))
    assert frame.loghalo_l.iloc[0] == 12.9 and np.isnan(frame.loghalo_l.iloc[1])
    assert frame.r_mag.tolist() == [16.2, 16.8]


def test_yang_member_of_unknown_group_is_reported(tmp_path):
    with pytest.raises(DataError, match="1 member"):
        loaders.read_yang(*write_yang(tmp_path, member_group=7))


def test_sky_match_finds_neighbours_within_the_radius():
    idx, sep = loaders.match_sky([150.0, 10.0], [2.0, 5.0], [10.0, 150.0 + 0.5 / 3600], [5.0, 2.0], 1.0)
    assert idx.tolist() == [1, 0]
    assert sep[0] == pytest.approx(0.5 * np.cos(np.radians(2.0)), rel=1e-3)
    idx, _ = loaders.match_sky([150.0], [2.0], [150.0 + 2 / 3600], [2.0], 1.0)
    assert idx.tolist() == [-1]


# -------------------------------------------------------------- checksums and manifest

def test_first_download_records_sha256_and_later_ones_verify(tmp_path):
    target = tmp_path / "gz2" / "gz2_filename_mapping.csv"
    target.parent.mkdir()
    target.write_text("objid,sample,asset_id\n1,original,1\n")
    digest = fetch.fetch("gz2_filename_mapping.csv", tmp_path)  # present: no download, records sha256
    sums = json.loads((tmp_path / "gz2" / "checksums.json").read_text())
    assert digest == target and len(sums["gz2_filename_mapping.csv"]) == 64
    target.write_text("objid,sample,asset_id\n1,original,2\n")
    with pytest.raises(DataError, match="differs from the one recorded"):
        fetch.fetch("gz2_filename_mapping.csv", tmp_path)


def test_manual_file_missing_says_where_to_get_it(tmp_path):
    with pytest.raises(DataError, match="gax.sjtu.edu.cn"):
        fetch.fetch("yang/SDSS7", tmp_path)


def test_training_manifest_round_trip_and_missing_column(tmp_path):
    frame = pd.DataFrame({"objid": IDS[:2], "image_path": ["/a.jpg", "/b.jpg"],
                          "tags": ["spiral galaxy|2 spiral arms", "ring"],
                          "caption": ["sdss, spiral galaxy, 2 spiral arms", "sdss, ring"]})
    write_manifest(frame, tmp_path / "manifest.csv")
    back = read_training_manifest(tmp_path / "manifest.csv")
    assert back.objid.dtype == np.int64 and back.tags.tolist() == frame.tags.tolist()
    frame.drop(columns="caption").to_csv(tmp_path / "bad.csv", index=False)
    with pytest.raises(DataError, match="caption"):
        read_training_manifest(tmp_path / "bad.csv")
    with pytest.raises(DataError, match="image"):
        read_training_manifest(tmp_path / "manifest.csv", check_images=True)


def test_a_file_that_is_not_a_zip_is_reported(tmp_path):
    (tmp_path / "images_gz2.zip").write_bytes(b"truncated download")
    with pytest.raises(DataError, match="not a valid zip"):
        loaders.open_images(tmp_path / "images_gz2.zip")


def test_missing_image_folder_is_reported(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        loaders.open_images(tmp_path / "nowhere")


def test_yang_file_with_text_values_is_reported(tmp_path):
    galaxies, members, groups = write_yang(tmp_path)
    members.write_text("1 101 1 1 1\n2 102 two 1 1\n")
    with pytest.raises(DataError, match="non-numeric"):
        loaders.read_yang(galaxies, members, groups)


# -------------------------------------------------------------- broken downloads and pooch

def _truncated_gzip(path, text):
    data = gzip.compress(text.encode())
    path.write_bytes(data[: len(data) // 2])
    return path


def test_hart16_truncated_gzip_is_a_data_error_naming_the_file(tmp_path):
    path = _truncated_gzip(tmp_path / "gz2_hart16.csv.gz", hart16_frame().to_csv(index=False) * 20)
    with pytest.raises(DataError, match="gz2_hart16.csv.gz could not be read"):
        loaders.read_hart16(path)


def test_hart16_count_that_is_not_an_integer_is_reported(tmp_path):
    frame = hart16_frame()
    frame["t03_bar_a06_bar_count"] = frame["t03_bar_a06_bar_count"].astype(float)
    frame.loc[1, "t03_bar_a06_bar_count"] = 2.5
    frame.to_csv(tmp_path / "gz2_hart16.csv", index=False)
    with pytest.raises(DataError, match="t03_bar_a06_bar_count: 1 value"):
        loaders.read_hart16(tmp_path / "gz2_hart16.csv")


def test_gswlc_truncated_gzip_is_a_data_error(tmp_path):
    text = "\n".join(gswlc_line(1237645876861272165 + i, 150.1, 2.2) for i in range(400)) + "\n"
    with pytest.raises(DataError, match="GSWLC-X2.dat.gz could not be parsed"):
        loaders.read_gswlc(_truncated_gzip(tmp_path / "GSWLC-X2.dat.gz", text))


def test_mapping_that_is_not_a_csv_is_reported(tmp_path):
    (tmp_path / "gz2_filename_mapping.csv").write_bytes(b'"objid,sample\n\x00\x01')
    with pytest.raises(DataError, match="gz2_filename_mapping.csv could not be read"):
        loaders.read_filename_mapping(tmp_path / "gz2_filename_mapping.csv")


def test_image_report_names_example_galaxies_without_an_image(tmp_path):
    zpath = write_zenodo_zip(tmp_path / "images_gz2.zip", [11])
    mapping = pd.DataFrame({"objid": [IDS[0], IDS[1]], "sample": ["original", "extra"], "asset_id": [11, 99]})
    _, report = loaders.attach_images(pd.DataFrame({"objid": IDS}), mapping, loaders.open_images(zpath),
                                      extract_to=tmp_path / "x")
    assert report.examples_no_image == [IDS[1]] and report.examples_no_mapping == [IDS[2]]
    assert f"e.g. objID {IDS[1]}" in report.summary() and f"e.g. objID {IDS[2]}" in report.summary()


@pytest.fixture()
def http_server(tmp_path):
    """A local HTTP server (loopback only, no network) serving ``tmp_path / 'www'``."""
    import functools
    import http.server
    import threading

    root = tmp_path / "www"
    root.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_pooch_download_records_sha256_then_a_changed_redownload_fails(http_server, tmp_path):
    www, base = http_server
    (www / "mapping.csv").write_text("objid,sample,asset_id\n1,original,1\n")
    data = tmp_path / "data"
    path = fetch.fetch("gz2_filename_mapping.csv", data, progress=False, url=f"{base}/mapping.csv")
    assert path == data / "gz2" / "gz2_filename_mapping.csv"
    assert loaders.read_filename_mapping(path).asset_id.tolist() == [1]
    sums = json.loads((data / "gz2" / "checksums.json").read_text())
    assert sums["gz2_filename_mapping.csv"] == sha256_file(path)
    path.unlink()  # same content downloaded again: verified
    fetch.fetch("gz2_filename_mapping.csv", data, progress=False, url=f"{base}/mapping.csv")
    path.unlink()  # the provider changed the file: the recorded checksum catches it
    (www / "mapping.csv").write_text("objid,sample,asset_id\n1,original,2\n")
    with pytest.raises(DataError, match="differs from the one recorded"):
        fetch.fetch("gz2_filename_mapping.csv", data, progress=False, url=f"{base}/mapping.csv")


def test_failed_download_names_the_address(http_server, tmp_path):
    _, base = http_server
    with pytest.raises(DataError, match="nothing-here.csv"):
        fetch.fetch("gz2_filename_mapping.csv", tmp_path, progress=False, url=f"{base}/nothing-here.csv")
