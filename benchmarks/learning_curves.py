"""Learning curves of one Table 2 task's baseline classifier: validation and test scores per epoch.

    python benchmarks/learning_curves.py --run-dir runs/demo --task spiral --epochs 30 \\
        --learning-rates 1e-4 1e-3 --threads 1

Reads 01_data's labels and images of the run (nothing else), draws the task's training set as
chapter 06 does (the notebook's split, negatives and image size; see ``--help``), trains one baseline
run per learning rate for ``--epochs`` epochs without early stopping and prints, per epoch: seconds so
far, training loss, validation loss and average precision, validation F1 at its best threshold, and
test F1 at that threshold. The epoch where validation stops improving, and how long it took, is what
the demo's ``epochs`` and ``patience`` are chosen from (benchmarks/README.md).
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace
from pathlib import Path

import pandas as pd


def learning_curve(train_set, val_set, test_set, config) -> pd.DataFrame:
    """Train once and score every epoch's weights on validation and test galaxies.

    Returns
    -------
    pandas.DataFrame
        Per epoch: ``seconds`` (since the start), ``train_loss``, ``val_loss``, ``val_ap``, ``val_f1``
        (at the threshold that maximises it), ``test_f1`` (at that threshold) and ``test_ap``.
    """
    from sklearn.metrics import average_precision_score

    from galaxysd.classify.data import dataset_labels
    from galaxysd.classify.metrics import binary_scores, choose_threshold
    from galaxysd.classify.train import predict, train_binary

    y_val, y_test = dataset_labels(val_set), dataset_labels(test_set)
    rows, began = [], time.perf_counter()

    def on_epoch(row, net):
        seconds = time.perf_counter() - began
        val = predict(net, val_set, config.eval_batch_size, config.crop)
        test = predict(net, test_set, config.eval_batch_size, config.crop)
        threshold = choose_threshold(y_val, val)
        rows.append({**row, "seconds": round(seconds, 1),
                     "val_f1": binary_scores(y_val, val >= threshold)["f1"],
                     "test_f1": binary_scores(y_test, test >= threshold)["f1"],
                     "test_ap": float(average_precision_score(y_test, test))})
        print(pd.DataFrame(rows[-1:]).round(3).to_string(index=False, header=len(rows) == 1), flush=True)

    train_binary(train_set, val_set, config, on_epoch=on_epoch)
    return pd.DataFrame(rows)


def main(argv=None) -> None:
    import tempfile

    import torch

    from galaxysd.classify.train import TrainConfig
    from galaxysd.stages import s06_classification as s06

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run-dir", required=True, type=Path, help="a run folder with 01_data done")
    parser.add_argument("--task", default="spiral")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--learning-rates", type=float, nargs="+", default=[1e-4])
    parser.add_argument("--image-size", type=int, default=32)
    parser.add_argument("--n-negatives", type=int, default=200)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0, help="training seed")
    parser.add_argument("--split-seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--csv", type=Path, help="also write every curve to this CSV file")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)

    sample = s06.load_sample(args.run_dir, args.split_seed)
    data = s06._task_data(sample, args.task, "not_positive", args.n_negatives, args.split_seed, args.image_size,
                          preload=True)
    print(f"{args.task}: {len(data.real)} training, {len(data.val)} validation, {len(data.test)} test galaxies "
          f"({int(data.y[data.test_rows].sum())} test positives), {args.image_size} px", flush=True)
    curves = []
    with tempfile.TemporaryDirectory() as work:
        for lr in args.learning_rates:
            print(f"\nlearning rate {lr:g}", flush=True)
            config = TrainConfig(output_dir=str(Path(work) / f"lr{lr:g}"), epochs=args.epochs,
                                 batch_size=args.batch_size, learning_rate=lr, seed=args.seed, cpu=True,
                                 num_threads=args.threads)
            curve = learning_curve(data.real, data.val, data.test, config).assign(learning_rate=lr)
            best = curve.loc[curve["val_ap"].idxmax()]
            print(f"best validation AP {best.val_ap:.3f} at epoch {int(best.epoch)} ({best.seconds:.0f} s); "
                  f"test F1 there {best.test_f1:.3f}", flush=True)
            curves.append(curve)
    if args.csv:
        pd.concat(curves).to_csv(args.csv, index=False)


if __name__ == "__main__":
    main()
