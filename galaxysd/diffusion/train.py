"""Fine-tune the diffusion model on (galaxy image, morphology caption) pairs, as in Section 2 and
Appendix C of Ma et al. (2026).

One readable loop in the manner of diffusers' training examples, each step named: *caption*
(re-subsample and shuffle the galaxy's tags), *encode* (sample the cached latent distribution),
*noise* (uniform timestep, Gaussian noise), *predict* (UNet on the noisy latent and the text
embedding), *loss* (MSE on the noise), *step* (AdamW, gradient clipping, warm-up + one-cycle
schedule, optional EMA), *log* (progress bar and ``loss.csv``), *checkpoint*.

API
---
- :class:`~galaxysd.diffusion.finetune_config.FinetuneConfig`: every knob of a run (JSON-serialisable).
- :func:`finetune` ``(config) -> dict``: the loop. Runs the same on one CPU, one GPU, or several
  processes started by ``torchrun``/``accelerate launch`` (``python -m galaxysd.diffusion.train
  config.json``); with ``resume=True`` it continues from the latest checkpoint.
- :func:`launch_finetune` ``(config, num_processes=1)``: in-process for one process (what the
  notebook does), otherwise a ``torchrun`` subprocess.

:func:`finetune` is a few named steps: :func:`_start` (setup and resume), :func:`_training_step`
(one step), :func:`_checkpoint` and the log, :func:`_finish`. What a step computes from its seeds
(rows, noise, learning rate, loss; :func:`~galaxysd.diffusion.objective.denoising_loss` to compare
models on one fixed batch) is :mod:`galaxysd.diffusion.objective`. The latent cache and the tiny
VAE are in :mod:`galaxysd.diffusion.latents`; the notebook's cached stages in
:mod:`galaxysd.stages.s02_finetune`.

Determinism of fine-tuning
--------------------------
All randomness of step ``s`` on process ``r`` is drawn from generators seeded by ``(seed, s, r)``
and the data order of epoch ``e`` from ``(seed, e)``, so a run needs no random state in its
checkpoints: on CPU, a run interrupted and resumed ends with the same weights as an uninterrupted one.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd
import torch

from galaxysd.cache import atomic_path, atomic_write_text
from galaxysd.diffusion import model as dmodel
from galaxysd.diffusion.finetune_config import FinetuneConfig
from galaxysd.diffusion.latents import load_latents
from galaxysd.diffusion.objective import batch_indices, lr_factor, noise_prediction_loss, step_seed
from galaxysd.errors import DataError


# ------------------------------------------------------------------------------------- checkpoints
def latest_checkpoint(output_dir: str | os.PathLike) -> Path | None:
    """The newest finished checkpoint (one with its ``training_state.pt``) under ``output_dir``."""
    done = [p for p in dmodel.checkpoint_paths(output_dir) if (p / "training_state.pt").is_file()]
    return done[-1] if done else None


def _save_checkpoint(folder: Path, pipe_parts: dict, state: dict, history: list[dict]) -> None:
    with atomic_path(folder) as tmp:
        dmodel.write_pretrained(dmodel.pipeline_from_components(pipe_parts), tmp)
        torch.save(state, tmp / "training_state.pt")
        pd.DataFrame(history).to_csv(tmp / "loss.csv", index=False)


# ------------------------------------------------------------------------------------------- setup
@dataclass
class _Run:
    """What the steps of :func:`finetune` share."""

    config: FinetuneConfig
    accelerator: Any
    out: Path
    latents: dict          # the latent cache: ``mean``, ``std``, ``objid``
    tags: list             # each training galaxy's tags (or captions), in latent order
    parts: dict            # vae, tokenizer, noise_scheduler, unet, text_encoder (the last two prepared)
    params: list           # the trained parameters (clipped together)
    optimizer: Any
    lr_scheduler: Any
    ema: Any = None
    start_step: int = 0
    history: list = field(default_factory=list)


def _training_data(config: FinetuneConfig) -> tuple[dict, list[str]]:
    """The cached latents and the tags (or captions, see ``caption_source``) they come with, checked to
    be in the manifest's order."""
    column = "caption" if config.caption_source == "caption" else "tags"
    manifest = pd.read_csv(config.manifest, dtype={column: str})
    latents = load_latents(config.latents)
    if len(latents["objid"]) != len(manifest) or not np.array_equal(
            latents["objid"].numpy(), manifest["objid"].to_numpy(np.int64)):
        raise DataError(f"latent cache {config.latents} does not match manifest {config.manifest} "
                        f"({len(latents['objid'])} vs {len(manifest)} rows); recompute the latents stage")
    return latents, manifest[column].fillna("").tolist()


