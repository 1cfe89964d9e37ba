"""Chapter 03: the cached stages of notebook ``03_generate`` over the run folder.

=========================  ==================================================================
stage folder               holds
=========================  ==================================================================
``03_generate/img2img``    Table 1's prompts sampled image-to-image: ``<sample_id>.png``,
                           ``manifest.csv``, ``timing.json`` (:func:`generate_table1`)
``03_generate/txt2img``    the same prompts text-to-image (:func:`generate_table1`)
``03_generate/sweep``      one phrase at several weights (:func:`weight_sweep`)
``03_generate/quality``    image statistics of generated and real galaxies per prompt:
                           ``generated.csv``, ``real.csv`` (:func:`measured_prompts_stage`)
=========================  ==================================================================

The generation engine (plans, resumable batches on disk, the cached generation stage) is
:mod:`galaxysd.diffusion.batch`; the figures are :mod:`galaxysd.diffusion.gallery` and the
prompt-following measurements :mod:`galaxysd.diffusion.quality`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
from pathlib import Path
from typing import Mapping, Sequence

import pandas as pd

from galaxysd import cache, imstats
from galaxysd.cache import stage_timing  # noqa: F401 (the chapter reads the sampling time here)
from galaxysd.diffusion import quality
from galaxysd.diffusion.batch import GenerationInputs, generation_stage, read_generated
from galaxysd.diffusion.plan import plan_samples
from galaxysd.diffusion.prompts import weighted_prompt
from galaxysd.diffusion.sample import SamplerSettings, load_images
from galaxysd.paths import portable_path

#: Columns of the tables this chapter digests that hold file paths.
PATH_COLUMNS = ("image_path", "path")


def generate_table1(run_dir: str | os.PathLike, inputs: GenerationInputs, settings: SamplerSettings,
                    n_img2img: int, n_txt2img: int, seed: int = 0,
                    batch_size: int = 16) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The Table 1 prompts sampled image-to-image and text-to-image, as two cached stages.

    ``03_generate/img2img`` draws a real reference per image (seeded, recorded); ``03_generate/txt2img``
    uses the same settings without a reference (``strength=None``).

    Parameters
    ----------
    run_dir : str or path-like
        The profile's run folder.
    inputs : GenerationInputs
        From :func:`galaxysd.diffusion.batch.generation_inputs`.
    settings : SamplerSettings
        Image-to-image settings (scheduler, steps, guidance, strength, resolution).
    n_img2img, n_txt2img : int
        Images per prompt of each kind.
    seed : int, optional
    batch_size : int, optional

    Returns
    -------
    (pandas.DataFrame, pandas.DataFrame)
        :func:`~galaxysd.diffusion.batch.read_generated` of the image-to-image and of the text-to-image stage.

    Examples
    --------
    >>> gen_i2i, gen_t2i = generate_table1(paths.run, inputs, settings, 8, 8)  # doctest: +SKIP
    """
    plan_i2i = plan_samples(inputs.prompts, n_img2img, seed, references=list(inputs.reference_paths))
    plan_t2i = plan_samples(inputs.prompts, n_txt2img, seed)
    stage_i2i = generation_stage(run_dir, "03_generate/img2img", inputs.model, plan_i2i, settings,
                                 inputs.reference_paths, batch_size, inputs=inputs.stage_inputs)
    stage_t2i = generation_stage(run_dir, "03_generate/txt2img", inputs.model, plan_t2i,
                                 dataclasses.replace(settings, strength=None), batch_size=batch_size,
                                 inputs=inputs.stage_inputs)
    return read_generated(stage_i2i.path), read_generated(stage_t2i.path)


def weight_sweep(run_dir: str | os.PathLike, inputs: GenerationInputs, settings: SamplerSettings, base: str,
                 phrase: str, weights: Sequence[float], n: int, seed: int = 0,
                 batch_size: int = 16) -> tuple[dict, dict]:
    """One phrase of a prompt sampled at several weights, with the same seeds and references in every row.

    Cached as the stage ``03_generate/sweep`` (labels ``w1``, ``w1.3``, ...).

    Parameters
    ----------
    run_dir : str or path-like
    inputs : GenerationInputs
    settings : SamplerSettings
        Image-to-image settings.
    base : str
        The prompt without the phrase, e.g. ``"sdss, in-between round galaxy"``.
    phrase : str
        The phrase appended with each weight (:func:`galaxysd.diffusion.prompts.weighted_prompt`).
    weights : sequence of float
    n : int
        Images per weight.
    seed : int, optional
    batch_size : int, optional

    Returns
    -------
    (dict, dict)
        Weight to its images (uint8, ``inputs.size`` pixels), and weight to its prompt; the arguments
        of :func:`galaxysd.diffusion.gallery.sweep_figure`.

    Examples
    --------
    >>> images, prompt_of = weight_sweep(paths.run, inputs, settings, "sdss, round", "dust lane", [1, 1.3], 4)  # doctest: +SKIP
    """
    prompt_of = {w: weighted_prompt(base, phrase, w) for w in weights}
    plan = plan_samples({f"w{w:g}": prompt_of[w] for w in weights}, n, seed,
                        references=list(inputs.reference_paths), same_draws_for_every_prompt=True)
    stage = generation_stage(run_dir, "03_generate/sweep", inputs.model, plan, settings, inputs.reference_paths,
                             batch_size, inputs=inputs.stage_inputs)
    generated = read_generated(stage.path)
    images = {w: load_images(generated.loc[generated["label"] == f"w{w:g}", "path"], inputs.size) for w in weights}
    return images, prompt_of


