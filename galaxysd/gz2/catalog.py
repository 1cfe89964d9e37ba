"""The ``01_data`` stages: survey -> labelled catalogue -> training manifest, and readers for later notebooks.

Stages (folders of the run directory, made through :func:`galaxysd.cache.run_stage`):

``01_data/survey``
    The simulated survey (smoke and demo profiles; :func:`galaxysd.gz2.simulate.simulate_survey`).
    On the paper profile the real files live in ``$GALAXYSD_DATA/gz2`` instead.
``01_data/labels``
    ``catalog.csv.gz``: every galaxy of the Hart16 table with its tags, caption, well-sampled flags
    (``ws_<task>``), confident answers (``conf_<answer>``), ``asset_id`` / ``image_path`` (empty when
    it has no image), ``known_detg``, and the side-table columns ``z, logmstar, logsfr, loghalo,
    r_mag``; ``known_detg.csv`` (objIDs of the known D-ETG list); ``counts.json`` (the numbers of
    every selection step); ``survey.json`` (where the survey files are).
``01_data/training``
    ``manifest.csv`` (see :mod:`galaxysd.gz2.manifest`) and ``counts.json``.

Later notebooks call :func:`labelled_catalog`, :func:`known_detg`, :func:`true_detg` and
:func:`truth_table` rather than reading these files themselves.
"""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from galaxysd.cache import atomic_write_text
from galaxysd.errors import DataError, DataWarning
from galaxysd.gz2.labels import (BALANCE_CAP, MIN_DEBIASED, MIN_VOTES, balance, exclude_detg, label_catalog,
                                 nan_debiased)
from galaxysd.gz2.loaders import (attach_images, open_images, read_dustlanes, read_filename_mapping,
                                  read_gswlc, read_hart16, read_yang, side_table)
from galaxysd.gz2.manifest import MANIFEST_NAME, write_manifest
from galaxysd.gz2.objids import parse_objids
from galaxysd.gz2.simulate.survey import SurveyFiles
from galaxysd.paths import portable_path, resolve_stored

SURVEY_STAGE = "01_data/survey"
LABELS_STAGE = "01_data/labels"
CATALOG_NAME = "catalog.csv.gz"

#: The four Table 2 classification tasks: positive and negative confident answers.
BINARY_TASKS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "spiral": (("t04_spiral_a08_spiral",), ("t04_spiral_a09_no_spiral",)),
    "disk": (("t02_edgeon_a04_yes",), ("t02_edgeon_a05_no",)),
    "bar": (("t03_bar_a06_bar",), ("t03_bar_a07_no_bar",)),
    "bulge": (("t05_bulge_prominence_a12_obvious", "t05_bulge_prominence_a13_dominant"),
              ("t05_bulge_prominence_a10_no_bulge", "t05_bulge_prominence_a11_just_noticeable")),
}


#: On the real data, at least this share of the known D-ETG list must be found in the Hart16 table.
MIN_KNOWN_MATCH = 0.5


def is_simulated(files: SurveyFiles) -> bool:
    """Whether a survey is simulated (it has ground truth) rather than the real GZ2 files."""
    return Path(files.truth).is_file()


