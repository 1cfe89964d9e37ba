"""The 1:100 D-ETG experiment of Section 4.3: which galaxies train and which test the classifiers.

The paper trains on a random 100 of the 352 known D-ETGs and 10,000 other GZ2 galaxies (1:100) and
does not say how it tests. Here the test set is every known D-ETG left out of training (or a given
number of them) plus ``test_ratio`` times as many other galaxies that are not in the training set.
Why: the known D-ETGs are the scarce resource, so every one not used for training sharpens the test
(the intervals of Table 3 are set by the number of test positives); and the default test ratio equals
the training ratio, so purity is measured at the prevalence the classifier was trained for rather than
at a different base rate that would move purity for reasons that have nothing to do with the method.
"Other galaxies" are galaxies with an image that are not on the known list; like the paper's, they may
hold D-ETGs nobody has listed (on a simulated survey :func:`hidden_positives` counts them).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from galaxysd.errors import DataError, ParameterError

#: The paper's numbers: 100 known D-ETGs and 100 times as many others for training.
PAPER_N_TRAIN_KNOWN = 100
PAPER_RATIO = 100


class NoKnownDETGError(DataError):
    """The survey has no known D-ETG with an image, so there is nothing to train or test on."""


class TooFewKnownDETGError(DataError):
    """The survey has fewer known D-ETGs with images than training and testing need."""


@dataclass(frozen=True)
class ExperimentSplit:
    """Training and test sets of the D-ETG experiment (objIDs and 0/1 labels, 1 = known D-ETG).

    ``counts`` holds the numbers a chapter prints: known D-ETGs listed, with images, in training and
    in test; others available, in training and in test.
    """

    train_ids: np.ndarray
    train_labels: np.ndarray
    test_ids: np.ndarray
    test_labels: np.ndarray
    counts: dict = field(default_factory=dict)

    def frame(self) -> pd.DataFrame:
        """One row per galaxy: ``objid``, ``label``, ``part`` (``train`` or ``test``)."""
        return pd.DataFrame({"objid": np.concatenate([self.train_ids, self.test_ids]),
                             "label": np.concatenate([self.train_labels, self.test_labels]),
                             "part": ["train"] * len(self.train_ids) + ["test"] * len(self.test_ids)})


def sample_experiment(image_ids, known_ids, n_train_known: int = PAPER_N_TRAIN_KNOWN,
                      ratio: int = PAPER_RATIO, n_test_known: int | None = None,
                      test_ratio: int | None = None, min_test_known: int = 1, exclude=(),
                      seed: int = 0, test_pool: tuple | None = None) -> ExperimentSplit:
    """Draw the 1:``ratio`` training set and the held-out test set of the D-ETG experiment.

    Parameters
    ----------
    image_ids : array-like of int
        objIDs of every galaxy with an image (the pool both sets are drawn from).
    known_ids : array-like of int
        objIDs of the known D-ETGs (the Kaviraj et al. 2012 list or its simulated counterpart).
        Known D-ETGs without an image are counted (``n_known_without_image``) and left out.
    n_train_known : int, optional
        Known D-ETGs in the training set (paper: 100).
    ratio : int, optional
        Other galaxies per known D-ETG in the training set (paper: 100).
    n_test_known : int, optional
        Known D-ETGs in the test set. Default: every one not used for training.
    test_ratio : int, optional
        Other galaxies per known D-ETG in the test set. Default: ``ratio`` (same prevalence).
    min_test_known : int, optional
        Fewest known D-ETGs the test set may hold.
    exclude : array-like of int, optional
        objIDs never drawn as "others" (for example galaxies tagged early type + dust lane).
    seed : int, optional
        Seed of every random draw.
    test_pool : (array-like of int, array-like of int), optional
        ``(image_ids, known_ids)`` of a second survey to draw the test set from instead (a simulated
        test survey, :func:`galaxysd.stages.s07_detg_experiment.test_survey_stage`): its known D-ETGs
        (``n_test_known`` of them, or all) and ``test_ratio`` times as many of its other galaxies. The
        run's own survey then gives the training set only, and its known D-ETGs left out of training
        are in neither set. objIDs the two surveys share are dropped from the pool.

    Returns
    -------
    ExperimentSplit
        Disjoint training and test sets, each sorted by objID, with their counts (``test_source``:
        ``"survey"`` or ``"test survey"``).

    Raises
    ------
    NoKnownDETGError
        If no known D-ETG has an image.
    TooFewKnownDETGError
        If fewer than ``n_train_known + max(min_test_known, n_test_known or 0)`` known D-ETGs have images.
    ParameterError
        If a count or ratio is not positive, or too few other galaxies exist for the requested ratios.

    Examples
    --------
    >>> split = sample_experiment(cat.objid[cat.image_path != ""], gz2.known_detg(run), 30, 100)  # doctest: +SKIP
    """
    for name, value in (("n_train_known", n_train_known), ("ratio", ratio), ("min_test_known", min_test_known)):
        if int(value) < 1:
            raise ParameterError(f"{name} must be at least 1, got {value}")
    image_ids = np.unique(np.asarray(image_ids, dtype=np.int64))
    known_all = np.unique(np.asarray(known_ids, dtype=np.int64))
    known = np.intersect1d(known_all, image_ids)
    test_ratio = ratio if test_ratio is None else int(test_ratio)
    if test_ratio < 1:
        raise ParameterError(f"test_ratio must be at least 1, got {test_ratio}")
    if len(known) == 0:
        raise NoKnownDETGError(
            f"no known D-ETG has an image ({len(known_all)} listed, {len(image_ids)} galaxies with images): "
            "the D-ETG experiment needs known D-ETGs; simulate a larger survey or check the dust-lane list")
    need_test = 0 if test_pool is not None else max(min_test_known, n_test_known or 0)
    if len(known) < n_train_known + need_test:
        raise TooFewKnownDETGError(
            f"{len(known)} known D-ETG(s) have images, but n_train_known={n_train_known} for training and at "
            f"least {need_test} for testing are needed; lower n_train_known or simulate a larger survey")
    rng = np.random.default_rng([seed, 7])
    shuffled = rng.permutation(known)
    train_pos = shuffled[:n_train_known]
    others = np.setdiff1d(image_ids, np.union1d(known_all, np.asarray(exclude, dtype=np.int64)))
    n_train_neg = ratio * len(train_pos)
    if test_pool is None:
        rest = shuffled[n_train_known:]
        test_pos = rest if n_test_known is None else rest[:n_test_known]
        n_test_neg = test_ratio * len(test_pos)
        if n_train_neg + n_test_neg > len(others):
            raise ParameterError(
                f"ratio={ratio} and test_ratio={test_ratio} need {n_train_neg} + {n_test_neg} other galaxies, "
                f"but only {len(others)} galaxies with images are not known D-ETGs; lower the ratios or n_test_known")
        drawn = rng.permutation(others)[:n_train_neg + n_test_neg]
        train_neg, test_neg = drawn[:n_train_neg], drawn[n_train_neg:]
    else:
        if n_train_neg > len(others):
            raise ParameterError(f"ratio={ratio} needs {n_train_neg} other galaxies, but only {len(others)} "
                                 "galaxies with images are not known D-ETGs; lower the ratio or n_train_known")
        train_neg = rng.permutation(others)[:n_train_neg]
        test_pos, test_neg = _draw_test_pool(test_pool, image_ids, n_test_known, test_ratio, exclude,
                                             min_test_known, seed)
        n_test_neg = len(test_neg)

    def labelled(pos, neg):
        ids = np.concatenate([pos, neg])
        labels = np.concatenate([np.ones(len(pos), np.int64), np.zeros(len(neg), np.int64)])
        order = np.argsort(ids, kind="stable")
        return ids[order], labels[order]

    train_ids, train_labels = labelled(train_pos, train_neg)
    test_ids, test_labels = labelled(test_pos, test_neg)
    counts = {"n_known_listed": int(len(known_all)), "n_known_with_image": int(len(known)),
              "n_known_without_image": int(len(known_all) - len(known)),
              "n_train_known": int(len(train_pos)), "n_train_others": int(n_train_neg),
              "n_test_known": int(len(test_pos)), "n_test_others": int(n_test_neg),
              "n_others_available": int(len(others)), "ratio": int(ratio), "test_ratio": int(test_ratio),
              "test_source": "survey" if test_pool is None else "test survey"}
    return ExperimentSplit(train_ids, train_labels, test_ids, test_labels, counts)


def _draw_test_pool(test_pool, own_ids, n_test_known, test_ratio, exclude, min_test_known, seed):
    """The test set's known D-ETGs and others, drawn from a second survey (see :func:`sample_experiment`)."""
    try:
        pool_ids, pool_known = test_pool
    except (TypeError, ValueError):
        raise ParameterError("test_pool must be a pair (image_ids, known_ids) of the test survey") from None
    # a random objID of the test survey may repeat one of the run's survey: such a galaxy is left out
    pool_ids = np.setdiff1d(np.unique(np.asarray(pool_ids, dtype=np.int64)), own_ids)
    pool_known_all = np.unique(np.asarray(pool_known, dtype=np.int64))
    known = np.intersect1d(pool_known_all, pool_ids)
    if len(known) < max(min_test_known, n_test_known or 0):
        raise TooFewKnownDETGError(
            f"the test survey has {len(known)} known D-ETG(s) with images, but "
            f"{max(min_test_known, n_test_known or 0)} are needed for testing; simulate a larger test survey "
            "(07_detg_experiment.n_test_survey) or lower n_test_known")
    rng = np.random.default_rng([seed, 29])
    test_pos = rng.permutation(known)
    test_pos = test_pos if not n_test_known else test_pos[:n_test_known]
    others = np.setdiff1d(pool_ids, np.union1d(pool_known_all, np.asarray(exclude, dtype=np.int64)))
    n_test_neg = test_ratio * len(test_pos)
    if n_test_neg > len(others):
        raise ParameterError(
            f"test_ratio={test_ratio} needs {n_test_neg} other galaxies of the test survey, but it has only "
            f"{len(others)} with images that are not known D-ETGs; simulate a larger test survey "
            "(07_detg_experiment.n_test_survey) or lower test_ratio")
    return test_pos, rng.permutation(others)[:n_test_neg]


