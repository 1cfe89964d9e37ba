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
# # Figures 4 and 5: how real, how varied, how faithful
#
# **Overview.** Section 4.1 of Ma et al. (2026) judges the generated galaxies by three numbers,
# computed in the SimCLR embedding of chapter `04_embedding` for every prompt p: *realism* R^p (how
# close each generated galaxy comes to some real galaxy of its prompt), *diversity* D^p (the mean
# similarity of generated to real galaxies; smaller means more varied) and *consistency* C^p (how
# many of 11 binary judges agree that a generated galaxy shows what its prompt asked for). Figure 4
# follows them through training, Figure 5 sets realism against diversity. This chapter reproduces
# both from the checkpoints `02_finetune` saved, shows how far each judge can be trusted, and adds
# measures the paper does not use: FID and KID, precision / recall / density / coverage, and a check
# that the model does not copy its training galaxies.
#
# **Prerequisites.** `01_data`, `02_finetune` (its checkpoints), `04_embedding` (the encoder).
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
seed = 0  # random seed: noise, reference galaxies, judges' split, bootstrap
letters = "ABCDEFGHIJKLMNOP"  # Table 1 prompts judged (letters A-P)
n_per_prompt = 4  # galaxies generated per prompt and checkpoint
max_checkpoints = 0  # checkpoints judged, evenly spread, the last always kept (0: all)
scheduler = "euler_a"  # sampler (the paper's: Euler ancestral)
steps = 12  # denoising steps (the paper: 40)
guidance = 6.5  # classifier-free guidance scale (the paper: 6.5)
strength = 1.0  # image-to-image strength from a random real reference (the paper: 1.0)
batch_size = 16  # images per sampler call
dtype = "float32"  # weight dtype for sampling on a GPU (float16/bfloat16); CPU: float32
test_fraction = 0.3  # share of real galaxies held out to score the judges
min_positive = 10  # fewest galaxies with (and without) a feature in each part to train its judge
check_features = ["spiral galaxy", "edge-on galaxy", "in-between round galaxy"]  # judged features checked against a ResNet-18 of their own (["all"]: all 11; []: no check); here the three Table 1 names most
check_image_size = 32  # side in pixels of the checking networks' images (the paper: 424-pixel GZ2 images)
check_epochs = 6  # most passes of each checking network over its galaxies; the best on validation is kept
check_patience = 2  # stop once validation has not improved for this many epochs (0: run every epoch)
check_max_train = 400  # galaxies each checking network learns from, drawn from the judges' training part (0: all)
check_val_fraction = 0.1  # share of the judges' training part that chooses each network's epoch and threshold
check_batch_size = 16  # images per training step of a checking network (small: more steps in a short run)
check_weights = ""  # ResNet-18 start: "" random; a .safetensors path (relative: under data_dir); "auto": data_dir/resnet-18 if present
check_min_held_out = 10  # fewest held-out galaxies with (and without) a feature for a verdict on it
check_num_workers = 0  # data-loader processes reading the images from files (0: decoded once into memory)
prdc_k = 5  # neighbours defining the balls of precision / recall / density / coverage
num_threads = 2  # CPU threads (0: torch default)

# %%
import time

from myst_nb import glue

from galaxysd import plots, setup_chapter
from galaxysd.classify.train import TrainConfig
from galaxysd.classify.weights import resolve_weights
from galaxysd.diffusion.sample import SamplerSettings
from galaxysd.evaluation import figures, judge_check
from galaxysd.evaluation.metrics import global_means
from galaxysd.stages import s05_quality as s05

paths, label, began = setup_chapter(profile, run_dir, figures_dir, data_dir, num_threads=num_threads)

# %% [markdown]
# ## The judges Q_i
#
# Consistency asks binary questions of every generated galaxy: is it cigar-shaped? edge-on? does it
# have a dust lane? The paper trains 11 such classifiers without listing them all; ours are the 11
# features that the Table 1 prompts name and that the tags can teach (the three roundness classes,
# edge-on, spiral, bar, ring, merger, dust lane, a rounded edge-on bulge, tightly wound arms). Each
# judge is a logistic regression on the frozen SimCLR embedding -- one network, eleven linear heads --
# trained on {glue:text}`judge_train_share` of the real labelled galaxies and scored on the rest. A
# consistency score is only as good as its judges, so here is how good they are.

# %%
judges, truth = s05.judges_stage(paths, test_fraction, seed, min_positive)
glue("judge_train_share", f"{1 - test_fraction:.0%}", display=False)
glue("n_judges", len(judges.features), display=False)
glue("judge_bacc_median", f"{judges.report.balanced_accuracy.median():.2f}", display=False)
judges.report.round(3)

