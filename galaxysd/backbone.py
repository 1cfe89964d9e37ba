"""ResNet-18, the image network of the paper's embedding (App. A), judges (§4.1) and classifiers (§4.2-4.3).

The paper uses torchvision's ResNet-18. torchvision's compiled operators do not load beside the CPU
build of torch this project installs, so the same architecture (basic blocks, depths 2-2-2-2, widths
64-128-256-512, a 7x7 stem and max-pool) is built with :mod:`transformers`, whose weights are plain
safetensors. ImageNet initialisation is optional and always from a local file or folder in the
transformers layout (as ``microsoft/resnet-18`` ships it): nothing is downloaded or unpickled here.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch
from torch import nn

from galaxysd.errors import DataError

#: The ResNet-18 layout (He et al. 2016), as torchvision's ``resnet18`` builds it.
RESNET18 = dict(layer_type="basic", depths=[2, 2, 2, 2], hidden_sizes=[64, 128, 256, 512],
                embedding_size=64, num_channels=3)
#: Width of the pooled feature vector of :func:`resnet18_features`.
FEATURE_DIM = 512


def _load_weights(model: nn.Module, weights: str | os.PathLike) -> None:
    """Load a transformers-layout ResNet-18 state dict from a safetensors file or a model folder."""
    from safetensors.torch import load_file

    path = Path(weights).expanduser()
    if path.is_dir():
        path = path / "model.safetensors"
    if not path.is_file():
        raise DataError(f"ResNet-18 weights not found at {path}: expected a .safetensors file or a "
                        "folder holding model.safetensors (the transformers layout of microsoft/resnet-18)")
    state = load_file(str(path))
    # A classification checkpoint prefixes the backbone with "resnet."; its head is not used here.
    state = {k.removeprefix("resnet."): v for k, v in state.items() if not k.startswith("classifier.")}
    load_checked(model, state, f"{path} is not a ResNet-18 state dict in the transformers layout")


def load_checked(model: nn.Module, state: dict, what: str) -> None:
    """Load ``state`` into ``model`` after checking every tensor is there with the right shape.

    Raises
    ------
    DataError
        ``what``, followed by the first missing tensor or the first of the wrong shape.
    """
    own = model.state_dict()
    missing = sorted(set(own) - set(state))
    wrong = sorted(k for k in own.keys() & state.keys() if own[k].shape != state[k].shape)
    if missing or wrong:
        detail = (f"missing {missing[:3]}" if missing else
                  f"{wrong[0]} has shape {tuple(state[wrong[0]].shape)}, expected {tuple(own[wrong[0]].shape)}")
        raise DataError(f"{what}: {detail}")
    model.load_state_dict({k: state[k] for k in own})


class ResNet18Features(nn.Module):
    """ResNet-18 trunk that maps images ``(B, 3, H, W)`` to pooled features ``(B, 512)``."""

    def __init__(self, weights: str | os.PathLike | None = None):
        super().__init__()
        from transformers import ResNetConfig, ResNetModel

        self.trunk = ResNetModel(ResNetConfig(**RESNET18))
        if weights:
            _load_weights(self.trunk, weights)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.trunk(pixel_values=images).pooler_output.flatten(1)


def resnet18_features(weights: str | os.PathLike | None = None) -> ResNet18Features:
    """Build the ResNet-18 feature trunk, randomly initialised or from local weights.

    Parameters
    ----------
    weights : str or path-like, optional
        A ``.safetensors`` file or a folder with ``model.safetensors`` holding a transformers
        ``ResNetModel`` (or ``ResNetForImageClassification``) state dict. ``None``: random weights.

    Returns
    -------
    ResNet18Features
        Module mapping ``(B, 3, H, W)`` images to ``(B, 512)`` features.

    Raises
    ------
    DataError
        The file is missing, or its tensors do not match ResNet-18 (names the tensor and shapes).

    Examples
    --------
    >>> net = resnet18_features()
    >>> net(torch.zeros(2, 3, 32, 32)).shape
    torch.Size([2, 512])
    """
    return ResNet18Features(weights)


def resnet18_classifier(num_outputs: int, weights: str | os.PathLike | None = None) -> nn.Sequential:
    """ResNet-18 trunk and a linear head giving ``num_outputs`` logits per image.

    Examples
    --------
    >>> resnet18_classifier(4)(torch.zeros(2, 3, 64, 64)).shape
    torch.Size([2, 4])
    """
    return nn.Sequential(resnet18_features(weights), nn.Linear(FEATURE_DIM, num_outputs))
