"""Figures of the fine-tuning chapter: the loss curve and sample grids across checkpoints."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from galaxysd import plots  # noqa: F401 (importing it applies the book's style)


def read_loss(train_dir: str | os.PathLike) -> pd.DataFrame:
    """The training loss per step (``step``, ``loss``, ``lr``) of a ``02_finetune/train`` folder."""
    return pd.read_csv(Path(train_dir) / "loss.csv")


def smoothed(values: Sequence[float], window: int) -> np.ndarray:
    """Running mean over ``window`` steps (shorter at the start).

    Examples
    --------
    >>> smoothed([1.0, 3.0, 5.0], 2).tolist()
    [1.0, 2.0, 4.0]
    """
    series = pd.Series(np.asarray(values, dtype=float))
    return series.rolling(max(1, int(window)), min_periods=1).mean().to_numpy()


def loss_curve_figure(history: pd.DataFrame, profile_label: str = "", window: int = 50,
                      checkpoints: Sequence[int] = ()):
    """The noise-prediction loss per step, raw and smoothed, with the learning rate beside it.

    Parameters
    ----------
    history : pandas.DataFrame
        ``step``, ``loss``, ``lr`` (:func:`read_loss`).
    profile_label : str, optional
        Text naming the profile, put in the title.
    window : int, optional
        Steps of the running mean.
    checkpoints : sequence of int, optional
        Steps to mark with vertical lines.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    fig, (ax, ax_lr) = plt.subplots(1, 2, figsize=(9, 3.2), gridspec_kw={"width_ratios": [3, 1.4]})
    ax.plot(history["step"], history["loss"], color="0.75", lw=0.6, label="per step")
    ax.plot(history["step"], smoothed(history["loss"], window), color="C0", lw=1.6,
            label=f"running mean ({window} steps)")
    for step in checkpoints:
        ax.axvline(step, color="C3", lw=0.6, ls=":")
    ax.set_xlabel("optimiser step")
    ax.set_ylabel("MSE of the predicted noise")
    ax.set_yscale("log")
    ax.legend()
    ax.set_title(f"Fine-tuning loss{f' ({profile_label})' if profile_label else ''}")
    ax_lr.plot(history["step"], history["lr"], color="C1")
    ax_lr.set_xlabel("optimiser step")
    ax_lr.set_ylabel("learning rate")
    ax_lr.ticklabel_format(axis="y", style="sci", scilimits=(0, 0))
    fig.tight_layout()
    return fig


def pick_checkpoints(steps: Sequence[int], n: int) -> list[int]:
    """About ``n`` checkpoint steps spread evenly over the run, always including the last.

    Examples
    --------
    >>> pick_checkpoints([100, 200, 300, 400, 500, 600], 3)
    [200, 400, 600]
    """
    steps = sorted(steps)
    if n <= 0 or not steps:
        return []
    if n >= len(steps):
        return steps
    picks = [steps[int(round((i + 1) * len(steps) / n)) - 1] for i in range(n)]
    return sorted(dict.fromkeys(picks))


