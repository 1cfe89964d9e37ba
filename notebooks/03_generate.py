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
# # Figure 3: galaxies dreamt from morphology prompts
#
# **Overview.** This chapter reproduces the generation half of Section 2 and Figure 3 of Ma et al.
# (2026): the fine-tuned model draws galaxies from the sixteen morphology prompts of Table 1. You will
# see the paper's sampler (Euler ancestral with classifier-free guidance), why the authors start every
# image from a *real* galaxy rather than from pure noise (text-to-image samples come out too bright),
# how a phrase is emphasised with the `{dust lane:1.3}` syntax, and -- with simple image statistics --
# whether the generated galaxies have the shapes and colours their prompts ask for.
#
# **Prerequisites.** Notebooks `01_data` (the training manifest: real galaxies and their tags) and
# `02_finetune` (the trained model).
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
seed = 0  # random seed for noise and for the reference galaxies drawn
scheduler = "euler_a"  # sampler: euler_a (the paper's), euler, ddim, dpmpp_2m, unipc...
steps = 12  # denoising steps (the paper: 40)
guidance = 6.5  # classifier-free guidance scale (the paper: 6.5)
strength = 1.0  # image-to-image strength, 0-1 (the paper: 1.0)
resolution = 0  # image side in pixels (0: the model's own size; the paper: 424)
letters = "ABCDEFGHIJKLMNOP"  # Table 1 prompts to generate (letters A-P)
n_per_prompt = 16  # image-to-image samples per Table 1 prompt (the first three are in Figure 3)
n_txt2img = 1  # text-to-image samples per Table 1 prompt, for the brightness comparison (the paper: 16)
sweep_base = "sdss, in-between round galaxy"  # early-type prompt of the weight sweep
sweep_phrase = "dust lane"  # phrase whose weight is swept
sweep_weights = [1.0, 1.3, 1.6]  # weights of the phrase (1.0: no emphasis)
n_sweep = 3  # samples per weight (same seeds and references in every row)
n_real_stats = 48  # real galaxies per prompt measured for the quality table
n_lane_validation = 100  # simulated galaxies per group (D-ETGs, dusty disks, clean early types) that validate the dust-lane depth
batch_size = 16  # images per sampler call
dtype = "float32"  # weight dtype for sampling: float32, or float16/bfloat16 on a GPU
num_threads = 2  # CPU threads (0: torch default)

# %%
import time

import numpy as np
import pandas as pd
from myst_nb import glue

from galaxysd import gz2, plots, setup_chapter, verdicts
from galaxysd.diffusion import batch, gallery, prompts, sample, weighting
from galaxysd.diffusion import quality as dquality
from galaxysd.stages import s03_generate as s03

paths, label, began = setup_chapter(profile, run_dir, figures_dir, data_dir, num_threads=num_threads)

# %% [markdown]
# ## The model and the real galaxies
#
# The model is the one `02_finetune` saved; the real galaxies are the training set of `01_data`,
# which serves twice: as the pool the image-to-image references are drawn from, and as the real
# examples each prompt is compared with.

# %%
inputs = batch.generation_inputs(paths.run, letters, resolution, dtype)
pipe, manifest, size = inputs.pipe, inputs.manifest, inputs.size
glue("n_pool", len(manifest), display=False)
glue("image_size", size, display=False)

# %% [markdown]
# ## The sampler, and why it starts from a real galaxy
#
# Each image starts as noise and is denoised in `steps` steps by the Euler-ancestral scheduler, the
# UNet being run twice per step (with the prompt and with an empty prompt) and the two predictions
# extrapolated by the guidance scale. The authors found that galaxies drawn this way from text alone
# are systematically too bright: the noise schedule of Stable Diffusion never reaches pure noise, so a
# model trained on it never learns to pick the overall brightness from nothing (Lin et al. 2023).
# Their fix is image-to-image at strength 1.0 from a randomly drawn real galaxy: the denoising still
# starts at the noisiest timestep, but the starting latent keeps a faint copy of the real galaxy --
# enough to set the brightness, too little to fix the shape.

