"""Chapter 02, before fine-tuning: the demo's base model pre-trained on a simulated web collection.

Stable Diffusion v1.5, the paper's base model, learnt from web images before it met Galaxy Zoo, and
knew what a dust lane looks like (Ma et al. 2026, Appendix E). The demo's tiny model gets the same
head start from :mod:`galaxysd.gz2.simulate.web`, in two cached stages that
:func:`galaxysd.stages.s02_finetune.run_finetune_stages` runs when ``pretrain_steps > 0`` (the paper
profile sets 0: SD1.5 is its pre-trained base):

- ``<run_dir>/02_finetune/web/``: the collection (``images/``, ``manifest.csv``, ``truth.csv``);
- ``<run_dir>/02_finetune/pretrain/``: its latents through the base model's autoencoder
  (``latents.safetensors``) and the UNet and text encoder trained on them with their plain-language
  captions (``train/model/``, ``train/loss.csv``).

Fine-tuning then starts from ``pretrain/train/model`` on the paper's training set, unchanged (the
GZ2-like manifest of ``01_data``, without the known D-ETGs and without any early type with a dust lane).

:func:`figure_e5_images` (a cached stage, ``02_finetune/figE5``) draws Figure E5's counterpart: real
galaxies, the base model before fine-tuning (prompted in the web wording it knows) and the fine-tuned
model, for the Table 1 prompts.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd
import torch

from galaxysd.cache import TIMING_FILE, atomic_write_text, run_stage
from galaxysd.diffusion import model as dmodel
from galaxysd.diffusion.finetune_config import FinetuneConfig
from galaxysd.diffusion.latents import LATENTS_FILE, cache_latents
from galaxysd.diffusion.train import launch_finetune
from galaxysd.errors import DataError, ParameterError

#: The notebook's knobs of the pre-training.
PRETRAIN_KEYS = ("pretrain_steps", "pretrain_collection_size", "pretrain_dusty_early_types", "autoencoder_images")
#: What the autoencoder may be trained on (``autoencoder_images``). The demo trains it on both: SD's
#: autoencoder learnt from web images alone, but the tiny one trained on the web pictures alone
#: reconstructed held-out GZ2-like images 67 % worse (pixel MSE 0.0328 against 0.0196, 300 steps,
#: benchmarks/autoencoder_images.py), while one trained on both lost only 4 % there (0.0204) and
#: reconstructed the web pictures, which pre-training encodes, 2.8 times better than the survey-only one
#: (0.0026 against 0.0073), for the same steps and time.
AUTOENCODER_IMAGES = ("survey", "web", "both")
#: The settings of the fine-tuning run that the pre-training run shares.
SHARED_TRAIN_KEYS = ("batch_size", "learning_rate", "scale_lr", "warmup_steps", "weight_decay", "max_grad_norm",
                     "snr_gamma", "train_text_encoder", "caption_dropout", "mixed_precision",
                     "gradient_checkpointing", "seed")


def pretraining(params: Mapping[str, Any]) -> bool:
    """Whether the run pre-trains its base model: the tiny model with ``pretrain_steps > 0``.

    Parameters
    ----------
    params : mapping
        Chapter 02's settings.

    Returns
    -------
    bool

    Raises
    ------
    ParameterError
        If ``pretrain_steps`` or ``pretrain_collection_size`` is negative, or ``autoencoder_images``
        is not one of :data:`AUTOENCODER_IMAGES`.

    Examples
    --------
    >>> pretraining({"base_model": "tiny", "pretrain_steps": 0})
    False
    """
    steps = int(params.get("pretrain_steps") or 0)
    if steps < 0 or int(params.get("pretrain_collection_size") or 0) < 0:
        raise ParameterError(f"pretrain_steps ({steps}) and pretrain_collection_size "
                             f"({params.get('pretrain_collection_size')}) must be 0 or more")
    if params.get("autoencoder_images", "survey") not in AUTOENCODER_IMAGES:
        raise ParameterError(f"autoencoder_images must be one of {list(AUTOENCODER_IMAGES)}, "
                             f"got {params.get('autoencoder_images')!r}")
    return params.get("base_model", "tiny") == "tiny" and steps > 0


def check_exclusion(manifest: pd.DataFrame, where: str = "the training manifest") -> None:
    """Check that the fine-tuning set holds no early type with a dust lane, as the paper's does.

    A pre-trained base must learn dust lanes on early types from its own collection, never from the
    fine-tuning set: that set stays the paper's (:func:`galaxysd.gz2.labels.exclude_detg`).

    Parameters
    ----------
    manifest : pandas.DataFrame
        ``objid`` and ``tags`` (joined by ``"|"``).
    where : str, optional
        Its file, for the message.

    Raises
    ------
    DataError
        If a galaxy carries an early-type tag and ``"dust lane"``.

    Examples
    --------
    >>> check_exclusion(pd.DataFrame({"objid": [1], "tags": ["spiral galaxy|dust lane"]}))
    """
    from galaxysd.gz2.labels import early_type_with_dust

    bad = early_type_with_dust(manifest)
    if bad.any():
        shown = ", ".join(str(i) for i in manifest.loc[bad, "objid"].head(5))
        raise DataError(f"{where}: {int(bad.sum())} early type(s) with a dust lane (objID {shown}) are in the "
                        "fine-tuning set; 01_data's exclusion (gz2.labels.exclude_detg) must remove them")


def web_stage(run_dir: Path, p: Mapping[str, Any], progress: bool = True):
    """``02_finetune/web``: the simulated web collection (:func:`~galaxysd.gz2.simulate.web.write_web_collection`).

    Parameters
    ----------
    run_dir : pathlib.Path
        The run folder.
    p : mapping
        ``pretrain_collection_size``, ``pretrain_dusty_early_types``, ``resolution``, ``seed``.
    progress : bool, optional

    Returns
    -------
    galaxysd.cache.StageResult
        Its folder holds ``manifest.csv``, ``truth.csv`` and ``images/``.
    """
    from galaxysd.gz2.simulate.web import WEB_VERSION, write_web_collection

    params = {"n": int(p["pretrain_collection_size"]), "size": int(p["resolution"]), "seed": int(p["seed"]),
              "dusty_early_types": bool(p.get("pretrain_dusty_early_types", True)), "version": WEB_VERSION}

    def make(folder: Path) -> None:
        t0 = time.perf_counter()
        write_web_collection(folder, params["n"], params["size"], params["seed"], params["dusty_early_types"],
                             progress=progress)
        _write_timing(folder, time.perf_counter() - t0, pictures=params["n"])

    return run_stage(run_dir, f"{dmodel.STAGE}/web", params, make)


def autoencoder_image_paths(survey_manifest: Path, web_dir: Path | None, which: str) -> list[str]:
    """The images the tiny autoencoder trains on: the survey's, the web collection's, or both.

    Parameters
    ----------
    survey_manifest : pathlib.Path
        The GZ2-like training manifest.
    web_dir : pathlib.Path or None
        The web collection's folder (``None`` when there is no pre-training: the survey's images).
    which : str
        One of :data:`AUTOENCODER_IMAGES`.

    Returns
    -------
    list of str
    """
    from galaxysd.gz2.manifest import read_training_manifest

    survey = read_training_manifest(survey_manifest)["image_path"].tolist()
    if web_dir is None or which == "survey":
        return survey
    from galaxysd.gz2.simulate.web import read_web_manifest

    web = read_web_manifest(web_dir)["image_path"].tolist()
    return web if which == "web" else survey + web


def pretrain_stage(run_dir: Path, p: Mapping[str, Any], base: str, base_dir: Path, web_dir: Path, device: str):
    """``02_finetune/pretrain``: the web collection's latents, and the model trained on them with their captions.

    The same loop as fine-tuning (:func:`~galaxysd.diffusion.train.finetune`), with the fine-tuning's
    batch, learning rate and schedule, for ``pretrain_steps`` steps, each caption drawn from the
    picture's plain-language alternatives (``caption_source="caption"``).

    Parameters
    ----------
    run_dir : pathlib.Path
        The run folder.
    p : mapping
        Chapter 02's settings.
    base : str
        The base model folder (the tiny model with its trained autoencoder).
    base_dir : pathlib.Path
        Its stage folder (an input of the cache key).
    web_dir : pathlib.Path
        The ``02_finetune/web`` stage folder.
    device : str

    Returns
    -------
    galaxysd.cache.StageResult
        The pre-trained model is ``<path>/train/model``.
    """
    params = {"pretrain_steps": int(p["pretrain_steps"]), "resolution": p["resolution"],
              **{k: p[k] for k in SHARED_TRAIN_KEYS if k in p}}

    def make(folder: Path) -> None:
        t0 = time.perf_counter()
        from galaxysd.gz2.simulate.web import read_web_manifest

        manifest_path = web_dir / "manifest.csv"
        manifest = read_web_manifest(web_dir)
        latents = folder / LATENTS_FILE
        if not latents.is_file():
            pipe = dmodel.load_pipeline(base, device=device)
            cache_latents(pipe.vae, manifest["image_path"].tolist(), p["resolution"], latents,
                          batch_size=p.get("latent_batch_size", 16), device=device,
                          objids=manifest["objid"].tolist())
        steps = params["pretrain_steps"]
        cfg = FinetuneConfig.from_dict({**{k: params[k] for k in SHARED_TRAIN_KEYS if k in params},
                                        "base_model": base, "manifest": str(manifest_path),
                                        "latents": str(latents), "output_dir": str(folder / "train"),
                                        "max_steps": steps, "caption_source": "caption",
                                        "warmup_steps": min(int(p.get("warmup_steps", 0)), steps),
                                        # a checkpoint as often as fine-tuning's, the newest kept, so an
                                        # interrupted pre-training resumes (the result is the same)
                                        "checkpoint_every": min(steps, int(p.get("checkpoint_every") or steps)),
                                        "keep_checkpoints": 1, "resume": True,
                                        "num_threads": p.get("num_threads") or None})
        launch_finetune(cfg)
        for name in ("config.json", "launch_config.json"):
            (folder / "train" / name).unlink(missing_ok=True)  # holds this machine's paths
        _write_timing(folder, time.perf_counter() - t0, steps=steps, pictures=len(manifest),
                      threads=torch.get_num_threads(), device=device)

    return run_stage(run_dir, f"{dmodel.STAGE}/pretrain", params, make, inputs=[base_dir, web_dir])


def figure_e5_images(run_dir: str | Path, manifest: pd.DataFrame, base: str, tuned: str,
                     prompts: Mapping[str, str], base_prompts: Mapping[str, str], n: int, settings,
                     seed: int) -> dict[str, dict[str, np.ndarray]]:
    """Figure E5's images, a cached stage (``02_finetune/figE5``): real, base-model and fine-tuned galaxies.

    Parameters
    ----------
    run_dir : str or pathlib.Path
        The run folder.
    manifest : pandas.DataFrame
        The training manifest (real galaxies carrying each prompt's tags, :func:`~galaxysd.diffusion.gallery.real_examples`).
    base : str
        The base model before fine-tuning (the pre-trained tiny model's folder, or SD1.5's id).
    tuned : str
        The fine-tuned model's folder.
    prompts : mapping
        Letter -> Table 1 prompt (what the fine-tuned model is given).
    base_prompts : mapping
        Letter -> the same prompt in the base model's wording (:data:`~galaxysd.gz2.simulate.web_captions.TABLE1_WEB_PROMPTS`).
    n : int
        Images per prompt and column.
    settings : galaxysd.diffusion.sample.SamplerSettings
    seed : int
        Seed of the real galaxies' draw and of the sampler (the same noise for both models).

    Returns
    -------
    dict
        ``"real"``, ``"base"``, ``"tuned"``: letter -> uint8 images (k, H, W, 3) (``real`` may hold
        fewer than ``n``, and galaxies carrying most but not all tags where none carries all).

    Raises
    ------
    ParameterError
        If a letter has no base-model wording.

    Examples
    --------
    >>> images = figure_e5_images(paths.run, manifest, outputs["base_model"], outputs["model"], prompts, web, 2, s, 0)  # doctest: +SKIP
    """
    from dataclasses import asdict

    from galaxysd.diffusion import sample
    from galaxysd.diffusion.gallery import real_examples

    missing = [k for k in prompts if k not in base_prompts]
    if missing:
        raise ParameterError(f"figure_e5_images: no base-model wording for prompt(s) {missing}")
    letters = list(prompts)
    params = {"prompts": dict(prompts), "base_prompts": {k: base_prompts[k] for k in letters}, "n": int(n),
              "seed": int(seed), "settings": asdict(settings), "base": str(base), "tuned": str(tuned)}
    inputs = [Path(m) for m in (base, tuned) if Path(m).exists()]
    res = settings.resolution

    def make(folder: Path) -> None:
        from galaxysd.gz2 import TABLE1_TAGS

        seeds = [seed * 1000 + i for i in range(n)]
        out = {}
        for column, model, wording in (("base", base, base_prompts), ("tuned", tuned, prompts)):
            pipe = dmodel.load_pipeline(model)
            size = res or sample.native_resolution(pipe)
            for k in letters:
                out[f"{column}_{k}"] = sample.generate(pipe, [wording[k]] * n, seeds, settings)
        for k in letters:
            rows = real_examples(manifest, TABLE1_TAGS.get(k, ()), n, seed)
            out[f"real_{k}"] = sample.load_images(rows["image_path"], size)
        np.savez_compressed(folder / "images.npz", **out)

    stage = run_stage(run_dir, f"{dmodel.STAGE}/figE5", params, make, inputs=inputs)
    with np.load(stage.path / "images.npz") as data:
        return {col: {k: data[f"{col}_{k}"] for k in letters} for col in ("real", "base", "tuned")}


def web_collection(outputs: Mapping[str, Any]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The web collection of a chapter 02 run: its manifest and its truth table.

    Parameters
    ----------
    outputs : mapping
        :func:`galaxysd.stages.s02_finetune.run_finetune_stages`'s result (``web``: the stage folder).

    Returns
    -------
    (pandas.DataFrame, pandas.DataFrame)
        The manifest (absolute image paths) and the population, row for row.

    Raises
    ------
    ParameterError
        If the run did not pre-train (``pretrain_steps = 0``).

    Examples
    --------
    >>> web, truth = web_collection(outputs)  # doctest: +SKIP
    """
    from galaxysd.gz2.simulate.web import read_web_manifest

    if not outputs.get("web"):
        raise ParameterError("web_collection: this run has no web collection; set pretrain_steps > 0")
    folder = Path(outputs["web"])
    return read_web_manifest(folder), pd.read_csv(folder / "truth.csv")


def web_examples(manifest: pd.DataFrame, truth: pd.DataFrame, n: int, seed: int) -> pd.DataFrame:
    """``n`` pictures of the web collection to show: half with a dust lane (early types first), half without.

    Parameters
    ----------
    manifest, truth : pandas.DataFrame
        From :func:`web_collection`.
    n : int
    seed : int

    Returns
    -------
    pandas.DataFrame
        Rows of ``manifest``.

    Examples
    --------
    >>> shown = web_examples(web, truth, 8, seed=0)  # doctest: +SKIP
    """
    rng = np.random.default_rng([seed, 47])
    dusty_early = np.flatnonzero(truth["is_detg"].to_numpy())
    dusty_other = np.flatnonzero(truth["dust_lane"].to_numpy() & ~truth["is_detg"].to_numpy())
    clean = np.flatnonzero(~truth["dust_lane"].to_numpy())
    half = n // 2
    take = list(rng.permutation(dusty_early)[:(half + 1) // 2])
    take += list(rng.permutation(dusty_other)[:half - len(take)])
    take += list(rng.permutation(clean)[:n - len(take)])
    return manifest.iloc[take].reset_index(drop=True)


def _write_timing(folder: Path, seconds: float, **extra: Any) -> None:
    atomic_write_text(folder / TIMING_FILE, json.dumps({"seconds": round(seconds, 2), **extra}, indent=2))


def pretrain_params(values: Mapping[str, Any]) -> dict:
    """The pre-training knobs (:data:`PRETRAIN_KEYS`) out of the notebook's parameters, 0 / off where absent."""
    defaults = {"pretrain_steps": 0, "pretrain_collection_size": 0, "pretrain_dusty_early_types": True,
                "autoencoder_images": "survey"}
    return {k: values.get(k, defaults[k]) for k in PRETRAIN_KEYS}


__all__: Sequence[str] = ("AUTOENCODER_IMAGES", "PRETRAIN_KEYS", "autoencoder_image_paths", "check_exclusion",
                          "figure_e5_images", "web_collection", "web_examples",
                          "pretrain_params", "pretrain_stage", "pretraining", "web_stage")
