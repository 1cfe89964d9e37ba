"""The data folder is checked before anything is downloaded; only good files get a checksum."""

import json
import shutil
import zipfile

import pytest
from test_gz2_loaders import _truncated_gzip, hart16_frame, http_server  # noqa: F401 (fixture)
from test_gz2_reliability import labels, write_real_layout

from galaxysd.__main__ import main
from galaxysd.errors import DataError
from galaxysd.gz2 import fetch


@pytest.fixture()
def no_download(monkeypatch):
    """Any download attempt fails the test."""
    import pooch

    def refuse(url, *args, **kwargs):
        raise AssertionError(f"a download was attempted: {url}")
    monkeypatch.setattr(pooch, "retrieve", refuse)


# -------------------------------------------------------------- check before download (issue 17.2)

def test_check_names_each_file_present_or_missing_where_and_how_and_creates_nothing(tmp_path, no_download):
    write_real_layout(tmp_path / "data")
    (tmp_path / "data" / "gz2" / "gswlc" / "GSWLC-X2.dat.gz").unlink()
    (tmp_path / "data" / "gz2" / "yang" / "SDSS7").unlink()
    check = fetch.check_data(tmp_path / "data")
    assert {f.name for f in check.missing} == {"gswlc/GSWLC-X2.dat.gz", "yang/SDSS7"}
    report = check.report()
    assert f"MISSING  {tmp_path / 'data' / 'gz2' / 'gswlc' / 'GSWLC-X2.dat.gz'}" in report
    assert "salims.pages.iu.edu" in report and "download by hand from https://gax.sjtu.edu.cn" in report
    assert f"python -m galaxysd fetch --data-dir {tmp_path / 'data'}" in report
    assert f"present  {tmp_path / 'data' / 'gz2' / 'gz2_hart16.csv.gz'}" in report
    with pytest.raises(DataError, match="nothing was downloaded"):
        fetch.fetch_all(tmp_path / "empty")
    assert not (tmp_path / "empty").exists()


@pytest.mark.parametrize("named", ["data/gz2", "."])
def test_a_data_folder_one_level_off_is_pointed_out_and_nothing_is_downloaded(tmp_path, no_download, named):
    write_real_layout(tmp_path / "data")
    wrong = (tmp_path / named).resolve()
    check = fetch.check_data(wrong)
    assert check.suggested_data_dirs() == [(tmp_path / "data").resolve()]
    assert f"pass --data-dir {(tmp_path / 'data').resolve()}" in check.report()
    with pytest.raises(DataError, match="nothing was downloaded"):
        fetch.fetch_all(wrong, download=True)
    assert not (wrong / "gz2" / "gz2").exists() and (named == "." or not (wrong / "gz2").exists())


def test_the_fetch_command_downloads_verifies_and_names_what_to_place_by_hand(http_server, monkeypatch, tmp_path):
    www, base = http_server
    src = write_real_layout(tmp_path / "src").root
    for name in fetch.REMOTE:
        (www / name.replace("/", "_")).write_bytes((src / name).read_bytes())
    monkeypatch.setattr(fetch, "REMOTE", {name: f"{base}/{name.replace('/', '_')}" for name in fetch.REMOTE})
    monkeypatch.delenv("GALAXYSD_DATA", raising=False)
    assert main(["fetch", "--no-progress"]) == 2  # no folder named: nothing downloaded
    target = tmp_path / "named"
    assert main(["fetch", "--data-dir", str(target), "--no-progress"]) == 2  # Yang files are placed by hand
    assert all((target / "gz2" / name).is_file() for name in fetch.REMOTE)
    (target / "gz2" / "yang").mkdir()
    for name in fetch.MANUAL:
        shutil.copy(src / name, target / "gz2" / name)
    assert main(["fetch", "--data-dir", str(target), "--no-progress"]) == 0
    sums = json.loads((target / "gz2" / "checksums.json").read_text())
    assert set(sums) == set(fetch.REMOTE) | set(fetch.MANUAL)
    assert main(["fetch", "--check", "--data-dir", str(target)]) == 0


# -------------------------------------------------------------- checksums of good files only (issue 17.3)