def _trainable_model(config: FinetuneConfig, resume_from: Path | None) -> dict:
    """The model's parts, from the latest checkpoint if resuming, set up for training."""
    parts = dmodel.load_components(resume_from or config.base_model)
    unet, text_encoder = parts["unet"], parts["text_encoder"]
    parts["vae"].requires_grad_(False)
    text_encoder.requires_grad_(config.train_text_encoder)
    unet.train()
    # Channels-last weights let oneDNN pick faster convolution kernels: a demo training step on 2 CPU
    # cores took 0.37 s instead of 0.44 s (benchmarks/README.md, beside experiments 19-22). Only the memory
    # layout changes: saved weights load as usual.
    unet.to(memory_format=torch.channels_last)
    text_encoder.train(config.train_text_encoder)
    if config.gradient_checkpointing:
        unet.enable_gradient_checkpointing()
        if config.train_text_encoder:
            text_encoder.gradient_checkpointing_enable()
    return parts


def _optimiser(config: FinetuneConfig, unet, params: list, accelerator) -> tuple[Any, Any, Any]:
    """AdamW, its one-cycle schedule (:func:`~galaxysd.diffusion.objective.lr_factor`) and the EMA, if any."""
    peak_lr = config.learning_rate * (config.batch_size * accelerator.num_processes if config.scale_lr else 1)
    # The fused AdamW kernel: on CPU torch otherwise updates tensor by tensor, which took 10 % of a
    # demo training step (0.035 s against 0.006 s, benchmarks/README.md).
    optimizer = torch.optim.AdamW(params, lr=peak_lr, betas=(config.adam_beta1, config.adam_beta2),
                                  eps=config.adam_epsilon, weight_decay=config.weight_decay,
                                  fused=accelerator.device.type in ("cpu", "cuda"))
    lr_scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: lr_factor(s, config.max_steps, config.warmup_steps))
    ema = None
    if config.use_ema:
        from diffusers.training_utils import EMAModel

        ema = EMAModel(unet.parameters(), decay=config.ema_decay)
    return optimizer, lr_scheduler, ema


def _resume(run: _Run, folder: Path) -> None:
    """Resume: the optimiser, schedule, EMA, step and loss history of a checkpoint."""
    state = torch.load(folder / "training_state.pt", map_location="cpu", weights_only=True)
    run.optimizer.load_state_dict(state["optimizer"])
    run.lr_scheduler.load_state_dict(state["lr_scheduler"])
    if run.ema is not None and state.get("ema") is not None:
        run.ema.load_state_dict(state["ema"])
    run.start_step = int(state["step"])
    run.history = pd.read_csv(folder / "loss.csv").to_dict("records")
    if run.accelerator.is_main_process:
        print(f"resuming from {folder.name} (step {run.start_step})")


def _prepare(run: _Run) -> None:
    """Hand the trained modules and the optimiser to accelerate; put the frozen ones on its device."""
    config, accelerator, parts = run.config, run.accelerator, run.parts
    if config.train_text_encoder:
        parts["unet"], parts["text_encoder"], run.optimizer = accelerator.prepare(
            parts["unet"], parts["text_encoder"], run.optimizer)
    else:
        parts["unet"], run.optimizer = accelerator.prepare(parts["unet"], run.optimizer)
        parts["text_encoder"].to(accelerator.device, dtype=torch.float32 if accelerator.device.type == "cpu" else {
            "fp16": torch.float16, "bf16": torch.bfloat16}.get(config.mixed_precision, torch.float32))
    if run.ema is not None:
        run.ema.to(accelerator.device)


def _start(config: FinetuneConfig) -> _Run:
    """Setup: the accelerator, the output folder, the data, the model and its optimiser (resumed if asked)."""
    from galaxysd.launch import cpu_or_gpu_accelerator

    accelerator = cpu_or_gpu_accelerator(config.cpu, config.mixed_precision, config.num_threads)
    out = Path(config.output_dir)
    if accelerator.is_main_process:
        (out / "checkpoints").mkdir(parents=True, exist_ok=True)
        atomic_write_text(out / "config.json", config.to_json())
    accelerator.wait_for_everyone()
    latents, tags = _training_data(config)
    resume_from = latest_checkpoint(out) if config.resume else None
    parts = _trainable_model(config, resume_from)
    # The model is saved as built for the size it is trained at: SD v1.5 ships a sample size of 64
    # latents (512 px), and generation without an explicit size draws at that native size, so a model
    # fine-tuned on 424 px galaxies (53x53 latents) would draw 512 px images. The tiny model is built
    # at its training size already.
    parts["unet"].register_to_config(sample_size=int(latents["mean"].shape[-1]))
    params = list(parts["unet"].parameters()) + (
        list(parts["text_encoder"].parameters()) if config.train_text_encoder else [])
    optimizer, lr_scheduler, ema = _optimiser(config, parts["unet"], params, accelerator)
    run = _Run(config, accelerator, out, latents, tags, parts, params, optimizer, lr_scheduler, ema)
    if resume_from is not None:
        _resume(run, resume_from)
    _prepare(run)
    return run


