"""The iterative search on a toy survey whose true D-ETGs are known, with a toy classifier."""

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from galaxysd.detg.inspectors import simulated_inspection, simulated_panel
from galaxysd.detg.search import candidates_of, retraining_set, run_search
from galaxysd.detg.steps import file_step, simulated_step, supplied_step
from galaxysd.detg.verdicts import VerdictsMissingError, verdict_path, write_verdicts
from galaxysd.errors import ParameterError


class ToySurvey:
    """3,000 galaxies, 150 true D-ETGs (60 of them on the known list); one noisy feature per galaxy."""

    def __init__(self, seed=0):
        rng = np.random.default_rng(seed)
        self.ids = 10 ** 6 + rng.choice(10 ** 6, 3000, replace=False).astype(np.int64)
        self.true = rng.choice(self.ids, 150, replace=False)
        self.known = rng.choice(self.true, 60, replace=False)
        is_true = np.isin(self.ids, self.true)
        self.feature = dict(zip(self.ids.tolist(), np.where(is_true, 2.0, 0.0) + rng.normal(0, 0.7, 3000)))
        # generated D-ETGs resemble the true ones, a little off (the model extrapolates)
        self.gen_ids = np.array([f"gen-{i}" for i in range(200)], dtype=object)
        self.feature.update(dict(zip(self.gen_ids.tolist(), 1.6 + rng.normal(0, 0.7, 200))))
        others = rng.choice(self.ids, 200, replace=False)
        self.train_ids = np.concatenate([self.gen_ids, others.astype(object)])
        self.train_labels = np.concatenate([np.ones(200, int), np.zeros(200, int)])
        self.n_trained = 0

    def train(self, ids, labels):
        self.n_trained += 1
        x = np.array([self.feature[i] for i in ids]).reshape(-1, 1)
        model = LogisticRegression().fit(x, labels)
        return lambda objids: model.predict_proba(
            np.array([self.feature[int(o)] for o in objids]).reshape(-1, 1))[:, 1]


def _search(toy, work, step=None, n_iterations=3, **kw):
    step = step or simulated_step(simulated_panel(), toy.true, seed=0)
    return run_search(toy.ids, toy.train_ids, toy.train_labels, toy.train, step, work, threshold=0.5,
                      n_iterations=n_iterations, batch_size=500, known_ids=toy.known, true_ids=toy.true,
                      progress=False, **kw)


def test_the_search_finds_true_detgs_the_known_list_misses(tmp_path):
    toy = ToySurvey()
    result = _search(toy, tmp_path)
    table = result.iterations
    assert list(table.index) == [1, 2, 3]
    assert (table.confirmed <= table.candidates).all() and (table.new <= table.confirmed).all()
    assert table.confirmed_total.is_monotonic_increasing
    last = table.iloc[-1]
    assert last.completeness > 0.8 and last.purity > 0.8
    assert last.true_found_unknown > 45
    assert result.truth == {"n_true": 150, "n_known": 60, "n_known_true": 60, "known_misses": 90,
                            "n_true_searched": 150, "known_misses_searched": 90}


def test_completeness_counts_only_the_true_detgs_among_the_galaxies_searched(tmp_path):
    toy = ToySurvey()
    outside = np.arange(10, 60, dtype=np.int64)   # 50 true D-ETGs without images: never searched
    result = run_search(toy.ids, toy.train_ids, toy.train_labels, toy.train,
                        simulated_step(simulated_panel(), toy.true), tmp_path, n_iterations=1, batch_size=500,
                        known_ids=toy.known, true_ids=np.concatenate([toy.true, outside]), progress=False)
    hits = np.isin(result.confirmed(), toy.true).sum()
    assert result.iterations.loc[1, "completeness"] == pytest.approx(hits / 150)
    assert result.truth["known_misses"] == 140 and result.truth["known_misses_searched"] == 90


def test_completeness_and_purity_are_those_of_the_confirmed_set_against_the_truth(tmp_path):
    toy = ToySurvey(seed=1)
    result = _search(toy, tmp_path, n_iterations=2)
    confirmed = result.confirmed()
    hits = np.isin(confirmed, toy.true).sum()
    assert result.iterations.loc[2, "completeness"] == pytest.approx(hits / 150)
    assert result.iterations.loc[2, "purity"] == pytest.approx(hits / len(confirmed))
    assert result.iterations.loc[2, "new_total"] == (~np.isin(confirmed, toy.known)).sum()


def test_retraining_adds_the_panels_positives_and_negatives(tmp_path):
    toy = ToySurvey()
    result = _search(toy, tmp_path, n_iterations=2)
    after_1 = result.decisions[result.decisions.iteration == 1]
    ids, labels = retraining_set(toy.train_ids, toy.train_labels, after_1)
    t = result.iterations
    assert t.loc[2, "train_positives"] == labels.sum() > 200
    assert t.loc[2, "train_negatives"] == (labels == 0).sum() > 200
    assert (after_1.status == "confirmed").sum() == t.loc[1, "confirmed_total"]


