"""Chapter 06 (Table 2): binary morphology classifiers with and without generated positives.

Cached stages of the run folder:

``06_classification/test_survey``, ``06_classification/test_labels``
    On a simulated survey, an extra survey to test on and its labelled catalogue
    (:mod:`galaxysd.gz2.testsurvey`): its labelled galaxies with images join the test part.
``06_classification/generated/<task>``
    The task's generated positives (:func:`galaxysd.classify.generated.generate_positives`): the
    largest number any run asks for, image to image from real references of the training part.
``06_classification/train/<task>``
    Every training run of the task (method x number of generated positives x seed):
    ``predictions.csv`` (test galaxies: ``objid``, ``label``, ``truth`` and one score column per
    run), ``runs.csv`` (per run: threshold, best epoch, training-set counts), ``history.csv``. Each
    run's checkpoint lives in ``runs/<run>/`` until it finishes, so an interrupted stage resumes.
``06_classification/scores``
    ``scores.csv``: purity, completeness and F1 per task, method and number of generated positives,
    against the volunteers' labels and (simulated surveys) against the truth, with bootstrap
    intervals and the spread over seeds; ``differences.csv``: every method against the baseline,
    paired by seed, with an interval over seeds and test galaxies and its verdict
    (:func:`galaxysd.classify.compare.differences`).
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from galaxysd.cache import atomic_write_text, run_stage
from galaxysd.classify import generated as gen
from galaxysd.classify import splits
from galaxysd.classify.compare import differences, score_task, verdicts  # noqa: F401  (the chapter calls s06.verdicts)
from galaxysd.errors import DataError, ParameterError

STAGE = "06_classification"
#: The methods of Table 2: (name, loss, uses generated positives).
METHODS = (("baseline", "bce", False), ("focal", "focal", False), ("augmented", "bce", True))
#: Bump when the training recipe changes, so cached runs made the old way are not reused.
RECIPE = 3


@dataclass
class Sample:
    """The labelled galaxies with images, each assigned to a part of the split.

    Attributes
    ----------
    catalog : pandas.DataFrame
        Labelled catalogue rows with an image, with a ``part`` column (train / val / test).
    truth : pandas.DataFrame or None
        The simulated survey's truth, aligned with ``catalog`` (``None`` on real data).
    labels_stage : pathlib.Path
        The ``01_data/labels`` stage folder (an input of every stage here).
    test_stage : pathlib.Path or None
        The extra test survey's stage (:func:`test_survey_stage`), if its galaxies are test galaxies.
    """

    catalog: pd.DataFrame
    truth: pd.DataFrame | None
    labels_stage: Path
    test_stage: Path | None = None

    @property
    def inputs(self) -> list[Path]:
        return [self.labels_stage] + ([self.test_stage] if self.test_stage is not None else [])

    def fraction(self, labels) -> float:
        """A task's positive fraction in the run's own survey (the test survey left out)."""
        own = (self.catalog["source"] == "survey").to_numpy() if "source" in self.catalog else slice(None)
        return splits.positive_fraction(np.asarray(labels, float)[own])


def test_survey_stage(run_dir, n_galaxies: int, progress: bool = True) -> Path | None:
    """An extra simulated test survey of ``n_galaxies`` (:mod:`galaxysd.gz2.testsurvey`), as the cached
    stages ``06_classification/test_survey`` (its files) and ``06_classification/test_labels`` (its
    labelled catalogue, the folder returned); ``None`` when ``n_galaxies`` is 0 or the run reads real data."""
    from galaxysd import gz2
    from galaxysd.gz2 import testsurvey

    if n_galaxies <= 0 or gz2.reads_real_data(run_dir):
        return None
    labels = Path(run_dir) / gz2.LABELS_STAGE
    params = {"n_galaxies": n_galaxies, "seed_offset": testsurvey.SEED_OFFSET, "simulator": gz2.SIMULATOR_VERSION}
    survey = run_stage(run_dir, f"{STAGE}/test_survey", params, inputs=[labels], compute=lambda out: (
        testsurvey.simulate_test_survey(out, labels, n_galaxies, progress)))
    return run_stage(run_dir, f"{STAGE}/test_labels", {}, inputs=[labels, survey.path], compute=lambda out: (
        testsurvey.label_test_survey(survey.path, out, labels))).path


def load_sample(run_dir, seed: int = 0, test_fraction: float = 0.1, val_fraction: float = 0.1,
                test_survey: Path | None = None) -> Sample:
    """The labelled galaxies with images of a run, split 90/10 into training and test, 10 % of training held out.

    With ``test_survey`` (:func:`test_survey_stage`), that survey's labelled galaxies are test
    galaxies too, after the run's own (column ``source``: ``"survey"`` or ``"test survey"``).

    Examples
    --------
    >>> sample = load_sample(paths.run, seed=0)  # doctest: +SKIP
    """
    from galaxysd import gz2

    catalog = gz2.labelled_catalog(run_dir)
    catalog = catalog[(catalog["n_tags"] > 0) & (catalog["image_path"] != "")].reset_index(drop=True)
    catalog["part"] = splits.split_sample(len(catalog), seed, test_fraction, val_fraction)
    try:
        truth = gz2.truth_table(run_dir).set_index("objid").loc[catalog["objid"]].reset_index()
    except DataError:
        truth = None
    catalog["source"] = "survey"
    if test_survey is not None:
        from galaxysd.gz2.testsurvey import read_test_survey

        extra, extra_truth = read_test_survey(test_survey, exclude=catalog["objid"])
        catalog = pd.concat([catalog, extra.assign(part="test", source="test survey")], ignore_index=True)
        truth = pd.concat([truth, extra_truth], ignore_index=True) if truth is not None else None
    return Sample(catalog, truth, Path(run_dir) / gz2.LABELS_STAGE, test_survey)


def fractions_table(sample: Sample, tasks: Sequence[str], negatives: str = "not_positive") -> pd.DataFrame:
    """Per task: positives, negatives and the positive fraction of the run's own sample, beside the paper's."""
    rows = []
    own = sample.catalog[sample.catalog["source"] == "survey"] if "source" in sample.catalog else sample.catalog
    for task in tasks:
        y = splits.task_labels(own, task, negatives)
        rows.append({"task": task, "positives": int((y == 1).sum()), "negatives": int((y == 0).sum()),
                     "fraction": round(splits.positive_fraction(y), 3),
                     "paper fraction": splits.PAPER_FRACTIONS.get(task)})
    return pd.DataFrame(rows).set_index("task")


def prompts_table(task_prompts: dict) -> pd.DataFrame:
    """Which Table 1 prompts make each task's generated positives (checked to name the task's tag)."""
    rows = [{"task": task, "letter": letter, "prompt": prompt}
            for task, letters in task_prompts.items()
            for letter, prompt in gen.task_prompts(task, letters).items()]
    return pd.DataFrame(rows).set_index(["task", "letter"])


def run_plan(seeds: Sequence[int], multiples: Sequence[float], ours: float) -> pd.DataFrame:
    """Every training run of a task: method, number of generated positives (x real positives), seed.

    Raises
    ------
    ParameterError
        If there are no seeds, a multiple is not positive, or ``ours`` is not among ``multiples``.
    """
    if not seeds:
        raise ParameterError("seeds: at least one training seed is needed")
    if any(m <= 0 for m in multiples) or ours not in multiples:
        raise ParameterError(f"generated_multiples={list(multiples)} must be positive and hold "
                             f"ours_multiple={ours}")
    rows = [(name, loss, 0.0) for name, loss, uses in METHODS if not uses]
    rows += [("augmented", "bce", float(m)) for m in multiples]
    return pd.DataFrame([{"run": f"{name}-x{m:g}-seed{s}", "method": name, "loss": loss, "multiple": m, "seed": int(s)}
                         for s in seeds for name, loss, m in rows])


def generated_count(sample: Sample, task: str, negatives: str, n_negatives: int, seed: int,
                    multiples: Sequence[float]) -> tuple[splits.TrainingSet, int]:
    """The task's training set and how many generated positives the largest multiple needs."""
    y = splits.task_labels(sample.catalog, task, negatives)
    chosen = splits.training_set(y, sample.catalog["part"].to_numpy(), n_negatives, sample.fraction(y),
                                 seed, task)
    return chosen, int(round(max(multiples) * chosen.n_positive))


