"""The real data's silent failures are counted or refused: the known D-ETG list, NaN fractions, captions."""

import gzip
import warnings

import numpy as np
import pytest
from test_gz2_loaders import IDS, DUST_HEADER, gswlc_line, hart16_frame, write_mapping, write_yang, write_zenodo_zip

from galaxysd import gz2
from galaxysd.errors import DataError, DataWarning, PromptError
from galaxysd.gz2 import fetch, loaders


def dust_line(objid):
    return f"{objid} 150.1 2.2 0.05 1 3 12.5 1.2\n"


def write_real_layout(data_dir, hart16=None, dust_text=None):
    """A data folder in the real layout (``<data_dir>/gz2/...``), three galaxies, images in the Zenodo zip."""
    root = fetch.data_root(data_dir)
    (root / "dustlanes").mkdir(parents=True)
    (root / "gswlc").mkdir()
    (root / "yang").mkdir()
    (hart16 if hart16 is not None else hart16_frame()).to_csv(root / "gz2_hart16.csv.gz", index=False)
    write_mapping(root / "gz2_filename_mapping.csv", [(IDS[0], "original", 11), (IDS[1], "original", 12),
                                                      (IDS[2], "original", 13)])
    write_zenodo_zip(root / "images_gz2.zip", [11, 12, 13])
    (root / "dustlanes" / "Basic_Information.txt").write_text(
        dust_text if dust_text is not None else DUST_HEADER + dust_line(IDS[0]) + dust_line(IDS[1]))
    with gzip.open(root / "gswlc" / "GSWLC-X2.dat.gz", "wt") as f:
        f.write(gswlc_line(1237645876861272165, 150.1, 2.2) + "\n")
    write_yang(root / "yang")
    return fetch.real_files(data_dir)


def labels(files, tmp_path, **kw):
    return gz2.write_labels(files, tmp_path / "labels", image_dir=tmp_path / "extracted", **kw)


# -------------------------------------------------------------- the known D-ETG list (issue 15.3, 17.6)

def test_real_layout_labels_and_counts_the_known_list(tmp_path):
    counts = labels(write_real_layout(tmp_path / "data"), tmp_path)
    assert (counts["n_known_detg_listed"], counts["n_known_detg_matched"]) == (2, 2)
    assert counts["n_known_detg_skipped_lines"] == 0


def test_an_error_page_saved_as_the_dustlane_file_stops_the_real_route(tmp_path):
    page = "<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head>\n<body>nginx</body></html>\n"
    files = write_real_layout(tmp_path / "data", dust_text=page)
    with pytest.raises(DataError, match=r"Basic_Information.txt has no data line.*line 1: '<!DOCTYPE html>'"):
        labels(files, tmp_path)


def test_a_dustlane_file_of_unexpected_lines_stops_the_real_route_naming_them(tmp_path):
    text = DUST_HEADER + dust_line(IDS[0]) + "587722981741363202,151.0,2.3\n" + dust_line(IDS[1])
    files = write_real_layout(tmp_path / "data", dust_text=text)
    with pytest.raises(DataError, match=r"1 line\(s\) after the first data line .*line 19: '587722981741363202,151"):
        labels(files, tmp_path)


def test_skipped_dustlane_lines_are_always_counted(tmp_path):
    path = tmp_path / "Basic_Information.txt"
    path.write_text(DUST_HEADER + dust_line(IDS[0]) + "junk here\n\n" + dust_line(IDS[1]) + "-- end --\n")
    frame = loaders.read_dustlanes(path)
    assert frame.objid.tolist() == IDS[:2]
    assert frame.attrs["skipped_lines"] == [19, 22] and frame.attrs["header_lines"] == 14


def test_a_known_list_that_matches_nothing_is_an_error_on_the_real_route(tmp_path):
    text = DUST_HEADER + "".join(dust_line(587722981741363301 + i) for i in range(4)) + dust_line(IDS[0])
    files = write_real_layout(tmp_path / "data", dust_text=text)
    with pytest.raises(DataError, match="only 1 of the 5 known D-ETGs listed in .*Basic_Information.txt"):
        labels(files, tmp_path)
    with pytest.warns(DataWarning, match="only 1 of the 5"):
        counts = labels(files, tmp_path, strict=False)
    assert (counts["n_known_detg_listed"], counts["n_known_detg_matched"]) == (5, 1)


# -------------------------------------------------------------- smaller things (issue 15.6)

def _confident_smooth_frame(debiased):
    frame = hart16_frame()
    for col, value in (("a01_smooth_count", 30), ("a02_features_or_disk_count", 0),
                       ("a03_star_or_artifact_count", 0), ("a01_smooth_debiased", debiased)):
        frame.loc[0, f"t01_smooth_or_features_{col}"] = value
    return frame


def test_a_nan_debiased_fraction_is_counted_where_it_would_have_made_a_tag(tmp_path):
    from galaxysd.gz2.labels import nan_debiased
    good = gz2.label_catalog(_confident_smooth_frame(0.95))
    assert "smooth" in gz2.split_tags(good.tags.iloc[0])  # the same galaxy with a number has the tag
    frame = _confident_smooth_frame(np.nan)
    lost = nan_debiased(frame, gz2.label_catalog(frame))
    assert lost["t01_smooth_or_features_a01_smooth"] == 1 and lost.attrs["n_galaxies"] == 1
    files = write_real_layout(tmp_path / "data", hart16=frame)
    with pytest.warns(DataWarning, match="1 galaxies have a NaN debiased fraction"):
        counts = labels(files, tmp_path)
    assert counts["n_nan_debiased"] == 1 and counts["nan_debiased"]["t01_smooth_or_features_a01_smooth"] == 1


def test_a_galaxy_without_tags_has_one_caption_everywhere():
    frame = hart16_frame()
    for col in frame.columns:
        if col.endswith("_count"):
            frame[col] = 0  # no task is well sampled: no tags
    cat = gz2.label_catalog(frame)
    assert (cat.n_tags == 0).all()
    forms = {*cat.caption, gz2.caption([]), gz2.caption_from_tags([], np.random.default_rng(0)),
             gz2.caption_from_tags("", np.random.default_rng(0))}
    assert forms == {"sdss"}


def test_a_colon_inside_braces_is_said_to_be_read_as_a_weight():
    from galaxysd.diffusion.prompts import parse_weighted_prompt
    with pytest.raises(PromptError, match="':' inside braces is always read as a weight"):
        parse_weighted_prompt("sdss, {ratio 1:2 arms}")
    assert parse_weighted_prompt("sdss, {ratio 1:2:1.0}")[0].text == "sdss, ratio 1:2"


def test_no_warning_for_clean_real_data(tmp_path):
    files = write_real_layout(tmp_path / "data")
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataWarning)
        labels(files, tmp_path)
