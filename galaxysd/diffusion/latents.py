"""Images in, latents out: the (tiny) autoencoder and the latent cache.

Stable Diffusion works on the latents of its KL autoencoder (VAE). The paper encodes every training
image once before training (424 px images give 53x53x4 latents) instead of once per epoch; the tiny
model of the offline profiles first trains its own VAE from scratch on the galaxy images.

API
---
- :func:`load_images` ``(paths, resolution) -> uint8 tensor (N, 3, H, W)``.
- :func:`train_autoencoder` ``(vae, images, steps, ...)``: reconstruction + KL, then
  :func:`standardise_latents` (zero mean, unit variance per latent channel, folded into the weights).
- :func:`cache_latents` ``(vae, image_paths, resolution, out_file)`` and :func:`load_latents`.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
import torch.nn.functional as F

from galaxysd.cache import atomic_path


LATENTS_FILE = "latents.safetensors"


# --------------------------------------------------------------------------------------------- images
def load_image(path: str | os.PathLike, resolution: int) -> np.ndarray:
    """One RGB image resized to ``resolution`` square, as a ``uint8`` array (3, H, W).

    Read by :func:`galaxysd.gz2.images.read_image`, the project's one image reader.

    Raises
    ------
    DataError
        If the file is missing, empty, not an image, or truncated (the message names it).
    """
    from galaxysd.gz2.images import read_image

    return read_image(path, resolution).transpose(2, 0, 1).copy()


def load_images(paths: Sequence[str], resolution: int, progress: bool = True) -> torch.Tensor:
    """Images as a ``uint8`` tensor (N, 3, resolution, resolution)."""
    from galaxysd.progress import progress_bar as tqdm  # the runner shows it in the terminal

    out = np.empty((len(paths), 3, resolution, resolution), dtype=np.uint8)
    for i, path in enumerate(tqdm(paths, desc="load images", disable=not progress)):
        out[i] = load_image(path, resolution)
    return torch.from_numpy(out)


def to_model_range(images_uint8: torch.Tensor) -> torch.Tensor:
    """``uint8`` images to float in [-1, 1], the VAE's input range."""
    return images_uint8.float() / 127.5 - 1.0


# -------------------------------------------------------------------------------------- autoencoder
def fix_posterior_variance(vae, logvar: float = -6.0) -> None:
    """Freeze the VAE posterior's log-variance at ``logvar`` for every pixel and image.

    The posterior's mean and log-variance come out of one 1x1 convolution (``quant_conv``, or the
    encoder's last convolution when the VAE has none). Its log-variance rows are zeroed, their bias set
    to ``logvar``, and their gradients masked, so training moves only the mean.

    Why: with the tiny KL weight Stable Diffusion uses, Adam's normalised steps let a learnable
    log-variance drift *up* in a short training run (we measured posterior standard deviations of 2-5
    against latent means of standard deviation 2-3); the sampled latents then hide colour and spiral
    arms from the decoder, and the diffusion model trains on that noise too.
    """
    conv = vae.quant_conv if getattr(vae, "quant_conv", None) is not None else vae.encoder.conv_out
    half = conv.out_channels // 2
    with torch.no_grad():
        conv.weight[half:] = 0.0
        conv.bias[half:] = logvar

    def keep_logvar_rows(grad: torch.Tensor) -> torch.Tensor:
        grad = grad.clone()
        grad[half:] = 0.0
        return grad

    conv.weight.register_hook(keep_logvar_rows)
    conv.bias.register_hook(keep_logvar_rows)


def _chroma(images: torch.Tensor) -> torch.Tensor:
    """Colour without brightness: each channel minus the mean of the three."""
    return images - images.mean(dim=1, keepdim=True)


