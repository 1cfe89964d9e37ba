"""Chapter 05: realism, diversity and consistency of the generated galaxies across training, as cached stages.

=================================  ===========================================================
stage folder                       holds
=================================  ===========================================================
``05_quality/judges``              ``judges.json`` (11 linear judges), ``report.csv`` (held-out
                                   accuracy), ``truth.csv`` (accuracy against the simulation)
``05_quality/judge_check``         ``check.csv`` (per checked feature: the linear judge beside a
                                   ResNet-18 of its own, on the same held-out galaxies),
                                   ``predictions.csv``, ``features/<n>/`` (one network each),
                                   ``timing.json``
``05_quality/generated``           ``step-N/``: the Table 1 galaxies of checkpoint N (the generation
                                   engine of :mod:`galaxysd.diffusion.batch`: resumable)
``05_quality/metrics``             ``per_prompt.csv`` (R, D, C per prompt and step),
                                   ``per_image.csv``, ``beyond.csv`` (FID, KID, PRDC, memorisation)
=================================  ===========================================================

Every checkpoint generates the same plan: the same prompts, seeds and reference galaxies, so a change
between checkpoints is the model's, and it can be bootstrapped image by image.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from tqdm.auto import tqdm

from galaxysd import gz2
from galaxysd.cache import TIMING_FILE, atomic_write_text, run_stage, stage_timing  # noqa: F401 (the chapter reads it here)
from galaxysd.diffusion import batch
from galaxysd.diffusion.latents import load_images
from galaxysd.diffusion.plan import plan_samples
from galaxysd.diffusion.sample import SamplerSettings
from galaxysd.errors import DataError
from galaxysd.evaluation import distances, judge_check, metrics
from galaxysd.evaluation.judges import JUDGE_FEATURES, Judges, condition_truth, fit_judges, truth_accuracy
from galaxysd.evaluation.probe import split_indices, tag_matrix
from galaxysd.evaluation.simclr import embed
from galaxysd.paths import RunPaths
from galaxysd.stages import s04_embedding as s04

STAGE = "05_quality"

#: Prompt types of Figure 5: Table 1 letters grouped by the kind of galaxy they ask for.
PROMPT_TYPES = {"smooth (A, B, D)": "ABD", "edge-on (C, L, N)": "CLN", "spiral (F-J)": "FGHIJ",
                "rare features (E, K, M, O, P)": "EKMOP"}


def prompt_type(letter: str) -> str:
    """The Figure 5 type of a Table 1 letter."""
    return next(name for name, letters in PROMPT_TYPES.items() if letter in letters)


def _real(run_dir) -> tuple[pd.DataFrame, np.ndarray]:
    galaxies, vectors, _ = s04.embedded_galaxies(run_dir)
    return galaxies, vectors


def judges_stage(paths: RunPaths, test_fraction: float = 0.3, seed: int = 0, min_positive: int = 10):
    """Train the 11 judges on the real labelled galaxies' embeddings (``05_quality/judges``).

    Returns
    -------
    (Judges, pandas.DataFrame)
        The judges (their ``report`` holds held-out accuracy and balanced accuracy per feature) and,
        on a simulated survey, each judge's accuracy against the simulation's truth on the held-out
        galaxies (empty on real data).

    Examples
    --------
    >>> judges, truth = judges_stage(paths)  # doctest: +SKIP
    """
    def compute(out: Path) -> None:
        galaxies, vectors = _real(paths.run)
        judges = fit_judges(vectors, tag_matrix(galaxies["tags"], JUDGE_FEATURES), test_fraction, seed, min_positive)
        judges.save(out / "judges.json")
        truth_frame = simulated_truth(paths.run, galaxies["objid"])
        if truth_frame is not None:
            _, test = split_indices(len(galaxies), test_fraction, seed)
            truth_accuracy(judges, vectors[test], truth_frame.iloc[test].reset_index(drop=True)).to_csv(out / "truth.csv")

    params = {"test_fraction": test_fraction, "seed": seed, "min_positive": min_positive,
              "features": list(JUDGE_FEATURES)}
    result = run_stage(paths.run, f"{STAGE}/judges", params, compute, inputs=[Path(paths.run) / s04.STAGE / "embed"])
    truth_file = result.path / "truth.csv"
    truth = pd.read_csv(truth_file).set_index("feature") if truth_file.is_file() else pd.DataFrame()
    return Judges.load(result.path / "judges.json"), truth


def simulated_truth(run_dir, objids) -> pd.DataFrame | None:
    """What the simulator drew for each judged feature of these galaxies, or ``None`` on real data."""
    from galaxysd.gz2.catalog import RECOVERY_CHECKS

    try:
        truth = gz2.truth_table(run_dir)
    except DataError:
        return None
    t = truth.set_index("objid").loc[np.asarray(objids)].reset_index()
    for col in ("spiral", "edge_on", "bar", "ring", "merger", "dust_lane"):
        t[col] = t[col].astype(str).str.lower().eq("true")
    return pd.DataFrame({f: t.eval(RECOVERY_CHECKS[f]).to_numpy(bool) for f in JUDGE_FEATURES if f in RECOVERY_CHECKS})


def judge_check_stage(paths: RunPaths, judges: Judges, features, config, image_size: int,
                      test_fraction: float = 0.3, seed: int = 0, val_fraction: float = 0.1, max_train: int = 0,
                      n_resamples: int = 1000, min_held_out: int = judge_check.MIN_HELD_OUT,
                      progress: bool = True) -> pd.DataFrame:
    """Each checked judge beside a ResNet-18 trained on images for its feature alone (``05_quality/judge_check``).

    The networks learn from the judges' own training part (:func:`galaxysd.evaluation.probe.split_indices`
    with the same ``test_fraction`` and ``seed``), less a validation slice that chooses the best
    epoch and the decision threshold (:func:`galaxysd.classify.train.train_and_predict`, the rule of
    chapter 06), and answer for the same held-out galaxies as the heads
    (:func:`galaxysd.evaluation.judge_check.compare_judges`). A feature whose held-out galaxies are
    too few for a verdict, or that has no linear judge, trains no network. Each finished network
    leaves its answers in ``features/<n>/``, so an interrupted stage resumes feature by feature.

    Parameters
    ----------
    paths : RunPaths
    judges : Judges
        The linear judges of :func:`judges_stage`.
    features : sequence of str
        Tag phrases of judged features, or ``["all"]``.
    config : galaxysd.classify.train.TrainConfig
        The networks' training settings (``output_dir``, ``seed`` and ``progress`` are set here);
        ``num_workers`` > 0 reads images from their files in loader processes, 0 decodes them once
        into memory.
    image_size : int
        Side in pixels the images are resized to.
    test_fraction, seed
        The judges' split (as given to :func:`judges_stage`).
    val_fraction : float, optional
        Share of the training part kept for validation.
    max_train : int, optional
        Galaxies the networks fit on, drawn at random from the rest (0: all).
    n_resamples : int, optional
        Paired bootstrap resamples of the held-out galaxies.
    min_held_out : int, optional
        Fewest held-out galaxies with (and without) a feature for a verdict on it.
    progress : bool, optional

    Returns
    -------
    pandas.DataFrame
        Index: feature; the columns of :data:`galaxysd.evaluation.judge_check.COLUMNS` plus
        ``n_fit``, ``n_val``, ``best_epoch`` and ``threshold``.

    Raises
    ------
    ParameterError
        If a feature is not a judged one.

    Examples
    --------
    >>> table = judge_check_stage(paths, judges, ["spiral galaxy"], TrainConfig(epochs=2), 32)  # doctest: +SKIP
    """
    features = judge_check.resolve_features(features)
    skip = ("output_dir", "progress", "num_threads", "num_workers", "stop_after", "seed")
    params = {"features": features, "config": {k: v for k, v in vars(config).items() if k not in skip},
              "image_size": image_size, "test_fraction": test_fraction, "seed": seed, "val_fraction": val_fraction,
              "max_train": max_train, "n_resamples": n_resamples, "min_held_out": min_held_out}

    def compute(out: Path) -> None:
        began = time.perf_counter()
        galaxies, vectors = _real(paths.run)
        train, test = split_indices(len(galaxies), test_fraction, seed)
        fit, val = judge_check.training_parts(train, val_fraction, max_train, seed)
        labels = tag_matrix(galaxies["tags"], features).to_numpy(bool)
        files = galaxies["image_path"].to_numpy()
        images = _check_images(files, {"fit": fit, "val": val, "test": test}, image_size, config.num_workers)
        rows, answers = [], {"objid": galaxies["objid"].to_numpy()[test]}
        for i, feature in enumerate(tqdm(features, desc="judge check", disable=not progress)):
            y = labels[:, i]
            head = judges.answers(vectors[test], [feature])[feature].to_numpy() if feature in judges.features else None
            network, info = None, {}
            if head is not None and judge_check.enough_held_out(y[test], min_held_out) and y[val].any() and y[fit].any():
                network, info = _check_network(out / "features" / f"{i:02d}", feature, y, images, image_size,
                                               dataclasses.replace(config, seed=seed, progress=False))
                answers.update({f"{feature}|label": y[test], f"{feature}|head": head, f"{feature}|network": network})
            row = judge_check.compare_judges(y[test], head, network, n_resamples=n_resamples, seed=seed,
                                             min_held_out=min_held_out)
            rows.append({"feature": feature, **row, "n_fit": len(fit), "n_val": len(val), **info})
        atomic_write_text(out / "check.csv", pd.DataFrame(rows).to_csv(index=False))
        atomic_write_text(out / "predictions.csv", pd.DataFrame(answers).to_csv(index=False))
        atomic_write_text(out / TIMING_FILE, json.dumps({"seconds": round(time.perf_counter() - began, 2),
                                                         "features": len(features), "fit": len(fit),
                                                         "threads": torch.get_num_threads()}))

    inputs = [Path(paths.run) / s04.STAGE / "embed", Path(paths.run) / STAGE / "judges"]
    result = run_stage(paths.run, f"{STAGE}/judge_check", params, compute, inputs=inputs)
    return pd.read_csv(result.path / "check.csv").set_index("feature")


def _check_images(files: np.ndarray, parts: dict, size: int, num_workers: int) -> dict:
    """Per part: its image files, and (no loader workers) the images decoded once into memory."""
    from galaxysd.classify.data import read_images

    return {name: (files[rows], read_images(list(files[rows]), size) if num_workers == 0 else None, rows)
            for name, rows in parts.items()}


def _check_network(folder: Path, feature: str, y: np.ndarray, images: dict, size: int, config) -> tuple[np.ndarray, dict]:
    """Train (or read back) one feature's ResNet-18 and return its answers for the held-out galaxies."""
    from galaxysd.classify.data import ArrayDataset, FileDataset
    from galaxysd.classify.train import train_and_predict

    if not (folder / "result.json").is_file():
        sets = [ArrayDataset(pixels, y[rows]) if pixels is not None else FileDataset(list(files), y[rows], size)
                for files, pixels, rows in (images[p] for p in ("fit", "val", "test"))]
        result = train_and_predict(*sets, dataclasses.replace(config, output_dir=str(folder)))
        np.save(folder / "test_pred.npy", result["test_pred"].astype(bool))
        atomic_write_text(folder / "result.json", json.dumps(
            {"feature": feature, "best_epoch": result["best_epoch"], "threshold": result["threshold"]}))
        for heavy in ("checkpoint", "best.safetensors"):  # 45 MB a network: its answers are what is kept
            target = folder / heavy
            shutil.rmtree(target) if target.is_dir() else target.unlink(missing_ok=True)
    info = json.loads((folder / "result.json").read_text())
    return np.load(folder / "test_pred.npy"), {"best_epoch": info["best_epoch"], "threshold": info["threshold"]}


