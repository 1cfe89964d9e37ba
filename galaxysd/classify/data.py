"""Images for the classifiers: decoding, two datasets, and the random crop / rotation / flip.

Two datasets give the training loop ``(image, label)`` pairs with the image as a ``(3, S, S)`` uint8
tensor: :class:`ArrayDataset` holds images decoded once in memory (the demo: a few thousand small
images), :class:`FileDataset` decodes each JPEG or PNG when asked, so a ``DataLoader`` with workers
decodes in parallel (the paper profile's 424-pixel GZ2 images). Augmentation runs on whole batches,
on the training device, from a seeded generator (:func:`augment`).
"""

from __future__ import annotations

import os
from typing import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import Dataset

from galaxysd.errors import DataError

#: ImageNet channel means and deviations: the normalisation ResNet-18 weights expect.
MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)


def read_image(path: str | os.PathLike, size: int) -> np.ndarray:
    """Decode one image into ``(size, size, 3)`` uint8, resized with a bicubic filter.

    Raises
    ------
    DataError
        If the file is missing or does not decode, naming the file.

    Examples
    --------
    >>> read_image("images/123.jpg", 32).shape  # doctest: +SKIP
    (32, 32, 3)
    """
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            image = image.convert("RGB")
            if image.size != (size, size):
                image = image.resize((size, size), Image.BICUBIC)
            return np.array(image, dtype=np.uint8)  # a writable copy
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise DataError(f"training image {path} could not be read as an image: {exc}") from exc


def read_images(paths: Sequence[str | os.PathLike], size: int, progress: bool = False) -> np.ndarray:
    """Decode many images into one ``(n, size, size, 3)`` uint8 array (see :func:`read_image`)."""
    from tqdm.auto import tqdm

    out = np.zeros((len(paths), size, size, 3), np.uint8)
    for i, path in enumerate(tqdm(paths, desc="read images", disable=not progress)):
        out[i] = read_image(path, size)
    return out


class ArrayDataset(Dataset):
    """Images already in memory, ``(n, S, S, 3)`` uint8, with one float label each."""

    def __init__(self, images: np.ndarray | torch.Tensor, labels: Sequence[float]):
        images = torch.as_tensor(np.asarray(images))
        if images.ndim != 4 or images.shape[-1] != 3:
            raise DataError(f"images must have shape (n, size, size, 3), got {tuple(images.shape)}")
        if len(labels) != len(images):
            raise DataError(f"{len(images)} images but {len(labels)} labels")
        self.images = images.permute(0, 3, 1, 2).contiguous()
        self.labels = torch.as_tensor(np.asarray(labels, dtype=np.float32))

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i):
        return self.images[i], self.labels[i]


class FileDataset(Dataset):
    """Image files decoded on demand (in the ``DataLoader``'s worker processes)."""

    def __init__(self, paths: Sequence[str | os.PathLike], labels: Sequence[float], size: int):
        if len(labels) != len(paths):
            raise DataError(f"{len(paths)} image paths but {len(labels)} labels")
        self.paths = [str(p) for p in paths]
        self.labels = np.asarray(labels, dtype=np.float32)
        self.size = int(size)

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, i):
        image = torch.from_numpy(read_image(self.paths[i], self.size)).permute(2, 0, 1).contiguous()
        return image, torch.tensor(self.labels[i])


def concat(*datasets: Dataset) -> Dataset:
    """One dataset after another (e.g. real galaxies, then generated positives)."""
    return torch.utils.data.ConcatDataset([d for d in datasets if len(d)])


def dataset_labels(dataset: Dataset) -> np.ndarray:
    """The labels of a dataset of this module (or of their concatenation / subset), without decoding images."""
    if hasattr(dataset, "labels"):
        return np.asarray(dataset.labels, dtype=float)
    if isinstance(dataset, torch.utils.data.ConcatDataset):
        parts = [dataset_labels(d) for d in dataset.datasets]
        return np.concatenate(parts) if parts else np.zeros(0)
    if isinstance(dataset, torch.utils.data.Subset):
        return dataset_labels(dataset.dataset)[np.asarray(dataset.indices, dtype=int)]
    return np.array([float(dataset[i][1]) for i in range(len(dataset))])


def normalise(images: torch.Tensor) -> torch.Tensor:
    """uint8 ``(B, 3, S, S)`` -> float, scaled to [0, 1] and standardised per channel."""
    x = images.float() / 255.0
    mean = torch.tensor(MEAN, device=x.device).view(1, 3, 1, 1)
    std = torch.tensor(STD, device=x.device).view(1, 3, 1, 1)
    return (x - mean) / std


def augment(images: torch.Tensor, generator: torch.Generator | None, crop: float = 0.875,
            shift: float = 0.0625) -> torch.Tensor:
    """Random crop, rotation and flip of a batch, as one resampling; ``generator=None``: the centre crop.

    A galaxy has no preferred orientation or handedness, so every image is turned by an angle drawn
    uniformly from 0-360 degrees and mirrored with probability one half; the crop is a window of
    ``crop`` times the image side, moved by up to ``shift`` of the side in each direction, resampled
    (bilinear) back to the full size. Without a generator (evaluation) only the centred window is
    taken, so that training and test images show galaxies at the same scale.

    Parameters
    ----------
    images : torch.Tensor
        uint8 ``(B, 3, S, S)``.
    generator : torch.Generator or None
        Source of the random draws (CPU).
    crop : float, optional
        Window side over image side.
    shift : float, optional
        Largest offset of the window centre, as a fraction of the side.

    Returns
    -------
    torch.Tensor
        float ``(B, 3, S, S)``, normalised (:func:`normalise`).

    Examples
    --------
    >>> augment(torch.zeros(2, 3, 32, 32, dtype=torch.uint8), torch.Generator().manual_seed(0)).shape
    torch.Size([2, 3, 32, 32])
    """
    x = normalise(images)
    n = len(x)
    if generator is None:
        angle, flip, offset = torch.zeros(n), torch.ones(n), torch.zeros(n, 2)
    else:
        angle = torch.rand(n, generator=generator) * 2 * torch.pi
        flip = torch.where(torch.rand(n, generator=generator) < 0.5, -1.0, 1.0)
        offset = (torch.rand(n, 2, generator=generator) * 2 - 1) * 2 * shift
    cos, sin = torch.cos(angle) * crop, torch.sin(angle) * crop
    theta = torch.stack([torch.stack([cos * flip, -sin, offset[:, 0]], 1),
                         torch.stack([sin * flip, cos, offset[:, 1]], 1)], 1).to(x.device, x.dtype)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="reflection", align_corners=False)