def train_autoencoder(vae, images_uint8: torch.Tensor, steps: int = 1000, batch_size: int = 32,
                      learning_rate: float = 1e-3, kl_weight: float = 1e-6, seed: int = 0,
                      crop: int | None = None, posterior_logvar: float = -10.0, lowpass_pool: int = 2,
                      lowpass_weight: float = 10.0, chroma_weight: float = 30.0,
                      progress: bool = True) -> list[float]:
    """Train a (tiny) AutoencoderKL from scratch: reconstruction MSE of the images, of their smoothed
    versions and of their smoothed colours, plus a small KL term.

    The images are randomly flipped and rotated by multiples of 90 degrees (a galaxy has no preferred
    orientation). The posterior variance is fixed (:func:`fix_posterior_variance`). Afterwards
    :func:`standardise_latents` gives every latent channel zero mean and unit variance (Stable
    Diffusion only divides all channels by one standard deviation), so the diffusion model sees
    centred, unit-variance latents.

    Parameters
    ----------
    vae : diffusers.AutoencoderKL
        Trained in place (on CPU).
    images_uint8 : torch.Tensor
        (N, 3, H, W) training images.
    steps, batch_size, learning_rate, kl_weight, seed
        Optimisation settings (AdamW, cosine decay).
    crop : int, optional
        Train on random square crops of this side (the VAE is convolutional, so it learns the same
        local reconstruction at a fraction of the cost); ``None`` uses whole images.
    posterior_logvar : float, optional
        The fixed log-variance of the posterior (-10: standard deviation 0.007, small beside the
        spread of the weakest latent channel, about 0.1).
    lowpass_pool : int, optional
        Side in pixels of the blocks the smoothed images average over.
    lowpass_weight : float, optional
        Weight of the reconstruction error of the smoothed images (shape and brightness, free of the
        sky noise that dominates the pixel error).
    chroma_weight : float, optional
        Weight of the error of the smoothed images' colour (each channel minus the channel mean): the
        faint blue arms of spirals weigh little in the pixel error and came out yellow without it.
    progress : bool, optional
        Show a progress bar.

    Returns
    -------
    list of float
        Reconstruction loss (pixel MSE) per step.
    """
    from galaxysd.progress import progress_bar as tqdm  # the runner shows it in the terminal

    gen = torch.Generator().manual_seed(seed)
    fix_posterior_variance(vae, posterior_logvar)
    vae.train()
    # fused: on CPU torch otherwise updates the 152 tensors one by one (0.119 against 0.093 s a step).
    opt = torch.optim.AdamW(vae.parameters(), lr=learning_rate, weight_decay=1e-4, fused=True)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 0.5 * (1 + math.cos(math.pi * s / max(1, steps))))
    losses = []
    bar = tqdm(range(steps), desc="train autoencoder", disable=not progress)
    for _ in bar:
        idx = torch.randint(0, len(images_uint8), (batch_size,), generator=gen)
        x = to_model_range(images_uint8[idx])
        if crop and crop < x.shape[-1]:
            i, j = (int(v) for v in torch.randint(0, x.shape[-1] - crop + 1, (2,), generator=gen))
            x = x[:, :, i:i + crop, j:j + crop]
        k = int(torch.randint(0, 4, (1,), generator=gen))
        x = torch.rot90(x, k, dims=(2, 3))
        if torch.rand(1, generator=gen).item() < 0.5:
            x = torch.flip(x, dims=(3,))
        posterior = vae.encode(x).latent_dist
        z = posterior.mean + posterior.std * torch.randn(posterior.mean.shape, generator=gen)
        recon = vae.decode(z).sample
        rec = F.mse_loss(recon, x)
        kl = posterior.kl().mean() / x[0].numel()
        smooth_recon, smooth_x = F.avg_pool2d(recon, lowpass_pool), F.avg_pool2d(x, lowpass_pool)
        loss = (rec + lowpass_weight * F.mse_loss(smooth_recon, smooth_x)
                + chroma_weight * F.mse_loss(_chroma(smooth_recon), _chroma(smooth_x)) + kl_weight * kl)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(vae.parameters(), 1.0)
        opt.step()
        sched.step()
        losses.append(rec.item())
        bar.set_postfix(mse=f"{rec.item():.4f}")
    vae.eval()
    standardise_latents(vae, images_uint8[torch.randperm(len(images_uint8), generator=gen)[:256]])
    return losses


