"""The demo's base model pre-trained on a simulated web collection (chapter 02, before fine-tuning)."""

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from galaxysd.diffusion.finetune_config import FinetuneConfig
from galaxysd.errors import DataError, ParameterError
from galaxysd.gz2.simulate.web import draw_web_population, render_web_batch, write_web_collection
from galaxysd.gz2.simulate.web_captions import TABLE1_WEB_PROMPTS, WEB_WORDS, web_captions
from galaxysd.stages import s02_finetune as stages
from galaxysd.stages import s02_pretrain as pre

from test_diffusion_stages import SIZES, write_survey


def test_without_dusty_early_types_the_collection_has_dust_lanes_on_disks_only():
    with_prior = draw_web_population(3000, seed=0)
    without = draw_web_population(3000, seed=0, dusty_early_types=False)
    assert (with_prior["dust_lane"] & (with_prior["kind"] == "elliptical")).sum() > 100
    assert with_prior["is_detg"].sum() > 100
    assert not (without["dust_lane"] & (without["kind"] == "elliptical")).any() and not without["is_detg"].any()
    disks = without["kind"] == "disk"
    assert (without["dust_lane"] & disks & without["edge_on"]).sum() > 50
    assert (without["dust_lane"] & disks & ~without["edge_on"]).sum() > 50  # face-on and inclined disks too


def test_the_collection_holds_every_kind_of_galaxy():
    pop = draw_web_population(3000, seed=1)
    assert set(pop["kind"]) == {"elliptical", "disk", "irregular"}
    for column in ("spiral", "bar", "ring", "merger", "edge_on"):
        assert pop[column].any(), column


def test_captions_are_plain_language_and_name_every_dust_lane():
    pop = draw_web_population(400, seed=2)
    captions = web_captions(pop, seed=2)
    for caption, dusty in zip(captions, pop["dust_lane"]):
        alternatives = caption.split("|")
        assert 1 <= len(alternatives) <= 3
        assert not any(a.startswith("sdss") for a in alternatives)
        assert all(("dust" in a) == dusty for a in alternatives)
    assert len({a for c in captions for a in c.split("|")}) > 100  # varied wording


def test_every_word_of_the_web_captions_is_one_token_of_the_tiny_tokenizer():
    from galaxysd.diffusion.tokenizer import load_tokenizer

    tok = load_tokenizer()
    pop = draw_web_population(300, seed=3)
    text = " ".join(web_captions(pop, 3)).replace("|", " ") + " " + " ".join(TABLE1_WEB_PROMPTS.values())
    words = set(text.replace(",", " ").replace("-", " ").split()) | set(WEB_WORDS)
    split = [w for w in words if len(tok.tokenize(w)) != 1]
    assert split == []


def test_web_pictures_differ_in_style_from_the_survey():
    from galaxysd.gz2.simulate.render import render_batch

    pop = draw_web_population(32, seed=4)
    web = np.stack([np.asarray(Image.open(__import__("io").BytesIO(j))) for j in
                    render_web_batch(pop, 48, np.random.default_rng(0))])
    survey = render_batch(pop, 48, np.random.default_rng(0), frame_r90=5.0)
    assert web.shape == survey.shape == (32, 48, 48, 3)
    # exposed to its brightest light, each web picture reaches near-full brightness; survey cutouts
    # of faint galaxies do not
    assert np.percentile(web.max(axis=(1, 2, 3)), 10) > np.percentile(survey.max(axis=(1, 2, 3)), 10)
    # off-centre framing: the brightest pixel wanders further from the centre
    def offset(images):
        flat = images.mean(axis=3).reshape(len(images), -1).argmax(axis=1)
        y, x = np.divmod(flat, 48)
        return np.hypot(y - 23.5, x - 23.5).mean()
    assert offset(web) > offset(survey)


def test_write_web_collection_gives_a_readable_manifest(tmp_path):
    manifest = pd.read_csv(write_web_collection(tmp_path / "web", 20, 32, seed=0, progress=False))
    truth = pd.read_csv(tmp_path / "web" / "truth.csv")
    assert list(manifest.columns) == ["objid", "image_path", "tags", "caption"] and len(manifest) == 20
    assert manifest["objid"].tolist() == truth["objid"].tolist()
    assert all(Image.open(tmp_path / "web" / p).size == (32, 32) for p in manifest["image_path"])
    from galaxysd.gz2.simulate.web import read_web_manifest

    assert all(Image.open(p).size == (32, 32) for p in read_web_manifest(tmp_path / "web")["image_path"])


def test_collection_size_must_be_positive():
    with pytest.raises(ParameterError, match="pretrain_collection_size"):
        draw_web_population(0)


def test_unknown_caption_source_is_refused():
    with pytest.raises(ParameterError, match="caption_source"):
        FinetuneConfig.from_dict({"base_model": "b", "manifest": "m", "latents": "l", "output_dir": "o",
                                  "caption_source": "both"})


def test_an_early_type_with_a_dust_lane_in_the_fine_tuning_set_is_an_error():
    ok = pd.DataFrame({"objid": [1, 2], "tags": ["edge-on galaxy|dust lane", "in-between round galaxy"]})
    pre.check_exclusion(ok)
    bad = pd.DataFrame({"objid": [1, 7], "tags": ["spiral galaxy", "in-between round galaxy|dust lane"]})
    with pytest.raises(DataError, match="objID 7"):
        pre.check_exclusion(bad)


def _params(**extra):
    return dict(base_model="tiny", resolution=16, tiny_sizes=SIZES, autoencoder_steps=2, autoencoder_batch_size=4,
                autoencoder_learning_rate=1e-3, autoencoder_crop=0, seed=0, max_steps=2, batch_size=4,
                learning_rate=1e-3, warmup_steps=1, checkpoint_every=100, cpu=True, num_threads=1, **extra)


