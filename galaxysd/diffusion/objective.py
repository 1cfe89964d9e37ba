"""What one fine-tuning step computes, as pure functions of seeds: which rows it trains on, the
seeds of its noise, the learning-rate schedule, and the loss.

The loop that calls them (accelerate, checkpoints, resume) is :mod:`galaxysd.diffusion.train`.
Because the rows of step ``s`` on process ``r`` (:func:`batch_indices`) and its random draws
(:func:`step_seed`) depend on nothing but ``(seed, s, r)``, a run resumed from a checkpoint goes on
exactly as an uninterrupted one would; the SimCLR loop of chapter 04 uses them the same way.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import torch
import torch.nn.functional as F

from galaxysd.errors import ParameterError


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