def training_sets_table(counts: dict, generated: dict) -> pd.DataFrame:
    """Per task: the training set's positives and negatives, what the training part offered, and the
    number of generated positives made for the largest multiple."""
    rows = {task: {**c.counts(), "generated": generated[task]} for task, c in counts.items()}
    frame = pd.DataFrame(rows).T
    frame["fraction"] = frame["fraction"].astype(float).round(3)
    return frame.astype({c: int for c in frame.columns if c != "fraction"})


def generate_task_positives(run_dir, sample: Sample, inputs, task: str, letters: str, n: int, seed: int,
                            settings, batch_size: int = 16) -> pd.DataFrame:
    """The task's generated positives (cached stage); references are training-part galaxies of 01's manifest."""
    train_ids = set(sample.catalog.loc[sample.catalog["part"] == "train", "objid"].astype(int))
    pool = [r for r in inputs.reference_paths if r in train_ids]  # no test or validation galaxy leaks in
    return gen.generate_positives(run_dir, f"{STAGE}/generated/{task}", inputs, gen.task_prompts(task, letters),
                                  n, seed, pool, settings, batch_size)


def _datasets(paths: Sequence[str], labels: np.ndarray, size: int, preload: bool, cache: dict):
    from galaxysd.classify.data import ArrayDataset, FileDataset, read_image

    if not preload:
        return FileDataset(paths, labels, size)
    for p in paths:
        if p not in cache:
            cache[p] = read_image(p, size)
    images = np.stack([cache[p] for p in paths]) if len(paths) else np.zeros((0, size, size, 3), np.uint8)
    return ArrayDataset(images, labels)


