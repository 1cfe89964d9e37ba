"""Captions and prompts through Stable Diffusion v1.5's real CLIP tokenizer (49,408 BPE tokens): every
caption the paper profile can train with and every Table 1 and D-ETG prompt fits 77 tokens, or the
caption is named with what is cut; weights land on every token of their phrase."""

from __future__ import annotations

import warnings

import pandas as pd
import pytest

from galaxysd.diffusion.clip_tokenizer import load_clip_tokenizer
from galaxysd.diffusion.prompts import parse_weighted_prompt, plain_text
from galaxysd.diffusion.token_fit import check_captions, cut_text
from galaxysd.diffusion.weighting import tokenize_weighted
from galaxysd.errors import DataWarning, PromptError
from galaxysd.gz2 import DETG_PROMPTS, TABLE1_PROMPTS
from galaxysd.gz2.schema import ANSWERS
from galaxysd.gz2.tags import TAG_ORDER, TAG_PHRASES


@pytest.fixture(scope="module")
def tokenizer():
    return load_clip_tokenizer()


def _longest_tag_per_task(tokenizer) -> list[str]:
    """The longest caption the paper's thresholds allow: one answer per task (a debiased fraction above
    0.8 leaves no room for a second), the answer with the most tokens in each."""
    by_task: dict[str, list[str]] = {}
    for answer in ANSWERS:
        if answer.column in TAG_PHRASES:
            by_task.setdefault(answer.task, []).append(TAG_PHRASES[answer.column])
    return [max(tags, key=lambda t: len(tokenizer.tokenize(t))) for tags in by_task.values()]


def test_every_caption_the_paper_thresholds_allow_fits_77_tokens(tokenizer):
    longest = _longest_tag_per_task(tokenizer)
    # every combination of at most one tag per task is no longer than this one
    table = check_captions(["|".join(longest)], tokenizer)
    assert table.cut.tolist() == [""] and table.n_tokens[0] <= 75
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataWarning)
        check_captions([tag for tag in TAG_ORDER], tokenizer)  # every single tag on its own


def test_a_caption_that_does_not_fit_is_named_with_what_is_cut(tokenizer):
    every_tag = "|".join(TAG_ORDER)  # 148 tokens with the real BPE: more than one answer per task
    with pytest.warns(DataWarning) as record:
        table = check_captions([every_tag, every_tag, "spiral galaxy"], tokenizer, source="manifest.csv")
    assert len(record) == 1
    message = str(record[0].message)
    row = table.iloc[0]
    assert row.n_galaxies == 2 and row.n_tokens > 75 and row.cut
    assert "manifest.csv" in message and row.caption in message and repr(row.cut) in message
    # the cut words are the caption's end, as the tokenizer truncates it
    assert row.caption.replace(" ", "").endswith(row.cut.replace(" ", ""))
    assert len(tokenizer(row.cut, add_special_tokens=False).input_ids) == row.n_tokens - 75
    assert table.iloc[1].cut == ""


@pytest.mark.parametrize("prompt", [*TABLE1_PROMPTS.values(), *DETG_PROMPTS])
def test_table1_and_detg_prompts_fit_and_keep_their_tokens(prompt, tokenizer):
    ids, weights = tokenize_weighted(prompt, tokenizer)
    assert len(ids) == len(weights) == 77
    assert cut_text(plain_text(prompt), tokenizer) == ""
    # tokenizing phrase by phrase gives exactly the tokens of the whole plain prompt
    assert ids == tokenizer(plain_text(prompt), padding="max_length", max_length=77).input_ids


def _weights_by_token(prompt: str, tokenizer) -> list[tuple[str, float]]:
    ids, weights = tokenize_weighted(prompt, tokenizer)
    n = len(tokenizer(plain_text(prompt)).input_ids)
    return [(tokenizer.convert_ids_to_tokens(i), w) for i, w in zip(ids[1:n - 1], weights[1:n - 1])]


def test_weights_land_on_every_token_of_their_phrase(tokenizer):
    pairs = _weights_by_token("sdss, early-type galaxy with a {dust lane:1.4}", tokenizer)
    weighted = [(tok, w) for tok, w in pairs if w != 1.0]
    assert weighted == [("dust</w>", 1.4), ("lane</w>", 1.4)]
    # a phrase the BPE splits into several pieces is weighted on all of them
    pairs = _weights_by_token("{sdss:1.3}, {cigar-shaped:1.2} galaxy", tokenizer)
    assert [t for t, _ in pairs] == ["sd", "ss</w>", ",</w>", "cigar</w>", "-</w>", "shaped</w>", "galaxy</w>"]
    assert [w for _, w in pairs] == [1.3, 1.3, 1.0, 1.2, 1.2, 1.2, 1.0]
    # the D-ETG prompt: "completely round" at 1.2, "dust lane" at 1.3, the rest at 1
    pairs = _weights_by_token(DETG_PROMPTS[0], tokenizer)
    assert {t: w for t, w in pairs if w != 1.0} == {"completely</w>": 1.2, "round</w>": 1.2,
                                                     "dust</w>": 1.3, "lane</w>": 1.3}
    segments = parse_weighted_prompt(DETG_PROMPTS[0])
    assert sum(len(tokenizer.tokenize(s.text)) for s in segments) == len(pairs)


def test_a_weighted_prompt_too_long_for_the_real_tokenizer_is_refused(tokenizer):
    long = "sdss, " + ", ".join(TAG_ORDER[:-1]) + ", {" + TAG_ORDER[-1] + ":1.3}"
    with pytest.raises(PromptError, match="would be truncated"):
        tokenize_weighted(long, tokenizer)


def test_the_training_stage_checks_the_manifests_captions(tmp_path, tokenizer):
    from galaxysd.stages.s02_finetune import check_training_captions

    folder = tmp_path / "base"
    tokenizer.save_pretrained(folder / "tokenizer")
    manifest = tmp_path / "manifest.csv"
    pd.DataFrame({"objid": [1, 2, 3], "tags": ["|".join(TAG_ORDER), "spiral galaxy", None]}).to_csv(manifest,
                                                                                                   index=False)
    with pytest.warns(DataWarning, match="training manifest"):
        table = check_training_captions(manifest, str(folder))
    assert set(table.caption) == {"sdss, " + ", ".join(TAG_ORDER), "sdss, spiral galaxy", "sdss"}
