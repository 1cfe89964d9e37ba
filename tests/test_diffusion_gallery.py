"""Helpers of the generation chapter: real examples per prompt, Figure 3's images, the quality table."""

import numpy as np
import pandas as pd
import pytest

from galaxysd.diffusion import gallery
from galaxysd.diffusion import quality as dquality
from galaxysd.errors import DataError


def manifest():
    return pd.DataFrame({
        "objid": [1, 2, 3, 4, 5],
        "image_path": [f"/img/{i}.jpg" for i in range(1, 6)],
        "tags": ["smooth|completely round galaxy", "features or disk|spiral galaxy|4 spiral arms",
                 "features or disk|spiral galaxy|2 spiral arms", "smooth|in-between round galaxy",
                 "features or disk|spiral galaxy|4 spiral arms|merger"],
        "caption": ["sdss, x"] * 5})


def test_real_examples_carry_every_tag_and_the_draw_is_seeded():
    found = gallery.real_examples(manifest(), ("spiral galaxy", "4 spiral arms"), 5, seed=0)
    assert sorted(found["objid"]) == [2, 5] and found["exact"].all()
    one = gallery.real_examples(manifest(), ("spiral galaxy",), 1, seed=3)
    assert len(one) == 1 and one.equals(gallery.real_examples(manifest(), ("spiral galaxy",), 1, seed=3))


def test_real_examples_fall_back_to_the_best_partial_match():
    found = gallery.real_examples(manifest(), ("in-between round galaxy", "dust lane"), 3, seed=0)
    assert list(found["objid"]) == [4]
    assert not found["exact"].any() and (found["matched"] == 1).all()
    with pytest.raises(DataError):
        gallery.real_examples(manifest().iloc[:0], ("ring",), 1, seed=0)


def test_quality_table_gives_medians_per_prompt_for_generated_and_real():
    gen = pd.DataFrame({"label": ["A", "A", "A", "B"], "axis_ratio": [0.2, 0.3, 0.4, 0.9],
                        "colour": [0.1, 0.2, 0.3, 0.5], "concentration": [2.0, 2.1, 2.2, 2.8],
                        "mirror_asymmetry": [0.1, 0.1, 0.2, 0.03], "arm_strength": [0.05, 0.1, 0.1, 0.02],
                        "brightness": [0.1] * 4})
    real = gen.assign(axis_ratio=gen["axis_ratio"] + 0.05).iloc[:3]
    table = dquality.quality_table(gen, real, {"A": "sdss, cigar-shaped galaxy", "B": "sdss, completely round galaxy"})
    assert list(table.index) == ["A", "B"]
    assert table.loc["A", "axis_ratio gen"] == pytest.approx(0.3)
    assert table.loc["A", "axis_ratio real"] == pytest.approx(0.35)
    assert table.loc["B", "n real"] == 0 and np.isnan(table.loc["B", "colour real"])
    assert table.loc["A", "prompt"] == "cigar-shaped galaxy"
    assert table.loc["A", "arm_strength gen"] == pytest.approx(0.1)


def _stats(per_letter, n, seed=0, **spread):
    """Image statistics of n images per letter: per_letter maps letter -> {column: centre}."""
    rng = np.random.default_rng(seed)
    frames = []
    for letter, centres in per_letter.items():
        frame = {c: rng.normal(v, spread.get(c, 0.02), n) for c, v in centres.items()}
        frames.append(pd.DataFrame(frame).assign(label=letter))
    return pd.concat(frames, ignore_index=True)


EARLY = {"axis_ratio": 0.8, "colour": 0.8, "mirror_asymmetry": 0.04, "arm_strength": 0.02}
LATE = {"axis_ratio": 0.6, "colour": 0.3, "mirror_asymmetry": 0.10, "arm_strength": 0.10}
REAL = {"A": {**EARLY, "axis_ratio": 0.3}, "B": {**EARLY, "axis_ratio": 0.9}, "C": {**EARLY, "axis_ratio": 0.2},
        "D": {**EARLY, "axis_ratio": 0.6}, **{k: LATE for k in "FGHIJ"}}


def test_verdicts_are_stated_with_their_evidence_when_the_images_show_them():
    said = dquality.prompt_verdicts(_stats(REAL, 12, seed=1), _stats(REAL, 12, seed=2))
    assert said["shape"].startswith("the order round > in-between > cigar-shaped, edge-on holds (B against D")
    assert said["colour"].startswith("early types are redder than spirals, as they should be (median difference")
    assert "Mann-Whitney p = " in said["colour"] and "95% interval" in said["colour"]
    assert said["asymmetry"].startswith("generated spirals break mirror symmetry as much as real spirals")
    assert said["arms"].startswith("generated spirals have winding arms")
    assert said["discs"].startswith("generated spirals are as round as real ones")


