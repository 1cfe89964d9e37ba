"""Chapter 07 (Table 3, Figure 6): the 1:100 D-ETG experiment.

Cached stages of the run folder:

``07_detg_experiment/survey``
    ``survey.csv``: every galaxy of the survey with ``objid, ra, dec, asset_id, image_path`` (empty
    without an image) and ``counts.json``. The labelled catalogue of ``01_data`` gives an image path
    only to galaxies with a confident tag; the D-ETG chapters need every galaxy with an image (the
    1:100 experiment draws its "others" from the whole survey, the search scores all of it), so the
    Hart16 table and the filename mapping are joined again here through the ``gz2`` loaders. Chapter
    08 reads this stage too.
``07_detg_experiment/test_survey``
    Simulated profiles: a second survey drawn from the same population model (``survey/``, the real
    files' formats) and ``survey.csv`` (its galaxies, images, ``known_detg``, ``true_detg``). Table 3's
    test set is drawn from it (:func:`test_survey_stage`), so that it holds several times the known
    D-ETGs that the run's own survey can spare.
``07_detg_experiment/generated``
    Generated D-ETGs from the two D-ETG prompts (:data:`galaxysd.gz2.DETG_PROMPTS`), image to image
    from early-type references of the diffusion model's training set (which holds no D-ETG). The
    augmented method takes the first ``n_augment``; chapter 08's search the first ``n_search``.
``07_detg_experiment/train``
    Every training run (method x seed): ``predictions.csv`` (test galaxies, ``label`` = known D-ETG,
    ``truth`` = true D-ETG on a simulated survey, one score column per run), ``runs.csv``
    (threshold, best epoch), ``split.csv`` (which galaxy trained, validated, tested).
"""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from galaxysd.cache import atomic_write_text, run_stage
from galaxysd.errors import DataError, ParameterError
from galaxysd.paths import portable_path, resolve_stored

STAGE = "07_detg_experiment"
#: The methods of Table 3: (name, loss, adds generated D-ETGs), as in Table 2.
METHODS = (("baseline", "bce", False), ("focal", "focal", False), ("augmented", "bce", True))
#: The oracle row beyond the paper: the augmented method's classifier with real D-ETGs in place of the
#: generated ones (:func:`galaxysd.detg.oracle_positives`), what a perfect generator could give.
ORACLE = ("oracle", "bce", False)
#: Table 3 of the paper: method -> (purity, completeness, F1).
PAPER_TABLE3 = {"baseline": (0.43, 0.43, 0.43), "focal": (0.48, 0.16, 0.24), "augmented": (0.74, 0.60, 0.66)}
#: Labels of the two D-ETG prompts in the generation plan.
PROMPT_LABELS = ("DETG1", "DETG2")
#: Bump when the recipe changes, so cached runs made the old way are not reused.
RECIPE = 1


def survey_stage(run_dir):
    """Every galaxy of the run's survey with its coordinates and image (cached stage ``07_detg_experiment/survey``).

    Returns
    -------
    galaxysd.cache.StageResult
        Read the table with :func:`read_survey`.

    Examples
    --------
    >>> stage = survey_stage(paths.run); survey = read_survey(stage.path)  # doctest: +SKIP
    """
    from galaxysd import gz2

    labels = Path(run_dir) / gz2.LABELS_STAGE

    def compute(out: Path) -> None:
        frame, counts = _survey_frame(gz2.survey_of(run_dir), out)
        atomic_write_text(out / "survey.csv", frame.to_csv(index=False))
        atomic_write_text(out / "counts.json", json.dumps(counts, indent=2))

    return run_stage(run_dir, f"{STAGE}/survey", {"recipe": RECIPE}, compute, inputs=[labels])


