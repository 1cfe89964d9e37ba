"""Verdict files, their validation, majority voting, simulated inspectors and the stop for missing verdicts."""

import numpy as np
import pandas as pd
import pytest

from galaxysd.detg.inspectors import SimulatedInspector, simulated_inspection, simulated_panel
from galaxysd.detg.verdicts import (VerdictError, VerdictsMissingError, majority, read_verdicts,
                                    require_verdicts, validate_verdicts, verdict_path, write_verdicts)
from galaxysd.errors import DataError, ParameterError

T = "2026-12-01T10:00:00+00:00"


def _frame(rows):
    return pd.DataFrame(rows, columns=["objid", "inspector", "verdict", "time"])


def test_a_candidate_is_confirmed_when_two_of_three_say_yes():
    v = _frame([(1, "a", "yes", T), (1, "b", "yes", T), (1, "c", "no", T),
                (2, "a", "yes", T), (2, "b", "no", T), (2, "c", "unsure", T),
                (3, "a", "no", T), (3, "b", "no", T), (3, "c", "yes", T)])
    m = majority(validate_verdicts(v), candidates=[1, 2, 3, 4])
    assert m.loc[1, "status"] == "confirmed" and m.loc[1, "n_yes"] == 2
    assert m.loc[2, "status"] == "undecided"
    assert m.loc[3, "status"] == "rejected"
    assert m.loc[4, "status"] == "uninspected" and m.loc[4, "n_votes"] == 0
    assert m.loc[1, "votes"] == "a:yes;b:yes;c:no"


def test_one_yes_of_one_inspector_confirms_only_when_min_agree_is_one():
    v = validate_verdicts(_frame([(5, "a", "yes", T)]))
    assert majority(v).loc[5, "status"] == "undecided"
    assert majority(v, min_agree=1).loc[5, "status"] == "confirmed"


@pytest.mark.parametrize("rows, message", [
    ([(9, "a", "yes", T)], "unknown objid"),
    ([(1, "a", "yes", T), (1, "a", "no", T)], "duplicate verdict"),
    ([(1, "a", "maybe", T)], "unknown verdict word"),
    ([(1, "", "yes", T)], "name no inspector"),
    ([(1, "a", "yes", "yesterday")], "ISO 8601"),
    ([("x1", "a", "yes", T)], "not integers"),
])
def test_malformed_verdicts_raise_a_named_error(rows, message):
    with pytest.raises(VerdictError, match=message):
        validate_verdicts(_frame(rows), "v.csv", candidates=[1, 2])
    assert issubclass(VerdictError, DataError)


def test_an_expected_inspector_without_verdicts_is_an_error(tmp_path):
    write_verdicts(_frame([(1, "a", "yes", T)]), tmp_path / "a.csv")
    with pytest.raises(VerdictError, match=r"no verdict from inspector\(s\) \['b'\]"):
        read_verdicts([tmp_path / "a.csv"], candidates=[1], inspectors=["a", "b"])


def test_a_duplicate_across_two_files_is_caught(tmp_path):
    write_verdicts(_frame([(1, "a", "yes", T)]), tmp_path / "a.csv")
    write_verdicts(_frame([(1, "a", "no", T)]), tmp_path / "a2.csv")
    with pytest.raises(VerdictError, match="duplicate"):
        read_verdicts([tmp_path / "a.csv", tmp_path / "a2.csv"])


def test_verdict_words_are_read_case_insensitively(tmp_path):
    (tmp_path / "a.csv").write_text(f"objid,inspector,verdict,time\n1,a, YES ,{T}\n")
    assert read_verdicts(tmp_path / "a.csv").verdict.tolist() == ["yes"]


def test_missing_verdicts_stop_with_the_candidates_file_and_the_command(tmp_path):
    cand = tmp_path / "candidates.csv"
    pd.DataFrame({"objid": [1, 2, 3], "score": [0.9, 0.8, 0.7]}).to_csv(cand, index=False)
    write_verdicts(_frame([(1, "ann", "yes", T), (2, "ann", "no", T)]), verdict_path(tmp_path, "ann"))
    with pytest.raises(VerdictsMissingError) as err:
        require_verdicts(cand, tmp_path, ["ann", "bob"], "python -m galaxysd run --only 08_detg_catalog")
    text = str(err.value)
    assert str(cand) in text and "python -m galaxysd run --only 08_detg_catalog" in text
    assert "ann (1 of 3 candidates not judged yet)" in text and "bob (no file" in text
    write_verdicts(_frame([(i, "ann", "no", T) for i in (1, 2, 3)]), verdict_path(tmp_path, "ann"))
    write_verdicts(_frame([(i, "bob", "no", T) for i in (1, 2, 3)]), verdict_path(tmp_path, "bob"))
    assert require_verdicts(cand, tmp_path, ["ann", "bob"], "go") == [tmp_path / "ann.csv", tmp_path / "bob.csv"]


def test_inspector_names_must_be_file_safe():
    with pytest.raises(ParameterError):
        verdict_path("/tmp", "../evil")


def test_simulated_inspectors_err_at_their_rates():
    ids = np.arange(10 ** 6, 10 ** 6 + 20000, dtype=np.int64)
    true = ids[:10000]
    v = SimulatedInspector("s", miss_rate=0.2, false_alarm_rate=0.1, unsure_rate=0.0).judge(ids, true, seed=1)
    assert abs((v.verdict[:10000] == "no").mean() - 0.2) < 0.02
    assert abs((v.verdict[10000:] == "yes").mean() - 0.1) < 0.02


def test_simulated_verdicts_depend_on_seed_and_galaxy_not_on_the_list():
    ids = np.arange(1000, 3000, dtype=np.int64)
    s = SimulatedInspector("s", 0.3, 0.3, 0.1)
    whole = s.judge(ids, ids[::2], seed=2).set_index("objid").verdict
    part = s.judge(ids[500:700][::-1], ids[::2], seed=2).set_index("objid").verdict
    assert whole.loc[part.index].equals(part)
    assert not whole.equals(s.judge(ids, ids[::2], seed=3).set_index("objid").verdict)


def test_a_simulated_panel_of_good_inspectors_confirms_most_true_detgs():
    ids = np.arange(5000, 6000, dtype=np.int64)
    verdicts = simulated_inspection(ids, ids[:100], simulated_panel(), seed=0)
    status = majority(validate_verdicts(verdicts, candidates=ids)).status
    assert (status.loc[ids[:100]] == "confirmed").mean() > 0.9
    assert (status.loc[ids[100:]] == "confirmed").mean() < 0.05


def test_error_rates_outside_zero_one_are_rejected():
    with pytest.raises(ParameterError, match="miss_rate"):
        SimulatedInspector("s", miss_rate=1.5)
