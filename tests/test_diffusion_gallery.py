"""Helpers of the generation chapter: real examples per prompt and the quality table."""

import numpy as np
import pandas as pd
import pytest

from galaxysd.diffusion import gallery
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
    table = gallery.quality_table(gen, real, {"A": "sdss, cigar-shaped galaxy", "B": "sdss, completely round galaxy"})
    assert list(table.index) == ["A", "B"]
    assert table.loc["A", "axis_ratio gen"] == pytest.approx(0.3)
    assert table.loc["A", "axis_ratio real"] == pytest.approx(0.35)
    assert table.loc["B", "n real"] == 0 and np.isnan(table.loc["B", "colour real"])
    assert table.loc["A", "prompt"] == "cigar-shaped galaxy"
    assert table.loc["A", "arm_strength gen"] == pytest.approx(0.1)


def test_prompt_verdicts_say_whether_shapes_and_colours_follow_the_prompts():
    ordered = pd.DataFrame({"axis_ratio gen": [0.3, 0.9, 0.25, 0.6]}, index=list("ABCD"))
    assert "holds" in gallery.prompt_verdicts(ordered, 0.8, 0.1)["shape"]
    assert "redder, as they should be" in gallery.prompt_verdicts(ordered, 0.8, 0.1)["colour"]
    swapped = pd.DataFrame({"axis_ratio gen": [0.9, 0.3, 0.8, 0.6]}, index=list("ABCD"))
    assert "do not yet follow" in gallery.prompt_verdicts(swapped, 0.1, 0.8)["shape"]
    assert "not redder" in gallery.prompt_verdicts(swapped, 0.1, 0.8)["colour"]
    partial = pd.DataFrame({"axis_ratio gen": [0.3, np.nan]}, index=list("AK"))
    assert "not measurable" in gallery.prompt_verdicts(partial, np.nan, 0.1)["shape"]


def test_asymmetry_verdict_compares_the_generated_asymmetry_gap_with_the_real_one():
    q = pd.DataFrame({"axis_ratio gen": [0.3, 0.9, 0.25, 0.6]}, index=list("ABCD"))
    real = dict(real_early_asymmetry=0.04, real_late_asymmetry=0.10)
    verdict = lambda early, late, **kw: gallery.prompt_verdicts(q, 0.8, 0.1, early, late, **kw)["asymmetry"]
    assert verdict(0.04, 0.08, **real).startswith("generated spirals break mirror symmetry as much")
    assert "a little" in verdict(0.04, 0.05, **real)
    assert "as mirror-symmetric as the early types" in verdict(0.05, 0.04, **real)
    assert "not measurable" in verdict(0.04, 0.08)
    assert "no more asymmetric" in verdict(0.04, 0.08, real_early_asymmetry=0.05, real_late_asymmetry=0.05)


def test_arms_verdict_compares_the_generated_winding_gap_with_the_real_one():
    q = pd.DataFrame({"axis_ratio gen": [0.3, 0.9, 0.25, 0.6]}, index=list("ABCD"))
    real = dict(real_early_arms=0.02, real_late_arms=0.10)
    verdict = lambda early, late, **kw: gallery.prompt_verdicts(q, 0.8, 0.1, early_arms=early, late_arms=late,
                                                                **kw)["arms"]
    assert verdict(0.02, 0.07, **real).startswith("generated spirals have winding arms")
    assert "patchy rather than wound" in verdict(0.02, 0.04, **real)   # 0.02 of a 0.08 real gap
    assert "no winding arms" in verdict(0.03, 0.03, **real)
    assert "not measurable" in verdict(0.02, 0.07)
    assert "no stronger winding arms" in verdict(0.02, 0.07, real_early_arms=0.05, real_late_arms=0.04)
    # the asymmetry verdict does not decide the arms one
    both = gallery.prompt_verdicts(q, 0.8, 0.1, 0.04, 0.09, 0.04, 0.10, early_arms=0.02, late_arms=0.02, **real)
    assert "as much" in both["asymmetry"] and "no winding arms" in both["arms"]


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