def read_known_detg(path: str | os.PathLike, table_objids, strict: bool,
                    min_match: float = MIN_KNOWN_MATCH) -> tuple[pd.DataFrame, dict]:
    """Read the known D-ETG list and check how much of it the Hart16 table holds.

    Parameters
    ----------
    path : str or path-like
        The dust-lane file (``dustlanes/Basic_Information.txt``).
    table_objids : array-like of int
        The objIDs of the Hart16 table.
    strict : bool
        The real data's rules: the file must parse whole and not be empty
        (:func:`~galaxysd.gz2.sidetables.read_dustlanes` with ``strict``), and at least ``min_match``
        of the list must be in the table, else :class:`~galaxysd.errors.DataError`. Without
        ``strict`` an empty list is allowed and a poor match is a :class:`~galaxysd.errors.DataWarning`.
    min_match : float, optional
        Share of the list that must be found (default: most of it, 0.5).

    Returns
    -------
    known : pandas.DataFrame
        The list (``objid`` and the file's columns).
    counts : dict
        ``n_known_detg_listed``, ``n_known_detg_matched``, ``n_known_detg_skipped_lines``.

    Raises
    ------
    DataError
        With ``strict``: an empty or partly unparsed file, or fewer than ``min_match`` of the list
        found in the table; the message names the file and the counts.

    Examples
    --------
    >>> known, counts = read_known_detg(files.dustlanes, table.dr7objid, strict=True)  # doctest: +SKIP
    """
    known = read_dustlanes(path, allow_empty=not strict, strict=strict)
    listed = len(known)
    matched = int(np.isin(known["objid"].to_numpy(np.int64), np.asarray(table_objids, np.int64)).sum())
    counts = {"n_known_detg_listed": listed, "n_known_detg_matched": matched,
              "n_known_detg_skipped_lines": len(known.attrs.get("skipped_lines", []))}
    if counts["n_known_detg_skipped_lines"]:
        warnings.warn(f"dust-lane file {path}: {counts['n_known_detg_skipped_lines']} line(s) after the first "
                      f"data line are not data lines and were skipped (lines {known.attrs['skipped_lines'][:5]})",
                      DataWarning, stacklevel=2)
    if listed and matched < min_match * listed:
        msg = (f"only {matched} of the {listed} known D-ETGs listed in {path} are in the Hart16 table "
               f"(fewer than {min_match:.0%}); objIDs corrupted upstream (float notation?) or a list for "
               "another table? The D-ETG exclusion and the experiments of Section 4.3 depend on this list.")
        if strict:
            raise DataError(msg)
        warnings.warn(msg, DataWarning, stacklevel=2)
    return known, counts


