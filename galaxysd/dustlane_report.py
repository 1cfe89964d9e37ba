"""How well the dust-lane depth (:mod:`galaxysd.dustlane`) tells dusty galaxies from clean early types on a
simulated survey's truth, and where the chain from real to generated D-ETGs breaks.

The simulated survey knows which galaxies are true D-ETGs (early types with a lane), which are dusty
discs (mostly edge-on, with a lane along the midplane) and which early types are clean. The depth of
each is measured on the survey's own images; the separation is the ROC AUC (the chance that a dusty
galaxy's depth exceeds a clean one's) with a bootstrap interval, beside the groups' medians.
:func:`detg_lane_verdict` then says whether generated D-ETGs' lanes are as deep as real D-ETGs',
no deeper than clean early types', or whether the sample cannot tell.
"""

from __future__ import annotations

from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from galaxysd import verdicts
from galaxysd.errors import DataError

#: The groups of the validation, by the simulated truth.
GROUPS = ("D-ETG", "dusty disk", "clean early type")


def separation(positives: Sequence[float], negatives: Sequence[float], level: float = 0.95,
               n_resamples: int = 1000, seed: int = 0) -> dict:
    """ROC AUC of a measure that should be larger for ``positives``, with a bootstrap interval.

    The AUC is computed with scikit-learn; the interval resamples each group with replacement
    (percentile interval at ``level``). NaNs are left out.

    Returns
    -------
    dict
        ``auc``, ``low``, ``high``, ``n_pos``, ``n_neg``, ``median_pos``, ``median_neg``; the AUC and
        its interval are NaN when a group is empty.

    Examples
    --------
    >>> s = separation([0.3, 0.4, 0.5, 0.35], [0.0, 0.05, 0.1, 0.02])
    >>> s["auc"], s["low"] <= s["auc"] <= s["high"]
    (1.0, True)
    """
    from sklearn.metrics import roc_auc_score

    pos = np.asarray(positives, float)
    neg = np.asarray(negatives, float)
    pos, neg = pos[np.isfinite(pos)], neg[np.isfinite(neg)]
    out = {"n_pos": int(len(pos)), "n_neg": int(len(neg)),
           "median_pos": float(np.median(pos)) if len(pos) else np.nan,
           "median_neg": float(np.median(neg)) if len(neg) else np.nan,
           "auc": np.nan, "low": np.nan, "high": np.nan}
    if not len(pos) or not len(neg):
        return out

    def auc(a, b):
        return float(roc_auc_score(np.r_[np.ones(len(a)), np.zeros(len(b))], np.r_[a, b]))

    rng = np.random.default_rng(seed)
    boot = [auc(rng.choice(pos, len(pos)), rng.choice(neg, len(neg))) for _ in range(n_resamples)]
    out["auc"] = auc(pos, neg)
    out["low"], out["high"] = (float(v) for v in np.quantile(boot, [(1 - level) / 2, (1 + level) / 2]))
    return out


def truth_groups(truth: pd.DataFrame, with_image: bool = True) -> dict[str, pd.DataFrame]:
    """The simulated truth's D-ETGs, dusty discs and clean early types (ellipticals without a lane,
    not merging or disturbed).

    Raises
    ------
    DataError
        If the table lacks a column the groups need.

    Examples
    --------
    >>> groups = truth_groups(gz2.truth_table(run))  # doctest: +SKIP
    """
    need = {"kind", "dust_lane", "is_detg", "merger", "disturbed"} | ({"has_image"} if with_image else set())
    missing = need - set(truth.columns)
    if missing:
        raise DataError(f"the truth table lacks {sorted(missing)}: pass gz2.truth_table(run_dir) of a simulated survey")
    flag = {c: truth[c].astype(str).str.lower().eq("true").to_numpy() for c in need - {"kind"}}
    keep = flag["has_image"] if with_image else np.ones(len(truth), bool)
    kind = truth["kind"].to_numpy()
    return {"D-ETG": truth[keep & flag["is_detg"]],
            "dusty disk": truth[keep & (kind == "disk") & flag["dust_lane"]],
            "clean early type": truth[keep & (kind == "elliptical") & ~flag["dust_lane"] & ~flag["merger"]
                                      & ~flag["disturbed"]]}


