"""An extra simulated survey to test classifiers on: more test galaxies, labelled the same way.

A simulated profile's test set is a tenth of the labelled sample, a few hundred galaxies, so a
classifier's F1 on it is uncertain by about ±0.1 for the rarer features. The simulator makes more
galaxies cheaply: :func:`simulate_test_survey` draws a second survey from the same population model,
renders it at the run's image size and framing, and labels it with the run's own labelling code and
settings (:func:`galaxysd.gz2.write_labels`: volunteer votes, debiased fractions, confident answers,
tags), so that a test label means what a training label means. Only its seed differs (the run's
seed plus :data:`SEED_OFFSET`), so its galaxies are new ones. Its truth table comes with it.

Layout of the folder it writes::

    survey/    the survey's files (:func:`galaxysd.gz2.simulate_survey`)
    labels/    its labelled catalogue (:func:`galaxysd.gz2.write_labels`)
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


def simulate_test_survey(out_dir: str | os.PathLike, labels_dir: str | os.PathLike, n_galaxies: int,
                         progress: bool = True) -> Path:
    """Simulate and label a test survey like the run's own.

    Parameters
    ----------
    out_dir : path-like
        Folder to write ``survey/`` and ``labels/`` into.
    labels_dir : path-like
        The run's ``01_data/labels`` stage: its survey's size, framing and seed, and its labelling
        settings, are copied.
    n_galaxies : int
        Rows of the test survey's Hart16 table (about 87 % get an image; about a third of those
        a confident tag on the demo).
    progress : bool, optional

    Returns
    -------
    pathlib.Path
        ``out_dir``.

    Raises
    ------
    DataError
        If the run's labels were made from the real data (no simulator settings to copy).

    Examples
    --------
    >>> simulate_test_survey("test_survey", paths.run / "01_data/labels", 4000)  # doctest: +SKIP
    """
    from galaxysd.gz2.catalog import survey_of, write_labels
    from galaxysd.gz2.simulate import simulate_survey

    labels_dir, out = Path(labels_dir), Path(out_dir)
    info_path = survey_of(labels_dir).info
    info = json.loads(info_path.read_text()) if info_path.is_file() else {}
    if "frame_r90" not in info:
        raise DataError(f"{info_path}: not a simulated survey's record (no frame_r90); a test survey is "
                        "simulated only for runs on a simulated survey")
    record = labels_dir / "stage.json"
    params = json.loads(record.read_text()).get("params", {}) if record.is_file() else {}
    settings = {k: params[k] for k in LABEL_SETTINGS if k in params}
    files = simulate_survey(out / "survey", n_galaxies=n_galaxies, image_size=info["image_size"],
                            seed=int(info["seed"]) + SEED_OFFSET, frame_r90=info["frame_r90"], progress=progress)
    write_labels(files, out / "labels", **settings)
    return out


def read_test_survey(folder: str | os.PathLike, exclude=()) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The test survey's labelled galaxies with a tag and an image, and their truth (aligned rows).

    Parameters
    ----------
    folder : path-like
        :func:`simulate_test_survey`'s folder.
    exclude : array-like of int, optional
        objIDs to leave out (those of the run's own survey, should a random objID repeat).

    Returns
    -------
    (pandas.DataFrame, pandas.DataFrame)
        The labelled catalogue rows and the truth rows.
    """
    from galaxysd.gz2.catalog import labelled_catalog
    from galaxysd.gz2.simulate import survey_files

    folder = Path(folder)
    catalog = labelled_catalog(folder / "labels")
    keep = (catalog["n_tags"] > 0) & (catalog["image_path"] != "") & ~catalog["objid"].isin(np.asarray(exclude))
    catalog = catalog[keep].reset_index(drop=True)
    truth = pd.read_csv(survey_files(folder / "survey").truth, keep_default_na=False,
                        na_values={"inclination_deg": [""]})
    truth["objid"] = truth["objid"].astype(np.int64)
    return catalog, truth.set_index("objid").loc[catalog["objid"]].reset_index()
