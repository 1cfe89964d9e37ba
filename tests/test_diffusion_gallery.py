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
                        "brightness": [0.1] * 4})
    real = gen.assign(axis_ratio=gen["axis_ratio"] + 0.05).iloc[:3]
    table = gallery.quality_table(gen, real, {"A": "sdss, cigar-shaped galaxy", "B": "sdss, completely round galaxy"})
    assert list(table.index) == ["A", "B"]
    assert table.loc["A", "axis_ratio gen"] == pytest.approx(0.3)
    assert table.loc["A", "axis_ratio real"] == pytest.approx(0.35)
    assert table.loc["B", "n real"] == 0 and np.isnan(table.loc["B", "colour real"])
    assert table.loc["A", "prompt"] == "cigar-shaped galaxy"


def test_prompt_verdicts_say_whether_shapes_and_colours_follow_the_prompts():
    ordered = pd.DataFrame({"axis_ratio gen": [0.3, 0.9, 0.25, 0.6]}, index=list("ABCD"))
    assert "holds" in gallery.prompt_verdicts(ordered, 0.8, 0.1)["shape"]
    assert "redder, as they should be" in gallery.prompt_verdicts(ordered, 0.8, 0.1)["colour"]
    swapped = pd.DataFrame({"axis_ratio gen": [0.9, 0.3, 0.8, 0.6]}, index=list("ABCD"))
    assert "do not yet follow" in gallery.prompt_verdicts(swapped, 0.1, 0.8)["shape"]
    assert "not redder" in gallery.prompt_verdicts(swapped, 0.1, 0.8)["colour"]
    partial = pd.DataFrame({"axis_ratio gen": [0.3, np.nan]}, index=list("AK"))
    assert "not measurable" in gallery.prompt_verdicts(partial, np.nan, 0.1)["shape"]
