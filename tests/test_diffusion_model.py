"""The tiny SD-architecture model: the shipped tokenizer, build, save, load."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from galaxysd.diffusion import model as dmodel
from galaxysd.diffusion import tokenizer as dtok
from galaxysd.errors import ParameterError

SIZES = dict(vae_channels=(8, 8), unet_channels=(16, 16), unet_attention_levels=(0,), text_hidden=16,
             text_layers=1, text_heads=2, text_intermediate=32, norm_num_groups=4,
             unet_attention_head_dim=4)


def test_every_word_of_the_tag_vocabulary_and_table1_is_one_token():
    from galaxysd.gz2 import DETG_PROMPTS, TABLE1_PROMPTS, TAG_ORDER

    tok = dtok.load_tokenizer()
    for text in [*TAG_ORDER, *TABLE1_PROMPTS.values(), *DETG_PROMPTS]:
        words = [w for w in __import__("re").findall(r"[a-z]+", text.lower())]
        letter_tokens = [t for t in tok.tokenize(text) if t[0].isalpha()]
        assert [t.removesuffix("</w>") for t in letter_tokens] == words, text


def test_shipped_tokenizer_files_are_what_the_generator_writes(tmp_path):
    dtok.write_tokenizer_files(tmp_path)
    for name in ("vocab.json", "merges.txt"):
        assert (tmp_path / name).read_text() == (dtok.TOKENIZER_DIR / name).read_text()


def test_tokenizer_pads_to_77_with_end_of_text_like_sd15():
    tok = dtok.load_tokenizer()
    ids = tok("sdss, ring", padding="max_length", max_length=tok.model_max_length).input_ids
    assert len(ids) == 77 and ids[0] == tok.bos_token_id
    assert ids[1:4] == tok.convert_tokens_to_ids(["sdss</w>", ",</w>", "ring</w>"])
    assert set(ids[4:]) == {tok.eos_token_id}


def test_unknown_words_still_tokenize_as_characters():
    tok = dtok.load_tokenizer()
    assert tok.tokenize("zq") == ["z", "q</w>"]


def test_tiny_model_has_sd15_architecture_and_noise_schedule():
    parts = dmodel.build_tiny_components(resolution=16, **SIZES)
    assert type(parts["unet"]).__name__ == "UNet2DConditionModel"
    assert type(parts["vae"]).__name__ == "AutoencoderKL"
    assert type(parts["text_encoder"]).__name__ == "CLIPTextModel"
    assert parts["unet"].config.cross_attention_dim == parts["text_encoder"].config.hidden_size
    sched = parts["noise_scheduler"].config
    assert (sched.beta_start, sched.beta_end, sched.beta_schedule) == (0.00085, 0.012, "scaled_linear")
    assert sched.num_train_timesteps == 1000 and sched.prediction_type == "epsilon"


def test_resolution_must_fit_the_down_sampling():
    with pytest.raises(ParameterError, match="multiple of 4"):
        dmodel.build_tiny_components(resolution=18, **SIZES)
    with pytest.raises(ParameterError, match="unknown size"):
        dmodel.build_tiny_components(resolution=16, unet_width=3)


def test_saved_tiny_model_loads_with_stable_diffusion_pipeline_and_generates_the_same(tmp_path):
    from diffusers import StableDiffusionPipeline

    pipe = dmodel.build_tiny_pipeline(resolution=16, seed=1, **SIZES)
    folder = dmodel.save_pipeline(pipe, tmp_path / "model")
    assert list(folder.rglob("*.safetensors")) and not list(folder.rglob("*.bin"))
    loaded = StableDiffusionPipeline.from_pretrained(folder)
    assert type(loaded.scheduler).__name__ == "EulerAncestralDiscreteScheduler"
    for name in ("unet", "vae", "text_encoder"):
        a, b = getattr(pipe, name).state_dict(), getattr(loaded, name).state_dict()
        assert all(torch.equal(a[k], b[k]) for k in a)
    kwargs = dict(num_inference_steps=2, height=16, width=16, output_type="np", guidance_scale=3.0)
    pipe.set_progress_bar_config(disable=True)
    loaded.set_progress_bar_config(disable=True)
    x = pipe("sdss, spiral galaxy", generator=torch.Generator().manual_seed(0), **kwargs).images
    y = loaded("sdss, spiral galaxy", generator=torch.Generator().manual_seed(0), **kwargs).images
    assert x.shape == (1, 16, 16, 3)
    np.testing.assert_allclose(x, y, atol=1e-6)


def test_load_pipeline_accepts_a_run_folder_and_swaps_the_scheduler(tmp_path):
    parts = dmodel.build_tiny_components(resolution=16, **SIZES)
    dmodel.save_pipeline(parts, dmodel.trained_model_path(tmp_path))
    pipe = dmodel.load_pipeline(tmp_path, scheduler="DDIMScheduler")
    assert type(pipe.scheduler).__name__ == "DDIMScheduler"
    assert pipe.scheduler.config.beta_end == 0.012


def test_load_pipeline_names_a_folder_without_a_model(tmp_path):
    with pytest.raises(ParameterError, match="no diffusers model"):
        dmodel.load_pipeline(tmp_path)


def test_checkpoints_are_listed_by_step(tmp_path):
    root = tmp_path / "02_finetune" / "train" / "checkpoints"
    for step in (20, 100, 3):
        (root / f"step-{step:06d}").mkdir(parents=True)
        (root / f"step-{step:06d}" / "model_index.json").write_text("{}")
    (root / ".step-000200.saving").mkdir()
    assert [dmodel.checkpoint_step(p) for p in dmodel.checkpoint_paths(tmp_path)] == [3, 20, 100]


def test_block_types_and_vae_groups_can_be_chosen():
    parts = dmodel.build_tiny_components(resolution=16, **{**SIZES, "vae_norm_num_groups": 2,
                                                           "unet_down_block_types": ["DownBlock2D", "CrossAttnDownBlock2D"]})
    assert parts["unet"].config.down_block_types == ("DownBlock2D", "CrossAttnDownBlock2D")
    assert parts["unet"].config.up_block_types == ("CrossAttnUpBlock2D", "UpBlock2D")
    assert parts["vae"].config.norm_num_groups == 2
    with pytest.raises(ParameterError, match="unet_down_block_types has 1"):
        dmodel.build_tiny_components(resolution=16, **{**SIZES, "unet_down_block_types": ["DownBlock2D"]})


def test_attention_levels_choose_which_blocks_attend():
    parts = dmodel.build_tiny_components(resolution=32, **{**SIZES, "unet_channels": (16, 16, 16),
                                                           "unet_attention_levels": (1,)})
    assert parts["unet"].config.down_block_types == ("DownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D")
    assert parts["unet"].config.up_block_types == ("UpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D")
    # the demo's model: a 2x-down VAE (32x32 latents for 64 px) and a UNet attending at 8x8 only
    demo = dmodel.build_tiny_components(resolution=64)
    assert demo["unet"].config.sample_size == 32
    assert demo["unet"].config.down_block_types == ("DownBlock2D", "DownBlock2D", "CrossAttnDownBlock2D",
                                                    "DownBlock2D")
    with pytest.raises(ParameterError, match=r"unet_attention_levels=\[2\] must be UNet levels 0-1"):
        dmodel.build_tiny_components(resolution=16, **{**SIZES, "unet_attention_levels": (2,)})
