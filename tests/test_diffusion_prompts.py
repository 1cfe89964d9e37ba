"""Weighted prompts: the {phrase:weight} syntax, its errors, and the mean-restoring scaling."""

import pytest
import torch

from galaxysd.diffusion import prompts, weighting
from galaxysd.diffusion.prompts import Segment, parse_weighted_prompt, plain_text, weights_summary
from galaxysd.diffusion.weighting import apply_token_weights, encode_weighted_prompts, tokenize_weighted
from galaxysd.errors import PromptError


def weights_of(prompt):
    return [(s.text, pytest.approx(s.weight)) for s in parse_weighted_prompt(prompt)]


def test_plain_prompt_is_one_segment_of_weight_one():
    assert parse_weighted_prompt("sdss, edge-on galaxy") == [Segment("sdss, edge-on galaxy", 1.0, 0)]


def test_explicit_weight_applies_to_the_phrase_only():
    assert weights_of("sdss, in-between round galaxy, {dust lane:1.3}") == [
        ("sdss, in-between round galaxy, ", 1.0), ("dust lane", 1.3)]


def test_braces_without_number_mean_1_1():
    assert weights_of("sdss, {ring} galaxy") == [("sdss, ", 1.0), ("ring", 1.1), (" galaxy", 1.0)]


def test_nested_braces_multiply():
    assert weights_of("{a {b:2}:1.5} {{c}}") == [("a ", 1.5), ("b", 3.0), (" ", 1.0), ("c", 1.21)]


def test_weight_tolerates_spaces_and_colons_outside_braces_are_text():
    assert weights_of("ratio 1:2, {dust lane : 1.3 }") == [("ratio 1:2, ", 1.0), ("dust lane ", 1.3)]


def test_segment_start_points_into_the_original_prompt():
    prompt = "sdss, {completely round:1.2} galaxy, {dust lane:1.3}"
    for segment in parse_weighted_prompt(prompt):
        assert prompt[segment.start:segment.start + len(segment.text)] == segment.text


def test_plain_text_and_weights_summary_drop_the_syntax():
    prompt = "sdss, {completely round:1.2} galaxy, {dust lane:1.3}"
    assert plain_text(prompt) == "sdss, completely round galaxy, dust lane"
    assert weights_summary(prompt) == "completely round=1.2; dust lane=1.3"
    assert weights_summary("sdss, ring galaxy") == ""


@pytest.mark.parametrize("prompt, fragment, column", [
    ("sdss, {dust lane:1.3", "never closed", 6),
    ("sdss, dust lane:1.3}", "without a matching", 19),
    ("sdss, {dust lane:heavy}", "not a number", 17),
    ("sdss, {dust lane:}", "not a number", 17),
    ("sdss, {dust lane:0}", "positive", 17),
    ("sdss, {dust lane:-1.3}", "positive", 17),
    ("sdss, {dust lane:nan}", "positive", 17),
    ("sdss, {}", "empty phrase", 6),
    ("sdss, {:1.3}", "empty phrase", 6),
])
def test_malformed_prompt_raises_prompt_error_pointing_at_the_character(prompt, fragment, column):
    with pytest.raises(PromptError, match=fragment) as info:
        parse_weighted_prompt(prompt)
    message = str(info.value)
    assert f"(character {column})" in message
    caret_line = message.splitlines()[-1]
    assert caret_line.index("^") - 4 == column


def test_hand_computed_scaling_restores_the_mean():
    hidden = torch.tensor([[[1.0, 2.0], [3.0, 4.0]]])
    weights = torch.tensor([[1.0, 2.0]])
    # scaled = [[1, 2], [6, 8]], mean 17/4; the original mean is 10/4, so the factor is 10/17
    expected = torch.tensor([[[1.0, 2.0], [6.0, 8.0]]]) * (10.0 / 17.0)
    out = apply_token_weights(hidden, weights)
    assert torch.allclose(out, expected)
    assert out.mean() == pytest.approx(hidden.mean())