def sample_groups(groups: Mapping[str, pd.DataFrame], n_per_group: int, seed: int = 0) -> pd.DataFrame:
    """Up to ``n_per_group`` galaxies of each group, drawn at random: ``objid``, ``group`` (and the truth's columns)."""
    frames = [frame.sample(n=min(len(frame), n_per_group), random_state=seed).assign(group=name)
              for name, frame in groups.items()]
    return pd.concat(frames, ignore_index=True)


def validation_table(depths: pd.DataFrame, seed: int = 0, column: str = "lane_depth") -> pd.DataFrame:
    """How well the depth separates D-ETGs and dusty discs from clean early types.

    Parameters
    ----------
    depths : pandas.DataFrame
        One row per galaxy: ``group`` (:data:`GROUPS`) and ``column``.
    seed : int, optional
        Seed of the bootstrap.

    Returns
    -------
    pandas.DataFrame
        Index: ``D-ETG``, ``dusty disk``, ``D-ETG or dusty disk``; columns of :func:`separation`.

    Examples
    --------
    >>> table = validation_table(pd.DataFrame({"group": ["D-ETG"] * 5 + ["clean early type"] * 5,
    ...                                        "lane_depth": [.3, .4, .5, .3, .2, 0, .1, .05, 0, .02]}))
    >>> float(table.loc["D-ETG", "auc"])
    1.0
    """
    clean = depths.loc[depths["group"] == "clean early type", column]
    rows = {}
    for name, groups in (("D-ETG", ["D-ETG"]), ("dusty disk", ["dusty disk"]),
                         ("D-ETG or dusty disk", ["D-ETG", "dusty disk"])):
        rows[name] = separation(depths.loc[depths["group"].isin(groups), column], clean, seed=seed)
    return pd.DataFrame.from_dict(rows, orient="index")


def validation_sentence(table: pd.DataFrame) -> str:
    """The validation in words: AUC with interval and the medians, for D-ETGs and dusty discs.

    Examples
    --------
    >>> validation_sentence(validation_table(depths))  # doctest: +SKIP
    """
    parts = []
    for name in ("D-ETG", "dusty disk"):
        row = table.loc[name]
        if not np.isfinite(row["auc"]):
            parts.append(f"no {name} and clean early type pair to compare (n = {int(row['n_pos'])} and "
                         f"{int(row['n_neg'])})")
            continue
        parts.append(f"{name}s against clean early types: AUC {row['auc']:.2f} (95% interval {row['low']:.2f} to "
                     f"{row['high']:.2f}; median depth {row['median_pos']:.3f} against {row['median_neg']:.3f}; "
                     f"n = {int(row['n_pos'])} and {int(row['n_neg'])})")
    return "; ".join(parts)


def detg_lane_verdict(real: Sequence[float], generated: Sequence[float], clean: Sequence[float],
                      seed: int = 0) -> str:
    """Where the chain breaks: are generated D-ETGs' lanes as deep as real ones, or no deeper than clean
    early types'?

    Two comparisons of medians (:func:`galaxysd.verdicts.compare`, Mann-Whitney test and bootstrap
    interval): generated against clean early types, and generated against real D-ETGs.

    Parameters
    ----------
    real, generated, clean : sequence of float
        Dust-lane depths of real D-ETGs, generated D-ETGs and clean early types.
    seed : int, optional
        Seed of the bootstrap intervals.

    Returns
    -------
    str
        A sentence with its evidence: "generated D-ETGs' lanes are as deep as real ones'" (deeper than
        clean early types', not measurably shallower than real), "... deeper than clean early types' but
        shallower than real D-ETGs'", "... no deeper than clean early types'", or "cannot tell with n
        galaxies".

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> detg_lane_verdict(rng.normal(.3, .05, 20), rng.normal(0, .05, 20), rng.normal(0, .05, 20))[:47]
    "generated D-ETGs' lanes are no deeper than clea"
    """
    gen_clean = verdicts.compare(generated, clean, seed=seed)
    gen_real = verdicts.compare(generated, real, seed=seed)
    if not (gen_clean.enough and gen_real.enough):
        return (f"cannot tell with {gen_real.n_a} generated, {gen_real.n_b} real D-ETGs and {gen_clean.n_b} clean "
                f"early types (at least {verdicts.MIN_PER_GROUP} of each are needed)")
    evidence = f"against clean early types: {gen_clean.evidence()}; against real D-ETGs: {gen_real.evidence()}"
    if gen_clean.sign() <= 0:
        if gen_real.sign() < 0:
            return f"generated D-ETGs' lanes are no deeper than clean early types' and shallower than real ones' ({evidence})"
        return f"generated D-ETGs' lanes are no deeper than clean early types' ({evidence})"
    if gen_real.sign() < 0:
        return f"generated D-ETGs' lanes are deeper than clean early types' but shallower than real D-ETGs' ({evidence})"
    if gen_real.sign() > 0:
        return f"generated D-ETGs' lanes are deeper than real D-ETGs' ({evidence})"
    return f"generated D-ETGs' lanes are as deep as real ones' as far as this sample can tell ({evidence})"


