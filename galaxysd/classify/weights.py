"""A binary classifier's weights on disk: the model, its best weights, the checkpoint a run resumes from.

- :func:`resolve_weights`: which ResNet-18 weights file a run starts from (random, a path, or "auto");
- :func:`build_model` / :func:`load_classifier`: ResNet-18 with one logit, fresh or from saved weights;
- :func:`save_weights`: safetensors, written atomically;
- :func:`save_checkpoint` / :func:`load_checkpoint`: weights, optimizer and loop state in one folder,
  replaced as a whole so an interrupted save never leaves half a checkpoint.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import torch

from galaxysd.cache import atomic_path
from galaxysd.errors import DataError

CHECKPOINT = "checkpoint"
BEST_WEIGHTS = "best.safetensors"


def resolve_weights(weights: str, data_dir) -> str:
    """The ResNet-18 weights file to start from: ``""`` (random), a path (relative: under ``data_dir``),
    or ``"auto"``: ``data_dir/resnet-18`` when it holds ``model.safetensors``, else random.

    Examples
    --------
    >>> resolve_weights("", "data"), resolve_weights("weights/r18.safetensors", "/data")
    ('', '/data/weights/r18.safetensors')
    """
    if not weights:
        return ""
    if weights == "auto":
        folder = Path(data_dir) / "resnet-18"
        return str(folder) if (folder / "model.safetensors").is_file() else ""
    path = Path(weights)
    return str(path if path.is_absolute() else Path(data_dir) / path)


def save_weights(model: torch.nn.Module, path: Path) -> None:
    """The model's weights as safetensors at ``path`` (on the CPU, contiguous), written atomically."""
    from safetensors.torch import save_file

    with atomic_path(path) as tmp:
        save_file({k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}, str(tmp))


def save_checkpoint(out: Path, model: torch.nn.Module, optimizer, state: dict) -> None:
    """Replace ``<out>/checkpoint`` by the model's weights, the optimizer's state and ``state`` (JSON)."""
    with atomic_path(out / CHECKPOINT) as tmp:
        tmp.mkdir(parents=True)
        save_weights(model, tmp / "model.safetensors")
        torch.save(optimizer.state_dict(), tmp / "optimizer.pt")
        (tmp / "state.json").write_text(json.dumps(state, indent=2))


def load_checkpoint(out: Path, model: torch.nn.Module, optimizer) -> dict | None:
    """Load ``<out>/checkpoint`` into ``model`` and ``optimizer`` and return its state; ``None`` if absent."""
    from safetensors.torch import load_file

    folder = out / CHECKPOINT
    if not (folder / "state.json").is_file():
        return None
    state = json.loads((folder / "state.json").read_text())
    model.load_state_dict(load_file(str(folder / "model.safetensors")))
    optimizer.load_state_dict(torch.load(folder / "optimizer.pt", weights_only=True))
    return state


def build_model(weights: str | os.PathLike | None = None) -> torch.nn.Module:
    """ResNet-18 with one output logit (:func:`galaxysd.backbone.resnet18_classifier`)."""
    from galaxysd.backbone import resnet18_classifier

    return resnet18_classifier(1, weights=weights or None)


def load_classifier(path: str | os.PathLike) -> torch.nn.Module:
    """A classifier from saved weights (``best.safetensors`` of a run), in evaluation mode."""
    from safetensors.torch import load_file

    path = Path(path)
    if not path.is_file():
        raise DataError(f"classifier weights {path} do not exist; train the classifier first")
    model = build_model()
    model.load_state_dict(load_file(str(path)))
    return model.eval()