def test_scaling_is_per_prompt_and_leaves_unweighted_prompts_untouched():
    hidden = torch.tensor([[[1.0, 2.0], [3.0, 4.0]], [[5.0, 6.0], [7.0, 8.0]]])
    weights = torch.tensor([[1.0, 1.0], [3.0, 1.0]])
    out = apply_token_weights(hidden, weights)
    assert torch.equal(out[0], hidden[0])
    # second prompt: [[15, 18], [7, 8]] has mean 12; original mean 6.5
    assert torch.allclose(out[1], torch.tensor([[15.0, 18.0], [7.0, 8.0]]) * (6.5 / 12.0))


@pytest.fixture(scope="module")
def tiny():
    from galaxysd.diffusion.model import build_tiny_components

    return build_tiny_components(resolution=32, seed=0)


def test_token_weights_follow_the_phrase_tokens(tiny):
    tok = tiny["tokenizer"]
    ids, weights = tokenize_weighted("sdss, in-between round galaxy, {dust lane:1.3}", tok)
    assert len(ids) == len(weights) == 77
    phrase = tok("dust lane", add_special_tokens=False)["input_ids"]
    weighted = [i for i, w in zip(ids, weights) if w != 1.0]
    assert weighted == phrase
    assert ids[0] == tok.bos_token_id and weights[0] == 1.0


def test_phrase_past_77_tokens_raises_naming_the_phrase(tiny):
    long_prompt = "sdss, " + ", ".join(["spiral galaxy"] * 40) + ", {dust lane:1.3}"
    with pytest.raises(PromptError, match="dust lane.*truncated|truncated"):
        tokenize_weighted(long_prompt, tiny["tokenizer"])


def test_plain_prompt_embedding_equals_the_pipelines_own(tiny):
    from galaxysd.diffusion.model import pipeline_from_components

    pipe = pipeline_from_components(tiny)
    ours = encode_weighted_prompts(["sdss, edge-on galaxy", ""], pipe.tokenizer, pipe.text_encoder)
    theirs, _ = pipe.encode_prompt(["sdss, edge-on galaxy", ""], "cpu", 1, False)
    assert torch.equal(ours, theirs)


def test_weighted_embedding_scales_phrase_tokens_and_keeps_the_mean(tiny):
    tok, enc = tiny["tokenizer"], tiny["text_encoder"]
    prompt = "sdss, in-between round galaxy, {dust lane:1.6}"
    ids, weights = tokenize_weighted(prompt, tok)
    with torch.no_grad():
        raw = enc(torch.tensor([ids]))[0]
    out = encode_weighted_prompts([prompt], tok, enc)
    assert out.mean().item() == pytest.approx(raw.mean().item(), rel=1e-5, abs=1e-6)
    heavy = torch.tensor(weights) == 1.6
    ratio_heavy = out[0, heavy] / raw[0, heavy]
    ratio_plain = out[0, ~heavy] / raw[0, ~heavy]
    assert torch.allclose(ratio_heavy / ratio_plain.mean(), torch.tensor(1.6), rtol=1e-3)


def test_weighted_prompt_writes_weight_one_without_braces():
    assert prompts.weighted_prompt("sdss, smooth", "dust lane", 1.3) == "sdss, smooth, {dust lane:1.3}"
    assert prompts.weighted_prompt("sdss, smooth", "dust lane", 1.0) == "sdss, smooth, dust lane"
    assert prompts.parse_weighted_prompt(prompts.weighted_prompt("sdss, smooth", "dust lane", 1.6))[-1].weight == 1.6


