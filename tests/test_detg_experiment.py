"""The 1:100 sampling of the D-ETG experiment."""

import numpy as np
import pytest

from galaxysd.detg.experiment import (NoKnownDETGError, TooFewKnownDETGError, hidden_positives,
                                      method_training_sets, sample_experiment, score_test_set)
from galaxysd.errors import DataError, ParameterError


def _survey(n=5000, n_known=40, seed=0):
    rng = np.random.default_rng(seed)
    ids = 587722981741363000 + rng.choice(10 ** 9, n, replace=False).astype(np.int64)
    return ids, rng.choice(ids, n_known, replace=False)


def test_training_set_holds_n_known_and_ratio_times_as_many_others():
    ids, known = _survey()
    split = sample_experiment(ids, known, n_train_known=10, ratio=100, seed=1)
    assert split.train_labels.sum() == 10
    assert (split.train_labels == 0).sum() == 1000
    assert set(split.train_ids[split.train_labels == 1]) <= set(known)
    assert not set(split.train_ids[split.train_labels == 0]) & set(known)


def test_test_set_holds_every_held_out_known_detg_at_the_same_ratio():
    ids, known = _survey()
    split = sample_experiment(ids, known, n_train_known=10, ratio=100, seed=1)
    assert split.test_labels.sum() == 30
    assert (split.test_labels == 0).sum() == 3000
    assert not set(split.train_ids) & set(split.test_ids)
    assert set(split.train_ids[split.train_labels == 1]) | set(split.test_ids[split.test_labels == 1]) == set(known)


def test_sampling_is_seeded():
    ids, known = _survey()
    a = sample_experiment(ids, known, 10, 50, seed=3)
    b = sample_experiment(ids, known, 10, 50, seed=3)
    c = sample_experiment(ids, known, 10, 50, seed=4)
    assert np.array_equal(a.train_ids, b.train_ids) and np.array_equal(a.test_ids, b.test_ids)
    assert not np.array_equal(a.train_ids, c.train_ids)


def test_known_detgs_without_image_are_counted_not_used():
    ids, known = _survey()
    listed = np.concatenate([known, [1, 2, 3]])
    split = sample_experiment(ids, listed, 10, 10, seed=0)
    assert split.counts["n_known_without_image"] == 3
    assert split.counts["n_known_with_image"] == 40
    assert not {1, 2, 3} & set(split.train_ids) | set(split.test_ids) & {1, 2, 3}


def test_excluded_galaxies_are_never_drawn_as_others():
    ids, known = _survey(n=800)
    exclude = ids[:200]
    split = sample_experiment(ids, known, 5, 10, test_ratio=5, exclude=exclude, seed=0)
    others = np.concatenate([split.train_ids[split.train_labels == 0], split.test_ids[split.test_labels == 0]])
    assert not set(others) & set(exclude)


def test_a_survey_without_known_detgs_raises_a_named_error():
    ids, _ = _survey()
    with pytest.raises(NoKnownDETGError, match="no known D-ETG"):
        sample_experiment(ids, [], 10, 100)
    assert issubclass(NoKnownDETGError, DataError)


def test_too_few_known_detgs_for_training_and_testing_raises():
    ids, known = _survey(n_known=10)
    with pytest.raises(TooFewKnownDETGError, match="n_train_known=10"):
        sample_experiment(ids, known, n_train_known=10, ratio=5)


def test_too_few_others_for_the_ratio_raises_a_parameter_error():
    ids, known = _survey(n=500, n_known=20)
    with pytest.raises(ParameterError, match="ratio=100"):
        sample_experiment(ids, known, n_train_known=10, ratio=100)


def test_hidden_positives_counts_true_detgs_labelled_other():
    ids, known = _survey()
    split = sample_experiment(ids, known, 10, 20, seed=0)
    hidden = split.train_ids[split.train_labels == 0][:4]
    assert hidden_positives(split, np.concatenate([known, hidden])) == {"train": 4, "test": 0}


def test_the_augmented_method_trains_on_the_same_set_plus_generated_positives():
    ids, known = _survey()
    split = sample_experiment(ids, known, 10, 20, seed=0)
    sets = method_training_sets(split, ["gen-1", "gen-2"])
    assert len(sets["augmented"][0]) == len(sets["baseline"][0]) + 2
    assert sets["augmented"][1].sum() == 12 and sets["baseline"][1].sum() == 10
    assert np.array_equal(sets["focal"][0], sets["baseline"][0])