@torch.no_grad()
def standardise_latents(vae, images_uint8: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Give a trained VAE's latents zero mean and unit variance per channel, without changing its images.

    The per-channel mean ``m`` and standard deviation ``s`` of the posterior means of ``images`` are
    folded into the VAE's 1x1 convolutions around the latent space: the encoder's ``quant_conv``
    now outputs ``(z - m) / s`` (and the log-variance of the posterior shifts by ``-2 log s``), and
    the decoder's ``post_quant_conv`` undoes it first, so ``decode(encode(x))`` is unchanged. The
    ``scaling_factor`` is then 1.

    Why: Stable Diffusion scales its latents by one number and assumes their mean is near zero. The
    tiny VAE's latents had channel means of -2 to +1 (the dark sky) and channel spreads from 0.1 to 1
    in those units. With SD's noise schedule, whose last timestep still keeps 6.8 % of the latent,
    a far-from-zero sky shifts every text-to-image sample's brightness and colour, and a channel of
    small spread weighs little in the loss although it carries colour. Stable Diffusion 3 solves the
    first with a ``shift_factor`` that the SD v1.5 pipeline does not read; folding it into the
    weights keeps the model an ordinary SD v1.5 pipeline.

    Parameters
    ----------
    vae : diffusers.AutoencoderKL
        With ``quant_conv`` and ``post_quant_conv`` (changed in place).
    images_uint8 : torch.Tensor
        (N, 3, H, W) images to measure the latents on.

    Returns
    -------
    (torch.Tensor, torch.Tensor)
        The per-channel mean and standard deviation that were folded in.
    """
    if getattr(vae, "quant_conv", None) is None or getattr(vae, "post_quant_conv", None) is None:
        raise ValueError("standardise_latents needs a VAE with quant_conv and post_quant_conv")
    latents = vae.encode(to_model_range(images_uint8)).latent_dist.mean
    mean, std = latents.mean(dim=(0, 2, 3)), latents.std(dim=(0, 2, 3)).clamp_min(1e-6)
    channels = mean.numel()
    enc, dec = vae.quant_conv, vae.post_quant_conv
    # encoder: mean rows (z - m) / s; log-variance rows shift by -2 log s (same relative noise)
    enc.weight[:channels] /= std.view(-1, 1, 1, 1)
    enc.bias[:channels] = (enc.bias[:channels] - mean) / std
    enc.bias[channels:] -= 2 * torch.log(std)
    # decoder: W z + b with z = s z' + m  ->  (W s) z' + (W m + b)
    weight = dec.weight[:, :, 0, 0]
    dec.bias += weight @ mean
    dec.weight *= std.view(1, -1, 1, 1)
    vae.register_to_config(scaling_factor=1.0)
    return mean, std


# ------------------------------------------------------------------------------------------ latents
@torch.no_grad()
def cache_latents(vae, image_paths: Sequence[str], resolution: int, out_file: str | os.PathLike,
                  batch_size: int = 16, device: str | torch.device = "cpu",
                  dtype: torch.dtype = torch.float16, objids: Sequence[int] | None = None,
                  progress: bool = True) -> Path:
    """Encode every training image once and store its latent distribution (mean and std).

    Training then draws ``mean + std * noise`` at every use, exactly what encoding the image again
    would give, without running the VAE per epoch.

    Parameters
    ----------
    vae : diffusers.AutoencoderKL
    image_paths : sequence of str
        Images, in manifest order.
    resolution : int
        Side in pixels the images are resized to (the paper: 424, latents 53x53).
    out_file : str or path-like
        safetensors file with ``mean``, ``std`` (N, C, h, w) and ``objid`` (N,).
    batch_size : int, optional
    device : optional
        Device the VAE runs on.
    dtype : torch.dtype, optional
        Storage dtype (float16 halves the size: 28k images at 424 px take 1.3 GB).
    objids : sequence of int, optional
        Galaxy ids stored beside the latents, to check alignment with the manifest later.
    progress : bool, optional

    Returns
    -------
    pathlib.Path
        ``out_file``.
    """
    from safetensors.torch import save_file
    from galaxysd.progress import progress_bar as tqdm  # the runner shows it in the terminal

    vae = vae.to(device).eval()
    means, stds = [], []
    for start in tqdm(range(0, len(image_paths), batch_size), desc="cache latents", disable=not progress):
        batch = load_images(image_paths[start:start + batch_size], resolution, progress=False)
        dist = vae.encode(to_model_range(batch).to(device, vae.dtype)).latent_dist
        means.append(dist.mean.to("cpu", dtype))
        stds.append(dist.std.to("cpu", dtype))
    ids = torch.as_tensor(np.asarray(objids if objids is not None else np.arange(len(image_paths)),
                                     dtype=np.int64))
    out_file = Path(out_file)
    with atomic_path(out_file) as tmp:
        save_file({"mean": torch.cat(means).contiguous(), "std": torch.cat(stds).contiguous(), "objid": ids},
                  str(tmp))
    return out_file


def load_latents(path: str | os.PathLike) -> dict[str, torch.Tensor]:
    """The cached latents: ``mean``, ``std`` (float32) and ``objid``."""
    from safetensors.torch import load_file

    data = load_file(str(path))
    return {"mean": data["mean"].float(), "std": data["std"].float(), "objid": data["objid"]}


@torch.no_grad()
def reconstruction_error(vae, images_uint8: torch.Tensor, batch_size: int = 64) -> float:
    """Mean squared error of images passed through the autoencoder (posterior mean), in [-1, 1] units.

    Parameters
    ----------
    vae : diffusers.AutoencoderKL
    images_uint8 : torch.Tensor
        (N, 3, H, W) images (:func:`load_images`).
    batch_size : int, optional

    Returns
    -------
    float
        The pixel MSE averaged over every image, pixel and channel.

    Examples
    --------
    >>> reconstruction_error(pipe.vae, load_images(paths[:256], 64))  # doctest: +SKIP
    """
    vae = vae.eval()
    total, count = 0.0, 0
    for start in range(0, len(images_uint8), batch_size):
        x = to_model_range(images_uint8[start:start + batch_size]).to(vae.device, vae.dtype)
        recon = vae.decode(vae.encode(x).latent_dist.mean).sample
        total += float(F.mse_loss(recon.float(), x.float(), reduction="sum"))
        count += x.numel()
    return total / max(count, 1)
