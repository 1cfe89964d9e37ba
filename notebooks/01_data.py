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
# # Galaxy Zoo 2: from volunteer votes to morphology prompts
#
# **Overview.** This chapter reproduces Section 3 and Appendix B of Ma et al. (2026): how the Galaxy
# Zoo 2 (GZ2) volunteer votes become confident morphology *tags*, how tags become the text prompts the
# diffusion model is trained on, and which galaxies are kept out of training. It draws Figure 1 (the
# pipeline), Figure 2 (which tags occur together), Table 1 (the prompts A–P) and Figure B3 (the GZ2
# question tree), and shows example images per tag. Every count is printed beside the paper's.
#
# **Prerequisites.** None: this is the first stage. The `paper` profile needs the real GZ2 files
# (in `$GALAXYSD_DATA`, fetched beforehand with `python -m galaxysd fetch`); `smoke` and `demo` simulate a GZ2-like survey
# first — catalogue, images, volunteers' votes and side tables in the real files' formats — and then
# run the very same code on it.
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
seed = 0  # random seed for every random choice in this notebook
real_data = False  # True: read the real GZ2 files (paper profile); False: simulate a survey
n_galaxies = 12000  # galaxies in the simulated survey (rows of its Hart16 table)
image_size = 64  # side of the simulated images, pixels (real GZ2 images: 424)
frame_r90 = 5.0  # simulated image width in units of the galaxy R90 (GZ2 cutouts: 8.48)
min_votes = 20  # a task needs more than this many votes to be well sampled
votes_inclusive = False  # True: at least min_votes votes suffice; False: more than min_votes needed
threshold_inclusive = False  # True: Table 3 fractions may equal the threshold (as in Willett flags); False: must exceed it (paper)
threshold_fraction = "weighted_fraction"  # vote fraction the Table 3 thresholds apply to
min_debiased = 0.8  # an answer becomes a tag when its debiased fraction exceeds this
balance_cap = 300  # largest number of training galaxies per tag combination (the paper: 2000)
check_images = False  # decode every labelled image and report those that fail (slow on real data)
gallery_per_tag = 6  # example images per tag in the gallery

# %% tags=["remove-stderr"]
from IPython.display import display
from myst_nb import glue

from galaxysd import gz2, plots, setup_chapter
from galaxysd.gz2 import figures as gz2fig
from galaxysd.stages import s01_data as s01

paths, label, _ = setup_chapter(profile, run_dir, figures_dir, data_dir, real_data=real_data)
paper = gz2.PAPER_COUNTS

# %% [markdown]
# ## Figure 1: the pipeline
#
# GZ2 images and their tags are paired into captions and used to fine-tune Stable Diffusion; the
# fine-tuned model then generates galaxies from morphology prompts, and the generated images feed the
# downstream tasks of the later chapters.

# %%
figure_files = plots.publish(plots.pipeline_schematic(profile, real_data=real_data), paths.figures, "fig1_schematic")

# %% [markdown]
# ```{glue:figure} fig1_schematic
# :name: fig-schematic
#
# **Figure 1.** Schematic of the pipeline: GZ2 images and morphology captions fine-tune the diffusion
# model, which then generates galaxies on demand for quality checks, classification and the rare-class
# search.
# ```

# %% [markdown]
# ## The survey
#
# The paper starts from the debiased GZ2 table of Hart et al. (2016): votes of volunteers on 11
# questions for every galaxy brighter than r = 17 with a spectroscopic redshift, the 424 × 424 gri
# images of the GZ2 release (Willett et al. 2013), the Kaviraj et al. (2012) list of dusty early types,
# and two tables of physical properties (GSWLC-2 and the Yang et al. group catalogue).
#
# On the `smoke` and `demo` profiles the same files are *simulated*: galaxies with Sérsic bulges,
# exponential disks, spiral arms, bars, rings, dust lanes and mergers, seen through a PSF and sky noise
# at their redshift, and classified by simulated volunteers who follow the GZ2 tree and — like real
# ones — call small, faint galaxies "smooth" too often. The files have the real formats, so everything
# below runs unchanged on the real data.

# %% tags=["remove-stderr"]
survey = s01.survey_stage(paths, real_data, n_galaxies=n_galaxies, image_size=image_size, seed=seed,
                          frame_r90=frame_r90)
print(paths.relative(survey.hart16))

# %% [markdown]
# ## From votes to labels
#
# A label is trusted only where enough volunteers answered the question. Following Willett et al.
# (2013, Table 3), a question counts as *well sampled* for a galaxy when the answers that lead to it
# pass these vote-fraction thresholds (on weighted fractions) and it received more than 20 votes:

# %%
gz2.thresholds_table(threshold_inclusive, min_votes, votes_inclusive, threshold_fraction)

# %% [markdown]
# The paper's text uses ">" for these thresholds, while Willett et al.'s flags use "≥"; this notebook
# uses `threshold_inclusive` = {glue:text}`threshold_inclusive` and counts votes with
# `votes_inclusive` = {glue:text}`votes_inclusive` (both parameters). An answer then becomes a *tag*
# when its task is well sampled and its *debiased* fraction — corrected for the bias toward "smooth"
# at high redshift (Hart et al. 2016) — exceeds {glue:text}`min_debiased`. Tags are read by walking
# the question tree, and "star or artifact" and "something odd" are dropped.

