"""Chapter 08 (Section 4.3, Appendix D): the search of the whole survey and the D-ETG catalogue.

Cached stage of the run folder:

``08_detg_catalog/search``
    :func:`galaxysd.detg.run_search` over every galaxy of the survey with an image (chapter 07's
    ``survey`` stage), starting from ``n_generated`` generated D-ETGs (chapter 07's ``generated``
    stage) against as many random galaxies: ``iterations.csv``, ``scores.csv``, ``decisions.csv``,
    ``verdicts.csv``, ``truth.json`` and the iterations' folders under ``work/`` (scores, candidates,
    verdicts, the classifiers' weights). A search stopped for missing verdicts or killed while scoring
    keeps its partial folder and goes on from there when the chapter runs again with the same settings.

People's verdicts (paper profile) live outside the stage, in ``<verdict_dir>/iter<k>/<inspector>.csv``,
so they survive recomputing. The stage records what the verdict files it read said
(``verdict_sources.json``): after a verdict of a finished search is changed, the next run searches
again, reusing the scores of every round whose training set is unchanged.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from galaxysd.cache import RECORD_NAME, atomic_write_text, fingerprint, run_stage
from galaxysd.errors import DataError, ParameterError
from galaxysd.stages import s07_detg_experiment as s07

STAGE = "08_detg_catalog"
#: Bump when the recipe changes, so cached searches made the old way are not reused.
RECIPE = 1
INSPECTION_MODES = ("simulated", "files", "supplied")
#: The search stage's record of the verdict files its inspection step read (their content digests).
VERDICT_RECORD = "verdict_sources.json"


def first_training_set(survey: pd.DataFrame, generated: pd.DataFrame, n_generated: int, n_random: int,
                       seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The search's first training set: the first ``n_generated`` generated D-ETGs (label 1, their
    sample ids) and ``n_random`` random galaxies of the survey (label 0, objIDs).

    Raises
    ------
    ParameterError
        If more generated D-ETGs or random galaxies are asked for than exist.

    Examples
    --------
    >>> ids, labels = first_training_set(survey, made, 200, 200, seed=0)  # doctest: +SKIP
    """
    from galaxysd.classify.generated import select_generated

    if n_generated > len(generated):
        raise ParameterError(f"n_generated={n_generated} generated D-ETGs asked for, but chapter 07 made "
                             f"{len(generated)}; raise 07_detg_experiment.n_generated")
    pos = select_generated(generated, n_generated, "D-ETG")["sample_id"].astype(str).tolist()
    if n_random > len(survey):
        raise ParameterError(f"n_random={n_random} exceeds the {len(survey)} galaxies with images")
    neg = np.random.default_rng([seed, 23]).choice(survey["objid"].to_numpy(np.int64), n_random, replace=False)
    ids = np.array(pos + [int(o) for o in np.sort(neg)], dtype=object)
    return ids, np.concatenate([np.ones(len(pos), np.int64), np.zeros(len(neg), np.int64)])


def make_trainer(models_dir, survey: pd.DataFrame, generated: pd.DataFrame, config, image_size: int,
                 val_fraction: float = 0.1, seed: int = 0, preload: bool = True, num_processes: int = 1):
    """The search's ``train(ids, labels) -> scorer`` on chapter 06's training loop.

    Each training set (galaxies by objID, generated images by sample id) trains one ResNet-18 in
    ``models_dir/<digest>/`` (resumable per epoch), with ``val_fraction`` of its positives and
    negatives held out for choosing the best epoch; the scorer gives every objID its probability.

    Examples
    --------
    >>> train = make_trainer(work / "models", survey, made, TrainConfig(epochs=3), 32)  # doctest: +SKIP
    """
    import torch

    from galaxysd.classify.train import launch_training, predict
    from galaxysd.detg.search import training_digest
    from galaxysd.stages.s06_classification import _datasets

    image_of = {**dict(zip(survey["objid"].astype(int), survey["image_path"])),
                **dict(zip(generated["sample_id"].astype(str), generated["path"]))}
    cache: dict = {}

    def images(ids, labels):
        return _datasets([image_of[i] for i in ids], np.asarray(labels, float), image_size, preload, cache)

    def train(ids, labels):
        ids, labels = list(ids), np.asarray(labels, np.int64)
        missing = [i for i in ids if i not in image_of]
        if missing:
            raise DataError(f"{len(missing)} training galaxies have no image, e.g. {missing[0]!r}")
        val = s07.validation_mask(labels, val_fraction, seed)
        folder = Path(models_dir) / training_digest(ids, labels, json.dumps(vars(config), default=str))[:16]
        result = launch_training(images([i for i, v in zip(ids, val) if not v], labels[~val]),
                                 images([i for i, v in zip(ids, val) if v], labels[val]),
                                 replace(config, output_dir=str(folder), progress=False), num_processes)
        model = result.model if torch.cuda.is_available() and not config.cpu else result.model.cpu()

        def scorer(objids):
            objids = [int(o) for o in objids]
            return predict(model, images(objids, np.zeros(len(objids))), config.eval_batch_size, config.crop,
                           config.num_workers)

        return scorer

    return train


