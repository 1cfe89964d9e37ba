"""Batch generation to disk: a manifest, resumption and sharding over processes.

A *plan* (:func:`galaxysd.diffusion.plan.plan_samples`) lists every image to make (sample id,
prompt, seed, reference galaxy). :func:`generate_to_disk` makes the plan's images in batches,
writes each as ``<sample_id>.png`` and records it in this process's manifest,
``manifest-rank<r>.csv``; a rerun skips the samples already recorded (resume), and process ``r`` of
``n`` only takes the rows ``r, r + n, r + 2n, ...`` (sharding). :func:`merge_manifests` joins the
per-process manifests into ``manifest.csv`` and checks that every planned sample is there once.
:func:`generation_stage` makes a plan as a cached stage of the run folder, and
:func:`generation_inputs` loads what generation needs from a run (the trained model, the real
galaxies to draw references from).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from galaxysd.cache import atomic_write_text
from galaxysd.diffusion.plan import PLAN_COLUMNS
from galaxysd.diffusion.prompts import parse_weighted_prompt
from galaxysd.diffusion.saved import SavedPipeline, as_pipeline, key_facts
from galaxysd.diffusion.sample import (SamplerSettings, generate, load_images, native_resolution,
                                       save_png)
from galaxysd.diffusion.weighting import EMPHASIS_RULE, MEAN_TOLERANCE
from galaxysd.errors import GalaxySDError, ParameterError

MANIFEST_COLUMNS = ("file", "sample_id", "label", "prompt", "weights", "seed", "reference_id", "mode",
                    "scheduler", "steps", "guidance", "strength", "resolution", "rank")
MANIFEST_NAME = "manifest.csv"


def shard_from_env() -> tuple[int, int]:
    """This process's rank and the number of processes, from ``torchrun``/``accelerate launch``."""
    return int(os.environ.get("RANK", 0)), int(os.environ.get("WORLD_SIZE", 1))


def _manifests(out_dir: Path) -> list[Path]:
    return sorted(out_dir.glob("manifest-rank*.csv"))


def _read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype={"file": str, "sample_id": str, "label": str, "prompt": str,
                                    "weights": str, "mode": str, "scheduler": str}, keep_default_na=False)


def done_samples(out_dir: str | os.PathLike) -> set[str]:
    """Sample ids recorded by any process's manifest whose image file exists."""
    out_dir = Path(out_dir)
    done: set[str] = set()
    for path in _manifests(out_dir):
        frame = _read(path)
        done |= {sid for sid, file in zip(frame["sample_id"], frame["file"]) if (out_dir / file).is_file()}
    return done


