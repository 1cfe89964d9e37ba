"""Build, save and load the text-to-image diffusion model: one code path for every profile.

The paper fine-tunes Stable Diffusion v1.5. The ``paper`` profile loads it from a Hugging Face Hub id
or a local folder; ``smoke`` and ``demo`` build a *tiny* model of the same architecture from configs
(:class:`~diffusers.AutoencoderKL`, :class:`~transformers.CLIPTextModel` with the tokenizer this
project ships, :class:`~diffusers.UNet2DConditionModel`, the same noise schedule) and train it from
scratch. Whatever the tier, the model is saved in diffusers format, so
``StableDiffusionPipeline.from_pretrained(folder)`` loads it.

API
---
- :func:`build_tiny_components` ``(resolution=64, seed=0, ...) -> dict`` with keys ``vae``,
  ``text_encoder``, ``tokenizer``, ``unet``, ``noise_scheduler`` (a DDPM scheduler with SD v1.5's
  scaled-linear betas 0.00085-0.012, 1000 steps, epsilon prediction).
- :func:`build_tiny_pipeline` ``(...) -> StableDiffusionPipeline`` (scheduler: Euler ancestral, the
  paper's sampler, with the same betas).
- :func:`save_pipeline` ``(components_or_pipe, folder)``: diffusers format, safetensors weights.
- :func:`load_pipeline` ``(id_or_folder, device="cpu", dtype=torch.float32)``: a Hub id, a saved
  folder, a training checkpoint, or a finished ``02_finetune`` run folder.
- :func:`trained_model_path` ``(run_dir)``: the profile's fine-tuned model,
  ``<run_dir>/02_finetune/train/model/`` (a diffusers pipeline folder).
- :func:`checkpoint_paths` ``(run_dir)``: the training checkpoints,
  ``<run_dir>/02_finetune/train/checkpoints/step-NNNNNN/``, each a complete pipeline folder too.

Whether a base model is there before training starts is :mod:`galaxysd.diffusion.base_model`'s check.

Examples
--------
>>> pipe = build_tiny_pipeline(resolution=32)          # doctest: +SKIP
>>> save_pipeline(pipe, "model")                        # doctest: +SKIP
>>> pipe = load_pipeline("model")                       # doctest: +SKIP
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Mapping

import torch

from galaxysd.cache import atomic_path
from galaxysd.diffusion.tokenizer import TOKENIZER_DIR, load_tokenizer
from galaxysd.errors import ParameterError

#: SD v1.5's noise schedule (``data.md``).
NOISE_SCHEDULE = dict(num_train_timesteps=1000, beta_start=0.00085, beta_end=0.012,
                      beta_schedule="scaled_linear", prediction_type="epsilon", steps_offset=1,
                      timestep_spacing="leading")

#: Sizes of the tiny model (tuned for the demo profile: 64 px images, about 8 minutes of training on
#: 2 CPU cores; benchmarks/README.md, experiments 17-22); any key can be overridden through
#: ``build_tiny_components(**sizes)``.
#: ``unet_attention_levels`` lists the UNet levels (0: the highest resolution) whose blocks carry
#: transformer (self- and cross-attention) layers; the middle block always has one.
#: ``vae_norm_num_groups`` is the VAE's GroupNorm group count (``None``: ``norm_num_groups``).
TINY_DEFAULTS = dict(
    # 2 blocks: latents are resolution / 2 on a side. A 4x-down VAE kept only half of the real
    # spirals' arm strength in its reconstructions (0.048 of 0.089); 2x down keeps 0.078.
    vae_channels=(16, 32),
    vae_layers_per_block=1,
    vae_norm_num_groups=2,            # GroupNorm groups of the VAE
    latent_channels=4,
    # Four levels on 32x32 latents: 32, 16, 8, 4. A highest level 16 wide drew weaker arms
    # (experiment 18); 32/64 wide was dearer and no better (experiment 19).
    unet_channels=(24, 48, 96, 96),
    unet_layers_per_block=1,
    unet_attention_head_dim=4,        # attention heads (diffusers' name); SD has 8, 4 is 10 % faster here
    # SD v1.5 attends at its three highest of four levels. On a CPU a transformer at 16x16 (256
    # positions) costs almost half of a training step; attending at 8x8 only (and in the middle
    # block) leaves the larger scales to convolutions and buys more training steps.
    unet_attention_levels=(2,),
    unet_down_block_types=None,       # explicit down-block types (overrides the line above)
    text_hidden=64,
    text_layers=2,
    text_heads=4,
    text_intermediate=256,
    norm_num_groups=8,
)

STAGE = "02_finetune"


def _quiet() -> None:
    """Silence the per-file loading/saving progress bars of diffusers and transformers."""
    from diffusers.utils import logging as diffusers_logging
    from transformers.utils import logging as transformers_logging

    diffusers_logging.disable_progress_bar()
    transformers_logging.disable_progress_bar()


def noise_scheduler_config() -> dict:
    """SD v1.5's training noise schedule as a scheduler config dict."""
    return dict(NOISE_SCHEDULE)


