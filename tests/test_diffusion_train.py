"""Fine-tuning: loss goes down, a resumed run equals an uninterrupted one, two CPU processes work."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image, ImageDraw

from galaxysd.diffusion import model as dmodel
from galaxysd.diffusion import latents as dlatents
from galaxysd.diffusion import objective, train
from galaxysd.diffusion.finetune_config import FinetuneConfig
from galaxysd.errors import ParameterError

RES = 16
SIZES = dict(vae_channels=(8, 8), unet_channels=(16, 16), unet_attention_levels=(0,), text_hidden=16,
             text_layers=1, text_heads=2, text_intermediate=32, norm_num_groups=4,
             unet_attention_head_dim=4)
SHAPES = {"completely round galaxy": ((230, 120, 60), 0.35, 0.35),
          "cigar-shaped galaxy": ((90, 140, 240), 0.45, 0.12)}


def write_shape_survey(folder: Path, n: int = 8, resolution: int = 32, seed: int = 0) -> Path:
    """A training manifest of drawn 'galaxies': red discs (round) and thin blue ellipses (cigar)."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    for i in range(n):
        tag = list(SHAPES)[i % 2]
        colour, a, b = SHAPES[tag]
        img = Image.new("RGB", (resolution, resolution))
        c = resolution / 2 + rng.normal(0, 1)
        ImageDraw.Draw(img).ellipse([c - a * resolution, c - b * resolution, c + a * resolution,
                                     c + b * resolution], fill=colour)
        path = folder / f"{1000 + i}.jpg"
        img.save(path, quality=95)
        tags = ["smooth", tag]
        rows.append({"objid": 1000 + i, "image_path": str(path), "tags": "|".join(tags),
                     "caption": "sdss, " + ", ".join(tags)})
    manifest = folder / "manifest.csv"
    pd.DataFrame(rows).to_csv(manifest, index=False)
    return manifest


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    """A tiny base model (untrained VAE is fine for the loop) and its latent cache."""
    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("finetune")
    manifest = write_shape_survey(root / "survey", n=8, resolution=RES)
    parts = dmodel.build_tiny_components(resolution=RES, seed=0, **SIZES)
    base = dmodel.save_pipeline(parts, root / "base")
    frame = pd.read_csv(manifest)
    latents = dlatents.cache_latents(parts["vae"], frame["image_path"].tolist(), RES, root / "latents.safetensors",
                                  objids=frame["objid"].tolist(), progress=False)
    return {"root": root, "manifest": manifest, "base": base, "latents": latents}


def _config(prepared, out: Path, **kw) -> FinetuneConfig:
    values = dict(base_model=str(prepared["base"]), manifest=str(prepared["manifest"]),
                  latents=str(prepared["latents"]), output_dir=str(out), max_steps=6, batch_size=4,
                  learning_rate=1e-3, warmup_steps=2, checkpoint_every=3, caption_dropout=0.25, cpu=True,
                  progress=False, seed=3)
    values.update(kw)
    return FinetuneConfig(**values)


def _weights(folder: Path) -> dict[str, torch.Tensor]:
    parts = dmodel.load_components(folder)
    out = {f"unet.{k}": v for k, v in parts["unet"].state_dict().items()}
    out.update({f"text.{k}": v for k, v in parts["text_encoder"].state_dict().items()})
    return out


