"""Tag phrases and captions: the words the diffusion model learns morphology from.

Each confident GZ2 answer becomes one *tag phrase*; a galaxy's caption is ``"sdss, "`` followed by its
tags in canonical order (task number, then answer order), joined by ``", "``, e.g.
``"sdss, spiral galaxy, tightly wound spiral arms, 2 spiral arms"``.

The vocabulary
--------------
The phrases are chosen so that every Table 1 prompt (:mod:`galaxysd.gz2.prompts`) is written with words
the model saw in training captions:

============================  =====================================================
answer                        tag phrase
============================  =====================================================
t01 smooth                    ``smooth``
t02 edge-on yes               ``edge-on galaxy``
t03 bar                       ``bar-shaped structure in the center of galaxy``
t04 spiral                    ``spiral galaxy``
t05 no / just noticeable /    ``no central bulge`` / ``just noticeable central bulge prominence`` /
obvious / dominant            ``obvious central bulge prominence`` / ``dominant central bulge prominence``
t07 round / between / cigar   ``completely round galaxy`` / ``in-between round galaxy`` / ``cigar-shaped galaxy``
t08 odd features              ``ring``, ``lens or arc``, ``disturbed``, ``irregular``, ``other odd feature``,
                              ``merger``, ``dust lane``
t09 bulge shape               ``with rounded edge-on bulge`` / ``with boxy edge-on bulge`` / ``with no edge-on bulge``
t10 winding                   ``tightly wound spiral arms`` / ``medium wound spiral arms`` / ``loosely wound spiral arms``
t11 arm number                ``1 spiral arm``, ``2 spiral arms``, ``3 spiral arms``, ``4 spiral arms``,
                              ``more than 4 spiral arms``, ``can't tell spiral arm number``
============================  =====================================================

No tag: "star or artifact" and "something odd" (dropped as uninformative, as in the paper), "features
or disk" (implied by every deeper tag; the authors' captions omit it), and the negative answers
("not edge-on", "no bar", "no spiral", "nothing odd"), which describe an absence.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterable, Sequence

import numpy as np

from galaxysd.errors import PromptError
from galaxysd.gz2.schema import ANSWERS

if TYPE_CHECKING:  # pandas is imported where it is used, to keep `import galaxysd.gz2` light
    import pandas as pd

#: Caption prefix the authors used for every SDSS image.
CAPTION_PREFIX = "sdss, "
#: The caption of a galaxy without tags: the prefix alone, without its separator (the one form used
#: everywhere: :func:`caption`, :func:`caption_from_tags` and the labelled catalogue).
EMPTY_CAPTION = CAPTION_PREFIX.rstrip(", ")
#: Separator of tags in the manifest's ``tags`` column.
TAG_SEPARATOR = "|"

#: Tag phrase per answer column stem; answers absent from this dict never become tags.
TAG_PHRASES: dict[str, str] = {
    "t01_smooth_or_features_a01_smooth": "smooth",
    "t02_edgeon_a04_yes": "edge-on galaxy",
    "t03_bar_a06_bar": "bar-shaped structure in the center of galaxy",
    "t04_spiral_a08_spiral": "spiral galaxy",
    "t05_bulge_prominence_a10_no_bulge": "no central bulge",
    "t05_bulge_prominence_a11_just_noticeable": "just noticeable central bulge prominence",
    "t05_bulge_prominence_a12_obvious": "obvious central bulge prominence",
    "t05_bulge_prominence_a13_dominant": "dominant central bulge prominence",
    "t07_rounded_a16_completely_round": "completely round galaxy",
    "t07_rounded_a17_in_between": "in-between round galaxy",
    "t07_rounded_a18_cigar_shaped": "cigar-shaped galaxy",
    "t08_odd_feature_a19_ring": "ring",
    "t08_odd_feature_a20_lens_or_arc": "lens or arc",
    "t08_odd_feature_a21_disturbed": "disturbed",
    "t08_odd_feature_a22_irregular": "irregular",
    "t08_odd_feature_a23_other": "other odd feature",
    "t08_odd_feature_a24_merger": "merger",
    "t08_odd_feature_a38_dust_lane": "dust lane",
    "t09_bulge_shape_a25_rounded": "with rounded edge-on bulge",
    "t09_bulge_shape_a26_boxy": "with boxy edge-on bulge",
    "t09_bulge_shape_a27_no_bulge": "with no edge-on bulge",
    "t10_arms_winding_a28_tight": "tightly wound spiral arms",
    "t10_arms_winding_a29_medium": "medium wound spiral arms",
    "t10_arms_winding_a30_loose": "loosely wound spiral arms",
    "t11_arms_number_a31_1": "1 spiral arm",
    "t11_arms_number_a32_2": "2 spiral arms",
    "t11_arms_number_a33_3": "3 spiral arms",
    "t11_arms_number_a34_4": "4 spiral arms",
    "t11_arms_number_a36_more_than_4": "more than 4 spiral arms",
    "t11_arms_number_a37_cant_tell": "can't tell spiral arm number",
}

#: Answers that are never tags because the paper drops them as uninformative.
DROPPED_ANSWERS = ("t01_smooth_or_features_a03_star_or_artifact", "t06_odd_a14_yes")

#: All tag phrases in canonical (file) order; a caption lists its tags in this order.
TAG_ORDER: tuple[str, ...] = tuple(TAG_PHRASES[a.column] for a in ANSWERS if a.column in TAG_PHRASES)
_RANK = {tag: i for i, tag in enumerate(TAG_ORDER)}

#: Tags that mark an early-type (elliptical) galaxy, for the D-ETG exclusion.
EARLY_TYPE_TAGS = ("completely round galaxy", "in-between round galaxy")
#: Primary tags: the categories of Figure 2 (no bulge prominence, arm number or winding).
PRIMARY_TAGS = ("smooth", "completely round galaxy", "in-between round galaxy", "cigar-shaped galaxy",
                "edge-on galaxy", "spiral galaxy", "bar-shaped structure in the center of galaxy",
                "ring", "merger", "disturbed", "irregular", "lens or arc", "dust lane")
#: A short name per primary tag for figure axes.
SHORT_NAMES = {"smooth": "smooth", "completely round galaxy": "completely round",
               "in-between round galaxy": "in-between round", "cigar-shaped galaxy": "cigar-shaped",
               "edge-on galaxy": "edge-on", "spiral galaxy": "spiral",
               "bar-shaped structure in the center of galaxy": "bar", "ring": "ring", "merger": "merger",
               "disturbed": "disturbed", "irregular": "irregular", "lens or arc": "lens or arc",
               "dust lane": "dust lane"}


def sort_tags(tags: Iterable[str]) -> list[str]:
    """Order tags canonically (task number, then answer order); unknown tags raise.

    Raises
    ------
    PromptError
        If a tag is not in :data:`TAG_ORDER`.
    """
    tags = list(dict.fromkeys(tags))
    unknown = [t for t in tags if t not in _RANK]
    if unknown:
        raise PromptError(f"unknown tag(s) {unknown}; tags must be phrases of galaxysd.gz2.TAG_ORDER")
    return sorted(tags, key=_RANK.__getitem__)


def caption(tags: Sequence[str]) -> str:
    """The full caption of a tag list: ``"sdss, "`` + tags in canonical order joined by ``", "``.

    A galaxy without tags gets :data:`EMPTY_CAPTION` (``"sdss"``).

    Examples
    --------
    >>> caption(["2 spiral arms", "spiral galaxy"])
    'sdss, spiral galaxy, 2 spiral arms'
    """
    tags = sort_tags(tags)
    return CAPTION_PREFIX + ", ".join(tags) if tags else EMPTY_CAPTION


def split_tags(tags: str) -> list[str]:
    """Split a manifest ``tags`` cell (``"spiral galaxy|2 spiral arms"``) into a list."""
    if not isinstance(tags, str) or not tags:
        return []
    return tags.split(TAG_SEPARATOR)


def caption_from_tags(tags: Sequence[str] | str, rng: np.random.Generator, keep_prob: float = 0.7) -> str:
    """A training caption: the tags randomly subsampled and shuffled, after ``"sdss, "``.

    The paper subsamples and shuffles a galaxy's tags every time its caption is used, so the model
    learns each phrase on its own as well as in combination.

    Parameters
    ----------
    tags : sequence of str, or str
        The galaxy's tags (a list, or a manifest cell joined by ``"|"``).
    rng : numpy.random.Generator
        Source of randomness (seeded by the caller).
    keep_prob : float, optional
        Probability of keeping each tag; at least one tag is always kept.

    Returns
    -------
    str
        E.g. ``"sdss, 2 spiral arms, spiral galaxy"``; :data:`EMPTY_CAPTION` (``"sdss"``) if ``tags``
        is empty.

    Raises
    ------
    PromptError
        If ``keep_prob`` is not in (0, 1].

    Examples
    --------
    >>> caption_from_tags("spiral galaxy|2 spiral arms", np.random.default_rng(0))  # doctest: +SKIP
    'sdss, 2 spiral arms, spiral galaxy'
    """
    if not 0.0 < keep_prob <= 1.0:
        raise PromptError(f"keep_prob must be in (0, 1], got {keep_prob}")
    if isinstance(tags, str):
        tags = split_tags(tags)
    tags = list(tags)
    if not tags:
        return EMPTY_CAPTION
    keep = rng.random(len(tags)) < keep_prob
    if not keep.any():
        keep[rng.integers(len(tags))] = True
    chosen = [t for t, k in zip(tags, keep) if k]
    order = rng.permutation(len(chosen))
    return CAPTION_PREFIX + ", ".join(chosen[i] for i in order)


def caption_examples(manifest: "pd.DataFrame", seed: int = 0, keep_prob: float = 0.7, n: int = 4) -> "pd.DataFrame":
    """One galaxy of a training manifest, drawn at random, and ``n`` captions drawn from its tags.

    Parameters
    ----------
    manifest : pandas.DataFrame
        A training manifest (``tags`` joined by ``"|"``).
    seed : int, optional
        Seed of the galaxy's draw and of the captions.
    keep_prob : float, optional
        Probability of keeping each tag (:func:`caption_from_tags`).
    n : int, optional
        Captions to draw.

    Returns
    -------
    pandas.DataFrame
        ``n`` rows: ``tags of one galaxy`` (in the first row) and ``captions drawn from them``.

    Examples
    --------
    >>> caption_examples(manifest, seed=0)  # doctest: +SKIP
    """
    import pandas as pd

    rng = np.random.default_rng(seed)
    tags = manifest.iloc[int(rng.integers(len(manifest)))]["tags"]
    captions = [caption_from_tags(tags, rng, keep_prob=keep_prob) for _ in range(n)]
    return pd.DataFrame({"tags of one galaxy": [", ".join(split_tags(tags))] + [""] * (n - 1),
                         "captions drawn from them": captions})


def vocabulary_table() -> "pd.DataFrame":
    """Every GZ2 answer and the tag phrase it becomes (empty where it is never a tag), for the book."""
    import pandas as pd

    from galaxysd.gz2.schema import TASK_BY_STEM
    rows = []
    for a in ANSWERS:
        t = TASK_BY_STEM[a.task]
        phrase = TAG_PHRASES.get(a.column, "")
        why = "" if phrase else ("dropped as uninformative" if a.column in DROPPED_ANSWERS else
                                 "implied by deeper tags" if a.column.endswith("features_or_disk") else
                                 "an absence, not a feature")
        rows.append({"task": f"T{t.number:02d} {t.short}", "answer": a.label, "tag phrase": phrase,
                     "why no tag": why})
    return pd.DataFrame(rows)
