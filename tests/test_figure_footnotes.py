"""Every figure of the book says which data made it: each figure function of the index
(``galaxysd.outputs.OUTPUTS``), drawn on small inputs with a data label, carries that label in its
saved figure. A new figure function must be added here, so the rule cannot silently lapse."""

import importlib

import matplotlib.text
import numpy as np
import pandas as pd
import pytest
from PIL import Image

from galaxysd import outputs, plots

LABEL = "smoke profile: simulated survey (not the paper's data)"
#: Figures whose caller composes the label into the ``title`` they pass (notebook 01's and 02's),
#: or that show no data at all.
TITLE_CARRIES_THE_LABEL = {
    "galaxysd.gz2.figures.redshift_bias_figure", "galaxysd.gz2.figures.upset_figure",
    "galaxysd.gz2.figures.gallery_figure", "galaxysd.diffusion.report.checkpoint_sample_grid",
}
NO_DATA = {"galaxysd.gz2.figures.question_tree_figure": "the GZ2 decision tree (Willett et al. 2013), a diagram"}


def _image(value=0):
    return np.full((16, 16, 3), value, np.uint8)


def _sample(n, seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"z": rng.uniform(0.02, 0.15, n), "logmstar": rng.normal(10.8, 0.3, n),
                         "logsfr": rng.normal(-0.5, 0.4, n), "loghalo": rng.normal(12.5, 0.5, n),
                         "r_mag": rng.normal(16.5, 0.6, n)})


def _image_files(folder, n):
    paths = []
    for i in range(n):
        paths.append(folder / f"g{i}.png")
        Image.new("RGB", (16, 16), (40 * i, 0, 0)).save(paths[-1])
    return paths


def _scores():
    rows = []
    for method, multiple in (("baseline", 0.0), ("augmented", 1.0)):
        for score in ("f1", "purity", "completeness"):
            rows.append({"against": "label", "method": method, "task": "spiral", "score": score,
                         "multiple": multiple, "value": 0.6, "low": 0.5, "high": 0.7, "seed_std": 0.05})
    return pd.DataFrame(rows)


def _steps(n=12):
    return pd.DataFrame({"step": np.arange(n), "loss": np.linspace(1, 0.2, n), "lr": np.full(n, 1e-4),
                         "top1": np.linspace(0.1, 0.9, n)})


