"""Sampling: schedulers by name, image-to-image from a reference, batch generation to disk."""

import json

import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image

from galaxysd.diffusion import batch, sample
from galaxysd.diffusion.plan import plan_samples
from galaxysd.diffusion.sample import SamplerSettings
from galaxysd.errors import GalaxySDError, ParameterError, PromptError
from galaxysd.stages import s03_generate as s03

FAST = SamplerSettings(steps=2, guidance=3.0)


@pytest.fixture(scope="module")
def pipe():
    from galaxysd.diffusion.model import build_tiny_pipeline

    return build_tiny_pipeline(resolution=32, seed=0)


@pytest.fixture(scope="module")
def references(tmp_path_factory):
    """Four 'real' galaxies written as JPEGs, keyed by a made-up objid."""
    folder = tmp_path_factory.mktemp("refs")
    y, x = np.indices((48, 48)) - 23.5
    paths = {}
    for k in range(4):
        blob = np.exp(-0.5 * ((x / (4 + 2 * k)) ** 2 + (y / 5) ** 2))
        rgb = np.stack([blob * 0.9, blob * 0.7, blob * 0.5], axis=-1)
        path = folder / f"{587722981736000000 + k}.jpg"
        Image.fromarray((rgb * 255).astype(np.uint8)).save(path)
        paths[587722981736000000 + k] = str(path)
    return paths


def test_schedulers_are_found_by_alias_or_class_name(pipe):
    assert type(sample.make_scheduler("euler_a", pipe.scheduler.config)).__name__ == "EulerAncestralDiscreteScheduler"
    assert type(sample.make_scheduler("DDIMScheduler", pipe.scheduler.config)).__name__ == "DDIMScheduler"
    assert type(sample.make_scheduler("dpmpp_2m", pipe.scheduler.config)).__name__ == "DPMSolverMultistepScheduler"
    with pytest.raises(ParameterError, match="euler_a"):
        sample.make_scheduler("warp_drive", pipe.scheduler.config)


def test_sampling_keeps_the_training_betas(pipe):
    scheduler = sample.make_scheduler("euler_a", pipe.scheduler.config)
    assert scheduler.config.beta_start == 0.00085 and scheduler.config.beta_end == 0.012
    assert scheduler.config.beta_schedule == "scaled_linear"


def test_paper_sampler_starts_at_t999_carrying_0_068_of_the_reference(pipe):
    scheduler = sample.make_scheduler("euler_a", pipe.scheduler.config)
    assert sample.first_timestep(scheduler, 40, strength=1.0) == 999
    assert sample.reference_fraction(scheduler, 40) == pytest.approx(0.0683, abs=5e-4)


@pytest.mark.slow
def test_img2img_at_strength_1_keeps_0_068_of_the_reference_latent(pipe, references):
    """Same seed, two references: the first UNet input differs by exactly 0.068 x their latents' difference."""
    images = sample.load_images(list(references.values())[:2], 32)
    seen = []
    hook = pipe.unet.register_forward_pre_hook(lambda module, args: seen.append(args[0].detach().clone()))
    try:
        for image in images:
            sample.generate(pipe, ["sdss, edge-on galaxy"], [7], SamplerSettings(steps=3, strength=1.0),
                            image[None])
    finally:
        hook.remove()
    first_a, first_b = seen[0], seen[3]  # first step of each call (3 steps per call)
    latents = sample.encode_references(pipe, images)
    difference = first_a[0] - first_b[0]   # conditional half of the guided batch
    expected = 0.06826 * (latents[0] - latents[1])
    assert torch.allclose(difference, expected, atol=1e-4 * float(expected.abs().max()) + 1e-6)
    # the low-frequency signal survives: the difference is almost perfectly correlated with the reference's
    corr = np.corrcoef(difference.flatten().numpy(), (latents[0] - latents[1]).flatten().numpy())[0, 1]
    assert corr > 0.999


def test_an_image_depends_on_its_seed_not_on_its_batch(pipe):
    settings = SamplerSettings(steps=2, strength=None)
    both = sample.generate(pipe, ["sdss, ring galaxy", "sdss, edge-on galaxy"], [3, 4], settings)
    alone = sample.generate(pipe, ["sdss, edge-on galaxy"], [4], settings)
    assert both.shape == (2, 32, 32, 3) and both.dtype == np.uint8
    # equal up to float rounding, which may differ between batch sizes (a level or two of 255)
    assert np.abs(both[1].astype(int) - alone[0]).max() <= 2
    again = sample.generate(pipe, ["sdss, edge-on galaxy"], [5], settings)
    assert not np.array_equal(again[0], alone[0])


