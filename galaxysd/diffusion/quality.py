"""Do generated galaxies follow their prompts? Image statistics of generated and real galaxies per
prompt, and the verdicts they earn: shapes, colours, mirror asymmetry, winding arms, discs, and the
brightness of text-to-image against image-to-image samples."""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from galaxysd import verdicts
from galaxysd.diffusion.gallery import real_examples
from galaxysd.imstats import STAT_COLUMNS


#: The image statistics of the quality table (all of :data:`galaxysd.imstats.STAT_COLUMNS` but brightness).
QUALITY_STATS = tuple(c for c in STAT_COLUMNS if c != "brightness")


def quality_table(generated: pd.DataFrame, real: pd.DataFrame, prompts: Mapping[str, str]) -> pd.DataFrame:
    """Median image statistics of generated and real galaxies, per prompt.

    Parameters
    ----------
    generated, real : pandas.DataFrame
        One row per image with a ``label`` column (the prompt's letter) and the columns of
        :func:`galaxysd.imstats.image_stats`.
    prompts : mapping
        Letter -> prompt, giving the row order and the prompt text.

    Returns
    -------
    pandas.DataFrame
        Index: letter; columns: prompt, n generated, n real, then ``<stat> gen`` and ``<stat> real``
        for axis ratio, colour, concentration, mirror asymmetry and arm strength (:data:`QUALITY_STATS`).
    """
    rows = []
    for letter, prompt in prompts.items():
        gen = generated[generated["label"] == letter]
        ref = real[real["label"] == letter]
        row = {"prompt": prompt.removeprefix("sdss, "), "n gen": len(gen), "n real": len(ref)}
        for stat in QUALITY_STATS:
            row[f"{stat} gen"] = float(gen[stat].astype(float).median()) if len(gen) else np.nan
            row[f"{stat} real"] = float(ref[stat].astype(float).median()) if len(ref) else np.nan
        rows.append(pd.Series(row, name=letter))
    return pd.DataFrame(rows)


#: How much flatter (in median axis ratio) generated spirals may be than real ones and still count as discs.
DISC_TOLERANCE = 0.15


def _values(stats: pd.DataFrame, letters: Sequence[str], column: str) -> np.ndarray:
    if column not in stats.columns or "label" not in stats.columns:
        return np.zeros(0)
    return stats.loc[stats["label"].isin(list(letters)), column].astype(float).to_numpy()


def _shape_verdict(stats_gen: pd.DataFrame, seed: int) -> str:
    """Axis ratios in the order round (B) > in-between (D) > cigar-shaped (A) and edge-on (C)?"""
    b_d = verdicts.compare(_values(stats_gen, "B", "axis_ratio"), _values(stats_gen, "D", "axis_ratio"), seed=seed)
    d_ac = verdicts.compare(_values(stats_gen, "D", "axis_ratio"), _values(stats_gen, "AC", "axis_ratio"),
                            seed=seed)
    if d_ac.sign() > 0 and b_d.sign() > 0:
        return (f"the order round > in-between > cigar-shaped, edge-on holds (B against D: {b_d.evidence()}; "
                f"D against A and C: {d_ac.evidence()})")
    if d_ac.sign() > 0:
        tail = ("B and D are in the wrong order" if b_d.sign() < 0
                else "there are too few images to tell whether B is rounder than D")
        return (f"in-between galaxies are rounder than cigar-shaped and edge-on ones (D against A and C: "
                f"{d_ac.evidence()}), but {tail} (B against D: {b_d.evidence()})")
    return verdicts.verdict(d_ac, "", "the generated shapes do not follow the prompts: in-between galaxies "
                            "are flatter than cigar-shaped and edge-on ones",
                            "whether generated in-between galaxies (D) are rounder than cigar-shaped (A) "
                            "and edge-on (C) ones")


def _gap_verdict(stats_gen: pd.DataFrame, stats_real: pd.DataFrame, column: str, words: dict, seed: int) -> str:
    """Do generated spirals stand out from generated early types in ``column`` as real spirals do?"""
    real = verdicts.compare(_values(stats_real, LATE_LETTERS, column), _values(stats_real, EARLY_LETTERS, column),
                            seed=seed)
    if real.sign() <= 0:
        return (f"too few images to tell: the real spirals are not measurably {words['more']} than the real "
                f"early types ({real.evidence()})")
    gen = verdicts.compare(_values(stats_gen, LATE_LETTERS, column), _values(stats_gen, EARLY_LETTERS, column),
                           seed=seed)
    half = 0.5 * real.difference
    if gen.sign() > 0 and gen.low >= half:
        return f"{words['as real']} ({gen.evidence()}; real: {real.evidence()})"
    if gen.sign() > 0 and gen.high < half:
        return f"{words['a little']} ({gen.evidence()}; real: {real.evidence()})"
    if gen.sign() > 0:
        return (f"{words['some']}, but too few images to tell whether by as much as real spirals "
                f"({gen.evidence()}; real: {real.evidence()})")
    return verdicts.verdict(gen, "", words["less"], f"whether generated spirals are {words['more']} than the "
                            f"generated early types")