def sample_grid_figure(images: np.ndarray, row_labels: Sequence[str], col_labels: Sequence[str],
                       title: str = ""):
    """A grid of generated images: one row per checkpoint, one column per prompt.

    Parameters
    ----------
    images : numpy.ndarray
        uint8 (rows, cols, H, W, 3).
    row_labels, col_labels : sequence of str
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    rows, cols = images.shape[:2]
    fig, axes = plt.subplots(rows, cols, figsize=(1.45 * cols + 0.9, 1.45 * rows + 1.0), squeeze=False)
    for i in range(rows):
        for j in range(cols):
            ax = axes[i, j]
            ax.imshow(images[i, j])
            ax.set_xticks([])
            ax.set_yticks([])
            if i == 0:
                ax.set_title(textwrap.fill(col_labels[j], 18), fontsize="small")
            if j == 0:
                ax.set_ylabel(row_labels[i], fontsize="small")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    from galaxysd.accessibility import describe

    return describe(fig, f"{title + '. ' if title else ''}Grid of generated galaxy images: {rows} rows "
                    f"({', '.join(map(str, row_labels))}) by {cols} prompts ({'; '.join(map(str, col_labels))}).")


def loss_change(history: pd.DataFrame, fraction: float = 0.05) -> tuple[float, float]:
    """Mean loss over the first and over the last ``fraction`` of the steps (at least one step each).

    Parameters
    ----------
    history : pandas.DataFrame
        ``step``, ``loss`` (:func:`read_loss`).
    fraction : float, optional
        Share of the steps averaged at each end.

    Returns
    -------
    (float, float)
        Mean loss at the start and at the end of the run.

    Examples
    --------
    >>> loss_change(pd.DataFrame({"step": [1, 2, 3, 4], "loss": [4.0, 2.0, 1.0, 0.5]}), 0.5)
    (3.0, 0.75)
    """
    n = max(1, int(round(len(history) * fraction, 9)))
    return float(history["loss"].head(n).mean()), float(history["loss"].tail(n).mean())


def finetune_summary(outputs: dict) -> dict:
    """Model sizes and stage times of a :func:`galaxysd.stages.s02_finetune.run_finetune_stages` result.

    Parameters
    ----------
    outputs : dict
        What ``run_finetune_stages`` returned (``model``, ``train``, and ``base_dir``/``latents_dir``).

    Returns
    -------
    dict
        ``parameters``: number of parameters of ``unet``, ``text_encoder`` and ``vae``;
        ``timing``: table with one row per stage that recorded its time (``stage``, ``seconds``, ...);
        ``train_minutes``: wall minutes of the diffusion training stage (NaN if not recorded).

    Examples
    --------
    >>> summary = finetune_summary(run_finetune_stages(paths.run, manifest_path, params))  # doctest: +SKIP
    """
    from galaxysd.diffusion import model as dmodel
    from galaxysd.cache import stage_timing

    pipe = dmodel.load_pipeline(outputs["model"])
    sizes = {name: dmodel.count_parameters(getattr(pipe, name)) for name in ("unet", "text_encoder", "vae")}
    timing = {name: stage_timing(outputs[key]) for name, key in
              (("web collection", "web"), ("autoencoder", "base_dir"), ("pre-training", "pretrain_dir"),
               ("latents", "latents_dir"), ("diffusion", "train")) if outputs.get(key)}
    return {"parameters": sizes,
            "timing": pd.DataFrame([{"stage": name, **values} for name, values in timing.items()]),
            "train_minutes": timing.get("diffusion", {}).get("seconds", float("nan")) / 60}


def checkpoint_sample_grid(train_dir: str | os.PathLike, prompts: dict[str, str], n_checkpoints: int, settings,
                           seed: int = 0, title: str = ""):
    """Sample the same prompts with the same seeds from a few checkpoints of a run, as a figure.

    Parameters
    ----------
    train_dir : str or path-like
        The ``02_finetune/train`` stage folder (with ``checkpoints/step-NNNNNN/``).
    prompts : dict of str to str
        Column label (e.g. a Table 1 letter) to prompt; one column each, seeds ``seed``, ``seed + 1``, ...
    n_checkpoints : int
        About how many checkpoints to show (:func:`pick_checkpoints`; the last one always).
    settings : galaxysd.diffusion.sample.SamplerSettings
        Sampler, steps and guidance.
    seed : int, optional
        Seed of the first column.
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure
        :func:`sample_grid_figure` with one row per checkpoint.

    Examples
    --------
    >>> fig = checkpoint_sample_grid(outputs["train"], {"B": TABLE1_PROMPTS["B"]}, 3, settings)  # doctest: +SKIP
    """
    from galaxysd.diffusion import model as dmodel
    from galaxysd.diffusion import sample

    steps = pick_checkpoints([dmodel.checkpoint_step(p) for p in dmodel.checkpoint_paths(train_dir)], n_checkpoints)
    seeds = [seed + i for i in range(len(prompts))]
    rows = [sample.generate(dmodel.load_pipeline(Path(train_dir) / "checkpoints" / f"step-{step:06d}"),
                            list(prompts.values()), seeds, settings) for step in steps]
    return sample_grid_figure(np.stack(rows), [f"step {s}" for s in steps],
                              [f"{k}: {v.removeprefix('sdss, ')}" for k, v in prompts.items()], title=title)