def test_weights_table_lists_the_segments_of_weighted_prompts_only():
    table = prompts.weights_table({"B": "sdss, completely round galaxy",
                                   "K": "sdss, {in-between round galaxy}, {dust lane:1.3}"})
    assert list(table.columns) == ["prompt", "phrase", "weight"]
    assert set(table["prompt"]) == {"K"}
    assert list(zip(table["phrase"], table["weight"].round(6))) == [
        ("sdss, ", 1.0), ("in-between round galaxy", 1.1), (", ", 1.0), ("dust lane", 1.3)]
    assert set(prompts.weights_table({"B": "sdss, round"}, only_weighted=False)["prompt"]) == {"B"}


# ------------------------------------------------------------------ the mean-restoring factor's rule
def test_restoring_factor_is_the_papers_where_every_token_mean_has_the_sign_of_the_whole():
    gen = torch.Generator().manual_seed(0)
    hidden = torch.randn(3, 77, 16, generator=gen) + 0.5
    hidden[hidden.mean(-1) <= 0] += 1.0  # every token's mean positive
    weights = torch.ones(3, 77)
    weights[:, 5:8] = torch.tensor([1.3, 1.6, 0.7])[:, None]
    paper = hidden.mean(dim=(1, 2)) / (hidden * weights[..., None]).mean(dim=(1, 2))
    assert torch.allclose(weighting.restoring_factor(hidden, weights), paper)
    out = apply_token_weights(hidden, weights)
    assert torch.allclose(out.mean(dim=(1, 2)), hidden.mean(dim=(1, 2)), rtol=1e-5)


def test_a_mean_at_rounding_level_is_not_restored():
    # a LayerNorm without bias: every token's channel mean is zero up to rounding
    hidden = torch.nn.functional.layer_norm(torch.randn(1, 77, 32), (32,))
    weights = torch.ones(1, 77)
    weights[0, 4:6] = 1.3
    assert weighting.restoring_factor(hidden, weights).item() == 1.0
    out = apply_token_weights(hidden, weights)
    assert torch.equal(out, hidden * weights[..., None])


@pytest.mark.parametrize("second_token, expected", [(-0.9, 1 / 2), (-0.5 + 1e-7, 1 / 2), (-0.4, 1 / 2)])
def test_a_factor_outside_the_band_of_the_weights_is_bounded_by_it(second_token, expected):
    # token means +1 and second_token: the whole's mean is well away from zero, but the weighted mean
    # is negative, zero or tiny, so the paper's ratio would be negative, huge or infinite
    hidden = torch.tensor([[[1.0, 1.0], [second_token, second_token]]])
    weights = torch.tensor([[1.0, 2.0]])
    factor = weighting.restoring_factor(hidden, weights).item()
    assert 0.5 <= factor <= 1.0
    if second_token == -0.9:
        assert factor == pytest.approx(expected)
    assert torch.isfinite(apply_token_weights(hidden, weights)).all()


def _paper_prompts():
    from galaxysd import gz2

    return {**gz2.TABLE1_PROMPTS, **{f"D-ETG {i + 1}": p for i, p in enumerate(gz2.DETG_PROMPTS)}}


def _smoke_sizes():
    from galaxysd.book import load_profile

    return load_profile("smoke")["notebooks"]["02_finetune"]["tiny_sizes"]


@pytest.fixture(scope="module")
def smoke_trained(tmp_path_factory):
    """A tiny model of the smoke profile's sizes, trained a few steps at the notebook's learning rate."""
    import numpy as np
    import pandas as pd
    from PIL import Image

    from galaxysd.diffusion import latents as dlatents
    from galaxysd.diffusion import model as dmodel
    from galaxysd.diffusion import train
    from galaxysd.diffusion.finetune_config import FinetuneConfig

    root = tmp_path_factory.mktemp("smoke_trained")
    rng = np.random.default_rng(0)
    rows = []
    for i, tags in enumerate(["smooth|completely round", "features or disk|edge-on|dust lane",
                              "features or disk|spiral arms|2 spiral arms", "smooth|cigar-shaped"] * 2):
        path = root / f"{1000 + i}.jpg"
        Image.fromarray(rng.integers(0, 255, (32, 32, 3), dtype=np.uint8)).save(path)
        rows.append({"objid": 1000 + i, "image_path": str(path), "tags": tags})
    manifest = root / "manifest.csv"
    pd.DataFrame(rows).to_csv(manifest, index=False)
    parts = dmodel.build_tiny_components(resolution=32, seed=0, **_smoke_sizes())
    base = dmodel.save_pipeline(parts, root / "base")
    cached = dlatents.cache_latents(parts["vae"], [r["image_path"] for r in rows], 32, root / "latents.safetensors",
                                    objids=[r["objid"] for r in rows], progress=False)
    result = train.finetune(FinetuneConfig(
        base_model=str(base), manifest=str(manifest), latents=str(cached), output_dir=str(root / "run"),
        max_steps=8, batch_size=8, learning_rate=1e-3, warmup_steps=2, checkpoint_every=100, cpu=True,
        progress=False, seed=0))
    return dmodel.load_components(result["model_dir"])