def _survey_frame(files, out: Path) -> tuple[pd.DataFrame, dict]:
    """``objid, ra, dec, asset_id, image_path`` of every galaxy of a survey, and the counts."""
    from galaxysd.gz2.loaders import attach_images, open_images, read_filename_mapping, read_hart16

    table = read_hart16(files.hart16)[["dr7objid", "ra", "dec"]].rename(columns={"dr7objid": "objid"})
    matched, report = attach_images(table[["objid"]], read_filename_mapping(files.mapping),
                                    open_images(files.images), extract_to=out / "images")
    frame = table.merge(matched[["objid", "asset_id", "image_path"]], on="objid", how="left")
    frame["asset_id"] = frame["asset_id"].fillna(-1).astype(np.int64)
    # images in the run folder (the simulated survey's, or extracted from a zip into this partial
    # stage folder) are named relative to it: the run folder can move
    frame["image_path"] = [portable_path(p, out) for p in frame["image_path"].fillna("")]
    counts = {"n_survey": int(len(frame)), "n_with_image": int((frame["image_path"] != "").sum()),
              "image_report": report.summary()}
    return frame, counts


#: Added to the run's survey seed for the D-ETG test survey (chapter 06's is
#: :data:`galaxysd.gz2.testsurvey.SEED_OFFSET`): its galaxies are new to both chapters.
TEST_SURVEY_SEED_OFFSET = 200_003


def test_survey_stage(run_dir, n_galaxies: int, progress: bool = True) -> Path | None:
    """A second simulated survey whose galaxies make Table 3's test set (``07_detg_experiment/test_survey``).

    A simulated run's own survey leaves a few dozen known D-ETGs for testing once training has taken
    its share, so F1 on them is uncertain by about ±0.1. The simulator draws ``n_galaxies`` more from
    the same population model (:func:`galaxysd.gz2.testsurvey.simulate_test_survey`: the run's image
    size and framing, the run's seed plus :data:`TEST_SURVEY_SEED_OFFSET`), and its files are read by
    the same code as the run's survey: the Hart16 table and the images joined again, the known D-ETGs
    matched from its dust-lane list (:func:`galaxysd.gz2.catalog.read_known_detg`), the truth from its
    truth table.

    Parameters
    ----------
    run_dir : path-like
    n_galaxies : int
        Rows of the test survey's Hart16 table; 0 (or real data) gives ``None``: the test set is then
        drawn from the run's own survey.
    progress : bool, optional

    Returns
    -------
    pathlib.Path or None
        The stage folder; read it with :func:`read_test_survey`.

    Examples
    --------
    >>> stage = test_survey_stage(paths.run, 12000)  # doctest: +SKIP
    """
    from galaxysd import gz2
    from galaxysd.gz2.catalog import detg_ids, read_known_detg, read_truth
    from galaxysd.gz2.loaders import read_hart16
    from galaxysd.gz2.testsurvey import simulate_test_survey

    if n_galaxies <= 0 or gz2.reads_real_data(run_dir):
        return None
    labels = Path(run_dir) / gz2.LABELS_STAGE

    def compute(out: Path) -> None:
        files = simulate_test_survey(out / "survey", labels, n_galaxies, progress, seed_offset=TEST_SURVEY_SEED_OFFSET)
        frame, counts = _survey_frame(files, out)
        table_ids = read_hart16(files.hart16)["dr7objid"]
        known, known_counts = read_known_detg(files.dustlanes, table_ids, strict=False)
        truth = read_truth(files.truth)
        is_true = detg_ids(truth)
        frame["known_detg"] = frame["objid"].isin(set(known["objid"].astype(np.int64)))
        frame["true_detg"] = frame["objid"].isin(is_true)
        frame["kind"] = frame["objid"].map(truth.set_index("objid")["kind"]).fillna("")
        counts.update(known_counts, n_true_detg=len(is_true))
        atomic_write_text(out / "survey.csv", frame.to_csv(index=False))
        atomic_write_text(out / "counts.json", json.dumps(counts, indent=2))

    params = {"n_galaxies": int(n_galaxies), "seed_offset": TEST_SURVEY_SEED_OFFSET, "simulator": gz2.SIMULATOR_VERSION,
              "recipe": RECIPE, "columns": 2}
    return run_stage(run_dir, f"{STAGE}/test_survey", params, compute, inputs=[labels]).path