# %%
sampler = sample.make_scheduler(scheduler, pipe.scheduler.config)
t_first = sample.first_timestep(sampler, steps, strength)
fraction = sample.reference_fraction(sampler, steps, strength)
glue("t_first", t_first, display=False)
glue("ref_fraction", f"{fraction:.3f}", display=False)
glue("steps", steps, display=False)
glue("strength", strength, display=False)

# %% [markdown]
# With {glue:text}`steps` steps at strength {glue:text}`strength`, the first step is at timestep
# {glue:text}`t_first`, where the starting latent carries {glue:text}`ref_fraction` times the reference
# galaxy's latent (the paper: 0.068 at t = 999).

# %% [markdown]
# ```{exercise} How much of the reference survives?
# :label: ex-03-strength
#
# With `strength` = 1.0 the sampler starts from the reference galaxy's latent, noised to the first
# timestep. Predict how the share of the reference in the starting latent (`sample.reference_fraction`)
# changes if `strength` falls to 0.8 or 0.6, and if the sampler takes more steps. Compute the table
# and say which setting you would choose to keep more of a reference galaxy's shape.
# ```

# %% [markdown]
# ```{solution-start} ex-03-strength
# :class: dropdown
# ```

# %% tags=["solution"]
### BEGIN SOLUTION
import pandas as pd

strengths = [0.6, 0.8, 1.0]
step_counts = sorted({steps, 2 * steps, 40})
sampler_ex = sample.make_scheduler(scheduler, pipe.scheduler.config)  # a fresh one: the chapter's is left as it is
pd.DataFrame({f"strength {s:g}": {f"{n} steps": round(sample.reference_fraction(sampler_ex, n, s), 3)
                                  for n in step_counts} for s in strengths})
### END SOLUTION

# %% [markdown]
# A lower strength starts at an earlier, less noisy timestep, so much more of the reference is kept
# (and the prompt has fewer steps to change it); the number of steps hardly matters at strength 1.0,
# where the first timestep is the last of the schedule whatever the steps.
#
# ```{solution-end}
# ```

# %% [markdown]
# ## Emphasis: `{phrase:weight}`
#
# A phrase in braces has its token embeddings multiplied by the weight (1.1 when no number is given;
# nested braces multiply), and the whole prompt embedding is then rescaled so that its mean is what it
# was without weights. The table shows how the weighted prompts of Table 1 and of the D-ETG search
# are split.

# %%
weighted = {**gz2.TABLE1_PROMPTS, **{f"D-ETG {i + 1}": p for i, p in enumerate(gz2.DETG_PROMPTS)}}
prompts.weights_table(weighted)

# %% [markdown]
# Restoring the mean divides by the mean of the text encoder's output, and a CLIP text encoder ends in
# a LayerNorm, whose output has a mean near zero unless its learnt bias moves it away: for a freshly
# built encoder the mean is rounding noise, and the unguarded ratio can be huge, negative or infinite
# (a NaN embedding, a black image). The ratio is used as the paper uses it where the mean is well away
# from zero (at least 0.01% of the mean absolute value), bounded by the reciprocals of the largest and
# smallest weights (where it always lies when the tokens' means share a sign); otherwise the mean is
# not restored. Either way a weighted phrase keeps its weight relative to the rest of the prompt. The
# table says what happens on this model.

# %%
weighting.restoring_table(weighted, pipe.tokenizer, pipe.text_encoder).round(4)

# %% [markdown]
# ## Generating the Table 1 galaxies
#
# Every image has its own seed, derived from the notebook's seed, the prompt's letter and the image's
# index, and image-to-image draws its reference galaxy the same way; both are recorded in the
# stage's `manifest.csv` with the prompt, weights, scheduler, steps, guidance and strength. The same
# prompts are also sampled from text alone for the brightness comparison. Both are cached stages: a
# rerun with the same parameters loads the images, and an interrupted run resumes where it stopped.

# %%
img2img = sample.SamplerSettings(scheduler=scheduler, steps=steps, guidance=guidance, strength=strength,
                                 resolution=size)
gen_i2i, gen_t2i = s03.generate_table1(paths.run, inputs, img2img, n_per_prompt, n_txt2img, seed, batch_size)
gen_i2i[["file", "prompt", "weights", "seed", "reference_id", "scheduler", "steps", "guidance", "strength"]].head()