def build_tiny_components(resolution: int = 64, seed: int = 0, **sizes: Any) -> dict:
    """A tiny, randomly initialised model of Stable Diffusion v1.5's architecture.

    Parameters
    ----------
    resolution : int, optional
        Image side in pixels; must be divisible by the VAE's down-sampling factor times the UNet's.
    seed : int, optional
        Seed of the weight initialisation.
    **sizes
        Overrides of :data:`TINY_DEFAULTS` (``vae_channels``, ``unet_channels``, ``text_hidden``...).

    Returns
    -------
    dict
        ``vae`` (AutoencoderKL), ``text_encoder`` (CLIPTextModel), ``tokenizer`` (CLIPTokenizer),
        ``unet`` (UNet2DConditionModel), ``noise_scheduler`` (DDPMScheduler).

    Raises
    ------
    ParameterError
        If a size key is unknown or the resolution does not fit the down-sampling.

    Examples
    --------
    >>> parts = build_tiny_components(resolution=32)  # doctest: +SKIP
    """
    from diffusers import AutoencoderKL, DDPMScheduler, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel

    unknown = set(sizes) - set(TINY_DEFAULTS)
    if unknown:
        raise ParameterError(f"build_tiny_components: unknown size(s) {sorted(unknown)}; "
                             f"expected keys of TINY_DEFAULTS {sorted(TINY_DEFAULTS)}")
    cfg = {**TINY_DEFAULTS, **sizes}
    vae_factor = 2 ** (len(cfg["vae_channels"]) - 1)
    unet_factor = 2 ** (len(cfg["unet_channels"]) - 1)
    if resolution % (vae_factor * unet_factor):
        raise ParameterError(f"resolution={resolution} must be a multiple of {vae_factor * unet_factor} "
                             f"(VAE down-sampling {vae_factor} x UNet down-sampling {unet_factor}) for the tiny "
                             f"model: set 02_finetune.resolution to one (the demo: 64) and let generation "
                             f"follow the model (03_generate.resolution=0)")
    groups = cfg["norm_num_groups"]
    torch.manual_seed(seed)
    tokenizer = load_tokenizer(TOKENIZER_DIR)
    n_vae = len(cfg["vae_channels"])
    vae = AutoencoderKL(
        in_channels=3, out_channels=3,
        down_block_types=("DownEncoderBlock2D",) * n_vae, up_block_types=("UpDecoderBlock2D",) * n_vae,
        block_out_channels=tuple(cfg["vae_channels"]), layers_per_block=cfg["vae_layers_per_block"],
        latent_channels=cfg["latent_channels"], norm_num_groups=cfg["vae_norm_num_groups"] or groups,
        sample_size=resolution,
        scaling_factor=1.0)
    text_config = CLIPTextConfig(
        vocab_size=len(tokenizer), hidden_size=cfg["text_hidden"],
        intermediate_size=cfg["text_intermediate"], num_hidden_layers=cfg["text_layers"],
        num_attention_heads=cfg["text_heads"], max_position_embeddings=tokenizer.model_max_length,
        bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id, projection_dim=cfg["text_hidden"])
    text_encoder = CLIPTextModel(text_config)
    n_unet = len(cfg["unet_channels"])
    levels = set(cfg["unet_attention_levels"] or ())
    if not levels <= set(range(n_unet)):
        raise ParameterError(f"unet_attention_levels={sorted(levels)} must be UNet levels 0-{n_unet - 1} "
                             f"(unet_channels has {n_unet} entries)")
    down = tuple("CrossAttnDownBlock2D" if level in levels else "DownBlock2D" for level in range(n_unet))
    if cfg["unet_down_block_types"]:
        down = tuple(cfg["unet_down_block_types"])
        if len(down) != n_unet:
            raise ParameterError(f"unet_down_block_types has {len(down)} entries; unet_channels has {n_unet}")
    up = tuple(b.replace("Down", "Up") for b in reversed(down))
    unet = UNet2DConditionModel(
        sample_size=resolution // vae_factor, in_channels=cfg["latent_channels"],
        out_channels=cfg["latent_channels"], down_block_types=down, up_block_types=up,
        mid_block_type="UNetMidBlock2DCrossAttn",
        block_out_channels=tuple(cfg["unet_channels"]), layers_per_block=cfg["unet_layers_per_block"],
        cross_attention_dim=cfg["text_hidden"], attention_head_dim=cfg["unet_attention_head_dim"],
        norm_num_groups=groups)
    noise_scheduler = DDPMScheduler(**NOISE_SCHEDULE, clip_sample=False)
    return dict(vae=vae, text_encoder=text_encoder, tokenizer=tokenizer, unet=unet,
                noise_scheduler=noise_scheduler)


