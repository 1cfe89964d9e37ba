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
from galaxysd.stages import s01_data as s01
from galaxysd.stages import s07_detg_experiment as s07


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("detg_stages")
    paths = run_paths("smoke", root / "runs", root / "figures", root / "data")
    survey = s01.survey_stage(paths, n_galaxies=120, image_size=24, seed=2, progress=False)
    s01.labels_stage(paths, survey)
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
    s01.labels_stage(other, files)
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


def test_first_training_set_takes_generated_positives_and_random_galaxies_without_repeats():
    from galaxysd.errors import ParameterError
    from galaxysd.stages import s08_detg_catalog as s08

    survey = pd.DataFrame({"objid": np.arange(100, 150), "image_path": ["x"] * 50})
    made = pd.DataFrame({"sample_id": [f"DETG1-{i:04d}" for i in range(10)], "path": ["g"] * 10})
    ids, labels = s08.first_training_set(survey, made, 4, 20, seed=1)
    assert list(ids[:4]) == [f"DETG1-{i:04d}" for i in range(4)] and labels[:4].tolist() == [1] * 4
    assert len(set(ids[4:])) == 20 and set(ids[4:]) <= set(range(100, 150)) and labels[4:].sum() == 0
    assert list(s08.first_training_set(survey, made, 4, 20, seed=1)[0]) == list(ids)
    with pytest.raises(ParameterError, match="07_detg_experiment.n_generated"):
        s08.first_training_set(survey, made, 11, 20)


def test_inspection_step_refuses_simulated_inspection_without_truth_and_files_without_inspectors():
    from galaxysd.errors import ParameterError
    from galaxysd.stages import s08_detg_catalog as s08

    with pytest.raises(ParameterError, match="truth"):
        s08.inspection_step("simulated", None, [(0.1, 0.1, 0.1)])
    with pytest.raises(ParameterError, match="inspectors"):
        s08.inspection_step("files", verdict_dir="v", inspectors=[])
    with pytest.raises(ParameterError, match="expected one of"):
        s08.inspection_step("psychic")
    step = s08.inspection_step("simulated", [1, 2], [(0.0, 0.0, 0.0)] * 3)
    verdicts = step(pd.DataFrame({"objid": [1, 3]}), 1, Path("."))
    assert verdicts.groupby("objid")["verdict"].apply(set).to_dict() == {1: {"yes"}, 3: {"no"}}


def test_control_pool_is_early_types_that_are_not_detgs():
    from galaxysd.stages import s08_detg_catalog as s08

    catalog = pd.DataFrame({"objid": [1, 2, 3, 4], "z": [0.1] * 4, "logmstar": [10.0] * 4,
                            "tags": ["smooth|completely round galaxy", "in-between round galaxy|dust lane",
                                     "spiral galaxy", "smooth|in-between round galaxy"]})
    assert s08.control_pool(catalog, exclude=[2]).objid.tolist() == [1, 4]


def test_waiting_candidates_names_what_to_do_when_nothing_waits(tmp_path):
    from galaxysd.errors import DataError
    from galaxysd.stages import s08_detg_catalog as s08

    with pytest.raises(DataError, match="inspection='files'"):
        s08.waiting_candidates(tmp_path)
    waiting = tmp_path / s08.STAGE / ".search.partial-abc" / "work" / "iter2" / "to_inspect.csv"
    waiting.parent.mkdir(parents=True)
    waiting.write_text("objid\n1\n")
    assert s08.waiting_candidates(tmp_path) == waiting