# %% [markdown]
# {glue:text}`n_judges` judges could be trained (a feature needs at least `min_positive` galaxies
# with and without it in each part); their median balanced accuracy on held-out galaxies is
# {glue:text}`judge_bacc_median` (0.5 is guessing). On a simulated survey the simulator's truth is
# known, so each judge is also scored against what was drawn rather than what volunteers saw:

# %%
truth.round(3)

# %% [markdown]
# ```{exercise} Which judges can you trust?
# :label: ex-05-judges
#
# Consistency counts how often a judge finds the prompted feature in a generated galaxy, so it is
# only as good as the judge. Sort the judges by balanced accuracy: which are barely better than a
# coin (0.5)? Which Table 1 prompts depend on them? How would a weak judge bias the consistency of
# those prompts?
# ```

# %% [markdown]
# ```{solution-start} ex-05-judges
# :class: dropdown
# ```

# %% tags=["solution"]
### BEGIN SOLUTION
judges.report.sort_values("balanced_accuracy").round(3)
### END SOLUTION

# %% [markdown]
# A weak judge answers almost at random, so the consistency of its prompts is pulled toward the
# judge's positive rate, whatever the model draws: a prompt judged by it can neither score well nor
# badly, and its change through training says little.
#
# ```{solution-end}
# ```

# %% [markdown]
# ## Is one network with eleven heads as good as eleven ResNet-18s?
#
# The paper's judges are ResNet-18 classifiers, one per feature, trained on images; ours share one
# network and differ only in a linear head. The shortcut is fair only if no head loses to a network
# of its own, so for {glue:text}`n_check_features` of the features a ResNet-18 learns the feature
# alone, from images, with the training loop of chapter 06: it learns from the judges' own training
# galaxies ({glue:text}`check_scale`), a validation slice of them chooses its best epoch and its
# decision threshold (the F1 rule of chapter 06), and it answers for the same held-out galaxies as the
# head. A paired bootstrap over those galaxies (both judges scored on the same resampled galaxies)
# gives the two balanced accuracies and their difference, head minus network, each with a 68 %
# interval. The verdict is *worse* when the whole interval of the difference lies below zero, *as
# good* when it reaches zero or favours the head, and *too few to tell* when fewer than
# {glue:text}`check_min_held_out` held-out galaxies carry the feature (or lack it).

# %%
glue("check_min_held_out", check_min_held_out, display=False)
epochs_text = f"{'at most ' if check_patience else ''}{check_epochs} epoch{'s' if check_epochs != 1 else ''}"
glue("check_scale", f"{f'at most {check_max_train:,}' if check_max_train else 'all'} of them, "
                    f"{check_image_size}-pixel images, {epochs_text}", display=False)
check = None
if check_features:
    check_config = TrainConfig(epochs=check_epochs, patience=check_patience, batch_size=check_batch_size,
                               weights=resolve_weights(check_weights, paths.data), num_workers=check_num_workers,
                               num_threads=num_threads)
    check = s05.judge_check_stage(paths, judges, check_features, check_config, check_image_size, test_fraction,
                                  seed, check_val_fraction, check_max_train, min_held_out=check_min_held_out)
    _ = plots.save_table(check, paths.figures, "table_judge_check")
glue("n_check_features", len(check) if check is not None else 0, display=False)
for name, text in judge_check.check_sentences(check).items():
    glue(name, text, display=False)
judge_check.display_table(check) if check is not None else "check not run (check_features is empty)"

# %% [markdown]
# {glue:text}`check_sentence` "As good" means that the sample does not show the head losing, not that
# it shows the two equal: how far a head could still trail is the lower end of its interval. On a small
# profile the networks are small too (the settings above), so "as good" there means as good as a
# briefly trained ResNet-18 (the heads learnt from every training galaxy); the paper profile checks
# all 11 features with networks trained at the scale of chapter 06's classifiers (image size, epochs,
# training-set size, and an ImageNet start where its weights are present).

# %% [markdown]
# ## Generating with every checkpoint
#
# Every checkpoint of `02_finetune` draws the same plan: {glue:text}`n_per_prompt` galaxies for each
# Table 1 prompt, with the same seeds and the same real reference galaxies (image-to-image at
# strength 1.0, the paper's sampler). A difference between checkpoints is therefore the model's,
# and can be tested galaxy by galaxy. The generation engine is the one of `03_generate`: cached per
# checkpoint, resumable, and sharded over processes on a cluster.

