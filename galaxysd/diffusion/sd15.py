"""Stable Diffusion v1.5's exact architecture with random weights, as a local diffusers folder.

The paper fine-tunes SD v1.5 (``stable-diffusion-v1-5/stable-diffusion-v1-5``). Its weights need a
download of about 5 GB, but its architecture is public configuration: :func:`write_sd15_architecture`
writes a diffusers folder with the same ``model_index.json``, UNet (859.5 M parameters), VAE (scaling
factor 0.18215), CLIP ViT-L/14 text encoder, the real CLIP tokenizer
(:mod:`galaxysd.diffusion.clip_tokenizer`) and the PNDM scheduler config, all randomly initialised. The
paper profile loads it exactly as it loads SD v1.5 (``--set 02_finetune.base_model=FOLDER``), so the
route's code (latent cache at 424 px, fine-tuning, checkpoints, generation) runs on the real shapes
without a GPU or the weights. Only the safety checker and its feature extractor are left out; the
project loads SD v1.5 without them too.

``small=True`` keeps every block, the tokenizer, the vocabulary size, the 77 positions, the latent
channels and the scaling factor, and narrows the channels (:data:`SMALL`), so tests can run the same
route at 424 px in seconds.

Command line: ``python -m galaxysd sd15-architecture --out FOLDER [--small]``.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import torch

from galaxysd.cache import atomic_path

#: ``unet/config.json`` of SD v1.5.
UNET = dict(
    sample_size=64, in_channels=4, out_channels=4, center_input_sample=False, flip_sin_to_cos=True,
    freq_shift=0, down_block_types=("CrossAttnDownBlock2D",) * 3 + ("DownBlock2D",),
    mid_block_type="UNetMidBlock2DCrossAttn", up_block_types=("UpBlock2D",) + ("CrossAttnUpBlock2D",) * 3,
    only_cross_attention=False, block_out_channels=(320, 640, 1280, 1280), layers_per_block=2,
    downsample_padding=1, mid_block_scale_factor=1, act_fn="silu", norm_num_groups=32, norm_eps=1e-5,
    cross_attention_dim=768, attention_head_dim=8)
#: ``vae/config.json`` of SD v1.5.
VAE = dict(
    in_channels=3, out_channels=3, down_block_types=("DownEncoderBlock2D",) * 4,
    up_block_types=("UpDecoderBlock2D",) * 4, block_out_channels=(128, 256, 512, 512), layers_per_block=2,
    act_fn="silu", latent_channels=4, norm_num_groups=32, sample_size=512, scaling_factor=0.18215)
#: ``text_encoder/config.json`` of SD v1.5 (OpenAI CLIP ViT-L/14's text tower).
TEXT_ENCODER = dict(
    vocab_size=49408, hidden_size=768, intermediate_size=3072, num_hidden_layers=12, num_attention_heads=12,
    max_position_embeddings=77, hidden_act="quick_gelu", layer_norm_eps=1e-5, attention_dropout=0.0,
    initializer_range=0.02, initializer_factor=1.0, projection_dim=768, bos_token_id=0, eos_token_id=2,
    pad_token_id=1)
#: ``scheduler/scheduler_config.json`` of SD v1.5.
SCHEDULER = dict(
    num_train_timesteps=1000, beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear",
    trained_betas=None, skip_prk_steps=True, set_alpha_to_one=False, prediction_type="epsilon",
    steps_offset=1, timestep_spacing="leading")
#: The small form: SD v1.5's blocks, tokenizer, vocabulary and scaling factor, narrower channels.
SMALL = dict(
    unet=dict(block_out_channels=(32, 64, 128, 128), cross_attention_dim=64),
    vae=dict(block_out_channels=(32, 64, 64, 64)),
    text_encoder=dict(hidden_size=64, intermediate_size=256, num_hidden_layers=2, num_attention_heads=4,
                      projection_dim=64))


def sd15_components(small: bool = False, seed: int = 0, tokenizer=None) -> dict:
    """SD v1.5's pipeline components with random weights.

    Parameters
    ----------
    small : bool, optional
        Narrow the channels (:data:`SMALL`), keeping every block and the tokenizer.
    seed : int, optional
        Seed of the weight initialisation.
    tokenizer : transformers.CLIPTokenizer, optional
        Default: the real CLIP tokenizer (:func:`~galaxysd.diffusion.clip_tokenizer.load_clip_tokenizer`).

    Returns
    -------
    dict
        ``unet``, ``vae``, ``text_encoder``, ``tokenizer``, ``scheduler`` (PNDM, as SD v1.5 ships).

    Examples
    --------
    >>> parts = sd15_components(small=True)  # doctest: +SKIP
    """
    from diffusers import AutoencoderKL, PNDMScheduler, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel

    from galaxysd.diffusion.clip_tokenizer import load_clip_tokenizer

    narrow = SMALL if small else {}
    torch.manual_seed(seed)
    unet = UNet2DConditionModel(**{**UNET, **narrow.get("unet", {})})
    vae = AutoencoderKL(**{**VAE, **narrow.get("vae", {})})
    text_encoder = CLIPTextModel(CLIPTextConfig(**{**TEXT_ENCODER, **narrow.get("text_encoder", {})}))
    return dict(unet=unet, vae=vae, text_encoder=text_encoder.eval(),
                tokenizer=tokenizer if tokenizer is not None else load_clip_tokenizer(),
                scheduler=PNDMScheduler(**SCHEDULER))


def write_sd15_architecture(folder: str | os.PathLike, small: bool = False, seed: int = 0) -> Path:
    """Write a diffusers folder of SD v1.5's architecture with random weights.

    Parameters
    ----------
    folder : path-like
        Destination; replaced if it exists. About 4 GB (float32) for the full size, 56 MB small.
    small : bool, optional
        The narrow form (:data:`SMALL`) for tests.
    seed : int, optional
        Seed of the weight initialisation.

    Returns
    -------
    pathlib.Path
        The folder; ``StableDiffusionPipeline.from_pretrained(folder)`` and the paper profile's
        ``02_finetune.base_model`` load it as they load SD v1.5.

    Examples
    --------
    >>> write_sd15_architecture("sd15-small", small=True)  # doctest: +SKIP
    """
    from diffusers import StableDiffusionPipeline

    from galaxysd.diffusion.clip_tokenizer import write_clip_tokenizer
    from galaxysd.diffusion.model import _quiet

    _quiet()
    pipe = StableDiffusionPipeline(**sd15_components(small, seed), safety_checker=None, feature_extractor=None,
                                   requires_safety_checker=False)
    folder = Path(folder)
    with atomic_path(folder) as tmp:
        pipe.save_pretrained(tmp, safe_serialization=True)
        # SD v1.5's tokenizer/ holds vocab.json and merges.txt (transformers would save tokenizer.json)
        shutil.rmtree(Path(tmp) / "tokenizer")
        write_clip_tokenizer(Path(tmp) / "tokenizer")
    return folder
