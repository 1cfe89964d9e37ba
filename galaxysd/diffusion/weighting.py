"""Weighted text embeddings: the token weights of a ``{phrase:1.3}`` prompt applied to the CLIP text
encoder's output, as the paper's authors did.

The weights come from :func:`galaxysd.diffusion.prompts.parse_weighted_prompt`. After the token
embeddings are scaled, the whole embedding of each prompt is multiplied by one number so that its
mean equals the mean of the unweighted embedding (:func:`restoring_factor` says when that number can
be trusted and what is used otherwise). The result goes to the diffusers pipelines as
``prompt_embeds``. A plain prompt (no braces) gives exactly the embedding the pipeline would compute
itself, and no embedding that leaves this module is ever NaN or infinite.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import torch

from galaxysd.diffusion.prompts import parse_weighted_prompt, where_in
from galaxysd.errors import GenerationError, PromptError


#: The mean of a prompt's embedding is restored after weighting only when it is at least this
#: fraction of the embedding's mean absolute value ("well away from zero"). A CLIP text encoder ends in
#: a LayerNorm, so its output's mean is the mean of that LayerNorm's bias (plus a term from its gain).
#: With a zero bias, as in a freshly built encoder, it is rounding noise: 1e-10 to 1e-8 of the values
#: (measured on the tiny models), while rounding an embedding to float16 moves its mean by about 1e-6.
#: Training moves it away: 4e-4 after the smoke profile's 20 steps, 5e-4 to 2e-3 after the demo's
#: 1,400. The tolerance sits a hundred times above float16 rounding and below every trained model.
MEAN_TOLERANCE = 1e-4


#: Version of the weighting rule, part of every generation stage's cache key: bump it when
#: :func:`apply_token_weights` changes, so images made the old way are not reused.
#: 2: the mean is restored only where it is well away from zero, by a factor bounded by the weights.
EMPHASIS_RULE = 2


def tokenize_weighted(prompt: str, tokenizer) -> tuple[list[int], list[float]]:
    """Token ids and per-token weights of a weighted prompt, padded to the tokenizer's length.

    Each segment is tokenized on its own and the pieces are joined between the begin and end tokens,
    then padded with the tokenizer's pad token, as the diffusers pipelines do for plain prompts.

    Parameters
    ----------
    prompt : str
        Weighted prompt.
    tokenizer : transformers.CLIPTokenizer
        The pipeline's tokenizer (its ``model_max_length`` is 77 for CLIP).

    Returns
    -------
    ids : list of int
        ``model_max_length`` token ids.
    weights : list of float
        One weight per id (1.0 for the begin, end and padding tokens).

    Raises
    ------
    PromptError
        If the prompt is malformed, or if its tokens do not fit: the message names the phrase that
        would be cut off and where it starts.
    """
    max_length = int(tokenizer.model_max_length)
    room = max_length - 2
    ids: list[int] = []
    weights: list[float] = []
    for segment in parse_weighted_prompt(prompt):
        pieces = tokenizer(segment.text, add_special_tokens=False, truncation=False)["input_ids"]
        if len(ids) + len(pieces) > room:
            raise PromptError(
                f"weighted prompt {prompt!r}: the phrase {segment.text.strip()!r} would be truncated: "
                f"the prompt needs {len(ids) + len(pieces)}+ tokens but the text encoder takes "
                f"{max_length} ({room} plus begin and end); shorten the prompt"
                f"{where_in(prompt, segment.start)}")
        ids.extend(pieces)
        weights.extend([segment.weight] * len(pieces))
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    ids = [tokenizer.bos_token_id, *ids, tokenizer.eos_token_id]
    weights = [1.0, *weights, 1.0]
    ids += [pad] * (max_length - len(ids))
    weights += [1.0] * (max_length - len(weights))
    return ids, weights


def restoring_factor(hidden: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """The number each weighted prompt's embedding is multiplied by to restore its mean.

    The paper's method multiplies the weighted embedding by ``mean(hidden) / mean(hidden * weights)``
    with no guard: so do the authors' trainer (HCP-Diffusion's ``TEEXHook.mult_attn``, per prompt
    that carries weights) and the "Original" emphasis mode of the AUTOMATIC1111 web UI
    (``z * (original_mean / new_mean)``); the web UI's "No norm" mode skips the step. The ratio is
    only meaningful when the mean is well away from zero: with token means ``m_t`` (over channels) it is ``sum(m_t) / sum(w_t m_t)``, and when
    every ``m_t`` has the sign of the whole, the denominator is a weighted average of the weights
    times the numerator, so the factor lies between ``1 / max(w)`` and ``1 / min(w)``. When the means
    cancel (a LayerNorm with a small bias), the ratio measures rounding noise: it can be huge,
    infinite, negative or NaN, and the image comes out black. The rule here:

    - the paper's factor where the mean is well away from zero (``|mean| >= MEAN_TOLERANCE *
      mean(|hidden|)``) and the factor lies in ``[1 / max(w), 1 / min(w)]``: identical to the paper;
    - the nearest end of that band where the factor falls outside it (or is infinite or negative);
    - 1 (no restoring, A1111's "no norm" mode) where the mean is not well away from zero.

    Whatever the factor, the weighted tokens keep exactly ``w`` times the emphasis of the others (the
    factor scales the whole prompt), and bounding it by the band keeps that overall scale between "no
    restoring" and "restoring as if every token carried the largest weight".

    Parameters
    ----------
    hidden : torch.Tensor
        Text-encoder output, shape ``(batch, tokens, dim)``.
    weights : torch.Tensor
        Per-token weights, shape ``(batch, tokens)``; they include the begin/end/padding tokens'
        weight 1, so the band always contains 1.

    Returns
    -------
    torch.Tensor
        One finite, positive factor per prompt, float32, shape ``(batch,)``.

    Examples
    --------
    >>> restoring_factor(torch.tensor([[[1., 2.], [3., 4.]]]), torch.tensor([[1., 2.]]))
    tensor([0.5882])
    """
    h = hidden.float()
    w = weights.to(h.device).float()
    original = h.mean(dim=(1, 2))
    raw = original / (h * w[..., None]).mean(dim=(1, 2))
    low, high = 1.0 / w.max(dim=1).values, 1.0 / w.min(dim=1).values
    raw = torch.where(torch.isnan(raw), torch.ones_like(raw), raw)
    bounded = torch.minimum(torch.maximum(raw, low), high)  # +inf -> high; negative or -inf -> low
    well_away = original.abs() >= MEAN_TOLERANCE * h.abs().mean(dim=(1, 2))
    return torch.where(well_away, bounded, torch.ones_like(bounded))


def apply_token_weights(hidden: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """Scale token embeddings by their weights, then restore each prompt's mean.

    Parameters
    ----------
    hidden : torch.Tensor
        Text-encoder output, shape ``(batch, tokens, dim)``.
    weights : torch.Tensor
        Per-token weights, shape ``(batch, tokens)``.

    Returns
    -------
    torch.Tensor
        ``hidden * weights`` multiplied, per prompt, by :func:`restoring_factor` (the paper's
        ``mean(hidden) / mean(hidden * weights)`` where that is well defined), so the overall mean is
        unchanged. Prompts whose weights are all 1 are returned unchanged.

    Examples
    --------
    >>> apply_token_weights(torch.tensor([[[1., 2.], [3., 4.]]]), torch.tensor([[1., 2.]]))
    tensor([[[0.5882, 1.1765],
             [3.5294, 4.7059]]])
    """
    weights = weights.to(hidden.dtype).to(hidden.device)
    scaled = hidden * weights[..., None]
    factor = restoring_factor(hidden, weights).to(hidden.dtype)[:, None, None]
    plain = (weights == 1).all(dim=1)[:, None, None]
    return torch.where(plain, hidden, scaled * factor)


@torch.no_grad()
def encode_weighted_prompts(prompts: Sequence[str] | str, tokenizer, text_encoder,
                            device: torch.device | str | None = None) -> torch.Tensor:
    """Text embeddings of weighted prompts, ready to pass as ``prompt_embeds``.

    Parameters
    ----------
    prompts : str or sequence of str
        Weighted prompts (plain prompts are fine too).
    tokenizer : transformers.CLIPTokenizer
        The pipeline's tokenizer.
    text_encoder : transformers.CLIPTextModel
        The pipeline's text encoder.
    device : torch.device or str, optional
        Where to run the encoder; its own device by default.

    Returns
    -------
    torch.Tensor
        Shape ``(len(prompts), 77, hidden_size)`` in the encoder's dtype.

    Raises
    ------
    PromptError
        If a prompt is malformed or too long.
    GenerationError
        If the text encoder's output is not finite (the weighting itself never makes it so).

    Examples
    --------
    >>> embeds = encode_weighted_prompts(["sdss, {dust lane:1.3}"], pipe.tokenizer,
    ...                                  pipe.text_encoder)  # doctest: +SKIP
    """
    if isinstance(prompts, str):
        prompts = [prompts]
    device = torch.device(device) if device is not None else text_encoder.device
    rows = [tokenize_weighted(p, tokenizer) for p in prompts]
    ids = torch.tensor([r[0] for r in rows], dtype=torch.long, device=device)
    weights = torch.tensor([r[1] for r in rows], dtype=torch.float32, device=device)
    mask = None
    if getattr(text_encoder.config, "use_attention_mask", False):
        mask = (torch.arange(ids.shape[1], device=device)[None, :]
                <= (ids == tokenizer.eos_token_id).int().argmax(dim=1)[:, None]).long()
    hidden = text_encoder(ids, attention_mask=mask)[0]
    embeds = apply_token_weights(hidden, weights)
    broken = [p for p, ok in zip(prompts, torch.isfinite(embeds).flatten(1).all(dim=1).tolist()) if not ok]
    if broken:
        raise GenerationError(f"the text encoder gave a non-finite (NaN or infinite) embedding for prompt(s) "
                              f"{broken}: its weights are broken (a diverged training run?); load an earlier "
                              f"checkpoint or retrain")
    return embeds


@torch.no_grad()
def restoring_table(named_prompts: Mapping[str, str], tokenizer, text_encoder):
    """How the mean of each weighted prompt is restored on this model (:func:`restoring_factor`).

    Parameters
    ----------
    named_prompts : mapping of str to str
        Name to prompt; prompts without braces are left out.
    tokenizer, text_encoder
        The pipeline's tokenizer and text encoder.

    Returns
    -------
    pandas.DataFrame
        Index: name; ``relative mean`` (the embedding's mean over its mean absolute value),
        ``paper factor`` (``mean(h) / mean(h * w)``, unguarded), ``factor`` (the one used) and
        ``restored`` (whether the mean counted as well away from zero).

    Examples
    --------
    >>> restoring_table({"K": TABLE1_PROMPTS["K"]}, pipe.tokenizer, pipe.text_encoder)  # doctest: +SKIP
    """
    import pandas as pd

    rows = {}
    for name, prompt in named_prompts.items():
        ids, weights = tokenize_weighted(prompt, tokenizer)
        if all(w == 1.0 for w in weights):
            continue
        device = text_encoder.device
        hidden = text_encoder(torch.tensor([ids], device=device))[0].float()
        w = torch.tensor([weights], device=device)
        mean, scale = hidden.mean().item(), hidden.abs().mean().item()
        rows[name] = {"relative mean": mean / scale,
                      "paper factor": (hidden.mean() / (hidden * w[..., None]).mean()).item(),
                      "factor": restoring_factor(hidden, w).item(),
                      "restored": abs(mean) >= MEAN_TOLERANCE * scale}
    return pd.DataFrame.from_dict(rows, orient="index",
                                  columns=["relative mean", "paper factor", "factor", "restored"])


