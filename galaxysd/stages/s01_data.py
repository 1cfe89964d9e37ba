"""Chapter 01: the three cached stages of notebook ``01_data``, one call each: survey, labels, training set.

Each function wraps :func:`galaxysd.cache.run_stage` with the parameters that determine the stage's
outputs, so a second run with the same parameters loads instead of recomputing, and returns what the
notebook shows next:

======================  ======================  ==============================================
function                stage folder            returns
======================  ======================  ==============================================
:func:`survey_stage`    ``01_data/survey``      :class:`~galaxysd.gz2.simulate.SurveyFiles`
:func:`labels_stage`    ``01_data/labels``      :class:`LabelsStage` (catalogue and counts)
:func:`training_stage`  ``01_data/training``    :class:`TrainingStage` (manifest and counts)
======================  ======================  ==============================================

The on-disk layout is described in :mod:`galaxysd.gz2.catalog` and :mod:`galaxysd.gz2.manifest`;
notebooks ``02_finetune`` and ``03_generate`` read ``01_data/training/manifest.csv``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from galaxysd import cache
from galaxysd.gz2.catalog import LABELS_STAGE, SURVEY_STAGE, labelled_catalog, read_counts, write_labels, \
    write_training
from galaxysd.gz2.labels import BALANCE_CAP, MIN_DEBIASED, MIN_VOTES
from galaxysd.gz2.manifest import TRAINING_STAGE, read_training_manifest
from galaxysd.gz2.simulate import SIMULATOR_VERSION, SurveyFiles, simulate_survey, survey_files
from galaxysd.paths import RunPaths


@dataclass
class LabelsStage:
    """The ``01_data/labels`` stage: every galaxy of the survey with its tags.

    Attributes
    ----------
    path : pathlib.Path
        The stage folder.
    hit : bool
        ``True`` if loaded from an earlier run.
    catalog : pandas.DataFrame
        :func:`~galaxysd.gz2.catalog.labelled_catalog` of the stage.
    counts : dict
        The stage's ``counts.json`` (``n_table``, ``n_labelled``, ``image_report``, ...).
    """

    path: Path
    hit: bool
    catalog: pd.DataFrame
    counts: dict

    @property
    def labelled(self) -> pd.DataFrame:
        """The galaxies with at least one confident tag."""
        return self.catalog[self.catalog.n_tags > 0]

    def captions(self, n: int = 8) -> pd.DataFrame:
        """The first ``n`` labelled galaxies' objID and caption, for a glance at the result."""
        return self.labelled[["objid", "caption"]].head(n)


@dataclass
class TrainingStage:
    """The ``01_data/training`` stage: the training manifest after exclusion and balancing.

    Attributes
    ----------
    path : pathlib.Path
        The stage folder (holds ``manifest.csv`` and ``counts.json``).
    hit : bool
        ``True`` if loaded from an earlier run.
    manifest : pandas.DataFrame
        :func:`~galaxysd.gz2.manifest.read_training_manifest` of the stage.
    counts : dict
        The stage's ``counts.json`` (``n_training``, ``n_excluded_known_detg``, ...).
    """

    path: Path
    hit: bool
    manifest: pd.DataFrame
    counts: dict