def write_labels(files: SurveyFiles, out_dir: str | os.PathLike, min_debiased: float = MIN_DEBIASED,
                 min_votes: int = MIN_VOTES, votes_inclusive: bool = False, threshold_inclusive: bool = False,
                 fraction: str = "weighted_fraction", image_dir: str | os.PathLike | None = None,
                 check_decode: bool = False, strict: bool | None = None) -> dict:
    """Label every galaxy of a survey and write the ``01_data/labels`` stage files into ``out_dir``.

    Parameters
    ----------
    files : SurveyFiles
        The survey (simulated or real) to read.
    out_dir : str or path-like
        Stage folder.
    min_debiased, min_votes, votes_inclusive, threshold_inclusive, fraction
        See :func:`galaxysd.gz2.labels.label_catalog`.
    image_dir : path-like, optional
        Where to extract images when they come from a zip (real data).
    check_decode : bool, optional
        Decode every labelled galaxy's image and report those that fail.
    strict : bool, optional
        Apply the real data's rules to the known D-ETG list (:func:`read_known_detg`). Default: strict
        unless the survey is simulated (:func:`is_simulated`).

    Returns
    -------
    dict
        The counts written to ``counts.json``, including the known list's (``n_known_detg_*``) and
        the galaxies that lose a tag to a NaN debiased fraction (``n_nan_debiased``, ``nan_debiased``).

    Raises
    ------
    DataError
        If a file is malformed, or (``strict``) the known D-ETG list is empty, partly unparsed or
        mostly absent from the table.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    table = read_hart16(files.hart16)
    labels = label_catalog(table, min_debiased=min_debiased, min_votes=min_votes,
                           votes_inclusive=votes_inclusive, threshold_inclusive=threshold_inclusive,
                           fraction=fraction)
    strict = not is_simulated(files) if strict is None else strict
    known, known_counts = read_known_detg(files.dustlanes, table["dr7objid"], strict=strict)
    lost = nan_debiased(table, labels)
    if lost.attrs["n_galaxies"]:
        warnings.warn(f"{lost.attrs['n_galaxies']} galaxies have a NaN debiased fraction in a well-sampled task, "
                      f"so those answers cannot become tags: {dict(lost[lost > 0])}", DataWarning, stacklevel=2)
    mapping = read_filename_mapping(files.mapping)
    images = open_images(files.images)
    labelled = labels[labels.n_tags > 0]
    matched, report = attach_images(labelled, mapping, images, extract_to=image_dir, check_decode=check_decode)
    cat = labels.merge(matched[["objid", "asset_id", "image_path"]], on="objid", how="left")
    cat["image_path"] = cat["image_path"].fillna("")
    cat["asset_id"] = cat["asset_id"].fillna(-1).astype(np.int64)
    cat["known_detg"] = cat["objid"].isin(known["objid"])
    sides = side_table(table, read_gswlc(files.gswlc),
                       read_yang(files.yang_galaxies, files.yang_members, files.yang_groups))
    cat = cat.merge(sides, on="objid", how="left")
    cat["image_path"] = [portable_path(p, out) for p in cat["image_path"]]  # the run folder can move
    # no time stamp in the gzip header: the same labels give the same bytes (and the same DATADIG)
    cat.to_csv(out / CATALOG_NAME, index=False, compression={"method": "gzip", "mtime": 0})
    known[["objid"]].to_csv(out / "known_detg.csv", index=False)
    counts = {"n_table": int(len(table)), "n_labelled": int(len(labelled)),
              "n_labelled_with_image": int(report.n_matched), "image_report": report.summary(),
              "n_no_mapping": report.no_mapping, "n_missing_image": report.no_image,
              "n_undecodable": len(report.undecodable),
              "n_mapping_rows_without_image": report.mapping_rows_without_image,
              **known_counts, "n_nan_debiased": lost.attrs["n_galaxies"],
              "nan_debiased": {k: int(v) for k, v in lost[lost > 0].items()},
              "n_in_gswlc": int(sides.in_gswlc.sum()), "n_in_yang": int(sides.in_yang.sum())}
    atomic_write_text(out / "counts.json", json.dumps(counts, indent=2))
    atomic_write_text(out / "survey.json",
                      json.dumps({k: portable_path(v, out) for k, v in files.as_dict().items()}, indent=2))
    return counts


def write_training(labels_dir: str | os.PathLike, out_dir: str | os.PathLike, cap: int = BALANCE_CAP,
                   seed: int = 0) -> dict:
    """Build the training manifest from the labels stage: images only, D-ETGs excluded, balanced.

    Returns
    -------
    dict
        Counts (``n_candidates``, ``n_excluded_known_detg``, ``n_excluded_early_dust``,
        ``n_after_exclusion``, ``n_training``, ``n_groups_capped``), also written to ``counts.json``.
    """
    cat = labelled_catalog(labels_dir)
    known = known_detg(labels_dir)
    cand = cat[(cat.n_tags > 0) & (cat.image_path != "")]
    kept, excl = exclude_detg(cand, known)
    bal = balance(kept, cap=cap, seed=seed)
    write_manifest(bal[["objid", "image_path", "tags", "caption"]], Path(out_dir) / MANIFEST_NAME)
    sizes = kept["tags"].value_counts()
    counts = {"n_candidates": int(len(cand)), "n_excluded_known_detg": excl.known_detg,
              "n_excluded_early_dust": excl.early_dust, "n_known_detg_not_labelled": excl.known_not_found,
              "n_after_exclusion": int(len(kept)), "n_training": int(len(bal)),
              "n_groups_capped": int((sizes > cap).sum()), "cap": cap,
              "largest_group": str(sizes.index[0]) if len(sizes) else "",
              "largest_group_size": int(sizes.iloc[0]) if len(sizes) else 0}
    atomic_write_text(Path(out_dir) / "counts.json", json.dumps(counts, indent=2))
    return counts


def _labels_dir(path: str | os.PathLike) -> Path:
    path = Path(path)
    if (path / CATALOG_NAME).is_file():
        return path
    if (path / LABELS_STAGE / CATALOG_NAME).is_file():
        return path / LABELS_STAGE
    raise DataError(f"no labelled catalogue under {path}; run notebook 01_data first "
                    f"(it writes {LABELS_STAGE}/{CATALOG_NAME} in the run folder)")


def labelled_catalog(run_dir: str | os.PathLike) -> pd.DataFrame:
    """The labelled catalogue of a run: one row per GZ2 galaxy (see the module docstring for columns).

    Parameters
    ----------
    run_dir : str or path-like
        The run folder (``paths.run``) or the ``01_data/labels`` stage folder.

    Examples
    --------
    >>> cat = labelled_catalog(paths.run)  # doctest: +SKIP
    >>> cat[cat.image_path != ""].shape  # doctest: +SKIP
    """
    path = _labels_dir(run_dir) / CATALOG_NAME
    cat = pd.read_csv(path, dtype={"objid": str, "tags": str, "caption": str, "image_path": str},
                      keep_default_na=False,
                      na_values={c: [""] for c in ("z", "logmstar", "logsfr", "loghalo", "r_mag")})
    cat["objid"] = parse_objids(cat["objid"], path, "objid", field=0)
    cat["image_path"] = [resolve_stored(p, path.parent) for p in cat["image_path"]]
    return cat


def binary_labels(catalog: pd.DataFrame, task: str) -> pd.Series:
    """Label of a Table 2 task per galaxy: 1 (confident positive), 0 (confident negative), NaN otherwise."""
    pos, neg = BINARY_TASKS[task]
    p = catalog[[f"conf_{c}" for c in pos]].any(axis=1)
    n = catalog[[f"conf_{c}" for c in neg]].any(axis=1)
    return pd.Series(np.where(p, 1.0, np.where(n, 0.0, np.nan)), index=catalog.index, name=task)


def survey_of(run_dir: str | os.PathLike) -> SurveyFiles:
    """The survey files a run's labels were made from."""
    folder = _labels_dir(run_dir)
    info = json.loads((folder / "survey.json").read_text())
    return SurveyFiles(**{k: Path(resolve_stored(v, folder)) for k, v in info.items()})


