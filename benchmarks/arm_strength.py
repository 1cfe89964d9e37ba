"""Do a trained model's spirals have winding arms? Arm strength of real, reconstructed and generated galaxies.

Issue 4 asks that the demo's generated spirals show arms. This script measures it with
:func:`galaxysd.imstats.spiral_arm_strength` (0 for a mirror-symmetric galaxy, large for arms that
wind one way), in three places:

- real spirals and completely round galaxies of the run's training manifest;
- the same real galaxies through the model's autoencoder: the most arm strength its latents keep;
- spirals generated from the Table 1 spiral prompts (F-J, in turn) and round galaxies from prompt B,
  image-to-image (strength 1) from references drawn at random from the whole training manifest, as
  ``03_generate`` does (the paper's sampler, ``--steps`` steps), by every model given: by default
  each training checkpoint of the run and its final model. At strength 1 the first latent still
  carries 0.068 times the reference's, so real spirals as references would lend their arms.

It prints one row per source with the median arm strength, mirror asymmetry, axis ratio and colour
of its spirals and the median arm strength of its round galaxies. Run from the project root::

    .venv/bin/python benchmarks/arm_strength.py --run-dir runs/demo --n 40
    .venv/bin/python benchmarks/arm_strength.py --run-dir runs/demo path/to/model_a path/to/model_b
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("models", nargs="*", help="model folders (default: the run's checkpoints and final model)")
    parser.add_argument("--run-dir", default="runs/demo", help="profile run folder (01_data and 02_finetune)")
    parser.add_argument("--n", type=int, default=40, help="galaxies per kind (real spirals, real round, generated)")
    parser.add_argument("--steps", type=int, default=12, help="sampler steps (the demo's 03_generate uses 12)")
    parser.add_argument("--guidance", type=float, default=6.5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2, help="CPU threads (0: torch default)")
    parser.add_argument("--json", default=None, help="also write the rows to this JSON file")
    return parser.parse_args(argv)


def real_galaxies(manifest: pd.DataFrame, tag: str, n: int, seed: int) -> list[str]:
    """Image paths of up to ``n`` training galaxies carrying ``tag`` (a seeded draw)."""
    from galaxysd import gz2

    tagged = manifest[manifest["tags"].map(lambda tags: tag in gz2.split_tags(tags))]
    if tagged.empty:
        raise SystemExit(f"arm_strength: no galaxy of the training manifest carries the tag {tag!r}")
    return tagged["image_path"].sample(min(n, len(tagged)), random_state=seed).tolist()


def random_references(manifest: pd.DataFrame, n: int, seed: int) -> list[str]:
    """Image paths of ``n`` training galaxies of any kind, drawn with replacement (seeded)."""
    rng = np.random.default_rng([seed, 1])
    return manifest["image_path"].to_numpy()[rng.integers(0, len(manifest), n)].tolist()


def summarise(source: str, spirals: np.ndarray, round_: np.ndarray, seconds: float = 0.0) -> dict:
    """Median statistics of one source's spiral and round galaxies (uint8 stacks (n, H, W, 3))."""
    from galaxysd import imstats

    spiral_stats, round_stats = imstats.image_stats(list(spirals)), imstats.image_stats(list(round_))
    return {"source": source, "n": len(spirals),
            "arm_strength": float(spiral_stats["arm_strength"].median()),
            "arm_strength_q75": float(spiral_stats["arm_strength"].quantile(0.75)),
            "mirror_asymmetry": float(spiral_stats["mirror_asymmetry"].median()),
            "axis_ratio": float(spiral_stats["axis_ratio"].median()),
            "colour": float(spiral_stats["colour"].median()),
            "round_arm_strength": float(round_stats["arm_strength"].median()),
            "seconds": round(seconds, 1)}


@torch.no_grad()
def reconstruct(pipe, images: np.ndarray) -> np.ndarray:
    """Images through the pipeline's autoencoder (posterior mean), as uint8."""
    from galaxysd.diffusion.sample import encode_references

    latents = encode_references(pipe, images) / pipe.vae.config.scaling_factor
    decoded = pipe.vae.decode(latents.to(pipe.vae.dtype)).sample.float().clamp(-1, 1)
    return ((decoded + 1) * 127.5).round().byte().permute(0, 2, 3, 1).cpu().numpy()


def main(argv=None) -> list[dict]:
    from galaxysd import gz2
    from galaxysd.diffusion import model as dmodel
    from galaxysd.diffusion import sample

    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    run_dir = Path(args.run_dir)
    manifest = gz2.read_training_manifest(gz2.training_manifest_path(run_dir))
    models = [Path(m) for m in args.models] or [*dmodel.checkpoint_paths(run_dir),
                                                 dmodel.trained_model_path(run_dir)]
    missing = [str(m) for m in models if not m.is_dir()]
    if missing:
        raise SystemExit(f"arm_strength: no model folder at {missing}; train one with notebook 02_finetune")
    first = dmodel.load_pipeline(models[-1])
    size = sample.native_resolution(first)
    spirals = sample.load_images(real_galaxies(manifest, "spiral galaxy", args.n, args.seed), size)
    round_ = sample.load_images(real_galaxies(manifest, "completely round galaxy", args.n, args.seed), size)
    rows = [summarise("real", spirals, round_),
            summarise(f"autoencoder of {models[-1].name}", reconstruct(first, spirals), reconstruct(first, round_))]
    settings = sample.SamplerSettings(steps=args.steps, guidance=args.guidance)
    references = sample.load_images(random_references(manifest, max(len(spirals), len(round_)), args.seed), size)
    spiral_prompts = [gz2.TABLE1_PROMPTS["FGHIJ"[i % 5]] for i in range(len(spirals))]
    for folder in models:
        pipe = first if folder == models[-1] else dmodel.load_pipeline(folder)
        pipe.set_progress_bar_config(disable=True)
        began = time.perf_counter()
        gen_spirals = sample.generate(pipe, spiral_prompts, [args.seed + i for i in range(len(spirals))],
                                      settings, references=references[:len(spirals)])
        gen_round = sample.generate(pipe, [gz2.TABLE1_PROMPTS["B"]] * len(round_),
                                    [args.seed + i for i in range(len(round_))], settings,
                                    references=references[:len(round_)])
        rows.append(summarise(f"generated by {folder.name}", gen_spirals, gen_round, time.perf_counter() - began))
    table = pd.DataFrame(rows).set_index("source")
    print(f"Spirals (prompts F-J) and completely round galaxies (B), {args.n} each, run {run_dir}:")
    print(table.round(3).to_string())
    print("arm strength of generated spirals against real: "
          + ", ".join(f"{r['source'].removeprefix('generated by ')} {r['arm_strength']:.3f}" for r in rows[2:])
          + f"; real {rows[0]['arm_strength']:.3f}, autoencoder {rows[1]['arm_strength']:.3f}")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))
    return rows


if __name__ == "__main__":
    main()