@dataclass
class Checkpoint:
    """One model to judge: its training step and its diffusers folder."""

    step: int
    path: Path


def checkpoints(run_dir, max_checkpoints: int = 0) -> list[Checkpoint]:
    """The checkpoints ``02_finetune`` saved, oldest first (at most ``max_checkpoints``, evenly spread, the last kept).

    Raises
    ------
    DataError
        If ``02_finetune`` saved no checkpoint in this run folder.

    Examples
    --------
    >>> chosen = checkpoints(paths.run)  # doctest: +SKIP
    """
    from galaxysd.diffusion import model as dmodel

    found = [Checkpoint(dmodel.checkpoint_step(p), p) for p in dmodel.checkpoint_paths(run_dir)]
    if not found:
        raise DataError(f"no checkpoints under {Path(run_dir) / dmodel.STAGE / 'train' / 'checkpoints'}; "
                        "run notebook 02_finetune first (with checkpoint_every > 0)")
    if max_checkpoints and len(found) > max_checkpoints:
        keep = np.unique(np.round(np.linspace(0, len(found) - 1, max_checkpoints)).astype(int))
        found = [found[i] for i in keep]
    return found


def generate_checkpoints(paths: RunPaths, chosen: list[Checkpoint], letters: str, n_per_prompt: int,
                         settings: SamplerSettings, seed: int = 0, batch_size: int = 16, dtype: str = "float32") -> dict:
    """Generate the same Table 1 plan with every checkpoint (stage ``05_quality/generated``).

    Each checkpoint's images are a :func:`galaxysd.diffusion.batch.generation_stage` of their own,
    ``step-N/``, inside the stage; an interrupted run resumes image by image, and a finished one is
    loaded without loading any model.

    Returns
    -------
    dict
        Step -> :func:`galaxysd.diffusion.batch.read_generated` of its images.

    Examples
    --------
    >>> generated = generate_checkpoints(paths, chosen, "ABCD", 4, SamplerSettings(steps=12))  # doctest: +SKIP
    """
    from galaxysd.diffusion import model as dmodel

    manifest_path = gz2.training_manifest_path(paths.run)
    manifest = gz2.read_training_manifest(manifest_path)
    references = dict(zip(manifest["objid"].astype(int), manifest["image_path"]))
    prompts = {letter: gz2.TABLE1_PROMPTS[letter] for letter in letters}
    plan = plan_samples(prompts, n_per_prompt, seed, references=list(references))
    device = "cuda" if torch.cuda.is_available() else "cpu"

    def compute(out: Path) -> None:
        for ckpt in chosen:
            pipe = dmodel.load_pipeline(ckpt.path, device=device,
                                        dtype=getattr(torch, dtype) if device == "cuda" else torch.float32)
            batch.generation_stage(out, f"step-{ckpt.step:06d}", pipe, plan, settings, references, batch_size,
                                   inputs=[ckpt.path, manifest_path])

    params = {"plan": plan.to_dict("list"), "settings": dataclasses.asdict(settings), "dtype": dtype,
              "device": device, "steps": [c.step for c in chosen]}
    result = run_stage(paths.run, f"{STAGE}/generated", params, compute,
                       inputs=[*(c.path for c in chosen), manifest_path])
    return {c.step: batch.read_generated(result.path / f"step-{c.step:06d}") for c in chosen}


