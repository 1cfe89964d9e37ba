"""Do the fine-tuned model's dusty early types carry a lane? Models compared on the D-ETG prompts.

Chapter 02 may pre-train the demo's base model on a simulated web collection
(:mod:`galaxysd.gz2.simulate.web`) before fine-tuning, as Stable Diffusion v1.5 arrived knowing what a
dust lane looks like. This script compares runs' fine-tuned models (``<run>/02_finetune/train/model``)
on what the paper asks of them and the training set never shows: an early type with a dust lane.
For each run it

- measures its autoencoder's reconstruction error on the run's GZ2-like training images
  (:func:`galaxysd.diffusion.latents.reconstruction_error`; the autoencoder may have learnt from the
  survey's images, the web collection's, or both);
- draws ``--n`` galaxies from each of the two D-ETG prompts (:data:`galaxysd.gz2.DETG_PROMPTS`) and
  Table 1's K, text to image, the paper's sampler with ``--steps`` steps, the same seeds for every run;
- prints the median dust-lane depth (:func:`galaxysd.dustlane.dust_lane_depth`) over those galaxies
  and over the run's real early types of its training set (which hold no lane);

and writes one contact sheet (rows: runs and prompts) to ``--out``. Run from the project root::

    .venv/bin/python benchmarks/pretrain_detg.py runs/demo runs/demo-nodusty --out detg.png
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from PIL import Image

from galaxysd import gz2
from galaxysd.diffusion import model as dmodel
from galaxysd.diffusion.latents import load_images, reconstruction_error
from galaxysd.diffusion.sample import SamplerSettings, generate, native_resolution
from galaxysd.gz2.manifest import read_training_manifest


def dust_measure():
    """Dust-lane depths of a stack of images (N, H, W, 3), :func:`galaxysd.dustlane.dust_lane_stats`."""
    from galaxysd.dustlane import dust_lane_stats

    return lambda images: dust_lane_stats(images)["lane_depth"].to_numpy()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", help="run folders holding 02_finetune/train/model")
    parser.add_argument("--n", type=int, default=8, help="galaxies per prompt and run")
    parser.add_argument("--steps", type=int, default=12, help="sampler steps")
    parser.add_argument("--guidance", type=float, default=6.5, help="classifier-free guidance")
    parser.add_argument("--recon-images", type=int, default=256, help="training images for the reconstruction error")
    parser.add_argument("--out", default="detg_samples.png", help="contact sheet (PNG)")
    args = parser.parse_args()

    prompts = {"D-ETG 1": gz2.DETG_PROMPTS[0], "D-ETG 2": gz2.DETG_PROMPTS[1], "K": gz2.TABLE1_PROMPTS["K"]}
    settings = SamplerSettings(scheduler="euler_a", steps=args.steps, guidance=args.guidance, strength=None)
    measure = dust_measure()
    rows, sheet = [], []
    for run in map(Path, args.runs):
        t0 = time.perf_counter()
        pipe = dmodel.load_pipeline(run / "02_finetune" / "train" / "model")
        manifest = read_training_manifest(gz2.training_manifest_path(run))
        size = native_resolution(pipe)
        real = load_images(manifest["image_path"].head(args.recon_images).tolist(), size, progress=False)
        row = {"run": str(run), "recon_mse": reconstruction_error(pipe.vae, real)}
        for name, prompt in prompts.items():
            images = generate(pipe, [prompt] * args.n, list(range(args.n)), settings)
            sheet.append(np.concatenate(list(images), axis=1))
            if measure is not None:
                row[f"dust {name}"] = float(np.nanmedian(measure(images)))
        if measure is not None:
            tags = manifest["tags"].str.split("|")
            early = tags.map(lambda t: bool(set(gz2.tags.EARLY_TYPE_TAGS) & set(t)))
            real_early = load_images(manifest.loc[early, "image_path"].head(64).tolist(), size, progress=False)
            real_early = real_early.permute(0, 2, 3, 1).numpy()  # uint8 (N, H, W, 3)
            row["dust real early types"] = float(np.nanmedian(measure(real_early)))
        row["seconds"] = round(time.perf_counter() - t0, 1)
        rows.append(row)
    print(pd.DataFrame(rows).to_string(index=False))
    Image.fromarray(np.concatenate(sheet, axis=0)).save(args.out)
    print(f"rows of {args.out}: " + ", ".join(f"{r} {p}" for r in args.runs for p in prompts))


if __name__ == "__main__":
    torch.manual_seed(0)
    main()