ASYMMETRY_WORDS = {
    "more": "more asymmetric",
    "as real": ("generated spirals break mirror symmetry as much as real spirals do (winding arms, or patchy "
                "or lopsided light: the arm strength tells which)"),
    "a little": ("generated spirals break mirror symmetry a little: more than generated early types, but by "
                 "less than half the real difference"),
    "some": "generated spirals break mirror symmetry more than generated early types",
    "less": "generated spirals are more mirror-symmetric than the generated early types",
}


ARMS_WORDS = {
    "more": "more strongly wound into arms",
    "as real": "generated spirals have winding arms: their arm strength stands out as real spirals' does",
    "a little": ("generated spirals wind a little: their arm strength is above the early types' but by less "
                 "than half the real difference, so their light is patchy rather than wound into arms"),
    "some": "generated spirals have stronger winding arms than generated early types",
    "less": "generated spirals have weaker winding arms than the generated early types",
}


def prompt_verdicts(stats_gen: pd.DataFrame, stats_real: pd.DataFrame, seed: int = 0) -> dict[str, str]:
    """Plain-language verdicts on whether generated galaxies follow the shape, colour and arm words.

    Every verdict is earned by the images measured (:mod:`galaxysd.verdicts`): it is stated only when
    a Mann-Whitney test over the images shows it (p < :data:`galaxysd.verdicts.ALPHA`), with the
    bootstrap interval of the difference of medians beside it; otherwise it says "too few images to
    tell".

    Parameters
    ----------
    stats_gen, stats_real : pandas.DataFrame
        Image statistics (:func:`galaxysd.imstats.image_stats`) of the generated and real galaxies,
        with ``label`` (the Table 1 letter), as :func:`measure_prompts` returns them.
    seed : int, optional
        Seed of the bootstrap intervals.

    Returns
    -------
    dict
        ``shape``: whether the axis ratios fall in the order round (B) > in-between (D) > cigar-shaped
        (A) and edge-on (C); ``colour``: whether generated early types (B, D) are redder than
        generated spirals (F-J); ``asymmetry`` and ``arms``: whether generated spirals stand out from
        generated early types in mirror asymmetry and in winding-arm strength by at least half as
        much as real spirals stand out from real early types (the asymmetry cannot tell arms from
        other lopsided light, the arm strength can); ``discs``: whether generated spirals are as round
        as real ones in axis ratio (a disc is seen at random inclinations): the interval of the
        difference of medians must lie within :data:`DISC_TOLERANCE` of zero for "as round", and
        beyond it for "flatter" or "rounder".

    Examples
    --------
    >>> noise = pd.DataFrame({"label": list("BDFGH") * 2, "colour": np.linspace(0, 1, 10)})
    >>> prompt_verdicts(noise, noise)["colour"][:22]
    'too few images to tell'
    """
    colour = verdicts.verdict(
        verdicts.compare(_values(stats_gen, EARLY_LETTERS, "colour"), _values(stats_gen, LATE_LETTERS, "colour"),
                         seed=seed),
        "early types are redder than spirals, as they should be",
        "early types are bluer than spirals, the wrong way round",
        "whether generated early types are redder than generated spirals")
    discs_diff = verdicts.compare(_values(stats_gen, LATE_LETTERS, "axis_ratio"),
                                  _values(stats_real, LATE_LETTERS, "axis_ratio"), seed=seed)
    if discs_diff.enough and -DISC_TOLERANCE <= discs_diff.low and discs_diff.high <= DISC_TOLERANCE:
        discs = f"generated spirals are as round as real ones: discs seen at all inclinations ({discs_diff.evidence()})"
    elif discs_diff.enough and discs_diff.high < -DISC_TOLERANCE:
        discs = ("generated spirals are flatter than real ones: many are drawn as streaks or S-shapes rather "
                 f"than as discs with arms ({discs_diff.evidence()})")
    elif discs_diff.enough and discs_diff.low > DISC_TOLERANCE:
        discs = ("generated spirals are rounder than real ones: face-on blobs rather than discs seen at all "
                 f"inclinations ({discs_diff.evidence()})")
    elif discs_diff.sign():
        discs = (f"generated spirals are {'rounder' if discs_diff.sign() > 0 else 'flatter'} than real ones, by "
                 f"about the tolerance of {DISC_TOLERANCE:g} in axis ratio: too few images to tell whether they "
                 f"are still discs seen at all inclinations ({discs_diff.evidence()})")
    else:
        discs = (f"too few images to tell whether generated spirals are as round as real ones "
                 f"({discs_diff.evidence()})")
    return {"shape": _shape_verdict(stats_gen, seed), "colour": colour,
            "asymmetry": _gap_verdict(stats_gen, stats_real, "mirror_asymmetry", ASYMMETRY_WORDS, seed),
            "arms": _gap_verdict(stats_gen, stats_real, "arm_strength", ARMS_WORDS, seed),
            "discs": discs}


