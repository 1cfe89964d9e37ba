"""Time the judge check of chapter 05 (``05_quality/judge_check``) and show what its networks reach.

The check trains one ResNet-18 per checked feature, so on the demo its cost and its networks'
quality both hang on the training budget (galaxies, batch size, epochs). The script copies the three
stage folders the check reads (``01_data/labels``, ``04_embedding/embed``, ``05_quality/judges``) of a
run folder where 04 and 05's judges have run into a scratch folder, runs the stage there with the
settings given, and prints its wall and CPU seconds, the machine's load average and the table.
Run from the project root::

    .venv/bin/python benchmarks/judge_check.py --run-dir runs/demo --max-train 400 --batch-size 16
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

FEATURES = ["spiral galaxy", "edge-on galaxy", "in-between round galaxy"]


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--run-dir", default="runs/demo", help="run folder where 04_embedding and 05's judges ran")
    parser.add_argument("--features", nargs="+", default=FEATURES)
    parser.add_argument("--max-train", type=int, default=400)
    parser.add_argument("--val-fraction", type=float, default=0.1)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--learning-rate", type=float, default=1e-4)
    parser.add_argument("--image-size", type=int, default=32)
    parser.add_argument("--threads", type=int, default=1)
    return parser.parse_args(argv)


def main(argv=None) -> None:
    import torch

    from galaxysd.classify.train import TrainConfig
    from galaxysd.evaluation.judges import Judges
    from galaxysd.paths import run_paths
    from galaxysd.stages import s05_quality as s05

    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as scratch:
        for stage in ("01_data/labels", "04_embedding/embed", "05_quality/judges"):
            shutil.copytree(Path(args.run_dir) / stage, Path(scratch) / stage)
        paths = run_paths("demo", scratch, str(Path(scratch) / "figures"), str(Path(scratch) / "data"))
        judges = Judges.load(Path(scratch) / "05_quality" / "judges" / "judges.json")
        config = TrainConfig(epochs=args.epochs, batch_size=args.batch_size, learning_rate=args.learning_rate,
                             num_threads=args.threads)
        wall, cpu = time.perf_counter(), time.process_time()
        table = s05.judge_check_stage(paths, judges, args.features, config, args.image_size, 0.3, 0,
                                      args.val_fraction, args.max_train, progress=False)
        print(f"judge check: {time.perf_counter() - wall:.1f} s wall, {time.process_time() - cpu:.1f} s CPU, "
              f"{args.threads} thread(s), load average {os.getloadavg()[0]:.1f}")
    print(table[["head", "network", "difference", "difference_low", "difference_high", "verdict"]].round(3).to_string())


if __name__ == "__main__":
    main()