def test_each_method_scores_the_test_galaxies_with_its_own_training_set():
    ids, known = _survey()
    split = sample_experiment(ids, known, 10, 20, seed=0)
    seen = {}

    def trainer(name):
        def train(ids, labels):
            seen[name] = len(ids)
            return lambda objids: np.full(len(objids), float(len(ids)))
        return train

    scores = score_test_set(split, {m: trainer(m) for m in ("baseline", "augmented")},
                              method_training_sets(split, ["g"] * 5))
    assert seen == {"baseline": 210, "augmented": 215}
    assert (scores.score_augmented == 215).all() and scores.label.sum() == 30


def test_the_oracle_takes_true_detgs_outside_the_training_and_test_sets():
    from galaxysd.detg.experiment import oracle_positives

    ids, known = _survey()
    split = sample_experiment(ids, known, 10, 20, n_test_known=15, seed=0)
    hidden = np.setdiff1d(ids, np.union1d(split.train_ids, split.test_ids))[:30]
    in_test = split.test_ids[split.test_labels == 0][:3]     # true D-ETGs hiding among the test's others
    truth = np.concatenate([known, hidden, in_test])
    picked, why = oracle_positives(split, ids, 20, truth, seed=1)
    assert len(picked) == 20 and why == ""
    assert not np.isin(picked, split.test_ids).any() and not np.isin(picked, split.train_ids).any()
    assert np.isin(picked, truth).all()
    sets = method_training_sets(split, ["gen"] * 20, picked)
    assert sets["oracle"][1].sum() == sets["augmented"][1].sum() == 30
    assert "oracle" not in method_training_sets(split, ["gen"])


def test_without_truth_the_oracle_takes_unused_known_detgs_or_says_why_not():
    from galaxysd.detg.experiment import oracle_positives

    ids, known = _survey()
    every = sample_experiment(ids, known, 10, 20, seed=0)       # the test set takes every other known one
    picked, why = oracle_positives(every, ids, 20, None, known)
    assert len(picked) == 0 and "no known D-ETGs" in why
    some = sample_experiment(ids, known, 10, 20, n_test_known=20, seed=0)
    picked, why = oracle_positives(some, ids, 20, None, known)
    assert len(picked) == 10 and why.startswith("only 10")
    assert np.isin(picked, known).all() and not np.isin(picked, some.test_ids).any()


def test_a_test_pool_gives_the_test_set_and_leaves_the_training_set_as_it_was():
    ids, known = _survey()
    pool_ids, pool_known = _survey(n=3000, n_known=25, seed=9)
    pool_ids = np.concatenate([pool_ids, ids[:5]])  # a repeated objID is dropped from the pool
    pool_known = np.concatenate([pool_known, [known[0]]])
    own = sample_experiment(ids, known, 10, 50, seed=3)
    split = sample_experiment(ids, known, 10, 50, seed=3, test_pool=(pool_ids, pool_known))
    assert np.array_equal(own.train_ids, split.train_ids) and np.array_equal(own.train_labels, split.train_labels)
    assert set(split.test_ids) <= set(pool_ids) - set(ids)
    assert set(split.test_ids[split.test_labels == 1]) == set(pool_known) - {known[0]}
    assert (split.test_labels == 0).sum() == 50 * 25
    assert not set(split.test_ids[split.test_labels == 0]) & set(pool_known)
    assert split.counts["test_source"] == "test survey" and own.counts["test_source"] == "survey"
    assert split.counts["n_test_known"] == 25 and split.counts["n_test_others"] == 1250
    # every known D-ETG of the run's survey may train: none is kept back for testing
    assert sample_experiment(ids, known, 40, 10, seed=0, test_pool=(pool_ids, pool_known)).counts["n_train_known"] == 40
    few = sample_experiment(ids, known, 10, 10, n_test_known=7, test_ratio=3, seed=0, test_pool=(pool_ids, pool_known))
    assert few.counts["n_test_known"] == 7 and (few.test_labels == 0).sum() == 21


def test_a_test_pool_too_small_is_refused_with_what_to_change():
    ids, known = _survey()
    pool_ids, pool_known = _survey(n=300, n_known=5, seed=9)
    with pytest.raises(ParameterError, match="n_test_survey"):
        sample_experiment(ids, known, 10, 100, seed=0, test_pool=(pool_ids, pool_known))
    with pytest.raises(TooFewKnownDETGError, match="n_test_survey"):
        sample_experiment(ids, known, 10, 10, seed=0, test_pool=(pool_ids, []))
    with pytest.raises(ParameterError, match="pair"):
        sample_experiment(ids, known, 10, 10, seed=0, test_pool=pool_ids)