# %%
glue("threshold_inclusive", threshold_inclusive, display=False)
glue("votes_inclusive", votes_inclusive, display=False)
glue("min_debiased", min_debiased, display=False)

# %%
labels = s01.labels_stage(paths, survey, min_debiased=min_debiased, min_votes=min_votes,
                          votes_inclusive=votes_inclusive, threshold_inclusive=threshold_inclusive,
                          fraction=threshold_fraction, check_images=check_images)
labels.captions(8)

# %% [markdown]
# Why the *debiased* fractions: volunteers see fewer features in distant, small galaxies, so the raw
# share of "features or disk" votes falls with redshift. The debiasing of Hart et al. (2016) lifts
# part of it back.

# %%
truth = None if real_data else gz2.truth_table(paths.run)
fig_bias = gz2fig.redshift_bias_figure(gz2.read_hart16(survey.hart16), labels.catalog, truth,
                                       title=f"Smooth bias with redshift ({label})")
_ = plots.publish(fig_bias, paths.figures, "fig_redshift_bias")

# %% [markdown]
# ```{glue:figure} fig_redshift_bias
# :name: fig-redshift-bias
#
# Mean vote fraction for "features or disk" in bins of redshift: raw (weighted), debiased, and — on
# the simulated profiles — the true share of disk galaxies.
# ```

# %% [markdown]
# Each confident answer becomes a short phrase, worded so that every prompt of Table 1 below is
# written with words the model met in training. A galaxy's caption is "sdss, " followed by its
# phrases in the order of the tree; during training the phrases are randomly subsampled and shuffled
# each time a caption is used.

# %%
gz2.vocabulary_table().set_index(["task", "answer"])

# %% [markdown]
# Some galaxies have no image: on the real data only the GZ2 "original" sample has images on Zenodo,
# and so does the simulated survey. The loader counts what it could not match rather than dropping
# it silently:

# %%
print(labels.counts["image_report"])

# %% [markdown]
# ## Which galaxies the diffusion model may see
#
# To keep the rare-object experiment of Section 4.3 honest, the known dusty early-type galaxies
# (D-ETGs; Kaviraj et al. 2012 on the real data), and every galaxy tagged early type ("completely
# round" or "in-between round") together with "dust lane", are removed from the training set. The
# remaining tag combinations are very unequal in size, so those above a cap of
# {glue:text}`balance_cap:,` galaxies are randomly thinned to it.

# %%
glue("balance_cap", balance_cap, display=False)

# %%
training = s01.training_stage(paths, labels, cap=balance_cap, seed=seed)
manifest = training.manifest
manifest.head().assign(image_path=lambda frame: frame.image_path.map(paths.relative))

# %%
steps = gz2.selection_steps(labels.counts, training.counts)
for key, value in steps["this run"].items():
    glue(f"count_{key}", int(value), display=False)
for key, value in gz2.PAPER_COUNTS.items():
    glue(f"paper_{key}", value, display=False)
glue("selection_table", steps, display=False)
steps

# %% [markdown]
# On this profile, {glue:text}`count_n_table:,` galaxies have votes;
# {glue:text}`count_n_labelled:,` of them carry at least one confident tag, and after the image match,
# the D-ETG exclusion and the balancing {glue:text}`count_n_training:,` images remain for training.
# The paper went from {glue:text}`paper_n_table:,` to {glue:text}`paper_n_labelled:,` to
# {glue:text}`paper_n_training:,`.

# %% [markdown]
# ```{exercise} How much does the cap take away?
# :label: ex-01-cap
#
# The cap thins every tag combination to at most `balance_cap` galaxies. Before running anything,
# predict which Table 1 prompts lose training galaxies if the cap is halved or quartered, and which
# keep every one. Then count them with `gz2.labels.balance` on the training manifest (a smaller cap
# applied to it gives the same counts as one applied before it) and `gz2.figures.table1`. Why does
# a cap help the rare prompts, although it never adds a galaxy?
# ```

# %% [markdown]
# ```{solution-start} ex-01-cap
# :class: dropdown
# ```

# %% tags=["solution"]
### BEGIN SOLUTION
import pandas as pd
from galaxysd.gz2.labels import balance