def reads_real_data(run_dir: str | os.PathLike) -> bool | None:
    """Whether a run's labels were made from the real GZ2 files rather than a simulated survey.

    A simulated survey carries its ground truth; the real data have none. This, not the profile's
    name, decides whether pages and figures say "simulated": a user's own profile on the real data
    reads real data.

    Returns
    -------
    bool or None
        ``None`` if the run has no labels yet.

    Examples
    --------
    >>> label = plots.profile_label(profile, reads_real_data(paths.run))  # doctest: +SKIP
    """
    try:
        files = survey_of(run_dir)
    except (DataError, FileNotFoundError):
        return None
    return not files.truth.is_file()


def known_detg(run_dir: str | os.PathLike) -> np.ndarray:
    """DR7 objIDs of the known D-ETGs (Kaviraj et al. 2012 list, or its simulated counterpart)."""
    path = _labels_dir(run_dir) / "known_detg.csv"
    return parse_objids(pd.read_csv(path, dtype={"objid": str})["objid"], path, "objid", field=0)


def truth_table(run_dir: str | os.PathLike) -> pd.DataFrame:
    """Ground truth of a simulated survey (true morphology, ``is_detg``, ``known_detg``).

    Raises
    ------
    DataError
        On the paper profile: the real data have no ground truth.
    """
    return read_truth(survey_of(run_dir).truth)