def measured_prompts_stage(run_dir: str | os.PathLike, manifest: pd.DataFrame, generated: pd.DataFrame,
                           prompts: Mapping[str, str], n_real: int, size: int, seed: int = 0,
                           inputs: Sequence[str | os.PathLike] = ()) -> tuple[pd.DataFrame, pd.DataFrame]:
    """:func:`~galaxysd.diffusion.quality.measure_prompts` as the cached stage ``03_generate/quality``.

    Measuring a thousand galaxies takes half a minute on 2 cores, which every rebuild of the book
    would otherwise repeat. The stage is recomputed when the parameters, the training manifest, the
    list of generated images, ``inputs`` (the generated images' stage folder, whose content changes
    when the model does) or the measuring code (``imstats.py``, ``diffusion/quality.py``) change.

    Parameters
    ----------
    run_dir : str or path-like
        The profile's run folder.
    manifest, generated, prompts, n_real, size, seed
        As for :func:`~galaxysd.diffusion.quality.measure_prompts`.
    inputs : sequence of path-like, optional
        Folders or files the generated images come from.

    Returns
    -------
    (pandas.DataFrame, pandas.DataFrame)
        As :func:`~galaxysd.diffusion.quality.measure_prompts`, read back from the stage's
        ``generated.csv`` and ``real.csv``.
    """
    def frame_digest(frame: pd.DataFrame) -> str:
        # files named as the stage folder would store them, so the key is the same wherever the run folder is
        here = Path(run_dir) / "03_generate"
        frame = frame.apply(lambda col: col.map(lambda p: portable_path(p, here)) if col.name in PATH_COLUMNS else col)
        return hashlib.sha256(frame.to_csv(index=False).encode()).hexdigest()[:16]

    def compute(out: Path) -> None:
        stats_gen, stats_real = quality.measure_prompts(manifest, generated, prompts, n_real, size, seed)
        stats_gen.to_csv(out / "generated.csv", index=False)
        stats_real.to_csv(out / "real.csv", index=False)

    params = {"prompts": dict(prompts), "n_real": int(n_real), "size": int(size), "seed": int(seed),
              "manifest": frame_digest(manifest[["objid", "image_path", "tags"]]),
              "generated": frame_digest(generated[["path", "label"]])}
    stage = cache.run_stage(run_dir, "03_generate/quality", params, compute,
                            inputs=[*inputs, imstats.__file__, quality.__file__])
    return pd.read_csv(stage.path / "generated.csv"), pd.read_csv(stage.path / "real.csv")


def prompt_following(run_dir: str | os.PathLike, manifest: pd.DataFrame, generated: pd.DataFrame,
                     prompts: Mapping[str, str], n_real: int, size: int, seed: int = 0,
                     stage_inputs: Sequence[str | os.PathLike] = ()) -> tuple[pd.DataFrame, dict[str, str]]:
    """Do generated galaxies follow their prompts? Image statistics of generated vs real, per prompt.

    Every generated image is measured, and up to ``n_real`` real galaxies carrying all of each
    prompt's tags (prompts without such galaxies get no real column values); the measurements are
    kept as the cached stage ``03_generate/quality`` (:func:`measured_prompts_stage`).

    Parameters
    ----------
    run_dir : str or path-like
        The profile's run folder.
    manifest, generated, prompts, n_real, size, seed
        As for :func:`~galaxysd.diffusion.quality.measure_prompts`: the training manifest, the
        generated images (``label`` = Table 1 letter, ``path``), letter to prompt, real galaxies per
        prompt, their side in pixels, the seed of their draw.
    stage_inputs : sequence of path-like, optional
        What the generated images come from (their stage folder).

    Returns
    -------
    (pandas.DataFrame, dict of str to str)
        :func:`galaxysd.diffusion.quality.prompt_following_report` of the measurements.

    Examples
    --------
    >>> table, texts = prompt_following(paths.run, manifest, gen_i2i, {"B": "sdss, round"}, 64, 64)  # doctest: +SKIP
    """
    stats_gen, stats_real = measured_prompts_stage(run_dir, manifest, generated, prompts, n_real, size, seed,
                                                   stage_inputs)
    return quality.prompt_following_report(stats_gen, stats_real, prompts, seed)