def test_a_truncated_zip_is_not_recorded_and_the_good_copy_is_then_accepted(tmp_path):
    files = write_real_layout(tmp_path / "data")
    good = files.images.read_bytes()
    files.images.write_bytes(good[: len(good) // 2])
    with pytest.raises(DataError, match=r"incomplete download\? not a valid zip file"):
        fetch.fetch("images_gz2.zip", tmp_path / "data")
    sums = fetch.data_root(tmp_path / "data") / "checksums.json"
    assert not sums.exists() or "images_gz2.zip" not in json.loads(sums.read_text())
    files.images.write_bytes(good)
    fetch.fetch("images_gz2.zip", tmp_path / "data")
    assert "images_gz2.zip" in json.loads(sums.read_text())


def test_a_downloaded_table_that_fails_its_check_is_deleted_and_not_recorded(http_server, tmp_path):
    www, base = http_server
    _truncated_gzip(www / "hart16.csv.gz", hart16_frame().to_csv(index=False) * 20)
    with pytest.raises(DataError, match=r"incomplete download\?.*could not be read"):
        fetch.fetch("gz2_hart16.csv.gz", tmp_path / "data", progress=False, url=f"{base}/hart16.csv.gz")
    assert not (tmp_path / "data" / "gz2" / "gz2_hart16.csv.gz").exists()
    assert not (tmp_path / "data" / "gz2" / "checksums.json").exists()


def test_a_failed_download_leaves_no_empty_folder(http_server, tmp_path):
    _, base = http_server
    with pytest.raises(DataError, match="nothing-here.txt"):
        fetch.fetch("dustlanes/Basic_Information.txt", tmp_path / "new", progress=False, url=f"{base}/nothing-here.txt")
    assert not (tmp_path / "new").exists()


def test_every_file_the_paper_route_reads_is_checksummed_yang_too(tmp_path):
    fetch.fetch_all(write_real_layout(tmp_path / "data").root.parent)
    sums = json.loads((tmp_path / "data" / "gz2" / "checksums.json").read_text())
    assert set(sums) == set(fetch.REMOTE) | set(fetch.MANUAL)


def test_a_changed_yang_file_is_caught_by_its_checksum(tmp_path):
    files = write_real_layout(tmp_path / "data")
    fetch.fetch_all(tmp_path / "data")
    files.yang_groups.write_text(files.yang_groups.read_text().replace("12.9", "12.8"))
    with pytest.raises(DataError, match="modelC_group: sha256 .* differs"):
        fetch.fetch_all(tmp_path / "data")


# -------------------------------------------------------------- unpacked images (issue 15.5)

def test_unpacked_images_count_as_the_images_and_the_zip_is_not_downloaded(tmp_path, no_download):
    files = write_real_layout(tmp_path / "data")
    with zipfile.ZipFile(files.images) as zf:
        zf.extractall(files.root, members=[n for n in zf.namelist() if not n.startswith("__MACOSX/")])
    files.images.unlink()
    assert fetch.check_data(tmp_path / "data").complete
    for download in (False, True):
        real = fetch.fetch_all(tmp_path / "data", download=download)
        assert real.images == files.root / "images"
    counts = labels(real, tmp_path)
    assert counts["n_table"] == 3 and "of 3 galaxies have an image" in counts["image_report"]


def test_the_paper_route_with_a_wrong_data_folder_downloads_nothing_and_leaves_no_folder(tmp_path, no_download):
    from galaxysd.paths import run_paths
    from galaxysd.stages import s01_data as s01

    write_real_layout(tmp_path / "data")
    for wrong in (tmp_path / "nodata", tmp_path / "data" / "gz2"):
        paths = run_paths("paper", tmp_path / "runs", tmp_path / "figures", wrong)
        with pytest.raises(DataError, match=r"(?s)nothing was downloaded.*MISSING  "):
            s01.survey_stage(paths, real_data=True, progress=False)
    assert not (tmp_path / "nodata").exists() and not (tmp_path / "data" / "gz2" / "gz2").exists()
    right = run_paths("paper", tmp_path / "runs", tmp_path / "figures", tmp_path / "data")
    assert s01.survey_stage(right, real_data=True, progress=False).hart16.is_file()
