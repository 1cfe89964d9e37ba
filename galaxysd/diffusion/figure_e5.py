"""Figure E5's counterpart: real galaxies, the base model before fine-tuning and the fine-tuned model.

The paper's Figure E5 sets SDSS galaxies beside its fine-tuned model's and GPT-4o's, to show what
fine-tuning teaches a model that already knows how to draw. Here the middle column is the base model
the fine-tuning started from (Stable Diffusion v1.5 on the paper profile, the tiny model pre-trained on
the simulated web collection on the demo), prompted in the plain wording it learnt
(:data:`~galaxysd.gz2.simulate.web_captions.TABLE1_WEB_PROMPTS`); the right column is the fine-tuned
model, prompted with Table 1's GZ2 wording. The images come from
:func:`galaxysd.stages.s02_pretrain.figure_e5_images`.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np

from galaxysd import plots  # noqa: F401 (importing it applies the book's style)

#: Column titles of the figure's three blocks.
COLUMNS = {"real": "real (training set)", "base": "base model, before fine-tuning", "tuned": "fine-tuned model"}


def figure_e5(images: Mapping[str, Mapping[str, np.ndarray]], prompts: Mapping[str, str],
              base_prompts: Mapping[str, str], label: str = "", per_block: int = 2):
    """Draw Figure E5's counterpart: one row per prompt, blocks of real, base-model and fine-tuned images.

    Parameters
    ----------
    images : mapping
        ``"real"``, ``"base"``, ``"tuned"`` -> letter -> uint8 images (k, H, W, 3).
    prompts : mapping
        Letter -> Table 1 prompt (the fine-tuned model's).
    base_prompts : mapping
        Letter -> the base model's wording of it.
    label : str, optional
        Profile label, for the title.
    per_block : int, optional
        Images shown per block and row.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> fig = figure_e5(images, {"K": TABLE1_PROMPTS["K"]}, {"K": TABLE1_WEB_PROMPTS["K"]}, "demo")  # doctest: +SKIP
    """
    import textwrap

    import matplotlib.pyplot as plt

    letters = list(prompts)
    cols = 3 * per_block
    height = 1.0 * len(letters) + 0.8
    fig, axes = plt.subplots(len(letters), cols + 1, figsize=(0.95 * cols + 3.6, height), squeeze=False,
                             gridspec_kw={"width_ratios": [1] * cols + [3.4]})
    for r, letter in enumerate(letters):
        for b, column in enumerate(COLUMNS):
            shown = images[column].get(letter, np.zeros((0, 1, 1, 3), np.uint8))
            for j in range(per_block):
                ax = axes[r, b * per_block + j]
                ax.set_xticks([])
                ax.set_yticks([])
                for spine in ax.spines.values():
                    spine.set_visible(False)
                if j < len(shown):
                    ax.imshow(shown[j])
                if r == 0 and j == 0:
                    ax.set_title("\n".join(textwrap.wrap(COLUMNS[column], 14 * per_block)), loc="left",
                                 fontsize="x-small", pad=4)
        axes[r, 0].set_ylabel(letter, rotation=0, labelpad=8, va="center")
        text = axes[r, cols]
        text.axis("off")
        wording = (f"fine-tuned: {prompts[letter].removeprefix('sdss, ')}\n"
                   f"base: {chr(10).join(textwrap.wrap(base_prompts[letter], 48))}")
        text.text(0.02, 0.5, wording, fontsize="xx-small", va="center", ha="left", transform=text.transAxes)
    fig.suptitle(f"Real galaxies, the base model and the fine-tuned model ({label})", y=1 - 0.08 / height)
    fig.subplots_adjust(wspace=0.05, hspace=0.12, top=1 - 0.6 / height, bottom=0.1 / height, left=0.04,
                        right=0.99)
    return fig


def web_collection_figure(images: np.ndarray, captions, label: str = "", per_row: int = 4, note: str = ""):
    """Pictures of the simulated web collection with one of their captions each.

    Parameters
    ----------
    images : numpy.ndarray
        uint8 pictures (n, H, W, 3).
    captions : sequence of str
        One caption a picture.
    label : str, optional
        Profile label, for the title.
    per_row : int, optional
    note : str, optional
        Shown instead when there are no pictures (a run without pre-training: why there are none).

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> fig = web_collection_figure(images, manifest["caption"].str.split("|").str[0], "demo")  # doctest: +SKIP
    """
    import textwrap

    import matplotlib.pyplot as plt

    if len(images) == 0:
        fig, ax = plt.subplots(figsize=(6, 1.2))
        ax.axis("off")
        ax.text(0.5, 0.5, "\n".join(textwrap.wrap(note or "no web collection", 80)), ha="center", va="center",
                fontsize="small", transform=ax.transAxes)
        fig.suptitle(f"No simulated web collection ({label})")
        return fig
    rows = int(np.ceil(len(images) / per_row))
    height = 2.1 * rows + 0.4
    fig, axes = plt.subplots(rows, per_row, figsize=(2.0 * per_row, height), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, image, caption in zip(axes.flat, images, captions):
        ax.imshow(image)
        ax.set_title("\n".join(textwrap.wrap(caption, 30)), fontsize="xx-small", pad=2)
    fig.suptitle(f"The simulated web collection the base model is pre-trained on ({label})", y=1 - 0.08 / height)
    fig.subplots_adjust(wspace=0.08, hspace=0.5, top=1 - 0.5 / height, bottom=0.02, left=0.01, right=0.99)
    return fig


def prompt_response(images: Mapping[str, np.ndarray], confidence: float = 0.68, n_resamples: int = 1000,
                    seed: int = 0) -> dict:
    """How much a column's images change when only the prompt changes, in units of a new noise seed.

    Figure E5's two models draw every prompt from the same noise seeds, so image ``i`` of prompt A and
    image ``i`` of prompt B differ only by what the prompt did. This is the mean RMS pixel difference
    between such pairs (different prompts, same seed) divided by the mean RMS difference between
    images of one prompt from different seeds. A model that ignores its prompt draws the same galaxy
    for every prompt: about 0. A model whose prompt matters as much as its noise: about 1. For real
    galaxies (no seeds) the pairs are simply the ``i``-th example of each prompt: how different the
    prompts' galaxies are, beside how different two galaxies of one prompt are (about 1 when the
    differences between prompts are no larger than those within one).

    The interval resamples prompts (a percentile bootstrap over letters).

    Parameters
    ----------
    images : mapping
        Letter -> images (k, H, W, 3), uint8 or float; letters with fewer than two images are left out.
    confidence : float, optional
    n_resamples : int, optional
    seed : int, optional

    Returns
    -------
    dict
        ``ratio``, ``low``, ``high``, ``between`` and ``within`` (mean RMS differences on a 0-1 scale),
        ``n_prompts``, ``n_images`` (per prompt). ``ratio`` is NaN with fewer than two usable prompts.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> noise = rng.random((2, 8, 8, 3))
    >>> round(prompt_response({"A": noise, "B": noise})["ratio"], 3)  # the prompt changes nothing
    0.0
    """
    usable = {k: np.asarray(v, dtype=float) / (255.0 if np.asarray(v).dtype == np.uint8 else 1.0)
              for k, v in images.items() if len(v) >= 2}
    letters = list(usable)
    n = min((len(v) for v in usable.values()), default=0)
    empty = {"ratio": float("nan"), "low": float("nan"), "high": float("nan"), "between": float("nan"),
             "within": float("nan"), "n_prompts": len(letters), "n_images": n}
    if len(letters) < 2:
        return empty
    stack = np.stack([usable[k][:n] for k in letters])  # (prompts, images, H, W, 3)
    flat = stack.reshape(len(letters), n, -1)

    def rms(a, b):
        return np.sqrt(((a - b) ** 2).mean(axis=-1))

    # per prompt: its mean difference to every other prompt's image of the same seed, and within itself
    between = np.array([[rms(flat[a], flat[b]).mean() for b in range(len(letters))] for a in range(len(letters))])
    pairs = [(i, j) for i in range(n) for j in range(i + 1, n)]
    within = np.array([np.mean([rms(flat[a, i], flat[a, j]) for i, j in pairs]) for a in range(len(letters))])

    def ratio(rows):
        block = between[np.ix_(rows, rows)]
        off = ~np.eye(len(rows), dtype=bool)
        same = np.equal.outer(rows, rows)  # a letter drawn twice is not "another prompt"
        b = block[off & ~same].mean() if (off & ~same).any() else np.nan
        return b / within[rows].mean()

    everything = np.arange(len(letters))
    rng = np.random.default_rng([seed, 31])
    draws = np.array([ratio(rng.choice(everything, len(letters))) for _ in range(n_resamples)])
    tail = 100 * (1 - confidence) / 2
    low, high = np.nanpercentile(draws, [tail, 100 - tail])
    off = ~np.eye(len(letters), dtype=bool)
    return {"ratio": float(ratio(everything)), "low": float(low), "high": float(high),
            "between": float(between[off].mean()), "within": float(within.mean()),
            "n_prompts": len(letters), "n_images": n}


def prompt_response_sentence(base: dict, tuned: dict, real: dict) -> str:
    """What Figure E5's prompt responses say, in one sentence earned by their intervals.

    Examples
    --------
    >>> r = lambda x, lo, hi: {"ratio": x, "low": lo, "high": hi}
    >>> prompt_response_sentence(r(0.06, 0.05, 0.08), r(0.5, 0.45, 0.6), r(1.1, 1.0, 1.2))[:60]
    'with the same noise, the base model draws nearly the same ga'
    """
    if not all(np.isfinite(d.get("ratio", np.nan)) for d in (base, tuned)):
        return "too few prompts with two images each to tell how much the prompts move the models' galaxies"
    if base["high"] < 0.1:
        head = ("with the same noise, the base model draws nearly the same galaxy whatever the prompt asks "
                "(the prompt moves its pixels by less than a tenth of what a new seed does)")
    elif base["high"] < tuned["low"]:
        head = "the base model follows its prompts, but less than the fine-tuned model does"
    else:
        head = "the base model follows its prompts about as much as the fine-tuned model does"
    if base["high"] < tuned["low"]:
        tail = "fine-tuning made the model respond to its prompts (the two intervals do not overlap)"
    elif tuned["high"] < base["low"]:
        tail = "the fine-tuned model responds to its prompts less than the base model did"
    else:
        tail = "the two models' responses cannot be told apart at this number of prompts"
    if np.isfinite(real.get("ratio", np.nan)) and tuned["high"] < real["low"]:
        tail += "; the real galaxies of different prompts differ more than the fine-tuned model's do"
    return f"{head}; {tail}"