# ---------------------------------------------------------------------------------------- one step
def _noisy_batch(run: _Run, step: int) -> tuple[torch.Tensor, ...]:
    """caption, encode, noise: this process's batch of ``step``, every draw seeded by (seed, step, rank)."""
    from galaxysd.gz2 import caption_from_tags

    config, accelerator = run.config, run.accelerator
    rank, device = accelerator.process_index, accelerator.device
    tokenizer, noise_scheduler = run.parts["tokenizer"], run.parts["noise_scheduler"]
    # caption: re-subsample and shuffle each galaxy's tags (or drop the caption for guidance)
    idx = batch_indices(step, len(run.tags), config.batch_size, accelerator.num_processes, rank, config.seed)
    rng = np.random.default_rng([config.seed, step, rank])
    if config.caption_source == "caption":  # one of the row's written alternatives
        captions = [str(rng.choice(run.tags[i].split("|"))) for i in idx]
    else:
        captions = [caption_from_tags(run.tags[i], rng, keep_prob=config.caption_keep_prob) for i in idx]
    drop = rng.random(len(captions)) < config.caption_dropout
    captions = ["" if d else c for c, d in zip(captions, drop)]
    ids = tokenizer(captions, padding="max_length", max_length=tokenizer.model_max_length,
                    truncation=True, return_tensors="pt").input_ids.to(device)
    # encode: sample the cached latent distribution; noise: uniform timesteps
    gen = torch.Generator().manual_seed(step_seed(config.seed, step, rank))
    mean, std = run.latents["mean"][idx], run.latents["std"][idx]
    z = (mean + std * torch.randn(mean.shape, generator=gen)) * float(run.parts["vae"].config.scaling_factor)
    noise = torch.randn(z.shape, generator=gen)
    t = torch.randint(0, noise_scheduler.config.num_train_timesteps, (len(idx),), generator=gen)
    noisy = noise_scheduler.add_noise(z, noise, t)
    return ids, noisy.to(device), noise.to(device), t.to(device)


def _training_step(run: _Run, step: int) -> float:
    """predict, loss, step: one optimiser step; returns the loss averaged over the processes."""
    config, accelerator = run.config, run.accelerator
    unet, text_encoder = run.parts["unet"], run.parts["text_encoder"]
    ids, noisy, noise, t = _noisy_batch(run, step)
    with accelerator.autocast():
        if config.train_text_encoder:
            cond = text_encoder(ids)[0]
        else:
            with torch.no_grad():
                cond = text_encoder(ids)[0]
        pred = unet(noisy, t, cond).sample
    loss = noise_prediction_loss(pred, noise, t, run.parts["noise_scheduler"], config.snr_gamma)
    accelerator.backward(loss)
    if accelerator.sync_gradients and config.max_grad_norm:
        accelerator.clip_grad_norm_(run.params, config.max_grad_norm)
    run.optimizer.step()
    run.lr_scheduler.step()
    run.optimizer.zero_grad(set_to_none=True)
    if run.ema is not None:
        run.ema.step(accelerator.unwrap_model(unet).parameters())
    return float(accelerator.gather(loss.detach().reshape(1)).mean())


# ------------------------------------------------------------------------------ checkpoint, finish
def _pipeline_parts(run: _Run) -> dict:
    unwrap = run.accelerator.unwrap_model
    return dict(vae=run.parts["vae"], tokenizer=run.parts["tokenizer"], noise_scheduler=run.parts["noise_scheduler"],
                unet=unwrap(run.parts["unet"]), text_encoder=unwrap(run.parts["text_encoder"]))


def _checkpoint(run: _Run, step: int) -> None:
    """checkpoint: a loadable pipeline with the state to resume from; older ones lose that state."""
    accelerator, optimizer = run.accelerator, run.optimizer
    accelerator.wait_for_everyone()
    if accelerator.is_main_process:
        state = {"step": step, "optimizer": optimizer.optimizer.state_dict()
                 if hasattr(optimizer, "optimizer") else optimizer.state_dict(),
                 "lr_scheduler": run.lr_scheduler.state_dict(),
                 "ema": run.ema.state_dict() if run.ema is not None else None}
        _save_checkpoint(run.out / "checkpoints" / f"step-{step:06d}", _pipeline_parts(run), state, run.history)
        # Only the newest checkpoint needs the optimiser state to resume (for SD v1.5 it is
        # twice the size of the weights); older ones stay loadable pipelines.
        for old in dmodel.checkpoint_paths(run.out)[:-1]:
            (old / "training_state.pt").unlink(missing_ok=True)
        if run.config.keep_checkpoints:
            for old in dmodel.checkpoint_paths(run.out)[:-run.config.keep_checkpoints]:
                shutil.rmtree(old)
    accelerator.wait_for_everyone()


