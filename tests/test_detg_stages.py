"""The stages of chapters 07 and 08: the whole survey with images, validation, Table 3, mistakes."""

import os
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from galaxysd import gz2
from galaxysd.detg import TooFewKnownDETGError
from galaxysd.gz2.simulate.survey import SurveyFiles
from galaxysd.paths import run_paths
from galaxysd.stages import s07_detg_experiment as s07


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("detg_stages")
    paths = run_paths("smoke", root / "runs", root / "figures", root / "data")
    survey = gz2.survey_stage(paths, n_galaxies=120, image_size=24, seed=2, progress=False)
    gz2.labels_stage(paths, survey)
    return paths, survey


def test_survey_stage_gives_every_galaxy_with_an_image_its_path_and_coordinates(run):
    paths, survey = run
    stage = s07.survey_stage(paths.run)
    table = s07.read_survey(stage.path)
    catalog = gz2.labelled_catalog(paths.run)
    n_images = len(list(survey.images.glob("*.jpg")))
    assert len(table) == n_images > (catalog["image_path"] != "").sum()
    assert table[["ra", "dec"]].notna().all().all()
    assert all(os.path.isfile(p) for p in table["image_path"])
    everything = s07.read_survey(stage.path, with_image=False)
    assert len(everything) == 120 and (everything["image_path"] == "").sum() == 120 - n_images
    assert s07.survey_stage(paths.run).hit


def test_survey_stage_extracts_zipped_images_into_the_stage_and_finds_them_after_it_is_renamed(run, tmp_path):
    paths, survey = run
    zipped = tmp_path / "images_gz2.zip"
    with zipfile.ZipFile(zipped, "w") as archive:
        for jpg in sorted(survey.images.glob("*.jpg")):
            archive.write(jpg, f"images/{jpg.name}")
    other = run_paths("smoke", tmp_path / "runs", tmp_path / "figures", tmp_path / "data")
    files = SurveyFiles(**{k: Path(v) for k, v in {**survey.as_dict(), "images": str(zipped)}.items()})
    gz2.labels_stage(other, files)
    stage = s07.survey_stage(other.run)
    table = s07.read_survey(stage.path)
    assert len(table) == len(list(survey.images.glob("*.jpg")))
    assert all(p.startswith(str(stage.path)) and os.path.isfile(p) for p in table["image_path"])


def test_validation_holds_out_a_fraction_of_each_class_and_leaves_a_positive_to_train():
    labels = np.array([1] * 10 + [0] * 100)
    val = s07.validation_mask(labels, 0.2, seed=0)
    assert val[labels == 1].sum() == 2 and val[labels == 0].sum() == 20
    two = np.array([1, 1, 0, 0, 0])
    val = s07.validation_mask(two, 0.9, seed=0)
    assert val[two == 1].sum() == 1 and (~val[two == 1]).sum() == 1
    assert not np.array_equal(s07.validation_mask(labels, 0.2, 0), s07.validation_mask(labels, 0.2, 1))


def test_validation_needs_two_known_detgs():
    with pytest.raises(TooFewKnownDETGError, match="at least two"):
        s07.validation_mask(np.array([1, 0, 0, 0]), 0.5, seed=0)


def test_mistakes_are_missed_known_detgs_and_false_alarms_at_each_runs_threshold():
    predictions = pd.DataFrame({"objid": [1, 2, 3, 4], "label": [1, 1, 0, 0], "baseline-seed0": [0.9, 0.2, 0.7, 0.1]})
    runs = pd.DataFrame({"run": ["baseline-seed0"], "method": ["baseline"], "seed": [0], "threshold": [0.5]})
    wrong = s07.mistakes(predictions, runs, 0)["baseline"]
    assert wrong.set_index("objid")["kind"].to_dict() == {2: "missed", 3: "false alarm"}


def test_table3_puts_the_papers_values_beside_each_method():
    from galaxysd.classify.metrics import bootstrap_scores

    y = np.array([1, 1, 0, 0, 0, 0])
    rows = []
    for method, pred in (("baseline", [1, 0, 0, 0, 0, 0]), ("focal", [1, 1, 1, 0, 0, 0]), ("augmented", y)):
        rows.append(bootstrap_scores(y, [pred], n_resamples=50).rename_axis("score").reset_index()
                    .assign(method=method, multiple=float(method == "augmented"), task="D-ETG", against="label"))
    scores = pd.concat(rows, ignore_index=True)
    table = s07.table3(scores)
    assert table.loc["+ generated (ours)", "f1 (paper)"] == 0.66
    assert table.loc["focal loss", "completeness (paper)"] == 0.16
    assert table.loc["+ generated (ours)", "f1"].startswith("1.00")
    assert "1.00 -> " not in s07.verdict(scores) and s07.verdict(scores).startswith("0.67 -> 1.00")