def test_search_with_peoples_verdicts_stops_naming_the_file_then_goes_on_once_they_are_written(run, tmp_path):
    from galaxysd.classify.train import TrainConfig
    from galaxysd.detg import VerdictsMissingError, write_verdicts
    from galaxysd.stages import s08_detg_catalog as s08

    paths, _ = run
    survey = s07.read_survey(s07.survey_stage(paths.run).path)
    fake = survey.head(8)   # stand-ins for generated images: the search only needs files
    made = pd.DataFrame({"sample_id": [f"DETG1-{i:04d}" for i in range(8)], "path": fake["image_path"].tolist()})
    ids, labels = s08.first_training_set(survey, made, 6, 6, seed=0)
    config = TrainConfig(epochs=1, batch_size=4, eval_batch_size=64)
    params = {"test": 1}
    train = s08.make_trainer(tmp_path / "models", survey, made, config, 16, 0.34, 0)
    inspect = s08.inspection_step("files", verdict_dir=tmp_path / "verdicts", inspectors=["ann", "bob"],
                                  command="rerun the chapter")
    args = (paths.run, train, inspect, survey["objid"], ids, labels, params)
    kw = dict(n_iterations=2, threshold=0.0, max_candidates=5, batch_size=50, progress=False,
              inputs=[paths.run / s07.STAGE / "survey"])
    for round_ in (1, 2, 3):
        try:
            stage = s08.search_stage(*args, **kw)
            break
        except VerdictsMissingError as stop:
            assert "to_inspect.csv" in str(stop) and "rerun the chapter" in str(stop)
            waiting = s08.waiting_candidates(paths.run)
            objids = pd.read_csv(waiting)["objid"]
            for name in ("ann", "bob"):
                write_verdicts(pd.DataFrame({"objid": objids, "inspector": name, "verdict": "yes",
                                             "time": "2026-12-01T00:00:00+00:00"}),
                               tmp_path / "verdicts" / waiting.parent.name / f"{name}.csv")
    else:
        pytest.fail("the search never finished")
    result = s08.read_search(stage.path)
    assert round_ >= 2 and list(result.iterations.index) == [1, 2]
    assert result.iterations.loc[1, "candidates"] == 5 and result.iterations.loc[1, "confirmed"] == 5
    assert set(result.confirmed()) == set(result.verdicts["objid"])
    assert s08.search_stage(*args, **kw).hit


def test_a_verdict_changed_after_a_finished_search_gives_a_changed_catalogue(run, tmp_path):
    from galaxysd.classify.train import TrainConfig
    from galaxysd.detg import build_catalogue, write_verdicts
    from galaxysd.stages import s08_detg_catalog as s08

    paths, _ = run
    survey = s07.read_survey(s07.survey_stage(paths.run).path)
    made = pd.DataFrame({"sample_id": [f"DETG1-{i:04d}" for i in range(8)], "path": survey.head(8)["image_path"].tolist()})
    ids, labels = s08.first_training_set(survey, made, 6, 6, seed=0)
    train = s08.make_trainer(tmp_path / "models", survey, made, TrainConfig(epochs=1, batch_size=4, eval_batch_size=64),
                             16, 0.34, 0)
    released = tmp_path / "released.csv"   # verdicts covering the whole survey, as the authors' catalogue would
    objids = np.repeat(survey["objid"].to_numpy(), 2)
    verdicts = pd.DataFrame({"objid": objids, "inspector": ["ann", "bob"] * len(survey), "verdict": "yes",
                             "time": "2026-12-01T00:00:00+00:00"})
    write_verdicts(verdicts, released)

    def search():
        inspect = s08.inspection_step("supplied", supplied=[released])
        stage = s08.search_stage(tmp_path / "run", train, inspect, survey["objid"], ids, labels, {"test": 2},
                                 n_iterations=1, threshold=0.0, max_candidates=5, batch_size=50, progress=False,
                                 inputs=[paths.run / s07.STAGE / "survey"])
        result = s08.read_search(stage.path)
        catalogue = build_catalogue(result.confirmed(), survey[["objid", "ra", "dec"]], result.scores,
                                    result.decisions, [], {"PROFILE": "smoke", "MODELDIG": "m", "DATADIG": "d"})
        return stage, set(catalogue["objid"])

    first, before = search()
    assert len(before) == 5 and search()[0].hit   # the same verdicts: the finished search is loaded
    rejected = sorted(before)[0]
    verdicts.loc[verdicts["objid"] == rejected, "verdict"] = "no"   # both inspectors change their mind
    write_verdicts(verdicts, released)
    again, after = search()
    assert not again.hit and after == before - {rejected}
    assert search()[0].hit


def test_truth_summary_gives_completeness_and_purity_with_binomial_intervals():
    from galaxysd.stages import s08_detg_catalog as s08

    truth = {"n_true": 12, "n_true_searched": 10, "n_known": 4, "n_known_true": 4, "known_misses": 8,
             "known_misses_searched": 7}
    iterations = pd.DataFrame({"completeness": [0.1, 0.3], "confirmed_total": [1, 5], "true_found_unknown": [0, 2]},
                              index=pd.Index([1, 2], name="iteration"))
    summary = s08.truth_summary(truth, iterations)
    assert summary["completeness of the confirmed set"].startswith("0.30 (68 % interval")
    assert summary["completeness of the confirmed set"].endswith("3 of 10)")
    assert summary["purity of the confirmed set"].startswith("0.60") and "3 of 5" in summary["purity of the confirmed set"]
    low, high = map(float, summary["purity of the confirmed set"].split("interval ")[1].split(";")[0].split("-"))
    assert low < 0.6 < high
    assert s08.fraction_interval(0, 0).startswith("undefined")
