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
# # Teaching a diffusion model the words of Galaxy Zoo
#
# **Overview.** This chapter reproduces the training half of Section 2 and Appendix C of Ma et al.
# (2026): a text-conditioned latent diffusion model learns to draw galaxies from (image, morphology
# caption) pairs. The paper fine-tunes all of Stable Diffusion v1.5 (UNet and CLIP text encoder) on
# about 28,000 GZ2 images for 10,000 steps. Stable Diffusion arrived knowing what galaxies and dust
# lanes look like from web images (the paper's Appendix E); on the `demo` profile a tiny model first
# learns the same from a simulated web collection, and Figure E5's counterpart compares real galaxies,
# that base model and the fine-tuned one. Here you will see the recipe step by step: the latent
# cache, the captions that are re-drawn from each galaxy's tags every time it is used, the
# noise-prediction loss and its schedule, checkpoints, and what the model draws as training goes on.
#
# **Prerequisites.** Notebook `01_data` (the training manifest: images and their tags). The `paper`
# profile needs a GPU and Stable Diffusion v1.5 (a Hugging Face Hub id or a local copy); `smoke` and
# `demo` build a tiny model of the same architecture and train it from scratch on the CPU. The base
# model is checked before anything is computed (by the runner, before the first chapter of a run):
# if it cannot be found, one message says why and names the three ways on -- the Hub id to download,
# a local diffusers folder, or `tiny` for a dry run. A relative folder given with `--set` is read
# from the folder the command runs in.
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
seed = 0  # random seed for weights, data order, captions and noise
base_model = "tiny"  # tiny (built here) or a Hub id or folder of Stable Diffusion v1.5
tiny_sizes = {}  # overrides of the tiny model sizes, see galaxysd.diffusion.model.TINY_DEFAULTS
resolution = 64  # image side in pixels (the paper: 424)
autoencoder_steps = 1000  # steps of training the tiny VAE from scratch (tiny model only)
autoencoder_batch_size = 16  # images per VAE training step
autoencoder_learning_rate = 0.001  # peak learning rate of the VAE
autoencoder_crop = 32  # side in pixels of the random crops the VAE trains on (0: whole images)
autoencoder_images = "both"  # what the tiny VAE learns from when pre-training: survey, web or both
pretrain_steps = 600  # optimiser steps of pre-training on the simulated web collection (0: none; the paper: SD1.5 is its pre-trained base)
pretrain_collection_size = 3000  # pictures in the simulated web collection
pretrain_dusty_early_types = True  # the web collection shows early types with dust lanes too (False: on disks only)
max_steps = 800  # optimiser steps of fine-tuning the diffusion model (the paper: 10000)
batch_size = 16  # images per step and process (the paper: 16)
learning_rate = 0.001  # peak learning rate, or per image when scale_lr is set
scale_lr = False  # multiply learning_rate by the total batch (the paper: 1e-7 x 16)
warmup_steps = 40  # linear warm-up steps before the cosine decay (the paper: 400)
weight_decay = 0.001  # AdamW weight decay
max_grad_norm = 1.0  # gradient clipping norm
snr_gamma = None  # Min-SNR loss weighting (None: the paper's plain noise MSE; 5 is the usual choice)
train_text_encoder = True  # fine-tune the CLIP text encoder too (False freezes it)
caption_keep_prob = 0.7  # probability of keeping each tag when a caption is redrawn
caption_dropout = 0.1  # fraction of empty captions, for classifier-free guidance
mixed_precision = "no"  # no, fp16 or bf16 (GPU only)
gradient_checkpointing = False  # recompute activations to save GPU memory
use_ema = False  # keep an exponential moving average of the UNet weights
ema_decay = 0.9999  # decay of the moving average
checkpoint_every = 200  # steps between checkpoints (the paper: 1000)
num_processes = 1  # training processes (GPUs); more than 1 starts torchrun
num_threads = 2  # CPU threads (0: torch default)
grid_checkpoints = 3  # checkpoints to draw sample grids from
grid_steps = 12  # sampler steps for the sample grids (the paper's sampler: 40)
grid_guidance = 4.0  # classifier-free guidance scale for the sample grids
e5_per_prompt = 2  # images per prompt in each column of Figure E5
e5_letters = "ABCDEFGHIJKLMNOP"  # Table 1 prompts (rows) of Figure E5