def test_generate_rejects_bad_inputs(pipe):
    with pytest.raises(ParameterError, match="seed"):
        sample.generate(pipe, ["a", "b"], [1], FAST)
    with pytest.raises(ParameterError, match="reference"):
        sample.generate(pipe, ["a"], [1], FAST, references=None)
    with pytest.raises(PromptError, match="never closed"):
        sample.generate(pipe, ["sdss, {dust lane"], [1], SamplerSettings(steps=1, strength=None))


def test_plan_is_reproducible_and_draws_references_from_the_pool():
    prompts = {"A": "sdss, cigar-shaped galaxy", "K": "sdss, in-between round galaxy, {dust lane:1.3}"}
    one = plan_samples(prompts, 5, seed=3, references=[10, 11, 12])
    two = plan_samples(prompts, 5, seed=3, references=[10, 11, 12])
    pd.testing.assert_frame_equal(one, two)
    assert len(one) == 10 and one["sample_id"].is_unique and one["seed"].is_unique
    assert set(one["reference_id"]) <= {10, 11, 12}
    other = plan_samples(prompts, 5, seed=4, references=[10, 11, 12])
    assert not np.array_equal(one["seed"], other["seed"])
    # adding a prompt does not change the other prompts' samples
    more = plan_samples({**prompts, "B": "sdss, completely round galaxy"}, 5, seed=3, references=[10, 11, 12])
    pd.testing.assert_frame_equal(more.iloc[:10].reset_index(drop=True), one)
    per_label = plan_samples(prompts, 3, seed=0, references={"A": [1], "K": [2]})
    assert list(per_label["reference_id"]) == [1, 1, 1, 2, 2, 2]
    text_only = plan_samples(prompts, 2, seed=0)
    assert (text_only["reference_id"] == -1).all()


def test_plan_rejects_malformed_prompts_before_any_work():
    with pytest.raises(PromptError):
        plan_samples({"X": "sdss, {dust lane:abc}"}, 1, seed=0)


@pytest.mark.slow
def test_sharded_generation_covers_every_sample_exactly_once(pipe, references, tmp_path):
    prompts = {"A": "sdss, cigar-shaped galaxy", "K": "sdss, in-between round galaxy, {dust lane:1.3}",
               "C": "sdss, edge-on galaxy"}
    plan = plan_samples(prompts, 3, seed=1, references=list(references))
    shards = [batch.generate_to_disk(pipe, plan, tmp_path, FAST, references, batch_size=2, rank=r,
                                     world_size=3, progress=False) for r in range(3)]
    assert sum(len(s) for s in shards) == len(plan)
    assert not set(shards[0]["sample_id"]) & set(shards[1]["sample_id"])
    merged = batch.merge_manifests(tmp_path, plan)
    assert list(merged["sample_id"]) == list(plan["sample_id"])
    assert sorted(p.name for p in tmp_path.glob("*.png")) == sorted(f"{s}.png" for s in plan["sample_id"])
    row = merged.set_index("sample_id").loc["K-0001"]
    assert row["prompt"] == prompts["K"] and row["scheduler"] == "euler_a" and row["mode"] == "img2img"
    assert int(row["steps"]) == 2 and float(row["guidance"]) == 3.0 and float(row["strength"]) == 1.0
    assert int(row["reference_id"]) == int(plan.set_index("sample_id").loc["K-0001", "reference_id"])
    assert json.loads(row["weights"])[-1] == ["dust lane", 1.3]
    # sharding does not change the pictures: rank 1 alone makes the same image as in one process
    solo = tmp_path / "solo"
    batch.generate_to_disk(pipe, plan.iloc[[1]], solo, FAST, references, progress=False, rank=0, world_size=1)
    solo_image = np.asarray(Image.open(solo / "A-0001.png")).astype(int)
    assert np.abs(solo_image - np.asarray(Image.open(tmp_path / "A-0001.png"))).max() <= 2