def test_latent_cache_holds_one_distribution_per_image_in_manifest_order(prepared):
    cache = dlatents.load_latents(prepared["latents"])
    assert cache["mean"].shape == (8, 4, RES // 2, RES // 2)
    assert (cache["std"] > 0).all()
    assert cache["objid"].tolist() == pd.read_csv(prepared["manifest"])["objid"].tolist()


def test_batches_cover_every_image_once_per_epoch_across_processes():
    seen = [objective.batch_indices(step, 12, 3, 2, rank, seed=5) for step in range(2) for rank in range(2)]
    assert sorted(np.concatenate(seen).tolist()) == list(range(12))


def test_one_cycle_schedule_warms_up_then_anneals_to_zero():
    factors = [objective.lr_factor(s, 10, 4) for s in range(11)]
    assert factors[0] == pytest.approx(0.04) and factors[4] == 1.0 and factors[10] == pytest.approx(0.0)
    assert all(a < b for a, b in zip(factors[:4], factors[1:5]))
    assert all(a > b for a, b in zip(factors[4:10], factors[5:11]))


def test_min_snr_weighting_down_weights_only_the_nearly_noise_free_timesteps():
    from diffusers import DDPMScheduler

    scheduler = DDPMScheduler(**dmodel.NOISE_SCHEDULE)
    pred = torch.zeros(3, 4, 2, 2)
    noise = torch.stack([torch.full((4, 2, 2), v) for v in (1.0, 2.0, 3.0)])  # per-image errors 1, 4, 9
    t = torch.tensor([10, 500, 999])
    # plain epsilon MSE: the mean of the per-image errors
    assert float(objective.noise_prediction_loss(pred, noise, t, scheduler)) == pytest.approx(14 / 3)
    # by hand: SNR = abar / (1 - abar); weight min(SNR, 5) / SNR
    abar = scheduler.alphas_cumprod[t].double()
    snr = abar / (1 - abar)
    assert snr[0] > 5 > snr[1] > snr[2]  # t = 10 is nearly noise-free, the others are not
    expected = (5 / snr[0] * 1 + 1 * 4 + 1 * 9) / 3
    got = float(objective.noise_prediction_loss(pred, noise, t, scheduler, snr_gamma=5.0))
    assert got == pytest.approx(float(expected), rel=1e-5)
    with pytest.raises(ParameterError, match="snr_gamma"):
        objective.noise_prediction_loss(pred, noise, t, scheduler, snr_gamma=0)


@pytest.mark.slow
def test_a_few_steps_reduce_the_loss_on_a_fixed_batch(prepared, tmp_path):
    cache = dlatents.load_latents(prepared["latents"])
    parts = dmodel.load_components(prepared["base"])
    scale = parts["vae"].config.scaling_factor
    z = cache["mean"] * scale
    captions = pd.read_csv(prepared["manifest"])["caption"].tolist()

    def loss_of(folder):
        p = dmodel.load_components(folder)
        return np.mean([objective.denoising_loss(p["unet"], p["text_encoder"], p["tokenizer"],
                                             p["noise_scheduler"], z, captions, seed=s) for s in range(4)])

    before = loss_of(prepared["base"])
    result = train.finetune(_config(prepared, tmp_path / "run", max_steps=30, checkpoint_every=100,
                                    caption_dropout=0.0))
    after = loss_of(result["model_dir"])
    assert after < 0.8 * before
    history = pd.read_csv(result["loss_csv"])
    assert history["step"].tolist() == list(range(1, 31))


@pytest.mark.slow
def test_resumed_run_ends_with_the_same_weights_as_an_uninterrupted_one(prepared, tmp_path):
    whole = train.finetune(_config(prepared, tmp_path / "whole"))
    first = train.finetune(_config(prepared, tmp_path / "split", stop_after=3))
    assert first["interrupted"] and first["model_dir"] is None
    assert [p.name for p in dmodel.checkpoint_paths(tmp_path / "split")] == ["step-000003"]
    second = train.finetune(_config(prepared, tmp_path / "split"))
    assert not second["interrupted"]
    a, b = _weights(whole["model_dir"]), _weights(second["model_dir"])
    assert a.keys() == b.keys()
    assert all(torch.equal(a[k], b[k]) for k in a)
    pd.testing.assert_frame_equal(pd.read_csv(whole["loss_csv"]), pd.read_csv(second["loss_csv"]))


@pytest.mark.slow
def test_min_snr_run_trains_on_the_weighted_loss(prepared, tmp_path):
    plain = train.finetune(_config(prepared, tmp_path / "plain", max_steps=3, checkpoint_every=3))
    weighted = train.finetune(_config(prepared, tmp_path / "snr", max_steps=3, checkpoint_every=3,
                                      snr_gamma=5.0))
    plain_loss = pd.read_csv(plain["loss_csv"])["loss"]
    weighted_loss = pd.read_csv(weighted["loss_csv"])["loss"]
    # same model, batch, noise and timesteps at step 1; the weights are at most 1
    assert weighted_loss.iloc[0] <= plain_loss.iloc[0] + 1e-7
    assert np.isfinite(weighted_loss).all()
    after_weighted = _weights(weighted["model_dir"])
    differ = [k for k, v in _weights(plain["model_dir"]).items() if not torch.equal(v, after_weighted[k])]
    assert differ, "snr_gamma changed nothing: the weighting never reached the optimiser"


@pytest.mark.slow
def test_checkpoints_load_as_pipelines(prepared, tmp_path):
    from diffusers import StableDiffusionPipeline

    train.finetune(_config(prepared, tmp_path / "run", max_steps=3, checkpoint_every=3))
    (ckpt,) = dmodel.checkpoint_paths(tmp_path / "run")
    pipe = StableDiffusionPipeline.from_pretrained(ckpt)
    pipe.set_progress_bar_config(disable=True)
    image = pipe("sdss, smooth", num_inference_steps=2, height=RES, width=RES, output_type="np").images
    assert image.shape == (1, RES, RES, 3)


@pytest.mark.slow
def test_two_cpu_processes_train_one_model(prepared, tmp_path):
    config = _config(prepared, tmp_path / "ddp", max_steps=4, checkpoint_every=2, batch_size=2)
    cfg_file = tmp_path / "config.json"
    cfg_file.write_text(config.to_json())
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
                           "-m", "galaxysd.diffusion.train", str(cfg_file)], env=env, capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert (tmp_path / "ddp" / "model" / "model_index.json").is_file()
    assert [p.name for p in dmodel.checkpoint_paths(tmp_path / "ddp")] == ["step-000002", "step-000004"]
    assert pd.read_csv(tmp_path / "ddp" / "loss.csv")["step"].tolist() == [1, 2, 3, 4]
    assert json.loads((tmp_path / "ddp" / "config.json").read_text())["batch_size"] == 2