# %%
import time

import numpy as np
import pandas as pd
from myst_nb import glue

from galaxysd import gz2, plots, setup_chapter
from galaxysd.diffusion import model as dmodel
from galaxysd.diffusion.base_model import check_base_model
from galaxysd.diffusion import report, sample
from galaxysd.diffusion.figure_e5 import figure_e5, prompt_response, prompt_response_sentence, web_collection_figure
from galaxysd.gz2.simulate.web_captions import TABLE1_WEB_PROMPTS
from galaxysd.stages import s02_finetune as s02

paths, label, _ = setup_chapter(profile, run_dir, figures_dir, data_dir)
check_base_model(base_model)  # before anything is computed: the model is there, or what to do

# %% [markdown]
# ## The training set
#
# Each row of the training manifest written by `01_data` is one galaxy: its image and the tags its
# volunteers agreed on. The caption the model sees is not fixed: every time a galaxy is drawn, a random
# subset of its tags is shuffled behind the prefix `"sdss, "`, so the model learns each phrase alone as
# well as in company.

# %%
manifest_path = gz2.training_manifest_path(paths.run)
manifest = gz2.read_training_manifest(manifest_path)
glue("n_train", len(manifest), display=False)
gz2.caption_examples(manifest, seed, keep_prob=caption_keep_prob, n=4)

# %% [markdown]
# The training set holds {glue:text}`n_train` galaxies on this profile (the paper: 27,910).

# %% [markdown]
# ## A base model that knows the world
#
# Stable Diffusion v1.5 learnt from billions of captioned web images before the paper fine-tuned it,
# and among them were photographs of Centaurus A, the Sombrero galaxy and edge-on spirals, captioned
# as such: the paper's model met "early type" and "dust lane" with a prior (Appendix E: pre-trained
# models "already encode the majority of general visual concepts"). The tiny model of the `demo`
# profile gets the same kind of head start. Before fine-tuning, it learns from a second simulated
# picture collection standing for those web images: galaxies of every morphology, drawn by the
# survey's simulator but pictured in another style (softer, closer and off-centre framing, each picture
# exposed to its own brightest light, a logarithmic stretch and a warmer colour balance, coarse JPEG)
# and captioned in plain language, with dust lanes on galaxies of every type. The fine-tuning set
# stays the paper's: no known D-ETG and no early type with a dust lane, which the stage checks before
# training. The `paper` profile skips this step (`pretrain_steps = 0`): SD1.5 is its pre-trained base.
# Setting `pretrain_dusty_early_types = False` makes a collection whose dust lanes are on disks only,
# to ask whether the fine-tuned model's dusty early types need that memory or compose it from
# "early type" and "dust lane" learnt apart. `benchmarks/README.md` has the command and what it
# measured on the demo: the demo's base draws no lane even when its collection shows them on early
# types, so removing them changes nothing measurable there, and the question needs a base that draws
# lanes when asked (SD1.5 on the paper route, or a larger model).