def test_generation_resumes_without_redoing_or_duplicating(pipe, tmp_path):
    plan = plan_samples({"B": "sdss, completely round galaxy", "D": "sdss, in-between round galaxy"}, 3, seed=2)
    txt = SamplerSettings(steps=2, strength=None)
    batch.generate_to_disk(pipe, plan.iloc[:4], tmp_path, txt, batch_size=3, progress=False, rank=0, world_size=1)
    stamps = {p.name: p.stat().st_mtime_ns for p in tmp_path.glob("*.png")}
    assert len(stamps) == 4
    with pytest.raises(GalaxySDError, match="2 missing"):
        batch.merge_manifests(tmp_path, plan)
    # the rerun uses two processes, as if the job were relaunched wider: it only makes what is missing
    made = [batch.generate_to_disk(pipe, plan, tmp_path, txt, batch_size=3, progress=False, rank=r, world_size=2)
            for r in range(2)]
    assert {p.name: p.stat().st_mtime_ns for p in tmp_path.glob("*.png") if p.name in stamps} == stamps
    merged = batch.merge_manifests(tmp_path, plan)
    assert list(merged["sample_id"]) == list(plan["sample_id"])
    assert (merged["mode"] == "txt2img").all() and (merged["reference_id"] == -1).all()
    assert sum(len(m) for m in made) == len(plan)
    assert len(batch.read_generated(tmp_path)) == len(plan)


def test_img2img_needs_a_path_for_every_reference(pipe, tmp_path):
    plan = plan_samples({"A": "sdss, cigar-shaped galaxy"}, 2, seed=0, references=[99])
    with pytest.raises(ParameterError, match="99"):
        batch.generate_to_disk(pipe, plan, tmp_path, FAST, {}, progress=False)


@pytest.mark.slow
def test_two_processes_under_torchrun_split_the_plan_without_duplicates(tmp_path):
    import os
    import subprocess
    import sys

    from galaxysd.diffusion.model import build_tiny_pipeline, save_pipeline

    model = save_pipeline(build_tiny_pipeline(resolution=32, seed=1), tmp_path / "model")
    plan = plan_samples({"A": "sdss, cigar-shaped galaxy", "C": "sdss, edge-on galaxy, {dust lane}"}, 3, seed=0)
    plan.to_csv(tmp_path / "plan.csv", index=False)
    out = tmp_path / "out"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
                           "-m", "galaxysd.diffusion.batch", "--model", str(model), "--plan", str(tmp_path / "plan.csv"),
                           "--out", str(out), "--steps", "2", "--batch-size", "2", "--threads", "1"],
                          env=env, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-2000:]
    ranks = [pd.read_csv(out / f"manifest-rank{r}.csv") for r in (0, 1)]
    assert len(ranks[0]) == len(ranks[1]) == 3
    assert not set(ranks[0]["sample_id"]) & set(ranks[1]["sample_id"])
    merged = batch.read_generated(out)
    assert list(merged["sample_id"]) == list(plan["sample_id"])
    assert all(os.path.isfile(p) for p in merged["path"])


def test_generation_inputs_name_letters_that_are_not_table1_prompts(tmp_path):
    with pytest.raises(ParameterError, match=r"\['Z'\]"):
        batch.generation_inputs(tmp_path, "ABZ")


def _inputs(pipe, references, prompts):
    return batch.GenerationInputs(model=pipe, manifest=pd.DataFrame(), size=32, prompts=prompts,
                                  reference_paths=references, stage_inputs=[])


@pytest.mark.slow
def test_table1_stages_make_img2img_and_txt2img_with_the_same_settings(pipe, references, tmp_path):
    prompts = {"B": "sdss, completely round galaxy", "C": "sdss, edge-on galaxy"}
    settings = SamplerSettings(steps=2, guidance=3.0, strength=1.0, resolution=32)
    gen_i2i, gen_t2i = s03.generate_table1(tmp_path, _inputs(pipe, references, prompts), settings,
                                           n_img2img=2, n_txt2img=1, seed=0, batch_size=4)
    assert sorted(gen_i2i["sample_id"]) == ["B-0000", "B-0001", "C-0000", "C-0001"]
    assert set(gen_i2i["mode"]) == {"img2img"} and set(gen_t2i["mode"]) == {"txt2img"}
    assert set(gen_i2i["reference_id"].astype(int)) <= set(references)
    assert (tmp_path / "03_generate" / "img2img" / "manifest.csv").is_file()
    assert (tmp_path / "03_generate" / "txt2img" / "manifest.csv").is_file()