def generate_to_disk(pipe, plan: pd.DataFrame, out_dir: str | os.PathLike, settings: SamplerSettings,
                     reference_paths: Mapping[int, str] | None = None, batch_size: int = 8,
                     rank: int | None = None, world_size: int | None = None,
                     progress: bool = True) -> pd.DataFrame:
    """Generate this process's share of a plan into ``out_dir``, skipping what is already there.

    Parameters
    ----------
    pipe : diffusers.StableDiffusionPipeline
        The model.
    plan : pandas.DataFrame
        From :func:`galaxysd.diffusion.plan.plan_samples`.
    out_dir : str or path-like
        Folder for ``<sample_id>.png`` and ``manifest-rank<r>.csv``.
    settings : SamplerSettings
        Scheduler, steps, guidance, strength (``None`` = text-to-image), resolution.
    reference_paths : mapping, optional
        Reference id -> image path; needed for image-to-image.
    batch_size : int, optional
        Images per pipeline call.
    rank, world_size : int, optional
        Shard of this process; by default from the environment (:func:`shard_from_env`).
    progress : bool, optional
        Show a progress bar.

    Returns
    -------
    pandas.DataFrame
        This process's manifest (columns :data:`MANIFEST_COLUMNS`), including earlier runs' rows.

    Raises
    ------
    ParameterError
        If image-to-image is asked for without references, or the shard is invalid.

    Examples
    --------
    >>> generate_to_disk(pipe, plan, out, SamplerSettings(), paths_by_objid)  # doctest: +SKIP
    """
    from galaxysd.progress import progress_bar as tqdm  # the runner shows it in the terminal

    env_rank, env_world = shard_from_env()
    rank = env_rank if rank is None else int(rank)
    world_size = env_world if world_size is None else int(world_size)
    if not 0 <= rank < world_size:
        raise ParameterError(f"generate_to_disk: rank {rank} is not in [0, {world_size})")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    resolution = settings.resolution or native_resolution(pipe)
    img2img = settings.strength is not None
    if img2img:
        missing = set(plan["reference_id"]) - set(reference_paths or {})
        if missing:
            raise ParameterError(f"generate_to_disk: no image path for reference id(s) {sorted(missing)[:5]}; "
                                 "pass reference_paths={objid: image_path}")
    own = out_dir / f"manifest-rank{rank}.csv"
    manifest = _read(own) if own.is_file() else pd.DataFrame(columns=list(MANIFEST_COLUMNS))
    done = done_samples(out_dir)
    manifest = manifest[manifest["sample_id"].isin(done)]
    todo = plan.iloc[rank::world_size]
    todo = todo[~todo["sample_id"].isin(done)]
    bar = tqdm(total=len(todo), desc=f"generate ({settings.mode}, rank {rank}/{world_size})",
               disable=not progress or len(todo) == 0)
    for start in range(0, len(todo), batch_size):
        batch = todo.iloc[start:start + batch_size]
        references = (load_images([reference_paths[r] for r in batch["reference_id"]], resolution)
                      if img2img else None)
        images = generate(pipe, list(batch["prompt"]), list(batch["seed"]), settings, references)
        rows = []
        for image, row in zip(images, batch.itertuples(index=False)):
            file = f"{row.sample_id}.png"
            save_png(image, out_dir / file)
            weights = [[s.text, s.weight] for s in parse_weighted_prompt(row.prompt)]
            rows.append(dict(file=file, sample_id=row.sample_id, label=row.label, prompt=row.prompt,
                             weights=json.dumps(weights), seed=int(row.seed),
                             reference_id=int(row.reference_id) if img2img else -1, mode=settings.mode,
                             scheduler=settings.scheduler, steps=settings.steps, guidance=settings.guidance,
                             strength=settings.strength if img2img else "", resolution=resolution, rank=rank))
        new = pd.DataFrame(rows, columns=list(MANIFEST_COLUMNS))
        manifest = pd.concat([manifest, new], ignore_index=True) if len(manifest) else new
        atomic_write_text(own, manifest.to_csv(index=False))
        bar.update(len(batch))
    bar.close()
    return manifest.reset_index(drop=True)


def merge_manifests(out_dir: str | os.PathLike, plan: pd.DataFrame | None = None) -> pd.DataFrame:
    """Join the per-process manifests into ``manifest.csv``, in plan order.

    Parameters
    ----------
    out_dir : str or path-like
        The generation folder.
    plan : pandas.DataFrame, optional
        If given, every planned sample must be present exactly once and nothing else.

    Returns
    -------
    pandas.DataFrame
        The merged manifest.

    Raises
    ------
    GalaxySDError
        If a sample appears twice, or (with ``plan``) a planned sample is missing or an unplanned one
        is present: rerun :func:`generate_to_disk` to fill the gaps.
    """
    out_dir = Path(out_dir)
    parts = [_read(p) for p in _manifests(out_dir)]
    merged = (pd.concat(parts, ignore_index=True) if parts
              else pd.DataFrame(columns=list(MANIFEST_COLUMNS)))
    duplicated = merged.loc[merged["sample_id"].duplicated(), "sample_id"].tolist()
    if duplicated:
        raise GalaxySDError(f"{out_dir}: sample(s) generated twice: {duplicated[:5]}")
    if plan is not None:
        missing = sorted(set(plan["sample_id"]) - set(merged["sample_id"]))
        extra = sorted(set(merged["sample_id"]) - set(plan["sample_id"]))
        if missing or extra:
            raise GalaxySDError(f"{out_dir}: manifest does not match the plan: {len(missing)} missing "
                                f"(e.g. {missing[:3]}), {len(extra)} unplanned (e.g. {extra[:3]}); "
                                "rerun generate_to_disk for every rank")
        order = {sid: i for i, sid in enumerate(plan["sample_id"])}
        merged = merged.iloc[np.argsort([order[s] for s in merged["sample_id"]], kind="stable")]
    merged = merged.reset_index(drop=True)
    atomic_write_text(out_dir / MANIFEST_NAME, merged.to_csv(index=False))
    return merged


