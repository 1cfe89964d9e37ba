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