def truth_sample(truth: pd.DataFrame, survey: pd.DataFrame, n_per_group: int, seed: int = 0) -> pd.DataFrame:
    """Up to ``n_per_group`` D-ETGs, dusty discs and clean early types of a simulated survey, with their images.

    Parameters
    ----------
    truth : pandas.DataFrame
        :func:`galaxysd.gz2.truth_table`.
    survey : pandas.DataFrame
        ``objid`` and ``image_path`` of the galaxies with an image
        (:func:`galaxysd.stages.s07_detg_experiment.read_survey`).
    n_per_group : int
    seed : int, optional

    Returns
    -------
    pandas.DataFrame
        ``group``, ``objid``, ``path``.

    Examples
    --------
    >>> sample = truth_sample(gz2.truth_table(run), s07.read_survey(stage.path), 100)  # doctest: +SKIP
    """
    images = survey.set_index("objid")["image_path"]
    truth = truth[truth["objid"].isin(images.index)]
    picked = sample_groups(truth_groups(truth, with_image=False), n_per_group, seed)
    return pd.DataFrame({"group": picked["group"].to_numpy(), "objid": picked["objid"].to_numpy(np.int64),
                         "path": images.loc[picked["objid"]].to_numpy()})


def depth_stage(run_dir, name: str, images: pd.DataFrame, size: int, inputs=()) -> pd.DataFrame:
    """Dust-lane depths of images (``group``, ``path``, any other columns) as a cached stage ``name``.

    The images are resized to ``size`` pixels, so that survey galaxies and generated ones are measured
    at the same scale. Recomputed when the image list, the size, ``inputs`` (the folders the images
    come from) or the measuring code change.

    Returns
    -------
    pandas.DataFrame
        ``images`` with the columns of :func:`galaxysd.dustlane.dust_lane_stats`, read back from
        ``depths.csv``.

    Examples
    --------
    >>> depths = depth_stage(paths.run, "03_generate/dustlane", sample, 64)  # doctest: +SKIP
    """
    import hashlib

    from galaxysd import cache, dustlane, imstats
    from galaxysd.paths import portable_path, resolve_stored

    images = images.reset_index(drop=True)
    # the key and the file name images by their place in the run folder, so that the folder can move
    # (a checkpoint bundle) and two runs in two folders agree
    keyed = images.assign(path=[portable_path(p, Path(run_dir) / name) for p in images["path"].astype(str)])
    digest = hashlib.sha256(keyed.astype(str).to_csv(index=False).encode()).hexdigest()[:16]

    def compute(out) -> None:
        stats = dustlane.read_dust_lane_stats(images["path"], size)
        stored = images.assign(path=[portable_path(p, out) for p in images["path"].astype(str)])
        with cache.atomic_path(out / "depths.csv") as tmp:
            pd.concat([stored, stats], axis=1).to_csv(tmp, index=False)

    stage = cache.run_stage(run_dir, name, {"images": digest, "size": int(size)}, compute,
                            inputs=[*inputs, dustlane.__file__, imstats.__file__])
    depths = pd.read_csv(stage.path / "depths.csv")
    depths["path"] = [resolve_stored(str(p), stage.path) for p in depths["path"]]
    return depths


def group_table(depths: pd.DataFrame, column: str = "lane_depth", level: float = 0.95, n_resamples: int = 1000,
                seed: int = 0) -> pd.DataFrame:
    """Per group: how many, the median depth with a bootstrap interval, and the median reddening.

    Examples
    --------
    >>> group_table(pd.DataFrame({"group": ["a"] * 4, "lane_depth": [.1, .2, .3, .4],
    ...                           "lane_reddening": [0.0] * 4}))["n"].tolist()
    [4]
    """
    rng = np.random.default_rng(seed)
    rows = {}
    for group, frame in depths.groupby("group", sort=False):
        values = frame[column].astype(float).dropna().to_numpy()
        low = high = np.nan
        if len(values):
            boot = np.median(rng.choice(values, (n_resamples, len(values))), axis=1)
            low, high = np.quantile(boot, [(1 - level) / 2, (1 + level) / 2])
        rows[group] = {"n": int(len(values)), "median depth": float(np.median(values)) if len(values) else np.nan,
                       "low": float(low), "high": float(high),
                       "median reddening": float(frame["lane_reddening"].astype(float).median())}
    return pd.DataFrame.from_dict(rows, orient="index")