def pipeline_from_components(components: Mapping[str, Any], scheduler: str = "EulerAncestralDiscreteScheduler"):
    """Assemble a :class:`~diffusers.StableDiffusionPipeline` (no safety checker) from components.

    Parameters
    ----------
    components : mapping
        ``vae``, ``text_encoder``, ``tokenizer``, ``unet`` and ``noise_scheduler`` (or ``scheduler``).
    scheduler : str, optional
        Class name of the diffusers scheduler the pipeline samples with; its config is taken from the
        noise scheduler, so the betas match training.

    Returns
    -------
    diffusers.StableDiffusionPipeline
    """
    import diffusers
    from diffusers import StableDiffusionPipeline

    base = components.get("scheduler") or components["noise_scheduler"]
    sampler = getattr(diffusers, scheduler).from_config(base.config)
    return StableDiffusionPipeline(vae=components["vae"], text_encoder=components["text_encoder"],
                                   tokenizer=components["tokenizer"], unet=components["unet"],
                                   scheduler=sampler, safety_checker=None, feature_extractor=None,
                                   requires_safety_checker=False)


def build_tiny_pipeline(resolution: int = 64, seed: int = 0, **sizes: Any):
    """:func:`build_tiny_components` assembled into a pipeline with the Euler-ancestral sampler.

    Returns
    -------
    diffusers.StableDiffusionPipeline
    """
    return pipeline_from_components(build_tiny_components(resolution, seed, **sizes))


def save_pipeline(components_or_pipe, folder: str | os.PathLike) -> Path:
    """Save a pipeline (or a components dict) in diffusers format with safetensors weights.

    The folder is written beside its destination and renamed into place, so a crash never leaves a
    half-saved model that looks complete.

    Parameters
    ----------
    components_or_pipe : StableDiffusionPipeline or mapping
        What to save; a mapping is assembled with :func:`pipeline_from_components`.
    folder : str or path-like
        Destination; replaced if it exists.

    Returns
    -------
    pathlib.Path
        The folder; ``StableDiffusionPipeline.from_pretrained(folder)`` loads it.
    """
    _quiet()
    pipe = (pipeline_from_components(components_or_pipe)
            if isinstance(components_or_pipe, Mapping) else components_or_pipe)
    folder = Path(folder)
    with atomic_path(folder) as tmp:
        write_pretrained(pipe, tmp)
    return folder


def write_pretrained(pipe, folder: str | os.PathLike) -> None:
    """``pipe.save_pretrained(folder)`` (safetensors) without the folder each part was loaded from.

    diffusers writes where a model was loaded from (``_name_or_path``) into its ``config.json``: a
    machine's path, which would make two identical models in two run folders differ in bytes and digest.

    Examples
    --------
    >>> write_pretrained(pipe, "model")  # doctest: +SKIP
    """
    from diffusers.configuration_utils import ConfigMixin

    for part in pipe.components.values():
        if isinstance(part, ConfigMixin) and "_name_or_path" in part.config:
            part.register_to_config(_name_or_path="")
    pipe.save_pretrained(folder, safe_serialization=True)


