"""Prompts and captions: Table 1 is written in the words the model is trained on."""

import numpy as np
import pytest

from galaxysd import gz2
from galaxysd.errors import PromptError


def test_table_1_has_sixteen_prompts_in_caption_style():
    assert list(gz2.TABLE1_PROMPTS) == list("ABCDEFGHIJKLMNOP")
    assert all(p.startswith("sdss, ") for p in gz2.TABLE1_PROMPTS.values())
    assert gz2.TABLE1_PROMPTS["K"] == "sdss, in-between round galaxy, {dust lane:1.3}"


@pytest.mark.parametrize("letter", list("ABCDEFGHIJKLMNOP"))
def test_every_table_1_prompt_uses_only_words_of_training_tags(letter):
    assert gz2.unseen_words(gz2.TABLE1_PROMPTS[letter]) == []


def test_detg_prompts_use_only_words_of_training_tags():
    assert len(gz2.DETG_PROMPTS) == 2
    assert all(gz2.unseen_words(p) == [] for p in gz2.DETG_PROMPTS)


def test_table_1_tags_are_known_tags():
    for tags in gz2.TABLE1_TAGS.values():
        assert gz2.sort_tags(tags)


def test_caption_lists_tags_in_tree_order():
    assert gz2.caption(["2 spiral arms", "tightly wound spiral arms", "spiral galaxy"]) == \
        "sdss, spiral galaxy, tightly wound spiral arms, 2 spiral arms"
    with pytest.raises(PromptError, match="unknown tag"):
        gz2.caption(["purple galaxy"])


def test_training_caption_keeps_at_least_one_tag_and_shuffles():
    rng = np.random.default_rng(0)
    tags = "spiral galaxy|tightly wound spiral arms|2 spiral arms"
    seen = set()
    for _ in range(200):
        cap = gz2.caption_from_tags(tags, rng, keep_prob=0.3)
        assert cap.startswith("sdss, ")
        parts = cap[len("sdss, "):].split(", ")
        assert 1 <= len(parts) <= 3 and set(parts) <= set(tags.split("|"))
        seen.add(cap)
    assert "sdss, 2 spiral arms, spiral galaxy" in seen or len(seen) > 6
    full = {gz2.caption_from_tags(tags, rng, keep_prob=1.0) for _ in range(50)}
    assert len(full) > 1 and all(len(c.split(", ")) == 4 for c in full)


def test_training_caption_rejects_bad_keep_probability():
    with pytest.raises(PromptError):
        gz2.caption_from_tags("ring", np.random.default_rng(0), keep_prob=0.0)


def test_caption_examples_draw_captions_from_one_galaxys_tags_only():
    import pandas as pd

    manifest = pd.DataFrame({"tags": ["spiral galaxy|2 spiral arms|ring", "completely round galaxy"]})
    table = gz2.caption_examples(manifest, seed=3, keep_prob=0.5, n=6)
    assert len(table) == 6 and table["tags of one galaxy"].iloc[1:].eq("").all()
    tags = set(table["tags of one galaxy"].iloc[0].split(", "))
    for cap in table["captions drawn from them"]:
        assert cap.startswith("sdss, ") and set(cap.removeprefix("sdss, ").split(", ")) <= tags