def _finish(run: _Run, interrupted: bool) -> Path | None:
    """finish: ``loss.csv``, and the final model (the EMA weights, if kept) unless interrupted."""
    accelerator, model_dir = run.accelerator, None
    if accelerator.is_main_process:
        atomic_write_text(run.out / "loss.csv",
                          pd.DataFrame(run.history, columns=["step", "loss", "lr"]).to_csv(index=False))
        if not interrupted:
            parts = _pipeline_parts(run)
            if run.ema is not None:
                run.ema.copy_to(parts["unet"].parameters())
            model_dir = dmodel.save_pipeline(parts, run.out / "model")
    accelerator.wait_for_everyone()
    if model_dir is None and not interrupted:
        model_dir = run.out / "model"
    return model_dir


# ---------------------------------------------------------------------------------------- the loop
def finetune(config: FinetuneConfig | dict) -> dict:
    """Fine-tune the UNet (and the text encoder) on cached latents and re-subsampled captions.

    Parameters
    ----------
    config : FinetuneConfig or dict

    Returns
    -------
    dict
        ``model_dir`` (final pipeline folder, ``None`` if stopped early), ``loss_csv``, ``steps``
        (last step done), ``interrupted`` (bool), ``seconds`` (wall time of the loop).

    Raises
    ------
    DataError
        If the latent cache does not match the manifest.

    Examples
    --------
    >>> finetune(FinetuneConfig(base_model="base", manifest="manifest.csv", latents="latents.safetensors",
    ...                         output_dir="train", max_steps=10))  # doctest: +SKIP
    """
    from galaxysd.progress import progress_bar

    if isinstance(config, dict):
        config = FinetuneConfig.from_dict(config)
    run = _start(config)
    images_per_step = config.batch_size * run.accelerator.num_processes
    t0 = time.perf_counter()
    bar = progress_bar(range(run.start_step, config.max_steps), initial=run.start_step, total=config.max_steps,
                       desc="fine-tune", disable=not (config.progress and run.accelerator.is_main_process))
    interrupted = False
    for step in bar:
        loss = _training_step(run, step)
        # log
        run.history.append({"step": step + 1, "loss": loss, "lr": run.optimizer.param_groups[0]["lr"]})
        images_per_s = (step + 1 - run.start_step) * images_per_step / (time.perf_counter() - t0)
        bar.set_postfix(loss=f"{loss:.4f}", images_per_s=f"{images_per_s:.1f}", refresh=False)
        # checkpoint
        done = step + 1
        if done % config.checkpoint_every == 0 or done == config.max_steps or done == config.stop_after:
            _checkpoint(run, done)
        if config.stop_after is not None and done >= config.stop_after and done < config.max_steps:
            interrupted = True
            break
    bar.close()
    seconds = time.perf_counter() - t0
    model_dir = _finish(run, interrupted)
    return {"model_dir": model_dir, "loss_csv": run.out / "loss.csv",
            "steps": len(run.history) and run.history[-1]["step"], "interrupted": interrupted, "seconds": seconds}


def launch_finetune(config: FinetuneConfig | dict, num_processes: int = 1) -> dict:
    """Run :func:`finetune` in this process, or in ``num_processes`` processes through ``torchrun``.

    Parameters
    ----------
    config : FinetuneConfig or dict
    num_processes : int, optional
        1 runs in-process (the notebook's way); more start ``torchrun --nproc_per_node N`` (one per GPU,
        or CPU processes when ``config.cpu``) and wait for it.

    Returns
    -------
    dict
        As :func:`finetune`; for several processes, ``model_dir`` and ``loss_csv`` only.

    Raises
    ------
    GalaxySDError
        If the worker processes fail.
    """
    if isinstance(config, dict):
        config = FinetuneConfig.from_dict(config)
    if num_processes <= 1:
        return finetune(config)
    from galaxysd.launch import torchrun

    out = Path(config.output_dir)
    torchrun("galaxysd.diffusion.train", config.to_json(), out, num_processes, "fine-tuning")
    return {"model_dir": out / "model", "loss_csv": out / "loss.csv"}


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of worker processes: ``python -m galaxysd.diffusion.train config.json``."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if len(argv) != 1:
        raise SystemExit("usage: python -m galaxysd.diffusion.train CONFIG.json")
    finetune(FinetuneConfig.from_dict(json.loads(Path(argv[0]).read_text())))


if __name__ == "__main__":
    main()