@dataclass
class ExperimentGalaxies:
    """The galaxies Table 3 may use: the run's survey and, on simulated profiles, the test survey.

    ``images`` names every usable galaxy's image (``objid``, ``image_path``, and on a simulated survey
    ``kind``, the truth's elliptical, disk or irregular); ``test_pool`` is the
    test survey's ``(image ids, known D-ETG ids)`` for :func:`galaxysd.detg.sample_experiment`, or
    ``None`` (test on the run's own survey); ``truth`` the true D-ETGs of both surveys (``None`` on real
    data); ``stage`` the test survey's stage folder, or ``None``.
    """

    images: pd.DataFrame
    test_pool: tuple | None
    truth: np.ndarray | None
    stage: Path | None


def experiment_galaxies(run_dir, survey: pd.DataFrame, true_ids, n_test_survey: int,
                        progress: bool = False) -> ExperimentGalaxies:
    """The run's survey joined with its D-ETG test survey (:func:`test_survey_stage`), if it has one.

    Parameters
    ----------
    run_dir : path-like
    survey : pandas.DataFrame
        :func:`read_survey` of the run.
    true_ids : array-like of int or None
        The run's true D-ETGs (``None`` on real data).
    n_test_survey : int
        Galaxies of the test survey (0: none; real data: none).
    progress : bool, optional

    Examples
    --------
    >>> galaxies = experiment_galaxies(paths.run, survey, gz2.true_detg(paths.run), 12000)  # doctest: +SKIP
    """
    from galaxysd import gz2

    stage = test_survey_stage(run_dir, n_test_survey, progress) if true_ids is not None else None
    images = survey[["objid", "image_path"]]
    if true_ids is not None:
        kinds = gz2.truth_table(run_dir).set_index("objid")["kind"]
        images = images.assign(kind=images["objid"].map(kinds).fillna(""))
    if stage is None:
        return ExperimentGalaxies(images, None, None if true_ids is None else np.asarray(true_ids, np.int64), None)
    extra = read_test_survey(stage)
    extra = extra[~extra["objid"].isin(survey["objid"])]  # a random objID may repeat one of the run's
    return ExperimentGalaxies(pd.concat([images, extra[["objid", "image_path", "kind"]]], ignore_index=True),
                              (extra["objid"].to_numpy(np.int64), extra.loc[extra["known_detg"], "objid"].to_numpy(np.int64)),
                              np.union1d(np.asarray(true_ids, np.int64), extra.loc[extra["true_detg"], "objid"]), stage)


def read_test_survey(stage_dir) -> pd.DataFrame:
    """The test survey's galaxies with an image: :func:`read_survey`'s columns plus ``known_detg`` and
    ``true_detg`` (booleans) and ``kind`` (the simulated truth's elliptical, disk or irregular)."""
    frame = read_survey(stage_dir)
    for column in ("known_detg", "true_detg"):
        frame[column] = frame[column].astype(str).str.lower() == "true"
    return frame


def read_survey(stage_dir, with_image: bool = True) -> pd.DataFrame:
    """``survey.csv`` of :func:`survey_stage`, with absolute image paths (only galaxies with one by default)."""
    stage_dir = Path(stage_dir)
    frame = pd.read_csv(stage_dir / "survey.csv", dtype={"image_path": str}, keep_default_na=False,
                        na_values={"ra": [""], "dec": [""]})
    frame["objid"] = frame["objid"].astype(np.int64)
    frame["image_path"] = [resolve_stored(p, stage_dir) for p in frame["image_path"]]
    return frame[frame["image_path"] != ""].reset_index(drop=True) if with_image else frame


