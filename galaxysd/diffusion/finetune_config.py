"""Every setting of a fine-tuning run (:class:`FinetuneConfig`), as :func:`galaxysd.diffusion.train.finetune`
reads it and as worker processes receive it (JSON).

Chapter 02's parameters (``notebooks/02_finetune.py``, and the profiles that override them) fill it
in through :func:`galaxysd.stages.s02_finetune.run_finetune_stages`.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields

from galaxysd.errors import ParameterError


#: Where training captions come from (:attr:`FinetuneConfig.caption_source`).
CAPTION_SOURCES = ("tags", "caption")


# --------------------------------------------------------------------------------------- the config
@dataclass
class FinetuneConfig:
    """Every setting of a fine-tuning run.

    Attributes
    ----------
    base_model : str
        Model to start from: a diffusers folder (tiny base or checkpoint) or a Hub id.
    manifest : str
        Training manifest CSV (columns ``objid``, ``image_path``, ``tags``, ``caption``).
    latents : str
        Latent cache from :func:`cache_latents`, rows in manifest order.
    output_dir : str
        Where ``checkpoints/``, ``model/`` and ``loss.csv`` go.
    max_steps : int
        Optimiser steps.
    batch_size : int
        Images per process per step.
    learning_rate : float
        Peak learning rate, or per image when ``scale_lr`` (paper: 1e-7 x 16 = 1.6e-6).
    scale_lr : bool
        Multiply ``learning_rate`` by the total batch (``batch_size`` x processes).
    warmup_steps : int
        Linear warm-up from 1/25 of the peak; then cosine annealing to zero (one cycle).
    weight_decay, adam_beta1, adam_beta2, adam_epsilon : float
        AdamW settings (paper: weight decay 1e-3).
    max_grad_norm : float
        Gradient clipping (paper: 1.0).
    snr_gamma : float or None
        Min-SNR loss weighting (Hang et al. 2023): each image's noise error is weighted by
        ``min(SNR(t), snr_gamma) / SNR(t)``, so the easy, nearly noise-free timesteps stop dominating
        the gradient. ``None`` (the paper) is the plain epsilon MSE.
    train_text_encoder : bool
        Fine-tune the CLIP text encoder too (paper: yes); ``False`` freezes it.
    caption_keep_prob : float
        Probability of keeping each tag when a caption is re-subsampled.
    caption_source : str
        ``"tags"`` (the paper): each caption is redrawn from the galaxy's tags
        (:func:`~galaxysd.gz2.tags.caption_from_tags`); ``"caption"``: one of the alternatives written
        in the manifest's ``caption`` cell (separated by ``"|"``), drawn at random each time, as for the
        plain-language captions of the web collection that the demo's base model is pre-trained on.
    caption_dropout : float
        Probability of training on the empty caption, which classifier-free guidance needs for a
        model trained from scratch (SD v1.5 already has it; paper: 0).
    mixed_precision : str
        ``"no"``, ``"fp16"`` or ``"bf16"``; ignored (``"no"``) on CPU.
    gradient_checkpointing : bool
        Trade compute for memory (GPU).
    use_ema : bool
        Keep an exponential moving average of the UNet and save it as the final model.
    ema_decay : float
    checkpoint_every : int
        Save a checkpoint every so many steps: a loadable pipeline, plus the optimiser state
        (``training_state.pt``) in the newest one only.
    keep_checkpoints : int or None
        Keep only the newest so many; ``None`` keeps all (notebook 05 compares them).
    seed : int
    resume : bool
        Continue from the latest checkpoint under ``output_dir`` if there is one.
    stop_after : int or None
        Stop (after checkpointing) once this step is reached, as an interruption would.
    cpu : bool
        Force the CPU even if a GPU is present.
    num_threads : int or None
        ``torch.set_num_threads`` for CPU runs.
    progress : bool
        Show the progress bar.
    """

    base_model: str
    manifest: str
    latents: str
    output_dir: str
    max_steps: int = 100
    batch_size: int = 16
    learning_rate: float = 1e-4
    scale_lr: bool = False
    warmup_steps: int = 10
    weight_decay: float = 1e-3
    adam_beta1: float = 0.9
    adam_beta2: float = 0.999
    adam_epsilon: float = 1e-8
    max_grad_norm: float = 1.0
    snr_gamma: float | None = None
    train_text_encoder: bool = True
    caption_keep_prob: float = 0.7
    caption_source: str = "tags"
    caption_dropout: float = 0.0
    mixed_precision: str = "no"
    gradient_checkpointing: bool = False
    use_ema: bool = False
    ema_decay: float = 0.9999
    checkpoint_every: int = 50
    keep_checkpoints: int | None = None
    seed: int = 0
    resume: bool = True
    stop_after: int | None = None
    cpu: bool = False
    num_threads: int | None = None
    progress: bool = True

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2)

    @classmethod
    def from_dict(cls, values: dict) -> "FinetuneConfig":
        """Build a config, naming any unknown key."""
        known = {f.name for f in fields(cls)}
        unknown = set(values) - known
        if unknown:
            raise ParameterError(f"FinetuneConfig: unknown setting(s) {sorted(unknown)}; known: {sorted(known)}")
        if values.get("caption_source", "tags") not in CAPTION_SOURCES:
            raise ParameterError(f"FinetuneConfig: caption_source must be one of {list(CAPTION_SOURCES)}, "
                                 f"got {values['caption_source']!r}")
        return cls(**values)


