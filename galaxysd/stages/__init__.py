"""One module per chapter: the cached stages a notebook runs over the run folder.

Chapter ``NN_name`` calls ``galaxysd.stages.sNN_name``; the science those stages wire together
lives in the domain subpackages (``gz2``, ``diffusion``, ``evaluation``, ``classify``, ``detg``),
which never import from here.

Modules
-------
- :mod:`galaxysd.stages.s01_data` -- the survey, its labels and the training set.
- :mod:`galaxysd.stages.s02_finetune` -- image check, base model, latent cache, fine-tuning.
- :mod:`galaxysd.stages.s02_pretrain` -- the demo's pre-training on a simulated web collection, the
  autoencoder's images, Figure E5's images.
- :mod:`galaxysd.stages.s03_generate` -- Table 1's prompts generated, the weight sweep, the
  prompt-following measurements.
- :mod:`galaxysd.stages.s04_embedding` -- the SimCLR encoder, the embedding, probe and t-SNE.
- :mod:`galaxysd.stages.s05_quality` -- realism, diversity and consistency across checkpoints.
- :mod:`galaxysd.stages.s06_classification` -- the Table 2 classifiers.
- :mod:`galaxysd.stages.s07_detg_experiment` -- the 1:100 D-ETG experiment (Table 3, Figure 6).
- :mod:`galaxysd.stages.s08_detg_catalog` -- the iterative D-ETG search and the catalogue.
"""
