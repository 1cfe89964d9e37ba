"""Figures and tables of the generation chapter: Figure 3, the brightness comparison, the weight
sweep, and the table of simple image statistics of generated vs real galaxies per prompt."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from galaxysd.errors import DataError
from galaxysd.imstats import STAT_COLUMNS


def real_examples(manifest: pd.DataFrame, tags: Sequence[str], n: int, seed: int) -> pd.DataFrame:
    """Real galaxies that carry all of ``tags``, drawn at random (seeded).

    If no galaxy carries all of them (e.g. early types with a dust lane, which are kept out of
    training), the galaxies carrying the most of them are used instead; the ``exact`` column says
    which case applied.

    Parameters
    ----------
    manifest : pandas.DataFrame
        The training manifest (``objid``, ``image_path``, ``tags`` joined by ``"|"``).
    tags : sequence of str
        Tag phrases, e.g. ``gz2.TABLE1_TAGS["F"]``.
    n : int
        How many to draw (fewer if fewer exist).
    seed : int
        Seed of the draw.

    Returns
    -------
    pandas.DataFrame
        Rows of the manifest plus ``matched`` (number of the tags carried) and ``exact``.

    Raises
    ------
    DataError
        If the manifest is empty.
    """
    if len(manifest) == 0:
        raise DataError("real_examples: the training manifest is empty")
    wanted = set(tags)
    matched = manifest["tags"].map(lambda t: len(wanted & set(str(t).split("|"))))
    best = int(matched.max())
    pool = manifest[matched == best].assign(matched=best, exact=best == len(wanted))
    rng = np.random.default_rng(seed)
    take = rng.permutation(len(pool))[:n]
    return pool.iloc[np.sort(take)].reset_index(drop=True)


def _show(ax, image, title=None, fontsize=7):
    ax.imshow(image)
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)
    if title:
        ax.set_title(title, fontsize=fontsize, pad=2)


def figure3(prompts: Mapping[str, str], real: Mapping[str, np.ndarray | None],
            generated: Mapping[str, Sequence[np.ndarray]], label: str = "", per_row: int = 2):
    """Figure 3: for each prompt, one real galaxy with its tags and the generated ones beside it.

    Parameters
    ----------
    prompts : mapping
        Letter -> prompt (Table 1).
    real : mapping
        Letter -> one real image (or ``None`` when none carries the tags).
    generated : mapping
        Letter -> generated images (the first three are shown).
    label : str, optional
        Profile label, for the title.
    per_row : int, optional
        Prompts per row of the figure.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    letters = list(prompts)
    shown = max(len(generated[k][:3]) for k in letters) if letters else 0
    block = 1 + shown
    rows = int(np.ceil(len(letters) / per_row))
    height = 1.75 * rows + 0.4
    fig, axes = plt.subplots(rows, per_row * block, figsize=(1.45 * per_row * block, height), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for i, letter in enumerate(letters):
        r, c0 = divmod(i, per_row)
        c0 *= block
        ax = axes[r, c0]
        ax.axis("on")
        if real.get(letter) is not None:
            _show(ax, real[letter])
        else:
            _show(ax, np.full((8, 8, 3), 240, np.uint8))
            ax.text(0.5, 0.5, "no real galaxy\ncarries these tags", ha="center", va="center", fontsize=6,
                    transform=ax.transAxes)
        ax.set_title(f"{letter}: {prompts[letter].removeprefix('sdss, ')}", loc="left", fontsize=7, pad=3)
        ax.set_xlabel("real", fontsize=6, labelpad=1)
        for j, image in enumerate(generated[letter][:3]):
            gax = axes[r, c0 + 1 + j]
            gax.axis("on")
            _show(gax, image)
            gax.set_xlabel("generated", fontsize=6, labelpad=1)
    fig.suptitle(f"Galaxies generated from the Table 1 prompts ({label})", fontsize=10, y=1 - 0.08 / height)
    fig.subplots_adjust(wspace=0.06, hspace=0.35, top=1 - 0.45 / height, bottom=0.03, left=0.01, right=0.99)
    return fig


def brightness_figure(values: Mapping[str, Sequence[float]], label: str = ""):
    """Distributions of mean image brightness, one histogram per kind of image (real, txt2img...).

    Parameters
    ----------
    values : mapping
        Name -> mean brightness per image (in [0, 1]).
    label : str, optional
        Profile label, for the title.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.4))
    finite = [np.asarray(v, float) for v in values.values() if len(v)]
    high = max(float(np.nanmax(v)) for v in finite) if finite else 1.0
    bins = np.linspace(0, min(1.0, high * 1.1 + 1e-3), 30)
    for (name, vals), colour in zip(values.items(), ("0.3", "C3", "C0", "C2")):
        vals = np.asarray(vals, float)
        ax.hist(vals, bins=bins, density=True, histtype="step", lw=1.8, color=colour,
                label=f"{name} (median {np.nanmedian(vals):.3f}, n={len(vals)})")
    ax.set_xlabel("mean pixel value of the image (0-1)")
    ax.set_ylabel("density")
    ax.legend(frameon=False, fontsize=8)
    ax.set_title(f"Image brightness: real vs generated ({label})", fontsize=10)
    fig.tight_layout()
    return fig


def sweep_figure(images: Mapping[float, Sequence[np.ndarray]], prompt_of: Mapping[float, str], label: str = ""):
    """The same seeds and references sampled at several weights of one phrase, one row per weight.

    Parameters
    ----------
    images : mapping
        Weight -> generated images (same seeds in every row).
    prompt_of : mapping
        Weight -> the prompt used.
    label : str, optional
        Profile label, for the title.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    weights = list(images)
    n = max(len(v) for v in images.values())
    fig, axes = plt.subplots(len(weights), n, figsize=(1.5 * n + 1.8, 1.6 * len(weights)), squeeze=False)
    for r, weight in enumerate(weights):
        for c in range(n):
            ax = axes[r, c]
            if c < len(images[weight]):
                _show(ax, images[weight][c])
            else:
                ax.axis("off")
        axes[r, 0].set_ylabel(f"weight {weight:g}", fontsize=8)
        axes[r, n - 1].text(1.05, 0.5, prompt_of[weight].removeprefix("sdss, "), transform=axes[r, n - 1].transAxes,
                            fontsize=6.5, va="center")
    fig.suptitle(f"Emphasis sweep: same seeds and references, one phrase weighted ({label})", fontsize=9)
    fig.subplots_adjust(wspace=0.05, hspace=0.08, right=0.8)
    return fig


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


def _stands_out(gen_early: float, gen_late: float, real_early: float, real_late: float) -> str:
    """How far generated spirals stand out from generated early types in one statistic, against real.

    ``"unmeasurable"`` (a value missing), ``"no real difference"`` (real spirals do not stand out),
    ``"as real"`` (at least half the real difference), ``"a little"`` (more than the early types, by
    less than half the real difference) or ``"not at all"``.
    """
    if not all(np.isfinite(v) for v in (gen_early, gen_late, real_early, real_late)):
        return "unmeasurable"
    if real_late <= real_early:
        return "no real difference"
    if gen_late - gen_early >= 0.5 * (real_late - real_early):
        return "as real"
    return "a little" if gen_late > gen_early else "not at all"


def prompt_verdicts(quality: pd.DataFrame, early_colour: float, late_colour: float,
                    early_asymmetry: float = np.nan, late_asymmetry: float = np.nan,
                    real_early_asymmetry: float = np.nan, real_late_asymmetry: float = np.nan,
                    late_axis_ratio: float = np.nan, real_late_axis_ratio: float = np.nan,
                    early_arms: float = np.nan, late_arms: float = np.nan,
                    real_early_arms: float = np.nan, real_late_arms: float = np.nan) -> dict[str, str]:
    """Plain-language verdicts on whether generated galaxies follow the shape, colour and arm words.

    Parameters
    ----------
    quality : pandas.DataFrame
        From :func:`quality_table`, indexed by Table 1 letter.
    early_colour, late_colour : float
        Median colour of the generated early types (B, D) and spirals (F-J).
    early_asymmetry, late_asymmetry : float, optional
        Median mirror asymmetry (:func:`galaxysd.imstats.mirror_asymmetry`) of the generated early
        types and spirals.
    real_early_asymmetry, real_late_asymmetry : float, optional
        The same for real galaxies carrying those prompts' tags: the arms verdict asks the generated
        spirals to stand out from the generated early types by at least half as much as real
        spirals stand out from real early types.
    late_axis_ratio, real_late_axis_ratio : float, optional
        Median axis ratio of the generated and real spirals (F-J): a spiral is a disc seen at a random
        inclination, so a generated set much flatter than the real one is drawn as streaks, not discs.
    early_arms, late_arms, real_early_arms, real_late_arms : float, optional
        Median winding-arm strength (:func:`galaxysd.imstats.spiral_arm_strength`) of the generated and
        real early types and spirals, judged by the same half-the-real-difference rule.

    Returns
    -------
    dict
        ``shape``: whether the median axis ratios fall in the order round (B) > in-between (D) >
        cigar-shaped (A) and edge-on (C); ``colour``: whether early types are redder than spirals;
        ``arms``: whether generated spirals break mirror symmetry as real spirals do (arms wind one
        way); it cannot tell arms from other lopsided light, so it goes with Figure 3; ``discs``:
        whether generated spirals are as round as real ones (within :data:`DISC_TOLERANCE` in median
        axis ratio).

    Examples
    --------
    >>> q = pd.DataFrame({"axis_ratio gen": [0.3, 0.9, 0.25, 0.6]}, index=list("ABCD"))
    >>> prompt_verdicts(q, 0.8, 0.1)["shape"]
    'the order round > in-between > cigar-shaped, edge-on holds'
    >>> prompt_verdicts(q, 0.8, 0.1, 0.04, 0.09, 0.04, 0.10)["asymmetry"][:56]
    'generated spirals break mirror symmetry as much as real '
    >>> prompt_verdicts(q, 0.8, 0.1, early_arms=0.02, late_arms=0.03, real_early_arms=0.02,
    ...                 real_late_arms=0.10)["arms"][:48]
    'generated spirals wind a little: their arm stren'
    """
    q = {k: quality["axis_ratio gen"].get(k, np.nan) for k in "ABCD"}
    if any(not np.isfinite(v) for v in q.values()):
        shape = "not measurable on this run (a prompt is missing or its images have no galaxy)"
    elif q["B"] > q["D"] > max(q["A"], q["C"]):
        shape = "the order round > in-between > cigar-shaped, edge-on holds"
    elif q["B"] > max(q["A"], q["C"]) and q["D"] > max(q["A"], q["C"]):
        shape = "round and in-between galaxies are rounder than cigar-shaped and edge-on ones, but B and D are not in order"
    else:
        shape = "the generated shapes do not yet follow the prompts"
    if not (np.isfinite(early_colour) and np.isfinite(late_colour)):
        colour = "not measurable on this run"
    elif early_colour > late_colour:
        colour = "early types are redder, as they should be"
    else:
        colour = "early types are not redder than spirals"
    asymmetry = {
        "unmeasurable": "not measurable on this run",
        "no real difference": ("not measurable on this run: the real spirals are no more asymmetric than the "
                               "real early types"),
        "as real": ("generated spirals break mirror symmetry as much as real spirals do (winding arms, or "
                    "patchy or lopsided light: the arm strength below tells which)"),
        "a little": ("generated spirals break mirror symmetry a little: more than generated early types, "
                     "but by less than half the real difference"),
        "not at all": "generated spirals are as mirror-symmetric as the early types",
    }[_stands_out(early_asymmetry, late_asymmetry, real_early_asymmetry, real_late_asymmetry)]
    arms = {
        "unmeasurable": "not measurable on this run",
        "no real difference": ("not measurable on this run: the real spirals have no stronger winding arms "
                               "than the real early types"),
        "as real": "generated spirals have winding arms: their arm strength stands out as real spirals' does",
        "a little": ("generated spirals wind a little: their arm strength is above the early types' but by "
                     "less than half the real difference, so their light is patchy rather than wound into arms"),
        "not at all": "generated spirals have no winding arms: their arm strength is no higher than the early types'",
    }[_stands_out(early_arms, late_arms, real_early_arms, real_late_arms)]
    if not (np.isfinite(late_axis_ratio) and np.isfinite(real_late_axis_ratio)):
        discs = "not measurable on this run"
    elif late_axis_ratio >= real_late_axis_ratio - DISC_TOLERANCE:
        discs = "generated spirals are as round as real ones: discs seen at all inclinations"
    else:
        discs = ("generated spirals are flatter than real ones: many are drawn as streaks or S-shapes "
                 "rather than as discs with arms")
    return {"shape": shape, "colour": colour, "asymmetry": asymmetry, "arms": arms, "discs": discs}


def figure3_inputs(manifest: pd.DataFrame, prompts: Mapping[str, str], generated: pd.DataFrame, size: int,
                   seed: int = 0, n_generated: int = 3) -> tuple[dict, dict, list[str]]:
    """The images of Figure 3: per prompt, one real galaxy carrying its tags and the first generated ones.

    Parameters
    ----------
    manifest : pandas.DataFrame
        The training manifest (``objid``, ``image_path``, ``tags``).
    prompts : mapping of str to str
        Table 1 letter to prompt; the letters give the tags (``gz2.TABLE1_TAGS``).
    generated : pandas.DataFrame
        Generated images (``label`` = letter, ``path``), e.g. :func:`galaxysd.diffusion.batch.read_generated`.
    size : int
        Image side in pixels.
    seed : int, optional
        Seed of the real galaxy's draw (:func:`real_examples`).
    n_generated : int, optional
        Generated images per prompt.

    Returns
    -------
    (dict, dict, list of str)
        Letter to real image (``None`` where no galaxy carries all the tags), letter to generated
        images, and the letters without a real example; the first two are :func:`figure3`'s arguments.

    Examples
    --------
    >>> real, gen, missing = figure3_inputs(manifest, {"B": TABLE1_PROMPTS["B"]}, gen_i2i, 64)  # doctest: +SKIP
    """
    from galaxysd import gz2
    from galaxysd.diffusion.sample import load_images

    real_of = {letter: real_examples(manifest, gz2.TABLE1_TAGS[letter], 1, seed) for letter in prompts}
    real = {letter: load_images(frame["image_path"], size)[0] if frame["exact"].all() else None
            for letter, frame in real_of.items()}
    drawn = {letter: load_images(rows["path"].head(n_generated), size)
             for letter, rows in generated.groupby("label", sort=False)}
    return real, drawn, [letter for letter, image in real.items() if image is None]


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
        ``real``, ``text-to-image``, ``image-to-image``: brightness per image (:func:`brightness_figure`'s input).

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


EARLY_LETTERS = ("B", "D")
LATE_LETTERS = ("F", "G", "H", "I", "J")


def measure_prompts(manifest: pd.DataFrame, generated: pd.DataFrame, prompts: Mapping[str, str], n_real: int,
                    size: int, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Image statistics of every generated galaxy and of up to ``n_real`` real ones per prompt.

    Parameters
    ----------
    manifest, generated, prompts, n_real, size, seed
        As for :func:`prompt_following`.

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


def measured_prompts_stage(run_dir: str | os.PathLike, manifest: pd.DataFrame, generated: pd.DataFrame,
                           prompts: Mapping[str, str], n_real: int, size: int, seed: int = 0,
                           inputs: Sequence[str | os.PathLike] = ()) -> tuple[pd.DataFrame, pd.DataFrame]:
    """:func:`measure_prompts` as the cached stage ``03_generate/quality`` of ``run_dir``.

    Measuring a thousand galaxies takes half a minute on 2 cores, which every rebuild of the book
    would otherwise repeat. The stage is recomputed when the parameters, the training manifest, the
    list of generated images, ``inputs`` (the generated images' stage folder, whose content changes
    when the model does) or the measuring code (``imstats.py``, this module) change.

    Parameters
    ----------
    run_dir : str or path-like
        The profile's run folder.
    manifest, generated, prompts, n_real, size, seed
        As for :func:`prompt_following`.
    inputs : sequence of path-like, optional
        Folders or files the generated images come from.

    Returns
    -------
    (pandas.DataFrame, pandas.DataFrame)
        As :func:`measure_prompts`, read back from the stage's ``generated.csv`` and ``real.csv``.
    """
    from galaxysd import cache, imstats

    def frame_digest(frame: pd.DataFrame) -> str:
        return hashlib.sha256(frame.to_csv(index=False).encode()).hexdigest()[:16]

    def compute(out: Path) -> None:
        stats_gen, stats_real = measure_prompts(manifest, generated, prompts, n_real, size, seed)
        stats_gen.to_csv(out / "generated.csv", index=False)
        stats_real.to_csv(out / "real.csv", index=False)

    params = {"prompts": dict(prompts), "n_real": int(n_real), "size": int(size), "seed": int(seed),
              "manifest": frame_digest(manifest[["objid", "image_path", "tags"]]),
              "generated": frame_digest(generated[["path", "label"]])}
    stage = cache.run_stage(run_dir, "03_generate/quality", params, compute,
                            inputs=[*inputs, imstats.__file__, __file__])
    return pd.read_csv(stage.path / "generated.csv"), pd.read_csv(stage.path / "real.csv")


def prompt_following(manifest: pd.DataFrame, generated: pd.DataFrame, prompts: Mapping[str, str], n_real: int,
                     size: int, seed: int = 0, run_dir: str | os.PathLike | None = None,
                     stage_inputs: Sequence[str | os.PathLike] = ()) -> tuple[pd.DataFrame, dict[str, str]]:
    """Do generated galaxies follow their prompts? Image statistics of generated vs real, per prompt.

    Every generated image is measured, and up to ``n_real`` real galaxies carrying all of each
    prompt's tags (prompts without such galaxies get no real column values).

    Parameters
    ----------
    manifest : pandas.DataFrame
        The training manifest.
    generated : pandas.DataFrame
        Generated images (``label`` = Table 1 letter, ``path``).
    prompts : mapping of str to str
        Table 1 letter to prompt.
    n_real : int
        Real galaxies per prompt.
    size : int
        Side in pixels the real images are resized to.
    seed : int, optional
        Seed of the real draw.
    run_dir : str or path-like, optional
        Keep the measurements as the cached stage ``03_generate/quality`` of this run folder
        (:func:`measured_prompts_stage`); ``None`` measures every time.
    stage_inputs : sequence of path-like, optional
        With ``run_dir``: what the generated images come from (their stage folder).

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
    >>> quality, texts = prompt_following(manifest, gen_i2i, {"B": TABLE1_PROMPTS["B"]}, 64, 64)  # doctest: +SKIP
    """
    if run_dir is None:
        stats_gen, stats_real = measure_prompts(manifest, generated, prompts, n_real, size, seed)
    else:
        stats_gen, stats_real = measured_prompts_stage(run_dir, manifest, generated, prompts, n_real, size,
                                                       seed, stage_inputs)
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
    verdicts = prompt_verdicts(quality, early_colour=early, late_colour=late,
                               early_asymmetry=asym["gen_early"], late_asymmetry=asym["gen_late"],
                               real_early_asymmetry=asym["real_early"], real_late_asymmetry=asym["real_late"],
                               late_axis_ratio=late_q["gen"], real_late_axis_ratio=late_q["real"],
                               early_arms=arm["gen_early"], late_arms=arm["gen_late"],
                               real_early_arms=arm["real_early"], real_late_arms=arm["real_late"])
    texts["shape_verdict"] = verdicts["shape"]
    texts["colour_verdict"] = verdicts["colour"]
    texts["asymmetry_verdict"] = verdicts["asymmetry"]
    texts["arms_verdict"] = verdicts["arms"]
    texts["disc_verdict"] = verdicts["discs"]
    return quality, texts