def trained_model_path(run_dir: str | os.PathLike) -> Path:
    """The fine-tuned model of a profile's run: ``<run_dir>/02_finetune/train/model/``.

    Parameters
    ----------
    run_dir : str or path-like
        The profile's run folder (``paths.run``).

    Returns
    -------
    pathlib.Path
        A diffusers pipeline folder (it may not exist yet: run notebook ``02_finetune``).
    """
    return Path(run_dir) / STAGE / "train" / "model"


def checkpoint_paths(run_dir_or_train_dir: str | os.PathLike) -> list[Path]:
    """Training checkpoints, oldest first, each a complete pipeline folder ``step-NNNNNN``.

    Parameters
    ----------
    run_dir_or_train_dir : str or path-like
        A profile's run folder, or a training output folder holding ``checkpoints/``.

    Returns
    -------
    list of pathlib.Path
        Finished checkpoints, sorted by step.
    """
    base = Path(run_dir_or_train_dir)
    folder = base / "checkpoints" if (base / "checkpoints").is_dir() else base / STAGE / "train" / "checkpoints"
    if not folder.is_dir():
        return []
    found = [p for p in folder.iterdir() if re.fullmatch(r"step-\d+", p.name) and (p / "model_index.json").is_file()]
    return sorted(found, key=lambda p: int(p.name.split("-")[1]))


def checkpoint_step(path: str | os.PathLike) -> int:
    """The training step of a checkpoint folder ``step-NNNNNN``."""
    return int(Path(path).name.split("-")[1])


def load_pipeline(id_or_folder: str | os.PathLike, device: str | torch.device = "cpu",
                  dtype: torch.dtype = torch.float32, scheduler: str | None = None):
    """Load a text-to-image pipeline from a Hub id, a saved folder, a checkpoint or a run folder.

    Parameters
    ----------
    id_or_folder : str or path-like
        A diffusers folder (holding ``model_index.json``), a run folder of a finished ``02_finetune``
        stage (its trained model is used), or a Hugging Face Hub id such as
        :data:`galaxysd.diffusion.base_model.SD15_HUB_ID`.
    device : str or torch.device, optional
        Where to put the weights.
    dtype : torch.dtype, optional
        Weight dtype (``torch.float16`` or ``torch.bfloat16`` on GPU).
    scheduler : str, optional
        Replace the saved scheduler by this diffusers scheduler class (same config).

    Returns
    -------
    diffusers.StableDiffusionPipeline
        With the safety checker removed and the progress bar off.

    Raises
    ------
    ParameterError
        If a local path exists but holds no model.
    """
    import diffusers
    from diffusers import StableDiffusionPipeline

    _quiet()
    source = Path(id_or_folder)
    if source.exists():
        if not (source / "model_index.json").is_file():
            trained = trained_model_path(source)
            if (trained / "model_index.json").is_file():
                source = trained
            else:
                raise ParameterError(f"{source} holds no diffusers model (no model_index.json); pass a "
                                     f"saved model folder, a checkpoint step-NNNNNN or a run folder whose "
                                     f"02_finetune stage has finished")
        ref: str = str(source)
    else:
        ref = str(id_or_folder)
    pipe = StableDiffusionPipeline.from_pretrained(ref, torch_dtype=dtype, safety_checker=None,
                                                   feature_extractor=None, requires_safety_checker=False)
    if scheduler:
        pipe.scheduler = getattr(diffusers, scheduler).from_config(pipe.scheduler.config)
    pipe.set_progress_bar_config(disable=True)
    return pipe.to(device)


def load_components(id_or_folder: str | os.PathLike, device: str | torch.device = "cpu") -> dict:
    """The trainable parts of a saved model, as :func:`build_tiny_components` returns them.

    Parameters
    ----------
    id_or_folder : str or path-like
        A diffusers folder or Hub id.
    device : str or torch.device, optional
        Where to put the weights (float32).

    Returns
    -------
    dict
        ``vae``, ``text_encoder``, ``tokenizer``, ``unet``, ``noise_scheduler`` (DDPM, same betas).
    """
    from diffusers import DDPMScheduler

    pipe = load_pipeline(id_or_folder, device=device)
    return dict(vae=pipe.vae, text_encoder=pipe.text_encoder, tokenizer=pipe.tokenizer, unet=pipe.unet,
                noise_scheduler=DDPMScheduler.from_config(pipe.scheduler.config, clip_sample=False))


def count_parameters(module: torch.nn.Module) -> int:
    """Number of parameters of a module."""
    return sum(p.numel() for p in module.parameters())
