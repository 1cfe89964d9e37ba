"""The text-conditioned latent diffusion model of Ma et al. (2026): build or load it, fine-tune it,
sample from it.

Modules
-------
- :mod:`galaxysd.diffusion.tokenizer` -- the small CLIP tokenizer shipped for the tiny model.
- :mod:`galaxysd.diffusion.model` -- build the tiny SD-architecture model or load SD v1.5; save and
  load in diffusers format; where a run's trained model and checkpoints live.
- :mod:`galaxysd.diffusion.train` -- latent cache, caption re-subsampling, fine-tuning with
  accelerate (one CPU, one GPU or several processes), checkpoints and resume.
- :mod:`galaxysd.diffusion.prompts` -- weighted prompts ``{phrase:weight}``.
- :mod:`galaxysd.diffusion.sample` -- schedulers, text-to-image and image-to-image, batch generation.

Submodules are imported explicitly (``from galaxysd.diffusion import model``) so that importing the
package does not load torch.
"""