def test_disc_verdict_flags_spirals_drawn_flatter_than_real_ones():
    q = pd.DataFrame({"axis_ratio gen": [0.3, 0.9, 0.25, 0.6]}, index=list("ABCD"))
    verdict = lambda gen, real: gallery.prompt_verdicts(q, 0.8, 0.1, late_axis_ratio=gen,
                                                        real_late_axis_ratio=real)["discs"]
    assert verdict(0.6, 0.65).startswith("generated spirals are as round as real ones")
    assert verdict(0.8, 0.65).startswith("generated spirals are as round")  # rounder is fine too
    assert "streaks or S-shapes" in verdict(0.35, 0.65)
    assert "not measurable" in verdict(np.nan, 0.65)


def test_brightness_samples_draw_as_many_real_galaxies_as_img2img_samples(drawn):
    real, gen = drawn
    values = gallery.brightness_samples(real, gen.head(1), gen.head(3), 16, seed=0)
    assert {k: len(v) for k, v in values.items()} == {"real": 3, "text-to-image": 1, "image-to-image": 3}


def test_prompt_following_measures_generated_and_real_and_words_the_verdicts(drawn):
    real, gen = drawn
    prompts = {"B": "sdss, completely round galaxy", "C": "sdss, edge-on galaxy"}
    quality, texts = gallery.prompt_following(real, gen, prompts, n_real=2, size=32, seed=0)
    assert list(quality.index) == ["B", "C"] and list(quality["n real"]) == [2, 2]
    assert quality.loc["B", "axis_ratio gen"] > quality.loc["C", "axis_ratio gen"]
    assert quality.loc["B", "axis_ratio real"] > quality.loc["C", "axis_ratio real"]
    assert float(texts["q_B"]) > float(texts["q_C"]) and texts["q_A"] == "nan"
    assert set(texts) >= {"colour_early", "colour_late", "shape_verdict", "colour_verdict", "arms_verdict",
                          "asymmetry_gen_early", "asymmetry_real_late", "q_late", "q_late_real", "disc_verdict",
                          "asymmetry_verdict", "arms_gen_late", "arms_real_early"}
    assert texts["disc_verdict"].startswith("not measurable")  # no spiral prompt was drawn
    assert "mirror_asymmetry gen" in quality.columns and "brightness gen" not in quality.columns
    assert "arm_strength real" in quality.columns and texts["arms_verdict"].startswith("not measurable")
    assert texts["shape_verdict"].startswith("not measurable")


def test_prompt_measurements_are_a_cached_stage_redone_when_their_inputs_change(drawn, tmp_path, monkeypatch):
    from galaxysd import imstats

    real, gen = drawn
    prompts = {"B": "sdss, completely round galaxy", "C": "sdss, edge-on galaxy"}
    fresh, fresh_texts = gallery.prompt_following(real, gen, prompts, n_real=2, size=32, seed=0)
    run = tmp_path / "run"
    first, first_texts = gallery.prompt_following(real, gen, prompts, n_real=2, size=32, seed=0, run_dir=run)
    pd.testing.assert_frame_equal(first, fresh)
    assert first_texts == fresh_texts
    assert (run / "03_generate" / "quality" / "generated.csv").is_file()

    calls = []
    measure = imstats.image_stats
    monkeypatch.setattr(imstats, "image_stats", lambda images: calls.append(1) or measure(images))
    again, again_texts = gallery.prompt_following(real, gen, prompts, n_real=2, size=32, seed=0, run_dir=run)
    assert calls == [] and again_texts == first_texts  # loaded, not measured
    pd.testing.assert_frame_equal(again, first)
    gallery.prompt_following(real, gen, prompts, n_real=1, size=32, seed=0, run_dir=run)
    assert calls, "a new n_real must measure again"
    calls.clear()
    gallery.prompt_following(real, gen.iloc[::-1].reset_index(drop=True).iloc[1:], prompts, n_real=1, size=32,
                             seed=0, run_dir=run)
    assert calls, "other generated images must be measured again"

