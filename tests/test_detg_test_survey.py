"""Chapter 07's D-ETG test survey: a second simulated survey read by the same code as the run's own."""

import json
from pathlib import Path

import numpy as np

from galaxysd import gz2
from galaxysd.detg import sample_experiment
from galaxysd.paths import run_paths
from galaxysd.stages import s01_data as s01
from galaxysd.stages import s07_detg_experiment as s07


def test_the_test_survey_holds_new_galaxies_with_their_known_list_and_truth(tmp_path):
    paths = run_paths("smoke", tmp_path / "runs", tmp_path / "figures", tmp_path / "data")
    survey = s01.survey_stage(paths, n_galaxies=200, image_size=24, seed=2, frame_r90=4.0, progress=False)
    s01.labels_stage(paths, survey)
    folder = s07.test_survey_stage(paths.run, 1500, progress=False)
    files = gz2.survey_of(paths.run)
    info = json.loads((folder / "survey" / "survey.json").read_text())
    assert (info["image_size"], info["frame_r90"], info["seed"]) == (24, 4.0, 2 + s07.TEST_SURVEY_SEED_OFFSET)
    frame = s07.read_test_survey(folder)
    assert len(frame) == info["n_images"] and all(Path(p).is_file() for p in frame["image_path"])
    # the known list is the dust-lane file matched to the table; the truth its truth table
    listed = gz2.catalog.read_known_detg(folder / "survey" / "dustlanes" / "Basic_Information.txt",
                                         frame["objid"], strict=False)[0]["objid"].astype(np.int64)
    assert set(frame.loc[frame["known_detg"], "objid"]) == set(listed) & set(frame["objid"])
    assert frame["known_detg"].sum() > 0 and (frame["true_detg"] | ~frame["known_detg"]).all()
    assert frame["true_detg"].sum() > frame["known_detg"].sum()
    own = s07.read_survey(s07.survey_stage(paths.run).path)
    assert len(set(frame["objid"]) & set(own["objid"])) <= 1  # new galaxies (a random objID may repeat)
    # the experiment's test set comes from it; the training set from the run's own survey
    split = sample_experiment(own["objid"], gz2.known_detg(paths.run), 1, 5, seed=0,
                              test_pool=(frame["objid"], frame.loc[frame["known_detg"], "objid"]))
    assert set(split.test_ids) <= set(frame["objid"]) and set(split.train_ids) <= set(own["objid"])
    # what the chapter uses: both surveys' images, the test survey as the test pool, both truths
    galaxies = s07.experiment_galaxies(paths.run, own, gz2.true_detg(paths.run), 1500)
    assert galaxies.stage == folder and galaxies.images["objid"].is_unique
    assert len(galaxies.images) == len(own) + len(set(frame["objid"]) - set(own["objid"]))
    assert set(galaxies.test_pool[1]) == set(frame.loc[frame["known_detg"], "objid"]) - set(own["objid"])
    assert set(galaxies.truth) == set(gz2.true_detg(paths.run)) | set(frame.loc[frame["true_detg"], "objid"])
    on_own = s07.experiment_galaxies(paths.run, own, gz2.true_detg(paths.run), 0)
    assert on_own.stage is None and on_own.test_pool is None and len(on_own.images) == len(own)
    assert s07.experiment_galaxies(paths.run, own, None, 1500).truth is None  # real data: no truth, no test survey
    assert s07.test_survey_stage(paths.run, 1500, progress=False) == folder  # cached
    assert s07.test_survey_stage(paths.run, 0) is None
    assert files.truth.is_file()


def test_what_each_method_calls_a_detg_and_what_its_false_alarms_are(tmp_path):
    import pandas as pd

    n = 400
    objid = np.arange(n) + 1000
    label = (np.arange(n) < 8).astype(int)
    truth = label.copy()
    kinds = pd.Series(np.where(np.arange(n) % 2 == 0, "elliptical", "disk"), index=objid)
    base = label * 0.9  # finds the known ones, calls nothing else
    aug = np.where((np.arange(n) % 2 == 1) & (np.arange(n) < 200), 0.8, base)  # 96 disks called
    pd.DataFrame({"objid": objid, "label": label, "truth": truth, "baseline-seed0": base,
                  "augmented-seed0": aug}).to_csv(tmp_path / "predictions.csv", index=False)
    pd.DataFrame({"run": ["baseline-seed0", "augmented-seed0"], "method": ["baseline", "augmented"],
                  "threshold": [0.5, 0.5]}).to_csv(tmp_path / "runs.csv", index=False)
    called = s07.called_detg(tmp_path, kinds)
    assert called.loc["baseline", "called_n"] == 8 and called.loc["augmented", "called_n"] == 8 + 96
    assert called.loc["augmented", "ratio"] == 13 and called.loc["augmented", "false_alarms_elliptical"] == 0
    assert np.isclose(called.loc["augmented", "others_elliptical"], 0.5)
    text = s07.called_sentence(called)
    assert text.startswith("the augmented classifiers call 104 of the 400 test galaxies D-ETGs (13.0 times")
    assert "did not learn \"early type\"" in text and "mostly in disks" in text
    # the other way round: false alarms that are all ellipticals
    aug = np.where((np.arange(n) % 2 == 0) & (np.arange(n) < 200), 0.8, base)
    frame = pd.read_csv(tmp_path / "predictions.csv").assign(**{"augmented-seed0": aug})
    frame.to_csv(tmp_path / "predictions.csv", index=False)
    assert "learnt to call early types D-ETGs" in s07.called_sentence(s07.called_detg(tmp_path, kinds))
    assert "ellipticals" not in s07.called_sentence(s07.called_detg(tmp_path))  # real data: no kinds
