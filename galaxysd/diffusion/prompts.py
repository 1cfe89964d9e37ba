"""Weighted prompts: ``{dust lane:1.3}`` emphasis, as the paper's authors used it.

Syntax (Ma et al. 2026, Section 2; the "original" emphasis of the AUTOMATIC1111 web UI, but with
curly braces):

- ``{phrase:1.3}`` multiplies the text-encoder output of the phrase's tokens by 1.3;
- ``{phrase}`` without a number means a factor of 1.1;
- braces nest and their factors multiply: ``{a {b:2}:1.5}`` gives ``a`` 1.5 and ``b`` 3.0;
- text outside braces has weight 1, and so do the begin, end and padding tokens.

This module reads and writes the syntax; :mod:`galaxysd.diffusion.weighting` applies the weights to
the text encoder's output.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping

from galaxysd.errors import PromptError

DEFAULT_EMPHASIS = 1.1


@dataclass(frozen=True)
class Segment:
    """A run of prompt text that shares one weight.

    Attributes
    ----------
    text : str
        The text, braces and weight suffixes removed.
    weight : float
        Product of the factors of every brace group around the text.
    start : int
        Character offset of the text in the original prompt (for error messages).
    """

    text: str
    weight: float
    start: int


def where_in(prompt: str, pos: int) -> str:
    """The prompt with a caret under character ``pos``, for error messages."""
    return f"\n    {prompt}\n    {' ' * pos}^ (character {pos})"


def _parse_weight(prompt: str, raw: str, pos: int) -> float:
    text = raw.strip()
    try:
        value = float(text)
    except ValueError:
        raise PromptError(f"weighted prompt {prompt!r}: weight {raw!r} is not a number; a ':' inside braces "
                          "is always read as a weight (the text after the last ':' is the weight). Write "
                          f"{{phrase:1.3}} or {{phrase}} (= {DEFAULT_EMPHASIS}); to keep a ':' in the phrase, "
                          f"end it with an explicit weight, e.g. {{ratio 1:2:1.0}}{where_in(prompt, pos)}") from None
    if not math.isfinite(value) or value <= 0:
        raise PromptError(f"weighted prompt {prompt!r}: weight {raw.strip()!r} must be a positive finite "
                          f"number{where_in(prompt, pos)}")
    return value


def parse_weighted_prompt(prompt: str) -> list[Segment]:
    """Split a prompt into text segments and their weights.

    Parameters
    ----------
    prompt : str
        A prompt such as ``"sdss, in-between round galaxy, {dust lane:1.3}"``.

    Returns
    -------
    list of Segment
        Non-empty segments in order; neighbours with equal weights are merged.

    Raises
    ------
    PromptError
        On an unbalanced brace, an empty ``{}``, or a weight that is not a positive number; the
        message shows the prompt with a caret under the offending character.

    Examples
    --------
    >>> parse_weighted_prompt("sdss, {a {b:2}:1.5}")
    [Segment(text='sdss, ', weight=1.0, start=0), Segment(text='a ', weight=1.5, start=7), \
Segment(text='b', weight=3.0, start=10)]
    """
    if not isinstance(prompt, str):
        raise PromptError(f"a prompt must be a string, got {type(prompt).__name__}")
    # Each open group: its opening position and its items, either ("text", str, start) or
    # ("group", [items], weight). A group's weight is read from the text after its last child.
    stack: list[tuple[int, list]] = [(-1, [])]
    buf: list[str] = []
    buf_start = 0

    def flush(pos: int) -> None:
        nonlocal buf, buf_start
        if buf:
            stack[-1][1].append(("text", "".join(buf), buf_start))
        buf = []
        buf_start = pos

    for pos, char in enumerate(prompt):
        if char == "{":
            flush(pos + 1)
            stack.append((pos, []))
        elif char == "}":
            if len(stack) == 1:
                raise PromptError(f"weighted prompt {prompt!r}: '}}' without a matching '{{'"
                                  f"{where_in(prompt, pos)}")
            flush(pos + 1)
            opened, items = stack.pop()
            weight = DEFAULT_EMPHASIS
            if items and items[-1][0] == "text" and ":" in items[-1][1]:
                _, text, start = items.pop()
                head, _, raw = text.rpartition(":")
                weight = _parse_weight(prompt, raw, start + len(head) + 1)
                if head:
                    items.append(("text", head, start))
            if not any(kind == "group" or text.strip() for kind, text, *_ in items):
                raise PromptError(f"weighted prompt {prompt!r}: empty phrase in braces"
                                  f"{where_in(prompt, opened)}")
            stack[-1][1].append(("group", items, weight))
        else:
            if not buf:
                buf_start = pos
            buf.append(char)
    if len(stack) > 1:
        raise PromptError(f"weighted prompt {prompt!r}: '{{' is never closed{where_in(prompt, stack[-1][0])}")
    flush(len(prompt))

    segments: list[Segment] = []

    def walk(items: list, weight: float) -> None:
        for kind, value, extra in items:
            if kind == "group":
                walk(value, weight * extra)
            elif value:
                if segments and segments[-1].weight == weight:
                    last = segments[-1]
                    segments[-1] = Segment(last.text + value, weight, last.start)
                else:
                    segments.append(Segment(value, weight, extra))

    walk(stack[0][1], 1.0)
    return segments


def plain_text(prompt: str) -> str:
    """The prompt with its braces and weights removed (what a reader would say aloud).

    Examples
    --------
    >>> plain_text("sdss, in-between round galaxy, {dust lane:1.3}")
    'sdss, in-between round galaxy, dust lane'
    """
    return "".join(segment.text for segment in parse_weighted_prompt(prompt))


def weights_summary(prompt: str) -> str:
    """A compact record of a prompt's weighted phrases, e.g. ``"dust lane=1.3"`` ("" if none)."""
    parts = [f"{s.text.strip()}={s.weight:g}" for s in parse_weighted_prompt(prompt) if s.weight != 1.0]
    return "; ".join(parts)


def weighted_prompt(base: str, phrase: str, weight: float) -> str:
    """``base`` followed by ``phrase`` emphasised by ``weight`` (written plain when the weight is 1).

    Examples
    --------
    >>> weighted_prompt("sdss, in-between round galaxy", "dust lane", 1.3)
    'sdss, in-between round galaxy, {dust lane:1.3}'
    >>> weighted_prompt("sdss, in-between round galaxy", "dust lane", 1.0)
    'sdss, in-between round galaxy, dust lane'
    """
    return f"{base}, {{{phrase}:{weight:g}}}" if weight != 1.0 else f"{base}, {phrase}"


def weights_table(named_prompts: Mapping[str, str], only_weighted: bool = True):
    """How named prompts split into phrases and weights: one row per segment.

    Parameters
    ----------
    named_prompts : mapping of str to str
        Name (e.g. a Table 1 letter) to prompt.
    only_weighted : bool, optional
        Leave out prompts without braces.

    Returns
    -------
    pandas.DataFrame
        ``prompt`` (the name), ``phrase`` and ``weight`` of every segment (:func:`parse_weighted_prompt`).

    Examples
    --------
    >>> weights_table({"K": "sdss, {dust lane:1.3}"})["weight"].tolist()
    [1.0, 1.3]
    """
    import pandas as pd

    rows = [{"prompt": name, "phrase": seg.text, "weight": seg.weight}
            for name, text in named_prompts.items() if "{" in text or not only_weighted
            for seg in parse_weighted_prompt(text)]
    return pd.DataFrame(rows, columns=["prompt", "phrase", "weight"])