def brightness_samples(manifest: pd.DataFrame, txt2img: pd.DataFrame, img2img: pd.DataFrame, size: int,
                       seed: int = 0) -> dict[str, pd.Series]:
    """Mean pixel values of real galaxies and of text-to-image and image-to-image samples.

    Parameters
    ----------
    manifest : pandas.DataFrame
        The training manifest; as many real galaxies as there are image-to-image samples are drawn.
    txt2img, img2img : pandas.DataFrame
        Generated images (``path``).
    size : int
        Side in pixels the real images are resized to.
    seed : int, optional
        Seed of the real draw.

    Returns
    -------
    dict
        ``real``, ``text-to-image``, ``image-to-image``: brightness per image (the input of
        :func:`galaxysd.diffusion.gallery.brightness_figure`).

    Examples
    --------
    >>> brightness = brightness_samples(manifest, gen_t2i, gen_i2i, 64)  # doctest: +SKIP
    """
    from galaxysd import imstats
    from galaxysd.diffusion.sample import load_images

    real = manifest.sample(n=min(len(manifest), len(img2img)), random_state=seed)
    return {"real": imstats.image_stats(load_images(real["image_path"], size))["brightness"],
            "text-to-image": imstats.read_image_stats(txt2img["path"])["brightness"],
            "image-to-image": imstats.read_image_stats(img2img["path"])["brightness"]}


def brightness_verdict(values: Mapping[str, Sequence[float]], seed: int = 0) -> str:
    """Are text-to-image samples brighter than image-to-image ones and than real galaxies (the paper's finding)?

    Parameters
    ----------
    values : mapping
        :func:`brightness_samples`: ``real``, ``text-to-image`` and ``image-to-image`` brightness per image.
    seed : int, optional
        Seed of the bootstrap intervals.

    Returns
    -------
    str
        Two verdicts (:func:`galaxysd.verdicts.verdict`), against image-to-image and against real.

    Examples
    --------
    >>> brightness_verdict({"real": [0.1] * 3, "text-to-image": [0.3] * 3, "image-to-image": [0.1] * 3})[:22]
    'too few images to tell'
    """
    t2i = values["text-to-image"]
    against = []
    for other in ("image-to-image", "real"):
        against.append(verdicts.verdict(
            verdicts.compare(t2i, values[other], seed=seed),
            f"text-to-image samples are brighter than {other} ones, as the paper found",
            f"text-to-image samples are darker than {other} ones, unlike the paper's",
            f"whether text-to-image samples are brighter than {other} ones"))
    return "; ".join(against)


EARLY_LETTERS = ("B", "D")


LATE_LETTERS = ("F", "G", "H", "I", "J")