def real_masks(galaxies: pd.DataFrame, letters: str) -> dict:
    """Per Table 1 letter, which real galaxies carry all of its tags."""
    tags = tag_matrix(galaxies["tags"], sorted({t for letter in letters for t in gz2.TABLE1_TAGS[letter]}))
    return {letter: tags[list(gz2.TABLE1_TAGS[letter])].all(axis=1).to_numpy() for letter in letters}


def metrics_stage(paths: RunPaths, generated: dict, judges: Judges, letters: str, seed: int = 0,
                  prdc_k: int = 5) -> dict:
    """Realism, diversity, consistency per prompt and step, and the metrics beyond the paper (``05_quality/metrics``).

    Returns
    -------
    dict
        ``per_prompt`` (step, letter, n_real, n_generated, realism, diversity, consistency, note),
        ``per_image`` (step, sample_id, label, realism, diversity) and ``beyond`` (per step: FID,
        KID, precision, recall, density, coverage, memorisation) data frames.

    Examples
    --------
    >>> measured = metrics_stage(paths, generated, judges, "ABCD")  # doctest: +SKIP
    """
    def compute(out: Path) -> None:
        galaxies, vectors = _real(paths.run)
        model, size = s04.load_encoder(paths.run)
        masks = real_masks(galaxies, letters)
        truths = {k: {f: v for f, v in condition_truth(gz2.TABLE1_TAGS[k]).items() if f in judges.features}
                  for k in letters}
        in_training = galaxies["objid"].isin(gz2.read_training_manifest(paths.run)["objid"]).to_numpy()
        rows, images, beyond = [], [], []
        for step, frame in sorted(generated.items()):
            gen = embed(model, load_images(frame["path"].tolist(), size, progress=False))
            answers = judges.answers(gen)
            table = metrics.condition_table(vectors, masks, gen, frame["label"], answers, truths)
            rows.append(table.reset_index().assign(step=step))
            for letter in letters:
                mine = (frame["label"] == letter).to_numpy()
                if masks[letter].any() and mine.any():
                    values = metrics.per_image(vectors[masks[letter]], gen[mine])
                    images.append(values.assign(step=step, sample_id=frame.loc[mine, "sample_id"].to_numpy(), label=letter))
            beyond.append({"step": step, **_beyond(vectors, gen, in_training, seed, prdc_k)})
        pd.concat(rows, ignore_index=True).to_csv(out / "per_prompt.csv", index=False)
        pd.concat(images, ignore_index=True).to_csv(out / "per_image.csv", index=False)
        pd.DataFrame(beyond).to_csv(out / "beyond.csv", index=False)

    inputs = [Path(paths.run) / s04.STAGE / "embed", Path(paths.run) / STAGE / "judges",
              Path(paths.run) / STAGE / "generated"]
    result = run_stage(paths.run, f"{STAGE}/metrics", {"letters": letters, "seed": seed, "prdc_k": prdc_k}, compute,
                       inputs=inputs)
    read = {name: pd.read_csv(result.path / f"{name}.csv", dtype={"condition": str, "label": str, "sample_id": str})
            for name in ("per_prompt", "per_image", "beyond")}
    read["per_prompt"]["note"] = read["per_prompt"]["note"].fillna("")
    return read


