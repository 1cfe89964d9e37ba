"""Plain-language captions of the simulated web collection, and the Table 1 prompts in that wording.

The web images Stable Diffusion v1.5 learnt from are not described by Galaxy Zoo tags but by people:
"a photo of an elliptical galaxy crossed by a dark dust lane", "a spiral galaxy seen edge-on". Each
galaxy of :mod:`galaxysd.gz2.simulate.web` gets several such captions, drawn from varied phrasings of
its true morphology; training picks one of them every time the image is used. The words are not the
GZ2 tags (no ``"sdss, "`` prefix, no ``"in-between round"``), but the two vocabularies share the
words a prior can carry over: *round*, *elliptical*, *spiral*, *edge-on*, *bar*, *ring*, *merger*,
*dust lane*.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: Separates a galaxy's alternative captions in the collection's ``caption`` column.
CAPTION_SEP = "|"

#: How a caption may begin (a picture on the web is a photo, an image, a telescope picture...).
OPENINGS = ("a photo of ", "an image of ", "a telescope picture of ", "", "an astronomy photo of ",
            "a picture of ")

#: Phrasings of each kind of galaxy (``{arms}``, ``{winding}`` are filled in from the galaxy).
SUBJECTS = {
    "round": ("a round elliptical galaxy", "an elliptical galaxy, almost perfectly round",
              "a giant round elliptical galaxy", "a round early type galaxy"),
    "in_between": ("an elliptical galaxy", "an oval elliptical galaxy", "a slightly flattened elliptical galaxy",
                   "an early type galaxy"),
    "cigar": ("an elongated elliptical galaxy", "a cigar shaped elliptical galaxy", "a very flattened elliptical"),
    "edge_on": ("a spiral galaxy seen edge-on", "an edge-on disk galaxy", "a galaxy seen edge on",
                "an edge-on spiral"),
    "spiral": ("a spiral galaxy with {arms} arms", "a face-on spiral galaxy", "a spiral galaxy with {winding} arms",
               "a {winding} spiral galaxy"),
    "disk": ("a lenticular galaxy", "a smooth disk galaxy", "a disk galaxy without arms"),
    "irregular": ("an irregular galaxy", "a clumpy irregular galaxy", "a small irregular galaxy"),
}
ARM_WORDS = {1: "one", 2: "two", 3: "three", 4: "four", 5: "many"}
WINDING_WORDS = {"tight": "tightly wound", "medium": "moderately wound", "loose": "loosely wound"}
#: Phrasings of the features a galaxy may carry besides its kind.
FEATURES = {
    "dust_lane": ("crossed by a dark dust lane", "with a dust lane", "with a prominent dark lane of dust",
                  "cut by a dark band of dust"),
    "bar": ("with a bar", "with a bright central bar"),
    "ring": ("with a ring", "with a bright ring"),
    "merger": ("merging with a companion", "colliding with another galaxy"),
    "disturbed": ("looking disturbed", "with a disturbed shape"),
    "bulge_boxy": ("with a boxy bulge",),
    "bulge_rounded": ("with a round bulge", "with a bright round bulge"),
    "lens": ("with a lens arc", "with an arc of a lens"),
}

#: Table 1's prompts (:data:`galaxysd.gz2.prompts.TABLE1_PROMPTS`) in the web collection's wording, for
#: prompting a base model that has not learnt the GZ2 tags (Figure E5's "base model" column).
TABLE1_WEB_PROMPTS: dict[str, str] = {
    "A": "a photo of a cigar shaped elliptical galaxy",
    "B": "a photo of a round elliptical galaxy",
    "C": "a photo of a spiral galaxy seen edge-on",
    "D": "a photo of an oval elliptical galaxy",
    "E": "a photo of a disk galaxy with a bright ring",
    "F": "a photo of a spiral galaxy with four arms",
    "G": "a photo of a spiral galaxy with two loosely wound arms",
    "H": "a photo of a tightly wound spiral galaxy",
    "I": "a photo of a spiral galaxy with a small bulge",
    "J": "a photo of a spiral galaxy with a bright round bulge",
    "K": "a photo of an oval elliptical galaxy crossed by a dark dust lane",
    "L": "a photo of a spiral galaxy seen edge-on crossed by a dark dust lane, with a round bulge",
    "M": "a photo of a spiral galaxy with a bright central bar",
    "N": "a photo of a spiral galaxy seen edge-on with a round bulge",
    "O": "a photo of an oval elliptical galaxy merging with a companion",
    "P": "a photo of a spiral galaxy with a small bulge merging with a companion",
}

#: Every word of the web captions and of :data:`TABLE1_WEB_PROMPTS` that the GZ2 vocabulary lacks
#: (the tiny model's tokenizer gives each of them one token).
WEB_WORDS = """
photo image picture telescope astronomy crossed by dark seen almost perfectly giant oval slightly flattened
elongated very lenticular without clumpy small prominent cut band bright merging companion colliding
another looking wound moderately many
""".split()


def subject_key(row) -> str:
    """Which of :data:`SUBJECTS` describes a galaxy (a population row with ``kind``, ``roundness``...)."""
    if row.kind == "elliptical":
        return row.roundness or "in_between"
    if row.kind == "irregular":
        return "irregular"
    if row.edge_on:
        return "edge_on"
    return "spiral" if row.spiral else "disk"


def feature_keys(row) -> list[str]:
    """The :data:`FEATURES` a galaxy carries, dust lane first (it is what the collection is for)."""
    keys = ["dust_lane"] if row.dust_lane else []
    keys += [k for k in ("bar", "ring", "merger", "disturbed", "lens") if getattr(row, k)]
    if row.edge_on and row.bulge_shape in ("boxy", "rounded"):
        keys.append(f"bulge_{row.bulge_shape}")
    return keys


def web_caption(row, rng: np.random.Generator) -> str:
    """One plain-language caption of a galaxy, its phrasing drawn at random.

    Parameters
    ----------
    row : namedtuple or pandas.Series
        A population row (:func:`~galaxysd.gz2.simulate.population.draw_population` columns).
    rng : numpy.random.Generator
        Chooses the opening, the phrasings, and whether minor features are named.

    Returns
    -------
    str
        E.g. ``"a photo of an elliptical galaxy crossed by a dark dust lane"``.

    Examples
    --------
    >>> web_caption(next(pop.itertuples()), np.random.default_rng(0))  # doctest: +SKIP
    """
    subject = str(rng.choice(SUBJECTS[subject_key(row)]))
    subject = subject.format(arms=ARM_WORDS.get(int(row.arms), "two"),
                             winding=WINDING_WORDS.get(row.winding, "moderately wound"))
    words = [str(rng.choice(OPENINGS)) + subject]
    for i, key in enumerate(feature_keys(row)):
        # a dust lane is always named (as a photo of Centaurus A's caption would); other features
        # are named most of the time, as people leave things out
        if i == 0 and key == "dust_lane" or rng.random() < 0.8:
            words.append(str(rng.choice(FEATURES[key])))
    return " ".join(words[:1]) + ("" if len(words) == 1 else " " + ", ".join(words[1:]))


def web_captions(pop: pd.DataFrame, seed: int, per_galaxy: int = 3) -> list[str]:
    """``per_galaxy`` captions of every galaxy, joined by :data:`CAPTION_SEP` (one string a galaxy).

    Parameters
    ----------
    pop : pandas.DataFrame
        The collection's population.
    seed : int
        Seed of the phrasings.
    per_galaxy : int, optional
        Alternative captions per galaxy (duplicates are dropped).

    Returns
    -------
    list of str

    Examples
    --------
    >>> web_captions(draw_web_population(4, seed=0), seed=0)  # doctest: +SKIP
    """
    rng = np.random.default_rng([seed, 31])
    out = []
    for row in pop.itertuples(index=False):
        alternatives = list(dict.fromkeys(web_caption(row, rng) for _ in range(per_galaxy)))
        out.append(CAPTION_SEP.join(alternatives))
    return out