# %% [markdown]
# ## The model and the training run
#
# On the `paper` profile the model is Stable Diffusion v1.5; on `smoke` and `demo` it is a tiny model
# with the same parts (a KL autoencoder, a CLIP text encoder with the project's own tokenizer, a UNet
# with cross-attention, and SD's noise schedule), whose autoencoder is first trained on the galaxy
# images. This autoencoder halves the image side (SD's divides it by eight), because at 64 pixels a
# 4x-down latent kept only half of the spiral arms; the UNet works on its 32x32 latents at four scales.
# Unlike SD, the tiny UNet attends only at its 8x8 level and in its middle block: on a CPU a transformer
# at 16x16 costs almost half of a training step, and the minutes saved buy more steps
# (`benchmarks/README.md` has the measurements). Two details of the autoencoder matter on a short CPU
# run: its posterior variance is held fixed and small (a learnable one drifted up and drowned colour and
# spiral arms in sampling noise), and its latents are shifted and scaled to zero mean and unit variance
# per channel (folded into its weights), so the dark sky sits at zero, as SD's noise schedule assumes.
# When the base model is pre-trained, its autoencoder learns from the web pictures and the survey's alike
# (`autoencoder_images`), as SD's autoencoder, trained on web images, reconstructs SDSS cutouts well;
# then the UNet and text encoder learn the web collection with its captions for `pretrain_steps` steps.
# Every image is then encoded once and its latent distribution cached, and the diffusion model learns to
# predict the noise added to a latent at a uniformly drawn timestep (the epsilon objective), with AdamW,
# a warm-up followed by a cosine one-cycle decay, and gradient clipping. A checkpoint is written every
# `checkpoint_every` steps; an interrupted run resumes from the last one.

# %%
outputs = s02.run_finetune_stages(paths.run, manifest_path, s02.finetune_params(globals()),
                                     num_processes=num_processes)
summary = report.finetune_summary(outputs)
glue("unet_params", f"{summary['parameters']['unet'] / 1e6:.2f} million", display=False)
glue("text_params", f"{summary['parameters']['text_encoder'] / 1e6:.2f} million", display=False)
glue("train_minutes", f"{summary['train_minutes']:.1f}", display=False)
glue("n_broken_images", len(outputs["broken_images"]), display=False)
pd.DataFrame({"parameters": summary["parameters"]}).T

# %% [markdown]
# Before any of this, every training image is opened and decoded (a few milliseconds each), so that
# a truncated, empty or non-image file is found at once rather than hours into a run:
# {glue:text}`n_broken_images` could not be read and were left out (listed with their objIDs in
# `02_finetune/images/broken.csv` of the run folder). The UNet has {glue:text}`unet_params` parameters
# and the text encoder {glue:text}`text_params` (Stable Diffusion v1.5: 859.5 and 123.1 million). Training the diffusion model took
# {glue:text}`train_minutes` minutes on this profile's hardware (the paper: 3 h 14 min on one RTX 3090).

# %%
summary["timing"]

# %% [markdown]
# ## The web collection

# %%
pretrained = outputs["pretrained"] is not None
glue("pretrained", "was" if pretrained else "was not", display=False)
if pretrained:
    web, web_truth = s02.web_collection(outputs)
    glue("n_web", len(web), display=False)
    glue("n_web_detg", int(web_truth["is_detg"].sum()), display=False)
    glue("n_web_dusty", int(web_truth["dust_lane"].sum()), display=False)
    glue("pretrain_minutes", f"{s02.stage_timing(outputs['pretrain_dir'])['seconds'] / 60:.1f}",
         display=False)
    shown = s02.web_examples(web, web_truth, 8, seed)
    fig = web_collection_figure(sample.load_images(shown["image_path"], resolution),
                                shown["caption"].str.split("|").str[0], label)
    _ = plots.publish(fig, paths.figures, "fig_web_collection")
else:
    for name in ("n_web", "n_web_detg", "n_web_dusty", "pretrain_minutes"):
        glue(name, "none", display=False)
    note = (f"pretrain_steps = {pretrain_steps}: the base model ({base_model}) was pre-trained elsewhere "
            "(Stable Diffusion v1.5 on web images) or not at all")
    fig = web_collection_figure(np.zeros((0, 1, 1, 3), np.uint8), [], label, note=note)
    _ = plots.publish(fig, paths.figures, "fig_web_collection")

