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
# diffusion model is trained on, and which galaxies are kept out of training. It also draws Figure 1,
# the paper's schematic of the whole pipeline.
#
# **Prerequisites.** None: this is the first stage. The `paper` profile needs the real GZ2 files
# (downloaded on first use into `$GALAXYSD_DATA`); `smoke` and `demo` use the embedded simulated survey.
#
# **Time to run.** See the [reproducing page](../reproducing.md) for measured times per profile.

# %% tags=["parameters"]
profile = "demo"  # profile whose values the runner injected (smoke, demo or paper)
run_dir = ""  # folder of stage outputs (empty: GALAXYSD_RUNS/profile)
figures_dir = ""  # folder for PNG and PDF figures (empty: GALAXYSD_FIGURES/profile)
data_dir = ""  # folder of the real or simulated data (empty: GALAXYSD_DATA)
seed = 0  # random seed for every random choice in this notebook

# %%
from myst_nb import glue

from galaxysd import plots
from galaxysd.paths import run_paths

paths = run_paths(profile, run_dir, figures_dir, data_dir)

# %% [markdown]
# ## Figure 1: the pipeline
#
# GZ2 images and their tags are paired into captions and used to fine-tune Stable Diffusion; the
# fine-tuned model then generates galaxies from morphology prompts, and the generated images feed the
# downstream tasks of the later chapters.

# %%
plots.publish(plots.pipeline_schematic(profile), paths.figures, "fig1_schematic")

# %% [markdown]
# ```{glue:figure} fig1_schematic
# :name: fig-schematic
#
# **Figure 1.** Schematic of the pipeline: GZ2 images and morphology captions fine-tune the diffusion
# model, which then generates galaxies on demand for quality checks, classification and the rare-class
# search.
# ```

# %% [markdown]
# ## Summary
#
# Figure 1 is drawn by code, so every profile regenerates it; its PNG and PDF are under
# `figures/<profile>/`.
