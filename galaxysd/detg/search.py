"""The iterative search of the whole survey (Section 4.3): score, inspect, retrain, repeat.

Each iteration ``k`` (1-based) works in ``<work_dir>/iter<k>/``:

1. train the classifier on the current training set (``train(ids, labels) -> scorer``);
2. score every galaxy of the survey (:func:`galaxysd.detg.scoring.score_survey`, resumable);
3. the galaxies scoring at least ``threshold`` are the candidates (``candidates.csv``, by score);
4. the inspection step judges the candidates no earlier iteration judged (``verdicts.csv``);
5. candidates confirmed by the panel join the training set as positives, rejected ones as negatives.

An iteration whose scores are complete is not trained again, so a search stopped by missing verdicts
(:class:`~galaxysd.detg.verdicts.VerdictsMissingError`) or killed while scoring goes on where it
stopped when called again. The paper ran three rounds (8,184 -> 2,488 -> 1,062 candidates, 520 new
D-ETGs beyond the 352 known). On a simulated survey, where the true D-ETGs are known, each iteration
also reports the completeness and purity of the confirmed set against the truth, and how many true
D-ETGs the known list misses -- the question the real data cannot answer.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from galaxysd.cache import atomic_write_text
from galaxysd.detg.scoring import collect_scores, open_scoring, score_survey, scoring_complete
from galaxysd.detg.verdicts import VERDICT_COLUMNS, MIN_AGREE, majority, validate_verdicts
from galaxysd.errors import ParameterError

#: The paper's counts per iteration (candidates) and in all (new D-ETGs, known D-ETGs).
PAPER_CANDIDATES = (8184, 2488, 1062)
PAPER_NEW, PAPER_KNOWN = 520, 352

Scorer = Callable[[np.ndarray], np.ndarray]
Trainer = Callable[[np.ndarray, np.ndarray], Scorer]
#: An inspection step: (candidates frame with objid and score, iteration, iteration folder) -> verdicts.
InspectStep = Callable[[pd.DataFrame, int, Path], pd.DataFrame]


@dataclass
class SearchResult:
    """What a search produced.

    Attributes
    ----------
    iterations : pandas.DataFrame
        One row per iteration: ``candidates, inspected, confirmed, new, confirmed_total, new_total``,
        the training-set sizes, and with the truth ``completeness, purity`` (of the confirmed set),
        ``candidate_completeness, candidate_purity``, ``true_found_unknown``.
    scores : pandas.DataFrame
        Index ``objid``; ``score_1 ... score_K``.
    decisions : pandas.DataFrame
        :func:`~galaxysd.detg.verdicts.majority` of every verdict, with ``iteration`` (first inspected).
    verdicts : pandas.DataFrame
        Every verdict of every iteration.
    truth : dict
        With the truth: ``n_true``, ``n_known``, ``n_known_true``, ``known_misses`` (true D-ETGs not
        on the known list), and the same restricted to the galaxies searched (``n_true_searched``,
        ``known_misses_searched``); empty otherwise. Completeness and purity per iteration are
        measured against the true D-ETGs among the galaxies searched (a galaxy without an image
        cannot be found).
    """

    iterations: pd.DataFrame
    scores: pd.DataFrame
    decisions: pd.DataFrame
    verdicts: pd.DataFrame
    truth: dict

    def confirmed(self) -> np.ndarray:
        """objIDs confirmed by the panel in any iteration."""
        return self.decisions.index[self.decisions.status == "confirmed"].to_numpy(np.int64)


def training_digest(ids, labels, key: str = "") -> str:
    """sha256 of a training set (ids as text, labels) and the caller's model key."""
    digest = hashlib.sha256(str(key).encode())
    for i, label in zip(ids, labels):
        digest.update(f"{i}\t{int(label)}\n".encode())
    return digest.hexdigest()


