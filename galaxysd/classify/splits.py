"""The labelled sample cut into train / validation / test, and the training set of a binary task.

The paper (Section 4.2) splits GZ2 90/10 into training and test galaxies, holds 10% of the training
part for validation, and trains each task on a fixed number of negatives (10,000) with positives
drawn so that the training set keeps the task's positive fraction of the whole labelled sample.

Labels are a float vector aligned with the sample: 1 (positive), 0 (negative), NaN (not used). Every
function here takes such a vector, so a task of any kind (a Table 2 morphology, a D-ETG) uses them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from galaxysd.errors import DataError, ParameterError

PARTS = ("train", "val", "test")
#: How a Table 2 task's negatives are defined (see :func:`task_labels`).
NEGATIVE_RULES = ("not_positive", "confident")
#: The paper's positive fraction of each Table 2 task in the whole labelled sample.
PAPER_FRACTIONS = {"spiral": 0.43, "disk": 0.09, "bar": 0.10, "bulge": 0.07}


def split_sample(n: int, seed: int = 0, test_fraction: float = 0.1, val_fraction: float = 0.1) -> np.ndarray:
    """Assign each of ``n`` galaxies to ``"train"``, ``"val"`` or ``"test"`` at random.

    ``test_fraction`` of all galaxies are test galaxies; ``val_fraction`` of the rest validate.

    Parameters
    ----------
    n : int
        Number of galaxies.
    seed : int, optional
        Seed of the draw.
    test_fraction, val_fraction : float, optional
        The paper's 0.1 and 0.1.

    Returns
    -------
    numpy.ndarray of str
        One part name per galaxy.

    Raises
    ------
    ParameterError
        If a fraction is not in (0, 1).

    Examples
    --------
    >>> parts = split_sample(1000, seed=0)
    >>> int((parts == "test").sum()), int((parts == "val").sum())
    (100, 90)
    """
    for name, value in (("test_fraction", test_fraction), ("val_fraction", val_fraction)):
        if not 0 < value < 1:
            raise ParameterError(f"{name} must be between 0 and 1 (exclusive), got {value}")
    order = np.random.default_rng(seed).permutation(n)
    n_test = int(round(test_fraction * n))
    n_val = int(round(val_fraction * (n - n_test)))
    parts = np.full(n, "train", dtype=object)
    parts[order[:n_test]] = "test"
    parts[order[n_test:n_test + n_val]] = "val"
    return parts.astype(str)


def task_labels(catalog: pd.DataFrame, task: str, negatives: str = "not_positive") -> pd.Series:
    """Label of a Table 2 task per galaxy of the labelled catalogue.

    Parameters
    ----------
    catalog : pandas.DataFrame
        The labelled catalogue (:func:`galaxysd.gz2.labelled_catalog`), already restricted to the
        galaxies that take part (e.g. those with an image).
    task : str
        A key of :data:`galaxysd.gz2.BINARY_TASKS`.
    negatives : {"not_positive", "confident"}, optional
        ``"not_positive"``: every galaxy that is not a confident positive is a negative (the reading
        under which the paper's positive fractions, e.g. 0.43 spirals, are fractions of the whole
        labelled sample); ``"confident"``: only confident negative answers count, the rest is NaN.

    Returns
    -------
    pandas.Series
        1.0, 0.0 or NaN per galaxy, named after the task.

    Raises
    ------
    ParameterError
        For an unknown task or negative rule.

    Examples
    --------
    >>> y = task_labels(cat, "spiral")  # doctest: +SKIP
    """
    from galaxysd.gz2.catalog import BINARY_TASKS, binary_labels

    if task not in BINARY_TASKS:
        raise ParameterError(f"unknown task {task!r}; expected one of {sorted(BINARY_TASKS)}")
    if negatives not in NEGATIVE_RULES:
        raise ParameterError(f"negatives={negatives!r}; expected one of {NEGATIVE_RULES}")
    labels = binary_labels(catalog, task)
    if negatives == "not_positive":
        labels = (labels == 1).astype(float).rename(task)
    return labels


def positive_fraction(labels: pd.Series | np.ndarray) -> float:
    """Positives over labelled (non-NaN) galaxies."""
    y = np.asarray(labels, dtype=float)
    known = ~np.isnan(y)
    return float(y[known].sum() / max(known.sum(), 1))


@dataclass
class TrainingSet:
    """The rows of a task's training set and how they were chosen.

    Attributes
    ----------
    rows : numpy.ndarray
        Positions (into the sample) of the chosen training galaxies, negatives first.
    n_positive, n_negative : int
        How many of each were chosen.
    fraction : float
        The positive fraction the set keeps.
    available_positive, available_negative : int
        How many the training part offered.
    """

    rows: np.ndarray
    n_positive: int
    n_negative: int
    fraction: float
    available_positive: int
    available_negative: int

    def counts(self) -> dict:
        """Everything but the rows, for a table."""
        out = asdict(self)
        out.pop("rows")
        return out


def training_set(labels: pd.Series | np.ndarray, parts: np.ndarray, n_negatives: int, fraction: float,
                 seed: int = 0, task: str = "task") -> TrainingSet:
    """Draw a task's training set: ``n_negatives`` negatives and positives at ``fraction``.

    The number of positives is ``fraction / (1 - fraction) * n_negatives``, so that positives make up
    ``fraction`` of the set. If the training part offers fewer negatives or positives than that, the
    set shrinks keeping the fraction (all of the scarcer class are used).

    Parameters
    ----------
    labels : pandas.Series or numpy.ndarray
        1 / 0 / NaN per galaxy of the sample.
    parts : numpy.ndarray
        :func:`split_sample`'s part per galaxy; only ``"train"`` galaxies are drawn.
    n_negatives : int
        Negatives wanted (the paper: 10,000).
    fraction : float
        Positive fraction to keep, in (0, 1).
    seed : int, optional
        Seed of the draw.
    task : str, optional
        Name used in error messages.

    Returns
    -------
    TrainingSet

    Raises
    ------
    DataError
        If the training part has no positives or no negatives of the task.
    ParameterError
        If ``n_negatives`` < 1 or ``fraction`` is not in (0, 1).

    Examples
    --------
    >>> chosen = training_set(y, parts, n_negatives=10_000, fraction=0.43)  # doctest: +SKIP
    """
    if n_negatives < 1:
        raise ParameterError(f"n_negatives must be >= 1, got {n_negatives}")
    if not 0 < fraction < 1:
        raise ParameterError(f"positive fraction of task {task!r} must be in (0, 1), got {fraction}")
    y = np.asarray(labels, dtype=float)
    train = np.asarray(parts) == "train"
    pos = np.flatnonzero(train & (y == 1))
    neg = np.flatnonzero(train & (y == 0))
    for what, rows in (("positives", pos), ("negatives", neg)):
        if len(rows) == 0:
            raise DataError(f"task {task!r}: the training part has no {what}; a classifier needs both "
                            "(use a larger sample or another task)")
    ratio = fraction / (1 - fraction)
    n_neg = min(n_negatives, len(neg), int(np.floor(len(pos) / ratio)) or 1)
    n_pos = min(len(pos), max(1, int(round(ratio * n_neg))))
    rng = np.random.default_rng(seed)
    rows = np.concatenate([np.sort(rng.choice(neg, n_neg, replace=False)),
                           np.sort(rng.choice(pos, n_pos, replace=False))])
    return TrainingSet(rows, int(n_pos), int(n_neg), float(fraction), int(len(pos)), int(len(neg)))


def evaluation_rows(labels: pd.Series | np.ndarray, parts: np.ndarray, part: str) -> np.ndarray:
    """Positions of the labelled galaxies of one part (``"val"`` or ``"test"``), all of them."""
    if part not in PARTS:
        raise ParameterError(f"part={part!r}; expected one of {PARTS}")
    y = np.asarray(labels, dtype=float)
    return np.flatnonzero((np.asarray(parts) == part) & ~np.isnan(y))


def task_truth(truth: pd.DataFrame, task: str) -> pd.Series:
    """Whether each galaxy of a simulated survey truly has a Table 2 task's feature.

    spiral: spiral arms; disk: an edge-on disc; bar: a bar; bulge: a disc galaxy seen not edge-on
    whose bulge is obvious or dominant (the galaxies GZ2's bulge question is asked about).

    Parameters
    ----------
    truth : pandas.DataFrame
        :func:`galaxysd.gz2.truth_table`.
    task : str

    Returns
    -------
    pandas.Series
        Boolean, indexed like ``truth``.

    Raises
    ------
    ParameterError
        For an unknown task.
    """
    def flag(col: str) -> pd.Series:
        return truth[col].astype(str).str.lower().eq("true")

    if task == "spiral":
        return flag("spiral")
    if task == "disk":
        return flag("edge_on")
    if task == "bar":
        return flag("bar")
    if task == "bulge":
        return (truth["kind"].eq("disk") & ~flag("edge_on")
                & truth["bulge_class"].isin(["obvious", "dominant"]))
    raise ParameterError(f"no simulated truth for task {task!r}")