# %%
chosen = s05.checkpoints(paths.run, max_checkpoints)
settings = SamplerSettings(scheduler=scheduler, steps=steps, guidance=guidance, strength=strength)
generated = s05.generate_checkpoints(paths, chosen, letters, n_per_prompt, settings, seed, batch_size, dtype)
glue("n_per_prompt", n_per_prompt, display=False)
glue("n_checkpoints", len(chosen), display=False)
glue("checkpoint_steps", ", ".join(str(c.step) for c in chosen), display=False)

# %% [markdown]
# ## Realism, diversity and consistency
#
# For prompt p with real galaxies X (those carrying all of the prompt's tags) and generated galaxies
# Y: R^p is the mean over Y of the largest cosine similarity to any X; D^p is the mean cosine
# similarity over all pairs of X and Y; C^p is the mean over Y of the fraction of judges whose answer
# matches what the prompt says (a prompt's tags are true, the tags the GZ2 tree rules out by them are
# false, and judges of features the prompt leaves open are not asked). The global values are means
# over prompts. A prompt that no real galaxy carries -- an early type with a dust lane is kept out of
# training on purpose -- has no realism or diversity: the table says so instead of dividing by zero.

# %%
measured = s05.metrics_stage(paths, generated, judges, letters, seed, prdc_k)
per_prompt, per_image, beyond = measured["per_prompt"], measured["per_image"], measured["beyond"]
glob, by_prompt = s05.curves(per_prompt)
final_step = int(glob.index.max())
final = per_prompt[per_prompt.step == final_step].set_index("condition")
for name, value in global_means(final).items():
    glue(f"final_{name}", f"{value:.3f}", display=False)
glue("final_step", final_step, display=False)
final.drop(columns="step").round(3)

# %% [markdown]
# At the last checkpoint (step {glue:text}`final_step`) the global realism is
# {glue:text}`final_realism`, the global diversity {glue:text}`final_diversity` and the global
# consistency {glue:text}`final_consistency`.

# %% [markdown]
# ## Figure 4: the metrics through training

# %%
_ = plots.publish(figures.figure4(glob, by_prompt, label), paths.figures, "fig4_metrics_vs_step")
first_step = int(glob.index.min())
names = {"realism": "realism R", "diversity": "the diversity metric D (a similarity: a rise means less diverse)"}
for column in ("realism", "diversity"):
    if first_step != final_step:
        change = s05.change_between(per_image, first_step, final_step, column, seed)
        glue(f"{column}_verdict", s05.change_sentence(names[column], change, first_step, final_step), display=False)
    else:
        glue(f"{column}_verdict", f"only one checkpoint (step {final_step}) was judged: no change to tell", display=False)
glue("consistency_first", f"{glob.consistency.iloc[0]:.3f}", display=False)
glue("consistency_last", f"{glob.consistency.iloc[-1]:.3f}", display=False)

# %% [markdown]
# ```{glue:figure} fig4_metrics_vs_step
# :name: fig-4
#
# **Figure 4.** Global consistency, diversity and realism of the generated galaxies (means over the
# Table 1 prompts) at each checkpoint ({glue:text}`checkpoint_steps`), and realism per prompt (below).
# ```
#
# The paper finds that realism rises fastest in the first ~1,000 steps and then keeps growing, and
# that the generated galaxies grow more diverse as training goes on (a falling D). On this profile,
# with the same galaxies planned at every checkpoint and a 95 % bootstrap interval over them (it
# covers the choice of generated galaxies, not of real ones or of the embedding):
# {glue:text}`realism_verdict`; {glue:text}`diversity_verdict`. Consistency went from
# {glue:text}`consistency_first` to {glue:text}`consistency_last`. Realism sits close to 1 for the
# prompts with hundreds of real galaxies: in a 512-number embedding of non-negative features, a few
# hundred real galaxies leave a near twin for any plausible image, so realism separates checkpoints
# mainly on the prompts with few real examples (the table's `n_real`).

# %% [markdown]
# ```{exercise} Judge a checkpoint, prompt by prompt
# :label: ex-05-checkpoint
#
# Figure 4 averages over prompts. For each prompt, how did realism and diversity change from the
# first to the last judged checkpoint (`exercises.metric_change`)? Which prompts gained most realism;
# did any lose diversity (a higher D means more alike)? Is the last checkpoint the best for every
# prompt? Compare with Table 1's training counts.
# ```

# %% [markdown]
# ```{solution-start} ex-05-checkpoint
# :class: dropdown
# ```

# %% tags=["solution"]
### BEGIN SOLUTION
import pandas as pd
from galaxysd import exercises

