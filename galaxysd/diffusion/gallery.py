"""Figures of the generation chapter: Figure 3 (real and generated galaxies per prompt), the
brightness comparison and the weight sweep, with the images they show. The measurements of how well
generated galaxies follow their prompts are :mod:`galaxysd.diffusion.quality`."""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from galaxysd import plots  # noqa: F401 (importing it applies the book's style)
from galaxysd.errors import DataError


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


def _show(ax, image, title=None, fontsize="small"):
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
            ax.text(0.5, 0.5, "no real galaxy\ncarries these tags", ha="center", va="center",
                    fontsize="x-small", transform=ax.transAxes)
        ax.set_title(f"{letter}: {prompts[letter].removeprefix('sdss, ')}", loc="left", fontsize="small",
                     pad=3)
        ax.set_xlabel("real", fontsize="x-small", labelpad=1)
        for j, image in enumerate(generated[letter][:3]):
            gax = axes[r, c0 + 1 + j]
            gax.axis("on")
            _show(gax, image)
            gax.set_xlabel("generated", fontsize="x-small", labelpad=1)
    fig.suptitle(f"Galaxies generated from the Table 1 prompts ({label})", y=1 - 0.08 / height)
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
    ax.legend()
    ax.set_title(f"Image brightness: real vs generated ({label})")
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
        axes[r, 0].set_ylabel(f"weight {weight:g}", fontsize="small")
        axes[r, n - 1].text(1.05, 0.5, prompt_of[weight].removeprefix("sdss, "), transform=axes[r, n - 1].transAxes,
                            fontsize="x-small", va="center")
    fig.suptitle(f"Emphasis sweep: same seeds and references, one phrase weighted ({label})",
                 fontsize="medium")
    fig.subplots_adjust(wspace=0.05, hspace=0.08, right=0.8)
    return fig


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