# %%
seconds_per_image = s03.stage_timing(paths.run / "03_generate" / "img2img").get("seconds_per_image", float("nan"))
glue("n_generated", len(gen_i2i) + len(gen_t2i), display=False)
glue("seconds_per_image", f"{seconds_per_image:.2f}", display=False)

# %% [markdown]
# ## Figure 3
#
# For each Table 1 prompt, a real galaxy carrying the prompt's tags and three generated ones.

# %%
real_images, generated, missing = gallery.figure3_inputs(manifest, inputs.prompts, gen_i2i, size, seed)
_ = plots.publish(gallery.figure3(inputs.prompts, real_images, generated, label), paths.figures, "fig3_generated")
glue("no_real_match", ", ".join(missing) if missing else "none", display=False)

# %% [markdown]
# ```{glue:figure} fig3_generated
# :name: fig-generated
#
# **Figure 3.** For each Table 1 prompt (A-P), a real galaxy of the training set that carries the
# prompt's tags (left) and three galaxies generated from the prompt by image-to-image from a randomly
# drawn real reference (right).
# ```
#
# Prompts without a real example in the training set: {glue:text}`no_real_match`. Early-type galaxies
# with a dust lane (prompt K) are kept out of training on purpose, so the model meets that combination
# of words only at generation time.

# %% [markdown]
# ## Brightness: text-to-image against image-to-image (the paper: text-to-image is too bright)
#
# The mean pixel value of real galaxies, of text-to-image samples and of image-to-image samples of the
# same prompts.

# %%
brightness = dquality.brightness_samples(manifest, gen_t2i, gen_i2i, size, seed)
_ = plots.publish(gallery.brightness_figure(brightness, label), paths.figures, "fig_brightness")
for key, values in brightness.items():
    glue(f"bright_{key.split('-')[0]}", f"{np.median(values):.3f}", display=False)
glue("brightness_verdict", dquality.brightness_verdict(brightness, seed), display=False)

# %% [markdown]
# ```{glue:figure} fig_brightness
# :name: fig-brightness
#
# Distributions of the mean pixel value of real training galaxies, text-to-image samples and
# image-to-image samples (strength 1.0, random real reference) of the Table 1 prompts.
# ```
#
# Median brightness: real {glue:text}`bright_real`, text-to-image {glue:text}`bright_text`,
# image-to-image {glue:text}`bright_image`: {glue:text}`brightness_verdict` (Mann-Whitney tests and
# bootstrap intervals of the difference of medians, as for the verdicts below). The paper reports the
# excess brightness of text-to-image samples qualitatively; on a small model trained from scratch the
# effect can be weaker or absent.

# %% [markdown]
# ## Emphasising the dust lane
#
# The same seeds and the same reference galaxies, with the dust-lane phrase of an early-type prompt
# weighted 1.0, 1.3 and 1.6.

# %%
sweep_images, sweep_prompts = s03.weight_sweep(paths.run, inputs, img2img, sweep_base, sweep_phrase,
                                               sweep_weights, n_sweep, seed, batch_size)
_ = plots.publish(gallery.sweep_figure(sweep_images, sweep_prompts, label), paths.figures, "fig_dust_sweep")

# %% [markdown]
# ```{glue:figure} fig_dust_sweep
# :name: fig-dust-sweep
#
# An early-type prompt with its dust-lane phrase weighted 1.0, 1.3 and 1.6 (rows); every column shares
# its seed and reference galaxy.
# ```

# %% [markdown]
# ### A dust-lane measure
#
# Whether a lane is there is measured rather than judged by eye, as the arm strength below does for
# spiral arms. Dust dims the g band most and the i band least, so a lane is a band through the
# centre that is darker, and redder, than the light beside it. The **dust-lane depth** divides each
# galaxy by a smooth model of its light (the upper quartile of elliptical annuli, which the dust
# leaves undimmed), then, over every direction through the centre, compares the g band (the blue
# channel) on the line with the lines a lane's width or two to either side: 0 for a smooth galaxy,
# about 0.3 for a lane that dims the g band by a third. On a simulated survey the truth says which
# galaxies have a lane, so the measure is validated there first: {glue:text}`lane_validation`.