def read_generated(out_dir: str | os.PathLike) -> pd.DataFrame:
    """The merged manifest of a generation folder, with absolute image paths in ``path``."""
    out_dir = Path(out_dir)
    path = out_dir / MANIFEST_NAME
    if not path.is_file():
        raise GalaxySDError(f"{path} does not exist; run generate_to_disk and merge_manifests first")
    frame = _read(path)
    frame["path"] = [str(out_dir / f) for f in frame["file"]]
    return frame


def generation_stage(run_dir: str | os.PathLike, name: str, pipe, plan: pd.DataFrame, settings: SamplerSettings,
                     reference_paths: Mapping[int, str] | None = None, batch_size: int = 8,
                     inputs: Sequence[str | os.PathLike] = (), progress: bool = True):
    """Generate a plan as a cached stage ``<run_dir>/<name>/`` (images, ``manifest.csv``, ``timing.json``).

    The stage key covers the plan (prompts, seeds, references) and the settings, and ``inputs``
    should name the model's folder and the training manifest, so a change of any of them regenerates.
    An interrupted run leaves its images in the stage's partial folder and the next call resumes there.

    Parameters
    ----------
    run_dir : str or path-like
        The profile's run folder.
    name : str
        Stage name, e.g. ``"03_generate/img2img"``.
    pipe : diffusers.StableDiffusionPipeline or galaxysd.diffusion.saved.SavedPipeline
        The model; a ``SavedPipeline`` is loaded only if images must be drawn.
    plan, settings, reference_paths, batch_size, progress
        As for :func:`generate_to_disk` (one process).
    inputs : sequence of path-like, optional
        Files or stage folders the images depend on.

    Returns
    -------
    galaxysd.cache.StageResult
        The stage folder holds the images and the merged manifest.
    """
    import dataclasses
    import time

    from galaxysd.cache import run_stage

    native, dtype, device = key_facts(pipe)  # a SavedPipeline answers without loading its weights
    settings = dataclasses.replace(settings, resolution=settings.resolution or native)

    def compute(out: Path) -> None:
        began = time.perf_counter()
        before = len(done_samples(out))
        loaded = as_pipeline(pipe)
        generate_to_disk(loaded, plan, out, settings, reference_paths, batch_size, rank=0, world_size=1,
                         progress=progress)
        merge_manifests(out, plan)
        made = len(plan) - before
        seconds = time.perf_counter() - began
        atomic_write_text(out / "timing.json", json.dumps(
            {"seconds": seconds, "images": made, "seconds_per_image": seconds / max(made, 1),
             "batch_size": batch_size, "device": str(loaded.device)}, indent=2))

    params = {"plan": plan.loc[:, list(PLAN_COLUMNS)].to_dict("list"), "settings": dataclasses.asdict(settings),
              "dtype": dtype, "device": device,
              "emphasis": {"rule": EMPHASIS_RULE, "tolerance": MEAN_TOLERANCE}}
    return run_stage(run_dir, name, params, compute, inputs=list(inputs))


@dataclass
class GenerationInputs:
    """What notebook ``03_generate`` samples with: the trained model and the pool of real galaxies.

    Attributes
    ----------
    model : galaxysd.diffusion.saved.SavedPipeline or diffusers.StableDiffusionPipeline
        The model ``02_finetune`` saved, on the GPU when there is one; loaded only when an image must
        be drawn (a rebuild whose images are cached never loads it).
    manifest : pandas.DataFrame
        The training manifest of ``01_data`` (real examples and image-to-image references).
    size : int
        Image side in pixels.
    prompts : dict of str to str
        The chosen Table 1 prompts by letter.
    reference_paths : dict of int to str
        objID to image file of every real galaxy a reference can be drawn from.
    stage_inputs : list of pathlib.Path
        The model's stage folder and the training manifest (what generated images depend on).
    """

    model: Any
    manifest: pd.DataFrame
    size: int
    prompts: dict
    reference_paths: dict
    stage_inputs: list

    @property
    def pipe(self):
        """The loaded pipeline (loads the saved model on first access)."""
        return as_pipeline(self.model)


