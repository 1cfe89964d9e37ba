"""Where does the demo's D-ETG chain break? The dust-lane depth at each link before Figure 6.

Chapter 07 measures the generated D-ETGs' lanes; this script measures the links before them on a run
folder where chapter 02 (and 07's survey stage) has run, with :func:`galaxysd.dustlane.dust_lane_stats`:

1. the autoencoder: survey D-ETGs, dusty disks and clean early types (simulated truth) before and after
   a round trip through ``02_finetune/base``'s VAE;
2. each model given (``--models``, default the pre-trained base and the fine-tuned model): ``--n``
   images of an early type with and without a lane, in the web collection's wording and in the GZ2
   tags' (the same seeds for every prompt).

Run from the project root::

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/detg_chain.py --run-dir runs/demo
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch

from galaxysd import dustlane_report, gz2
from galaxysd.diffusion import model as dmodel
from galaxysd.diffusion.latents import load_images
from galaxysd.diffusion.sample import SamplerSettings, generate
from galaxysd.dustlane import dust_lane_stats
from galaxysd.stages import s07_detg_experiment as s07

PROMPTS = {"lane, web wording": "a photo of an oval elliptical galaxy crossed by a dark dust lane",
           "no lane, web wording": "a photo of an oval elliptical galaxy",
           "lane, GZ2 tags (D-ETG 1)": "in-between round galaxy, {dust lane:1.3}",
           "no lane, GZ2 tags": "in-between round galaxy"}


def autoencoder_link(run: Path, n: int, size: int) -> None:
    survey = s07.read_survey(s07.survey_stage(run).path)
    sample = dustlane_report.truth_sample(gz2.truth_table(run), survey, n, 0)
    vae = dmodel.load_pipeline(str(run / "02_finetune" / "base" / "model")).vae
    images = load_images(sample["path"].tolist(), size, progress=False)
    with torch.no_grad():
        decoded = vae.decode(vae.encode(images.float() / 127.5 - 1).latent_dist.mean).sample
    decoded = ((decoded.clamp(-1, 1) + 1) * 127.5).round().byte().permute(0, 2, 3, 1).numpy()
    sample["before"] = dust_lane_stats(images.permute(0, 2, 3, 1).numpy())["lane_depth"].to_numpy()
    sample["after the autoencoder"] = dust_lane_stats(decoded)["lane_depth"].to_numpy()
    print("median dust-lane depth of survey galaxies, before and after the autoencoder:")
    print(sample.groupby("group")[["before", "after the autoencoder"]].median().round(3).to_string())


def model_link(model: str, n: int) -> None:
    pipe = dmodel.load_pipeline(model)
    settings = SamplerSettings(scheduler="euler_a", steps=12, guidance=4.0, strength=None)
    print(f"median dust-lane depth of {n} images a prompt from {model}:")
    for name, prompt in PROMPTS.items():
        depth = dust_lane_stats(generate(pipe, [prompt] * n, list(range(n)), settings))["lane_depth"]
        print(f"  {name:28s} {np.nanmedian(depth):.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run-dir", default="runs/demo", help="a demo run folder where 02 and 07 have run")
    parser.add_argument("--n", type=int, default=16, help="galaxies per group or prompt")
    parser.add_argument("--size", type=int, default=64, help="image side the autoencoder works at")
    parser.add_argument("--models", nargs="*", help="model folders (default: the run's pre-trained base and fine-tuned model)")
    args = parser.parse_args()
    run = Path(args.run_dir)
    torch.manual_seed(0)
    autoencoder_link(run, max(args.n, 60), args.size)
    models = args.models or [str(p) for p in (run / "02_finetune" / "pretrain" / "train" / "model",
                                              run / "02_finetune" / "train" / "model") if p.is_dir()]
    for model in models:
        model_link(model, args.n)


if __name__ == "__main__":
    main()
