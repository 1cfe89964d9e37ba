"""Fine-tune the diffusion model on (galaxy image, morphology caption) pairs, as in Section 2 and
Appendix C of Ma et al. (2026).

One readable loop in the manner of diffusers' training examples, each step named: *caption*
(re-subsample and shuffle the galaxy's tags), *encode* (sample the cached latent distribution),
*noise* (uniform timestep, Gaussian noise), *predict* (UNet on the noisy latent and the text
embedding), *loss* (MSE on the noise), *step* (AdamW, gradient clipping, warm-up + one-cycle
schedule, optional EMA), *log* (progress bar and ``loss.csv``), *checkpoint*.

API
---
- :class:`FinetuneConfig`: every knob of a run (JSON-serialisable).
- :func:`finetune` ``(config) -> dict``: the loop. Runs the same on one CPU, one GPU, or several
  processes started by ``torchrun``/``accelerate launch`` (``python -m galaxysd.diffusion.train
  config.json``); with ``resume=True`` it continues from the latest checkpoint.
- :func:`launch_finetune` ``(config, num_processes=1)``: in-process for one process (what the
  notebook does), otherwise a ``torchrun`` subprocess.
- :func:`denoising_loss`: the loss on one fixed batch (to compare models).

The latent cache and the tiny VAE are in :mod:`galaxysd.diffusion.latents`; the notebook's cached
stages in :mod:`galaxysd.stages.s02_finetune`.

Determinism
-----------
All randomness of step ``s`` on process ``r`` is drawn from generators seeded by ``(seed, s, r)``
and the data order of epoch ``e`` from ``(seed, e)``, so a run needs no random state in its
checkpoints: on CPU, a run interrupted and resumed ends with the same weights as an uninterrupted one.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import sys
import time
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from galaxysd.cache import atomic_write_text
from galaxysd.diffusion import model as dmodel
from galaxysd.diffusion.latents import load_latents
from galaxysd.errors import DataError, ParameterError



# --------------------------------------------------------------------------------------- the config
@dataclass
class FinetuneConfig:
    """Every setting of a fine-tuning run.

    Attributes
    ----------
    base_model : str
        Model to start from: a diffusers folder (tiny base or checkpoint) or a Hub id.
    manifest : str
        Training manifest CSV (columns ``objid``, ``image_path``, ``tags``, ``caption``).
    latents : str
        Latent cache from :func:`cache_latents`, rows in manifest order.
    output_dir : str
        Where ``checkpoints/``, ``model/`` and ``loss.csv`` go.
    max_steps : int
        Optimiser steps.
    batch_size : int
        Images per process per step.
    learning_rate : float
        Peak learning rate, or per image when ``scale_lr`` (paper: 1e-7 x 16 = 1.6e-6).
    scale_lr : bool
        Multiply ``learning_rate`` by the total batch (``batch_size`` x processes).
    warmup_steps : int
        Linear warm-up from 1/25 of the peak; then cosine annealing to zero (one cycle).
    weight_decay, adam_beta1, adam_beta2, adam_epsilon : float
        AdamW settings (paper: weight decay 1e-3).
    max_grad_norm : float
        Gradient clipping (paper: 1.0).
    snr_gamma : float or None
        Min-SNR loss weighting (Hang et al. 2023): each image's noise error is weighted by
        ``min(SNR(t), snr_gamma) / SNR(t)``, so the easy, nearly noise-free timesteps stop dominating
        the gradient. ``None`` (the paper) is the plain epsilon MSE.
    train_text_encoder : bool
        Fine-tune the CLIP text encoder too (paper: yes); ``False`` freezes it.
    caption_keep_prob : float
        Probability of keeping each tag when a caption is re-subsampled.
    caption_dropout : float
        Probability of training on the empty caption, which classifier-free guidance needs for a
        model trained from scratch (SD v1.5 already has it; paper: 0).
    mixed_precision : str
        ``"no"``, ``"fp16"`` or ``"bf16"``; ignored (``"no"``) on CPU.
    gradient_checkpointing : bool
        Trade compute for memory (GPU).
    use_ema : bool
        Keep an exponential moving average of the UNet and save it as the final model.
    ema_decay : float
    checkpoint_every : int
        Save a checkpoint every so many steps: a loadable pipeline, plus the optimiser state
        (``training_state.pt``) in the newest one only.
    keep_checkpoints : int or None
        Keep only the newest so many; ``None`` keeps all (notebook 05 compares them).
    seed : int
    resume : bool
        Continue from the latest checkpoint under ``output_dir`` if there is one.
    stop_after : int or None
        Stop (after checkpointing) once this step is reached, as an interruption would.
    cpu : bool
        Force the CPU even if a GPU is present.
    num_threads : int or None
        ``torch.set_num_threads`` for CPU runs.
    progress : bool
        Show the progress bar.
    """

    base_model: str
    manifest: str
    latents: str
    output_dir: str
    max_steps: int = 100
    batch_size: int = 16
    learning_rate: float = 1e-4
    scale_lr: bool = False
    warmup_steps: int = 10
    weight_decay: float = 1e-3
    adam_beta1: float = 0.9
    adam_beta2: float = 0.999
    adam_epsilon: float = 1e-8
    max_grad_norm: float = 1.0
    snr_gamma: float | None = None
    train_text_encoder: bool = True
    caption_keep_prob: float = 0.7
    caption_dropout: float = 0.0
    mixed_precision: str = "no"
    gradient_checkpointing: bool = False
    use_ema: bool = False
    ema_decay: float = 0.9999
    checkpoint_every: int = 50
    keep_checkpoints: int | None = None
    seed: int = 0
    resume: bool = True
    stop_after: int | None = None
    cpu: bool = False
    num_threads: int | None = None
    progress: bool = True

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2)

    @classmethod
    def from_dict(cls, values: dict) -> "FinetuneConfig":
        """Build a config, naming any unknown key."""
        known = {f.name for f in fields(cls)}
        unknown = set(values) - known
        if unknown:
            raise ParameterError(f"FinetuneConfig: unknown setting(s) {sorted(unknown)}; known: {sorted(known)}")
        return cls(**values)


def lr_factor(step: int, max_steps: int, warmup_steps: int) -> float:
    """The one-cycle schedule: linear warm-up from 1/25 to 1, then cosine annealing to 0.

    Examples
    --------
    >>> lr_factor(0, 100, 10), lr_factor(10, 100, 10), lr_factor(100, 100, 10)
    (0.04, 1.0, 0.0)
    """
    warmup = min(max(warmup_steps, 0), max_steps)
    if step < warmup:
        return 0.04 + 0.96 * step / warmup
    span = max(1, max_steps - warmup)
    return 0.5 * (1.0 + math.cos(math.pi * min(step - warmup, span) / span))


def step_seed(*keys: int) -> int:
    """A 63-bit seed derived from integers (``seed, step, rank``)."""
    return int(np.random.SeedSequence([int(k) for k in keys]).generate_state(2, dtype=np.uint64)[0] >> 1)


def batch_indices(step: int, n_items: int, batch_size: int, num_processes: int, rank: int,
                  seed: int) -> np.ndarray:
    """Rows that process ``rank`` trains on at ``step``.

    The stream of rows is the concatenation of one seeded permutation per epoch; step ``s`` takes the
    next ``batch_size * num_processes`` rows, and each process its own slice of them, so no row is
    used twice within an epoch and the order does not depend on where a run was resumed.
    """
    start = (step * num_processes + rank) * batch_size
    pos = np.arange(start, start + batch_size)
    epochs = pos // n_items
    out = np.empty(batch_size, dtype=np.int64)
    for epoch in np.unique(epochs):
        perm = np.random.default_rng([seed, int(epoch)]).permutation(n_items)
        sel = epochs == epoch
        out[sel] = perm[pos[sel] % n_items]
    return out


def denoising_loss(unet, text_encoder, tokenizer, noise_scheduler, latents: torch.Tensor,
                   captions: Sequence[str], seed: int = 0) -> float:
    """The training loss on one fixed batch: same noise, timesteps and captions for a given seed.

    Parameters
    ----------
    unet, text_encoder, tokenizer, noise_scheduler
        Model parts (:func:`galaxysd.diffusion.model.load_components`).
    latents : torch.Tensor
        Scaled latents (N, C, h, w).
    captions : sequence of str
        One caption per latent.
    seed : int, optional
        Seed of the noise and timesteps.

    Returns
    -------
    float
        Mean squared error of the predicted noise.
    """
    gen = torch.Generator().manual_seed(seed)
    noise = torch.randn(latents.shape, generator=gen)
    t = torch.randint(0, noise_scheduler.config.num_train_timesteps, (len(latents),), generator=gen)
    ids = tokenizer(list(captions), padding="max_length", max_length=tokenizer.model_max_length,
                    truncation=True, return_tensors="pt").input_ids
    device = next(unet.parameters()).device
    with torch.no_grad():
        cond = text_encoder(ids.to(device))[0]
        pred = unet(noise_scheduler.add_noise(latents, noise, t).to(device), t.to(device), cond).sample
    return float(noise_prediction_loss(pred.cpu(), noise, t, noise_scheduler))


def noise_prediction_loss(pred: torch.Tensor, noise: torch.Tensor, timesteps: torch.Tensor, noise_scheduler,
                          snr_gamma: float | None = None) -> torch.Tensor:
    """The training loss: mean squared error of the predicted noise, optionally Min-SNR weighted.

    Parameters
    ----------
    pred, noise : torch.Tensor
        Predicted and true noise (N, C, h, w).
    timesteps : torch.Tensor
        The (N,) training timesteps.
    noise_scheduler : diffusers.DDPMScheduler
        Its ``alphas_cumprod`` give the signal-to-noise ratio of each timestep.
    snr_gamma : float, optional
        Weight image ``i``'s error by ``min(SNR_i, snr_gamma) / SNR_i`` (Hang et al. 2023, as
        ``--snr_gamma`` in diffusers' training scripts); ``None`` gives the plain mean.

    Returns
    -------
    torch.Tensor
        The scalar loss.

    Raises
    ------
    ParameterError
        If ``snr_gamma`` is not positive.
    """
    if snr_gamma is None:
        return F.mse_loss(pred.float(), noise.float())
    if not snr_gamma > 0:
        raise ParameterError(f"snr_gamma must be a positive number or None, got {snr_gamma!r}")
    from diffusers.training_utils import compute_snr

    snr = compute_snr(noise_scheduler, timesteps.cpu()).to(pred.device)
    weight = torch.clamp(snr, max=snr_gamma) / snr
    per_image = F.mse_loss(pred.float(), noise.float(), reduction="none").mean(dim=tuple(range(1, pred.ndim)))
    return (per_image * weight).mean()


def _caption_fn():
    from galaxysd.gz2 import caption_from_tags

    return caption_from_tags


# ------------------------------------------------------------------------------------- checkpoints
def latest_checkpoint(output_dir: str | os.PathLike) -> Path | None:
    """The newest finished checkpoint (one with its ``training_state.pt``) under ``output_dir``."""
    done = [p for p in dmodel.checkpoint_paths(output_dir) if (p / "training_state.pt").is_file()]
    return done[-1] if done else None


def _save_checkpoint(folder: Path, pipe_parts: dict, state: dict, history: list[dict]) -> None:
    tmp = folder.parent / f".{folder.name}.saving"
    if tmp.exists():
        shutil.rmtree(tmp)
    dmodel.pipeline_from_components(pipe_parts).save_pretrained(tmp, safe_serialization=True)
    torch.save(state, tmp / "training_state.pt")
    pd.DataFrame(history).to_csv(tmp / "loss.csv", index=False)
    if folder.exists():
        shutil.rmtree(folder)
    os.replace(tmp, folder)


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
    from galaxysd.launch import cpu_or_gpu_accelerator

    from galaxysd.progress import progress_bar

    if isinstance(config, dict):
        config = FinetuneConfig.from_dict(config)
    accelerator = cpu_or_gpu_accelerator(config.cpu, config.mixed_precision, config.num_threads)
    rank, world = accelerator.process_index, accelerator.num_processes
    out = Path(config.output_dir)
    ckpt_root = out / "checkpoints"
    if accelerator.is_main_process:
        ckpt_root.mkdir(parents=True, exist_ok=True)
        atomic_write_text(out / "config.json", config.to_json())
    accelerator.wait_for_everyone()

    # The data: cached latents and the tags they come with.
    manifest = pd.read_csv(config.manifest, dtype={"tags": str})
    latents = load_latents(config.latents)
    if len(latents["objid"]) != len(manifest) or not np.array_equal(
            latents["objid"].numpy(), manifest["objid"].to_numpy(np.int64)):
        raise DataError(f"latent cache {config.latents} does not match manifest {config.manifest} "
                        f"({len(latents['objid'])} vs {len(manifest)} rows); recompute the latents stage")
    tags = manifest["tags"].fillna("").tolist()
    caption_from_tags = _caption_fn()

    # The model, from the latest checkpoint if resuming.
    resume_from = latest_checkpoint(out) if config.resume else None
    parts = dmodel.load_components(resume_from or config.base_model)
    vae, unet, text_encoder, tokenizer = parts["vae"], parts["unet"], parts["text_encoder"], parts["tokenizer"]
    noise_scheduler = parts["noise_scheduler"]
    scaling = float(vae.config.scaling_factor)
    vae.requires_grad_(False)
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

    params = list(unet.parameters()) + (list(text_encoder.parameters()) if config.train_text_encoder else [])
    peak_lr = config.learning_rate * (config.batch_size * world if config.scale_lr else 1)
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
    start_step, history = 0, []
    if resume_from is not None:
        state = torch.load(resume_from / "training_state.pt", map_location="cpu", weights_only=True)
        optimizer.load_state_dict(state["optimizer"])
        lr_scheduler.load_state_dict(state["lr_scheduler"])
        if ema is not None and state.get("ema") is not None:
            ema.load_state_dict(state["ema"])
        start_step = int(state["step"])
        history = pd.read_csv(resume_from / "loss.csv").to_dict("records")
        if accelerator.is_main_process:
            print(f"resuming from {resume_from.name} (step {start_step})")

    if config.train_text_encoder:
        unet, text_encoder, optimizer = accelerator.prepare(unet, text_encoder, optimizer)
    else:
        unet, optimizer = accelerator.prepare(unet, optimizer)
        text_encoder.to(accelerator.device, dtype=torch.float32 if accelerator.device.type == "cpu" else {
            "fp16": torch.float16, "bf16": torch.bfloat16}.get(config.mixed_precision, torch.float32))
    if ema is not None:
        ema.to(accelerator.device)
    device = accelerator.device

    def checkpoint(step: int) -> None:
        accelerator.wait_for_everyone()
        if accelerator.is_main_process:
            state = {"step": step, "optimizer": optimizer.optimizer.state_dict()
                     if hasattr(optimizer, "optimizer") else optimizer.state_dict(),
                     "lr_scheduler": lr_scheduler.state_dict(),
                     "ema": ema.state_dict() if ema is not None else None}
            parts_now = dict(vae=vae, tokenizer=tokenizer, noise_scheduler=noise_scheduler,
                             unet=accelerator.unwrap_model(unet),
                             text_encoder=accelerator.unwrap_model(text_encoder))
            _save_checkpoint(ckpt_root / f"step-{step:06d}", parts_now, state, history)
            # Only the newest checkpoint needs the optimiser state to resume (for SD v1.5 it is
            # twice the size of the weights); older ones stay loadable pipelines.
            for old in dmodel.checkpoint_paths(out)[:-1]:
                (old / "training_state.pt").unlink(missing_ok=True)
            if config.keep_checkpoints:
                for old in dmodel.checkpoint_paths(out)[:-config.keep_checkpoints]:
                    shutil.rmtree(old)
        accelerator.wait_for_everyone()

    n_items = len(manifest)
    t0 = time.perf_counter()
    bar = progress_bar(range(start_step, config.max_steps), initial=start_step, total=config.max_steps,
                       desc="fine-tune", disable=not (config.progress and accelerator.is_main_process))
    step = start_step
    interrupted = False
    for step in bar:
        # caption: re-subsample and shuffle each galaxy's tags (or drop the caption for guidance)
        idx = batch_indices(step, n_items, config.batch_size, world, rank, config.seed)
        rng = np.random.default_rng([config.seed, step, rank])
        captions = [caption_from_tags(tags[i], rng, keep_prob=config.caption_keep_prob) for i in idx]
        drop = rng.random(len(captions)) < config.caption_dropout
        captions = ["" if d else c for c, d in zip(captions, drop)]
        ids = tokenizer(captions, padding="max_length", max_length=tokenizer.model_max_length,
                        truncation=True, return_tensors="pt").input_ids.to(device)
        # encode: sample the cached latent distribution; noise: uniform timesteps
        gen = torch.Generator().manual_seed(step_seed(config.seed, step, rank))
        mean, std = latents["mean"][idx], latents["std"][idx]
        z = (mean + std * torch.randn(mean.shape, generator=gen)) * scaling
        noise = torch.randn(z.shape, generator=gen)
        t = torch.randint(0, noise_scheduler.config.num_train_timesteps, (len(idx),), generator=gen)
        noisy = noise_scheduler.add_noise(z, noise, t)
        noisy, noise, t = noisy.to(device), noise.to(device), t.to(device)
        # predict and loss
        with accelerator.autocast():
            if config.train_text_encoder:
                cond = text_encoder(ids)[0]
            else:
                with torch.no_grad():
                    cond = text_encoder(ids)[0]
            pred = unet(noisy, t, cond).sample
        loss = noise_prediction_loss(pred, noise, t, noise_scheduler, config.snr_gamma)
        # step
        accelerator.backward(loss)
        if accelerator.sync_gradients and config.max_grad_norm:
            accelerator.clip_grad_norm_(params, config.max_grad_norm)
        optimizer.step()
        lr_scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        if ema is not None:
            ema.step(accelerator.unwrap_model(unet).parameters())
        # log
        mean_loss = float(accelerator.gather(loss.detach().reshape(1)).mean())
        history.append({"step": step + 1, "loss": mean_loss, "lr": optimizer.param_groups[0]["lr"]})
        images_per_s = (step + 1 - start_step) * config.batch_size * world / (time.perf_counter() - t0)
        bar.set_postfix(loss=f"{mean_loss:.4f}", images_per_s=f"{images_per_s:.1f}", refresh=False)
        # checkpoint
        done = step + 1
        if done % config.checkpoint_every == 0 or done == config.max_steps or done == config.stop_after:
            checkpoint(done)
        if config.stop_after is not None and done >= config.stop_after and done < config.max_steps:
            interrupted = True
            break
    bar.close()
    seconds = time.perf_counter() - t0

    loss_csv = out / "loss.csv"
    model_dir = None
    if accelerator.is_main_process:
        atomic_write_text(loss_csv, pd.DataFrame(history, columns=["step", "loss", "lr"]).to_csv(index=False))
        if not interrupted:
            final_unet = accelerator.unwrap_model(unet)
            if ema is not None:
                ema.copy_to(final_unet.parameters())
            model_dir = dmodel.save_pipeline(
                dict(vae=vae, tokenizer=tokenizer, noise_scheduler=noise_scheduler, unet=final_unet,
                     text_encoder=accelerator.unwrap_model(text_encoder)), out / "model")
    accelerator.wait_for_everyone()
    if model_dir is None and not interrupted:
        model_dir = out / "model"
    return {"model_dir": model_dir, "loss_csv": loss_csv, "steps": len(history) and history[-1]["step"],
            "interrupted": interrupted, "seconds": seconds}


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
