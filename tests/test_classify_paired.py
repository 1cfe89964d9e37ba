"""Paired training runs (same start, same order of the shared galaxies) and early stopping."""

import numpy as np
import pytest
import torch

from galaxysd.classify import data, train

SIZE = 16


def _toy(n, seed):
    rng = np.random.default_rng(seed)
    y = (np.arange(n) % 2).astype(float)
    level = np.where(y == 1, 190, 60)[:, None, None, None]
    return np.clip(level + rng.normal(0, 25, (n, SIZE, SIZE, 3)), 0, 255).astype(np.uint8), y


class Recording(data.ArrayDataset):
    """An in-memory dataset that notes which items the training loop reads, in order."""

    def __init__(self, images, labels):
        super().__init__(images, labels)
        self.read = []

    def __getitem__(self, i):
        self.read.append(int(i))
        return super().__getitem__(i)


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)


def _config(out, **kw):
    values = dict(output_dir=str(out), epochs=1, batch_size=4, learning_rate=0.0, seed=3, cpu=True)
    values.update(kw)
    return train.TrainConfig(**values)


def test_baseline_focal_and_augmented_runs_share_start_weights_and_the_order_of_shared_galaxies(tmp_path):
    val = data.ArrayDataset(*_toy(6, 1))
    shared = {name: Recording(*_toy(12, 0)) for name in ("baseline", "focal", "augmented")}
    extra = Recording(*_toy(7, 2))
    sets = {"baseline": shared["baseline"], "focal": shared["focal"],
            "augmented": data.concat(shared["augmented"], extra)}
    losses = {"baseline": "bce", "focal": "focal", "augmented": "bce"}
    models = {name: train.train_binary(sets[name], val, _config(tmp_path / name, loss=losses[name])).model
              for name in sets}
    # the same shared galaxies in the same order, the generated ones read too (interleaved, not instead)
    assert shared["baseline"].read[:4] == shared["focal"].read[:4]  # the first batch
    assert shared["baseline"].read == shared["focal"].read
    # the augmented run's last incomplete batch is dropped, so its shared galaxies are a prefix
    aug = shared["augmented"].read
    assert len(aug) >= 9 and aug == shared["baseline"].read[:len(aug)]
    assert sorted(shared["baseline"].read) == list(range(12)) and len(extra.read) + len(aug) == 16
    # a learning rate of 0 leaves each run's parameters where they started: the same for all three
    start = [p.detach() for p in train.initial_model(_config(tmp_path)).parameters()]
    for name, model in models.items():
        assert all(torch.equal(a, b) for a, b in zip(start, model.parameters())), name
    other = train.initial_model(_config(tmp_path, seed=4))
    assert not all(torch.equal(a, b) for a, b in zip(start, other.parameters()))


def test_appended_items_do_not_reshuffle_the_first_ones_and_processes_share_an_epoch():
    for seed, epoch in ((0, 0), (5, 3)):
        short, long = train.epoch_order(40, seed, epoch), train.epoch_order(60, seed, epoch)
        assert [i for i in long if i < 40] == short and sorted(long) == list(range(60))
    assert train.epoch_order(40, 0, 0) != train.epoch_order(40, 0, 1)
    halves = train.epoch_order(41, 2, 0, world=2, rank=0) + train.epoch_order(41, 2, 0, world=2, rank=1)
    assert len(halves) == 40 and len(set(halves)) == 40


def test_should_stop_waits_patience_epochs_after_the_best():
    assert not train.should_stop([0.5, 0.6, 0.7], 2)
    assert not train.should_stop([0.5, 0.7, 0.6], 2)
    assert train.should_stop([0.5, 0.7, 0.6, 0.7], 2)  # a tie is no improvement
    assert not train.should_stop([0.5, 0.4, 0.3, 0.2], 0)  # patience 0: never


def test_training_stops_when_validation_stops_improving_and_keeps_the_best_epoch(tmp_path, monkeypatch):
    # Validation made to peak at epoch 2: with patience 2 the run ends after epoch 4 of 10.
    curve = iter([0.4, 0.8, 0.6, 0.7, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9])
    monkeypatch.setattr(train, "_validate", lambda *a: (0.5, next(curve)))
    sets = [data.ArrayDataset(*_toy(n, s)) for n, s in ((8, 0), (4, 1))]
    result = train.train_binary(*sets, _config(tmp_path / "a", epochs=10, patience=2, learning_rate=1e-3))
    assert result.stopped_early and not result.interrupted
    assert list(result.history["epoch"]) == [1, 2, 3, 4] and result.best_epoch == 2
    # resuming a run that has stopped trains no further
    again = train.train_binary(*sets, _config(tmp_path / "a", epochs=10, patience=2, learning_rate=1e-3))
    assert len(again.history) == 4 and again.best_epoch == 2
    # without patience, every epoch runs
    curve = iter([0.4, 0.8, 0.6, 0.7])
    full = train.train_binary(*sets, _config(tmp_path / "b", epochs=4, learning_rate=1e-3))
    assert len(full.history) == 4 and not full.stopped_early
