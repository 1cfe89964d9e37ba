"""The check that a linear head judges as well as a ResNet-18 of its own: paired intervals, verdicts, the stage."""

import numpy as np
import pandas as pd
import pytest

from galaxysd.errors import ParameterError
from galaxysd.evaluation import judge_check as jc
from galaxysd.evaluation.judges import JUDGE_FEATURES, fit_judges
from galaxysd.evaluation.probe import bootstrap_balanced_accuracy, split_indices, tag_matrix


def _labels(n=200, seed=0):
    return np.random.default_rng(seed).permutation(np.arange(n) % 2 == 0)


def test_identical_answers_are_as_good_with_a_zero_width_difference_interval():
    y = _labels()
    answers = y ^ (np.arange(len(y)) % 5 == 0)  # wrong on a fifth of the galaxies, the same ones for both
    row = jc.compare_judges(y, answers, answers.copy(), n_resamples=300)
    assert row["verdict"] == "as good"
    assert row["difference"] == row["difference_low"] == row["difference_high"] == 0.0
    assert row["head"] == row["network"] and row["head_low"] < row["head"] < row["head_high"]


def test_a_head_right_half_as_often_as_its_network_is_worse():
    y = _labels(seed=1)
    network = y.copy()  # right on every galaxy
    head = np.where(np.random.default_rng(2).random(len(y)) < 0.5, y, ~y)  # right on about half
    row = jc.compare_judges(y, head, network, n_resamples=300)
    assert row["verdict"] == "worse"
    assert row["network"] == 1.0 and row["difference_high"] < 0 and abs(row["head"] - 0.5) < 0.1


def test_a_head_ahead_of_its_network_counts_as_good():
    y = _labels(seed=3)
    row = jc.compare_judges(y, y, ~y, n_resamples=200)
    assert row["verdict"] == "as good" and row["difference_low"] > 0


def test_too_few_held_out_positives_or_a_missing_judge_give_no_verdict():
    y = np.zeros(100, bool)
    y[: jc.MIN_HELD_OUT - 1] = True
    row = jc.compare_judges(y, y, y)
    assert row["verdict"] == "too few to tell" and np.isnan(row["difference"])
    assert row["n_tagged_test"] == jc.MIN_HELD_OUT - 1
    assert jc.compare_judges(_labels(), None, _labels())["verdict"] == "too few to tell"


def test_the_paired_bootstrap_scores_both_judges_on_the_same_resamples():
    y = _labels(seed=4)
    a = y ^ (np.arange(len(y)) % 3 == 0)
    both = bootstrap_balanced_accuracy(y, [a, a, y], n_boot=250)
    assert both.shape[0] == 3 and 240 <= both.shape[1] <= 250
    assert np.array_equal(both[0], both[1]) and (both[2] == 1.0).all()
    assert bootstrap_balanced_accuracy(y, [a], n_boot=250, chunk=7).tolist() == both[:1].tolist()


def test_an_unknown_feature_is_a_parameter_error_naming_it_and_the_valid_ones():
    with pytest.raises(ParameterError, match=r"\['spiral'\] are not judged features.*'spiral galaxy'"):
        jc.resolve_features(["spiral galaxy", "spiral"])
    assert jc.resolve_features(["all"]) == list(JUDGE_FEATURES)
    assert jc.resolve_features(["ring", "ring"]) == ["ring"]
    assert jc.resolve_features([]) == []


def test_the_networks_fit_and_validate_on_disjoint_parts_of_the_judges_training_part():
    train, test = split_indices(300, 0.3, 0)
    fit, val = jc.training_parts(train, 0.2, max_train=100, seed=1)
    assert len(val) == 42 and len(fit) == 100
    assert not set(fit) & set(val) and set(fit) | set(val) <= set(train) and not set(val) & set(test)
    fit_all, _ = jc.training_parts(train, 0.2)
    assert len(fit_all) == len(train) - 42
    with pytest.raises(ParameterError, match="check_val_fraction"):
        jc.training_parts(train, 0.0)


