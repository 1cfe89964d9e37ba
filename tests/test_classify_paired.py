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
    start = [p.detach() for p in train.initial_model(3).parameters()]
    for name, model in models.items():
        assert all(torch.equal(a, b) for a, b in zip(start, model.parameters())), name
    other = train.initial_model(4)
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


def _stage(folder, y, base, ours, seeds=(0, 1, 2)):
    """A training stage's two files: baseline and augmented runs, one score column each per seed."""
    folder.mkdir(parents=True)
    runs, columns = [], {}
    for method, multiple, preds in (("baseline", 0.0, base), ("augmented", 1.0, ours)):
        for s, p in zip(seeds, preds):
            name = f"{method}-x{multiple:g}-seed{s}"
            columns[name] = np.asarray(p, float)
            runs.append({"run": name, "method": method, "multiple": multiple, "seed": s, "threshold": 0.5})
    import pandas as pd

    pd.DataFrame({"objid": np.arange(len(y)), "label": y, "truth": np.nan, **columns}).to_csv(
        folder / "predictions.csv", index=False)
    pd.DataFrame(runs).to_csv(folder / "runs.csv", index=False)
    return folder


def _noisy(y, right, rng):
    return np.where(rng.random(len(y)) < right, y, 1 - y)


def test_paired_verdicts_tell_a_clear_gain_a_loss_and_identical_predictions(tmp_path):
    from galaxysd.classify import compare
    from galaxysd.classify.metrics import paired_difference
    from galaxysd.stages import s06_classification as s06
    from galaxysd.stages import s07_detg_experiment as s07

    rng = np.random.default_rng(0)
    y = (rng.random(300) < 0.3).astype(float)
    weak = [_noisy(y, 0.75, rng) for _ in range(3)]
    strong = [_noisy(y, 0.95, rng) for _ in range(3)]
    assert paired_difference(y, weak, strong)["verdict"] == "better"
    assert paired_difference(y, strong, weak)["verdict"] == "worse"
    same = paired_difference(y, weak, weak)
    assert same["verdict"] == "too small to tell" and same["low"] == same["high"] == 0
    # the same from a training stage's files, for chapter 06 and chapter 07
    stage = _stage(tmp_path / "task", y, weak, strong)
    predictions, runs = s06.read_task(stage)
    diffs = compare.differences(predictions, runs).assign(task="spiral")
    assert diffs.set_index("score").loc["f1", "verdict"] == "better"
    assert "raise F1" in s06.verdicts(diffs, 1.0)["verdict_spiral"]
    assert "lower it" in s07.verdict(_stage(tmp_path / "detg", y, strong, weak), "f1")
    assert "too small" in s07.verdict(_stage(tmp_path / "none", y, weak, weak), "f1")


def test_a_gain_within_the_seed_to_seed_spread_is_too_small_to_tell():
    from galaxysd.classify.metrics import paired_difference

    rng = np.random.default_rng(1)
    y = (rng.random(2000) < 0.3).astype(float)
    # per seed: one method far better, then far worse; the mean gain is small beside the spread
    base = [_noisy(y, 0.7, rng), _noisy(y, 0.95, rng), _noisy(y, 0.8, rng)]
    ours = [_noisy(y, 0.95, rng), _noisy(y, 0.7, rng), _noisy(y, 0.82, rng)]
    result = paired_difference(y, base, ours)
    assert result["seed_std"] > 0.1 and result["verdict"] == "too small to tell"
    # the same predictions as one seed each: only the test galaxies' luck counts, so it can tell
    assert paired_difference(y, base[:1], ours[:1])["verdict"] == "better"