def train_task(run_dir, sample: Sample, task: str, generated: pd.DataFrame | None, generated_stage: Path | None,
               config, plan: pd.DataFrame, negatives: str, n_negatives: int, split_seed: int, image_size: int,
               preload: bool = True, num_processes: int = 1, progress: bool = True):
    """Every training run of one task, as the cached stage ``06_classification/train/<task>``.

    Parameters
    ----------
    run_dir : path-like
    sample : Sample
    task : str
    generated : pandas.DataFrame or None
        The task's generated positives (plan order); needed if ``plan`` has augmented runs.
    generated_stage : pathlib.Path or None
        Their stage folder (an input of this stage).
    config : galaxysd.classify.train.TrainConfig
        Settings shared by every run (``loss``, ``seed`` and ``output_dir`` are set per run).
    plan : pandas.DataFrame
        :func:`run_plan`.
    negatives, n_negatives, split_seed
        How the training set is drawn (:func:`galaxysd.classify.splits.training_set`).
    image_size : int
        Side the images are resized to.
    preload : bool, optional
        Decode every image once into memory (small samples) rather than in loader workers.
    num_processes : int, optional
        Processes per training run (several GPUs).

    Returns
    -------
    galaxysd.cache.StageResult
    """
    params = {"recipe": RECIPE, "task": task, "config": {k: v for k, v in vars(config).items()
                                                         if k not in ("output_dir", "progress", "num_threads",
                                                                      "num_workers", "stop_after", "seed", "loss")},
              "plan": plan.to_dict("list"), "negatives": negatives, "n_negatives": n_negatives,
              "split_seed": split_seed, "split": sample.catalog["part"].tolist(), "image_size": image_size}
    inputs = sample.inputs + ([generated_stage] if generated_stage is not None else [])

    def compute(out: Path) -> None:
        from tqdm.auto import tqdm

        data = _task_data(sample, task, negatives, n_negatives, split_seed, image_size, preload)
        scores, rows, histories = {}, [], []
        for run in tqdm(list(plan.itertuples(index=False)), desc=f"train {task}", disable=not progress):
            folder = out / "runs" / run.run
            n_gen = int(round(run.multiple * data.chosen.n_positive))
            if not (folder / "result.json").is_file():
                _train_run(folder, run, n_gen, data, generated, config, task, num_processes)
            info = json.loads((folder / "result.json").read_text())
            if (folder / "generated.json").is_file():
                info["generated_accepted"] = json.loads((folder / "generated.json").read_text())["accepted"]
            scores[run.run] = np.load(folder / "test_scores.npy")
            histories.append(pd.read_csv(folder / "history.csv"))
            rows.append({**run._asdict(), **info, "n_generated": n_gen, **data.chosen.counts()})
        truth = (splits.task_truth(sample.truth, task).to_numpy()[data.test_rows].astype(float)
                 if sample.truth is not None else np.full(len(data.test_rows), np.nan))
        frame = pd.DataFrame({"objid": sample.catalog["objid"].to_numpy()[data.test_rows],
                              "label": data.y[data.test_rows], "truth": truth, **scores})
        atomic_write_text(out / "predictions.csv", frame.to_csv(index=False))
        atomic_write_text(out / "runs.csv", pd.DataFrame(rows).to_csv(index=False))
        atomic_write_text(out / "history.csv", pd.concat(histories).to_csv(index=False))

    return run_stage(run_dir, f"{STAGE}/train/{task}", params, compute, inputs=inputs)