# %%
from galaxysd import dustlane, dustlane_report
from galaxysd.stages import s07_detg_experiment as s07

if gz2.reads_real_data(paths.run) is not False:  # real data (or no labels): no ground truth
    lane_validation = "the real data have no ground truth, so the measure is not validated on this profile"
    clean_depths = np.array([])
else:
    lane_survey = s07.read_survey(s07.survey_stage(paths.run).path)
    lane_sample = dustlane_report.truth_sample(gz2.truth_table(paths.run), lane_survey, n_lane_validation, seed)
    lane_depths = dustlane_report.depth_stage(paths.run, "03_generate/dustlane", lane_sample, size)
    lane_validation = dustlane_report.validation_sentence(dustlane_report.validation_table(lane_depths, seed))
    clean_depths = lane_depths.loc[lane_depths["group"] == "clean early type", "lane_depth"].to_numpy()
glue("lane_validation", lane_validation, display=False)
sweep_depths = {w: dustlane.dust_lane_stats(images)["lane_depth"].to_numpy() for w, images in sweep_images.items()}
sweep_lanes = dustlane_report.group_table(
    pd.concat([pd.DataFrame({"group": f"{{{sweep_phrase}:{w:g}}}", "lane_depth": d,
                             "lane_reddening": dustlane.dust_lane_stats(sweep_images[w])["lane_reddening"]})
               for w, d in sweep_depths.items()]), seed=seed)
heaviest = max(sweep_depths)
sweep_lane_verdict = verdicts.verdict(
    verdicts.compare(sweep_depths[heaviest], clean_depths, seed=seed),
    f"at weight {heaviest:g} the generated early types have deeper lanes than clean early types of the survey",
    f"at weight {heaviest:g} the generated early types have shallower lanes than clean early types",
    f"whether the generated early types at weight {heaviest:g} have deeper lanes than clean early types")
glue("sweep_lane_verdict", sweep_lane_verdict, display=False)
sweep_lanes.round(3)

# %% [markdown]
# Median dust-lane depth per weight of the sweep above (with its 95 % bootstrap interval):
# {glue:text}`sweep_lane_verdict`.

# ```{exercise} Emphasising another tag
# :label: ex-03-merger-weight
#
# Sweep the weight of another phrase the same way: `{merger:w}` on `"sdss, spiral galaxy"` at the
# weights 1.0, 1.5 and 2.0, with `n_sweep` galaxies per weight (same seeds and references in every
# row). Predict whether a heavier weight changes the images more, and in what way. Use
# `s03.weight_sweep` with an exercise folder as its run folder, `gallery.sweep_figure`, and
# `exercises.image_change` to put a number on how far each row moved from the first.
# ```

# %% [markdown]
# ```{solution-start} ex-03-merger-weight
# :class: dropdown
# ```

# %% tags=["solution"]
### BEGIN SOLUTION
from galaxysd import exercises

scratch = exercises.scratch_dir(paths.run, "ex-03-merger-weight")
merger_images, merger_prompts = s03.weight_sweep(scratch, inputs, img2img, "sdss, spiral galaxy", "merger",
                                                 [1.0, 1.5, 2.0], n_sweep, seed, batch_size)
display(exercises.image_change(merger_images).round(2).to_frame())
plots.show(gallery.sweep_figure(merger_images, merger_prompts, label))
### END SOLUTION

# %% [markdown]
# The heavier the weight, the further the images move from the unweighted row; whether they move
# toward a merger (a second nucleus, tidal light) or only toward noise says how well this model has
# learnt the word: rare words are learnt last.
#
# ```{solution-end}
# ```