def read_truth(path: str | os.PathLike) -> pd.DataFrame:
    """A simulated survey's truth table file (:attr:`SurveyFiles.truth`), whichever survey it belongs to.

    Raises
    ------
    DataError
        If the file does not exist (the real data have no ground truth).
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path} does not exist: ground truth exists only for a simulated survey")
    truth = pd.read_csv(path, keep_default_na=False, na_values={"inclination_deg": [""]})
    truth["objid"] = truth["objid"].astype(np.int64)
    return truth


def detg_ids(truth: pd.DataFrame) -> np.ndarray:
    """DR7 objIDs of the true D-ETGs of a truth table (:func:`read_truth`)."""
    return truth.loc[truth["is_detg"].astype(str).str.lower() == "true", "objid"].to_numpy(np.int64)


def true_detg(run_dir: str | os.PathLike) -> np.ndarray:
    """DR7 objIDs of every true D-ETG of a simulated survey (known or not)."""
    return detg_ids(truth_table(run_dir))


def read_counts(stage_dir: str | os.PathLike) -> dict:
    """The ``counts.json`` a labels or training stage wrote."""
    return json.loads((Path(stage_dir) / "counts.json").read_text())


#: Selection steps shown in the book, with the paper's numbers where it gives them.
_STEPS = (("n_table", "galaxies with GZ2 votes (Hart16 table)", "n_table"),
          ("n_labelled", "with at least one confident tag", "n_labelled"),
          ("n_labelled_with_image", "... and an image", None),
          ("n_excluded_known_detg", "excluded: known D-ETGs", "n_known_detg"),
          ("n_excluded_early_dust", "excluded: early type + dust lane", None),
          ("largest_group_size", "largest tag combination before the cap", "largest_group_before"),
          ("n_training", "training images after balancing", "n_training"))


def selection_steps(label_counts: dict, training_counts: dict) -> pd.DataFrame:
    """The count of every selection step of this run beside the paper's (Section 3).

    Returns
    -------
    pandas.DataFrame
        Index: step key; columns ``step``, ``this run`` and ``paper`` (NaN where the paper gives none).
    """
    from galaxysd.gz2.labels import PAPER_COUNTS
    both = {**label_counts, **training_counts}
    rows = [{"key": key, "step": text, "this run": int(both[key]),
             "paper": PAPER_COUNTS.get(pkey) if pkey else None} for key, text, pkey in _STEPS]
    frame = pd.DataFrame(rows).set_index("key")
    frame["paper"] = frame["paper"].astype("Int64")
    return frame


#: Tags checked against the simulated truth: tag phrase -> boolean expression on the truth table.
RECOVERY_CHECKS = {
    "spiral galaxy": "spiral",
    "edge-on galaxy": "edge_on",
    "bar-shaped structure in the center of galaxy": "bar",
    "ring": "ring",
    "merger": "merger",
    "dust lane": "dust_lane",
    "completely round galaxy": "roundness == 'round'",
    "in-between round galaxy": "roundness == 'in_between'",
    "cigar-shaped galaxy": "roundness == 'cigar'",
    "2 spiral arms": "spiral and arms == 2",
    "tightly wound spiral arms": "spiral and winding == 'tight'",
    "with rounded edge-on bulge": "edge_on and bulge_shape == 'rounded'",
}


def tag_recovery(catalog: pd.DataFrame, truth: pd.DataFrame) -> pd.DataFrame:
    """Purity and completeness of tags against a simulated survey's truth.

    Returns
    -------
    pandas.DataFrame
        Per tag: ``tagged`` (galaxies with the tag), ``true`` (galaxies with the feature),
        ``purity`` (fraction of tagged that truly have it), ``completeness`` (fraction of true that
        are tagged).
    """
    from galaxysd.gz2.labels import has_tag
    t = truth.set_index("objid").loc[catalog["objid"]].reset_index()
    for col in ("spiral", "edge_on", "bar", "ring", "merger", "dust_lane"):
        t[col] = t[col].astype(str).str.lower().eq("true")
    rows = []
    for tag, expr in RECOVERY_CHECKS.items():
        tagged = has_tag(catalog, tag).to_numpy()
        true = t.eval(expr).to_numpy(bool)
        rows.append({"tag": tag, "tagged": int(tagged.sum()), "true": int(true.sum()),
                     "purity": (tagged & true).sum() / max(tagged.sum(), 1),
                     "completeness": (tagged & true).sum() / max(true.sum(), 1)})
    return pd.DataFrame(rows).set_index("tag").round(3)