def test_wrong_way_round_verdicts_are_stated_too():
    swapped = {**REAL, "B": {**EARLY, "axis_ratio": 0.2, "colour": 0.1}, "D": {**EARLY, "axis_ratio": 0.1,
                                                                                "colour": 0.1}}
    said = dquality.prompt_verdicts(_stats(swapped, 12, seed=1), _stats(REAL, 12, seed=2))
    assert said["shape"].startswith("the generated shapes do not follow the prompts")
    assert said["colour"].startswith("early types are bluer than spirals, the wrong way round")


def test_partial_gaps_are_told_apart_from_real_sized_ones():
    weak = {**REAL, **{k: {**LATE, "arm_strength": 0.03, "axis_ratio": 0.2} for k in "FGHIJ"}}
    said = dquality.prompt_verdicts(_stats(weak, 30, seed=1, arm_strength=0.004), _stats(REAL, 30, seed=2))
    assert said["arms"].startswith("generated spirals wind a little")
    assert said["discs"].startswith("generated spirals are flatter than real ones")
    flat = {**REAL, **{k: {**LATE, "mirror_asymmetry": 0.04} for k in "FGHIJ"}}
    assert "too few images to tell whether generated spirals are more asymmetric" in dquality.prompt_verdicts(
        _stats(flat, 12, seed=1), _stats(REAL, 12, seed=2))["asymmetry"]


def test_verdicts_on_noise_images_say_they_cannot_tell():
    """Images that carry no trace of their prompt, three a prompt: no verdict may be stated."""
    from galaxysd import gz2, imstats

    rng = np.random.default_rng(5)
    y, x = np.indices((32, 32)) - 15.5
    rows = []
    for letter in gz2.TABLE1_PROMPTS:
        for _ in range(3):
            blob = np.exp(-0.5 * ((x / rng.uniform(3, 7)) ** 2 + (y / rng.uniform(3, 7)) ** 2))
            image = blob[..., None] * rng.uniform(0.4, 1.0, 3) + rng.normal(0, 0.05, (32, 32, 3))
            rows.append((letter, (np.clip(image, 0, 1) * 255).astype(np.uint8)))
    noise = imstats.image_stats([im for _, im in rows]).assign(label=[letter for letter, _ in rows])
    assert noise["colour"].notna().sum() > 30   # the statistics are measurable: only the verdicts must abstain
    said = dquality.prompt_verdicts(noise, _stats(REAL, 12, seed=2))
    for name, text in said.items():
        assert "too few images to tell" in text, (name, text)


def test_verdicts_need_enough_images_whatever_the_medians_say():
    few = dquality.prompt_verdicts(_stats(REAL, 2, seed=1), _stats(REAL, 2, seed=2))
    # two images a prompt: B and D make 4 early types; the ten spirals of F-J are enough for the discs
    assert all(few[k].startswith("too few images to tell") for k in ("shape", "colour", "asymmetry", "arms")), few
    assert few["discs"].startswith("generated spirals are as round as real ones")
    assert "n = 4 and 10; at least 5 each are needed" in few["colour"]


def _galaxy(path, axis_ratio, rgb):
    """A Gaussian galaxy of the given axis ratio and colour, written as a PNG."""
    from PIL import Image

    y, x = np.indices((32, 32)) - 15.5
    blob = np.exp(-0.5 * ((x / 6.0) ** 2 + (y / (6.0 * axis_ratio)) ** 2))
    Image.fromarray((blob[..., None] * np.asarray(rgb) * 255).astype(np.uint8)).save(path)
    return str(path)


@pytest.fixture
def drawn(tmp_path):
    """A manifest of real galaxies (round red ones, thin edge-on ones) and generated images of B and C."""
    real = pd.DataFrame({
        "objid": [1, 2, 3, 4],
        "image_path": [_galaxy(tmp_path / f"r{i}.png", q, rgb) for i, (q, rgb) in
                       enumerate([(1.0, (1, .8, .6)), (1.0, (1, .8, .6)), (0.2, (.6, .8, 1)), (0.2, (.6, .8, 1))])],
        "tags": ["smooth|completely round galaxy"] * 2 + ["features or disk|edge-on galaxy"] * 2,
        "caption": ["sdss, x"] * 4})
    gen = pd.DataFrame({"label": ["B", "B", "C", "C"],
                        "path": [_galaxy(tmp_path / f"g{i}.png", q, (1, 1, 1)) for i, q in
                                 enumerate([0.9, 0.95, 0.3, 0.25])]})
    return real, gen


def test_figure3_inputs_pair_a_real_galaxy_with_the_first_generated_ones(drawn):
    real, gen = drawn
    prompts = {"B": "sdss, completely round galaxy", "C": "sdss, edge-on galaxy", "F": "sdss, 4 spiral arms"}
    real_images, generated, missing = gallery.figure3_inputs(real, prompts, gen, 16, seed=0, n_generated=1)
    assert real_images["B"].shape == (16, 16, 3) and real_images["F"] is None
    assert missing == ["F"]
    assert {k: v.shape for k, v in generated.items()} == {"B": (1, 16, 16, 3), "C": (1, 16, 16, 3)}