@dataclass
class _TaskData:
    """A task's labels, its drawn training set and the datasets every run of the task shares."""

    y: np.ndarray
    chosen: splits.TrainingSet
    test_rows: np.ndarray
    real: object
    val: object
    test: object
    image_size: int
    preload: bool
    cache: dict

    def dataset(self, paths: Sequence[str], labels: np.ndarray):
        return _datasets(list(paths), labels, self.image_size, self.preload, self.cache)


def _task_data(sample: Sample, task: str, negatives: str, n_negatives: int, split_seed: int, image_size: int,
               preload: bool) -> _TaskData:
    """Label the sample for ``task``, draw its training set and read the training, validation and test images."""
    cat = sample.catalog
    y = splits.task_labels(cat, task, negatives).to_numpy()
    parts = cat["part"].to_numpy()
    chosen = splits.training_set(y, parts, n_negatives, sample.fraction(y), split_seed, task)
    val_rows, test_rows = splits.evaluation_rows(y, parts, "val"), splits.evaluation_rows(y, parts, "test")
    if not (y[val_rows] == 1).any():
        raise DataError(f"task {task!r}: the validation part has no positives, so no threshold can be "
                        "chosen; raise val_fraction or use a larger sample")
    paths = cat["image_path"].to_numpy()
    cache: dict = {}
    real = _datasets(list(paths[chosen.rows]), y[chosen.rows], image_size, preload, cache)
    val = _datasets(list(paths[val_rows]), y[val_rows], image_size, preload, cache)
    test = _datasets(list(paths[test_rows]), y[test_rows], image_size, preload, cache)
    return _TaskData(y, chosen, test_rows, real, val, test, image_size, preload, cache)


def _train_run(folder: Path, run, n_gen: int, data: _TaskData, generated: pd.DataFrame | None, config,
               task: str, num_processes: int) -> None:
    """Train one run of the plan into ``folder``: test scores, history, threshold and best epoch, and (a
    baseline run) the share of generated positives it accepts; the weights are then deleted."""
    from galaxysd.classify.train import predict, train_and_predict

    train_set = data.real
    if n_gen:
        from galaxysd.classify.data import concat

        extra = gen.select_generated(generated, n_gen, task)
        train_set = concat(data.real, data.dataset(extra["path"], np.ones(n_gen)))
    result = train_and_predict(train_set, data.val, data.test, replace(
        config, output_dir=str(folder), loss=run.loss, seed=run.seed, progress=False), num_processes)
    np.save(folder / "test_scores.npy", result["test_scores"])
    if run.method == "baseline" and generated is not None and len(generated):
        # How real-trained classifiers see the generated positives: the share they accept.
        made = data.dataset(generated["path"], np.ones(len(generated)))
        accepted = float((predict(result["model"], made, config.eval_batch_size, config.crop)
                          >= result["threshold"]).mean())
        atomic_write_text(folder / "generated.json", json.dumps({"accepted": accepted}))
    result["history"].assign(run=run.run).to_csv(folder / "history.csv", index=False)
    atomic_write_text(folder / "result.json", json.dumps(
        {"threshold": result["threshold"], "best_epoch": result["best_epoch"],
                 "epochs_run": result["epochs_run"]}))
    for heavy in ("checkpoint", "best.safetensors"):  # 45 MB a run: predictions are what is kept
        target = folder / heavy
        shutil.rmtree(target) if target.is_dir() else target.unlink(missing_ok=True)


def read_task(stage_dir) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``predictions.csv`` and ``runs.csv`` of a task's training stage."""
    stage_dir = Path(stage_dir)
    return pd.read_csv(stage_dir / "predictions.csv"), pd.read_csv(stage_dir / "runs.csv")


