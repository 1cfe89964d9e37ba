"""The paper's prompts: Table 1 (A-P, Figure 3) and the two D-ETG prompts of Figure 7.

Prompts are written in caption style (``"sdss, "`` first) with the paper's wording; ``{phrase:w}``
weights a phrase (see :mod:`galaxysd.diffusion` for how weights are applied). Every word of every
prompt occurs in the tag vocabulary of :mod:`galaxysd.gz2.tags`, which :func:`unseen_words` checks.
"""

from __future__ import annotations

import re

from galaxysd.gz2.tags import CAPTION_PREFIX, TAG_ORDER

#: Table 1 of the paper: letter -> prompt, in caption style.
TABLE1_PROMPTS: dict[str, str] = {
    "A": "sdss, cigar-shaped galaxy",
    "B": "sdss, completely round galaxy",
    "C": "sdss, edge-on galaxy",
    "D": "sdss, in-between round galaxy",
    "E": "sdss, ring galaxy",
    "F": "sdss, spiral galaxy with 4 spiral arms",
    "G": "sdss, spiral galaxy with loosely wound 2 spiral arms",
    "H": "sdss, spiral galaxy with tightly wound spiral arms",
    "I": "sdss, spiral galaxy with just noticeable central bulge prominence",
    "J": "sdss, spiral galaxy with obvious central bulge prominence",
    "K": "sdss, in-between round galaxy, {dust lane:1.3}",
    "L": "sdss, edge-on galaxy, {dust lane:1.3}, with rounded edge-on bulge",
    "M": "sdss, bar-shaped structure in the center of galaxy",
    "N": "sdss, edge-on galaxy, with rounded edge-on bulge",
    "O": "sdss, in-between round galaxy, merger",
    "P": "sdss, spiral galaxy, just noticeable bulge prominence, merger",
}

#: The tags a galaxy must carry to be a real example of each Table 1 prompt (for Table 1's counts,
#: Figure 3's real images and the consistency metric).
TABLE1_TAGS: dict[str, tuple[str, ...]] = {
    "A": ("cigar-shaped galaxy",),
    "B": ("completely round galaxy",),
    "C": ("edge-on galaxy",),
    "D": ("in-between round galaxy",),
    "E": ("ring",),
    "F": ("spiral galaxy", "4 spiral arms"),
    "G": ("spiral galaxy", "loosely wound spiral arms", "2 spiral arms"),
    "H": ("spiral galaxy", "tightly wound spiral arms"),
    "I": ("spiral galaxy", "just noticeable central bulge prominence"),
    "J": ("spiral galaxy", "obvious central bulge prominence"),
    "K": ("in-between round galaxy", "dust lane"),
    "L": ("edge-on galaxy", "dust lane", "with rounded edge-on bulge"),
    "M": ("bar-shaped structure in the center of galaxy",),
    "N": ("edge-on galaxy", "with rounded edge-on bulge"),
    "O": ("in-between round galaxy", "merger"),
    "P": ("spiral galaxy", "just noticeable central bulge prominence", "merger"),
}

#: The two prompts the paper used to generate dusty early-type galaxies (Figure 7).
def table1_subset(letters: str, parameter: str = "letters", allow_empty: bool = False) -> dict[str, str]:
    """Table 1's prompts for ``letters`` (e.g. ``"AK"``), in that order (``allow_empty``: ``""`` gives none).

    Raises
    ------
    galaxysd.errors.ParameterError
        Naming ``parameter`` and the letters that are not Table 1's (A-P).

    Examples
    --------
    >>> list(table1_subset("KA"))
    ['K', 'A']
    """
    from galaxysd.errors import ParameterError

    unknown = sorted(set(letters) - set(TABLE1_PROMPTS))
    if unknown or not (letters or allow_empty):
        raise ParameterError(f"{parameter}={letters!r}: {unknown or 'no letter'} are not Table 1 prompts "
                             "(letters A-P, e.g. \"AK\")")
    return {letter: TABLE1_PROMPTS[letter] for letter in dict.fromkeys(letters)}


DETG_PROMPTS: tuple[str, str] = ("sdss, {completely round:1.2} galaxy, {dust lane:1.3}",
                                 "sdss, in-between round galaxy, {dust lane:1.3}")

_WEIGHT = re.compile(r":\s*[0-9.]+\s*}")


def prompt_words(prompt: str) -> list[str]:
    """The words of a prompt with weights, braces, commas and the ``sdss`` prefix removed."""
    text = _WEIGHT.sub(" ", prompt)
    text = text.replace("{", " ").replace("}", " ").replace(",", " ")
    words = text.split()
    if words and words[0] == CAPTION_PREFIX.strip(", "):
        words = words[1:]
    return words


def unseen_words(prompt: str) -> list[str]:
    """Words of ``prompt`` that no training tag contains (besides ``with``), in order.

    Examples
    --------
    >>> unseen_words(TABLE1_PROMPTS["G"])
    []
    """
    vocabulary = {w for tag in TAG_ORDER for w in tag.split()} | {"with"}
    return [w for w in prompt_words(prompt) if w not in vocabulary]
