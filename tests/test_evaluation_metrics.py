"""Quality metrics on hand-made embeddings whose answers are known."""

import numpy as np
import pandas as pd
import pytest

from galaxysd.errors import DataError
from galaxysd.evaluation import distances as d
from galaxysd.evaluation import metrics as m


def _cloud(n=60, d=6, seed=0, shift=0.0):
    return np.random.default_rng(seed).normal(size=(n, d)) + shift


def test_realism_is_one_for_copies_and_zero_for_orthogonal_sets():
    real = _cloud()
    assert m.realism(real, real[:10]) == pytest.approx(1.0)
    a, b = np.eye(6)[:3], np.eye(6)[3:]
    assert m.realism(a, b) == pytest.approx(0.0)


def test_realism_in_chunks_equals_realism_at_once():
    real, gen = _cloud(200, 5, 1), _cloud(70, 5, 2)
    assert m.realism(real, gen, max_floats=300) == pytest.approx(m.realism(real, gen))
    sims = (m.unit_rows(gen) @ m.unit_rows(real).T).max(axis=1).mean()
    assert m.realism(real, gen) == pytest.approx(sims)


def test_diversity_is_the_mean_over_all_pairs():
    real, gen = _cloud(30, 4, 3), _cloud(20, 4, 4)
    direct = np.mean([[np.dot(x, y) / np.linalg.norm(x) / np.linalg.norm(y) for y in gen] for x in real])
    assert m.diversity(real, gen) == pytest.approx(direct)
    assert m.diversity(np.eye(3)[:1], np.eye(3)[1:]) == pytest.approx(0.0)
    same = np.tile([[1.0, 2.0]], (5, 1))
    assert m.diversity(same, same) == pytest.approx(1.0)


def test_consistency_counts_only_the_judges_the_condition_determines():
    answers = pd.DataFrame({"spiral": [True, True, False], "ring": [False, False, False], "bar": [True, False, True]})
    assert m.consistency(answers, {"spiral": True}) == pytest.approx(2 / 3)
    assert m.consistency(answers, {"spiral": True, "ring": False}) == pytest.approx((1 + 1 + 0.5) / 3)


def test_a_judge_that_was_never_trained_is_a_named_error():
    with pytest.raises(DataError, match="no judge was trained for \\['merger'\\]"):
        m.consistency(pd.DataFrame({"spiral": [True]}), {"merger": True})


def test_fid_is_zero_for_identical_sets_and_the_squared_shift_for_shifted_ones():
    real = _cloud(300, 4, 5)
    assert d.fid(real, real) == pytest.approx(0.0, abs=1e-6)
    assert d.fid(real, real + np.array([3.0, 0, 0, 4.0])) == pytest.approx(25.0, rel=1e-6)


def test_kid_is_near_zero_for_one_distribution_and_large_for_a_shifted_one():
    same, _ = d.kid(_cloud(400, 8, 6), _cloud(400, 8, 7), subset_size=200, n_subsets=5)
    far, _ = d.kid(_cloud(400, 8, 6), _cloud(400, 8, 7, shift=3.0), subset_size=200, n_subsets=5)
    assert abs(same) < 0.05 * far
    assert far > 1.0


def test_prdc_of_identical_sets_is_perfect_and_of_a_distant_set_is_nil():
    real = _cloud(100, 5, 8)
    same = d.prdc(real, real, k=5)
    assert same["precision"] == same["recall"] == same["coverage"] == 1.0
    assert same["density"] >= 1.0
    cone = _cloud(100, 5, 8, shift=5.0)  # unit vectors in one narrow cone; its mirror image is far away
    far = d.prdc(cone, -cone[:20], k=5)
    assert far["precision"] == far["density"] == far["coverage"] == far["recall"] == 0.0


def test_prdc_in_chunks_equals_prdc_at_once():
    real, gen = _cloud(80, 5, 10), _cloud(50, 5, 11)
    assert d.prdc(real, gen, k=3, max_floats=100) == pytest.approx(d.prdc(real, gen, k=3))


def test_copies_of_training_galaxies_are_flagged_and_fresh_draws_are_not():
    training, held = _cloud(200, 8, 12), _cloud(100, 8, 13)
    copies = d.memorisation(training, training[:30], held)
    assert copies["copy_fraction"] == 1.0 and copies["gen_median"] == pytest.approx(0.0, abs=1e-6)
    assert copies["p_value"] < 1e-6
    fresh = d.memorisation(training, _cloud(100, 8, 14), held)
    assert fresh["copy_fraction"] < 0.1 and fresh["p_value"] > 0.01


@pytest.mark.parametrize("bad, message", [(np.full((3, 4), np.nan), "NaN"), (np.ones(4), "2-d array"),
                                          (np.ones((3, 5)), "expected 4 features")])
def test_nan_and_wrong_shapes_are_named_errors(bad, message):
    with pytest.raises(DataError, match=message):
        m.realism(np.ones((3, 4)), bad)


def test_an_empty_condition_is_reported_not_divided_by_zero():
    real = _cloud(10, 3, 15)
    table = m.condition_table(real, {"A": np.ones(10, bool), "K": np.zeros(10, bool)}, real[:4], ["A", "A", "K", "K"])
    assert table.loc["K", "note"] == "no real galaxy carries its tags"
    assert np.isnan(table.loc["K", "realism"]) and table.loc["A", "realism"] == pytest.approx(1.0)
    assert m.global_means(table)["realism"] == pytest.approx(1.0)
    with pytest.raises(DataError, match="empty"):
        m.realism(real[:0], real)


def test_per_image_values_average_to_the_set_metrics_and_paired_changes_are_bounded():
    real, gen = _cloud(40, 4, 16), _cloud(12, 4, 17)
    values = m.per_image(real, gen)
    assert values.realism.mean() == pytest.approx(m.realism(real, gen))
    assert values.diversity.mean() == pytest.approx(m.diversity(real, gen))
    groups = ["A"] * 6 + ["B"] * 6
    change, low, high = m.paired_change(values.realism, values.realism + 0.1, groups)
    assert change == pytest.approx(0.1) and low == pytest.approx(0.1) and high == pytest.approx(0.1)
    noisy = values.realism + np.random.default_rng(0).normal(0, 0.05, 12)
    change, low, high = m.paired_change(values.realism, noisy, groups)
    assert low < change < high


def test_fid_of_a_small_set_in_many_dimensions_is_finite():
    assert np.isfinite(d.fid(_cloud(10, 30, 18), _cloud(8, 30, 19)))


def test_all_pairs_are_compared_in_chunks_so_memory_stays_far_below_the_full_matrix():
    import tracemalloc

    import scipy.stats  # noqa: F401  (imported first: the import's own allocations are not the metric's)

    real, gen = _cloud(4000, 32, 20), _cloud(2000, 32, 21)
    full_matrix = 4000 * 2000 * 8  # bytes of one float64 real x generated matrix: 64 MB
    tracemalloc.start()
    m.realism(real, gen, max_floats=1 << 18)
    d.prdc(real, gen, k=5, max_floats=1 << 18)
    d.memorisation(real[:3000], gen, real[3000:], max_floats=1 << 18)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < full_matrix / 3
