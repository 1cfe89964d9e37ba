"""The SimCLR training loop: seeded, checkpointed, resumable; loss and top-1 logged every step.

One readable loop in the manner of diffusers' training examples: configuration at the top, each step
named (pick, augment, embed, loss, step, log, checkpoint). Every random choice of step ``s`` comes
from a generator seeded by ``(seed, s)``, and the order of galaxies from one seeded permutation per
epoch (:func:`galaxysd.diffusion.objective.batch_indices`), so a run killed and resumed from its last
checkpoint ends with the same weights as one that was never interrupted.

A checkpoint ``checkpoints/step-NNNNNN/`` holds the weights (``model.safetensors``), the optimiser's
moments (``optimizer.pt``, tensors only, read back with ``weights_only=True``) and the log so far.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import torch

from galaxysd.cache import atomic_path
from galaxysd.diffusion.objective import batch_indices, step_seed
from galaxysd.errors import ParameterError
from galaxysd.evaluation.simclr import WEIGHTS_NAME, SimCLR, augment, nt_xent_loss, save_simclr

HISTORY_NAME = "history.csv"


@dataclass
class SimCLRConfig:
    """Settings of :func:`train_simclr` (the paper's in brackets).

    Attributes
    ----------
    epochs : float
        Passes over the images (200); fractions allowed.
    batch_size : int
        Galaxies per step, two views each (256).
    learning_rate : float
        Adam's learning rate (1e-3).
    temperature : float
        NT-Xent temperature (0.5).
    projection_dim : int
        Width of the projection head.
    crop_scale : float
        Smallest crop, as a fraction of the image's area.
    jitter : float
        Colour-jitter strength (see :func:`galaxysd.evaluation.simclr.augment`).
    weights : str
        ImageNet ResNet-18 weights (transformers layout, local file); empty: random initialisation.
    checkpoint_every : int
        Steps between checkpoints (0: only at the end).
    seed : int
        Seed of the initialisation, the batch order and the views.
    """

    epochs: float = 10.0
    batch_size: int = 128
    learning_rate: float = 1e-3
    temperature: float = 0.5
    projection_dim: int = 128
    crop_scale: float = 0.5
    jitter: float = 0.1
    weights: str = ""
    checkpoint_every: int = 0
    seed: int = 0

    def total_steps(self, n_images: int) -> int:
        """Steps of the whole run: ``epochs`` passes of ``n_images`` in batches (at least one step)."""
        return max(1, int(round(self.epochs * n_images / self.batch_size)))


def _checkpoints(out_dir: Path) -> list[Path]:
    return sorted(p for p in (out_dir / "checkpoints").glob("step-*") if (p / "optimizer.pt").is_file())


def _save_checkpoint(folder: Path, model: SimCLR, optimizer, step: int, history: list[dict]) -> None:
    with atomic_path(folder) as tmp:
        tmp.mkdir(parents=True)
        save_simclr(model, tmp / WEIGHTS_NAME)
        torch.save({"step": step, "optimizer": optimizer.state_dict()}, tmp / "optimizer.pt")
        pd.DataFrame(history).to_csv(tmp / HISTORY_NAME, index=False)


def _resume(out: Path, model: SimCLR, optimizer, device) -> tuple[int, list[dict]]:
    """Load the newest checkpoint under ``out`` into ``model`` and ``optimizer``: its step and history
    (``0, []`` when there is none)."""
    done = _checkpoints(out)
    if not done:
        return 0, []
    from safetensors.torch import load_file

    model.load_state_dict(load_file(str(done[-1] / WEIGHTS_NAME), device=str(device)))
    state = torch.load(done[-1] / "optimizer.pt", map_location="cpu", weights_only=True)
    optimizer.load_state_dict(state["optimizer"])
    start = int(state["step"])
    return start, pd.read_csv(done[-1] / HISTORY_NAME).to_dict("records") if start else []


def train_simclr(images: torch.Tensor, out_dir: str | os.PathLike, config: SimCLRConfig,
                 stop_after: int | None = None, progress: bool = True, device: str | None = None) -> pd.DataFrame:
    """Train the SimCLR encoder on uint8 images, resuming from the newest checkpoint in ``out_dir``.

    Parameters
    ----------
    images : torch.Tensor
        uint8 ``(N, 3, S, S)``, all the galaxies (the paper: every GZ2 image).
    out_dir : str or path-like
        Where ``checkpoints/``, the final ``model.safetensors`` and ``history.csv`` go.
    config : SimCLRConfig
    stop_after : int, optional
        Stop (after checkpointing) once this many steps are done: simulates an interrupted run.
    progress : bool, optional
        Show a progress bar.
    device : str, optional
        Where the network runs (default: the GPU when there is one); views are drawn on the CPU.

    Returns
    -------
    pandas.DataFrame
        One row per step: ``step``, ``epoch``, ``loss``, ``top1``.

    Raises
    ------
    ParameterError
        If there are fewer than two images or the batch is smaller than two.

    Examples
    --------
    >>> history = train_simclr(images, run / "04_embedding/simclr", SimCLRConfig(epochs=2))  # doctest: +SKIP
    """
    from tqdm.auto import tqdm

    out = Path(out_dir)
    n = len(images)
    if n < 2 or config.batch_size < 2:
        raise ParameterError(f"train_simclr: need at least 2 images and batch_size >= 2 "
                             f"(got {n} images, batch_size={config.batch_size})")
    batch = min(config.batch_size, n)
    total = config.total_steps(n)
    torch.manual_seed(config.seed)
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    model = SimCLR(weights=config.weights or None, projection_dim=config.projection_dim).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.learning_rate)
    start, history = _resume(out, model, optimizer, device)
    model.train()
    end = total if stop_after is None else min(total, stop_after)
    bar = tqdm(range(start, end), initial=start, total=total, desc="SimCLR", disable=not progress)
    for step in bar:
        # pick: the next galaxies of this epoch's permutation
        idx = torch.from_numpy(batch_indices(step, n, batch, 1, 0, config.seed))
        # augment: two views of each, from this step's own generator
        gen = torch.Generator().manual_seed(step_seed(config.seed, step))
        views = torch.cat([augment(images[idx], gen, (config.crop_scale, 1.0), config.jitter),
                           augment(images[idx], gen, (config.crop_scale, 1.0), config.jitter)]).to(device)
        # embed and loss
        _, z = model(views)
        loss, top1 = nt_xent_loss(z[:batch], z[batch:], config.temperature)
        # step
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        # log
        history.append({"step": step + 1, "epoch": (step + 1) * batch / n, "loss": float(loss.detach()),
                        "top1": float(top1)})
        bar.set_postfix(loss=f"{float(loss.detach()):.3f}", top1=f"{float(top1):.2f}")
        # checkpoint
        if (config.checkpoint_every and (step + 1) % config.checkpoint_every == 0) or step + 1 == end:
            _save_checkpoint(out / "checkpoints" / f"step-{step + 1:06d}", model, optimizer, step + 1, history)
            for old in _checkpoints(out)[:-1]:
                (old / "optimizer.pt").unlink(missing_ok=True)
    bar.close()
    frame = pd.DataFrame(history, columns=["step", "epoch", "loss", "top1"])
    if end == total:
        save_simclr(model.cpu(), out / WEIGHTS_NAME)
        frame.to_csv(out / HISTORY_NAME, index=False)
    return frame
