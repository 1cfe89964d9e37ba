"""Judging generated galaxies (§4.1, App. A): the SimCLR embedding, the quality metrics, the judges.

Modules
-------
- :mod:`galaxysd.evaluation.simclr` -- the encoder f_phi, the NT-Xent loss, the augmented views.
- :mod:`galaxysd.evaluation.train` -- the SimCLR training loop (checkpointed, resumable).
- :mod:`galaxysd.evaluation.probe` -- linear probes: does the embedding know the morphology?
- :mod:`galaxysd.evaluation.metrics` -- realism, diversity, consistency per condition; pure functions on
  embedding arrays.
- :mod:`galaxysd.evaluation.distances` -- beyond the paper: FID, KID, precision / recall / density /
  coverage, memorisation.
- :mod:`galaxysd.evaluation.judges` -- the binary feature classifiers Q_i of the consistency metric.
- :mod:`galaxysd.evaluation.judge_check` -- is each linear judge as good as a ResNet-18 of its own?
  Paired bootstrap intervals and verdicts.
- :mod:`galaxysd.evaluation.figures` -- Figures A1, A2, 4 and 5.

Submodules are imported explicitly, so importing the package does not load torch.
"""