@pytest.mark.parametrize("which", ["untrained demo sizes", "untrained smoke sizes", "smoke-trained"])
def test_every_table1_and_detg_prompt_has_a_finite_embedding(which, request):
    from galaxysd.diffusion.model import build_tiny_components

    if which == "smoke-trained":
        parts = request.getfixturevalue("smoke_trained")
    else:
        parts = build_tiny_components(32, 0, **({} if which.startswith("untrained demo") else _smoke_sizes()))
    named = _paper_prompts()
    embeds = encode_weighted_prompts(list(named.values()), parts["tokenizer"], parts["text_encoder"])
    finite = dict(zip(named, torch.isfinite(embeds).flatten(1).all(dim=1).tolist()))
    assert all(finite.values()), f"non-finite embeddings: {[k for k, ok in finite.items() if not ok]}"
    # the weighted phrases still carry their weight relative to the rest of the prompt
    ids, weights = tokenize_weighted(named["K"], parts["tokenizer"])
    with torch.no_grad():
        raw = parts["text_encoder"](torch.tensor([ids]))[0][0]
    heavy = torch.tensor(weights) == 1.3
    ratio = embeds[list(named).index("K")] / raw
    assert torch.allclose(ratio[heavy].mean() / ratio[~heavy].mean(), torch.tensor(1.3), rtol=1e-3)


def test_a_broken_text_encoder_is_refused_naming_the_prompt(tiny):
    import copy

    from galaxysd.errors import GenerationError

    encoder = copy.deepcopy(tiny["text_encoder"])
    with torch.no_grad():
        for param in encoder.parameters():
            param.fill_(float("nan"))
    with pytest.raises(GenerationError, match="dust lane"):
        encode_weighted_prompts(["sdss, {dust lane:1.3}"], tiny["tokenizer"], encoder)


def test_restoring_table_says_an_untrained_encoder_keeps_its_weighted_mean_unrestored(tiny):
    from galaxysd import gz2

    table = weighting.restoring_table(gz2.TABLE1_PROMPTS, tiny["tokenizer"], tiny["text_encoder"])
    assert list(table.index) == ["K", "L"]
    assert not table["restored"].any()
    assert (table["factor"] == 1.0).all()
    assert (table["relative mean"].abs() < weighting.MEAN_TOLERANCE).all()


def test_a_subset_of_table1_keeps_the_order_given_and_names_the_parameter_for_an_unknown_letter():
    import pytest

    from galaxysd.errors import ParameterError
    from galaxysd.gz2 import TABLE1_PROMPTS, table1_subset

    assert list(table1_subset("KAK")) == ["K", "A"] and table1_subset("B")["B"] == TABLE1_PROMPTS["B"]
    with pytest.raises(ParameterError, match=r"e5_letters='AQ'.*\['Q'\]"):
        table1_subset("AQ", "e5_letters")
    with pytest.raises(ParameterError, match="no letter"):
        table1_subset("", "e5_letters")
    assert table1_subset("", allow_empty=True) == {}
