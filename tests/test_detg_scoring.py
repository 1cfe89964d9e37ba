"""Batched, resumable scoring of the whole survey through a manifest of score parts."""

import subprocess
import sys
import textwrap

import numpy as np
import pytest

from galaxysd.detg.scoring import (ScoringIncompleteError, collect_scores, score_survey, scoring_complete,
                                   scoring_progress)
from galaxysd.errors import DataError

IDS = np.arange(1000, 1103, dtype=np.int64)


def toy_scorer(batch):
    return (np.asarray(batch) % 17) / 17.0


class Counting:
    def __init__(self, fail_at=None):
        self.calls, self.fail_at = [], fail_at

    def __call__(self, batch):
        if self.fail_at is not None and len(self.calls) == self.fail_at:
            raise KeyboardInterrupt("killed")
        self.calls.append(int(batch[0]))
        return toy_scorer(batch)


def test_scores_come_back_in_the_order_of_the_ids(tmp_path):
    scores = score_survey(IDS[::-1], toy_scorer, tmp_path, batch_size=10, progress=False)
    assert scores.objid.tolist() == IDS[::-1].tolist()
    assert np.allclose(scores.score, toy_scorer(IDS[::-1]))


def test_an_interrupted_scoring_resumes_with_the_missing_batches_only(tmp_path):
    with pytest.raises(KeyboardInterrupt):
        score_survey(IDS, Counting(fail_at=4), tmp_path, batch_size=10, progress=False)
    assert scoring_progress(tmp_path) == (4, 11)
    again = Counting()
    scores = score_survey(IDS, again, tmp_path, batch_size=10, progress=False)
    assert len(again.calls) == 7
    whole = score_survey(IDS, toy_scorer, tmp_path / "whole", batch_size=10, progress=False)
    assert scores.equals(whole)


def test_a_killed_process_leaves_whole_parts_that_the_next_run_completes(tmp_path):
    script = textwrap.dedent(f"""
        import os, signal, numpy as np
        from galaxysd.detg.scoring import score_survey
        calls = []
        def scorer(batch):
            if len(calls) == 3:
                os.kill(os.getpid(), signal.SIGKILL)
            calls.append(1)
            return np.asarray(batch) % 17 / 17.0
        score_survey(np.arange(1000, 1103), scorer, {str(tmp_path)!r}, batch_size=10, progress=False)
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True)
    assert proc.returncode != 0
    assert scoring_progress(tmp_path) == (3, 11)
    assert not scoring_complete(tmp_path)
    again = Counting()
    scores = score_survey(IDS, again, tmp_path, batch_size=10, progress=False)
    assert len(again.calls) == 8 and np.allclose(scores.score, toy_scorer(IDS))
    assert scoring_complete(tmp_path, IDS, key="")


def test_a_new_key_or_id_list_discards_the_old_parts(tmp_path):
    score_survey(IDS, toy_scorer, tmp_path, batch_size=10, key="model-a", progress=False)
    again = Counting()
    score_survey(IDS, again, tmp_path, batch_size=10, key="model-b", progress=False)
    assert len(again.calls) == 11
    third = Counting()
    score_survey(IDS[:50], third, tmp_path, batch_size=10, key="model-b", progress=False)
    assert len(third.calls) == 5


def test_shards_of_several_processes_join_into_the_whole(tmp_path):
    for rank in range(3):
        assert score_survey(IDS, toy_scorer, tmp_path, batch_size=10, rank=rank, world=3, progress=False) is None
        if rank < 2:
            with pytest.raises(ScoringIncompleteError, match="not scored yet"):
                collect_scores(tmp_path)
    assert np.allclose(collect_scores(tmp_path).score, toy_scorer(IDS))


def test_a_scorer_returning_nan_or_too_few_scores_is_named(tmp_path):
    with pytest.raises(DataError, match="non-finite score"):
        score_survey(IDS, lambda b: np.full(len(b), np.nan), tmp_path, batch_size=10, progress=False)
    with pytest.raises(DataError, match="batch 0"):
        score_survey(IDS, lambda b: np.zeros(3), tmp_path / "b", batch_size=10, progress=False)


def test_a_later_process_waits_for_process_zero_to_open_the_manifest(tmp_path):
    with pytest.raises(ScoringIncompleteError, match="process 0 opens it"):
        score_survey(IDS, toy_scorer, tmp_path, batch_size=10, rank=1, world=2, progress=False)
