"""The classifier training loop: it learns, resumes bit for bit, reads files, runs in two processes."""

import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image

from galaxysd.classify import data, train
from galaxysd.errors import DataError

SIZE = 16


def _toy(n, seed):
    """Bright (positive) and dark (negative) noisy squares: a task any classifier should separate."""
    rng = np.random.default_rng(seed)
    y = (np.arange(n) % 2).astype(float)
    level = np.where(y == 1, 190, 60)[:, None, None, None]
    images = np.clip(level + rng.normal(0, 25, (n, SIZE, SIZE, 3)), 0, 255).astype(np.uint8)
    return images, y


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)


def _config(out, **kw):
    values = dict(output_dir=str(out), epochs=2, batch_size=8, learning_rate=1e-3, seed=0, cpu=True)
    values.update(kw)
    return train.TrainConfig(**values)


def test_a_tiny_resnet18_learns_a_separable_toy_task(tmp_path):
    train_set, val_set, test_set = (data.ArrayDataset(*_toy(n, s)) for n, s in ((48, 0), (16, 1), (16, 2)))
    out = train.train_and_predict(train_set, val_set, test_set, _config(tmp_path, epochs=3))
    y_test = _toy(16, 2)[1]
    assert out["best_epoch"] >= 1 and len(out["history"]) == 3
    assert (out["test_pred"] == y_test).mean() >= 0.9
    assert (tmp_path / "best.safetensors").is_file() and (tmp_path / "checkpoint" / "state.json").is_file()


def test_a_resumed_run_ends_with_the_same_weights_as_an_uninterrupted_one(tmp_path):
    sets = [data.ArrayDataset(*_toy(n, s)) for n, s in ((24, 0), (8, 1))]
    whole = train.train_binary(*sets, _config(tmp_path / "whole", epochs=3))
    first = train.train_binary(*sets, _config(tmp_path / "split", epochs=3, stop_after=1))
    assert first.interrupted and len(first.history) == 1
    resumed = train.train_binary(*sets, _config(tmp_path / "split", epochs=3))
    assert not resumed.interrupted and resumed.best_epoch == whole.best_epoch
    pd.testing.assert_frame_equal(resumed.history, whole.history)
    for (name, a), (_, b) in zip(whole.model.state_dict().items(), resumed.model.state_dict().items()):
        assert torch.equal(a, b), name


def test_augmentation_is_seeded_and_the_evaluation_crop_is_fixed():
    images = torch.from_numpy(_toy(4, 0)[0]).permute(0, 3, 1, 2)
    a = data.augment(images, torch.Generator().manual_seed(1))
    b = data.augment(images, torch.Generator().manual_seed(1))
    c = data.augment(images, torch.Generator().manual_seed(2))
    assert torch.equal(a, b) and not torch.equal(a, c) and a.shape == (4, 3, SIZE, SIZE)
    assert torch.equal(data.augment(images, None), data.augment(images, None))


def _write_images(folder, images):
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, image in enumerate(images):
        path = folder / f"{i}.jpg"
        Image.fromarray(image).save(path, quality=95)
        paths.append(str(path))
    return paths


def test_a_corrupt_training_image_is_a_named_error(tmp_path):
    paths = _write_images(tmp_path / "images", _toy(2, 0)[0])
    (tmp_path / "images" / "1.jpg").write_bytes(b"not a jpeg")
    dataset = data.FileDataset(paths, [0.0, 1.0], SIZE)
    assert dataset[0][0].shape == (3, SIZE, SIZE)
    with pytest.raises(DataError, match="1.jpg"):
        dataset[1]


def test_labels_of_concatenated_file_datasets_are_read_without_decoding(tmp_path):
    real = data.FileDataset([str(tmp_path / "missing.jpg")], [0.0], SIZE)
    generated = data.ArrayDataset(_toy(2, 0)[0], [1.0, 1.0])
    assert data.dataset_labels(data.concat(real, generated)).tolist() == [0.0, 1.0, 1.0]


@pytest.mark.slow
def test_two_cpu_processes_train_one_classifier_from_image_files(tmp_path):
    images, y = _toy(16, 0)
    paths = _write_images(tmp_path / "images", images)
    train_set = data.FileDataset(paths[:12], y[:12], SIZE)
    val_set = data.FileDataset(paths[12:], y[12:], SIZE)
    config = _config(tmp_path / "ddp", epochs=2, batch_size=4, num_threads=1)
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    # launch_training writes the CSVs and the worker config, then starts torchrun.
    old = dict(os.environ)
    os.environ.update(env)
    try:
        result = train.launch_training(train_set, val_set, config, num_processes=2)
    finally:
        os.environ.clear()
        os.environ.update(old)
    assert len(result.history) == 2 and result.best_epoch in (1, 2)
    assert (tmp_path / "ddp" / "best.safetensors").is_file()
    assert pd.read_csv(tmp_path / "ddp" / "train.csv")["path"].tolist() == paths[:12]
    probs = train.predict(result.model, val_set)
    assert probs.shape == (4,) and np.all((probs >= 0) & (probs <= 1))
    proc = subprocess.run([sys.executable, "-m", "galaxysd.classify.train"], capture_output=True, text=True)
    assert proc.returncode != 0 and "usage" in proc.stderr


def test_start_weights_are_random_a_path_under_the_data_folder_or_found_automatically(tmp_path):
    from galaxysd.classify.weights import resolve_weights

    assert resolve_weights("", tmp_path) == ""
    assert resolve_weights("r18.safetensors", tmp_path) == str(tmp_path / "r18.safetensors")
    assert resolve_weights("/abs/r18.safetensors", tmp_path) == "/abs/r18.safetensors"
    assert resolve_weights("auto", tmp_path) == ""  # nothing there: random
    (tmp_path / "resnet-18").mkdir()
    (tmp_path / "resnet-18" / "model.safetensors").write_bytes(b"")
    assert resolve_weights("auto", tmp_path) == str(tmp_path / "resnet-18")
