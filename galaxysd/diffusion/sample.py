"""Sampling: schedulers by name, classifier-free guidance, text-to-image and image-to-image.

The paper samples with the Euler-ancestral scheduler (40 steps, guidance 6.5, empty negative prompt)
and, to fix the over-bright text-to-image results, starts from a randomly drawn *real* galaxy at
strength 1.0: the first step's input then still carries ``sqrt(alphas_cumprod[999]) = 0.068`` times the
reference's latent, enough to set the brightness. :func:`generate` does both; prompts may carry
``{phrase:weight}`` emphasis (:mod:`galaxysd.diffusion.prompts`).

Batch generation to disk, with its manifest, resumption and sharding, is in
:mod:`galaxysd.diffusion.batch`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import torch

from galaxysd.cache import atomic_path
from galaxysd.diffusion.weighting import encode_weighted_prompts
from galaxysd.errors import GenerationError, ParameterError

#: Short names of the samplers; any compatible diffusers scheduler class name works too.
SCHEDULER_ALIASES = {
    "euler_a": "EulerAncestralDiscreteScheduler",
    "euler": "EulerDiscreteScheduler",
    "heun": "HeunDiscreteScheduler",
    "ddim": "DDIMScheduler",
    "ddpm": "DDPMScheduler",
    "pndm": "PNDMScheduler",
    "lms": "LMSDiscreteScheduler",
    "dpmpp_2m": "DPMSolverMultistepScheduler",
    "dpm_single": "DPMSolverSinglestepScheduler",
    "kdpm2": "KDPM2DiscreteScheduler",
    "kdpm2_a": "KDPM2AncestralDiscreteScheduler",
    "deis": "DEISMultistepScheduler",
    "unipc": "UniPCMultistepScheduler",
}

#: Spacing of the sampling timesteps: ``"linspace"`` makes the first step t = 999, as in the paper.
DEFAULT_TIMESTEP_SPACING = "linspace"


@dataclass(frozen=True)
class SamplerSettings:
    """How to sample (the paper's inference configuration by default).

    Attributes
    ----------
    scheduler : str
        Scheduler alias (:data:`SCHEDULER_ALIASES`) or diffusers class name.
    steps : int
        Number of denoising steps (at strength 1.0; fewer are run at lower strength).
    guidance : float
        Classifier-free guidance scale (1.0 switches guidance off).
    strength : float or None
        Image-to-image strength in (0, 1]; ``None`` means text-to-image.
    negative_prompt : str
        Negative prompt (the paper's is empty).
    resolution : int or None
        Image side in pixels; ``None`` = the model's native size.
    """

    scheduler: str = "euler_a"
    steps: int = 40
    guidance: float = 6.5
    strength: float | None = 1.0
    negative_prompt: str = ""
    resolution: int | None = None

    @property
    def mode(self) -> str:
        """``"img2img"`` or ``"txt2img"``."""
        return "txt2img" if self.strength is None else "img2img"


def scheduler_class(name: str):
    """The diffusers scheduler class for an alias or class name.

    Raises
    ------
    ParameterError
        If the name is neither an alias nor a scheduler that works with Stable Diffusion.
    """
    import diffusers
    from diffusers.schedulers import KarrasDiffusionSchedulers

    class_name = SCHEDULER_ALIASES.get(name, name)
    allowed = {member.name for member in KarrasDiffusionSchedulers}
    if class_name not in allowed or not hasattr(diffusers, class_name):
        raise ParameterError(f"scheduler {name!r} is unknown; use one of {sorted(SCHEDULER_ALIASES)} "
                             f"or a diffusers class name among {sorted(allowed)}")
    return getattr(diffusers, class_name)


def make_scheduler(name: str, config, timestep_spacing: str | None = DEFAULT_TIMESTEP_SPACING):
    """A sampling scheduler with the noise schedule of ``config``.

    Parameters
    ----------
    name : str
        ``"euler_a"`` (the paper's), another alias of :data:`SCHEDULER_ALIASES`, or a class name.
    config : mapping or diffusers config
        A scheduler config holding the training betas (``pipe.scheduler.config``).
    timestep_spacing : str or None, optional
        Override of the config's spacing; ``"linspace"`` starts at t = 999. ``None`` keeps the config's.

    Returns
    -------
    diffusers.SchedulerMixin

    Examples
    --------
    >>> pipe.scheduler = make_scheduler("euler_a", pipe.scheduler.config)  # doctest: +SKIP
    """
    overrides = {} if timestep_spacing is None else {"timestep_spacing": timestep_spacing}
    return scheduler_class(name).from_config(config, **overrides)


def first_timestep(scheduler, steps: int, strength: float = 1.0) -> int:
    """The timestep image-to-image starts from at this strength (txt2img: strength 1.0)."""
    scheduler.set_timesteps(steps)
    start = max(steps - min(int(steps * strength), steps), 0)
    return int(round(float(scheduler.timesteps[start * scheduler.order])))


def reference_fraction(scheduler, steps: int, strength: float = 1.0) -> float:
    """How much of the reference latent the first denoising step sees: ``sqrt(alphas_cumprod[t0])``.

    Examples
    --------
    >>> round(reference_fraction(make_scheduler("euler_a", pipe.scheduler.config), 40), 3)  # doctest: +SKIP
    0.068
    """
    t0 = first_timestep(scheduler, steps, strength)
    return float(scheduler.alphas_cumprod[t0].sqrt())


def load_images(paths: Sequence[str | os.PathLike], resolution: int) -> np.ndarray:
    """Read RGB images and resize them to ``resolution`` pixels (uint8, shape (n, res, res, 3)).

    Read by :func:`galaxysd.gz2.images.read_image`, with the same resampling filter as the training
    images; a missing, empty, non-image or truncated file raises :class:`galaxysd.errors.DataError`
    naming it.
    """
    from galaxysd.gz2.images import read_image

    out = [read_image(path, resolution) for path in paths]
    return np.stack(out) if out else np.zeros((0, resolution, resolution, 3), np.uint8)


@torch.no_grad()
def encode_references(pipe, images: np.ndarray) -> torch.Tensor:
    """VAE latents of reference images (the distribution's mode, times the scaling factor).

    Parameters
    ----------
    pipe : diffusers.StableDiffusionPipeline
        The model.
    images : numpy.ndarray
        uint8 images of shape (n, H, W, 3) at the sampling resolution.

    Returns
    -------
    torch.Tensor
        Latents of shape (n, 4, H/f, W/f) on the pipeline's device.
    """
    pixels = torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).float() / 127.5 - 1.0
    pixels = pixels.to(pipe.device, pipe.vae.dtype)
    latents = pipe.vae.encode(pixels).latent_dist.mode()
    return latents * pipe.vae.config.scaling_factor


def native_resolution(pipe) -> int:
    """The image side the model was built for (UNet sample size times the VAE factor)."""
    return int(pipe.unet.config.sample_size * pipe.vae_scale_factor)


@torch.no_grad()
def generate(pipe, prompts: Sequence[str], seeds: Sequence[int], settings: SamplerSettings = SamplerSettings(),
             references: np.ndarray | None = None) -> np.ndarray:
    """Generate one image per (prompt, seed), from text alone or from a reference image.

    Parameters
    ----------
    pipe : diffusers.StableDiffusionPipeline
        The model (its scheduler is replaced by ``settings.scheduler`` for this call only).
    prompts : sequence of str
        Weighted prompts, one per image.
    seeds : sequence of int
        One seed per image; an image depends only on its prompt, seed, reference and settings, not on
        which batch it was generated in.
    settings : SamplerSettings, optional
        Scheduler, steps, guidance, strength, negative prompt, resolution.
    references : numpy.ndarray, optional
        uint8 reference images (n, H, W, 3) for image-to-image; required when ``settings.strength``
        is set, ignored otherwise.

    Returns
    -------
    numpy.ndarray
        uint8 images of shape (n, H, W, 3).

    Raises
    ------
    ParameterError
        If the lengths disagree, a reference is missing, or a setting is out of range.
    PromptError
        If a prompt is malformed.
    GenerationError
        If an image is non-finite or constant (:func:`usable_images`), naming its prompt and seed.

    Examples
    --------
    >>> images = generate(pipe, ["sdss, edge-on galaxy"], [0], SamplerSettings(strength=None))  # doctest: +SKIP
    """
    from diffusers import StableDiffusionImg2ImgPipeline, StableDiffusionPipeline

    prompts, seeds = list(prompts), [int(s) for s in seeds]
    if len(prompts) != len(seeds):
        raise ParameterError(f"generate: {len(prompts)} prompts but {len(seeds)} seeds; give one seed per image")
    if settings.steps < 1 or settings.guidance < 0:
        raise ParameterError(f"generate: steps must be >= 1 and guidance >= 0, got {settings.steps}, "
                             f"{settings.guidance}")
    resolution = settings.resolution or native_resolution(pipe)
    if not prompts:
        return np.zeros((0, resolution, resolution, 3), np.uint8)
    device = pipe.device
    embeds = encode_weighted_prompts(prompts, pipe.tokenizer, pipe.text_encoder, device)
    negative = encode_weighted_prompts([settings.negative_prompt] * len(prompts), pipe.tokenizer,
                                       pipe.text_encoder, device)
    generators = [torch.Generator("cpu").manual_seed(s) for s in seeds]
    scheduler = make_scheduler(settings.scheduler, pipe.scheduler.config)
    common = dict(prompt_embeds=embeds, negative_prompt_embeds=negative,
                  num_inference_steps=settings.steps, guidance_scale=settings.guidance,
                  generator=generators, output_type="np")
    parts = dict(pipe.components, scheduler=scheduler, safety_checker=None, feature_extractor=None,
                 requires_safety_checker=False)
    if settings.strength is None:
        runner = StableDiffusionPipeline(**parts)
        runner.set_progress_bar_config(disable=True)
        out = runner(height=resolution, width=resolution, **common).images
    else:
        if not 0 < settings.strength <= 1:
            raise ParameterError(f"generate: strength must be in (0, 1], got {settings.strength}")
        if references is None or len(references) != len(prompts):
            raise ParameterError("generate: image-to-image needs one reference image per prompt "
                                 f"(got {0 if references is None else len(references)} for {len(prompts)})")
        if references.shape[1:3] != (resolution, resolution):
            raise ParameterError(f"generate: references are {references.shape[1:3]} pixels, expected "
                                 f"{resolution}x{resolution}; read them with load_images(paths, {resolution})")
        latents = encode_references(pipe, references).to(embeds.dtype)
        runner = StableDiffusionImg2ImgPipeline(**parts)
        runner.set_progress_bar_config(disable=True)
        out = runner(image=latents, strength=settings.strength, **common).images
    return usable_images(out, prompts, seeds)


def usable_images(images: np.ndarray, prompts: Sequence[str], seeds: Sequence[int]) -> np.ndarray:
    """The pipeline's float images as uint8, refusing any that is non-finite or of one colour.

    A NaN image would otherwise be cast to black with only a numpy warning, and a black or otherwise
    constant image written to disk looks like a result.

    Parameters
    ----------
    images : numpy.ndarray
        Float images in [0, 1], shape (n, H, W, 3), as the diffusers pipelines return them.
    prompts, seeds : sequence
        The prompt and seed of each image, for the message.

    Returns
    -------
    numpy.ndarray
        uint8 images of the same shape.

    Raises
    ------
    GenerationError
        Naming the first bad image's prompt and seed, and what is wrong with it.

    Examples
    --------
    >>> usable_images(np.full((1, 2, 2, 3), np.nan), ["sdss, ring galaxy"], [7])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    galaxysd.errors.GenerationError: the image of prompt 'sdss, ring galaxy' with seed 7 is not finite ...
    """
    images = np.asarray(images)
    for image, prompt, seed in zip(images, prompts, seeds):
        if not np.isfinite(image).all():
            raise GenerationError(f"the image of prompt {prompt!r} with seed {seed} is not finite (NaN or "
                                  f"infinite pixels): the model's weights or its prompt embedding are broken; "
                                  f"nothing was written for it")
    out = np.clip(np.round(images * 255), 0, 255).astype(np.uint8)
    for image, prompt, seed in zip(out, prompts, seeds):
        if image.size and image.min() == image.max():
            raise GenerationError(f"the image of prompt {prompt!r} with seed {seed} is constant (every pixel "
                                  f"{int(image.flat[0])}): the model draws nothing for it (untrained, diverged "
                                  f"or a broken prompt embedding); nothing was written for it")
    return out


def save_png(image: np.ndarray, path: str | os.PathLike) -> Path:
    """Write a uint8 RGB image as PNG, atomically."""
    from PIL import Image

    path = Path(path)
    with atomic_path(path) as tmp:
        Image.fromarray(image).save(tmp, format="PNG")
    return path