def measure_prompts(manifest: pd.DataFrame, generated: pd.DataFrame, prompts: Mapping[str, str], n_real: int,
                    size: int, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Image statistics of every generated galaxy and of up to ``n_real`` real ones per prompt.

    Parameters
    ----------
    manifest : pandas.DataFrame
        The training manifest (``objid``, ``image_path``, ``tags``).
    generated : pandas.DataFrame
        Generated images (``label`` = Table 1 letter, ``path``).
    prompts : mapping of str to str
        Table 1 letter to prompt.
    n_real : int
        Real galaxies per prompt.
    size : int
        Side in pixels the real images are resized to.
    seed : int, optional
        Seed of the real draw (:func:`galaxysd.diffusion.gallery.real_examples`).

    Returns
    -------
    (pandas.DataFrame, pandas.DataFrame)
        :func:`galaxysd.imstats.image_stats` plus ``label`` (the Table 1 letter), of the generated and
        of the real galaxies. Prompts without a real galaxy carrying all of their tags have no real rows.
    """
    from galaxysd import gz2, imstats
    from galaxysd.diffusion.sample import load_images

    stats_gen = pd.concat([imstats.read_image_stats(generated["path"]),
                           generated[["label"]].reset_index(drop=True)], axis=1)
    real_rows = []
    for letter in prompts:
        frame = real_examples(manifest, gz2.TABLE1_TAGS[letter], n_real, seed)
        if frame["exact"].all():
            real_rows.append(imstats.image_stats(load_images(frame["image_path"], size)).assign(label=letter))
    stats_real = (pd.concat(real_rows, ignore_index=True) if real_rows
                  else pd.DataFrame(columns=[*STAT_COLUMNS, "label"]))
    return stats_gen, stats_real


def prompt_following_report(stats_gen: pd.DataFrame, stats_real: pd.DataFrame, prompts: Mapping[str, str],
                            seed: int = 0) -> tuple[pd.DataFrame, dict[str, str]]:
    """The table and the texts of the prose on whether generated galaxies follow their prompts.

    Parameters
    ----------
    stats_gen, stats_real : pandas.DataFrame
        :func:`measure_prompts` of the generated and of the real galaxies.
    prompts : mapping of str to str
        Table 1 letter to prompt.
    seed : int, optional
        Seed of the bootstrap intervals of the verdicts.

    Returns
    -------
    (pandas.DataFrame, dict of str to str)
        :func:`quality_table`, and texts for the prose: ``q_A`` ... ``q_D`` and ``q_A_real`` ...
        ``q_D_real`` (median axis ratios), ``colour_early``/``colour_late`` (median colour of the
        generated B, D and F-J), ``asymmetry_gen_early``, ``asymmetry_gen_late``,
        ``asymmetry_real_early``, ``asymmetry_real_late`` (median mirror asymmetry of generated and
        real B, D and F-J), ``arms_gen_early`` ... ``arms_real_late`` (the same for the winding-arm
        strength), ``q_late`` and ``q_late_real`` (median axis ratio of generated and real
        F-J), ``shape_verdict``, ``colour_verdict``, ``asymmetry_verdict``, ``arms_verdict`` and
        ``disc_verdict``
        (:func:`prompt_verdicts`).

    Examples
    --------
    >>> table, texts = prompt_following_report(*measure_prompts(manifest, gen, prompts, 8, 64), prompts)  # doctest: +SKIP
    """
    quality = quality_table(stats_gen, stats_real, prompts)
    def median(stats: pd.DataFrame, letters: Sequence[str], column: str) -> float:
        return float(stats[stats["label"].isin(letters)][column].astype(float).median())

    early, late = median(stats_gen, EARLY_LETTERS, "colour"), median(stats_gen, LATE_LETTERS, "colour")
    asym, arm = ({f"{who}_{kind}": median(stats, letters, column)
                  for who, stats in (("gen", stats_gen), ("real", stats_real))
                  for kind, letters in (("early", EARLY_LETTERS), ("late", LATE_LETTERS))}
                 for column in ("mirror_asymmetry", "arm_strength"))
    late_q = {who: median(stats, LATE_LETTERS, "axis_ratio")
              for who, stats in (("gen", stats_gen), ("real", stats_real))}
    texts = {"q_late": f"{late_q['gen']:.2f}", "q_late_real": f"{late_q['real']:.2f}"}
    for letter in "ABCD":
        row = quality.loc[letter] if letter in quality.index else {}
        texts[f"q_{letter}"] = f"{row.get('axis_ratio gen', float('nan')):.2f}"
        texts[f"q_{letter}_real"] = f"{row.get('axis_ratio real', float('nan')):.2f}"
    texts["colour_early"] = f"{early:.2f}"
    texts["colour_late"] = f"{late:.2f}"
    for name, value in asym.items():
        texts[f"asymmetry_{name}"] = f"{value:.3f}"
    for name, value in arm.items():
        texts[f"arms_{name}"] = f"{value:.3f}"
    said = prompt_verdicts(stats_gen, stats_real, seed)
    texts["shape_verdict"] = said["shape"]
    texts["colour_verdict"] = said["colour"]
    texts["asymmetry_verdict"] = said["asymmetry"]
    texts["arms_verdict"] = said["arms"]
    texts["disc_verdict"] = said["discs"]
    return quality, texts
