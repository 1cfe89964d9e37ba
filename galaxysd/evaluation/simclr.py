"""The SimCLR embedding f_phi of Appendix A: ResNet-18 trunk, projection head, NT-Xent loss, views.

SimCLR (Chen et al. 2020) trains an encoder to give two randomly altered *views* of the same galaxy
similar vectors and views of different galaxies dissimilar ones. What is here:

- :class:`SimCLR`: the ResNet-18 trunk of :mod:`galaxysd.backbone` (512-d pooled features, the
  embedding the metrics use) and a two-layer projection head (where the loss is computed, as in
  SimCLR: the head absorbs the invariances the loss forces, the trunk keeps more information);
- :func:`nt_xent_loss`: the normalised-temperature cross-entropy (InfoNCE) loss and the top-1
  accuracy of finding each view's partner among the other ``2B - 1`` views;
- :func:`augment`: the two views, in plain torch so that no image-augmentation library is needed;
- :func:`embed`, :func:`save_simclr`, :func:`load_simclr`: use and keep the encoder (safetensors only).

The loss is written out (twenty lines) rather than taken from a library: the libraries that ship it
(lightly, pytorch-metric-learning) bring torchvision or a second training framework with them.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from galaxysd.backbone import FEATURE_DIM, load_checked, resnet18_features
from galaxysd.cache import atomic_path
from galaxysd.errors import DataError, ParameterError

#: ImageNet channel means and standard deviations: the input scaling an ImageNet-initialised trunk expects.
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
WEIGHTS_NAME = "model.safetensors"


class SimCLR(nn.Module):
    """ResNet-18 trunk plus projection head; ``forward`` returns (features, projections).

    Parameters
    ----------
    weights : str or path-like, optional
        Trunk weights in the transformers ResNet layout (ImageNet initialisation); ``None``: random.
    projection_dim : int, optional
        Width of the projection head's output.
    """

    def __init__(self, weights: str | os.PathLike | None = None, projection_dim: int = 128):
        super().__init__()
        self.trunk = resnet18_features(weights)
        self.head = nn.Sequential(nn.Linear(FEATURE_DIM, FEATURE_DIM), nn.ReLU(inplace=True),
                                  nn.Linear(FEATURE_DIM, projection_dim))
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)

    def features(self, images: torch.Tensor) -> torch.Tensor:
        """Trunk features ``(B, 512)`` of float images in [0, 1], shape ``(B, 3, H, W)``."""
        return self.trunk((images - self.mean) / self.std)

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.features(images)
        return h, self.head(h)


def nt_xent_loss(z1: torch.Tensor, z2: torch.Tensor, temperature: float = 0.5) -> tuple[torch.Tensor, torch.Tensor]:
    """NT-Xent loss of two batches of views, and the top-1 accuracy of finding each view's partner.

    For ``2B`` projections the similarity of views ``i`` and ``k`` is ``cos(z_i, z_k) / temperature``;
    the loss of view ``i`` is the cross-entropy of picking its partner among the other ``2B - 1``.

    Parameters
    ----------
    z1, z2 : torch.Tensor
        Projections of the first and second views, shape ``(B, d)``, row ``i`` of each from galaxy ``i``.
    temperature : float, optional
        The paper: 0.5.

    Returns
    -------
    (torch.Tensor, torch.Tensor)
        Mean loss over the ``2B`` views, and the fraction of views whose most similar other view is
        their partner.

    Raises
    ------
    ParameterError
        If the batches differ in shape, hold fewer than two galaxies, or the temperature is not positive.

    Examples
    --------
    >>> loss, top1 = nt_xent_loss(torch.randn(8, 16), torch.randn(8, 16))
    """
    if z1.shape != z2.shape or z1.ndim != 2 or z1.shape[0] < 2:
        raise ParameterError(f"nt_xent_loss: expected two (B >= 2, d) batches of one shape, got "
                             f"{tuple(z1.shape)} and {tuple(z2.shape)}")
    if temperature <= 0:
        raise ParameterError(f"nt_xent_loss: temperature must be > 0, got {temperature}")
    n = z1.shape[0]
    z = F.normalize(torch.cat([z1, z2]), dim=1)
    logits = (z @ z.T) / temperature
    self_pair = torch.eye(2 * n, dtype=torch.bool, device=z.device)
    logits = logits.masked_fill(self_pair, float("-inf"))
    partner = torch.cat([torch.arange(n, 2 * n), torch.arange(0, n)]).to(z.device)
    loss = F.cross_entropy(logits, partner)
    top1 = (logits.argmax(dim=1) == partner).float().mean()
    return loss, top1


def augment(images: torch.Tensor, generator: torch.Generator, crop_scale: tuple[float, float] = (0.5, 1.0),
            jitter: float = 0.1) -> torch.Tensor:
    """One random view per image: crop and resize, 90-degree turn, mirror, mild colour jitter.

    The crop keeps ``crop_scale`` of the area (a galaxy near the centre stays in view) and is resized
    back to the input size; turns and mirrors are free for a galaxy, whose orientation on the sky
    means nothing; the colour jitter is mild (brightness +-``jitter``, each band +-``jitter/2``)
    because a galaxy's colour is part of its morphology (early types are red), and strong jitter
    would teach the encoder to ignore it.

    Parameters
    ----------
    images : torch.Tensor
        uint8 ``(B, 3, S, S)`` or float in [0, 1].
    generator : torch.Generator
        Source of every random choice (seeded per step by the caller).
    crop_scale : (float, float), optional
        Range of the crop's area as a fraction of the image.
    jitter : float, optional
        Strength of the colour jitter.

    Returns
    -------
    torch.Tensor
        Float views in [0, 1], shape ``(B, 3, S, S)``.

    Examples
    --------
    >>> views = augment(torch.zeros(4, 3, 32, 32, dtype=torch.uint8), torch.Generator().manual_seed(0))
    """
    x = images.float() / 255.0 if images.dtype == torch.uint8 else images.float()
    b = x.shape[0]
    u = torch.rand(b, 6, generator=generator)
    side = torch.sqrt(crop_scale[0] + (crop_scale[1] - crop_scale[0]) * u[:, 0])
    shift = (1.0 - side)[:, None] * (2.0 * u[:, 1:3] - 1.0)
    angle = torch.floor(u[:, 3] * 4.0) * (math.pi / 2)
    mirror = torch.where(u[:, 4] < 0.5, -1.0, 1.0)
    cos, sin = torch.cos(angle).round(), torch.sin(angle).round()
    theta = torch.zeros(b, 2, 3)
    theta[:, 0, 0], theta[:, 0, 1] = side * cos * mirror, -side * sin
    theta[:, 1, 0], theta[:, 1, 1] = side * sin * mirror, side * cos
    theta[:, :, 2] = shift
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    x = F.grid_sample(x, grid, mode="bilinear", padding_mode="reflection", align_corners=False)
    gain = (1.0 + jitter * (2.0 * u[:, 5] - 1.0))[:, None, None, None]
    band = 1.0 + 0.5 * jitter * (2.0 * torch.rand(b, 3, 1, 1, generator=generator) - 1.0)
    return (x * gain * band).clamp(0.0, 1.0)


@torch.no_grad()
def embed(model: SimCLR, images: torch.Tensor, batch_size: int = 256, progress: bool = False) -> np.ndarray:
    """The embedding f_phi (trunk features, float32 ``(N, 512)``) of uint8 images ``(N, 3, S, S)``.

    Examples
    --------
    >>> embed(SimCLR(), torch.zeros(2, 3, 32, 32, dtype=torch.uint8)).shape
    (2, 512)
    """
    from tqdm.auto import tqdm

    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    out = np.empty((len(images), FEATURE_DIM), dtype=np.float32)
    for start in tqdm(range(0, len(images), batch_size), desc="embed", disable=not progress):
        chunk = images[start:start + batch_size].to(device).float() / 255.0
        out[start:start + len(chunk)] = model.features(chunk).cpu().numpy()
    model.train(was_training)
    return out


def save_simclr(model: SimCLR, path: str | os.PathLike) -> Path:
    """Write the encoder's weights (trunk and head) as one safetensors file, atomically."""
    from safetensors.torch import save_file

    path = Path(path)
    with atomic_path(path) as tmp:
        save_file({k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}, str(tmp))
    return path