def hidden_positives(split: ExperimentSplit, true_ids) -> dict:
    """How many galaxies labelled "other" are true D-ETGs (simulated surveys only).

    Returns
    -------
    dict
        ``train`` and ``test``: the number of label-0 galaxies of each set whose objID is in ``true_ids``.
    """
    true_ids = np.asarray(true_ids, dtype=np.int64)
    return {part: int(np.isin(ids[labels == 0], true_ids).sum())
            for part, ids, labels in (("train", split.train_ids, split.train_labels),
                                      ("test", split.test_ids, split.test_labels))}


def method_training_sets(split: ExperimentSplit, generated_ids=(), oracle_ids=None
                         ) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The training set of each method of Table 3: baseline and focal loss share the 1:``ratio`` set;
    "augmented" adds the generated D-ETGs (ids of generated images, any hashable) as positives, and
    "oracle" (when ``oracle_ids`` are given, :func:`oracle_positives`) adds real D-ETGs instead.

    Returns
    -------
    dict
        ``{"baseline": (ids, labels), "focal": (ids, labels), "augmented": (ids, labels)}`` and
        ``"oracle"`` if asked for; ids are object arrays, so objIDs and generated-image ids can sit together.
    """
    base = (split.train_ids.astype(object), split.train_labels.copy())

    def added(ids):
        ids = np.asarray(list(ids), dtype=object)
        return np.concatenate([base[0], ids]), np.concatenate([base[1], np.ones(len(ids), np.int64)])

    sets = {"baseline": base, "focal": (base[0].copy(), base[1].copy()), "augmented": added(generated_ids)}
    if oracle_ids is not None:
        sets["oracle"] = added(oracle_ids)
    return sets


def oracle_positives(split: ExperimentSplit, image_ids, n: int, true_ids=None, known_ids=(),
                     seed: int = 0) -> tuple[np.ndarray, str]:
    """Real D-ETGs for the oracle row of Table 3: what a perfect generator could add.

    The oracle trains the augmented method's classifier with ``n`` real D-ETGs in place of the ``n``
    generated ones. They must not be test galaxies, nor already in the training set: on a simulated
    survey they are true D-ETGs (known or not) outside both sets; on real data, known D-ETGs that
    neither set uses (there are none when the test set takes every known D-ETG left out of training).

    Parameters
    ----------
    split : ExperimentSplit
    image_ids : array-like of int
        objIDs of every galaxy with an image.
    n : int
        How many (the augmented method's ``n_augment``).
    true_ids : array-like of int, optional
        The true D-ETGs of a simulated survey; None on real data.
    known_ids : array-like of int, optional
        The known D-ETGs (used when there is no truth).
    seed : int, optional
        Seed of the draw when more are available than needed.

    Returns
    -------
    (numpy.ndarray, str)
        Up to ``n`` objIDs, sorted, and a reason when fewer than ``n`` (empty when all ``n`` were found).

    Examples
    --------
    >>> ids, why = oracle_positives(split, survey.objid, 80, gz2.true_detg(run))  # doctest: +SKIP
    """
    source = "true D-ETGs of the simulated truth" if true_ids is not None else "known D-ETGs"
    pool = np.asarray(true_ids if true_ids is not None else known_ids, dtype=np.int64)
    used = np.union1d(split.train_ids, split.test_ids)
    candidates = np.setdiff1d(np.intersect1d(pool, np.asarray(image_ids, dtype=np.int64)), used)
    picked = np.sort(np.random.default_rng([seed, 23]).permutation(candidates)[:max(int(n), 0)])
    if len(picked) == 0:
        return picked, (f"no {source} with an image is left outside the training and test sets, so there is "
                        f"no real D-ETG to stand in for the generated ones")
    if len(picked) < n:
        return picked, f"only {len(picked)} {source} with an image are left outside the training and test sets"
    return picked, ""


def score_test_set(split: ExperimentSplit, trainers, training_sets) -> pd.DataFrame:
    """Train each method on its set and score the test galaxies.

    Parameters
    ----------
    split : ExperimentSplit
        The experiment's sets.
    trainers : mapping of str to callable
        Method name -> ``train(ids, labels) -> scorer``; ``scorer(objids) -> scores``.
    training_sets : mapping of str to (ids, labels)
        From :func:`method_training_sets`.

    Returns
    -------
    pandas.DataFrame
        ``objid``, ``label`` and one ``score_<method>`` column per method, for the test galaxies.

    Raises
    ------
    ParameterError
        If a method has a trainer but no training set.

    Examples
    --------
    >>> scores = score_test_set(split, {"baseline": train_bce, "focal": train_focal}, sets)  # doctest: +SKIP
    """
    out = pd.DataFrame({"objid": split.test_ids, "label": split.test_labels})
    for name, train in trainers.items():
        if name not in training_sets:
            raise ParameterError(f"method {name!r} has no training set; known: {sorted(training_sets)}")
        scorer = train(*training_sets[name])
        out[f"score_{name}"] = np.asarray(scorer(split.test_ids), dtype=float)
    return out