def test_fine_tuning_starts_from_the_model_pre_trained_on_the_web_collection(tmp_path):
    manifest = write_survey(tmp_path / "survey", n=8)
    out = stages.run_finetune_stages(tmp_path / "run", manifest, _params(
        pretrain_steps=2, pretrain_collection_size=8, pretrain_dusty_early_types=True, autoencoder_images="both"))
    assert out["pretrained"] is not None and (out["pretrained"] / "model_index.json").is_file()
    assert out["base_model"] == str(out["pretrained"])
    assert len(pd.read_csv(out["pretrained"].parent / "loss.csv")) == 2
    import json

    assert json.loads((tmp_path / "run" / "02_finetune" / "base" / "timing.json").read_text())["images"] == 16
    # the fine-tuned model differs from the pre-trained one, which differs from the untrained base
    from safetensors.torch import load_file

    weights = [load_file(str(m / "unet" / "diffusion_pytorch_model.safetensors"))
               for m in (out["base_dir"] / "model", out["pretrained"], out["model"])]
    key = next(iter(weights[0]))
    assert not np.allclose(weights[0][key], weights[1][key]) and not np.allclose(weights[1][key], weights[2][key])
    again = stages.run_finetune_stages(tmp_path / "run", manifest, _params(
        pretrain_steps=2, pretrain_collection_size=8, pretrain_dusty_early_types=True, autoencoder_images="both"))
    assert all(again["hits"].values())


def test_no_pretraining_with_zero_steps(tmp_path):
    manifest = write_survey(tmp_path / "survey", n=8)
    out = stages.run_finetune_stages(tmp_path / "run", manifest, _params(pretrain_steps=0, pretrain_collection_size=8))
    assert out["pretrained"] is None and out["web"] is None and out["base_model"] == out["base"]
    assert not (tmp_path / "run" / "02_finetune" / "web").exists()


def test_figure_e5_shows_real_base_and_fine_tuned_galaxies_per_prompt(tmp_path):
    from galaxysd.diffusion.figure_e5 import figure_e5
    from galaxysd.diffusion.sample import SamplerSettings
    from galaxysd.gz2 import TABLE1_PROMPTS

    manifest_path = write_survey(tmp_path / "survey", n=8)
    out = stages.run_finetune_stages(tmp_path / "run", manifest_path, _params(
        pretrain_steps=1, pretrain_collection_size=8, autoencoder_images="web"))
    prompts = {k: TABLE1_PROMPTS[k] for k in "BK"}
    settings = SamplerSettings(scheduler="euler_a", steps=2, guidance=2.0, strength=None)
    images = pre.figure_e5_images(tmp_path / "run", pd.read_csv(manifest_path), out["base_model"], str(out["model"]),
                                  prompts, TABLE1_WEB_PROMPTS, 2, settings, seed=0)
    assert set(images) == {"real", "base", "tuned"}
    assert all(images[c][k].shape[1:] == (16, 16, 3) for c in images for k in "BK")
    assert len(images["base"]["K"]) == len(images["tuned"]["K"]) == 2
    assert not np.array_equal(images["base"]["B"], images["tuned"]["B"])
    fig = figure_e5(images, prompts, TABLE1_WEB_PROMPTS, "smoke")
    assert len(fig.axes) == 2 * (6 + 1)  # three blocks of two images and the prompts
    with pytest.raises(ParameterError, match="no base-model wording"):
        pre.figure_e5_images(tmp_path / "run", pd.read_csv(manifest_path), out["base_model"], str(out["model"]),
                             {"Z": "sdss, galaxy"}, TABLE1_WEB_PROMPTS, 1, settings, seed=0)


def test_the_web_stage_switch_removes_dusty_early_types_and_keys_the_cache(tmp_path):
    p = dict(pretrain_collection_size=300, resolution=16, seed=0)
    with_prior = pre.web_stage(tmp_path / "run", {**p, "pretrain_dusty_early_types": True}, progress=False)
    assert pd.read_csv(with_prior.path / "truth.csv")["is_detg"].sum() > 5
    without = pre.web_stage(tmp_path / "run", {**p, "pretrain_dusty_early_types": False}, progress=False)
    assert not without.hit
    truth = pd.read_csv(without.path / "truth.csv")
    assert not truth["is_detg"].any() and truth["dust_lane"].sum() > 5
    captions = pd.read_csv(without.path / "manifest.csv")["caption"]
    early = truth["kind"] == "elliptical"
    assert not captions[early].str.contains("dust").any() and captions[~early].str.contains("dust").any()


def test_without_pre_training_the_web_figure_says_why():
    from galaxysd.diffusion.figure_e5 import web_collection_figure

    fig = web_collection_figure(np.zeros((0, 1, 1, 3), np.uint8), [], "paper", note="pretrain_steps = 0")
    assert "pretrain_steps = 0" in fig.axes[0].texts[0].get_text()


def test_an_interrupted_pre_training_resumes_from_its_checkpoint(tmp_path):
    manifest = write_survey(tmp_path / "survey", n=8)
    params = _params(pretrain_steps=4, pretrain_collection_size=8, autoencoder_images="survey")
    params["checkpoint_every"] = 2
    out = stages.run_finetune_stages(tmp_path / "run", manifest, params)
    checkpoints = sorted((out["pretrained"].parent / "checkpoints").iterdir())
    assert [c.name for c in checkpoints] == ["step-000004"]  # the newest only
    assert len(pd.read_csv(out["pretrained"].parent / "loss.csv")) == 4
