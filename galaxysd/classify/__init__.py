"""Binary morphology classifiers trained with and without generated galaxies (Section 4.2, Table 2).

Modules
-------
- :mod:`galaxysd.classify.splits` -- the seeded train/validation/test split, task labels and positive
  fractions, the training set of a task (negatives and positives at the sample's fraction).
- :mod:`galaxysd.classify.data` -- reading images into arrays or a file dataset, and the random crop,
  rotation and flip.
- :mod:`galaxysd.classify.losses` -- binary cross-entropy and the sigmoid focal loss.
- :mod:`galaxysd.classify.train` -- one training loop for any binary task (ResNet-18, Adam, accelerate,
  a checkpoint per epoch, resume, best epoch on validation) and prediction.
- :mod:`galaxysd.classify.schedule` -- what a run sees and when it stops: the seeded start, a per-image
  epoch order that pairs the methods' runs, early stopping.
- :mod:`galaxysd.classify.weights` -- the model, its best weights and the checkpoint on disk.
- :mod:`galaxysd.classify.metrics` -- the decision threshold from validation, purity / completeness /
  F1 and their bootstrap intervals, and the paired difference between two methods (over seeds and
  test galaxies) with its verdict.
- :mod:`galaxysd.classify.compare` -- scores per method with intervals (seeds pooled), each method
  against the baseline paired by seed, and whether generated positives raise F1.
- :mod:`galaxysd.classify.generated` -- which prompts make a task's generated positives, and drawing
  them through :mod:`galaxysd.diffusion.batch`.
- :mod:`galaxysd.classify.figures` -- Table 2 and the sweep over the number of generated positives.

Nothing here knows a chapter or a run folder's layout beyond what it is handed; the D-ETG chapters
reuse the loop with their own labels. Submodules are imported explicitly so that importing the package
does not load torch.
"""
