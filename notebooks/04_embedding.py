# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Appendix A: an embedding that knows galaxies (SimCLR)
#
# **Overview.** To say with numbers how real, how varied and how faithful to their prompts the
# generated galaxies are (Section 4.1 of Ma et al. 2026), the paper compares images in the embedding
# space of an encoder f_phi trained by contrastive learning, SimCLR (Chen et al. 2020), on the GZ2
# images (Appendix A). This chapter trains that encoder, shows its training curves (Figure A1) and
# its map of the galaxies (Figure A2), and -- beyond the paper -- checks that the embedding has learnt
# something about morphology: a linear probe on it must predict the galaxies' tags better than the
# same probe on an untrained encoder.
#
# **Prerequisites.** `01_data` (the labelled galaxies and their images); `03_generate` for the
# generated galaxies placed on the map (the map is drawn without them otherwise).
#
# **Time to run.** See the [reproducing page](../reproducing.md) for measured times per profile.

# %% tags=["remove-cell", "install-galaxysd"]
# Opened outside a checkout of this book (Colab, a downloaded notebook)? Install galaxysd first.
# This cell imports nothing of galaxysd; where galaxysd is installed it does nothing.
import importlib.util
import os
import subprocess
import sys

if importlib.util.find_spec("galaxysd") is None:
    repository = os.environ.get("GALAXYSD_REPOSITORY_URL", "")
    if not repository:
        raise ModuleNotFoundError("galaxysd is not installed: pip install git+<this book's repository>")
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--extra-index-url",
                    "https://download.pytorch.org/whl/cpu", f"galaxysd @ git+{repository}"], check=True)

# %% tags=["parameters"]
profile = "demo"  # profile whose values the runner injected (smoke, demo or paper)
run_dir = ""  # folder of stage outputs (empty: GALAXYSD_RUNS/profile)
figures_dir = ""  # folder for PNG and PDF figures (empty: GALAXYSD_FIGURES/profile)
data_dir = ""  # folder of the real or simulated data (empty: GALAXYSD_DATA)
seed = 0  # random seed: initialisation, batch order, augmented views, probe split, t-SNE
image_size = 32  # side in pixels the galaxies are resized to for the encoder (the GZ2 JPEGs: 424)
epochs = 2.5  # passes over the galaxies (the paper: 200)
batch_size = 64  # galaxies per step, two views each (the paper: 256)
learning_rate = 1e-3  # Adam learning rate (the paper: 1e-3)
temperature = 0.5  # NT-Xent temperature (the paper: 0.5)
projection_dim = 128  # width of the projection head's output
crop_scale = 0.5  # smallest random crop, as a fraction of the image's area
jitter = 0.1  # colour jitter: brightness +-jitter, each band +-jitter/2
imagenet_weights = ""  # local ResNet-18 ImageNet weights (transformers layout; empty: random init)
released_weights = ""  # local .safetensors of a released embedding: used instead of training
n_train = 0  # galaxies to train on (0: every labelled galaxy with an image)
checkpoint_every = 50  # steps between training checkpoints (an interrupted run resumes there)
n_probe = 0  # galaxies in the linear-probe comparison (0: all)
test_fraction = 0.3  # share of the probe's galaxies held out for scoring
n_tsne = 2000  # real galaxies on the t-SNE map (0: all)
perplexity = 30.0  # t-SNE perplexity
num_threads = 2  # CPU threads (0: torch default)

# %%
import time

from myst_nb import glue

from galaxysd import plots, setup_chapter
from galaxysd.evaluation import figures
from galaxysd.evaluation.probe import probe_verdict
from galaxysd.evaluation.train import SimCLRConfig
from galaxysd.stages import s04_embedding as s04

paths, label, began = setup_chapter(profile, run_dir, figures_dir, data_dir, num_threads=num_threads)

# %% [markdown]
# ## Two views of one galaxy
#
# SimCLR shows the encoder two randomly altered *views* of every galaxy in a batch and trains it to
# pick out, for each view, its partner among all the others. The alterations say what the embedding
# should ignore: which part of the galaxy the frame is centred on (a random crop keeping at least
# `crop_scale` of the area, resized back), its orientation on the sky (a quarter turn and a mirror
# image, free for a galaxy) and small changes of brightness and of each band's gain. The colour
# jitter is kept mild on purpose: a galaxy's colour is part of its morphology (early types are red,
# spirals blue), and an encoder taught to ignore colour would lose it. The paper lists random crops,
# flips and colour jitter without their strengths.
#
# The loss, NT-Xent, is the cross-entropy of finding the partner among the other 2B - 1 views by
# cosine similarity divided by the temperature (0.5 in the paper); the top-1 accuracy is how often
# the most similar view is the partner.