caps = sorted({max(1, balance_cap // 4), max(1, balance_cap // 2), balance_cap})
thinned = {cap: balance(manifest, cap=cap, seed=seed) for cap in caps}
by_cap = pd.DataFrame({f"cap {cap}": gz2fig.table1(frame)["training galaxies"] for cap, frame in thinned.items()})
by_cap.loc["all training images"] = [len(frame) for frame in thinned.values()]
by_cap
### END SOLUTION

# %% [markdown]
# Only the combinations above the cap lose galaxies: the common ones (smooth round galaxies, plain
# spirals) shrink, while rare combinations keep all of theirs. A prompt whose galaxies sit in rare
# combinations keeps its count, so its share of the training set, and of the training steps, grows.
#
# ```{solution-end}
# ```

# %% [markdown]
# ## Figure 2: how the tags combine
#
# The primary tags of the training set — without bulge prominence, arm number or winding — and how
# often each combination occurs. The imbalance is what the generated images of the later chapters
# help with.

# %%
fig2 = gz2fig.upset_figure(manifest, title=f"Figure 2 — training set tags ({label})")
_ = plots.publish(fig2, paths.figures, "fig2_upset")

# %% [markdown]
# ```{glue:figure} fig2_upset
# :name: fig-upset
#
# **Figure 2.** Co-occurrence of the primary tags in the training set: the bars on top count the
# galaxies with exactly that combination, those on the left the galaxies with each tag.
# ```

# %% [markdown]
# ## Table 1: the prompts
#
# The prompts the paper generates galaxies from (Figure 3), and how many galaxies of this run carry
# all of each prompt's tags. Prompts K and L weight "dust lane" by 1.3; K has no real training
# example at all, by construction: early types with a dust lane were excluded.

# %%
table1 = gz2fig.table1(manifest, labels.labelled)
glue("table1", table1, display=False)
_ = plots.save_table(table1, paths.figures, "table1_prompts")
table1

# %% [markdown]
# ```{exercise} Table 1 at another debiased threshold
# :label: ex-01-threshold
#
# An answer becomes a tag when its debiased fraction exceeds `min_debiased`. Predict how the
# labelled galaxies of Table 1 change at 0.6 and at 0.9: do all prompts change by the same factor?
# Which should fall fastest when the threshold rises, those of one tag or those that need two or
# three tags at once? Check with `exercises.table1_by_threshold`, which labels the survey again
# (no stage is written), and explain prompt K's count.
# ```

# %% [markdown]
# ```{solution-start} ex-01-threshold
# :class: dropdown
# ```

# %% tags=["solution"]
### BEGIN SOLUTION
from galaxysd import exercises

thresholds = sorted({0.6, min_debiased, 0.9})
by_threshold = exercises.table1_by_threshold(
    gz2.read_hart16(survey.hart16), thresholds, min_votes=min_votes, votes_inclusive=votes_inclusive,
    threshold_inclusive=threshold_inclusive, fraction=threshold_fraction)
kept = by_threshold.div(by_threshold[f"min_debiased={min_debiased:g}"].where(lambda c: c > 0), axis=0)
by_threshold.join(kept.round(2).add_prefix("share of "))
### END SOLUTION

# %% [markdown]
# A prompt needs every one of its tags to be confident, so its count falls roughly as the product of
# its tags' survival: the prompts of two or three tags (K, L, O, P) fall fastest as the threshold
# rises. Prompt K (an early type with a dust lane) may have labelled galaxies, but never a training
# galaxy: its galaxies are exactly those this chapter excludes from training.
#
# ```{solution-end}
# ```

# %% [markdown]
# ## Figure B3: the question tree
#
# Tags are read by walking this tree from the first question; the path a galaxy's tags take is the
# order its caption lists them in.

# %%
figb3 = gz2fig.question_tree_figure(title="Figure B3 — the GZ2 decision tree (Willett et al. 2013)")
_ = plots.publish(figb3, paths.figures, "figB3_question_tree")

# %% [markdown]
# ```{glue:figure} figB3_question_tree
# :name: fig-tree
#
# **Figure B3.** The GZ2 questions (boxes) and the answers that lead from one to the next (arrows).
# ```

# %% [markdown]
# ## What the tags look like
#
# Random training images for each primary tag.

# %%
gallery = gz2fig.gallery_figure(manifest, gz2.tags_present(manifest), n_per_tag=gallery_per_tag, seed=seed,
                                title=f"Training images per tag ({label})")
_ = plots.publish(gallery, paths.figures, "gallery_tags")

# %% [markdown]
# ```{glue:figure} gallery_tags
# :name: fig-gallery
#
# Random training images of each primary tag.
# ```

# %% [markdown]
# ## Checking the labels against the truth (simulated profiles only)
#
# The simulated survey knows what each galaxy really is, so we can ask how often a tag is right
# (purity) and how many of the galaxies that have the feature receive the tag (completeness). The
# real catalogue cannot answer this; here it shows how conservative the paper's recipe is.

# %%
if not real_data:
    display(gz2.tag_recovery(labels.catalog, truth))
    print(f"{len(gz2.true_detg(paths.run))} true D-ETGs, of which {len(gz2.known_detg(paths.run))} are "
          "on the 'known' list that volunteers flagged and experts confirmed.")

# %% [markdown]
# ## Summary
#
# The counts of every selection step are in the table above, beside the paper's. On the simulated
# profiles the survey is much smaller than GZ2 and the cap is scaled with it, so only the *shape* of
# the selection can be compared: confident labels for a minority of galaxies, a training set
# dominated by smooth and spiral galaxies, and rare combinations (dust lanes in early types, mergers
# of a given shape) that the later chapters generate instead of finding. Figure 1's, Figure 2's and
# Figure B3's PNG and PDF files are under `figures/<profile>/`; the training manifest that notebook
# `02_finetune` reads is `01_data/training/manifest.csv` in the run folder.
