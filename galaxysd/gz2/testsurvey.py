"""An extra simulated survey to test classifiers on: more test galaxies, labelled the same way.

A simulated profile's test set is a tenth of the labelled sample, a few hundred galaxies, so a
classifier's F1 on it is uncertain by about ±0.1 for the rarer features. The simulator makes more
galaxies cheaply: :func:`simulate_test_survey` draws a second survey from the same population model,
renders it at the run's image size and framing, and labels it with the run's own labelling code and
settings (:func:`galaxysd.gz2.write_labels`: volunteer votes, debiased fractions, confident answers,
tags), so that a test label means what a training label means. Only its seed differs (the run's
seed plus :data:`SEED_OFFSET`), so its galaxies are new ones. Its truth table comes with it.

Two steps, as in ``01_data`` (two stages, so that the labels point at the survey's final folder):
:func:`simulate_test_survey` writes the survey's files, :func:`label_test_survey` its labelled
catalogue, and :func:`read_test_survey` reads the galaxies to test on, with their truth.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd

from galaxysd.errors import DataError

#: Added to the run's survey seed: the test survey's galaxies are drawn afresh.
SEED_OFFSET = 100_003
#: The labelling settings of ``01_data/labels`` that the test survey's labels copy.
LABEL_SETTINGS = ("min_debiased", "min_votes", "votes_inclusive", "threshold_inclusive", "fraction")


def _run_settings(labels_dir: Path) -> tuple[dict, dict]:
    """The run's survey record (``survey.json``) and its labelling settings (the labels stage's record)."""
    from galaxysd.gz2.catalog import survey_of

    info_path = survey_of(labels_dir).info
    info = json.loads(info_path.read_text()) if info_path.is_file() else {}
    if "frame_r90" not in info:
        raise DataError(f"{info_path}: not a simulated survey's record (no frame_r90); a test survey is "
                        "simulated only for runs on a simulated survey")
    record = labels_dir / "stage.json"
    params = json.loads(record.read_text()).get("params", {}) if record.is_file() else {}
    return info, {k: params[k] for k in LABEL_SETTINGS if k in params}


def simulate_test_survey(out_dir: str | os.PathLike, labels_dir: str | os.PathLike, n_galaxies: int,
                         progress: bool = True, seed_offset: int = SEED_OFFSET):
    """Simulate a test survey like the run's own (its image size, framing, and seed plus :data:`SEED_OFFSET`).

    Parameters
    ----------
    out_dir : path-like
        The survey folder to write.
    labels_dir : path-like
        The run's ``01_data/labels`` stage, whose survey's settings are copied.
    n_galaxies : int
        Rows of the test survey's Hart16 table (about 87 % get an image; about a third of those
        a confident tag on the demo).
    progress : bool, optional
    seed_offset : int, optional
        Added to the run's seed (chapter 07's D-ETG test survey uses another, so its galaxies differ
        from chapter 06's).

    Returns
    -------
    galaxysd.gz2.SurveyFiles

    Raises
    ------
    DataError
        If the run's labels were made from the real data (no simulator settings to copy).

    Examples
    --------
    >>> files = simulate_test_survey("test_survey", paths.run / "01_data/labels", 5000)  # doctest: +SKIP
    """
    from galaxysd.gz2.simulate import simulate_survey

    info, _ = _run_settings(Path(labels_dir))
    return simulate_survey(out_dir, n_galaxies=n_galaxies, image_size=info["image_size"],
                           seed=int(info["seed"]) + int(seed_offset), frame_r90=info["frame_r90"], progress=progress)


def label_test_survey(survey_dir: str | os.PathLike, out_dir: str | os.PathLike,
                      labels_dir: str | os.PathLike) -> dict:
    """Label a test survey with the run's labelling code and settings (:func:`galaxysd.gz2.write_labels`).

    Parameters
    ----------
    survey_dir : path-like
        :func:`simulate_test_survey`'s folder.
    out_dir : path-like
        The labels folder to write.
    labels_dir : path-like
        The run's ``01_data/labels`` stage, whose settings are copied.

    Returns
    -------
    dict
        :func:`galaxysd.gz2.write_labels`'s counts.
    """
    from galaxysd.gz2.catalog import write_labels
    from galaxysd.gz2.simulate import survey_files

    _, settings = _run_settings(Path(labels_dir))
    return write_labels(survey_files(survey_dir), out_dir, **settings)


def read_test_survey(labels_dir: str | os.PathLike, exclude=()) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The test survey's labelled galaxies with a tag and an image, and their truth (aligned rows).

    Parameters
    ----------
    labels_dir : path-like
        :func:`label_test_survey`'s folder.
    exclude : array-like of int, optional
        objIDs to leave out (those of the run's own survey, should a random objID repeat).

    Returns
    -------
    (pandas.DataFrame, pandas.DataFrame)
        The labelled catalogue rows and the truth rows.
    """
    from galaxysd.gz2.catalog import labelled_catalog, survey_of

    catalog = labelled_catalog(labels_dir)
    keep = (catalog["n_tags"] > 0) & (catalog["image_path"] != "") & ~catalog["objid"].isin(np.asarray(exclude))
    catalog = catalog[keep].reset_index(drop=True)
    truth = pd.read_csv(survey_of(labels_dir).truth, keep_default_na=False, na_values={"inclination_deg": [""]})
    truth["objid"] = truth["objid"].astype(np.int64)
    return catalog, truth.set_index("objid").loc[catalog["objid"]].reset_index()
