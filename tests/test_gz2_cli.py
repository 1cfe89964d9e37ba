"""``python -m galaxysd simulate`` writes a survey that the real-data loaders read."""

import json
import subprocess
import sys

import pandas as pd

from galaxysd.gz2 import loaders, survey_files


def test_simulate_command_writes_a_survey_the_loaders_read(tmp_path):
    out = tmp_path / "survey"
    done = subprocess.run([sys.executable, "-m", "galaxysd", "simulate", str(out), "--n-galaxies", "60",
                           "--image-size", "20", "--seed", "7", "--frame-r90", "6.5"],
                          capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr
    files = survey_files(out)
    table = loaders.read_hart16(files.hart16)
    assert len(table) == 60
    mapping = loaders.read_filename_mapping(files.mapping)
    matched, report = loaders.attach_images(pd.DataFrame({"objid": table.dr7objid}), mapping,
                                            loaders.open_images(files.images), check_decode=True)
    assert report.n_matched == (table["sample"] == "original").sum() and report.undecodable == []
    assert loaders.open_images(files.images).read(matched.asset_id.iloc[0]).shape == (20, 20, 3)
    loaders.read_dustlanes(files.dustlanes, allow_empty=True)
    loaders.read_gswlc(files.gswlc)
    loaders.read_yang(files.yang_galaxies, files.yang_members, files.yang_groups)
    info = json.loads(files.info.read_text())
    assert (info["seed"], info["image_size"], info["frame_r90"]) == (7, 20, 6.5)
