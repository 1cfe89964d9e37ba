"""Figures 8, 9, D4, the control match and the search draw on small arrays and save as PNG and PDF."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from galaxysd.detg import figures  # noqa: E402
from galaxysd.plots import save_figure  # noqa: E402

RNG = np.random.default_rng(0)


def _sample(n, shift=0.0):
    return pd.DataFrame({"z": RNG.uniform(0.02, 0.15, n) + shift, "logmstar": RNG.normal(10.8, 0.3, n),
                         "logsfr": RNG.normal(-0.5, 0.4, n), "loghalo": RNG.normal(12.5, 0.5, n),
                         "r_mag": RNG.uniform(14, 17.7, n)})


def _labels(ax):
    return [t.get_text() for t in ax.get_legend().get_texts()]


def test_figure_8_draws_one_density_per_sample_and_flags_tiny_samples(tmp_path):
    fig = figures.redshift_kde_figure({"new": _sample(30).z, "known": _sample(12).z, "other": [0.1]}, "smoke")
    labels = _labels(fig.axes[0])
    assert labels[:2] == ["new (n=30)", "known (n=12)"] and "too few" in labels[2]
    assert all(p.exists() for p in save_figure(fig, tmp_path, "fig8_redshift_kde"))


def test_figure_9_has_sfr_and_halo_panels_with_bands_and_counts_in_the_footnote(tmp_path):
    counts = {"new": pd.DataFrame({"not_in_side_table": [2, 3], "missing_value": [1, 0]},
                                  index=["logsfr", "loghalo"])}
    new = _sample(25)
    new.loc[:2, "logsfr"] = np.nan
    fig = figures.sfr_halo_figure({"new": new, "known": _sample(15), "control": _sample(60)}, "smoke", counts,
                                  n_resamples=50)
    assert [ax.get_xlabel() for ax in fig.axes] == [figures.LABELS["logsfr"], figures.LABELS["loghalo"]]
    assert _labels(fig.axes[0])[0] == "new (n=22)"
    assert len(fig.axes[0].collections) == 3   # one band per sample
    assert "logsfr: 2 not in table, 1 missing value" in " ".join(t.get_text() for t in fig.texts)
    assert all(p.exists() for p in save_figure(fig, tmp_path, "fig9_sfr_halo"))


def test_figure_d4_draws_magnitude_and_mass_even_for_an_empty_sample():
    fig = figures.magnitude_mass_figure({"new": _sample(10), "known": _sample(0)}, "smoke", n_resamples=20)
    assert _labels(fig.axes[1]) == ["new (n=10)", "known (n=0)"]


def test_the_control_figure_shows_targets_controls_and_pool():
    dist = pd.concat([_sample(20).assign(sample="target"), _sample(40).assign(sample="control"),
                      _sample(200).assign(sample="pool")])
    fig = figures.control_match_figure(dist, label="smoke profile")
    assert _labels(fig.axes[0]) == ["pool (n=200)", "control (n=40)", "target (n=20)"]


def test_the_search_figure_adds_a_truth_panel_only_with_the_truth():
    it = pd.DataFrame({"candidates": [400, 170], "confirmed": [120, 118], "new": [70, 69]},
                      index=pd.Index([1, 2], name="iteration"))
    assert len(figures.search_figure(it, (8184, 2488, 1062)).axes) == 1
    it = it.assign(completeness=[0.8, 0.82], purity=[0.95, 0.96])
    assert len(figures.search_figure(it).axes) == 2