def score_stage(run_dir, task_stages: dict, confidence: float = 0.68, n_resamples: int = 1000,
                seed: int = 0):
    """Scores of every task against the labels and (simulated surveys) the truth, as a cached stage;
    beside them the paired differences of every method from the baseline (:func:`read_differences`)."""
    def compute(out: Path) -> None:
        frames, diffs = [], []
        for task, stage in task_stages.items():
            predictions, runs = read_task(stage.path)
            for against in ("label", "truth"):
                if predictions[against].notna().all():
                    frames.append(score_task(predictions, runs, against, confidence, n_resamples, seed)
                                  .assign(task=task, against=against))
                    if (runs["method"] != "baseline").any():
                        diffs.append(differences(predictions, runs, against, n_resamples=2 * n_resamples,
                                                 seed=seed).assign(task=task))
        atomic_write_text(out / "scores.csv", pd.concat(frames, ignore_index=True).to_csv(index=False))
        atomic_write_text(out / "differences.csv",
                          (pd.concat(diffs, ignore_index=True) if diffs else pd.DataFrame()).to_csv(index=False))

    params = {"confidence": confidence, "n_resamples": n_resamples, "seed": seed, "tasks": list(task_stages),
              "paired": 1}
    stage = run_stage(run_dir, f"{STAGE}/scores", params, compute, inputs=[s.path for s in task_stages.values()])
    return pd.read_csv(stage.path / "scores.csv")


def read_differences(run_dir) -> pd.DataFrame:
    """The paired differences written by :func:`score_stage` (``differences.csv``)."""
    return pd.read_csv(Path(run_dir) / STAGE / "scores" / "differences.csv")


def stage_seconds(run_dir) -> dict:
    """What computing each stage of this chapter took (seconds, from the stage records)."""
    out = {}
    for record in sorted(Path(run_dir, STAGE).rglob("stage.json")):
        out[str(record.parent.relative_to(run_dir))] = json.loads(record.read_text()).get("seconds", float("nan"))
    return out


def now() -> float:
    """Wall clock for the chapter's timing."""
    return time.perf_counter()


def generation_inputs(run_dir, dtype: str = "float32"):
    """The trained model and the real galaxies of a run (:func:`galaxysd.diffusion.batch.generation_inputs`)."""
    from galaxysd.diffusion import batch

    return batch.generation_inputs(run_dir, letters="", dtype=dtype)


def generated_stage(run_dir, task: str) -> Path:
    """The stage folder of a task's generated positives."""
    return Path(run_dir) / STAGE / "generated" / task


def processes(num_processes: int) -> int:
    """Processes per training run: ``0`` means one per GPU (one on a CPU)."""
    import torch

    if num_processes > 0:
        return num_processes
    return max(torch.cuda.device_count(), 1)


def acceptance(task_stages: dict, scores: pd.DataFrame) -> pd.DataFrame:
    """Per task: the share of generated positives the baseline classifiers call positive, beside their
    completeness on real test positives (both at the validation threshold, mean over seeds).

    A generated galaxy that looks like the real positives should be accepted about as often as a real
    positive is found; a much smaller share means the generated images lack what the classifier
    learnt to recognise in real ones.
    """
    rows = []
    for task, stage in task_stages.items():
        runs = read_task(stage.path)[1]
        base = runs[runs["method"] == "baseline"]
        if "generated_accepted" not in base or base["generated_accepted"].isna().all():
            continue
        real = scores[(scores["task"] == task) & (scores["against"] == "label") & (scores["method"] == "baseline")
                      & (scores["score"] == "completeness")]["value"].iloc[0]
        rows.append({"task": task, "generated accepted": round(float(base["generated_accepted"].mean()), 2),
                     "real test positives found": round(float(real), 2)})
    return pd.DataFrame(rows).set_index("task") if rows else pd.DataFrame()


def scaled_down(n_negatives: int, image_size: int, epochs: int, n_seeds: int, steps: int, n_sample: int,
                patience: int = 0) -> str:
    """The sentence saying how this run differs in scale from the paper's."""
    training = (f"at most {epochs} epochs, stopping once validation has not improved for {patience}" if patience
                else f"{epochs} epochs")
    return (f"{n_negatives:,} negatives per training set (the paper: 10,000), {n_sample:,} labelled galaxies "
            f"with images (the paper: about 71,000), {image_size}-pixel images (the paper: 424-pixel GZ2 "
            f"images), {training}, {n_seeds} training seeds per method, generated images made in "
            f"{steps} denoising steps (the paper: 40)")