def early_type_references(manifest: pd.DataFrame) -> list[int]:
    """objIDs of the diffusion model's training galaxies tagged early type (the D-ETG references).

    Raises
    ------
    DataError
        If the training manifest holds no early type.
    """
    from galaxysd.gz2.tags import EARLY_TYPE_TAGS

    tags = manifest["tags"].fillna("").astype(str)
    mask = np.zeros(len(manifest), bool)
    for tag in EARLY_TYPE_TAGS:
        mask |= tags.str.split("|").apply(lambda t, tag=tag: tag in t).to_numpy()
    if not mask.any():
        raise DataError("the diffusion model's training manifest holds no early-type galaxy to start "
                        "generated D-ETGs from")
    return manifest.loc[mask, "objid"].astype(int).tolist()


def generate_detgs(run_dir, inputs, n: int, seed: int, settings, batch_size: int = 16) -> pd.DataFrame:
    """``n`` generated D-ETGs, round-robin over the two D-ETG prompts (cached stage ``07_detg_experiment/generated``).

    Returns
    -------
    pandas.DataFrame
        The generation manifest in plan order, with absolute ``path`` and ``sample_id``.

    Examples
    --------
    >>> made = generate_detgs(paths.run, inputs, 200, 0, settings)  # doctest: +SKIP
    """
    from galaxysd import gz2
    from galaxysd.classify import generated as gen

    prompts = dict(zip(PROMPT_LABELS, gz2.DETG_PROMPTS))
    refs = early_type_references(inputs.manifest)
    return gen.generate_positives(run_dir, f"{STAGE}/generated", inputs, prompts, n, seed, refs, settings,
                                  batch_size)


def generated_stage(run_dir) -> Path:
    """The stage folder of the generated D-ETGs."""
    return Path(run_dir) / STAGE / "generated"


def validation_mask(labels: np.ndarray, fraction: float, seed: int) -> np.ndarray:
    """Hold out ``fraction`` of the positives and of the negatives (at least one positive) for validation.

    Raises
    ------
    TooFewKnownDETGError
        If fewer than two positives are given (one must train, one must validate).

    Examples
    --------
    >>> int(validation_mask(np.array([1, 1, 0, 0, 0, 0]), 0.5, 0).sum())
    3
    """
    from galaxysd.detg import TooFewKnownDETGError

    labels = np.asarray(labels)
    if not 0 < fraction < 1:
        raise ParameterError(f"val_fraction must lie in (0, 1), got {fraction}")
    rng = np.random.default_rng([seed, 17])
    mask = np.zeros(len(labels), bool)
    for value, least in ((1, 1), (0, 1)):
        rows = np.nonzero(labels == value)[0]
        if value == 1 and len(rows) < 2:
            raise TooFewKnownDETGError(f"{len(rows)} known D-ETG(s) in the training set: at least two are "
                                       "needed (one to train on, one to choose the threshold on)")
        n = min(max(least, int(round(fraction * len(rows)))), len(rows) - 1)
        mask[rng.permutation(rows)[:n]] = True
    return mask


def run_plan(seeds: Sequence[int], oracle: bool = False) -> pd.DataFrame:
    """Every training run: method, loss, seed (``multiple`` is 1 for the augmented method, else 0);
    with ``oracle``, the :data:`ORACLE` runs too."""
    if not seeds:
        raise ParameterError("seeds: at least one training seed is needed")
    methods = METHODS + ((ORACLE,) if oracle else ())
    return pd.DataFrame([{"run": f"{name}-seed{s}", "method": name, "loss": loss, "multiple": float(uses),
                          "seed": int(s)} for s in seeds for name, loss, uses in methods])


def split_frame(split, val: np.ndarray) -> pd.DataFrame:
    """One row per galaxy of the experiment: ``objid``, ``label``, ``part`` (train / val / test)."""
    frame = split.frame()
    parts = frame["part"].to_numpy(object)
    parts[np.nonzero(parts == "train")[0][val]] = "val"
    return frame.assign(part=parts)