def test_a_galaxy_judged_once_is_not_inspected_again(tmp_path):
    toy = ToySurvey()
    result = _search(toy, tmp_path)
    assert not result.verdicts.duplicated(["objid", "inspector"]).any()
    assert result.iterations.inspected.sum() == result.verdicts.objid.nunique()


def test_a_finished_search_called_again_trains_nothing_and_gives_the_same_result(tmp_path):
    toy = ToySurvey()
    first = _search(toy, tmp_path)
    assert toy.n_trained == 3
    again = _search(toy, tmp_path)
    assert toy.n_trained == 3
    pd.testing.assert_frame_equal(first.iterations, again.iterations)
    pd.testing.assert_frame_equal(first.scores, again.scores)


def test_missing_verdicts_stop_the_search_and_it_goes_on_once_they_exist(tmp_path):
    toy = ToySurvey()
    trained = toy.train

    def train(ids, labels):  # the second round ranks the other way, so it has fresh candidates
        scorer = trained(ids, labels)
        return scorer if toy.n_trained == 1 else (lambda objids: 1.0 - scorer(objids))

    toy.train = train
    step = file_step(tmp_path / "verdicts", ["ann", "bob", "cy"], "python -m galaxysd run --only 08_detg_catalog")
    with pytest.raises(VerdictsMissingError, match="to_inspect.csv") as stop:
        _search(toy, tmp_path / "work", step=step, n_iterations=2)
    assert "08_detg_catalog" in str(stop.value) and "ann (no file" in str(stop.value)
    to_inspect = pd.read_csv(tmp_path / "work" / "iter1" / "to_inspect.csv")
    for name, inspector in zip(["ann", "bob", "cy"], simulated_panel()):
        v = inspector.judge(to_inspect.objid, toy.true).assign(inspector=name)
        write_verdicts(v, verdict_path(tmp_path / "verdicts" / "iter1", name))
    with pytest.raises(VerdictsMissingError, match="iter2"):
        _search(toy, tmp_path / "work", step=step, n_iterations=2)
    assert toy.n_trained == 2  # iteration 1 was not trained again
    assert not set(pd.read_csv(tmp_path / "work" / "iter2" / "to_inspect.csv").objid) & set(to_inspect.objid)


def test_supplied_verdicts_count_the_candidates_they_do_not_cover(tmp_path):
    toy = ToySurvey()
    cover = toy.true[:100]
    write_verdicts(simulated_inspection(cover, toy.true, simulated_panel()), tmp_path / "released.csv")
    counts = {}
    result = _search(toy, tmp_path / "work", step=supplied_step(tmp_path / "released.csv", counts), n_iterations=1)
    assert counts[1]["candidates"] == result.iterations.loc[1, "candidates"]
    assert counts[1]["without_verdict"] == (~np.isin(
        pd.read_csv(tmp_path / "work" / "iter1" / "candidates.csv").objid, cover)).sum()


def test_candidates_are_those_at_or_above_the_threshold_by_score():
    scores = pd.DataFrame({"objid": [1, 2, 3, 4], "score": [0.2, 0.9, 0.5, 0.7]})
    assert candidates_of(scores, 0.5).objid.tolist() == [2, 4, 3]
    assert candidates_of(scores, 0.5, max_candidates=2)["rank"].tolist() == [1, 2]


def test_a_confirmed_random_negative_becomes_a_positive():
    decisions = pd.DataFrame({"status": ["confirmed", "rejected"]}, index=pd.Index([7, 8], name="objid"))
    ids, labels = retraining_set(np.array(["g1", 7], dtype=object), [1, 0], decisions)
    assert dict(zip(ids.tolist(), labels.tolist())) == {"g1": 1, 7: 1, 8: 0}


def test_a_first_training_set_without_negatives_is_refused(tmp_path):
    toy = ToySurvey()
    with pytest.raises(ParameterError, match="positives"):
        run_search(toy.ids, toy.gen_ids, np.ones(200, int), toy.train, lambda *a: None, tmp_path)


def test_two_processes_share_the_scoring_and_agree_with_one(tmp_path):
    import threading
    barrier = threading.Barrier(2, timeout=60)
    results, errors = {}, []

    def process(rank):
        try:
            results[rank] = _search(ToySurvey(), tmp_path / "two", n_iterations=2, rank=rank, world=2,
                                    wait=barrier.wait)
        except Exception as exc:  # surfaced below
            errors.append(exc)
            barrier.abort()

    threads = [threading.Thread(target=process, args=(r,)) for r in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    one = _search(ToySurvey(), tmp_path / "one", n_iterations=2)
    for rank in (0, 1):
        pd.testing.assert_frame_equal(results[rank].iterations, one.iterations)
        pd.testing.assert_frame_equal(results[rank].scores, one.scores)


def test_the_search_table_puts_the_papers_candidates_beside_ours(tmp_path):
    from galaxysd.detg.search import search_table
    result = _search(ToySurvey(), tmp_path, n_iterations=2)
    table = search_table(result.iterations, (8184, 2488, 1062))
    assert table["candidates (paper)"].tolist() == [8184, 2488]
    assert table.candidates.tolist() == result.iterations.candidates.tolist()
    assert "completeness" in table