@pytest.mark.slow
def test_weight_sweep_shares_seeds_and_references_across_weights(pipe, references, tmp_path):
    settings = SamplerSettings(steps=2, guidance=3.0, strength=1.0, resolution=32)
    images, prompt_of = s03.weight_sweep(tmp_path, _inputs(pipe, references, {}), settings,
                                         "sdss, in-between round galaxy", "dust lane", [1.0, 1.6], 2, seed=0,
                                         batch_size=4)
    assert prompt_of == {1.0: "sdss, in-between round galaxy, dust lane",
                         1.6: "sdss, in-between round galaxy, {dust lane:1.6}"}
    assert {w: imgs.shape for w, imgs in images.items()} == {1.0: (2, 32, 32, 3), 1.6: (2, 32, 32, 3)}
    made = batch.read_generated(tmp_path / "03_generate" / "sweep")
    by_weight = [made[made["label"] == label][["seed", "reference_id"]].to_numpy().tolist()
                 for label in ("w1", "w1.6")]
    assert by_weight[0] == by_weight[1]


def test_a_model_that_draws_nan_is_refused_naming_prompt_and_seed():
    from galaxysd.diffusion.model import build_tiny_pipeline
    from galaxysd.errors import GenerationError

    broken = build_tiny_pipeline(resolution=32, seed=0)
    with torch.no_grad():
        for param in broken.unet.parameters():
            param.fill_(float("nan"))
    with pytest.raises(GenerationError, match=r"'sdss, ring galaxy' with seed 11 is not finite"):
        sample.generate(broken, ["sdss, ring galaxy"], [11], SamplerSettings(steps=2, strength=None))


def test_a_constant_image_is_refused_naming_prompt_and_seed_and_good_ones_pass():
    from galaxysd.errors import GenerationError

    images = np.random.default_rng(0).random((2, 4, 4, 3))
    assert sample.usable_images(images, ["a", "b"], [1, 2]).dtype == np.uint8
    images[1] = 0.0
    with pytest.raises(GenerationError, match=r"'b' with seed 2 is constant \(every pixel 0\)"):
        sample.usable_images(images, ["a", "b"], [1, 2])


def test_generated_images_are_made_again_when_the_weighting_rule_changes(pipe, tmp_path, monkeypatch):
    plan = plan_samples({"K": "sdss, in-between round galaxy, {dust lane:1.3}"}, 1, seed=0)
    txt = SamplerSettings(steps=2, strength=None)
    make = lambda: batch.generation_stage(tmp_path, "03_generate/sweep", pipe, plan, txt, progress=False)
    assert not make().hit and make().hit
    monkeypatch.setattr(batch, "EMPHASIS_RULE", batch.EMPHASIS_RULE + 1)
    assert not make().hit


def test_a_saved_model_gives_the_stage_key_without_loading_and_a_cached_stage_never_loads_it(pipe, references,
                                                                                           tmp_path):
    from galaxysd.diffusion.model import save_pipeline
    from galaxysd.diffusion.saved import SavedPipeline, key_facts

    folder = save_pipeline(pipe, tmp_path / "model")
    plan = plan_samples({"B": "sdss, completely round galaxy"}, 2, seed=0, references=list(references))
    settings = SamplerSettings(steps=2, guidance=3.0, strength=1.0)

    saved = SavedPipeline(folder)
    assert key_facts(saved) == key_facts(pipe)  # same key as the loaded model: caches stay valid
    assert not saved.loaded
    first = batch.generation_stage(tmp_path, "gen", saved, plan, settings, references, batch_size=2,
                                   progress=False)
    assert saved.loaded and not first.hit

    again = SavedPipeline(folder)
    second = batch.generation_stage(tmp_path, "gen", again, plan, settings, references, batch_size=2,
                                    progress=False)
    assert second.hit and not again.loaded
    third = batch.generation_stage(tmp_path, "gen", pipe, plan, settings, references, batch_size=2,
                                   progress=False)
    assert third.hit  # the loaded pipeline computes the very same key


def test_a_folder_without_a_saved_model_is_named(tmp_path):
    from galaxysd.diffusion.saved import SavedPipeline

    with pytest.raises(ParameterError, match="02_finetune"):
        SavedPipeline(tmp_path)
