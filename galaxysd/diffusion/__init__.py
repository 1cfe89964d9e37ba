"""The text-conditioned latent diffusion model of Ma et al. (2026): build or load it, fine-tune it,
sample from it.

Modules
-------
- :mod:`galaxysd.diffusion.tokenizer` -- the small CLIP tokenizer shipped for the tiny model.
- :mod:`galaxysd.diffusion.clip_tokenizer` -- Stable Diffusion v1.5's real CLIP tokenizer (49,408
  tokens), derived from the BPE list in the ``open_clip_torch`` wheel.
- :mod:`galaxysd.diffusion.token_fit` -- whether captions fit CLIP's 77 tokens, and what is cut.
- :mod:`galaxysd.diffusion.sd15` -- SD v1.5's exact architecture with random weights as a local
  diffusers folder (and a small form for tests): the paper route rehearsed without the weights.
- :mod:`galaxysd.diffusion.model` -- build the tiny SD-architecture model or load SD v1.5; save and
  load in diffusers format; where a run's trained model and checkpoints live.
- :mod:`galaxysd.diffusion.base_model` -- the pre-flight check of the model fine-tuning starts from
  (``tiny``, a folder or a Hub id).
- :mod:`galaxysd.diffusion.latents` -- images in, latents out: the tiny autoencoder's training and
  the latent cache.
- :mod:`galaxysd.diffusion.finetune_config` -- every setting of a fine-tuning run.
- :mod:`galaxysd.diffusion.objective` -- what one training step computes from its seeds: rows,
  noise, learning-rate schedule, loss.
- :mod:`galaxysd.diffusion.train` -- the fine-tuning loop with accelerate (one CPU, one GPU or
  several processes), checkpoints and resume.
- :mod:`galaxysd.diffusion.report` -- chapter 02's figures: loss curve, sample grids across checkpoints.
- :mod:`galaxysd.diffusion.prompts` -- weighted prompts ``{phrase:weight}``: the syntax.
- :mod:`galaxysd.diffusion.weighting` -- the weights applied to the text encoder's output, with the
  prompt's mean restored.
- :mod:`galaxysd.diffusion.saved` -- a saved model loaded only when an image must be drawn (a cached
  stage's key needs only its resolution, dtype and device).
- :mod:`galaxysd.diffusion.sample` -- schedulers by name, classifier-free guidance, text-to-image and
  image-to-image.
- :mod:`galaxysd.diffusion.plan` -- what to generate: samples, prompts, seeds and references, the
  same wherever the plan is made.
- :mod:`galaxysd.diffusion.batch` -- batch generation to disk (manifest, resumption, sharding), the
  cached generation stage, and the trained model and real galaxies generation starts from.
- :mod:`galaxysd.diffusion.gallery` -- the generation figures (Figure 3, brightness, weight sweep).
- :mod:`galaxysd.diffusion.figure_e5` -- Figure E5's counterpart (real galaxies, the base model, the
  fine-tuned model) and the web collection's figure.
- :mod:`galaxysd.diffusion.quality` -- do generated galaxies follow their prompts: image statistics
  of generated and real galaxies, and the verdicts they earn.

The cached stages of chapters 02 and 03 that use these modules are
:mod:`galaxysd.stages.s02_finetune` and :mod:`galaxysd.stages.s03_generate`.

Submodules are imported explicitly (``from galaxysd.diffusion import model``) so that importing the
package does not load torch.
"""
