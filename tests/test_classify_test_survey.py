"""The extra simulated test survey: new galaxies, drawn and labelled as the run's own survey was."""

import json
from pathlib import Path

import numpy as np
import pandas as pd

from galaxysd import gz2
from galaxysd.gz2.testsurvey import SEED_OFFSET
from galaxysd.paths import run_paths
from galaxysd.stages import s01_data as s01
from galaxysd.stages import s06_classification as s06


def test_the_test_survey_is_labelled_by_the_same_code_and_settings_and_joins_the_test_part(tmp_path):
    paths = run_paths("smoke", tmp_path / "runs", tmp_path / "figures", tmp_path / "data")
    survey = s01.survey_stage(paths, n_galaxies=200, image_size=24, seed=2, frame_r90=4.0, progress=False)
    s01.labels_stage(paths, survey, min_debiased=0.7)  # not the default 0.8: the test survey must copy it
    folder = s06.test_survey_stage(paths.run, 300, progress=False)
    info = json.loads(gz2.survey_of(folder).info.read_text())
    assert (info["image_size"], info["frame_r90"], info["seed"], info["n_galaxies"]) == (24, 4.0, 2 + SEED_OFFSET, 300)
    # its labels are what 01's labelling code gives its votes with 01's settings
    made = gz2.labelled_catalog(folder)
    gz2.write_labels(gz2.survey_of(folder), tmp_path / "relabelled", min_debiased=0.7)
    again = gz2.labelled_catalog(tmp_path / "relabelled")
    pd.testing.assert_series_equal(made["tags"], again["tags"])
    gz2.write_labels(gz2.survey_of(folder), tmp_path / "default", min_debiased=0.8)
    assert gz2.labelled_catalog(tmp_path / "default")["n_tags"].sum() < made["n_tags"].sum()
    # its galaxies with a tag and an image join the test part, with their truth, after the run's own
    own = s06.load_sample(paths.run, seed=0)
    both = s06.load_sample(paths.run, seed=0, test_survey=folder)
    extra = both.catalog[both.catalog["source"] == "test survey"]
    assert len(extra) > 0 and (extra["part"] == "test").all() and (extra["n_tags"] > 0).all()
    assert all(Path(p).is_file() for p in extra["image_path"])  # the survey's final folder, not a partial one
    assert not set(extra["objid"]) & set(own.catalog["objid"])
    pd.testing.assert_frame_equal(both.catalog.iloc[:len(own.catalog)][own.catalog.columns], own.catalog)
    assert np.array_equal(both.truth["objid"], both.catalog["objid"]) and both.test_stage == folder
    # the training set's positive fraction is the run's own sample's, whatever the test survey holds
    pd.testing.assert_frame_equal(s06.fractions_table(both, ["spiral", "disk"]), s06.fractions_table(own, ["spiral", "disk"]))
    assert s06.test_survey_stage(paths.run, 0) is None
    assert s06.test_survey_stage(paths.run, 300, progress=False) == folder  # cached