def retraining_set(train_ids, train_labels, decisions: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """The initial training set plus the panel's confirmed (1) and rejected (0) galaxies.

    A validated galaxy already in the initial set (a random "negative" the panel confirmed) takes
    the panel's label. Ids are kept as Python objects, so generated images may have string ids.
    """
    labels = {i: int(v) for i, v in zip(np.asarray(train_ids, dtype=object).tolist(), train_labels)}
    for objid, status in decisions["status"].items():
        if status in ("confirmed", "rejected"):
            labels[int(objid)] = int(status == "confirmed")
    ids = np.array(list(labels), dtype=object)
    return ids, np.array(list(labels.values()), dtype=np.int64)


def candidates_of(scores: pd.DataFrame, threshold: float, max_candidates: int | None = None) -> pd.DataFrame:
    """Galaxies scoring at least ``threshold``, highest first (at most ``max_candidates``), with ``rank``."""
    cand = scores[scores.score >= threshold].sort_values(["score", "objid"], ascending=[False, True])
    if max_candidates is not None:
        cand = cand.head(int(max_candidates))
    cand = cand.reset_index(drop=True)
    cand["rank"] = np.arange(1, len(cand) + 1)
    return cand


def _truth_columns(confirmed, cand_ids, true_ids, known_ids) -> dict:
    tp = np.isin(confirmed, true_ids)
    in_cand = np.isin(cand_ids, true_ids)
    unknown_true = np.setdiff1d(true_ids, known_ids)
    return {"completeness": tp.sum() / max(len(true_ids), 1),
            "purity": tp.sum() / len(confirmed) if len(confirmed) else np.nan,
            "candidate_completeness": in_cand.sum() / max(len(true_ids), 1),
            "candidate_purity": in_cand.sum() / len(cand_ids) if len(cand_ids) else np.nan,
            "true_found_unknown": int(np.isin(confirmed, unknown_true).sum())}


def run_search(survey_ids, train_ids, train_labels, train: Trainer, inspect: InspectStep,
               work_dir: str | os.PathLike, threshold: float = 0.5, n_iterations: int = 3,
               batch_size: int = 1024, max_candidates: int | None = None, known_ids=(), true_ids=None,
               min_agree: int = MIN_AGREE, key: str = "", progress: bool = True, rank: int = 0, world: int = 1,
               wait: Callable[[], None] | None = None) -> SearchResult:
    """Run (or resume) ``n_iterations`` rounds of score -> inspect -> retrain.

    Parameters
    ----------
    survey_ids : array-like of int
        Every galaxy to score (objIDs of the galaxies with images).
    train_ids, train_labels : array-like
        The first training set: generated D-ETGs (label 1; any hashable ids) and random galaxies (0).
    train : callable
        ``train(ids, labels) -> scorer`` with ``scorer(objids) -> scores`` (higher = more D-ETG-like).
    inspect : callable
        The inspection step, see :data:`InspectStep` (:func:`galaxysd.detg.steps.simulated_step`,
        :func:`galaxysd.detg.steps.file_step`); it may raise ``VerdictsMissingError`` to stop.
    work_dir : path-like
        Where the iterations keep their scores, candidates, verdicts and summaries.
    threshold : float, optional
        Score at or above which a galaxy is a candidate.
    n_iterations : int, optional
        Rounds (paper: three).
    batch_size : int, optional
        Galaxies per scoring batch.
    max_candidates : int, optional
        Keep at most this many candidates per round (the highest scores).
    known_ids : array-like of int, optional
        The known D-ETG list: a confirmed galaxy not on it is "new".
    true_ids : array-like of int, optional
        The true D-ETGs (simulated surveys): adds completeness and purity against them.
    min_agree : int, optional
        Votes needed to confirm or reject (paper: two of three).
    key : str, optional
        Names the classifier's settings; part of every iteration's scoring key.
    progress : bool, optional
        Show progress bars.
    rank, world, wait : optional
        Several processes (``accelerate``: ``process_index``, ``num_processes``,
        ``wait_for_everyone``): every process trains (as data-parallel training wants) and scores its
        share of the batches; ``wait`` is the barrier between opening, scoring and joining the scores.
        The folder must be shared; inspection steps must give every process the same verdicts
        (simulated and file-based ones do).

    Returns
    -------
    SearchResult
        Per-iteration counts, scores, decisions and verdicts.

    Raises
    ------
    ParameterError
        If ``n_iterations < 1`` or the first training set lacks positives or negatives.

    Examples
    --------
    >>> result = run_search(ids, gen_ids, gen_labels, train, simulated_step(panel, truth), work)  # doctest: +SKIP
    """
    if int(n_iterations) < 1:
        raise ParameterError(f"n_iterations must be at least 1, got {n_iterations}")
    train_labels = np.asarray(train_labels, dtype=np.int64)
    if not (train_labels == 1).any() or not (train_labels == 0).any():
        raise ParameterError("the first training set needs both positives (label 1) and negatives (label 0)")
    survey_ids = np.asarray(survey_ids, dtype=np.int64)
    known_ids = np.asarray(known_ids, dtype=np.int64)
    work = Path(work_dir)
    verdicts = pd.DataFrame(columns=list(VERDICT_COLUMNS)).astype({"objid": np.int64})
    first_seen: dict[int, int] = {}
    rows, score_cols = [], {}
    ids, labels = np.asarray(train_ids, dtype=object), train_labels
    for k in range(1, int(n_iterations) + 1):
        it = work / f"iter{k}"
        scores = _scores(it / "scores", survey_ids, ids, labels, train, batch_size, key, progress and rank == 0,
                         rank, world, wait)
        score_cols[f"score_{k}"] = scores.set_index("objid")["score"]
        cand = candidates_of(scores, threshold, max_candidates)
        atomic_write_text(it / "candidates.csv", cand.to_csv(index=False, float_format="%.9g"))
        fresh = cand[~cand.objid.isin(verdicts.objid)].reset_index(drop=True)
        new = validate_verdicts(inspect(fresh, k, it), f"iteration {k} inspection", candidates=fresh.objid) \
            if len(fresh) else verdicts.iloc[:0]
        atomic_write_text(it / "verdicts.csv", new.to_csv(index=False))
        first_seen.update({int(o): k for o in new.objid.unique() if int(o) not in first_seen})
        verdicts = pd.concat([verdicts, new], ignore_index=True)
        decisions = majority(verdicts, min_agree=min_agree)
        confirmed = decisions.index[decisions.status == "confirmed"].to_numpy(np.int64)
        cand_confirmed = cand.objid[cand.objid.isin(confirmed)].to_numpy(np.int64)
        row = {"iteration": k, "candidates": len(cand), "inspected": int(new.objid.nunique()),
               "confirmed": len(cand_confirmed), "new": int((~np.isin(cand_confirmed, known_ids)).sum()),
               "confirmed_total": len(confirmed), "new_total": int((~np.isin(confirmed, known_ids)).sum()),
               "rejected_total": int((decisions.status == "rejected").sum()),
               "train_positives": int((labels == 1).sum()), "train_negatives": int((labels == 0).sum())}
        if true_ids is not None:   # measured against the true D-ETGs the search can see
            row.update(_truth_columns(confirmed, cand.objid.to_numpy(np.int64),
                                      np.intersect1d(np.asarray(true_ids, dtype=np.int64), survey_ids), known_ids))
        atomic_write_text(it / "summary.json", json.dumps(row, indent=2, default=float))
        rows.append(row)
        ids, labels = retraining_set(train_ids, train_labels, decisions)
    decisions["iteration"] = pd.Series(first_seen, dtype="Int64").reindex(decisions.index)
    truth = {}
    if true_ids is not None:
        true_ids = np.asarray(true_ids, dtype=np.int64)
        n_known_true = int(np.isin(known_ids, true_ids).sum())
        searched = np.intersect1d(true_ids, survey_ids)
        truth = {"n_true": int(len(true_ids)), "n_known": int(len(known_ids)), "n_known_true": n_known_true,
                 "known_misses": int(len(np.setdiff1d(true_ids, known_ids))),
                 "n_true_searched": int(len(searched)),
                 "known_misses_searched": int(len(np.setdiff1d(searched, known_ids)))}
    return SearchResult(pd.DataFrame(rows).set_index("iteration"), pd.DataFrame(score_cols), decisions,
                        verdicts, truth)


def search_table(iterations: pd.DataFrame, paper_candidates=PAPER_CANDIDATES) -> pd.DataFrame:
    """Candidates, confirmed and new per iteration beside the paper's candidates (and truth metrics).

    Returns
    -------
    pandas.DataFrame
        Index ``iteration``; ``candidates``, ``candidates (paper)`` (missing beyond the paper's three
        rounds), ``confirmed``, ``new``, ``confirmed_total``, ``new_total`` and, with the truth,
        ``completeness``, ``purity``, ``true_found_unknown`` rounded to three decimals.

    Examples
    --------
    >>> search_table(result.iterations)  # doctest: +SKIP
    """
    cols = ["candidates", "confirmed", "new", "confirmed_total", "new_total"]
    cols += [c for c in ("completeness", "purity", "true_found_unknown") if c in iterations]
    table = iterations[cols].copy()
    paper = pd.Series(list(paper_candidates), index=range(1, len(paper_candidates) + 1), dtype="Int64")
    table.insert(1, "candidates (paper)", paper.reindex(table.index))
    return table.round(3)


def _scores(folder: Path, survey_ids, ids, labels, train, batch_size, key, progress, rank=0, world=1,
            wait=None) -> pd.DataFrame:
    """This iteration's scores: loaded when complete for this training set, else trained and scored."""
    digest = training_digest(ids, labels, key)
    if scoring_complete(folder, survey_ids, digest):
        return collect_scores(folder)
    if world > 1 and wait is None:
        raise ParameterError(f"world={world} processes need a barrier: pass wait (accelerate: wait_for_everyone)")
    scorer = train(ids, labels)
    if world == 1:
        return score_survey(survey_ids, scorer, folder, batch_size=batch_size, key=digest, progress=progress)
    if rank == 0:
        open_scoring(survey_ids, folder, batch_size, digest)
    wait()
    score_survey(survey_ids, scorer, folder, batch_size=batch_size, key=digest, rank=rank, world=world,
                 progress=progress)
    wait()
    return collect_scores(folder)