def load_simclr(path: str | os.PathLike, projection_dim: int = 128) -> SimCLR:
    """An encoder from a safetensors file: a whole SimCLR model, or a bare ResNet-18 trunk.

    A file written by :func:`save_simclr` (keys ``trunk.*`` and ``head.*``) is loaded whole. A file
    with ResNet-18 weights only (released embedding weights in the transformers layout) fills the
    trunk; the head, which the embedding does not use, stays random. Only tensors are read: nothing
    is unpickled.

    Parameters
    ----------
    path : str or path-like
        The ``.safetensors`` file.
    projection_dim : int, optional
        Head width, when the file holds no head.

    Returns
    -------
    SimCLR

    Raises
    ------
    DataError
        If the file is missing or a tensor is missing or has the wrong shape (named in the message).

    Examples
    --------
    >>> model = load_simclr(run / "04_embedding/simclr/model.safetensors")  # doctest: +SKIP
    """
    from safetensors.torch import load_file

    path = Path(path).expanduser()
    if not path.is_file():
        raise DataError(f"embedding weights {path} do not exist: expected a .safetensors file")
    state = load_file(str(path))
    if not any(k.startswith("head.") for k in state):
        return SimCLR(weights=path, projection_dim=projection_dim)
    dim = state.get("head.2.weight", torch.empty(projection_dim, 0)).shape[0]
    model = SimCLR(projection_dim=dim)
    load_checked(model, state, f"{path} is not a SimCLR ResNet-18 encoder")
    return model