def train_methods(run_dir, survey: pd.DataFrame, split, val: np.ndarray, generated: pd.DataFrame | None,
                  n_augment: int, config, plan: pd.DataFrame, image_size: int, truth_ids=None,
                  preload: bool = True, num_processes: int = 1, inputs=None, oracle_ids=None):
    """Every training run of Table 3, as the cached stage ``07_detg_experiment/train``.

    Parameters
    ----------
    run_dir : path-like
    survey : pandas.DataFrame
        :func:`read_survey` (objID -> image path).
    split : galaxysd.detg.ExperimentSplit
        The 1:ratio training set and the test set (:func:`galaxysd.detg.sample_experiment`).
    val : numpy.ndarray of bool
        Which training galaxies validate (:func:`validation_mask`).
    generated : pandas.DataFrame or None
        The generated D-ETGs (plan order); the augmented runs add the first ``n_augment``.
    config : galaxysd.classify.train.TrainConfig
        Shared settings; ``loss``, ``seed``, ``output_dir`` are set per run.
    plan : pandas.DataFrame
        :func:`run_plan`.
    image_size : int
    truth_ids : array-like of int, optional
        The true D-ETGs of a simulated survey (for scores against the truth).
    inputs : sequence of path-like, optional
        Stage folders the runs read (default: this run folder's survey and generated D-ETGs); given
        when ``run_dir`` is another folder, e.g. an exercise's scratch folder.
    oracle_ids : array-like of int, optional
        Real D-ETGs the plan's oracle runs add as positives (:func:`galaxysd.detg.oracle_positives`).

    Returns
    -------
    galaxysd.cache.StageResult
    """
    from galaxysd.classify import generated as gen
    from galaxysd.classify.data import concat
    from galaxysd.classify.train import train_and_predict
    # the image datasets of chapter 06: in memory for small samples, decoded by workers otherwise
    from galaxysd.stages.s06_classification import _datasets

    frame = split_frame(split, val)
    params = {"recipe": RECIPE, "split": frame.to_dict("list"), "plan": plan.to_dict("list"), "n_augment": n_augment,
              "image_size": image_size, "config": {k: v for k, v in vars(config).items() if k not in
                                                   ("output_dir", "progress", "num_threads", "num_workers",
                                                    "stop_after", "seed", "loss")}}
    if (plan["method"] == ORACLE[0]).any():
        if oracle_ids is None or not len(oracle_ids):
            raise ParameterError("the run plan has oracle runs but no oracle_ids were given: pass "
                                 "galaxysd.detg.oracle_positives(...) or run_plan(seeds, oracle=False)")
        params["oracle_ids"] = [int(i) for i in oracle_ids]
    if inputs is None:
        inputs = [Path(run_dir) / STAGE / "survey"] + ([generated_stage(run_dir)] if generated is not None else [])

    def compute(out: Path) -> None:
        paths = survey.set_index("objid")["image_path"]
        cache: dict = {}

        def data(part):
            rows = frame[frame["part"] == part]
            return _datasets(list(paths.loc[rows["objid"]]), rows["label"].to_numpy(float), image_size, preload, cache)

        real, val_set, test = data("train"), data("val"), data("test")
        scores, rows = {}, []
        for run in plan.itertuples(index=False):
            folder = out / "runs" / run.run
            n_gen = n_augment if run.multiple else 0
            if not (folder / "result.json").is_file():
                train_set = real
                if n_gen:
                    extra = gen.select_generated(generated, n_gen, "D-ETG")
                    train_set = concat(real, _datasets(list(extra["path"]), np.ones(n_gen), image_size, preload, cache))
                if run.method == ORACLE[0]:  # real D-ETGs where the augmented runs put generated ones
                    train_set = concat(real, _datasets(list(paths.loc[np.asarray(oracle_ids, np.int64)]),
                                                       np.ones(len(oracle_ids)), image_size, preload, cache))
                result = train_and_predict(train_set, val_set, test, replace(
                    config, output_dir=str(folder), loss=run.loss, seed=run.seed, progress=False), num_processes)
                np.save(folder / "test_scores.npy", result["test_scores"])
                atomic_write_text(folder / "result.json", json.dumps(
                    {"threshold": result["threshold"], "best_epoch": result["best_epoch"],
                 "epochs_run": result["epochs_run"]}))
                for heavy in ("checkpoint", "best.safetensors"):  # predictions are what is kept
                    target = folder / heavy
                    shutil.rmtree(target) if target.is_dir() else target.unlink(missing_ok=True)
            info = json.loads((folder / "result.json").read_text())
            scores[run.run] = np.load(folder / "test_scores.npy")
            rows.append({**run._asdict(), **info, "n_generated": n_gen,
                         "n_oracle": len(oracle_ids) if run.method == ORACLE[0] else 0})
        test_rows = frame[frame["part"] == "test"]
        truth = (np.isin(test_rows["objid"], np.asarray(truth_ids, np.int64)).astype(float) if truth_ids is not None
                 else np.full(len(test_rows), np.nan))
        atomic_write_text(out / "predictions.csv", pd.DataFrame(
            {"objid": test_rows["objid"].to_numpy(), "label": test_rows["label"].to_numpy(), "truth": truth,
             **scores}).to_csv(index=False))
        atomic_write_text(out / "runs.csv", pd.DataFrame(rows).to_csv(index=False))
        atomic_write_text(out / "split.csv", frame.to_csv(index=False))

    return run_stage(run_dir, f"{STAGE}/train", params, compute, inputs=inputs)