# %% [markdown]
# On this profile the base model {glue:text}`pretrained` pre-trained on a web collection. When it is, the
# collection holds {glue:text}`n_web` pictures, {glue:text}`n_web_dusty` of them with a dust lane and
# {glue:text}`n_web_detg` of those early types, and pre-training took {glue:text}`pretrain_minutes`
# minutes; the figure shows a few pictures with one of their captions.
#
# ```{glue:figure} fig_web_collection
# :name: fig-web-collection
#
# Pictures of the simulated web collection, dusty galaxies first, each with one of its captions. Compare
# them with the survey's cutouts of `01_data`: closer, off-centre framing, no sky noise but JPEG blocks,
# warmer colours, and dust lanes on early types as well as on disks.
# ```

# %% [markdown]
# ## The loss curve
#
# The loss is the mean squared error of the predicted noise. It falls quickly while the model learns
# the overall look of a galaxy image and then slowly, as it learns how the captions change that
# look; each step draws new timesteps, so single steps scatter widely around the trend.

# %%
history = report.read_loss(outputs["train"])
checkpoint_steps = [dmodel.checkpoint_step(p) for p in dmodel.checkpoint_paths(outputs["train"])]
fig = report.loss_curve_figure(history, label, window=max(1, max_steps // 30), checkpoints=checkpoint_steps)
_ = plots.publish(fig, paths.figures, "fig_finetune_loss")

# %%
first, last = report.loss_change(history, fraction=0.05)
glue("loss_first", f"{first:.3f}", display=False)
glue("loss_last", f"{last:.3f}", display=False)

# %% [markdown]
# ```{glue:figure} fig_finetune_loss
# :name: fig-finetune-loss
#
# Training loss per optimiser step (grey) and its running mean (blue); dotted lines mark the saved
# checkpoints. Right: the learning-rate schedule (warm-up, then one cosine cycle).
# ```
#
# Averaged over the first and the last 5% of the steps, the loss went from {glue:text}`loss_first` to
# {glue:text}`loss_last`.

# %% [markdown]
# ```{exercise} How many steps does it take to see the loss fall?
# :label: ex-02-noise
#
# The grey points scatter widely because each step draws new timesteps and noise. Measure that
# scatter around a running mean (`report.smoothed` over 50 steps, fewer on a short run), and estimate
# how many steps must be averaged to tell a 5 % drop of the final loss at two standard errors. Is the
# running mean of the figure (over `max_steps // 30` steps) wide enough?
# ```

# %% [markdown]
# ```{solution-start} ex-02-noise
# :class: dropdown
# ```

# %% tags=["solution"]
### BEGIN SOLUTION
import numpy as np

trend_window = max(2, min(50, len(history) // 4))
trend = report.smoothed(history["loss"], trend_window)
scatter = float(np.std(history["loss"].to_numpy() - trend))
needed = int(np.ceil((2 * scatter / (0.05 * last)) ** 2))
pd.Series({"scatter of one step": f"{scatter:.4f}", "final loss": f"{last:.4f}",
           "steps to tell a 5 % drop": needed, "window of the figure": max(1, max_steps // 30)}, name="loss")
### END SOLUTION

# %% [markdown]
# The standard error of a mean over n steps is the scatter divided by the square root of n; the
# window of the figure is compared with the n needed. On the short smoke run the numbers only
# exercise the code.
#
# ```{solution-end}
# ```

# %% [markdown]
# ```{exercise} A shorter fine-tune
# :label: ex-02-short-finetune
#
# Training is the longest part of the workshop; here is a short one. Fine-tune again from the same
# base model and latents for a fifth of `max_steps` (on the demo 280 steps, a few minutes on two
# cores; `exercises.short_finetune` writes to the run folder's `exercises/` folder and leaves the
# chapter's model alone). Predict first: after its last step, is the short run's loss above or below
# the long run's loss at the same step? Why might they differ, although both saw the same number of
# steps? (Hint: the learning-rate schedule.)
# ```

# %% [markdown]
# ```{solution-start} ex-02-short-finetune
# :class: dropdown
# ```

# %% tags=["solution"]
### BEGIN SOLUTION
from galaxysd import exercises

short_steps = max(4, max_steps // 5)
short_dir, short_history = exercises.short_finetune(paths.run, outputs, s02.finetune_params(globals()), short_steps,
                                                    num_processes=num_processes)
same_steps = history[history["step"] <= short_steps]
display(pd.DataFrame({"long run, first steps": report.loss_change(same_steps, 0.1),
                      "short run": report.loss_change(short_history, 0.1),
                      "long run, all steps": report.loss_change(history, 0.1)},
                     index=["mean loss, first 10 %", "mean loss, last 10 %"]).round(4))
plots.show(report.loss_curve_figure(short_history, label, window=max(1, short_steps // 30),
                                    checkpoints=[short_steps]))
### END SOLUTION

# %% [markdown]
# The short run's cosine schedule decays to zero over its own steps, so it ends with small, careful
# steps, while the long run is still at its peak learning rate at the same step: the short run often
# ends slightly lower than the long run did at that step, and well above the long run's final loss.
#
# ```{solution-end}
# ```

# %% [markdown]
# ## What the model draws as it learns
#
# The same noise seeds and the same prompts, sampled from a few checkpoints with the paper's sampler
# (Euler ancestral, text to image). A model trained from scratch learns what a galaxy image looks
# like (a bright centre on a dark sky) long before it learns what each phrase changes; with a short
# run, as on the `demo` profile, the columns may still look alike. Text-to-image samples are also
# too bright, the effect that `03_generate` fixes by starting from a real image.

# %%
grid_prompts = {key: gz2.TABLE1_PROMPTS[key] for key in ("B", "A", "C", "F", "M")}
settings = sample.SamplerSettings(scheduler="euler_a", steps=grid_steps, guidance=grid_guidance, strength=None)
t0 = time.perf_counter()
fig = report.checkpoint_sample_grid(outputs["train"], grid_prompts, grid_checkpoints, settings, seed, title=label)
_ = plots.publish(fig, paths.figures, "fig_finetune_samples")
glue("grid_seconds", f"{time.perf_counter() - t0:.0f}", display=False)

# %% [markdown]
# ```{glue:figure} fig_finetune_samples
# :name: fig-finetune-samples
#
# Galaxies drawn from Table 1 prompts B (completely round), A (cigar-shaped), C (edge-on), F (four
# spiral arms) and M (bar) at a few checkpoints, with the same seeds in every row.
# ```

# %% [markdown]
# ## Figure E5: what fine-tuning teaches
#
# The paper's Figure E5 sets SDSS galaxies beside its fine-tuned model's and GPT-4o's drawings. Here
# each Table 1 prompt gets real galaxies of the training set that carry its tags, the base model before
# fine-tuning and the fine-tuned model, with the same noise seeds for both models. The base model does
# not know the GZ2 tags, so it is prompted in the plain wording it learnt (the web collection's, e.g.
# prompt K, "in-between round galaxy, dust lane", becomes "a photo of an oval elliptical galaxy crossed
# by a dark dust lane"); the fine-tuned model gets Table 1's prompt itself.

# %%
e5_prompts = gz2.table1_subset(e5_letters, "e5_letters")
e5_settings = sample.SamplerSettings(scheduler="euler_a", steps=grid_steps, guidance=grid_guidance, strength=None)
t0 = time.perf_counter()
e5_images = s02.figure_e5_images(paths.run, manifest, outputs["base_model"], str(outputs["model"]), e5_prompts,
                                 TABLE1_WEB_PROMPTS, e5_per_prompt, e5_settings, seed)
fig = figure_e5(e5_images, e5_prompts, TABLE1_WEB_PROMPTS, label, per_block=e5_per_prompt)
_ = plots.publish(fig, paths.figures, "figE5_base_vs_finetuned")
glue("e5_seconds", f"{time.perf_counter() - t0:.0f}", display=False)

# %% [markdown]
# ```{glue:figure} figE5_base_vs_finetuned
# :name: fig-e5
#
# Figure E5's counterpart: per Table 1 prompt (rows; all sixteen, A-P, on the demo), real galaxies carrying its tags (left; for K,
# an early type with a dust lane, none is in the training set, so the galaxies shown carry most of its
# tags), the base model before fine-tuning prompted in plain wording (middle; its prompt under the
# first image) and the fine-tuned model prompted with Table 1's wording (right). See whether the base
# model already draws the web's style (closer, warmer, dust lanes where its prompt asks) and whether
# fine-tuning moved it to the survey's look (sky noise, smaller galaxies) while keeping what its
# prompts ask for: in row K, a lane across the early type.
# ```
#
# Does each model follow its prompts? Both draw every prompt from the same noise seeds, so image *i*
# of one prompt and image *i* of another differ only by what the prompt did. Their mean pixel
# difference, in units of the difference between two seeds of one prompt, is about 0 for a model that
# ignores its prompt and about 1 for one whose prompt matters as much as its noise (for the real
# galaxies: how different the galaxies of two prompts are, beside two of one prompt). The interval
# resamples the prompts.

# %%
e5_response = {column: prompt_response(e5_images[column], seed=seed) for column in ("real", "base", "tuned")}
for column, result in e5_response.items():
    glue(f"e5_{column}_response", f"{result['ratio']:.2f} ({result['low']:.2f} to {result['high']:.2f})"
         if result["n_prompts"] >= 2 else "(not measured: fewer than two images a prompt)", display=False)
glue("e5_response_sentence", prompt_response_sentence(e5_response["base"], e5_response["tuned"], e5_response["real"]),
     display=False)
pd.DataFrame(e5_response).T[["ratio", "low", "high", "between", "within", "n_prompts", "n_images"]].round(3)

# %% [markdown]
# The prompt moves the base model's galaxies by {glue:text}`e5_base_response` of what a new noise seed
# moves them (68 % interval over prompts), the fine-tuned model's by {glue:text}`e5_tuned_response`;
# the real galaxies of two prompts differ by {glue:text}`e5_real_response` of how much two of one
# prompt differ. In words: {glue:text}`e5_response_sentence`.

# %% [markdown]
# ## Summary
#
# Figure E5: {glue:text}`e5_response_sentence`. The model in `02_finetune/train/model/` of the run folder (a diffusers pipeline folder that
# `StableDiffusionPipeline.from_pretrained` loads) and its checkpoints are what the next chapters
# sample from. On the `demo` profile it is a tiny model, pre-trained on a simulated web collection and
# fine-tuned on the simulated survey, so its galaxies are small and simple; the paper's model starts
# from Stable Diffusion v1.5, which already knows how to draw, and learns the GZ2 vocabulary on top. The paper's run used batch 16 at
# 424 pixels with a peak learning rate of 1.6e-6 for 10,000 steps; the tiny model, trained from
# scratch, needs a much larger learning rate.
#
# **What the demo's spirals lack.** The `demo` setting is sized to the reader's laptop. Its spirals come
# out as blue, knotty discs whose light winds a little, not as thin, cleanly wound arms (`03_generate`
# measures their arm strength against real spirals'; run `benchmarks/arm_strength.py` to measure it for
# every checkpoint). The steps that got them this far, and the ones that did not (a larger image scale,
# Min-SNR weighting with `snr_gamma`, a larger learning rate, more latent channels, a wider UNet, twice
# the `max_steps`, a moving average of the weights with `use_ema`, training latents turned and
# mirrored at random), are listed with their cost in `benchmarks/README.md`: they point to many times this
# compute for a tiny model trained from scratch, or the head start that Stable Diffusion v1.5 gives the
# paper, which the web collection's pre-training imitates at small scale (its steps are traded for
# fine-tuning steps within the demo's time budget; `benchmarks/README.md` has the measurements).
#
# **Several GPUs.** The same training function runs under `torchrun` or `accelerate launch`; set
# `num_processes` to the number of GPUs, or start it yourself with
# `torchrun --nproc_per_node 4 -m galaxysd.diffusion.train config.json` (the file holds a
# `FinetuneConfig`; see the API page).