def inspection_step(mode: str, true_ids=None, rates=(), seed: int = 0, verdict_dir="", inspectors=(),
                    command: str = "", supplied: Sequence[str] = ()):
    """The search's inspection step: ``simulated`` (the truth, three simulated inspectors), ``files``
    (people's verdict files; stops until they exist) or ``supplied`` (verdict files covering any galaxies).

    Raises
    ------
    ParameterError
        If the mode is unknown, or the simulated mode has no truth (real data), or no inspectors or
        files are named for the other modes.
    """
    from galaxysd import detg

    if mode == "simulated":
        if true_ids is None:
            raise ParameterError("inspection='simulated' needs a simulated survey's truth; on real data use "
                                 "inspection='files' (people's verdicts) or 'supplied'")
        return detg.simulated_step(detg.simulated_panel([tuple(r) for r in rates]), true_ids, seed)
    if mode == "files":
        if not inspectors:
            raise ParameterError("inspection='files' needs the inspectors' names (inspectors=[...])")
        return detg.file_step(verdict_dir, inspectors, command)
    if mode == "supplied":
        if not supplied:
            raise ParameterError("inspection='supplied' needs verdict files (supplied_verdicts=[...])")
        return detg.supplied_step(list(supplied))
    raise ParameterError(f"inspection={mode!r}: expected one of {INSPECTION_MODES}")


def search_stage(run_dir, train, inspect, survey_ids, train_ids, train_labels, params: dict, known_ids=(),
                 true_ids=None, threshold: float = 0.5, n_iterations: int = 3, batch_size: int = 1024,
                 max_candidates: int | None = None, progress: bool = True, inputs=None):
    """The iterative search as the cached stage ``08_detg_catalog/search`` (see the module docstring).

    Parameters
    ----------
    run_dir : path-like
    train, inspect : callable
        :func:`make_trainer` (with the stage's ``work/models`` folder, see :func:`models_dir`) and
        :func:`inspection_step`. The verdict files the step reads (its ``sources``) are recorded; when
        they differ from what a finished search read, the search runs again (:func:`reuse_scores`).
    survey_ids : array-like of int
        Every galaxy to score.
    train_ids, train_labels : array-like
        :func:`first_training_set`.
    params : dict
        Every setting that shapes the result (the stage key).
    known_ids, true_ids, threshold, n_iterations, batch_size, max_candidates, progress
        As for :func:`galaxysd.detg.run_search`.
    inputs : sequence of path-like, optional
        Stage folders the search reads (default: chapter 07's survey and generated D-ETGs).

    Returns
    -------
    galaxysd.cache.StageResult
        Read it with :func:`read_search`.

    Raises
    ------
    VerdictsMissingError
        When people's verdicts are missing: the message names the candidates file and the command.
    """
    from galaxysd.detg import run_search

    run_dir = Path(run_dir)
    if inputs is None:
        inputs = [run_dir / s07.STAGE / "survey", s07.generated_stage(run_dir)]
    finished = run_dir / STAGE / "search"
    verdicts_now = verdict_digests(getattr(inspect, "sources", ()))
    changed = (finished / RECORD_NAME).is_file() and recorded_verdicts(finished) != verdicts_now

    def compute(out: Path) -> None:
        if changed:  # a verdict changed: rounds whose training set is unchanged keep their scores
            reuse_scores(finished / "work", out / "work")
        result = run_search(survey_ids, train_ids, train_labels, train, inspect, out / "work", threshold,
                            n_iterations, batch_size, max_candidates, known_ids, true_ids, progress=progress,
                            key=json.dumps(params, sort_keys=True, default=str))
        atomic_write_text(out / "iterations.csv", result.iterations.to_csv())
        atomic_write_text(out / "scores.csv", result.scores.rename_axis("objid").to_csv(float_format="%.9g"))
        atomic_write_text(out / "decisions.csv", result.decisions.to_csv())
        atomic_write_text(out / "verdicts.csv", result.verdicts.to_csv(index=False))
        atomic_write_text(out / "truth.json", json.dumps(result.truth, indent=2))
        atomic_write_text(out / VERDICT_RECORD, json.dumps(verdicts_now, indent=2))

    full = {"recipe": RECIPE, **params, "threshold": threshold, "n_iterations": n_iterations,
            "batch_size": batch_size, "max_candidates": max_candidates}
    if changed:
        print(f"[stage {STAGE}/search] the verdict files changed since the search finished: searching again")
    return run_stage(run_dir, f"{STAGE}/search", full, compute, inputs=inputs, force=changed)


