"""Splits, losses, the decision threshold and bootstrap scores of the classifiers (Table 2)."""

import math

import numpy as np
import pandas as pd
import pytest
import torch

from galaxysd.classify import losses, metrics, splits
from galaxysd.errors import DataError, ParameterError


def test_split_holds_a_tenth_for_testing_and_a_tenth_of_the_rest_for_validation():
    parts = splits.split_sample(2000, seed=3)
    assert (parts == "test").sum() == 200 and (parts == "val").sum() == 180 and (parts == "train").sum() == 1620
    assert not np.array_equal(parts, splits.split_sample(2000, seed=4))
    assert np.array_equal(parts, splits.split_sample(2000, seed=3))


def test_split_rejects_a_fraction_outside_zero_to_one():
    with pytest.raises(ParameterError, match="test_fraction"):
        splits.split_sample(10, test_fraction=1.0)


def test_training_set_keeps_the_positive_fraction_with_the_negatives_asked_for():
    rng = np.random.default_rng(0)
    y = (rng.random(5000) < 0.3).astype(float)
    parts = splits.split_sample(len(y), seed=0)
    chosen = splits.training_set(y, parts, n_negatives=1000, fraction=0.3, seed=1)
    assert chosen.n_negative == 1000 and chosen.n_positive == round(0.3 / 0.7 * 1000)
    assert np.all(parts[chosen.rows] == "train")
    assert y[chosen.rows].mean() == pytest.approx(0.3, abs=0.001)
    assert len(set(chosen.rows)) == len(chosen.rows)


def test_training_set_shrinks_keeping_the_fraction_when_positives_are_scarce():
    y = np.array([1.0] * 10 + [0.0] * 1000)
    chosen = splits.training_set(y, np.full(len(y), "train"), n_negatives=500, fraction=0.1)
    assert chosen.n_positive == 10 and chosen.n_negative == 90


def test_a_task_without_positives_in_the_training_part_is_a_named_error():
    y = np.array([0.0] * 20 + [1.0] * 2)
    parts = np.array(["train"] * 20 + ["test"] * 2)
    with pytest.raises(DataError, match="'bar'.*no positives"):
        splits.training_set(y, parts, 10, 0.1, task="bar")


def test_negatives_are_every_non_positive_or_only_confident_answers():
    cat = pd.DataFrame({"conf_t03_bar_a06_bar": [True, False, False],
                        "conf_t03_bar_a07_no_bar": [False, True, False]})
    assert splits.task_labels(cat, "bar").tolist() == [1.0, 0.0, 0.0]
    confident = splits.task_labels(cat, "bar", negatives="confident")
    assert confident.iloc[:2].tolist() == [1.0, 0.0] and math.isnan(confident.iloc[2])
    assert splits.positive_fraction(confident) == 0.5


def test_the_true_bulge_task_counts_only_face_on_discs_with_a_prominent_bulge():
    truth = pd.DataFrame({"kind": ["disk", "disk", "elliptical", "disk"], "edge_on": ["False", "True", "False", "False"],
                          "bulge_class": ["obvious", "dominant", "dominant", "just_noticeable"]})
    assert splits.task_truth(truth, "bulge").tolist() == [True, False, False, False]


def test_focal_loss_matches_a_hand_computed_value():
    # logit ln 3: p = 0.75. Positive: -0.25 * (0.25)**2 * ln 0.75; negative: -0.75 * (0.75)**2 * ln 0.25.
    logits = torch.tensor([math.log(3.0), math.log(3.0)])
    targets = torch.tensor([1.0, 0.0])
    expected = [-0.25 * 0.25 ** 2 * math.log(0.75), -0.75 * 0.75 ** 2 * math.log(0.25)]
    got = losses.sigmoid_focal_loss(logits, targets, alpha=0.25, gamma=2.0, reduction="none")
    assert got.tolist() == pytest.approx(expected, rel=1e-6)
    assert float(losses.sigmoid_focal_loss(logits, targets)) == pytest.approx(sum(expected) / 2, rel=1e-6)


def test_focal_loss_without_focusing_or_weighting_is_cross_entropy():
    logits, targets = torch.randn(16), (torch.rand(16) > 0.5).float()
    plain = torch.nn.functional.binary_cross_entropy_with_logits(logits, targets)
    assert float(losses.sigmoid_focal_loss(logits, targets, alpha=-1, gamma=0.0)) == pytest.approx(float(plain))
    with pytest.raises(ParameterError, match="loss='hinge'"):
        losses.loss_function("hinge")


def test_threshold_is_the_validation_score_with_the_best_f1():
    y = [0, 0, 0, 1, 1, 0, 1]
    s = [0.1, 0.2, 0.3, 0.4, 0.6, 0.65, 0.9]
    # >= 0.4: tp 3, fp 1 -> F1 6/7; >= 0.6: tp 2, fp 1 -> 4/5; >= 0.9: 1/2; >= 0.3: 3/4 * ... 6/8
    assert metrics.choose_threshold(y, s) == 0.4
    with pytest.raises(DataError, match="no positives"):
        metrics.choose_threshold([0, 0], [0.1, 0.2])


def test_scores_of_a_hand_made_prediction_set():
    got = metrics.binary_scores([1, 1, 1, 0, 0, 0], [1, 1, 0, 1, 0, 0])
    assert got == pytest.approx({"purity": 2 / 3, "completeness": 2 / 3, "f1": 2 / 3})


def test_bootstrap_interval_brackets_the_value_and_vanishes_for_perfect_predictions():
    y = np.array([1] * 30 + [0] * 70)
    perfect = metrics.bootstrap_scores(y, [y], n_resamples=200)
    assert perfect[["value", "low", "high"]].to_numpy() == pytest.approx(np.ones((3, 3)))
    noisy = y.copy()
    noisy[:10] = 0  # ten missed positives: completeness 2/3, purity 1
    table = metrics.bootstrap_scores(y, [noisy, y], n_resamples=500, seed=1)
    assert table.loc["completeness", "value"] == pytest.approx((2 / 3 + 1) / 2)
    assert table.loc["completeness", "seed_std"] == pytest.approx(np.std([2 / 3, 1], ddof=1))
    low, high = table.loc["completeness", ["low", "high"]]
    assert low < table.loc["completeness", "value"] < high and high - low < 0.2
    assert metrics.bootstrap_scores(y, [noisy, y], n_resamples=500, seed=1).equals(table)


def test_bootstrap_agrees_with_scikit_learn_on_the_value():
    rng = np.random.default_rng(2)
    y, p = (rng.random(300) < 0.2).astype(int), (rng.random(300) < 0.25).astype(int)
    table = metrics.bootstrap_scores(y, [p], n_resamples=100)
    assert table["value"].to_dict() == pytest.approx(metrics.binary_scores(y, p))