# %% [markdown]
# ## Do the galaxies follow their prompts?
#
# Five simple measurements of every generated galaxy and of up to `n_real_stats` real galaxies per
# prompt: the axis ratio from the light's second moments (1 for round, small for cigar-shaped and
# edge-on), a g-r-like colour from the blue and green channels of the gri composite (larger is
# redder), the concentration R90/R50, the mirror asymmetry: how much the galaxy differs from its
# own mirror image about its major axis, and the arm strength. Smooth galaxies, round or elongated,
# are their own mirror image; spiral arms wind one way, so their mirror image does not match, but
# patchy or lopsided light does not match either. The arm strength asks for arms that wind: it
# decomposes the deprojected disc into logarithmic spirals of one to four arms and 10-50 degree pitch,
# as the 2DFFT method of measuring pitch angles does {cite:p}`Puerari1992,Davis2012`, and keeps the
# strongest difference between a mode and its mirror image, which winds the other way. It is zero for
# any mirror-symmetric galaxy and small for clumps; only coherent winding arms make it large. The
# table gives medians. The measurements are a cached stage (`03_generate/quality`), redone only when
# the images, the parameters or the measuring code change.
#
# A verdict below is stated only when the images measured support it: each compares two groups of
# images (generated early types against generated spirals, say) with a Mann-Whitney test, and gives
# the bootstrap 95% interval of the difference of their medians; when a group has fewer than five
# measurable images, or the test cannot tell the difference from chance (p >= 0.05), or the interval
# includes zero, it says "too few images to tell". A small or short run, or images that are still noise, earns no verdict.

# %%
quality, texts = s03.prompt_following(paths.run, manifest, gen_i2i, inputs.prompts, n_real_stats, size, seed,
                                      stage_inputs=[paths.run / "03_generate" / "img2img"])
for name, text in texts.items():
    glue(name, text, display=False)
quality.round(2)

# %% [markdown]
# Median axis ratio of the generated galaxies (real ones in brackets): completely round (B)
# {glue:text}`q_B` ({glue:text}`q_B_real`), in-between round (D) {glue:text}`q_D`
# ({glue:text}`q_D_real`), cigar-shaped (A) {glue:text}`q_A` ({glue:text}`q_A_real`), edge-on (C)
# {glue:text}`q_C` ({glue:text}`q_C_real`): {glue:text}`shape_verdict`. Median colour of the generated
# early types (B, D) {glue:text}`colour_early` against {glue:text}`colour_late` for the spirals (F-J):
# {glue:text}`colour_verdict`. Median mirror asymmetry of the generated spirals (F-J)
# {glue:text}`asymmetry_gen_late` against {glue:text}`asymmetry_gen_early` for the generated early
# types (real: {glue:text}`asymmetry_real_late` and {glue:text}`asymmetry_real_early`):
# {glue:text}`asymmetry_verdict`. Median arm strength of the generated spirals
# {glue:text}`arms_gen_late` against {glue:text}`arms_gen_early` for the generated early types (real:
# {glue:text}`arms_real_late` and {glue:text}`arms_real_early`): {glue:text}`arms_verdict`. A spiral
# is a disc seen at a random inclination, so the spirals' axis
# ratios are a second check: median {glue:text}`q_late` for the generated spirals against
# {glue:text}`q_late_real` for real ones: {glue:text}`disc_verdict`.
#
# The sampler matters for the fine structure of a small model: Euler-ancestral, the paper's, adds
# fresh noise at every step, and on the tiny demo model a deterministic sampler
# (`scheduler="dpmpp_2m"`) keeps more of the spirals' knots and windings at the same number of steps
# (measured on the demo setting in `benchmarks/README.md`, beside experiments 19-22, where neither sampler drew
# thin, wound arms).

# %% [markdown]
# ## Summary
#
# On this profile the model generated {glue:text}`n_generated` galaxies of {glue:text}`image_size`
# pixels at {glue:text}`seconds_per_image` s per image (image-to-image, including the reference's
# encoding). The paper's Figure 3 shows 424-pixel galaxies from Stable Diffusion v1.5 fine-tuned for
# 10,000 steps, in which shapes, arm counts and windings, bars, rings, mergers and dust lanes are all
# visible. The tiny model of the `demo` profile is trained from scratch on a small simulated survey in
# minutes, so the coarse words (round, in-between, cigar-shaped, edge-on; early- vs late-type colours)
# are what to look for, and the measurements above say how far it got; the finer words (arm counts,
# windings, bars, dust lanes) need a larger model, more images and more steps. The weighted prompts,
# the image-to-image brightness fix and the batch generator with its manifest are the pieces the
# later chapters use to build augmented training sets.

# %%
glue("generate_minutes", f"{(time.perf_counter() - began) / 60:.1f}", display=False)