def survey_stage(paths: RunPaths, real_data: bool = False, n_galaxies: int = 5000, image_size: int = 64,
                 seed: int = 0, frame_r90: float = 5.0, progress: bool = True) -> SurveyFiles:
    """The survey the notebook labels: the real GZ2 files, or a simulated survey made (once) in the run.

    Parameters
    ----------
    paths : RunPaths
        The run's folders (:func:`galaxysd.paths.run_paths`).
    real_data : bool, optional
        ``True``: check and verify the real files in ``paths.data / "gz2"``
        (:func:`galaxysd.gz2.fetch.fetch_all`); nothing is downloaded here: a missing file is an
        error listing what is present, missing, where and how to get it
        (``python -m galaxysd fetch --data-dir DIR`` downloads). The other parameters are then ignored.
        ``False``: simulate a survey into the ``01_data/survey`` stage.
    n_galaxies, image_size, seed, frame_r90
        See :func:`galaxysd.gz2.simulate.simulate_survey`.
    progress : bool, optional
        Show progress bars (rendering).

    Returns
    -------
    SurveyFiles
        The paths of the survey's files, in the same layout for real and simulated data.

    Examples
    --------
    >>> survey = survey_stage(paths, n_galaxies=300, image_size=32)  # doctest: +SKIP
    """
    if real_data:
        from galaxysd.gz2.fetch import fetch_all
        return fetch_all(paths.data, progress=progress)
    params = {"n_galaxies": n_galaxies, "image_size": image_size, "seed": seed, "frame_r90": frame_r90,
              "simulator": SIMULATOR_VERSION}
    stage = cache.run_stage(paths.run, SURVEY_STAGE, params,
                            lambda out: simulate_survey(out, n_galaxies=n_galaxies, image_size=image_size,
                                                        seed=seed, frame_r90=frame_r90, progress=progress))
    return survey_files(stage.path)


def labels_stage(paths: RunPaths, survey: SurveyFiles, min_debiased: float = MIN_DEBIASED,
                 min_votes: int = MIN_VOTES, votes_inclusive: bool = False, threshold_inclusive: bool = False,
                 fraction: str = "weighted_fraction", check_images: bool = False) -> LabelsStage:
    """Label every galaxy of ``survey`` from its votes and match the images (stage ``01_data/labels``).

    Parameters
    ----------
    paths : RunPaths
        The run's folders; images read from a zip are extracted to ``paths.data/gz2/images_extracted``.
    survey : SurveyFiles
        From :func:`survey_stage`.
    min_debiased, min_votes, votes_inclusive, threshold_inclusive, fraction
        See :func:`galaxysd.gz2.labels.label_catalog` (defaults: the paper's choices).
    check_images : bool, optional
        Decode every labelled image and count those that fail.

    Returns
    -------
    LabelsStage
        The stage folder, the labelled catalogue and the counts of every step.

    Examples
    --------
    >>> labels = labels_stage(paths, survey)  # doctest: +SKIP
    >>> labels.counts["n_labelled"]  # doctest: +SKIP
    """
    params = {"min_debiased": min_debiased, "min_votes": min_votes, "votes_inclusive": votes_inclusive,
              "threshold_inclusive": threshold_inclusive, "fraction": fraction, "check_images": check_images,
              "survey": survey.as_dict()}
    stage = cache.run_stage(
        paths.run, LABELS_STAGE, params,
        lambda out: write_labels(survey, out, min_debiased=min_debiased, min_votes=min_votes,
                                 votes_inclusive=votes_inclusive, threshold_inclusive=threshold_inclusive,
                                 fraction=fraction, image_dir=Path(paths.data) / "gz2" / "images_extracted",
                                 check_decode=check_images),
        inputs=[survey.hart16, survey.mapping])
    return LabelsStage(stage.path, stage.hit, labelled_catalog(stage.path), read_counts(stage.path))


def training_stage(paths: RunPaths, labels: LabelsStage, cap: int = BALANCE_CAP, seed: int = 0) -> TrainingStage:
    """The training set (stage ``01_data/training``): images only, D-ETGs excluded, tag groups capped.

    Parameters
    ----------
    paths : RunPaths
        The run's folders.
    labels : LabelsStage
        From :func:`labels_stage`.
    cap : int, optional
        Largest number of galaxies kept per tag combination (the paper: 2,000).
    seed : int, optional
        Seed of the random thinning.

    Returns
    -------
    TrainingStage
        The stage folder, the manifest ``02_finetune`` trains on, and the counts.

    Examples
    --------
    >>> training = training_stage(paths, labels, cap=2000)  # doctest: +SKIP
    """
    stage = cache.run_stage(paths.run, TRAINING_STAGE, {"cap": cap, "seed": seed},
                            lambda out: write_training(labels.path, out, cap=cap, seed=seed),
                            inputs=[labels.path])
    return TrainingStage(stage.path, stage.hit, read_training_manifest(stage.path / "manifest.csv"),
                         read_counts(stage.path))