def score_methods(stage_dir, confidence: float = 0.68, n_resamples: int = 1000, seed: int = 0) -> pd.DataFrame:
    """Purity, completeness and F1 per method against the known list and (simulated) the truth.

    Returns
    -------
    pandas.DataFrame
        :func:`galaxysd.classify.compare.score_task` rows with ``task = "D-ETG"`` and ``against``.
    """
    from galaxysd.classify.compare import score_task
    from galaxysd.stages.s06_classification import read_task

    predictions, runs = read_task(stage_dir)
    frames = [score_task(predictions, runs, against, confidence, n_resamples, seed).assign(task="D-ETG", against=against)
              for against in ("label", "truth") if predictions[against].notna().all()]
    return pd.concat(frames, ignore_index=True)


def table3(scores: pd.DataFrame, against: str = "label") -> pd.DataFrame:
    """Table 3: each score as ``value [low, high] ± seed std`` beside the paper's (against the known list).

    Examples
    --------
    >>> table3(scores)  # doctest: +SKIP
    """
    from galaxysd.classify.figures import METHOD_NAMES, table2
    from galaxysd.classify.metrics import SCORES

    table = table2(scores, 1.0, against).droplevel("task")
    if against == "label":
        names = {v: k for k, v in METHOD_NAMES.items()}
        for i, name in enumerate(SCORES):
            table[f"{name} (paper)"] = [PAPER_TABLE3.get(names.get(m, m), (np.nan,) * 3)[i] for m in table.index]
    return table


