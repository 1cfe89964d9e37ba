"""The learning-curve benchmark: one row of validation and test scores per epoch."""

import importlib.util
from pathlib import Path

import numpy as np
import torch

from galaxysd.classify import data
from galaxysd.classify.train import TrainConfig

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "learning_curves.py"


def _toy(n, seed):
    rng = np.random.default_rng(seed)
    y = (np.arange(n) % 2).astype(float)
    level = np.where(y == 1, 190, 60)[:, None, None, None]
    return data.ArrayDataset(np.clip(level + rng.normal(0, 25, (n, 16, 16, 3)), 0, 255).astype(np.uint8), y)


def test_learning_curve_has_a_row_per_epoch_with_validation_and_test_scores(tmp_path):
    torch.set_num_threads(1)
    spec = importlib.util.spec_from_file_location("learning_curves", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    config = TrainConfig(output_dir=str(tmp_path), epochs=3, batch_size=8, learning_rate=1e-3, cpu=True)
    curve = module.learning_curve(_toy(24, 0), _toy(8, 1), _toy(8, 2), config)
    assert list(curve["epoch"]) == [1, 2, 3] and curve["seconds"].is_monotonic_increasing
    assert curve[["val_f1", "test_f1", "test_ap"]].apply(lambda c: c.between(0, 1).all()).all()
