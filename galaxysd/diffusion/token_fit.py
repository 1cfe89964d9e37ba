"""Whether captions fit CLIP's 77 tokens, and what is cut from those that do not.

Stable Diffusion's text encoder reads 77 tokens: the begin token, 75 of text, the end token. A
training caption longer than that is truncated silently by the tokenizer, so the model never sees its
last tags. Every caption a galaxy can be trained with is at most its full caption (all its tags: the
training captions subsample them, :func:`galaxysd.gz2.caption_from_tags`, and the token count does
not depend on their order, since CLIP's byte-pair encoding works word by word), so
:func:`check_captions` checks the full caption of every distinct tag set once, and names each one that
does not fit with the words it loses. Weighted prompts are checked where they are tokenized
(:func:`galaxysd.diffusion.weighting.tokenize_weighted` refuses one that does not fit).
"""

from __future__ import annotations

import warnings
from typing import Iterable, Sequence

import pandas as pd

from galaxysd.errors import DataWarning


def text_room(tokenizer) -> int:
    """Tokens of text the tokenizer's context holds (75 for CLIP: 77 less the begin and end tokens)."""
    return int(tokenizer.model_max_length) - 2


def cut_text(text: str, tokenizer) -> str:
    """The part of ``text`` the tokenizer would cut off ("" if it fits).

    Parameters
    ----------
    text : str
        A caption or plain prompt.
    tokenizer : transformers.CLIPTokenizer
        The model's tokenizer.

    Returns
    -------
    str
        The words beyond the context, as the tokenizer decodes them.

    Examples
    --------
    >>> cut_text("sdss, spiral galaxy", tokenizer)  # doctest: +SKIP
    ''
    """
    ids = tokenizer(text, add_special_tokens=False, truncation=False)["input_ids"]
    room = text_room(tokenizer)
    return tokenizer.decode(ids[room:]).strip() if len(ids) > room else ""


def check_captions(tag_sets: Iterable[str | Sequence[str]], tokenizer, source: str = "the training manifest",
                   warn: bool = True) -> pd.DataFrame:
    """Check that the full caption of every tag set fits the tokenizer, naming each that does not.

    Parameters
    ----------
    tag_sets : iterable of str or sequence of str
        One galaxy's tags each (a manifest ``tags`` cell joined by ``"|"``, or a list).
    tokenizer : transformers.CLIPTokenizer
        The model's tokenizer.
    source : str, optional
        Where the tags come from, for the warning.
    warn : bool, optional
        Issue a :class:`~galaxysd.errors.DataWarning` per caption that does not fit.

    Returns
    -------
    pandas.DataFrame
        One row per distinct full caption: ``caption``, ``n_galaxies``, ``n_tokens`` (text tokens,
        without begin and end) and ``cut`` (the words truncated, "" if it fits), longest first.

    Examples
    --------
    >>> check_captions(["spiral galaxy|2 spiral arms"], tokenizer)  # doctest: +SKIP
    """
    from galaxysd.gz2.tags import caption, split_tags

    counts: dict[str, int] = {}
    for tags in tag_sets:
        text = caption(split_tags(tags) if isinstance(tags, str) or tags is None else list(tags))
        counts[text] = counts.get(text, 0) + 1
    rows = []
    for text, n in counts.items():
        n_tokens = len(tokenizer(text, add_special_tokens=False, truncation=False)["input_ids"])
        rows.append({"caption": text, "n_galaxies": n, "n_tokens": n_tokens, "cut": cut_text(text, tokenizer)})
    table = pd.DataFrame(rows, columns=["caption", "n_galaxies", "n_tokens", "cut"])
    table = table.sort_values("n_tokens", ascending=False, kind="stable").reset_index(drop=True)
    if warn:
        room = text_room(tokenizer)
        for row in table[table.cut != ""].itertuples():
            warnings.warn(f"{source}: the caption {row.caption!r} of {row.n_galaxies} galaxies has "
                          f"{row.n_tokens} tokens; the text encoder reads {room}, so training never sees "
                          f"{row.cut!r} when all its tags are drawn. Fewer tags per galaxy (a higher "
                          f"min_debiased) or shorter tag phrases keep it whole", DataWarning, stacklevel=2)
    return table