def generation_inputs(run_dir: str | os.PathLike, letters: str = "ABCDEFGHIJKLMNOP", resolution: int = 0,
                      dtype: str = "float32") -> GenerationInputs:
    """Load the trained model of a run and its real galaxies for generation.

    Parameters
    ----------
    run_dir : str or path-like
        The profile's run folder (``02_finetune/train/model`` and the ``01_data`` training manifest).
    letters : str, optional
        Table 1 prompts to generate (letters A-P).
    resolution : int, optional
        Image side in pixels; 0 = the model's own size.
    dtype : str, optional
        Weight dtype on a GPU (``float32``, ``float16``, ``bfloat16``); always float32 on the CPU.

    Returns
    -------
    GenerationInputs

    Raises
    ------
    ParameterError
        If a letter is not one of Table 1's.

    Examples
    --------
    >>> inputs = generation_inputs(paths.run, "ABCD")  # doctest: +SKIP
    """
    import torch

    from galaxysd import gz2
    from galaxysd.diffusion import model as dmodel

    prompts = gz2.table1_subset(letters, "letters", allow_empty=True)
    model_dir = dmodel.trained_model_path(run_dir)
    manifest_path = gz2.training_manifest_path(run_dir)
    manifest = gz2.read_training_manifest(manifest_path)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    model = SavedPipeline(model_dir, device=device,
                          dtype=getattr(torch, dtype) if device == "cuda" else torch.float32)
    return GenerationInputs(model=model, manifest=manifest, size=resolution or model.resolution,
                            prompts=prompts,
                            reference_paths=dict(zip(manifest["objid"].astype(int), manifest["image_path"])),
                            stage_inputs=[model_dir.parent, manifest_path])


def main(argv: Sequence[str] | None = None) -> int:
    """Generate a plan with several processes: ``torchrun --nproc_per_node N -m galaxysd.diffusion.batch``.

    Every process loads the model, takes its share of the plan (rank ``r`` of ``N``, from the
    environment that ``torchrun`` or ``accelerate launch`` sets), and writes its images and
    ``manifest-rank<r>.csv``; when all have finished, rank 0 writes the merged ``manifest.csv``.
    """
    import argparse

    import torch

    from galaxysd.diffusion.model import load_pipeline

    parser = argparse.ArgumentParser(prog="python -m galaxysd.diffusion.batch", description=main.__doc__.split("\n")[0])
    parser.add_argument("--model", required=True, help="diffusers model folder, run folder or Hub id")
    parser.add_argument("--plan", required=True, help="CSV written from plan_samples()")
    parser.add_argument("--out", required=True, help="output folder")
    parser.add_argument("--references", default=None, help="CSV with objid and image_path (image-to-image)")
    parser.add_argument("--scheduler", default="euler_a")
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--guidance", type=float, default=6.5)
    parser.add_argument("--strength", type=float, default=None, help="image-to-image strength; omit for text-to-image")
    parser.add_argument("--resolution", type=int, default=None)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--threads", type=int, default=0, help="CPU threads per process (0: torch default)")
    args = parser.parse_args(argv)

    rank, world = shard_from_env()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = "cpu"
    if torch.cuda.is_available():
        device = f"cuda:{int(os.environ.get('LOCAL_RANK', 0)) % torch.cuda.device_count()}"
    pipe = load_pipeline(args.model, device=device, dtype=torch.float16 if device != "cpu" else torch.float32)
    plan = pd.read_csv(args.plan, dtype={"sample_id": str, "label": str, "prompt": str}, keep_default_na=False)
    refs = None
    if args.references:
        table = pd.read_csv(args.references)
        refs = dict(zip(table["objid"].astype(int), table["image_path"]))
    settings = SamplerSettings(scheduler=args.scheduler, steps=args.steps, guidance=args.guidance,
                               strength=args.strength, resolution=args.resolution)
    generate_to_disk(pipe, plan, args.out, settings, refs, args.batch_size, rank=rank, world_size=world,
                     progress=rank == 0)
    if world > 1:
        import torch.distributed as dist

        dist.init_process_group("gloo")
        dist.barrier()
        dist.destroy_process_group()
    if rank == 0:
        merged = merge_manifests(args.out, plan)
        print(f"[galaxysd.diffusion.batch] {len(merged)} images in {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
