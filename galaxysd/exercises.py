"""Small helpers the chapters' exercises call, so that every solution reads like the question.

The solutions of the exercises (``tags=["solution"]`` cells, executed by ``galaxysd run --exercises``
and by the test suite on the smoke profile) vary one setting of a chapter and compare the result with
the chapter's own. Whatever they compute goes to a *scratch* folder of the run folder,
``<run_dir>/exercises/<label>/`` (:func:`scratch_dir`): a stage recomputed there never replaces the
chapter's stage of the same name, and the chapters, :mod:`galaxysd.reuse` and the checkpoint bundles
read only the ``NN_*`` folders, so a solution run changes nothing they see.

Examples
--------
>>> scratch_dir("/tmp/runs/smoke", "ex-03-bar-weight", create=False).as_posix()
'/tmp/runs/smoke/exercises/ex-03-bar-weight'
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from galaxysd.errors import ParameterError

#: The folder of the run folder that holds what the exercises' solutions compute.
SCRATCH = "exercises"


def scratch_dir(run_dir: str | os.PathLike, label: str, create: bool = True) -> Path:
    """The scratch folder of one exercise, ``<run_dir>/exercises/<label>``.

    Parameters
    ----------
    run_dir : str or path-like
        The profile's run folder.
    label : str
        The exercise's label (letters, digits, ``-`` and ``_``), e.g. ``"ex-02-short-finetune"``.
    create : bool, optional
        Create the folder (default).

    Returns
    -------
    pathlib.Path

    Raises
    ------
    ParameterError
        If ``label`` is empty or holds other characters (it must not leave the scratch folder).

    Examples
    --------
    >>> scratch_dir("runs/demo", "ex-01-threshold", create=False).as_posix()
    'runs/demo/exercises/ex-01-threshold'
    """
    if not re.fullmatch(r"[A-Za-z0-9_-]+", label or ""):
        raise ParameterError(f"exercise label {label!r}: expected letters, digits, '-' or '_' (e.g. 'ex-03-bar')")
    folder = Path(run_dir) / SCRATCH / label
    if create:
        folder.mkdir(parents=True, exist_ok=True)
    return folder


def table1_by_threshold(hart16: pd.DataFrame, thresholds: Sequence[float], **label_options) -> pd.DataFrame:
    """Table 1's count of labelled galaxies per prompt at several debiased-fraction thresholds.

    Every galaxy of the table is labelled again (:func:`galaxysd.gz2.label_catalog`, a few seconds on
    the demo's 12,000 galaxies) at each threshold; no stage is written.

    Parameters
    ----------
    hart16 : pandas.DataFrame
        The Hart16-schema vote table (:func:`galaxysd.gz2.read_hart16`).
    thresholds : sequence of float
        Values of ``min_debiased`` to compare, each in (0, 1).
    **label_options
        Any other option of :func:`galaxysd.gz2.label_catalog` (``min_votes``, ``threshold_inclusive``...).

    Returns
    -------
    pandas.DataFrame
        Index: the letters A-P and a last row ``any tag`` (galaxies with at least one tag); one column
        per threshold (``min_debiased=0.8``...).

    Raises
    ------
    ParameterError
        If no threshold is given or one lies outside (0, 1).

    Examples
    --------
    >>> table = table1_by_threshold(read_hart16(survey.hart16), [0.6, 0.8, 0.9])  # doctest: +SKIP
    """
    from galaxysd import gz2

    if not len(thresholds) or any(not 0 < t < 1 for t in thresholds):
        raise ParameterError(f"thresholds={list(thresholds)}: give one or more debiased fractions between 0 and 1")
    columns = {}
    for t in thresholds:
        labelled = gz2.label_catalog(hart16, min_debiased=float(t), **label_options)
        counts = {}
        for letter, tags in gz2.TABLE1_TAGS.items():
            carries = np.ones(len(labelled), bool)
            for tag in tags:
                carries &= gz2.has_tag(labelled, tag).to_numpy()
            counts[letter] = int(carries.sum())
        counts["any tag"] = int((labelled["n_tags"] > 0).sum())
        columns[f"min_debiased={t:g}"] = counts
    return pd.DataFrame(columns).rename_axis("type")


def short_finetune(run_dir: str | os.PathLike, outputs: Mapping, params: Mapping, max_steps: int,
                   label: str = "ex-02-short-finetune", num_processes: int = 1) -> tuple[Path, pd.DataFrame]:
    """Fine-tune again from the chapter's base model and latents, for ``max_steps`` steps only.

    The run is a cached stage of the exercise's scratch folder (:func:`scratch_dir`), so a second
    call loads it; the chapter's own ``02_finetune/train`` is not touched. The warm-up is scaled to
    the shorter run and one checkpoint is kept, at its end.

    Parameters
    ----------
    run_dir : str or path-like
        The profile's run folder.
    outputs : mapping
        :func:`galaxysd.stages.s02_finetune.run_finetune_stages`'s result (``base``, ``latents``,
        ``manifest``; ``base_dir`` and ``latents_dir`` are the stages read).
    params : mapping
        The chapter's settings (:func:`galaxysd.stages.s02_finetune.finetune_params`).
    max_steps : int
        Optimiser steps of the short run (at least 2).
    label : str, optional
        The scratch folder's name.
    num_processes : int, optional
        Training processes (see :func:`galaxysd.diffusion.train.launch_finetune`).

    Returns
    -------
    (pathlib.Path, pandas.DataFrame)
        The run's folder and its loss per step (``step``, ``loss``, ``lr``).

    Raises
    ------
    ParameterError
        If ``max_steps`` is below 2.

    Examples
    --------
    >>> folder, history = short_finetune(paths.run, outputs, s02.finetune_params(globals()), 200)  # doctest: +SKIP
    """
    import torch

    from galaxysd.cache import run_stage
    from galaxysd.diffusion.finetune_config import FinetuneConfig
    from galaxysd.diffusion.report import read_loss
    from galaxysd.diffusion.train import launch_finetune
    from galaxysd.stages.s02_finetune import TRAIN_KEYS

    if int(max_steps) < 2:
        raise ParameterError(f"max_steps={max_steps}: a short fine-tune needs at least 2 steps")
    max_steps = int(max_steps)
    train = {k: params[k] for k in TRAIN_KEYS if k in params}
    warmup = int(train.get("warmup_steps", 0) * max_steps / max(1, int(train.get("max_steps", max_steps))))
    train.update(max_steps=max_steps, warmup_steps=warmup, checkpoint_every=max_steps)
    inputs = [p for p in (outputs.get("base_dir"), outputs.get("latents_dir")) if p is not None]

    def compute(folder: Path) -> None:
        cfg = FinetuneConfig.from_dict({**train, "base_model": str(outputs["base"]),
                                        "manifest": str(outputs["manifest"]), "latents": str(outputs["latents"]),
                                        "output_dir": str(folder), "resume": True,
                                        "num_threads": params.get("num_threads") or None})
        if params.get("num_threads"):
            torch.set_num_threads(int(params["num_threads"]))
        launch_finetune(cfg, num_processes=num_processes)
        for name in ("launch_config.json", "config.json"):  # they hold this machine's paths, as in chapter 02
            (folder / name).unlink(missing_ok=True)

    scratch = scratch_dir(run_dir, label)
    stage = run_stage(scratch, "train", train, compute, inputs=inputs)
    return stage.path, read_loss(stage.path)


def image_change(images: Mapping[float, np.ndarray]) -> pd.Series:
    """How far each row of a weight sweep moved from the first: mean absolute pixel difference (0-255).

    Parameters
    ----------
    images : mapping of float to numpy.ndarray
        Weight to its images (uint8, same shape in every row, same seeds and references), as
        :func:`galaxysd.stages.s03_generate.weight_sweep` returns them.

    Returns
    -------
    pandas.Series
        Indexed by weight; the first weight's value is 0.

    Examples
    --------
    >>> image_change({1.0: np.zeros((2, 4, 4, 3), np.uint8), 2.0: np.full((2, 4, 4, 3), 6, np.uint8)}).tolist()
    [0.0, 6.0]
    """
    weights = list(images)
    if not weights:
        raise ParameterError("image_change: the sweep holds no weights")
    first = np.asarray(images[weights[0]], dtype=float)
    values = {}
    for w in weights:
        row = np.asarray(images[w], dtype=float)
        if row.shape != first.shape:
            raise ParameterError(f"image_change: weight {w} has images of shape {row.shape}, the first weight "
                                 f"{first.shape}; sweep every weight with the same seeds and sizes")
        values[w] = float(np.abs(row - first).mean())
    return pd.Series(values, name="mean |difference| from the first weight").rename_axis("weight")


def random_embedding(image_paths: Sequence[str | os.PathLike], image_size: int, config) -> np.ndarray:
    """Embed images with the encoder SimCLR training started from (same seed, untrained).

    Parameters
    ----------
    image_paths : sequence of path-like
        The images.
    image_size : int
        Side they are resized to (the chapter's ``image_size``).
    config : galaxysd.evaluation.train.SimCLRConfig
        The chapter's settings (``seed``, ``weights``, ``projection_dim``).

    Returns
    -------
    numpy.ndarray
        One row per image.

    Examples
    --------
    >>> vectors = random_embedding(galaxies.image_path[:100], 32, config)  # doctest: +SKIP
    """
    import torch

    from galaxysd.diffusion.latents import load_images
    from galaxysd.evaluation.simclr import SimCLR, embed

    torch.manual_seed(config.seed)
    model = SimCLR(weights=config.weights or None, projection_dim=config.projection_dim)
    return embed(model, load_images([str(p) for p in image_paths], image_size, progress=False), progress=False)


def neighbour_agreement(vectors: np.ndarray, classes: Sequence[str], k: int = 5) -> float:
    """Share of each galaxy's ``k`` nearest neighbours (cosine distance) that have its class.

    A chance level to compare with is the sum of the squared class shares.

    Parameters
    ----------
    vectors : numpy.ndarray
        Embeddings, one row per galaxy.
    classes : sequence of str
        Each galaxy's class (e.g. :func:`galaxysd.evaluation.figures.morphology_class` of its tags).
    k : int, optional
        Neighbours per galaxy (fewer if there are fewer galaxies).

    Returns
    -------
    float
        Mean over galaxies, 0-1.

    Examples
    --------
    >>> neighbour_agreement(np.array([[1, 0], [1, 0.1], [0, 1], [0.1, 1]]), ["a", "a", "b", "b"], k=1)
    1.0
    """
    from sklearn.neighbors import NearestNeighbors

    vectors, classes = np.asarray(vectors, dtype=float), np.asarray(classes)
    if len(vectors) != len(classes) or len(vectors) < 2:
        raise ParameterError(f"neighbour_agreement: {len(vectors)} vectors and {len(classes)} classes; "
                             "give one class per vector, at least two")
    k = max(1, min(int(k), len(vectors) - 1))
    found = NearestNeighbors(n_neighbors=k + 1, metric="cosine").fit(vectors).kneighbors(return_distance=False)
    return float((classes[found[:, :k]] == classes[:, None]).mean())


def metric_change(per_prompt: pd.DataFrame, column: str) -> pd.DataFrame:
    """One metric per prompt at the first and the last judged checkpoint, and its change, largest rise first.

    Parameters
    ----------
    per_prompt : pandas.DataFrame
        Chapter 05's ``per_prompt`` table (``condition``, ``step`` and the metric columns).
    column : str
        ``realism``, ``diversity``, ``consistency``...

    Returns
    -------
    pandas.DataFrame
        Indexed by prompt: ``step <first>``, ``step <last>``, ``change``.

    Examples
    --------
    >>> frame = pd.DataFrame({"condition": ["A", "A", "B", "B"], "step": [1, 2, 1, 2], "realism": [0.1, 0.5, 0.4, 0.2]})
    >>> metric_change(frame, "realism")["change"].round(2).tolist()
    [0.4, -0.2]
    """
    if column not in per_prompt.columns:
        raise ParameterError(f"metric_change: no column {column!r}; expected one of {list(per_prompt.columns)}")
    first, last = per_prompt["step"].min(), per_prompt["step"].max()
    wide = per_prompt.pivot_table(index="condition", columns="step", values=column)
    out = pd.DataFrame({f"step {first}": wide[first], f"step {last}": wide[last]})
    out["change"] = out[f"step {last}"] - out[f"step {first}"]
    return out.sort_values("change", ascending=False).rename_axis("prompt")


def score_table(named_scores: Mapping[str, pd.DataFrame], score: str = "f1", against: str = "label") -> pd.DataFrame:
    """One score of several runs side by side: per run, method and number of generated positives.

    Parameters
    ----------
    named_scores : mapping of str to pandas.DataFrame
        Run name to its scores (:func:`galaxysd.classify.compare.score_task` rows, with ``task``,
        ``against``, ``method``, ``multiple``, ``score``, ``value``, ``low``, ``high``).
    score : str, optional
        ``f1``, ``purity`` or ``completeness``.
    against : str, optional
        ``label`` or ``truth``.

    Returns
    -------
    pandas.DataFrame
        ``run``, ``task``, ``method``, ``multiple``, ``value``, ``low``, ``high``.

    Examples
    --------
    >>> score_table({"chapter": scores, "exercise": fewer}, "f1")  # doctest: +SKIP
    """
    frames = []
    for name, frame in named_scores.items():
        chosen = frame[(frame["score"] == score) & (frame["against"] == against)]
        frames.append(chosen.assign(run=name))
    if not frames or not sum(len(f) for f in frames):
        raise ParameterError(f"score_table: no {score!r} scores against {against!r} in the runs given")
    columns = ["run", "task", "method", "multiple", "value", "low", "high"]
    return pd.concat(frames, ignore_index=True)[columns].round(3)