def _beyond(real: np.ndarray, gen: np.ndarray, in_training: np.ndarray, seed: int, k: int) -> dict:
    row = {"fid": distances.fid(real, gen)}
    row["kid"], row["kid_std"] = distances.kid(real, gen, subset_size=min(1000, len(gen)), n_subsets=10, seed=seed)
    if min(len(real), len(gen)) > k:
        row.update(distances.prdc(real, gen, k=k))
    if in_training.any() and (~in_training).any():
        row.update({f"memo_{key}": value for key, value in
                    distances.memorisation(real[in_training], gen, real[~in_training]).items()})
    return row


def curves(per_prompt: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Global R, D, C per step (means over prompts) and realism per prompt per step (Figure 4)."""
    glob = per_prompt.groupby("step")[["realism", "diversity", "consistency"]].mean()
    by_prompt = per_prompt.pivot(index="step", columns="condition", values="realism")
    return glob, by_prompt


def change_between(per_image: pd.DataFrame, first: int, last: int, column: str, seed: int = 0) -> tuple[float, float, float]:
    """The paired change of a metric between two steps (:func:`galaxysd.evaluation.metrics.paired_change`)."""
    a = per_image[per_image.step == first].set_index("sample_id")
    b = per_image[per_image.step == last].set_index("sample_id")
    common = a.index.intersection(b.index)
    if len(common) == 0:
        raise DataError(f"no generated galaxy was measured at both step {first} and step {last}")
    return metrics.paired_change(a.loc[common, column], b.loc[common, column], a.loc[common, "label"], seed=seed)


def change_sentence(name: str, change: tuple[float, float, float], first: int, last: int) -> str:
    """A verdict on a change between two steps that says only what its 95 % interval allows."""
    value, low, high = change
    span = f"{value:+.3f} (95 % interval {low:+.3f} to {high:+.3f})"
    if low > 0:
        return f"{name} rose from step {first} to step {last} by {span}"
    if high < 0:
        return f"{name} fell from step {first} to step {last} by {span}"
    return f"{name} changed by {span} from step {first} to step {last}: too little to tell a rise from a fall"