def test_the_summary_counts_verdicts_and_the_largest_loss_allowed():
    table = pd.DataFrame({"verdict": ["as good", "worse", "too few to tell", "as good"],
                          "difference_low": [-0.03, -0.2, np.nan, 0.01]})
    summary = jc.check_summary(table)
    assert (summary["n_checked"], summary["n_as_good"], summary["n_worse"], summary["n_too_few"]) == (4, 2, 1, 1)
    assert summary["largest_loss"] == pytest.approx(0.03)  # over the heads called as good


def _tiny_run(run, n=160, seed=0):
    """A run folder with 01's labelled catalogue, 16-pixel images and 04's embeddings: spirals are bright."""
    from PIL import Image
    from safetensors.numpy import save_file

    from galaxysd.gz2.catalog import CATALOG_NAME, LABELS_STAGE

    rng = np.random.default_rng(seed)
    spiral = rng.random(n) < 0.5
    ring = np.arange(n) < 4  # too few for a verdict
    (run / "images").mkdir(parents=True)
    paths = []
    for i in range(n):
        pixels = rng.integers(0, 60, (16, 16, 3)) + (150 if spiral[i] else 0)
        paths.append(str(run / "images" / f"{i}.png"))
        Image.fromarray(pixels.astype(np.uint8)).save(paths[-1])
    tags = ["|".join(t for t, on in (("spiral galaxy", s), ("ring", r)) if on) or "smooth" for s, r in zip(spiral, ring)]
    objid = np.arange(1000, 1000 + n, dtype=np.int64)
    labels = run / LABELS_STAGE
    labels.mkdir(parents=True)
    pd.DataFrame({"objid": objid, "tags": tags, "image_path": paths, "n_tags": 1}).to_csv(labels / CATALOG_NAME,
                                                                                        index=False)
    vectors = rng.normal(size=(n, 8)).astype(np.float32)
    vectors[:, 0] += 3 * spiral
    (run / "04_embedding" / "embed").mkdir(parents=True)
    save_file({"embedding": vectors, "objid": objid}, str(run / "04_embedding" / "embed" / "embeddings.safetensors"))
    return vectors, tags


@pytest.mark.slow
def test_the_stage_checks_each_judge_on_the_judges_own_held_out_galaxies(tmp_path):
    from galaxysd.classify.train import TrainConfig
    from galaxysd.paths import run_paths
    from galaxysd.stages import s05_quality as s05

    run = tmp_path / "run"
    vectors, tags = _tiny_run(run)
    judges = fit_judges(vectors, tag_matrix(tags, JUDGE_FEATURES), 0.3, 0, min_positive=3)
    judges.save(run / "05_quality" / "judges" / "judges.json")
    paths = run_paths("smoke", str(run), str(tmp_path / "figures"), str(tmp_path / "data"))
    config = TrainConfig(epochs=1, batch_size=16, cpu=True, num_threads=1)
    table = s05.judge_check_stage(paths, judges, ["spiral galaxy", "ring"], config, 16, 0.3, 0, 0.25, 60,
                                  n_resamples=200, progress=False)
    assert list(table.index) == ["spiral galaxy", "ring"]
    spiral = table.loc["spiral galaxy"]
    assert spiral["head"] == pytest.approx(judges.report.loc["spiral galaxy", "balanced_accuracy"])
    assert spiral["verdict"] in ("as good", "worse") and spiral["n_fit"] == 60
    assert table.loc["ring", "verdict"] == "too few to tell" and np.isnan(table.loc["ring", "network"])
    stage = run / "05_quality" / "judge_check"
    _, test = split_indices(len(tags), 0.3, 0)
    predictions = pd.read_csv(stage / "predictions.csv")
    assert predictions["objid"].tolist() == (1000 + test).tolist()
    assert s05.stage_timing(stage)["seconds"] > 0 and len(list((stage / "features").iterdir())) == 1
    again = s05.judge_check_stage(paths, judges, ["spiral galaxy", "ring"], config, 16, 0.3, 0, 0.25, 60,
                                  n_resamples=200, progress=False)
    pd.testing.assert_frame_equal(again, table)
    with pytest.raises(ParameterError, match="'bars'"):
        s05.judge_check_stage(paths, judges, ["bars"], config, 16)


