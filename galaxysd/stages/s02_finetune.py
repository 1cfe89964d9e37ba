"""Chapter 02: the cached stages of notebook ``02_finetune``: image check, base model, latent cache, training run.

- ``<run_dir>/02_finetune/images/``: ``broken.csv`` (training images that cannot be read, by objID)
  and, if there are any, ``manifest.csv`` without them (:func:`checked_manifest`).
- ``<run_dir>/02_finetune/base/`` (tiny model only): the tiny model with its VAE trained on the images
  (``model/``, ``autoencoder_loss.csv``).
- ``<run_dir>/02_finetune/web/`` and ``pretrain/`` (tiny model with ``pretrain_steps > 0`` only): the
  simulated web collection and the base model pre-trained on it (:mod:`galaxysd.stages.s02_pretrain`).
- ``<run_dir>/02_finetune/latents/``: ``latents.safetensors`` (:func:`galaxysd.diffusion.latents.cache_latents`).
- ``<run_dir>/02_finetune/train/``: ``checkpoints/step-NNNNNN/``, ``model/``, ``loss.csv`` (:func:`galaxysd.diffusion.train.finetune`).

Each stage writes ``timing.json`` (wall seconds and what they bought), read by :func:`stage_timing`.
A change of parameters recomputes only the stages it affects; an interrupted training stage resumes
from its last checkpoint on the next call.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import fields
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import pandas as pd
import torch

from galaxysd.cache import TIMING_FILE, atomic_write_text, run_stage, stage_timing  # noqa: F401 (the chapter reads it here)
from galaxysd.diffusion import model as dmodel
from galaxysd.diffusion.base_model import check_base_model
from galaxysd.diffusion.latents import LATENTS_FILE, cache_latents, load_images, train_autoencoder
from galaxysd.diffusion.finetune_config import FinetuneConfig
from galaxysd.diffusion.train import launch_finetune
from galaxysd.errors import DataError, ParameterError
from galaxysd.gz2.manifest import read_training_manifest  # noqa: F401 (stages' readers share it)
from galaxysd.stages import s02_pretrain as pre
from galaxysd.stages.s02_pretrain import figure_e5_images, web_collection, web_examples  # noqa: F401 (the chapter's)


#: Version of the tiny autoencoder's training recipe, part of the base stage's cache key: bump it when
#: :func:`train_autoencoder` changes, so cached VAEs trained the old way are not reused.
#: 2: fixed posterior variance, 2x2 low-pass and colour terms; 3: latents standardised per channel;
#: 4: fused AdamW (same recipe, 22 % faster, not bit-identical).
AUTOENCODER_RECIPE = 4

#: Parameters of notebook 02_finetune that shape each stage.
BASE_KEYS = ("base_model", "resolution", "tiny_sizes", "autoencoder_steps", "autoencoder_batch_size",
             "autoencoder_learning_rate", "autoencoder_crop", "seed")
TRAIN_KEYS = tuple(f.name for f in fields(FinetuneConfig)
                   if f.name not in ("base_model", "manifest", "latents", "output_dir", "resume",
                                     "stop_after", "progress", "num_threads", "caption_source"))


#: The knobs of notebook 02_finetune that :func:`run_finetune_stages` reads, in the notebook's order.
NOTEBOOK_KEYS = ("base_model", "resolution", "tiny_sizes", "autoencoder_steps", "autoencoder_batch_size",
                 "autoencoder_learning_rate", "autoencoder_crop", "seed", "max_steps", "batch_size",
                 "learning_rate", "scale_lr", "warmup_steps", "weight_decay", "max_grad_norm",
                 "snr_gamma", "train_text_encoder", "caption_keep_prob", "caption_dropout", "mixed_precision",
                 "gradient_checkpointing", "use_ema", "ema_decay", "checkpoint_every", "num_threads",
                 *pre.PRETRAIN_KEYS)


def finetune_params(values: Mapping[str, Any]) -> dict:
    """The settings of :func:`run_finetune_stages` picked out of the notebook's parameters.

    Parameters
    ----------
    values : mapping
        Names to values holding at least :data:`NOTEBOOK_KEYS` (e.g. the notebook's ``globals()``).

    Returns
    -------
    dict
        One entry per name of :data:`NOTEBOOK_KEYS`.

    Raises
    ------
    ParameterError
        If a name is missing.

    Examples
    --------
    >>> params = finetune_params(globals())  # doctest: +SKIP
    """
    missing = [k for k in NOTEBOOK_KEYS if k not in values]
    if missing:
        raise ParameterError(f"finetune_params: missing parameters {missing}; expected all of {list(NOTEBOOK_KEYS)}")
    return {k: values[k] for k in NOTEBOOK_KEYS}


def base_stage_params(params: Mapping[str, Any]) -> dict:
    """What the cached tiny base model (``02_finetune/base``) depends on: its cache key's parameters.

    The model's sizes enter with :data:`~galaxysd.diffusion.model.TINY_DEFAULTS` filled in, so a
    change of the defaults rebuilds a cached base model rather than reusing one of the old shape.

    Parameters
    ----------
    params : mapping
        The settings of :func:`run_finetune_stages`.

    Returns
    -------
    dict
        :data:`BASE_KEYS`, the resolved ``tiny_sizes`` and :data:`AUTOENCODER_RECIPE`.
    """
    return {**{k: params.get(k) for k in BASE_KEYS}, "autoencoder_recipe": AUTOENCODER_RECIPE,
            "tiny_sizes": {**dmodel.TINY_DEFAULTS, **(params.get("tiny_sizes") or {})}}


def _write_timing(folder: Path, seconds: float, **extra: Any) -> None:
    atomic_write_text(folder / TIMING_FILE, json.dumps({"seconds": round(seconds, 2), **extra}, indent=2))



def checked_manifest(run_dir: str | os.PathLike, manifest_path: str | os.PathLike,
                     progress: bool = True) -> tuple[Path, pd.DataFrame]:
    """Check every training image before any long computation, and leave out those that cannot be read.

    A cached stage (``02_finetune/images``, redone when the manifest changes; delete it to check
    again after replacing a file): every image is opened and decoded
    (:func:`galaxysd.gz2.images.check_images`, a few milliseconds a 424-pixel JPEG), so a truncated,
    empty or non-image file is found in seconds, reported by objID, and left out, rather than
    stopping the latent cache or training later.

    Parameters
    ----------
    run_dir : str or path-like
        The profile's run folder.
    manifest_path : str or path-like
        The training manifest of ``01_data``.
    progress : bool, optional
        Show a progress bar.

    Returns
    -------
    (pathlib.Path, pandas.DataFrame)
        The manifest to train on (``manifest_path`` itself when every image reads, else the stage's
        ``manifest.csv`` without the broken ones), and the broken images (``objid``, ``image_path``,
        ``reason``).

    Raises
    ------
    DataError
        If no training image can be read.

    Examples
    --------
    >>> manifest_path, broken = checked_manifest(paths.run, gz2.training_manifest_path(paths.run))  # doctest: +SKIP
    """
    from galaxysd.gz2.images import check_images
    from galaxysd.gz2.manifest import read_training_manifest, write_manifest

    manifest_path = Path(manifest_path)

    def check(folder: Path) -> None:
        manifest = read_training_manifest(manifest_path)
        broken = check_images(manifest["image_path"], manifest["objid"], progress=progress)
        if len(broken) == len(manifest):
            raise DataError(f"none of the {len(manifest)} training images of {manifest_path} can be read; "
                            f"the first: {broken['reason'].iloc[0] if len(broken) else ''}")
        if len(broken):
            write_manifest(manifest[~manifest["objid"].isin(broken["objid"])], folder / "manifest.csv")
        broken.to_csv(folder / "broken.csv", index=False)

    stage = run_stage(run_dir, f"{dmodel.STAGE}/images", {"check": 1}, check, inputs=[manifest_path])
    broken = pd.read_csv(stage.path / "broken.csv", dtype={"objid": "int64"})
    if broken.empty:
        return manifest_path, broken
    shown = ", ".join(str(i) for i in broken["objid"].head(10))
    print(f"[galaxysd] {len(broken)} training image(s) cannot be read and are left out (objID {shown}"
          f"{', ...' if len(broken) > 10 else ''}); see {stage.path / 'broken.csv'}", flush=True)
    return stage.path / "manifest.csv", broken


def run_finetune_stages(run_dir: str | os.PathLike, manifest_path: str | os.PathLike, params: dict,
                        num_processes: int = 1) -> dict:
    """The cached stages of notebook ``02_finetune``.

    0. ``02_finetune/images``: every training image is checked first (:func:`checked_manifest`);
       those that cannot be read are reported by objID and left out.
    1. ``02_finetune/web`` (tiny model with ``pretrain_steps > 0`` only): the simulated web collection.
    2. ``02_finetune/base`` (``base_model="tiny"`` only): build the tiny model and train its VAE
       on the training images (with ``autoencoder_images``, on the web collection's too, or instead).
    3. ``02_finetune/pretrain`` (with the web collection): the base model pre-trained on it.
    4. ``02_finetune/latents``: :func:`cache_latents` of every training image.
    5. ``02_finetune/train``: :func:`finetune` from the pre-trained model if there is one, else from the
       base; an interrupted run resumes from its checkpoints.

    Parameters
    ----------
    run_dir : str or path-like
        The profile's run folder.
    manifest_path : str or path-like
        The training manifest of ``01_data``.
    params : dict
        ``base_model`` (``"tiny"``, a Hub id or a folder), ``resolution``, ``tiny_sizes`` (dict),
        ``autoencoder_steps``, ``autoencoder_batch_size``, ``autoencoder_learning_rate``,
        ``autoencoder_crop``, ``seed``, the pre-training's ``pretrain_steps`` (0: none),
        ``pretrain_collection_size``, ``pretrain_dusty_early_types`` and ``autoencoder_images``
        (:mod:`galaxysd.stages.s02_pretrain`), ``latent_batch_size`` and any :class:`FinetuneConfig` setting.
    num_processes : int, optional
        Processes for the training stage (see :func:`launch_finetune`).

    Returns
    -------
    dict
        ``base`` (model folder or id), ``web`` (the collection's stage folder or ``None``),
        ``pretrained`` (the pre-trained model's folder or ``None``), ``base_model`` (what fine-tuning
        started from: ``pretrained`` or ``base``), ``latents`` (file), ``train`` (stage folder), ``model``
        (trained pipeline folder), ``hits`` (which stages were loaded from cache), ``broken_images``
        (objID, path and reason of each training image left out) and ``manifest`` (the one trained on).
    """
    run_dir = Path(run_dir)
    manifest_path, broken = checked_manifest(run_dir, manifest_path)
    p = dict(params)
    threads = p.get("num_threads")
    if threads:
        torch.set_num_threads(int(threads))
    device = "cuda" if torch.cuda.is_available() and not p.get("cpu") else "cpu"
    pre.check_exclusion(pd.read_csv(manifest_path, dtype={"tags": str}), str(manifest_path))
    hits, web_dir, pretrained = {}, None, None
    if pre.pretraining(p):
        res = pre.web_stage(run_dir, p)
        web_dir, hits["web"] = res.path, res.hit
    if p.get("base_model", "tiny") == "tiny":
        res = _base_stage(run_dir, manifest_path, p, web_dir)
        base, base_inputs, hits["base"] = str(res.path / "model"), [res.path], res.hit
        if web_dir is not None:
            res = pre.pretrain_stage(run_dir, p, base, base_inputs[0], web_dir, device)
            pretrained, hits["pretrain"] = res.path / "train" / "model", res.hit
    else:
        base = check_base_model(p["base_model"])
        base_inputs = [base] if Path(base).exists() else []
    caption_fit = check_training_captions(manifest_path, base)
    res = _latents_stage(run_dir, manifest_path, p, base, base_inputs, device)
    latents_file, hits["latents"] = res.path / LATENTS_FILE, res.hit
    start, start_inputs = (base, base_inputs) if pretrained is None else (str(pretrained), [*base_inputs, pretrained.parent.parent])
    res = _train_stage(run_dir, manifest_path, p, start, start_inputs, latents_file, device, num_processes)
    hits["train"] = res.hit
    return {"base": base, "base_dir": Path(base).parent if p.get("base_model", "tiny") == "tiny" else None,
            "web": web_dir, "pretrained": pretrained, "pretrain_dir": pretrained.parent.parent if pretrained else None,
            "base_model": start,
            "latents": latents_file, "latents_dir": latents_file.parent, "train": res.path, "model": res.path / "model",
            "hits": hits, "broken_images": broken, "manifest": manifest_path, "caption_fit": caption_fit}


def check_training_captions(manifest_path: str | os.PathLike, base: str) -> pd.DataFrame:
    """Every training galaxy's full caption through the base model's tokenizer; warns for each cut one.

    Parameters
    ----------
    manifest_path : path-like
        The training manifest (``tags`` column).
    base : str
        The base model's folder or Hub id (its ``tokenizer/``).

    Returns
    -------
    pandas.DataFrame
        :func:`galaxysd.diffusion.token_fit.check_captions`' table (a warning names every caption cut).
    """
    from transformers import CLIPTokenizer

    from galaxysd.diffusion.token_fit import check_captions

    tokenizer = CLIPTokenizer.from_pretrained(base, subfolder="tokenizer")
    tags = pd.read_csv(manifest_path, dtype={"tags": str})["tags"].fillna("")
    return check_captions(tags, tokenizer, source=f"training manifest {manifest_path}")


def _base_stage(run_dir: Path, manifest_path: Path, p: Mapping[str, Any], web_dir: Path | None = None):
    """``02_finetune/base``: the tiny model built, with its VAE trained on the training images (and,
    when pre-training, on the web collection's: ``autoencoder_images``)."""
    which = p.get("autoencoder_images", "survey") if web_dir is not None else "survey"

    def make_base(folder: Path) -> None:
        t0 = time.perf_counter()
        parts = dmodel.build_tiny_components(p["resolution"], p["seed"], **(p.get("tiny_sizes") or {}))
        image_paths = pre.autoencoder_image_paths(manifest_path, web_dir, which)
        images = load_images(image_paths, p["resolution"])
        losses = train_autoencoder(parts["vae"], images, steps=p["autoencoder_steps"],
                                   batch_size=p["autoencoder_batch_size"],
                                   learning_rate=p["autoencoder_learning_rate"], seed=p["seed"],
                                   crop=p.get("autoencoder_crop") or None)
        pd.DataFrame({"step": np.arange(1, len(losses) + 1), "mse": losses}).to_csv(
            folder / "autoencoder_loss.csv", index=False)
        dmodel.save_pipeline(parts, folder / "model")
        _write_timing(folder, time.perf_counter() - t0, steps=p["autoencoder_steps"], images=len(image_paths))

    # Without pre-training the key is what it always was, so runs made before it keep their cache.
    key, inputs = base_stage_params(p), [manifest_path]
    if which != "survey":
        key, inputs = {**key, "autoencoder_images": which}, [manifest_path, web_dir]
    return run_stage(run_dir, f"{dmodel.STAGE}/base", key, make_base, inputs=inputs)


def _latents_stage(run_dir: Path, manifest_path: Path, p: Mapping[str, Any], base: str, base_inputs: list,
                   device: str):
    """``02_finetune/latents``: every training image through the base model's VAE."""
    def make_latents(folder: Path) -> None:
        t0 = time.perf_counter()
        manifest = read_training_manifest(manifest_path)
        pipe = dmodel.load_pipeline(base, device=device)
        cache_latents(pipe.vae, manifest["image_path"].tolist(), p["resolution"], folder / LATENTS_FILE,
                      batch_size=p.get("latent_batch_size", 16), device=device,
                      objids=manifest["objid"].tolist())
        _write_timing(folder, time.perf_counter() - t0, images=len(manifest))

    lat_params = {"base_model": p.get("base_model", "tiny"), "resolution": p["resolution"]}
    return run_stage(run_dir, f"{dmodel.STAGE}/latents", lat_params, make_latents,
                     inputs=[manifest_path, *base_inputs])


def _train_stage(run_dir: Path, manifest_path: Path, p: Mapping[str, Any], base: str, base_inputs: list,
                 latents_file: Path, device: str, num_processes: int):
    """``02_finetune/train``: :func:`~galaxysd.diffusion.train.finetune`, resumed if interrupted."""
    train_params = {k: p[k] for k in TRAIN_KEYS if k in p}

    def make_train(folder: Path) -> None:
        cfg = FinetuneConfig.from_dict({**train_params, "base_model": base, "manifest": str(manifest_path),
                                        "latents": str(latents_file), "output_dir": str(folder),
                                        "resume": True, "num_threads": p.get("num_threads") or None})
        t0 = time.perf_counter()
        launch_finetune(cfg, num_processes=num_processes)
        _write_timing(folder, time.perf_counter() - t0, steps=cfg.max_steps, processes=num_processes,
                      threads=torch.get_num_threads(), device=device)
        (folder / "launch_config.json").unlink(missing_ok=True)
        (folder / "config.json").unlink(missing_ok=True)  # holds this machine's paths

    return run_stage(run_dir, f"{dmodel.STAGE}/train", train_params, make_train,
                     inputs=[manifest_path, latents_file.parent, *base_inputs])