#: Each figure function of the index, drawn with ``LABEL`` as it is in its chapter.
DRAW = {
    "galaxysd.plots.pipeline_schematic": lambda f, tmp: f("smoke", real_data=False),
    "galaxysd.diffusion.report.loss_curve_figure": lambda f, tmp: f(_steps(), LABEL, window=3),
    "galaxysd.diffusion.gallery.figure3": lambda f, tmp: f({"A": "sdss, smooth"}, {"A": _image()},
                                                           {"A": [_image(90)]}, LABEL),
    "galaxysd.diffusion.gallery.brightness_figure": lambda f, tmp: f({"real": [0.1, 0.2, 0.3],
                                                                      "img2img": [0.2, 0.25, 0.3]}, LABEL),
    "galaxysd.diffusion.gallery.sweep_figure": lambda f, tmp: f({1.0: [_image()], 1.5: [_image(50)]},
                                                                {1.0: "dust lane", 1.5: "(dust lane:1.5)"}, LABEL),
    "galaxysd.diffusion.figure_e5.figure_e5": lambda f, tmp: f(
        {"real": {"A": np.stack([_image()])}, "base": {"A": np.stack([_image(50)])},
         "tuned": {"A": np.stack([_image(90)])}}, {"A": "cigar-shaped galaxy"},
        {"A": "a photo of a cigar shaped elliptical galaxy"}, LABEL, per_block=1),
    "galaxysd.diffusion.figure_e5.web_collection_figure": lambda f, tmp: f(
        np.stack([_image(), _image(60)]), ["a photo of a galaxy", "an image of a galaxy"], LABEL),
    "galaxysd.evaluation.figures.figure_a1": lambda f, tmp: f(_steps(), LABEL, smooth=3),
    "galaxysd.evaluation.figures.figure_a2": lambda f, tmp: f(pd.DataFrame(
        {"x": [0.0, 1.0, 2.0], "y": [0.0, 1.0, 0.5], "kind": ["real", "real", "generated"],
         "group": ["spiral", "smooth", "A"]}), LABEL),
    "galaxysd.evaluation.figures.figure4": lambda f, tmp: f(
        pd.DataFrame({"realism": [0.4, 0.6], "diversity": [0.5, 0.55], "consistency": [0.3, 0.5]},
                     index=pd.Index([100, 200], name="step")),
        pd.DataFrame({"A": [0.4, 0.6], "B": [0.3, 0.5]}, index=pd.Index([100, 200], name="step")), LABEL),
    "galaxysd.evaluation.figures.figure5": lambda f, tmp: f(pd.DataFrame(
        {"type": ["spiral", "spiral", "smooth"], "realism": [0.4, 0.6, 0.5], "diversity": [0.5, 0.4, 0.6],
         "step": [100, 200, 200]}), LABEL),
    "galaxysd.classify.figures.sweep_figure": lambda f, tmp: f(_scores(), LABEL),
    "galaxysd.detg.figures.gallery_rows_figure": lambda f, tmp: f(
        {"generated": _image_files(tmp, 3), "known": _image_files(tmp, 2)}, 3, "Figure 7", LABEL, size=16),
    "galaxysd.detg.figures.search_figure": lambda f, tmp: f(pd.DataFrame(
        {"candidates": [40, 17], "confirmed": [12, 11], "new": [7, 6]}, index=pd.Index([1, 2], name="iteration")),
        (8184, 2488, 1062), LABEL),
    "galaxysd.detg.figures.control_match_figure": lambda f, tmp: f(pd.concat(
        [_sample(20).assign(sample="target"), _sample(20, 1).assign(sample="control"),
         _sample(60, 2).assign(sample="pool")]), label=LABEL),
    "galaxysd.detg.figures.redshift_kde_figure": lambda f, tmp: f({"new": _sample(20)["z"],
                                                                   "known": _sample(10, 1)["z"]}, LABEL),
    "galaxysd.detg.figures.sfr_halo_figure": lambda f, tmp: f({"new": _sample(20), "known": _sample(10, 1),
                                                               "control": _sample(20, 2)}, LABEL, n_resamples=20),
    "galaxysd.detg.figures.magnitude_mass_figure": lambda f, tmp: f({"new": _sample(20), "known": _sample(10, 1),
                                                                     "control": _sample(20, 2)}, LABEL,
                                                                    n_resamples=20),
}
FIGURE_FUNCTIONS = sorted({o.function for o in outputs.OUTPUTS if o.kind == "figure"})


def test_every_figure_function_of_the_index_is_drawn_here_or_named_as_titled_by_its_caller():
    accounted = set(DRAW) | TITLE_CARRIES_THE_LABEL | set(NO_DATA)
    assert set(FIGURE_FUNCTIONS) <= accounted, f"draw {sorted(set(FIGURE_FUNCTIONS) - accounted)} in DRAW"
    assert accounted <= set(FIGURE_FUNCTIONS), f"no longer in the index: {sorted(accounted - set(FIGURE_FUNCTIONS))}"


@pytest.mark.parametrize("function", sorted(DRAW), ids=lambda name: ".".join(name.split(".")[-2:]))
def test_the_saved_figure_says_which_data_made_it(function, tmp_path):
    module, name = function.rsplit(".", 1)
    fig = DRAW[function](getattr(importlib.import_module(module), name), tmp_path)
    texts = [t.get_text() for t in fig.findobj(matplotlib.text.Text)]
    assert any(LABEL in text for text in texts), f"{function}: no text names the data; texts: {texts}"
    assert all(p.stat().st_size for p in plots.save_figure(fig, tmp_path, "figure"))
