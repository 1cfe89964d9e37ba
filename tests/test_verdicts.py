"""Verdicts earned by their sample: a test and an interval, or "too few images to tell"."""

import numpy as np
import pytest

from galaxysd import verdicts


def test_two_groups_from_one_distribution_are_not_told_apart():
    rng = np.random.default_rng(0)
    diff = verdicts.compare(rng.normal(0, 1, 40), rng.normal(0, 1, 40))
    assert diff.sign() == 0 and diff.p_value > verdicts.ALPHA
    assert diff.low < 0 < diff.high
    assert verdicts.verdict(diff, "a is larger", "b is larger", "whether a is larger").startswith(
        "too few images to tell whether a is larger (median difference")


@pytest.mark.parametrize("shift, said", [(1.0, "a is larger"), (-1.0, "b is larger")])
def test_a_clear_difference_is_stated_with_its_interval_and_test(shift, said):
    rng = np.random.default_rng(1)
    diff = verdicts.compare(rng.normal(shift, 0.3, 20), rng.normal(0, 0.3, 20))
    assert diff.sign() == np.sign(shift) and diff.p_value < 1e-4
    assert diff.low < diff.difference < diff.high and (diff.low > 0 or diff.high < 0)
    text = verdicts.verdict(diff, "a is larger", "b is larger", "whether a is larger")
    assert text.startswith(said + " (median difference") and "n = 20 and 20" in text


def test_too_few_finite_values_give_no_test_whatever_the_medians():
    diff = verdicts.compare([10.0, 11.0, 12.0, 13.0, np.nan, np.nan], [0.0, 1.0, 2.0, 3.0, 4.0])
    assert (diff.n_a, diff.n_b) == (4, 5) and not diff.enough
    assert np.isnan(diff.p_value) and diff.sign() == 0
    assert verdicts.verdict(diff, "x", "y", "whether a is larger") == (
        "too few images to tell whether a is larger (n = 4 and 5; at least 5 each are needed)")


def test_the_interval_is_seeded():
    a, b = np.arange(10.0), np.arange(10.0) + 3
    assert verdicts.compare(a, b, seed=3) == verdicts.compare(a, b, seed=3)