def verdict_digests(sources) -> list[str]:
    """Content digests of the verdict files and folders an inspection step reads (``"absent"`` for
    one that does not exist yet), sorted, so that moving them elsewhere changes nothing.

    Examples
    --------
    >>> verdict_digests([])
    []
    """
    return sorted(fingerprint(p) if Path(p).exists() else "absent" for p in sources)


def recorded_verdicts(stage_dir) -> list[str]:
    """The :func:`verdict_digests` a finished search stage recorded (``[]`` for a search that read none)."""
    record = Path(stage_dir) / VERDICT_RECORD
    return json.loads(record.read_text()) if record.is_file() else []


def reuse_scores(old_work, new_work) -> list[Path]:
    """Copy each round's scores from a finished search's work folder into a new one that has none.

    The scores are keyed by the training set that made them (:func:`galaxysd.detg.scoring.scoring_complete`),
    so the new search rescoring only the rounds whose training set the changed verdicts changed.

    Returns
    -------
    list of pathlib.Path
        The score folders copied.
    """
    copied = []
    for scores in sorted(Path(old_work).glob("iter*/scores")):
        target = Path(new_work) / scores.parent.name / "scores"
        if not target.exists():
            shutil.copytree(scores, target)
            copied.append(target)
    return copied


def models_dir(run_dir, params: dict) -> Path:
    """Where the search's classifiers are trained: beside the stage, keyed by the settings, so that a
    search stopped for verdicts finds its trained classifiers again."""
    import hashlib

    key = hashlib.sha256(json.dumps(params, sort_keys=True, default=str).encode()).hexdigest()[:16]
    return Path(run_dir) / STAGE / "models" / key


def waiting_candidates(run_dir) -> Path:
    """The newest ``to_inspect.csv`` of a search stopped for verdicts (what the inspection tool shows).

    Raises
    ------
    DataError
        If no search is waiting for verdicts.
    """
    pattern = Path(STAGE, ".search.partial-*", "work", "iter*", "to_inspect.csv")  # a failed search's work folder
    waiting = sorted(Path(run_dir).glob(str(pattern)),
                     key=lambda p: p.stat().st_mtime)
    if not waiting:
        raise DataError(f"no search under {Path(run_dir) / STAGE} waits for verdicts: run the chapter with "
                        "inspection='files' first; it writes the candidates to inspect and stops")
    return waiting[-1]


def read_search(stage_dir):
    """The :class:`galaxysd.detg.SearchResult` a search stage saved."""
    from galaxysd.detg import SearchResult

    stage_dir = Path(stage_dir)
    decisions = pd.read_csv(stage_dir / "decisions.csv", index_col="objid")
    decisions["iteration"] = decisions["iteration"].astype("Int64")
    return SearchResult(pd.read_csv(stage_dir / "iterations.csv", index_col="iteration"),
                        pd.read_csv(stage_dir / "scores.csv", index_col="objid"), decisions,
                        pd.read_csv(stage_dir / "verdicts.csv", keep_default_na=False),
                        json.loads((stage_dir / "truth.json").read_text()))


def fraction_interval(k: int, n: int, level: float = 0.68) -> str:
    """``k/n`` with its exact (Clopper-Pearson) binomial interval, or "undefined" when ``n`` is 0.

    Examples
    --------
    >>> fraction_interval(3, 5)
    '0.60 (68 % interval 0.30-0.85; 3 of 5)'
    """
    from scipy.stats import binomtest

    if n == 0:
        return "undefined (0 galaxies)"
    ci = binomtest(int(k), int(n)).proportion_ci(level)
    return f"{k / n:.2f} ({100 * level:.0f} % interval {ci.low:.2f}-{ci.high:.2f}; {k} of {n})"


