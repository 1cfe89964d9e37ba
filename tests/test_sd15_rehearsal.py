"""The paper route's pieces on Stable Diffusion v1.5's real architecture (its small form) at 424 px:
the real CLIP tokenizer, the latent cache (53x53 latents), a fine-tuning step of UNet and text encoder
with gradient checkpointing and AdamW, a checkpoint and its resume, and generation with weighted
prompts back at 424 px."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image

from galaxysd.__main__ import main
from galaxysd.diffusion import model as dmodel
from galaxysd.diffusion import sd15, train
from galaxysd.diffusion.clip_tokenizer import CLIP_VOCAB_SIZE, clip_bpe_file, load_clip_tokenizer
from galaxysd.diffusion.finetune_config import FinetuneConfig
from galaxysd.diffusion.latents import cache_latents, load_latents
from galaxysd.diffusion.sample import SamplerSettings, generate, native_resolution

RES = 424


@pytest.fixture(scope="module")
def tokenizer():
    return load_clip_tokenizer()


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    """The small form's folder, and a training manifest of four 424 px galaxies."""
    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("sd15")
    folder = root / "sd15-small"
    assert main(["sd15-architecture", "--out", str(folder), "--small"]) == 0  # the command a user runs
    rng = np.random.default_rng(0)
    rows = []
    yy, xx = np.mgrid[:RES, :RES] - RES / 2
    for i, tags in enumerate(["smooth|completely round galaxy", "disk|edge-on galaxy|dust lane"] * 2):
        blob = np.exp(-(xx ** 2 / (30 + 20 * i) ** 2 + yy ** 2 / 25 ** 2))[..., None] * [220, 180, 120]
        img = np.clip(blob + rng.normal(0, 6, (RES, RES, 3)), 0, 255).astype(np.uint8)
        path = root / f"{100 + i}.jpg"
        Image.fromarray(img).save(path, quality=95)
        rows.append({"objid": 100 + i, "image_path": str(path), "tags": tags})
    manifest = root / "manifest.csv"
    pd.DataFrame(rows).to_csv(manifest, index=False)
    return {"root": root, "folder": folder, "manifest": manifest}


def test_the_clip_vocabulary_is_the_pinned_file_and_tokenizes_as_clip(tokenizer):
    import hashlib

    from galaxysd.diffusion.clip_tokenizer import BPE_SHA256

    assert hashlib.sha256(clip_bpe_file().read_bytes()).hexdigest() == BPE_SHA256
    assert len(tokenizer) == CLIP_VOCAB_SIZE == 49408
    assert tokenizer("a photo of a cat").input_ids == [49406, 320, 1125, 539, 320, 2368, 49407]
    assert tokenizer.model_max_length == 77 and tokenizer.pad_token_id == 49407


def test_full_size_configs_are_stable_diffusion_v1_5s():
    from diffusers import UNet2DConditionModel

    with torch.device("meta"):
        unet = UNet2DConditionModel(**sd15.UNET)
    assert round(dmodel.count_parameters(unet) / 1e6, 1) == 859.5
    assert sd15.VAE["scaling_factor"] == 0.18215 and sd15.VAE["latent_channels"] == 4
    assert (sd15.TEXT_ENCODER["hidden_size"], sd15.TEXT_ENCODER["num_hidden_layers"],
            sd15.TEXT_ENCODER["max_position_embeddings"], sd15.TEXT_ENCODER["vocab_size"]) == (768, 12, 77, 49408)


def test_small_form_keeps_the_blocks_tokenizer_and_scaling_factor(small):
    folder = small["folder"]
    unet = json.loads((folder / "unet" / "config.json").read_text())
    vae = json.loads((folder / "vae" / "config.json").read_text())
    text = json.loads((folder / "text_encoder" / "config.json").read_text())
    for key in ("down_block_types", "up_block_types", "mid_block_type", "layers_per_block", "attention_head_dim",
                "sample_size", "in_channels"):
        assert unet[key] == (list(sd15.UNET[key]) if isinstance(sd15.UNET[key], tuple) else sd15.UNET[key]), key
    assert len(unet["block_out_channels"]) == 4 and len(vae["block_out_channels"]) == 4
    assert vae["scaling_factor"] == 0.18215 and vae["layers_per_block"] == 2
    assert text["vocab_size"] == 49408 and text["max_position_embeddings"] == 77
    assert json.loads((folder / "scheduler" / "scheduler_config.json").read_text())["_class_name"] == "PNDMScheduler"
    assert len(json.loads((folder / "tokenizer" / "vocab.json").read_text())) == 49408


@pytest.mark.slow
def test_route_pieces_run_at_424_px_on_the_small_form(small, tmp_path):
    from galaxysd.diffusion.base_model import check_base_model

    folder, manifest = small["folder"], small["manifest"]
    assert check_base_model(folder) == str(folder.resolve())
    pipe = dmodel.load_pipeline(folder)
    frame = pd.read_csv(manifest)
    # latent cache: 424 px -> 53x53 latents (not a multiple of 8: the UNet's up-sampling sizes follow)
    latents_file = cache_latents(pipe.vae, frame.image_path.tolist(), RES, tmp_path / "latents.safetensors",
                                 objids=frame.objid.tolist(), progress=False)
    cached = load_latents(latents_file)
    assert tuple(cached["mean"].shape) == tuple(cached["std"].shape) == (4, 4, 53, 53)
    # fine-tuning: UNet + text encoder, gradient checkpointing, AdamW; stopped after a checkpoint and resumed
    config = dict(base_model=str(folder), manifest=str(manifest), latents=str(latents_file),
                  output_dir=str(tmp_path / "train"), max_steps=2, batch_size=1, learning_rate=1e-4,
                  warmup_steps=1, checkpoint_every=1, train_text_encoder=True, gradient_checkpointing=True,
                  mixed_precision="no", cpu=True, progress=False, seed=114514)
    first = train.finetune(FinetuneConfig(**config, stop_after=1))
    assert first["interrupted"]
    second = train.finetune(FinetuneConfig(**config))
    history = pd.read_csv(second["loss_csv"])
    assert history.step.tolist() == [1, 2] and np.isfinite(history.loss).all()
    tuned = dmodel.load_pipeline(second["model_dir"])
    assert not torch.equal(tuned.text_encoder.get_input_embeddings().weight,
                           pipe.text_encoder.get_input_embeddings().weight)  # the text encoder trained too
    # the fine-tuned model draws at the size it was trained at (SD v1.5's config says 512 px)
    assert pipe.unet.config.sample_size == 64 and native_resolution(tuned) == RES
    # generation with a weighted prompt (CFG), decoded back to 424 px
    images = generate(tuned, ["sdss, completely round galaxy, {dust lane:1.3}"], [0],
                      SamplerSettings(steps=2, guidance=6.5, strength=None))
    assert images.shape == (1, RES, RES, 3) and images.std() > 0