# %%
config = SimCLRConfig(epochs=epochs, batch_size=batch_size, learning_rate=learning_rate, temperature=temperature,
                      projection_dim=projection_dim, crop_scale=crop_scale, jitter=jitter,
                      weights=imagenet_weights, checkpoint_every=checkpoint_every, seed=seed)
simclr, history = s04.simclr_stage(paths, config, image_size, n_train, released_weights)
timing = s04.stage_timing(simclr.path)
glue("n_steps", len(history), display=False)
glue("n_train_images", timing.get("images", 0), display=False)
glue("train_minutes", f"{timing.get('seconds', 0) / 60:.1f}", display=False)
glue("image_size", image_size, display=False)
glue("epochs", f"{epochs:g}", display=False)
glue("batch_size", batch_size, display=False)
history.tail()

# %% [markdown]
# ## Figure A1: the training curves

# %%
_ = plots.publish(figures.figure_a1(history, label), paths.figures, "figA1_simclr_training")
tail = history.tail(max(1, len(history) // 10))
glue("final_loss", f"{tail.loss.mean():.2f}" if len(tail) else "n/a", display=False)
glue("final_top1", f"{tail.top1.mean():.2f}" if len(tail) else "n/a", display=False)
glue("first_loss", f"{history.loss.head(max(1, len(history) // 10)).mean():.2f}" if len(history) else "n/a",
     display=False)

# %% [markdown]
# ```{glue:figure} figA1_simclr_training
# :name: fig-a1
#
# **Figure A1.** The NT-Xent loss and the top-1 accuracy of finding each view's partner, per
# training step (grey) and as a running mean (blue).
# ```
#
# The encoder trained for {glue:text}`n_steps` steps ({glue:text}`epochs` passes over
# {glue:text}`n_train_images` galaxies of {glue:text}`image_size` pixels, {glue:text}`batch_size` a
# batch) in {glue:text}`train_minutes` minutes. The loss fell from {glue:text}`first_loss` over the
# first tenth of the steps to {glue:text}`final_loss` over the last, where the top-1 accuracy was
# {glue:text}`final_top1` (mean over the last tenth).

# %% [markdown]
# ## The embedding of every real galaxy
#
# f_phi is the encoder's 512-number pooled ResNet-18 output (the projection head serves the loss
# only, as in SimCLR). Every labelled galaxy with an image is embedded once; chapters 05-08 read
# these vectors with `s04_embedding.read_embeddings`.

# %%
embedded, galaxies, vectors = s04.embed_stage(paths, simclr.path, image_size)
glue("n_embedded", len(galaxies), display=False)

# %% [markdown]
# ## Does the embedding know morphology? A linear probe
#
# For every primary tag, a logistic regression on the frozen embedding learns the tag from
# {glue:text}`probe_train_share` of the galaxies and is scored on the rest by balanced accuracy (the
# mean of the hit rates on galaxies with and without the tag: 0.5 is guessing, whatever the tag's
# rarity). The same probe on the encoder *before* training -- the same network with the random
# weights it started from -- says what the contrastive training added. `low` and `high` bound the
# difference (95 % paired bootstrap over the held-out galaxies).

# %%
probe = s04.probe_stage(paths, embedded.path, config, image_size, n_probe, test_fraction, seed)
verdict, ahead, scored = probe_verdict(probe)
glue("probe_verdict", verdict, display=False)
glue("probe_train_share", f"{1 - test_fraction:.0%}", display=False)
probe.round(3)

# %% [markdown]
# On this profile {glue:text}`probe_verdict`.

# %% [markdown]
# ```{exercise} Where did training help?
# :label: ex-04-probe
#
# Read the probe table: for which tags is the trained embedding furthest ahead of the random one, and
# for which is it not ahead at all? Sort the table by `difference` and relate the order to what
# SimCLR's augmentations (crops, colour jitter, turns) keep and what they destroy.
# ```

# %% [markdown]
# ```{solution-start} ex-04-probe
# :class: dropdown
# ```

# %% tags=["solution"]
### BEGIN SOLUTION
probe.sort_values("difference", ascending=False).round(3)
### END SOLUTION

# %% [markdown]
# Tags of overall shape and light profile (round, edge-on, disk) survive the augmentations and are
# learnt first; small or colour-borne features, and tags with few galaxies (mergers, rings), gain
# least, and their intervals are wide.
#
# ```{solution-end}
# ```

# %% [markdown]
# ```{exercise} Trained against random neighbours
# :label: ex-04-neighbours
#
# A good embedding places galaxies of one kind together. For up to 500 galaxies, compare the share of
# each galaxy's five nearest neighbours that share its morphology class in the trained embedding and
# in the random encoder training started from (`exercises.random_embedding`,
# `exercises.neighbour_agreement`). Predict first: is the random network already better than chance?
# ```

# %% [markdown]
# ```{solution-start} ex-04-neighbours
# :class: dropdown
# ```

# %% tags=["solution"]
### BEGIN SOLUTION
import pandas as pd
from galaxysd import exercises
from galaxysd.evaluation.figures import morphology_class

galaxies_ex, trained_ex, rows_ex = s04.embedded_galaxies(paths.run, n=500, seed=seed)
classes_ex = [morphology_class(t) for t in galaxies_ex["tags"].iloc[rows_ex]]
random_ex = exercises.random_embedding(galaxies_ex["image_path"].iloc[rows_ex], image_size, config)
shares = pd.Series(classes_ex).value_counts(normalize=True)
pd.Series({"trained SimCLR": exercises.neighbour_agreement(trained_ex[rows_ex], classes_ex),
           "random encoder": exercises.neighbour_agreement(random_ex, classes_ex),
           "chance": float((shares ** 2).sum())}, name="neighbours of the same class").round(3)
### END SOLUTION

# %% [markdown]
# A random convolutional network is already well above chance (its features still respond to size,
# brightness and elongation); the trained embedding should be ahead of it, by a margin that grows
# with the training the profile can afford.
#
# ```{solution-end}
# ```

# %% [markdown]
# ## Figure A2: the map of the galaxies
#
# t-SNE lays the embedding out in two dimensions so that galaxies close in the embedding stay close
# on the map. Colours are the galaxies' morphology (the first of merger, edge-on, spiral, barred,
# ring, cigar-shaped, in-between round, completely round that they carry). Beyond the paper, the
# right panel places the image-to-image galaxies of `03_generate` on the same map, each prompt's
# letter at the median of its galaxies: a generated galaxy that looks like the real galaxies of its
# prompt lands among them.

# %%
points = s04.tsne_stage(paths, embedded.path, simclr.path, n_tsne, perplexity, seed)
_ = plots.publish(figures.figure_a2(points, label), paths.figures, "figA2_tsne")
glue("n_tsne_real", int((points.kind == "real").sum()), display=False)
glue("n_tsne_generated", int((points.kind == "generated").sum()), display=False)

# %% [markdown]
# ```{glue:figure} figA2_tsne
# :name: fig-a2
#
# **Figure A2.** t-SNE map of {glue:text}`n_tsne_real` real galaxies in the SimCLR embedding,
# coloured by morphology (left), and the {glue:text}`n_tsne_generated` generated Table 1 galaxies on
# the same map (right, circles; letters mark each prompt's median position).
# ```

# %% [markdown]
# ## Summary
#
# The paper trained its SimCLR encoder for 200 epochs on about 300,000 GZ2 images with ImageNet
# initialisation, and shows a steadily falling loss (Figure A1) and distinct morphology clusters on
# its t-SNE map (Figure A2). Here, on the `demo` profile's simulated survey, the encoder starts from
# random weights (no weights are downloaded) and trains for {glue:text}`epochs` epochs on
# {glue:text}`n_train_images` galaxies at {glue:text}`image_size` pixels (it took
# {glue:text}`train_minutes` minutes in this build), a scale chosen to fit the chapter on two CPU
# cores; `benchmarks/README.md` records what it costs.
# What that buys is measured, not assumed: {glue:text}`probe_verdict`. The `paper` profile runs the
# paper's recipe (200 epochs, batch 256, every image, ImageNet weights from a local file when given),
# or loads a released embedding from a local file instead of training (`released_weights`).

# %%
glue("embedding_minutes", f"{(time.perf_counter() - began) / 60:.1f}", display=False)