def called_detg(stage_dir, kinds: pd.Series | None = None) -> pd.DataFrame:
    """How many test galaxies each method calls a D-ETG, beside how many are on the known list.

    A classifier that learnt "early type" instead of "early type with a dust lane" (from generated
    D-ETGs without a lane) calls many times the known share; this says so in counts.

    Parameters
    ----------
    stage_dir : path-like
        :func:`train_methods`' stage.
    kinds : pandas.Series, optional
        objID -> the simulated truth's kind (elliptical, disk, irregular): adds ``false_alarms_elliptical``,
        the share of each method's false alarms (called, not on the known list, not a true D-ETG) that
        are ellipticals, beside ``others_elliptical``, their share among the test set's others.

    Returns
    -------
    pandas.DataFrame
        Per method: ``called`` (mean over seeds of the share of test galaxies at or above the run's
        threshold), ``called_n`` (the same in galaxies), ``known`` (the share labelled D-ETG),
        ``ratio`` (called / known) and ``n_test``.

    Examples
    --------
    >>> called = called_detg(train_stage.path)  # doctest: +SKIP
    """
    from galaxysd.classify.compare import run_calls
    from galaxysd.stages.s06_classification import read_task

    predictions, runs = read_task(stage_dir)
    known = float(predictions["label"].mean())
    elliptical = None
    if kinds is not None:
        elliptical = predictions["objid"].map(kinds).eq("elliptical").to_numpy()
        other = (predictions["label"].to_numpy() == 0) & (predictions["truth"].to_numpy() != 1)
    rows = []
    for method, group in runs.groupby("method", sort=False):
        calls = [run_calls(predictions, r) for r in group.itertuples()]
        share = float(np.mean([c.mean() for c in calls]))
        row = {"method": method, "called": share, "called_n": share * len(predictions), "known": known,
               "ratio": share / known if known else float("nan"), "n_test": len(predictions)}
        if elliptical is not None:
            alarms = [elliptical[c & other] for c in calls]
            row["false_alarms_elliptical"] = (float(np.concatenate(alarms).mean()) if sum(map(len, alarms))
                                              else float("nan"))
            row["false_alarms_n"] = int(sum(map(len, alarms)))
            row["others_elliptical"] = float(elliptical[other].mean())
        rows.append(row)
    return pd.DataFrame(rows).set_index("method")


def called_sentence(called: pd.DataFrame) -> str:
    """One sentence comparing the augmented method's calls with the baseline's and the known share.

    Examples
    --------
    >>> t = pd.DataFrame({"called": [0.01, 0.2], "called_n": [10, 200], "known": [0.01, 0.01],
    ...                   "ratio": [1.0, 20.0], "n_test": [1000, 1000]}, index=["baseline", "augmented"])
    >>> called_sentence(t)[:64]
    'the augmented classifiers call 200 of the 1,000 test galaxies D-'
    """
    if not {"baseline", "augmented"} <= set(called.index):
        return "the augmented method was not trained on this profile"
    aug, base = called.loc["augmented"], called.loc["baseline"]
    text = (f"the augmented classifiers call {aug['called_n']:,.0f} of the {aug['n_test']:,.0f} test galaxies D-ETGs "
            f"({aug['ratio']:.1f} times the known ones, {aug['known'] * aug['n_test']:,.0f}); the baseline calls "
            f"{base['called_n']:,.0f} ({base['ratio']:.1f} times)")
    if np.isfinite(aug.get("false_alarms_elliptical", np.nan)):
        share, base_share = aug["false_alarms_elliptical"], aug["others_elliptical"]
        text += (f"; {100 * share:.0f} % of their false alarms are ellipticals, against "
                 f"{100 * base_share:.0f} % of the test set's other galaxies")
        # three binomial standard errors of the base share at this many false alarms (pooled over seeds)
        margin = 3 * np.sqrt(base_share * (1 - base_share) / max(aug.get("false_alarms_n", 0), 1))
        if share > base_share + margin:
            text += ": they learnt to call early types D-ETGs, what the generated galaxies without a lane show"
        elif share < base_share - margin:
            text += (": they did not learn \"early type\" but something else the generated galaxies share"
                     + (", and find it mostly in disks" if share < 0.5 else "") + " (Figure 6 shows them)")
        else:
            text += ": no more ellipticals than chance would give"
    return text


def table3_numbers(scores: pd.DataFrame) -> pd.DataFrame:
    """Table 3 in plain numbers (for the CSV file), with the paper's value beside each score."""
    from galaxysd.classify.metrics import SCORES

    frame = scores[["method", "against", "score", "value", "low", "high", "seed_std", "n_seeds"]].copy()
    frame["paper"] = [PAPER_TABLE3.get(m, (np.nan,) * 3)[SCORES.index(s)] if a == "label" else np.nan
                      for m, s, a in zip(frame["method"], frame["score"], frame["against"])]
    return frame.reset_index(drop=True)