def test_the_sentences_name_a_worse_head_and_say_when_the_check_did_not_run():
    y = _labels(seed=5)
    head = np.where(np.random.default_rng(6).random(len(y)) < 0.5, y, ~y)
    table = pd.DataFrame([jc.compare_judges(y, y, y, n_resamples=200), jc.compare_judges(y, head, y, n_resamples=200)],
                         index=["spiral galaxy", "ring"])
    words = jc.check_sentences(table)
    assert "as good as a ResNet-18 of its own on 1" in words["check_sentence"] and "worse on 1" in words["check_sentence"]
    assert "The head for ring loses" in words["check_sentence"] and "consistency" in words["check_sentence"]
    assert words["check_short"].startswith("1 of 2 checked heads")
    assert "not run" in jc.check_sentences(pd.DataFrame())["check_sentence"]
    shown = jc.display_table(table)
    assert shown.loc["spiral galaxy", "difference (head - network)"] == "+0.00 (+0.00 to +0.00)"
    assert shown.loc["ring", "verdict"] == "worse"


def test_the_sentences_say_how_far_a_head_called_as_good_may_trail():
    rows = {"spiral galaxy": {"verdict": "as good", "difference_low": -0.04, "n_tagged_test": 50},
            "ring": {"verdict": "as good", "difference_low": 0.02, "n_tagged_test": 50}}
    assert "trail their networks by up to 0.04" in jc.check_sentences(pd.DataFrame(rows).T)["check_sentence"]
    ahead = jc.check_sentences(pd.DataFrame(rows).T.loc[["ring"]])["check_sentence"]
    assert "level with or ahead of its network" in ahead


@pytest.mark.slow
def test_the_paper_route_checks_all_judges_reading_images_from_files(tmp_path):
    from galaxysd.classify.train import TrainConfig
    from galaxysd.paths import run_paths
    from galaxysd.stages import s05_quality as s05

    run = tmp_path / "run"
    vectors, tags = _tiny_run(run, n=120, seed=1)
    judges = fit_judges(vectors, tag_matrix(tags, JUDGE_FEATURES), 0.3, 0, min_positive=3)
    judges.save(run / "05_quality" / "judges" / "judges.json")
    paths = run_paths("paper", str(run), str(tmp_path / "figures"), str(tmp_path / "data"))
    config = TrainConfig(epochs=1, batch_size=16, cpu=True, num_threads=1, num_workers=1)
    table = s05.judge_check_stage(paths, judges, ["all"], config, 16, 0.3, 0, 0.25, 40, n_resamples=100,
                                  progress=False)
    assert list(table.index) == list(JUDGE_FEATURES)
    assert table.loc["spiral galaxy", "verdict"] in ("as good", "worse")
    assert (table.drop(index="spiral galaxy")["verdict"] == "too few to tell").all()
    assert len(list((run / "05_quality" / "judge_check" / "features").iterdir())) == 1


def test_the_sentences_say_how_wide_the_held_out_galaxies_make_the_interval():
    rows = {"spiral galaxy": {"verdict": "as good", "difference_low": -0.04, "difference_high": 0.02, "n_tagged_test": 50},
            "ring": {"verdict": "as good", "difference_low": 0.02, "difference_high": 0.10, "n_tagged_test": 180},
            "bar": {"verdict": "too few to tell", "difference_low": -0.5, "difference_high": 0.5, "n_tagged_test": 3}}
    text = jc.check_sentences(pd.DataFrame(rows).T)["check_sentence"]
    assert "(50 to 180 carrying each checked feature) bound the difference's interval to ±0.04 at most" in text