def test_brightness_samples_draw_as_many_real_galaxies_as_img2img_samples(drawn):
    real, gen = drawn
    values = dquality.brightness_samples(real, gen.head(1), gen.head(3), 16, seed=0)
    assert {k: len(v) for k, v in values.items()} == {"real": 3, "text-to-image": 1, "image-to-image": 3}


def test_prompt_following_measures_generated_and_real_and_words_the_verdicts(drawn):
    real, gen = drawn
    prompts = {"B": "sdss, completely round galaxy", "C": "sdss, edge-on galaxy"}
    quality, texts = dquality.prompt_following_report(*dquality.measure_prompts(real, gen, prompts, 2, 32, 0),
                                                      prompts, seed=0)
    assert list(quality.index) == ["B", "C"] and list(quality["n real"]) == [2, 2]
    assert quality.loc["B", "axis_ratio gen"] > quality.loc["C", "axis_ratio gen"]
    assert quality.loc["B", "axis_ratio real"] > quality.loc["C", "axis_ratio real"]
    assert float(texts["q_B"]) > float(texts["q_C"]) and texts["q_A"] == "nan"
    assert set(texts) >= {"colour_early", "colour_late", "shape_verdict", "colour_verdict", "arms_verdict",
                          "asymmetry_gen_early", "asymmetry_real_late", "q_late", "q_late_real", "disc_verdict",
                          "asymmetry_verdict", "arms_gen_late", "arms_real_early"}
    assert texts["disc_verdict"].startswith("too few images to tell")  # no spiral prompt was drawn
    assert "mirror_asymmetry gen" in quality.columns and "brightness gen" not in quality.columns
    assert "arm_strength real" in quality.columns and texts["arms_verdict"].startswith("too few images to tell")
    assert texts["shape_verdict"].startswith("too few images to tell")


def test_prompt_measurements_are_a_cached_stage_redone_when_their_inputs_change(drawn, tmp_path, monkeypatch):
    from galaxysd import imstats
    from galaxysd.stages import s03_generate as s03

    real, gen = drawn
    prompts = {"B": "sdss, completely round galaxy", "C": "sdss, edge-on galaxy"}
    fresh, fresh_texts = dquality.prompt_following_report(*dquality.measure_prompts(real, gen, prompts, 2, 32, 0),
                                                          prompts, seed=0)
    run = tmp_path / "run"
    first, first_texts = s03.prompt_following(run, real, gen, prompts, n_real=2, size=32, seed=0)
    pd.testing.assert_frame_equal(first, fresh)
    assert first_texts == fresh_texts
    assert (run / "03_generate" / "quality" / "generated.csv").is_file()

    calls = []
    measure = imstats.image_stats
    monkeypatch.setattr(imstats, "image_stats", lambda images: calls.append(1) or measure(images))
    again, again_texts = s03.prompt_following(run, real, gen, prompts, n_real=2, size=32, seed=0)
    assert calls == [] and again_texts == first_texts  # loaded, not measured
    pd.testing.assert_frame_equal(again, first)
    s03.prompt_following(run, real, gen, prompts, n_real=1, size=32, seed=0)
    assert calls, "a new n_real must measure again"
    calls.clear()
    s03.prompt_following(run, real, gen.iloc[::-1].reset_index(drop=True).iloc[1:], prompts, n_real=1, size=32,
                         seed=0)
    assert calls, "other generated images must be measured again"



def test_brightness_verdict_needs_the_images_to_show_it():
    rng = np.random.default_rng(0)
    bright = {"real": rng.normal(0.1, 0.01, 20), "text-to-image": rng.normal(0.3, 0.01, 20),
              "image-to-image": rng.normal(0.1, 0.01, 20)}
    said = dquality.brightness_verdict(bright)
    assert said.count("text-to-image samples are brighter than") == 2 and "Mann-Whitney" in said
    same = {k: rng.normal(0.2, 0.05, 20) for k in bright}
    assert dquality.brightness_verdict(same).count("too few images to tell") == 2


def test_a_disc_difference_near_the_tolerance_is_stated_with_its_doubt():
    rounder = {**REAL, **{k: {**LATE, "axis_ratio": 0.6 + dquality.DISC_TOLERANCE} for k in "FGHIJ"}}
    said = dquality.prompt_verdicts(_stats(rounder, 30, seed=1, axis_ratio=0.1), _stats(REAL, 30, seed=2,
                                                                                        axis_ratio=0.1))
    assert said["discs"].startswith("generated spirals are rounder than real ones, by about the tolerance")
    assert "too few images to tell whether they are still discs" in said["discs"]