def verdict(stage_dir, name: str = "f1", against: str = "label", n_resamples: int = 2000, seed: int = 0) -> str:
    """Does adding generated D-ETGs change a score against the baseline?

    The paired difference over training seeds and test galaxies
    (:func:`galaxysd.classify.metrics.paired_difference`, as chapter 06 does): a gain when its 95 %
    interval lies above zero, a loss when below, otherwise too small to tell on this test set.

    Parameters
    ----------
    stage_dir : path-like
        The training stage (:func:`train_methods`).
    name : {"f1", "completeness", "purity"}, optional
    against : {"label", "truth"}, optional
    n_resamples, seed : int, optional
        Of the bootstrap.

    Examples
    --------
    >>> verdict(train_stage.path, "f1")  # doctest: +SKIP
    """
    from galaxysd.classify.compare import WORDS, paired_predictions, sentence
    from galaxysd.classify.metrics import paired_difference
    from galaxysd.stages.s06_classification import read_task

    predictions, runs = read_task(stage_dir)
    y, base, aug, _ = paired_predictions(predictions, runs, "augmented", 1.0, against)
    words = {k: v.replace("generated positives", "generated D-ETGs").replace("{score}", "it")
             for k, v in WORDS.items()}
    return sentence(paired_difference(y, base, aug, name, n_resamples=n_resamples, seed=seed), words)


def mistakes(predictions: pd.DataFrame, runs: pd.DataFrame, seed: int) -> dict[str, pd.DataFrame]:
    """Per method, the test galaxies its run with ``seed`` got wrong: ``missed`` known D-ETGs and
    ``false`` alarms, highest scores first for false alarms, lowest first for misses.

    Returns
    -------
    dict
        ``{method: DataFrame(objid, label, score, kind)}``.
    """
    out = {}
    for run in runs[runs["seed"] == seed].itertuples(index=False):
        s = predictions[run.run].to_numpy()
        called = s >= run.threshold
        frame = predictions[["objid", "label"]].assign(score=s)
        missed = frame[(frame["label"] == 1) & ~called].sort_values("score").assign(kind="missed")
        false = frame[(frame["label"] == 0) & called].sort_values("score", ascending=False).assign(kind="false alarm")
        out[run.method] = pd.concat([missed, false], ignore_index=True)
    return out


def f1_halfwidth(n_known: int) -> float:
    """About how far F1's 68 % interval reaches either side with ``n_known`` test positives.

    0.43/sqrt(n) for a classifier whose purity and completeness are alike (a percentile bootstrap of F1
    from 0.3 to 0.7, measured in benchmarks/README.md, "Classifiers that learn and verdicts that can tell").

    Examples
    --------
    >>> round(f1_halfwidth(100), 3)
    0.043
    """
    return 0.43 / float(np.sqrt(max(int(n_known), 1)))


def test_source(counts: dict, n_test_survey: int) -> str:
    """Where the test set's known D-ETGs came from, in words (for the chapter's text).

    Examples
    --------
    >>> test_source({"test_source": "test survey"}, 12000)
    'every known D-ETG of a second simulated survey of 12,000 galaxies (drawn from the same population model, never trained on)'
    >>> test_source({"test_source": "survey"}, 0)
    'the known D-ETGs of the survey left out of training'
    """
    if counts.get("test_source") == "test survey":
        return (f"every known D-ETG of a second simulated survey of {n_test_survey:,} galaxies (drawn from the "
                "same population model, never trained on)")
    return "the known D-ETGs of the survey left out of training"


def scaled_down(counts: dict, n_augment: int, image_size: int, epochs: int, n_seeds: int, steps: int) -> str:
    """The sentence saying how this run differs in scale from the paper's."""
    return (f"{counts['n_train_known']} known D-ETGs and {counts['n_train_others']:,} other galaxies for training "
            f"(the paper: 100 and 10,000; the ratio 1:{counts['ratio']}), {n_augment} generated D-ETGs added, "
            f"{image_size}-pixel images (the paper: 424-pixel GZ2 images), at most {epochs} epochs, {n_seeds} training "
            f"seed(s) per method, generated images made in {steps} denoising steps (the paper: 40)")
