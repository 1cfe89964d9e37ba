"""The paper profile, chapters 01 -> 08, on Stable Diffusion v1.5's architecture at 424 px, on a CPU.

The base model is a folder written by ``python -m galaxysd sd15-architecture`` (the small form by
default: SD v1.5's blocks, tokenizer and scaling factor with narrow channels; ``--base-model`` names the
full-size folder instead). The data are a small folder in the real files' formats
(``tests/realfiles.py``: the Hart16 table, the Zenodo image zip at 424 px, the dust-lane list, GSWLC-2,
the Yang et al. groups). Every setting is the paper profile's except the counts (steps, images, epochs,
galaxies), the threads and loader processes of a 2-core machine, and the classifiers' input size
(``--classifier-size``, 224 in the paper): fine-tuning runs at 424 px with gradient checkpointing,
AdamW and the paper's learning rate, sampling with Euler ancestral and guidance 6.5 at 424 px.

Usage::

    python benchmarks/sd15_paper_route.py --work /tmp/sd15-route                 # small form, a few minutes
    python -m galaxysd sd15-architecture --out /data/sd15-architecture           # full size, 4 GB
    python benchmarks/sd15_paper_route.py --work /tmp/sd15-full --base-model /data/sd15-architecture

It prints the wall seconds of each chapter and the executed notebooks' folder.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = ["01_data", "02_finetune", "03_generate", "04_embedding", "05_quality", "06_classification",
            "07_detg_experiment", "08_detg_catalog"]


def overrides(base_model: str, classifier_size: int, train_batch: int = 2) -> list[str]:
    """The paper profile's ``--set`` values for a CPU rehearsal: counts cut, settings kept."""
    s = classifier_size
    values = {
        "01_data": dict(gallery_per_tag=3, balance_cap=6),
        "02_finetune": dict(base_model=base_model, max_steps=4, batch_size=train_batch, warmup_steps=1,
                            checkpoint_every=2,
                            grid_checkpoints=1, grid_steps=3, e5_letters="AK", num_threads=1),
        "03_generate": dict(letters="AK", steps=3, n_per_prompt=2, n_txt2img=1, n_sweep=1, n_real_stats=8,
                            batch_size=4, num_threads=1),
        "04_embedding": dict(image_size=s, epochs=1, batch_size=16, checkpoint_every=0, n_probe=0, n_tsne=0,
                             perplexity=5.0, num_threads=1),
        "05_quality": dict(letters="AK", n_per_prompt=2, steps=3, max_checkpoints=2, min_positive=3, batch_size=4,
                           check_features=["spiral galaxy"], check_image_size=s, check_epochs=1,
                           check_max_train=40, check_val_fraction=0.3, check_batch_size=8, check_min_held_out=3,
                           check_num_workers=0, num_threads=1),
        "06_classification": dict(tasks=["spiral"], test_fraction=0.3, val_fraction=0.3, n_negatives=20, seeds=[0],
                                  image_size=s, epochs=1, batch_size=8, generated_multiples=[0.25],
                                  ours_multiple=0.25, steps=3, generation_batch_size=4, n_resamples=100,
                                  num_workers=0, num_processes=1, preload_images=True, num_threads=1),
        "07_detg_experiment": dict(n_train_known=2, n_test_known=0, ratio=20, val_fraction=0.5, n_generated=4,
                                   n_augment=4, seeds=[0], image_size=s, epochs=1, batch_size=8, steps=3,
                                   generation_batch_size=4, n_resamples=100, n_show=3, num_workers=0,
                                   num_processes=1, preload_images=True, num_threads=1),
        "08_detg_catalog": dict(n_generated=4, n_random=4, n_iterations=2, val_fraction=0.3, score_batch_size=64,
                                image_size=s, epochs=1, batch_size=8, n_control=10, n_resamples=50, n_show=3,
                                num_workers=0, num_processes=1, preload_images=True, num_threads=1,
                                max_candidates=20),
    }
    return [f"{nb}.{k}={json.dumps(v)}" for nb, kv in values.items() for k, v in kv.items()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", required=True, help="folder for the data, the model, the runs and the notebooks")
    parser.add_argument("--base-model", help="an SD v1.5 architecture folder (default: the small form, written)")
    parser.add_argument("--n-galaxies", type=int, default=300)
    parser.add_argument("--classifier-size", type=int, default=16, help="ResNet-18 input side (paper: 224)")
    parser.add_argument("--train-batch", type=int, default=2,
                        help="fine-tuning batch (1 keeps the full size near 16 GiB of memory)")
    parser.add_argument("--only", nargs="+", default=CHAPTERS)
    parser.add_argument("--print-command", action="store_true",
                        help="print the equivalent `python -m galaxysd run` command and stop")
    args = parser.parse_args(argv)
    if args.print_command:
        import shlex

        work = Path(args.work)
        base = Path(args.base_model) if args.base_model else work / "sd15-small"
        values = overrides(str(base.resolve()), args.classifier_size, args.train_batch)
        sets = " ".join(f"--set {shlex.quote(s)}" for s in values)
        print(f"python -m galaxysd run --profile paper --no-progress --run-dir {work / 'runs'} "
              f"--figures-dir {work / 'figures'} --data-dir {work / 'data'} --output-dir {work / 'notebooks'} {sets}")
        return 0
    sys.path.insert(0, str(ROOT / "tests"))
    from realfiles import paper_data_folder

    from galaxysd import book
    from galaxysd.diffusion.sd15 import write_sd15_architecture

    work = Path(args.work)
    t0 = time.perf_counter()
    if not (work / "data" / "gz2" / "images_gz2.zip").is_file():
        paper_data_folder(work / "data", n_galaxies=args.n_galaxies, image_size=424, seed=0)
    base = Path(args.base_model) if args.base_model else work / "sd15-small"
    if not args.base_model and not (base / "model_index.json").is_file():
        write_sd15_architecture(base, small=True)
    print(f"data and model ready in {time.perf_counter() - t0:.0f} s; base model {base}", flush=True)
    sets = overrides(str(base.resolve()), args.classifier_size, args.train_batch)
    for chapter in [c for c in CHAPTERS if c in args.only]:
        t0 = time.perf_counter()
        book.run_profile("paper", only=[chapter], overrides=sets, root=ROOT, output_dir=work / "notebooks",
                         run_dir=str(work / "runs"), figures_dir=str(work / "figures"),
                         data_dir=str(work / "data"), progress=False)
        print(f"{chapter:20s} {time.perf_counter() - t0:8.0f} s", flush=True)
    print(f"executed notebooks in {work / 'notebooks'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
