"""One training loop for every binary galaxy classifier of the book (Table 2, and the D-ETG chapters).

In the manner of diffusers' training examples, one readable loop with each step named: *order* (a
seeded permutation of the training set, shared out over processes), *augment* (random crop, rotation
and flip, :func:`galaxysd.classify.data.augment`), *predict* (ResNet-18, :mod:`galaxysd.backbone`),
*loss* (binary cross-entropy or focal), *step* (Adam), *validate* (loss and average precision on the
validation set), *checkpoint* (every epoch; the best epoch's weights kept apart), *stop* (early, once
validation has not improved for ``patience`` epochs).

API
---
- :class:`TrainConfig`: every knob of a run (JSON-serialisable).
- :func:`train_binary` ``(train_set, val_set, config) -> TrainResult``: the loop. Runs the same on
  one CPU, one GPU or several processes started by ``torchrun`` / ``accelerate launch``
  (``python -m galaxysd.classify.train config.json``, the datasets then read from CSV files); an
  interrupted run continues from its checkpoint.
- :func:`launch_training`: in-process for one process, a ``torchrun`` subprocess for several.
- :func:`predict`: probabilities of a dataset. :func:`train_and_predict`: train, choose the
  threshold on validation, score validation and test galaxies.
- The weights on disk (the model, the best epoch's weights, the checkpoint) are
  :mod:`galaxysd.classify.weights`.

Determinism of the classifiers
------------------------------
The weights start from ``torch.manual_seed(seed)``; epoch ``e``'s order comes from ``(seed, e)`` and
batch ``b``'s augmentation on process ``r`` from ``(seed, e, r, b)``. A checkpoint therefore needs no
random state: on a CPU, a run interrupted and resumed ends with the same weights as an uninterrupted one.
Runs that differ only in their loss or in images appended to the training set are paired (the same
start, the same order of the shared images): :mod:`galaxysd.classify.schedule`.

"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd
import torch
from torch.utils.data import DataLoader, Dataset

from galaxysd.cache import atomic_write_text
from galaxysd.classify.data import FileDataset, augment, dataset_labels
from galaxysd.classify.losses import FOCAL_ALPHA, FOCAL_GAMMA, loss_function
from galaxysd.errors import DataError, ParameterError
from galaxysd.classify.weights import (  # noqa: F401  (build_model, load_classifier: re-exported)
    BEST_WEIGHTS, build_model, load_checkpoint, load_classifier, save_checkpoint, save_weights)
from galaxysd.classify.schedule import epoch_order, initial_model, should_stop  # noqa: F401  (re-exported)
from galaxysd.launch import cpu_or_gpu_accelerator, torchrun
from galaxysd.paths import portable_path, resolve_stored

HISTORY_COLUMNS = ("epoch", "train_loss", "val_loss", "val_ap")
#: The fields of :class:`TrainConfig` that name files or folders.
PATH_FIELDS = ("output_dir", "weights", "train_csv", "val_csv")


@dataclass
class TrainConfig:
    """Settings of one classifier training run.

    Attributes
    ----------
    output_dir : str
        Folder for the checkpoint, the best weights and ``history.csv``.
    epochs : int
        Most passes over the training set; the best one on validation is kept.
    patience : int
        Stop once this many epochs in a row have not raised the validation average precision
        (0: run every epoch).
    batch_size : int
        Images per step and process.
    learning_rate : float
        Adam's step size (the paper: 1e-4).
    loss : str
        ``"bce"`` or ``"focal"``; ``focal_alpha`` and ``focal_gamma`` set the latter.
    seed : int
        Seed of the initial weights, the order and the augmentation.
    crop : float
        Side of the random (training) and central (evaluation) crop over the image side.
    weights : str
        ResNet-18 weights to start from (safetensors, transformers layout); empty: random.
    mixed_precision : str
        ``"no"``, ``"fp16"`` or ``"bf16"`` (GPU only).
    num_workers : int
        ``DataLoader`` worker processes that decode images in parallel.
    cpu : bool
        Train on the CPU even when a GPU is present.
    num_threads : int
        CPU threads (0: torch's default).
    eval_batch_size : int
        Images per forward pass when predicting.
    progress : bool
        Show progress bars.
    stop_after : int or None
        Stop after this many epochs (as if interrupted); for tests of resumption.
    train_csv, val_csv : str
        For worker processes (:func:`main`): CSV files with columns ``path`` and ``label``.
    image_size : int
        For worker processes: side the images are resized to.
    """

    output_dir: str = ""
    epochs: int = 10
    patience: int = 0
    batch_size: int = 64
    learning_rate: float = 1e-4
    loss: str = "bce"
    focal_alpha: float = FOCAL_ALPHA
    focal_gamma: float = FOCAL_GAMMA
    seed: int = 0
    crop: float = 0.875
    weights: str = ""
    mixed_precision: str = "no"
    num_workers: int = 0
    cpu: bool = False
    num_threads: int = 0
    eval_batch_size: int = 256
    progress: bool = False
    stop_after: int | None = None
    train_csv: str = ""
    val_csv: str = ""
    image_size: int = 0

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2)

    def record_json(self, folder: str | Path) -> str:
        """:meth:`to_json` with the files in the run folder named relative to ``folder`` (where it is kept)."""
        values = asdict(self)
        for name in PATH_FIELDS:
            values[name] = portable_path(values[name], folder)
        return json.dumps(values, indent=2)

    @classmethod
    def from_dict(cls, values: dict) -> "TrainConfig":
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ParameterError(f"unknown TrainConfig field(s) {unknown}")
        return cls(**values)


@dataclass
class TrainResult:
    """What :func:`train_binary` returns.

    Attributes
    ----------
    model : torch.nn.Module
        The classifier with the best epoch's weights, in evaluation mode.
    best_epoch : int
        1-based epoch with the highest validation average precision (0 if interrupted before one).
    history : pandas.DataFrame
        Per epoch: ``train_loss``, ``val_loss``, ``val_ap``.
    interrupted : bool
        Whether the run stopped before its last epoch (``stop_after``).
    stopped_early : bool
        Whether validation stopped improving before the last epoch (``patience``).
    """

    model: torch.nn.Module
    best_epoch: int
    history: pd.DataFrame = field(repr=False)
    interrupted: bool = False
    stopped_early: bool = False


def _seed(*keys: int) -> int:
    return int(np.random.SeedSequence([int(k) for k in keys]).generate_state(1)[0]) & 0x7FFFFFFF


@torch.no_grad()
def predict(model: torch.nn.Module, dataset: Dataset, batch_size: int = 256, crop: float = 0.875,
            num_workers: int = 0, device: torch.device | str | None = None) -> np.ndarray:
    """Probability of the positive class for every image of ``dataset`` (centre crop, no augmentation).

    Examples
    --------
    >>> scores = predict(result.model, test_set)  # doctest: +SKIP
    """
    device = torch.device(device) if device is not None else next(model.parameters()).device
    was_training = model.training
    model.eval()
    out = []
    for images, _ in DataLoader(dataset, batch_size=batch_size, shuffle=False, num_workers=num_workers):
        out.append(torch.sigmoid(model(augment(images.to(device), None, crop)).squeeze(1).float()).cpu())
    model.train(was_training)
    return torch.cat(out).numpy() if out else np.zeros(0, np.float32)


def train_binary(train_set: Dataset, val_set: Dataset, config: TrainConfig | dict, on_epoch=None) -> TrainResult:
    """Train a ResNet-18 binary classifier, keeping the epoch with the best validation average precision.

    The run ends after ``config.epochs`` epochs, or earlier once ``config.patience`` epochs in a row
    have not improved the validation average precision (:func:`should_stop`).

    Parameters
    ----------
    train_set, val_set : torch.utils.data.Dataset
        ``(uint8 image (3, S, S), label)`` pairs (:mod:`galaxysd.classify.data`).
    config : TrainConfig or dict
    on_epoch : callable, optional
        Called after every epoch as ``on_epoch(row, net)``: the epoch's history row and the network
        with that epoch's weights (for learning curves, :file:`benchmarks/learning_curves.py`).

    Returns
    -------
    TrainResult

    Raises
    ------
    DataError
        If the training set has fewer than two images or the validation set is empty.

    Examples
    --------
    >>> result = train_binary(train_set, val_set, TrainConfig(output_dir="run", epochs=5))  # doctest: +SKIP
    """
    from safetensors.torch import load_file
    from tqdm.auto import tqdm

    config = TrainConfig.from_dict(config) if isinstance(config, dict) else config
    if len(train_set) < 2 or len(val_set) == 0:
        raise DataError(f"training needs at least 2 training and 1 validation image, got "
                        f"{len(train_set)} and {len(val_set)}")
    accelerator = cpu_or_gpu_accelerator(config.cpu, config.mixed_precision, config.num_threads)
    out = Path(config.output_dir)
    if accelerator.is_main_process:
        out.mkdir(parents=True, exist_ok=True)
        atomic_write_text(out / "config.json", config.record_json(out))  # no machine's paths: the run can move
    accelerator.wait_for_everyone()

    model = initial_model(config.seed, config.weights)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.learning_rate)
    loss_fn = loss_function(config.loss, config.focal_alpha, config.focal_gamma)
    history, best, start = [], {"epoch": 0, "val_ap": -1.0}, 0
    state = load_checkpoint(out, model, optimizer)  # resume
    if state is not None:
        history, best, start = state["history"], state["best"], int(state["epoch"])
    model, optimizer = accelerator.prepare(model, optimizer)
    val_labels = dataset_labels(val_set)

    stopped = should_stop([h["val_ap"] for h in history], config.patience)  # resumed after it had stopped
    interrupted = False
    bar = tqdm(range(start, config.epochs), initial=start, total=config.epochs, desc=f"train ({config.loss})",
               disable=not (config.progress and accelerator.is_main_process))
    for epoch in ([] if stopped else bar):
        train_loss = _train_epoch(model, optimizer, loss_fn, accelerator, train_set, config, epoch)
        net = accelerator.unwrap_model(model)
        val_loss, val_ap = _validate(net, val_set, val_labels, config, accelerator.device)
        history.append({"epoch": epoch + 1, "train_loss": train_loss, "val_loss": val_loss, "val_ap": val_ap})
        bar.set_postfix(loss=f"{train_loss:.3f}", val_ap=f"{val_ap:.3f}")
        if on_epoch is not None:
            on_epoch(history[-1], net)
        # checkpoint: the best epoch's weights, then the state to resume from
        if accelerator.is_main_process:
            if val_ap > best["val_ap"]:
                best = {"epoch": epoch + 1, "val_ap": val_ap}
                save_weights(net, out / BEST_WEIGHTS)
            save_checkpoint(out, net, optimizer, {"epoch": epoch + 1, "history": history, "best": best})
        accelerator.wait_for_everyone()
        if should_stop([h["val_ap"] for h in history], config.patience):
            stopped = epoch + 1 < config.epochs
            break
        if config.stop_after is not None and epoch + 1 >= config.stop_after and epoch + 1 < config.epochs:
            interrupted = True
            break
    bar.close()
    frame = pd.DataFrame(history, columns=list(HISTORY_COLUMNS))
    if accelerator.is_main_process:
        atomic_write_text(out / "history.csv", frame.to_csv(index=False))
    accelerator.wait_for_everyone()
    net = accelerator.unwrap_model(model)
    if best["epoch"] and (out / BEST_WEIGHTS).is_file():
        net.load_state_dict(load_file(str(out / BEST_WEIGHTS)))  # copied onto the device
    return TrainResult(net.eval(), int(best["epoch"]), frame, interrupted, stopped)


def _train_epoch(model, optimizer, loss_fn, accelerator, train_set: Dataset, config: TrainConfig,
                 epoch: int) -> float:
    """One pass: order (this process's share of the epoch's permutation), augment, predict, loss, step.

    Returns the mean training loss over the processes and batches (NaN if there was no batch).
    """
    rank, world, device = accelerator.process_index, accelerator.num_processes, accelerator.device
    order = epoch_order(len(train_set), config.seed, epoch, world, rank)
    loader = DataLoader(train_set, batch_size=config.batch_size, sampler=order,
                        num_workers=config.num_workers, drop_last=len(order) > config.batch_size,
                        pin_memory=device.type == "cuda")
    model.train()
    losses = []
    for b, (images, labels) in enumerate(loader):
        generator = torch.Generator().manual_seed(_seed(config.seed, epoch, rank, b))
        x = augment(images.to(device, non_blocking=True), generator, config.crop)
        with accelerator.autocast():
            logits = model(x).squeeze(1)
        loss = loss_fn(logits.float(), labels.to(device).float())
        accelerator.backward(loss)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        losses.append(float(accelerator.gather(loss.detach().reshape(1)).mean()))
    return float(np.mean(losses)) if losses else float("nan")


def _validate(net: torch.nn.Module, val_set: Dataset, val_labels: np.ndarray, config: TrainConfig,
              device: torch.device) -> tuple[float, float]:
    """Validation loss (binary cross-entropy) and average precision; every process scores the whole
    validation set with the same weights."""
    from sklearn.metrics import average_precision_score

    scores = predict(net, val_set, config.eval_batch_size, config.crop, config.num_workers, device)
    clipped = np.clip(scores, 1e-7, 1 - 1e-7)
    val_loss = float(-np.mean(val_labels * np.log(clipped) + (1 - val_labels) * np.log(1 - clipped)))
    val_ap = float(average_precision_score(val_labels, scores)) if val_labels.any() else 0.0
    return val_loss, val_ap


def launch_training(train_set: Dataset, val_set: Dataset, config: TrainConfig,
                    num_processes: int = 1) -> TrainResult:
    """Train in this process, or in ``num_processes`` processes started by ``torchrun``.

    Several processes read their images from files: both datasets must then be
    :class:`~galaxysd.classify.data.FileDataset` objects (they are written to CSV files for the workers).

    Raises
    ------
    ParameterError
        If several processes are asked for with in-memory datasets.
    GalaxySDError
        If the worker processes fail.
    """
    if num_processes <= 1:
        return train_binary(train_set, val_set, config)
    out = Path(config.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    csvs = {}
    for name, dataset in (("train", train_set), ("val", val_set)):
        if not isinstance(dataset, FileDataset):
            raise ParameterError(f"training with {num_processes} processes needs image files: the {name} set "
                                 "must be a FileDataset")
        csvs[name] = out / f"{name}.csv"
        files = [portable_path(p, out) for p in dataset.paths]  # the run folder can move
        atomic_write_text(csvs[name], pd.DataFrame({"path": files, "label": dataset.labels}).to_csv(index=False))
    import dataclasses

    worker = dataclasses.replace(config, train_csv=str(csvs["train"]), val_csv=str(csvs["val"]),
                                 image_size=train_set.size)
    torchrun("galaxysd.classify.train", worker.to_json(), out, num_processes, "classifier training")
    history = pd.read_csv(out / "history.csv")
    best = int(history.loc[history["val_ap"].idxmax(), "epoch"]) if len(history) else 0
    stopped = should_stop(history["val_ap"].tolist(), config.patience)
    return TrainResult(load_classifier(out / BEST_WEIGHTS), best, history,
                       len(history) < config.epochs and not stopped, stopped and len(history) < config.epochs)


def train_and_predict(train_set: Dataset, val_set: Dataset, test_set: Dataset, config: TrainConfig,
                      num_processes: int = 1) -> dict:
    """Train, choose the decision threshold on validation (:func:`~galaxysd.classify.metrics.choose_threshold`)
    and score the test set.

    Returns
    -------
    dict
        ``threshold``, ``best_epoch``, ``history`` (DataFrame), ``epochs_run``, ``val_scores`` and ``test_scores``
        (probabilities), ``test_pred`` (0/1 at the threshold), ``model`` (the best epoch's).

    Examples
    --------
    >>> out = train_and_predict(train_set, val_set, test_set, TrainConfig(output_dir="run"))  # doctest: +SKIP
    """
    from galaxysd.classify.metrics import choose_threshold

    result = launch_training(train_set, val_set, config, num_processes)
    model = result.model.to("cuda" if torch.cuda.is_available() and not config.cpu else "cpu")
    kwargs = dict(batch_size=config.eval_batch_size, crop=config.crop, num_workers=config.num_workers)
    val_scores = predict(model, val_set, **kwargs)
    threshold = choose_threshold(dataset_labels(val_set), val_scores)
    test_scores = predict(model, test_set, **kwargs)
    return {"threshold": threshold, "best_epoch": result.best_epoch, "history": result.history,
            "epochs_run": len(result.history),
            "val_scores": val_scores, "test_scores": test_scores,
            "test_pred": (test_scores >= threshold).astype(np.int8), "model": model}


def _read_csv_dataset(path: str, size: int) -> FileDataset:
    frame = pd.read_csv(path)
    files = [resolve_stored(p, Path(path).parent) for p in frame["path"]]
    return FileDataset(files, frame["label"].to_numpy(float), size)


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of worker processes: ``python -m galaxysd.classify.train config.json``."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if len(argv) != 1:
        raise SystemExit("usage: python -m galaxysd.classify.train CONFIG.json")
    config = TrainConfig.from_dict(json.loads(Path(argv[0]).read_text()))
    if not (config.train_csv and config.val_csv and config.image_size):
        raise SystemExit("the config needs train_csv, val_csv and image_size for worker processes")
    train_binary(_read_csv_dataset(config.train_csv, config.image_size),
                 _read_csv_dataset(config.val_csv, config.image_size), config)


if __name__ == "__main__":
    main()