def truth_summary(truth: dict, iterations: pd.DataFrame) -> pd.Series:
    """What the simulated truth says about the search and about the known list itself; completeness
    and purity of the last round with exact binomial intervals (see :func:`fraction_interval`)."""
    last = iterations.iloc[-1]
    n_true = int(truth["n_true_searched"])
    hits = int(round(float(last["completeness"]) * n_true))
    return pd.Series({"true D-ETGs in the survey": truth["n_true"],
                      "true D-ETGs with an image (searchable)": truth["n_true_searched"],
                      "on the known list": truth["n_known"],
                      "known-list entries that are true D-ETGs": truth["n_known_true"],
                      "true D-ETGs the known list misses": truth["known_misses"],
                      "... of them searchable": truth["known_misses_searched"],
                      "found by the search beyond the known list": int(last["true_found_unknown"]),
                      "completeness of the confirmed set": fraction_interval(hits, n_true),
                      "purity of the confirmed set": fraction_interval(hits, int(last["confirmed_total"]))},
                     dtype=object)


def control_pool(catalog: pd.DataFrame, exclude) -> pd.DataFrame:
    """Normal early types for the control sample: galaxies tagged early type (completely or in-between
    round) that are neither confirmed nor known D-ETGs, with ``objid, z, logmstar``."""
    from galaxysd.gz2.tags import EARLY_TYPE_TAGS

    tags = catalog["tags"].fillna("").astype(str).str.split("|")
    early = tags.apply(lambda t: any(tag in t for tag in EARLY_TYPE_TAGS)).to_numpy()
    keep = early & ~catalog["objid"].isin(np.asarray(exclude, np.int64)).to_numpy()
    return catalog.loc[keep, ["objid", "z", "logmstar"]].reset_index(drop=True)


def properties(survey_all: pd.DataFrame, catalog: pd.DataFrame) -> pd.DataFrame:
    """``objid, ra, dec, z, logmstar, logsfr, loghalo`` of every galaxy (NaN where a table has none)."""
    cols = ["objid", "z", "logmstar", "logsfr", "loghalo"]
    return survey_all[["objid", "ra", "dec"]].merge(catalog[cols], on="objid", how="left")


def stage_digest(folder) -> str:
    """The output digest a stage recorded (``stage.json``), else a fingerprint of the folder."""
    record = Path(folder) / "stage.json"
    if record.is_file():
        return json.loads(record.read_text()).get("outputs", "")[:16]
    return fingerprint(folder)[:16] if Path(folder).exists() else "missing"


def provenance(run_dir, profile: str) -> dict:
    """The catalogue header: profile, model digest (02's model stage), data digest (01's labels stage)."""
    from galaxysd import gz2
    from galaxysd.diffusion import model as dmodel

    return {"PROFILE": profile, "MODELDIG": stage_digest(dmodel.trained_model_path(run_dir).parent),
            "DATADIG": stage_digest(Path(run_dir) / gz2.LABELS_STAGE), "PAPER": "Ma et al. 2026 ApJS 282 25"}


def found_images(result, survey: pd.DataFrame, known_ids, new: bool = True) -> list[str]:
    """Image paths of the confirmed galaxies not on the known list (``new``) or on it, highest last score first."""
    confirmed = result.confirmed()
    chosen = confirmed[~np.isin(confirmed, known_ids)] if new else confirmed[np.isin(confirmed, known_ids)]
    last = result.scores.iloc[:, -1].reindex(chosen).sort_values(ascending=False)
    image_of = survey.set_index("objid")["image_path"]
    return image_of.reindex(last.index).dropna().tolist()


def scaled_down(n_generated: int, n_random: int, n_survey: int, image_size: int, epochs: int,
                n_iterations: int, max_candidates: int = 0) -> str:
    """The sentence saying how this run differs in scale from the paper's."""
    return (f"{n_generated:,} generated D-ETGs against {n_random:,} random galaxies (the paper: 10,000 each), "
            f"{n_survey:,} galaxies searched (the paper: 239,695), {image_size}-pixel images, {epochs} "
            f"epoch{'' if epochs == 1 else 's'} per classifier, {n_iterations} iteration{'' if n_iterations == 1 else 's'} "
            "(the paper: three)"
            + (f", at most {max_candidates:,} candidates a round (the paper: no limit)" if max_candidates else ""))
