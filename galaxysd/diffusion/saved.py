"""A saved diffusion model that is loaded only when an image must be drawn.

A cached generation stage needs the model's resolution, weight dtype and device for its key, not its
weights: reading two small config files instead of loading the pipeline keeps a rebuild of a chapter
whose images are already made from spending seconds on a model it never calls.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import torch

from galaxysd.errors import ParameterError


class SavedPipeline:
    """A diffusers folder, loaded on first use of :attr:`pipeline`.

    Parameters
    ----------
    folder : str or path-like
        A saved diffusers pipeline (holding ``model_index.json``, ``unet/config.json`` and
        ``vae/config.json``).
    device : str, optional
        Where the weights go when loaded.
    dtype : torch.dtype, optional
        Weight dtype when loaded.

    Raises
    ------
    ParameterError
        If the folder holds no saved pipeline.

    Examples
    --------
    >>> model = SavedPipeline("runs/demo/02_finetune/train/model")  # doctest: +SKIP
    >>> model.resolution, model.device  # doctest: +SKIP
    (64, 'cpu')
    """

    def __init__(self, folder: str | os.PathLike, device: str = "cpu", dtype: torch.dtype = torch.float32):
        self.folder = Path(folder)
        for part in ("model_index.json", "unet/config.json", "vae/config.json"):
            if not (self.folder / part).is_file():
                raise ParameterError(f"{self.folder} holds no saved diffusion model ({part} is missing); "
                                     f"run notebook 02_finetune first")
        self.device = torch.device(device).type
        self.dtype = dtype
        self._pipeline = None

    @property
    def resolution(self) -> int:
        """Image side in pixels the model was built for (UNet sample size times the VAE's factor)."""
        unet = json.loads((self.folder / "unet" / "config.json").read_text())
        vae = json.loads((self.folder / "vae" / "config.json").read_text())
        # diffusers' own rule for a pipeline's vae_scale_factor
        return int(unet["sample_size"]) * 2 ** (len(vae["block_out_channels"]) - 1)

    @property
    def pipeline(self):
        """The loaded ``StableDiffusionPipeline`` (loaded once, on first access)."""
        if self._pipeline is None:
            from galaxysd.diffusion.model import load_pipeline

            self._pipeline = load_pipeline(self.folder, device=self.device, dtype=self.dtype)
        return self._pipeline

    @property
    def loaded(self) -> bool:
        """Whether the weights have been loaded."""
        return self._pipeline is not None


def key_facts(pipe) -> tuple[int, str, str]:
    """(resolution, dtype, device) of a pipeline or a :class:`SavedPipeline`, without loading the latter.

    Returns
    -------
    (int, str, str)
        E.g. ``(64, "torch.float32", "cpu")``: what a generation stage's key records of its model.
    """
    if isinstance(pipe, SavedPipeline):
        return pipe.resolution, str(pipe.dtype), pipe.device
    return int(pipe.unet.config.sample_size * pipe.vae_scale_factor), str(pipe.unet.dtype), pipe.device.type


def as_pipeline(pipe):
    """The loaded pipeline behind ``pipe`` (a pipeline is returned as it is)."""
    return pipe.pipeline if isinstance(pipe, SavedPipeline) else pipe