#: Table 1 prompts with a dust lane -> the same prompt without it (K: in-between round; L: edge-on, rounded bulge).
LANE_PROMPTS = {"K": "D", "L": "N"}


def checkpoint_lanes(generated: Mapping[int, pd.DataFrame], seed: int = 0) -> tuple[pd.DataFrame, str]:
    """Dust-lane depth of each checkpoint's dust-lane prompts (K, L) against the same prompts without
    the phrase (D, N), and a verdict at the last checkpoint.

    Parameters
    ----------
    generated : mapping of int to pandas.DataFrame
        Step -> generated images (``label`` = Table 1 letter, ``path``), as
        :func:`galaxysd.stages.s05_quality.generate_checkpoints` returns them.
    seed : int, optional
        Seed of the bootstrap interval of the verdict.

    Returns
    -------
    (pandas.DataFrame, str)
        One row per step: ``n with lane``, ``depth with lane`` (median), ``n without``, ``depth without``;
        and the verdict (:func:`galaxysd.verdicts.verdict`) at the last step, or why there is none.

    Examples
    --------
    >>> table, said = checkpoint_lanes(generated)  # doctest: +SKIP
    """
    from galaxysd.dustlane import read_dust_lane_stats

    rows, last = [], None
    for step in sorted(generated):
        frame = generated[step]
        with_lane = read_dust_lane_stats(frame.loc[frame["label"].isin(list(LANE_PROMPTS)), "path"])["lane_depth"]
        without = read_dust_lane_stats(frame.loc[frame["label"].isin(list(LANE_PROMPTS.values())), "path"])["lane_depth"]
        rows.append({"step": int(step), "n with lane": int(with_lane.notna().sum()),
                     "depth with lane": float(with_lane.median()) if len(with_lane) else np.nan,
                     "n without": int(without.notna().sum()),
                     "depth without": float(without.median()) if len(without) else np.nan})
        last = (step, with_lane, without)
    table = pd.DataFrame(rows).set_index("step") if rows else pd.DataFrame()
    if last is None or not len(last[1]) or not len(last[2]):
        return table, ("no checkpoint drew both a dust-lane prompt (K, L) and the same prompt without the "
                       "phrase (D, N), so the checkpoints' lanes are not compared")
    step, with_lane, without = last
    said = verdicts.verdict(
        verdicts.compare(with_lane, without, seed=seed),
        f"at step {step} the dust-lane prompts draw deeper lanes than the same prompts without the phrase",
        f"at step {step} the dust-lane prompts draw shallower lanes than the same prompts without the phrase",
        f"whether the dust-lane prompts draw deeper lanes than the same prompts without the phrase at step {step}")
    return table, said


#: The groups :func:`detg_lane_verdict` compares, as chapter 07 names them in its ``depths.csv``.
VERDICT_GROUPS = ("known D-ETG", "generated D-ETG", "clean early type")


def stage_lane_verdict(stage_dir, seed: int = 0) -> str | None:
    """:func:`detg_lane_verdict` read back from a finished depth stage (chapter 07's ``dustlane``).

    Later chapters that start from chapter 07's generated D-ETGs (the search of chapter 08) say what
    those images carry without measuring them again.

    Parameters
    ----------
    stage_dir : str or path-like
        A :func:`depth_stage` folder whose ``depths.csv`` has the groups of :data:`VERDICT_GROUPS`.
    seed : int, optional
        Seed of the bootstrap intervals (chapter 07 uses its ``experiment_seed``).

    Returns
    -------
    str or None
        The verdict sentence, or ``None`` when the stage has not run or lacks one of the groups.

    Examples
    --------
    >>> stage_lane_verdict(paths.run / "07_detg_experiment" / "dustlane")  # doctest: +SKIP
    """

    path = Path(stage_dir) / "depths.csv"
    if not path.is_file():
        return None
    depths = pd.read_csv(path)
    groups = [depths.loc[depths["group"] == name, "lane_depth"].dropna() for name in VERDICT_GROUPS]
    if any(group.empty for group in groups):
        return None
    return detg_lane_verdict(*groups, seed=seed)
