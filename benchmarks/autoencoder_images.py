"""What should the tiny autoencoder learn from: the survey's images, the web collection's, or both?

Stable Diffusion's autoencoder was trained on web images and reconstructs SDSS cutouts well; the demo's
tiny one is trained in chapter 02 (``autoencoder_images``). This script trains it three ways, with the
same steps, seed and recipe (:func:`galaxysd.diffusion.latents.train_autoencoder`), and measures the
reconstruction error (:func:`galaxysd.diffusion.latents.reconstruction_error`) on survey images kept
out of its training (the run's survey images outside the training manifest) and on web pictures.
Run from the project root, after ``01_data`` of a demo run::

    .venv/bin/python benchmarks/autoencoder_images.py --run-dir runs/demo --steps 1000
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import pandas as pd
import torch

from galaxysd import gz2
from galaxysd.diffusion import model as dmodel
from galaxysd.diffusion.latents import load_images, reconstruction_error, train_autoencoder
from galaxysd.gz2.simulate.web import read_web_manifest, write_web_collection


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run-dir", required=True, help="a run folder with 01_data done")
    parser.add_argument("--steps", type=int, default=1000, help="autoencoder steps (the demo: 1,000)")
    parser.add_argument("--web", type=int, default=3000, help="web pictures (the demo: pretrain_collection_size)")
    parser.add_argument("--held-out", type=int, default=256, help="survey images outside training, to score")
    parser.add_argument("--resolution", type=int, default=64)
    parser.add_argument("--out", default="/tmp/autoencoder_images", help="scratch folder for the web collection")
    args = parser.parse_args()

    run = Path(args.run_dir)
    manifest = pd.read_csv(gz2.training_manifest_path(run))
    survey = sorted((run / "01_data" / "survey" / "images").glob("*.jpg"))
    trained = set(manifest["image_path"].map(lambda p: Path(p).name))
    held = [str(p) for p in survey if p.name not in trained][:args.held_out]
    if not (Path(args.out) / "manifest.csv").is_file():
        write_web_collection(args.out, args.web, args.resolution, seed=0, progress=False)
    web = read_web_manifest(args.out)["image_path"].tolist()
    images = {"survey": load_images(manifest["image_path"].tolist(), args.resolution, progress=False),
              "web": load_images(web, args.resolution, progress=False)}
    images["both"] = torch.cat([images["survey"], images["web"]])
    held_images = load_images(held, args.resolution, progress=False)
    web_held = images["web"][-args.held_out:]
    rows = []
    for which in ("survey", "both", "web"):
        vae = dmodel.build_tiny_components(args.resolution, 0)["vae"]
        t0 = time.perf_counter()
        train_autoencoder(vae, images[which], steps=args.steps, batch_size=16, learning_rate=1e-3, seed=0, crop=32,
                          progress=False)
        rows.append({"trained on": which, "images": len(images[which]), "seconds": round(time.perf_counter() - t0),
                     "MSE held-out survey": reconstruction_error(vae, held_images),
                     "MSE web": reconstruction_error(vae, web_held)})
        print(rows[-1], flush=True)
    print(pd.DataFrame(rows).to_string(index=False))


if __name__ == "__main__":
    torch.manual_seed(0)
    main()
