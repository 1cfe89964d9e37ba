"""Figure E5's prompt response: how much the prompt moves a model's galaxies, against the noise."""

import numpy as np

from galaxysd.diffusion.figure_e5 import prompt_response, prompt_response_sentence


def _seeds(n=3, size=12, seed=0):
    return np.random.default_rng(seed).random((n, size, size, 3))


def test_a_model_that_ignores_its_prompt_scores_zero_and_is_called_so():
    noise = _seeds()
    ignoring = prompt_response({letter: noise for letter in "ABCDEF"})
    assert ignoring["ratio"] == 0 and ignoring["high"] == 0 and ignoring["n_prompts"] == 6
    # a prompt that shifts the whole picture as much as the noise does scores about 1 or more
    rng = np.random.default_rng(1)
    following = prompt_response({letter: np.clip(noise + rng.normal(0, 0.4, (1, 12, 12, 3)), 0, 1)
                                 for letter in "ABCDEF"})
    assert following["low"] > 0.5 and following["low"] <= following["ratio"] <= following["high"]
    real = prompt_response({letter: _seeds(seed=i + 10) for i, letter in enumerate("ABCDEF")})
    assert 0.8 < real["ratio"] < 1.2  # independent galaxies: prompts differ as much as seeds
    text = prompt_response_sentence(ignoring, following, real)
    assert text.startswith("with the same noise, the base model draws nearly the same galaxy")
    assert "do not overlap" in text
    assert "cannot be told apart" in prompt_response_sentence(following, following, real)


def test_uint8_and_float_images_agree_and_too_few_images_are_not_measured():
    noise = _seeds()
    as_uint8 = {k: (noise * 255).round().astype(np.uint8) for k in "AB"}
    as_float = {k: v.astype(float) / 255 for k, v in as_uint8.items()}
    as_uint8["B"] = as_uint8["B"][::-1].copy()
    as_float["B"] = as_float["B"][::-1].copy()
    assert np.isclose(prompt_response(as_uint8)["ratio"], prompt_response(as_float)["ratio"])
    single = prompt_response({k: noise[:1] for k in "ABC"})
    assert np.isnan(single["ratio"]) and single["n_prompts"] == 0
    assert prompt_response_sentence(single, single, single).startswith("too few prompts")