pd.concat({"realism": exercises.metric_change(per_prompt, "realism"),
           "diversity (similarity)": exercises.metric_change(per_prompt, "diversity")}, axis=1).round(3)
### END SOLUTION

# %% [markdown]
# Prompts with many training galaxies usually gain realism first; a prompt whose diversity metric
# rises while its realism rises is converging on a few typical galaxies. With a handful of images per
# prompt and checkpoint, differences of a few hundredths are noise.
#
# ```{solution-end}
# ```

# %% [markdown]
# ## Figure 5: realism against diversity
#
# Each point is one prompt at one checkpoint; colours group the prompts by type, and the dashed
# line joins each type's Pareto front (the points no other point of the type beats on both realism
# and diversity). We read the paper's Figure 5 this way because its points, like its Figure 4, come
# from the training run; a sweep of guidance scales would add points, at the cost of generating
# again.

# %%
points = per_prompt.rename(columns={"condition": "letter"}).assign(type=lambda f: f.letter.map(s05.prompt_type))
_ = plots.publish(figures.figure5(points, label), paths.figures, "fig5_pareto")

# %% [markdown]
# ```{glue:figure} fig5_pareto
# :name: fig-5
#
# **Figure 5.** Realism against diversity for every Table 1 prompt at every checkpoint (marker size
# grows with the step), coloured by prompt type, with each type's Pareto front (dashed).
# ```

# %% [markdown]
# ## Beyond the paper: distances between the sets, and are we copying?
#
# In the same embedding: the Fréchet distance (FID) and kernel distance (KID) between all real and
# all generated galaxies; precision (generated galaxies inside the real ones' neighbourhoods),
# recall (real galaxies inside the generated ones'), density and coverage (Naeem et al. 2020); and
# for memorisation the cosine distance of each generated galaxy to its nearest *training* galaxy
# beside the same distance for real galaxies held out of training: a model that copies puts its
# galaxies much closer to the training set than an unseen real galaxy ever gets
# (`memo_copy_fraction` is the share below the held-out galaxies' 1st percentile; about 0.01 when
# nothing is copied; `memo_p_value` tests whether they lie closer at all).

# %%
last = beyond.set_index("step").loc[final_step]
glue("copy_fraction", f"{last.get('memo_copy_fraction', float('nan')):.3f}", display=False)
glue("copy_p", f"{last.get('memo_p_value', float('nan')):.2g}", display=False)
beyond.round(4)

# %% [markdown]
# At the last checkpoint a share of {glue:text}`copy_fraction` of the generated galaxies lie closer to
# a training galaxy than 99 % of held-out real galaxies do (about 0.01 if nothing were copied;
# one-sided test that they lie closer in general: p = {glue:text}`copy_p`). Some closeness is built
# into the paper's sampler: every galaxy starts from the noised latent of a training galaxy drawn at
# random (0.068 of it survives at strength 1.0), so a small p alone does not mean copying; a copy
# fraction well above 0.01 would.

# %% [markdown]
# ## Beyond the paper: do the checkpoints draw dust lanes?
#
# Two Table 1 prompts ask for a dust lane (K and L); D and N are the same prompts without it. The
# dust-lane depth of chapter 03 (how much darker the g band is on a line through the centre than
# beside it) of their galaxies at every checkpoint, median per step:

# %%
from galaxysd import dustlane_report

lanes_by_step, lanes_verdict = dustlane_report.checkpoint_lanes(generated, seed)
glue("lanes_verdict", lanes_verdict, display=False)
lanes_by_step.round(3)

# %% [markdown]
# {glue:text}`lanes_verdict`.

# %% [markdown]
# ## Summary
#
# The paper shows realism climbing fast over the first ~1,000 of 10,000 steps of Stable Diffusion
# v1.5 fine-tuning and diversity growing throughout, with a realism-diversity trade-off per prompt
# type. On this profile the model is the tiny one of `02_finetune`, judged at
# {glue:text}`n_checkpoints` checkpoints with {glue:text}`n_per_prompt` galaxies per prompt (the paper
# does not give its numbers of images), in an embedding trained briefly on small images (chapter
# 04), with linear judges on that embedding in place of 11 ResNet-18 classifiers (checked against
# ResNet-18s of their own: {glue:text}`check_short`). What was measured:
# {glue:text}`realism_verdict`; {glue:text}`diversity_verdict`. Dust lanes: {glue:text}`lanes_verdict`.
# These are statements about the simulated survey and the small model, not the paper's numbers.

# %%
glue("quality_minutes", f"{(time.perf_counter() - began) / 60:.1f}", display=False)