@pytest.mark.slow
def test_autoencoder_training_lowers_reconstruction_error_and_scales_latents_to_unit_variance(tmp_path):
    torch.set_num_threads(1)
    manifest = write_shape_survey(tmp_path / "survey", n=8, resolution=RES)
    images = dlatents.load_images(pd.read_csv(manifest)["image_path"].tolist(), RES, progress=False)
    vae = dmodel.build_tiny_components(resolution=RES, seed=0, **SIZES)["vae"]
    losses = dlatents.train_autoencoder(vae, images, steps=120, batch_size=4, learning_rate=3e-3, crop=None,
                                        progress=False)
    assert np.mean(losses[-10:]) < 0.7 * np.mean(losses[:10])
    with torch.no_grad():
        z = vae.encode(dlatents.to_model_range(images)).latent_dist.mean * vae.config.scaling_factor
    # latents standardised per channel (measured on a subsample of these same 8 images: all of them)
    assert vae.config.scaling_factor == 1.0
    assert torch.allclose(z.mean(dim=(0, 2, 3)), torch.zeros(z.shape[1]), atol=1e-4)
    assert torch.allclose(z.std(dim=(0, 2, 3)), torch.ones(z.shape[1]), atol=1e-4)


def test_standardising_latents_keeps_every_decoded_image_and_fixes_the_posterior_spread():
    torch.manual_seed(0)
    vae = dmodel.build_tiny_components(resolution=RES, seed=0, **SIZES)["vae"].eval()
    dlatents.fix_posterior_variance(vae, -8.0)
    images = torch.randint(0, 256, (6, 3, RES, RES), dtype=torch.uint8)
    x = dlatents.to_model_range(images)
    with torch.no_grad():
        before_post = vae.encode(x).latent_dist
        before = vae.decode(before_post.mean).sample
        mean, std = dlatents.standardise_latents(vae, images)
        after_post = vae.encode(x).latent_dist
        after = vae.decode(after_post.mean).sample
    assert torch.allclose(after, before, atol=1e-4)
    z = after_post.mean
    assert torch.allclose(z.mean(dim=(0, 2, 3)), torch.zeros(4), atol=1e-4)
    assert torch.allclose(z.std(dim=(0, 2, 3)), torch.ones(4), atol=1e-4)
    # the posterior noise shrinks with its channel: same noise relative to the latent spread
    expected = (before_post.std / std.view(1, -1, 1, 1))
    assert torch.allclose(after_post.std, expected, rtol=1e-4)
    assert torch.allclose(before_post.std, torch.full_like(before_post.std, float(np.exp(-4.0))), rtol=1e-4)


def test_sample_grids_use_evenly_spread_checkpoints_ending_with_the_last():
    from galaxysd.diffusion import report

    assert report.pick_checkpoints([100, 200, 300, 400, 500], 2)[-1] == 500
    assert report.pick_checkpoints([100, 200], 5) == [100, 200]
    assert report.pick_checkpoints([], 3) == []


@pytest.mark.slow
def test_only_the_newest_checkpoint_keeps_the_optimiser_state(prepared, tmp_path):
    train.finetune(_config(prepared, tmp_path / "run", max_steps=4, checkpoint_every=2))
    older, newest = dmodel.checkpoint_paths(tmp_path / "run")
    assert not (older / "training_state.pt").exists() and (newest / "training_state.pt").is_file()
    assert (older / "unet" / "diffusion_pytorch_model.safetensors").is_file()
