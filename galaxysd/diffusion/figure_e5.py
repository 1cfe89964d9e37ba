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
    import matplotlib.pyplot as plt

    letters = list(prompts)
    cols = 3 * per_block
    height = 1.25 * len(letters) + 0.9
    fig, axes = plt.subplots(len(letters), cols, figsize=(1.1 * cols + 0.3, height), squeeze=False)
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
                    ax.set_title(COLUMNS[column], loc="left", fontsize="small", pad=4)
        axes[r, 0].set_ylabel(letter, rotation=0, labelpad=8, va="center")
        axes[r, per_block].set_xlabel(f"\u201c{base_prompts[letter]}\u201d", fontsize="xx-small", loc="left",
                                      labelpad=1)
        axes[r, 2 * per_block].set_xlabel(f"\u201c{prompts[letter].removeprefix('sdss, ')}\u201d",
                                          fontsize="xx-small", loc="left", labelpad=1)
    fig.suptitle(f"Real galaxies, the base model and the fine-tuned model ({label})", y=1 - 0.1 / height)
    fig.subplots_adjust(wspace=0.05, hspace=0.42, top=1 - 0.55 / height, bottom=0.3 / height, left=0.04,
                        right=0.99)
    return fig
