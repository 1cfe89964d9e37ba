"""Figures of the D-ETG search: Figure 8 (redshift KDE), Figure 9 (SFR and halo mass CDFs), Figure D4
(r magnitude and stellar mass CDFs), the matched control sample, and the search's progress.

Each function takes small arrays or frames (the chapter picks the values with
:func:`galaxysd.detg.distributions.side_values`) and returns a matplotlib figure; the chapter saves it
with :func:`galaxysd.plots.publish`. Samples too small to estimate a density or a band are drawn as
what they are (a rug, a step) and say so, rather than vanish.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from scipy.stats import gaussian_kde

import galaxysd.plots  # noqa: F401  (applies the book's matplotlib style)
from galaxysd.detg.distributions import ONE_SIGMA, cdf_band

#: Colours of the samples, the same in every figure.
COLOURS = {"new": "C3", "known": "C0", "control": "0.45", "target": "C3", "pool": "0.75"}
LABELS = {"z": "redshift $z$", "logmstar": r"$\log_{10} M_\star / M_\odot$",
          "logsfr": r"$\log_{10}$ SFR / ($M_\odot$ yr$^{-1}$)", "loghalo": r"$\log_{10} M_{\rm halo} / (M_\odot h^{-1})$",
          "r_mag": "$r$-band magnitude"}


def _clean(values) -> np.ndarray:
    x = np.asarray(values, dtype=float)
    return x[np.isfinite(x)]


def _footnote(fig, label: str, counts: Mapping[str, pd.DataFrame] | None, columns: Sequence[str]) -> None:
    lines = [label] if label else []
    if counts:
        for sample, table in counts.items():
            parts = [f"{c}: {int(table.loc[c, 'not_in_side_table'])} not in table, "
                     f"{int(table.loc[c, 'missing_value'])} missing value" for c in columns if c in table.index]
            if parts:
                lines.append(f"{sample} -- " + "; ".join(parts))
    fig.text(0.01, -0.02, "\n".join(lines), ha="left", va="top", fontsize="small", color="0.35")


def redshift_kde_figure(samples: Mapping[str, Sequence[float]], label: str = "",
                        bandwidth: float | str | None = None) -> plt.Figure:
    """Figure 8: kernel density estimate of the redshift of each sample (new against known D-ETGs).

    Parameters
    ----------
    samples : mapping of str to array-like
        Label (``"new"``, ``"known"``, ...) to redshifts; NaN are left out (count them beforehand).
    label : str, optional
        Caption line saying which profile and data made it (:func:`galaxysd.plots.profile_label`).
    bandwidth : float or str, optional
        ``scipy.stats.gaussian_kde`` bandwidth (default Scott's rule).

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> fig = redshift_kde_figure({"new": z_new, "known": z_known}, "demo")  # doctest: +SKIP
    """
    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    values = {k: _clean(v) for k, v in samples.items()}
    lo = min((v.min() for v in values.values() if v.size), default=0.0)
    hi = max((v.max() for v in values.values() if v.size), default=0.2)
    grid = np.linspace(max(0.0, lo - 0.1 * (hi - lo + 1e-3)), hi + 0.1 * (hi - lo + 1e-3), 300)
    for i, (sample, z) in enumerate(values.items()):
        colour = COLOURS.get(sample, f"C{i + 4}")
        if z.size >= 3 and np.ptp(z) > 0:
            ax.plot(grid, gaussian_kde(z, bw_method=bandwidth)(grid), color=colour, label=f"{sample} (n={z.size})")
            ax.axvline(np.median(z), color=colour, ls=":", lw=1)
        else:
            ax.plot([], [], color=colour, label=f"{sample} (n={z.size}: too few for a density)")
        ax.plot(z, np.zeros_like(z), "|", color=colour, ms=8, alpha=0.6)
    ax.set_xlabel(LABELS["z"])
    ax.set_ylabel("density")
    ax.legend(frameon=False)
    ax.set_title("Figure 8: redshift of D-ETGs (dotted: medians)")
    _footnote(fig, label, None, [])
    fig.tight_layout()
    return fig


def cdf_figure(samples: Mapping[str, pd.DataFrame], columns: Sequence[str], title: str, label: str = "",
               counts: Mapping[str, pd.DataFrame] | None = None, n_resamples: int = 500, seed: int = 0,
               level: float = ONE_SIGMA) -> plt.Figure:
    """Cumulative distributions of ``columns``, one panel each, with bootstrap bands per sample.

    Parameters
    ----------
    samples : mapping of str to pandas.DataFrame
        Label to a frame holding ``columns`` (NaN left out of the curves).
    columns : sequence of str
        One panel per column (``logsfr``, ``loghalo``, ``r_mag``, ``logmstar``, ...).
    title : str
        Figure title.
    label : str, optional
        Footnote line saying which profile and data made it (:func:`galaxysd.plots.profile_label`).
    counts : mapping of str to pandas.DataFrame, optional
        Per sample, the counts of :func:`~galaxysd.detg.distributions.side_values`, shown in the footnote.
    n_resamples, seed, level : optional
        Bootstrap settings of the bands (default 1 sigma).

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig, axes = plt.subplots(1, len(columns), figsize=(4.6 * len(columns), 3.8), squeeze=False)
    for ax, col in zip(axes[0], columns):
        for i, (sample, frame) in enumerate(samples.items()):
            colour = COLOURS.get(sample, f"C{i + 4}")
            x = _clean(frame[col]) if col in frame else np.array([])
            if x.size == 0:
                ax.plot([], [], color=colour, label=f"{sample} (n=0)")
                continue
            band = cdf_band(x, n_resamples=n_resamples, seed=seed)
            ax.step(band.grid, band.cdf, where="post", color=colour, label=f"{sample} (n={x.size})")
            if x.size > 1:
                ax.fill_between(band.grid, band.low, band.high, step="post", color=colour, alpha=0.25, lw=0)
        ax.set_xlabel(LABELS.get(col, col))
        ax.set_ylabel("cumulative fraction")
        ax.set_ylim(0, 1.02)
        ax.legend(frameon=False, loc="upper left")
    fig.suptitle(f"{title} (bands: {level:.0%} bootstrap)")
    _footnote(fig, label, counts, columns)
    fig.tight_layout()
    return fig


def sfr_halo_figure(samples, label="", counts=None, **kw) -> plt.Figure:
    """Figure 9: cumulative SFR and halo mass of new and known D-ETGs and the matched control sample.

    Examples
    --------
    >>> fig = sfr_halo_figure({"new": v_new, "known": v_known, "control": v_ctl}, "demo", counts)  # doctest: +SKIP
    """
    return cdf_figure(samples, ["logsfr", "loghalo"], "Figure 9: star formation and halo mass", label, counts, **kw)


def magnitude_mass_figure(samples, label="", counts=None, **kw) -> plt.Figure:
    """Figure D4: cumulative r-band magnitude and stellar mass of the samples.

    Examples
    --------
    >>> fig = magnitude_mass_figure({"new": v_new, "known": v_known}, "demo", counts)  # doctest: +SKIP
    """
    return cdf_figure(samples, ["r_mag", "logmstar"], "Figure D4: r magnitude and stellar mass", label, counts, **kw)


def control_match_figure(distributions: pd.DataFrame, columns: Sequence[str] = ("z", "logmstar"),
                         label: str = "", bins: int = 30) -> plt.Figure:
    """Histograms of the matched variables for the targets, the controls and the whole pool.

    Parameters
    ----------
    distributions : pandas.DataFrame
        :attr:`galaxysd.detg.control.ControlMatch.distributions` (``sample`` and the columns).

    Examples
    --------
    >>> fig = control_match_figure(match.distributions, label="")  # doctest: +SKIP
    """
    fig, axes = plt.subplots(1, len(columns), figsize=(4.6 * len(columns), 3.6), squeeze=False)
    for ax, col in zip(axes[0], columns):
        x = _clean(distributions[col])
        edges = np.histogram_bin_edges(x if x.size else [0, 1], bins=bins)
        for sample in ("pool", "control", "target"):
            v = _clean(distributions.loc[distributions["sample"] == sample, col])
            if v.size:
                ax.hist(v, bins=edges, density=True, histtype="step" if sample != "pool" else "stepfilled",
                        color=COLOURS[sample], lw=1.5, label=f"{sample} (n={v.size})")
        ax.set_xlabel(LABELS.get(col, col))
        ax.set_ylabel("density")
        ax.legend(frameon=False)
    fig.suptitle("control sample matched in redshift and stellar mass, without replacement")
    _footnote(fig, label, None, [])
    fig.tight_layout()
    return fig


def search_figure(iterations: pd.DataFrame, paper_candidates: Sequence[int] | None = None,
                  label: str = "") -> plt.Figure:
    """The search per iteration: candidates, confirmed, new; with the truth, completeness and purity.

    Parameters
    ----------
    iterations : pandas.DataFrame
        :attr:`galaxysd.detg.search.SearchResult.iterations`.
    paper_candidates : sequence of int, optional
        The paper's candidates per iteration, drawn for comparison.

    Examples
    --------
    >>> fig = search_figure(result.iterations, PAPER_CANDIDATES, "demo")  # doctest: +SKIP
    """
    truth = "completeness" in iterations
    fig, axes = plt.subplots(1, 2 if truth else 1, figsize=(9.5 if truth else 5, 3.6), squeeze=False)
    ax = axes[0, 0]
    k = iterations.index.to_numpy()
    for col, colour in (("candidates", "0.3"), ("confirmed", "C0"), ("new", "C3")):
        ax.plot(k, iterations[col], "o-", color=colour, label=f"{col} (this run)")
    if paper_candidates is not None:
        n = min(len(paper_candidates), len(k))
        ax.plot(k[:n], paper_candidates[:n], "s--", color="0.6", label="candidates (paper)")
    ax.set_yscale("symlog")
    ax.set_xticks(k)
    ax.set_xlabel("iteration")
    ax.set_ylabel("galaxies")
    ax.legend(frameon=False)
    if truth:
        ax = axes[0, 1]
        for col, colour, style in (("completeness", "C2", "o-"), ("purity", "C1", "o-"),
                                   ("candidate_completeness", "C2", "s:"), ("candidate_purity", "C1", "s:")):
            if col in iterations:
                ax.plot(k, iterations[col], style, color=colour, label=col.replace("_", " "))
        ax.set_ylim(0, 1.02)
        ax.set_xticks(k)
        ax.set_xlabel("iteration")
        ax.set_ylabel("fraction (against the simulated truth)")
        ax.legend(frameon=False)
    fig.suptitle("the search of the whole survey, iteration by iteration")
    _footnote(fig, label, None, [])
    fig.tight_layout()
    return fig


def gallery_rows_figure(rows: Mapping[str, Sequence[str]], n_cols: int = 6, title: str = "", label: str = "",
                        size: int = 64) -> plt.Figure:
    """Rows of galaxy images, one row per label (Figures 6 and 7); a row with fewer images says so.

    Parameters
    ----------
    rows : mapping of str to sequence of str
        Row label to image paths (the first ``n_cols`` are drawn).
    n_cols : int, optional
        Images per row.
    title : str, optional
    label : str, optional
        Footnote line saying which profile and data made it (:func:`galaxysd.plots.profile_label`).
    size : int, optional
        Side the images are resized to (pixels).

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> fig = gallery_rows_figure({"generated": gen_paths, "known": real_paths}, 6, "Figure 6")  # doctest: +SKIP
    """
    from galaxysd.classify.data import read_image

    names = list(rows)
    fig, axes = plt.subplots(max(len(names), 1), n_cols, figsize=(1.35 * n_cols + 1.6, 1.35 * max(len(names), 1) + 0.8),
                             squeeze=False)
    for i, name in enumerate(names):
        paths = list(rows[name])[:n_cols]
        for j in range(n_cols):
            ax = axes[i, j]
            ax.set_xticks([])
            ax.set_yticks([])
            if j < len(paths):
                ax.imshow(read_image(paths[j], size))
            else:
                ax.axis("off")
                if j == len(paths):
                    ax.text(0.05, 0.5, "none" if not paths else "", fontsize="small", color="0.4", transform=ax.transAxes)
        axes[i, 0].axis("on")
        axes[i, 0].set_xticks([])
        axes[i, 0].set_yticks([])
        axes[i, 0].set_ylabel(f"{name}\n(n={len(rows[name])})", fontsize="small", rotation=0, ha="right", va="center")
    if title:
        fig.suptitle(title)
    _footnote(fig, label, None, [])
    fig.tight_layout()
    return fig
