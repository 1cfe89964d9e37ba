"""Linear probes and the judges Q_i on hand-made embeddings that carry (or lack) the tags."""

import numpy as np
import pandas as pd
import pytest

from galaxysd.errors import DataError
from galaxysd.evaluation.judges import JUDGE_FEATURES, Judges, condition_truth, fit_judges, truth_accuracy
from galaxysd.evaluation.probe import linear_probe, probe_verdict, tag_matrix


def _labelled(n=400, seed=0):
    rng = np.random.default_rng(seed)
    labels = pd.DataFrame({"spiral galaxy": rng.random(n) < 0.4, "ring": rng.random(n) < 0.2,
                           "merger": np.arange(n) < 3})
    informative = rng.normal(size=(n, 6))
    informative[:, 0] += 3 * labels["spiral galaxy"]
    informative[:, 1] += 3 * labels["ring"]
    return labels, informative, rng.normal(size=(n, 6))


def test_tag_matrix_reads_the_manifests_tag_lists():
    table = tag_matrix(["smooth|completely round galaxy", "", "spiral galaxy|ring"], ["ring", "smooth"])
    assert table.to_dict("list") == {"ring": [False, False, True], "smooth": [True, False, False]}


def test_a_probe_prefers_the_embedding_that_carries_the_tags_and_declines_rare_ones():
    labels, informative, noise = _labelled()
    table = linear_probe({"trained": informative, "random": noise}, labels, seed=1, n_boot=300)
    assert table.loc["spiral galaxy", "trained"] > 0.9 and table.loc["spiral galaxy", "low"] > 0.2
    assert table.loc["ring", "difference"] > 0
    assert "too few" in table.loc["merger", "note"] and np.isnan(table.loc["merger", "trained"])
    text, ahead, scored = probe_verdict(table)
    assert (ahead, scored) == (2, 2) and "2 of 2 tags" in text


def test_judges_learn_separable_features_and_survive_a_round_trip(tmp_path):
    labels, informative, _ = _labelled(seed=2)
    judges = fit_judges(informative, labels, seed=0)
    assert judges.features == ["spiral galaxy", "ring"]
    assert not judges.report.loc["merger", "judged"]
    assert (judges.report.loc[["spiral galaxy", "ring"], "balanced_accuracy"] > 0.85).all()
    loaded = Judges.load(judges.save(tmp_path / "judges.json"))
    assert loaded.answers(informative).equals(judges.answers(informative))
    truth = truth_accuracy(judges, informative, labels)
    assert truth.loc["spiral galaxy", "accuracy"] > 0.85


def test_asking_a_judge_about_an_untrained_feature_is_a_named_error():
    labels, informative, _ = _labelled(seed=3)
    judges = fit_judges(informative, labels)
    with pytest.raises(DataError, match="no judge was trained for \\['merger'\\]"):
        judges.answers(informative, ["merger"])
    with pytest.raises(DataError, match="expected 6 features"):
        judges.answers(informative[:, :4])


def test_a_condition_fixes_its_tags_and_their_exclusions_only():
    cigar = condition_truth(["cigar-shaped galaxy"])
    assert cigar["cigar-shaped galaxy"] and not cigar["completely round galaxy"] and not cigar["spiral galaxy"]
    assert "ring" not in cigar and "dust lane" not in cigar
    edge = condition_truth(["edge-on galaxy", "dust lane", "with rounded edge-on bulge"])
    assert edge["dust lane"] and edge["with rounded edge-on bulge"] and not edge["spiral galaxy"]
    assert set(condition_truth(["ring"])) == {"ring"}
    assert len(JUDGE_FEATURES) == 11
