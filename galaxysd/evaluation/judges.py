"""The judges Q_i of the consistency metric: one binary classifier per visual feature (§4.1).

The paper trains 11 binary classifiers without naming them all ("the presence of spiral arms, if
there is a ring..."). Ours are the 11 features the Table 1 prompts ask for most directly and that
the tags can teach: the three roundness classes, edge-on, spiral, bar, ring, merger, dust lane, a
rounded edge-on bulge and tightly wound arms. Arm counts, the other windings and bulge prominence
are left out: they are the rarest and finest tags, with too few confident examples to judge by.

Each judge is a logistic regression on the frozen SimCLR embedding (one network's features, eleven
linear heads) rather than a ResNet-18 of its own: on a CPU this is what the time allows, and the
chapter shows every judge's held-out accuracy so the reader can see how far to trust it, and checks
heads against ResNet-18s of their own (:mod:`galaxysd.evaluation.judge_check`). A judge
is kept as plain arrays (standardisation and weights) in JSON: nothing is pickled.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import pandas as pd

from galaxysd.cache import atomic_write_text
from galaxysd.errors import DataError
from galaxysd.evaluation.metrics import check_embeddings
from galaxysd.evaluation.probe import balanced_accuracy, fit_logistic, split_indices

#: The 11 features judged, as tag phrases.
JUDGE_FEATURES = ("completely round galaxy", "in-between round galaxy", "cigar-shaped galaxy", "edge-on galaxy",
                  "spiral galaxy", "bar-shaped structure in the center of galaxy", "ring", "merger", "dust lane",
                  "with rounded edge-on bulge", "tightly wound spiral arms")
ROUNDNESS = ("completely round galaxy", "in-between round galaxy", "cigar-shaped galaxy")
DISC = ("edge-on galaxy", "spiral galaxy", "bar-shaped structure in the center of galaxy")


def condition_truth(tags: Iterable[str], features: Sequence[str] = JUDGE_FEATURES) -> dict[str, bool]:
    """What a condition says about each judged feature: named tags are true, their exclusions false.

    The GZ2 tree makes some answers exclusive: the roundness classes exclude each other and every
    disc feature (a smooth galaxy is neither edge-on nor spiral nor barred); edge-on excludes spiral,
    bar and roundness, and spiral or bar exclude edge-on and roundness. Features the condition says
    nothing about (a ring prompt on roundness) are not asked.

    Examples
    --------
    >>> condition_truth(["cigar-shaped galaxy"])["spiral galaxy"]
    False
    """
    tags = set(tags)
    truth = {t: True for t in tags if t in features}
    false: set[str] = set()
    if tags & set(ROUNDNESS):
        false |= set(ROUNDNESS) | set(DISC) | {"tightly wound spiral arms", "with rounded edge-on bulge"}
    if "edge-on galaxy" in tags:
        false |= set(ROUNDNESS) | {"spiral galaxy", "bar-shaped structure in the center of galaxy",
                                   "tightly wound spiral arms"}
    if tags & {"spiral galaxy", "bar-shaped structure in the center of galaxy"}:
        false |= set(ROUNDNESS) | {"edge-on galaxy", "with rounded edge-on bulge"}
    truth.update({f: False for f in false - tags if f in features})
    return truth


@dataclass
class Judges:
    """Linear judges on an embedding: ``answers(emb)`` gives one boolean column per feature."""

    features: list
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: np.ndarray
    report: pd.DataFrame = field(default_factory=pd.DataFrame)

    def answers(self, embeddings, features: Sequence[str] | None = None) -> pd.DataFrame:
        """The judges' yes/no per image, for ``features`` (default: all).

        Raises
        ------
        DataError
            If a feature has no judge, or the embeddings are malformed.
        """
        features = list(self.features if features is None else features)
        unknown = [f for f in features if f not in self.features]
        if unknown:
            raise DataError(f"no judge was trained for {unknown}; judges exist for {self.features}")
        x = check_embeddings(embeddings, "embeddings to judge", dim=len(self.mean))
        scores = ((x - self.mean) / self.scale) @ self.coef.T + self.intercept
        cols = [self.features.index(f) for f in features]
        return pd.DataFrame(scores[:, cols] > 0, columns=features)

    def save(self, path: str | os.PathLike) -> Path:
        """Write the judges (arrays and report) as JSON."""
        data = {"features": self.features, "mean": self.mean.tolist(), "scale": self.scale.tolist(),
                "coef": self.coef.tolist(), "intercept": self.intercept.tolist(),
                "report": self.report.reset_index().to_dict("list")}
        atomic_write_text(Path(path), json.dumps(data))
        return Path(path)

    @classmethod
    def load(cls, path: str | os.PathLike) -> "Judges":
        """Read judges written by :meth:`save`."""
        path = Path(path)
        if not path.is_file():
            raise DataError(f"judges file {path} does not exist; run notebook 05_quality's judges stage first")
        data = json.loads(path.read_text())
        report = pd.DataFrame(data["report"]).set_index("feature") if data["report"] else pd.DataFrame()
        return cls(list(data["features"]), *(np.asarray(data[k], float) for k in ("mean", "scale", "coef", "intercept")),
                   report=report)


def fit_judges(embeddings, labels: pd.DataFrame, test_fraction: float = 0.3, seed: int = 0,
               min_positive: int = 10) -> Judges:
    """Train one judge per feature on real labelled galaxies and score it on held-out ones.

    Parameters
    ----------
    embeddings : array (n, d)
        Embeddings of the labelled real galaxies.
    labels : pandas.DataFrame
        ``n`` rows, one boolean column per feature (:func:`galaxysd.evaluation.probe.tag_matrix`).
    test_fraction, seed
        The held-out split (:func:`galaxysd.evaluation.probe.split_indices`).
    min_positive : int, optional
        A feature with fewer galaxies carrying it (or lacking it) in either part gets no judge.

    Returns
    -------
    Judges
        With ``report``: per feature ``n_tagged_train``, ``n_tagged_test``, ``accuracy``,
        ``balanced_accuracy`` on the held-out galaxies, and ``judged`` (whether a judge was made).

    Examples
    --------
    >>> judges = fit_judges(emb, tag_matrix(catalog.tags, JUDGE_FEATURES))  # doctest: +SKIP
    """
    x = check_embeddings(embeddings, "judge training embeddings")
    if len(x) != len(labels):
        raise DataError(f"fit_judges: {len(x)} embeddings for {len(labels)} labelled galaxies")
    train, test = split_indices(len(x), test_fraction, seed)
    mean, scale = x[train].mean(axis=0), x[train].std(axis=0)
    scale = np.where(scale > 0, scale, 1.0)
    features, coefs, intercepts, rows = [], [], [], []
    for feature in labels.columns:
        y = labels[feature].to_numpy(bool)
        row = {"feature": feature, "n_tagged_train": int(y[train].sum()), "n_tagged_test": int(y[test].sum()),
               "accuracy": np.nan, "balanced_accuracy": np.nan, "judged": False}
        if min(y[train].sum(), y[test].sum(), (~y[train]).sum(), (~y[test]).sum()) >= min_positive:
            model = fit_logistic((x[train] - mean) / scale, y[train], seed)
            scaler, logistic = model[0], model[-1]
            # fold the pipeline's own standardisation into the weights: one affine map per judge
            coef = logistic.coef_[0] / scaler.scale_
            intercept = logistic.intercept_[0] - coef @ scaler.mean_
            pred = ((x[test] - mean) / scale) @ coef + intercept > 0
            row.update(accuracy=float((pred == y[test]).mean()), balanced_accuracy=balanced_accuracy(y[test], pred),
                       judged=True)
            features.append(feature), coefs.append(coef), intercepts.append(intercept)
        rows.append(row)
    d = x.shape[1]
    return Judges(features, mean, scale, np.asarray(coefs).reshape(len(features), d), np.asarray(intercepts),
                  report=pd.DataFrame(rows).set_index("feature"))


def truth_accuracy(judges: Judges, embeddings, truth: pd.DataFrame) -> pd.DataFrame:
    """Each judge scored against a simulated survey's ground truth rather than the volunteers' tags.

    Parameters
    ----------
    judges : Judges
    embeddings : array (n, d)
        Embeddings of real galaxies of a simulated survey.
    truth : pandas.DataFrame
        ``n`` rows, one boolean column per feature: what the simulator drew.

    Returns
    -------
    pandas.DataFrame
        Per judged feature present in ``truth``: ``true_fraction``, ``accuracy``, ``balanced_accuracy``.
    """
    features = [f for f in judges.features if f in truth.columns]
    answers = judges.answers(embeddings, features)
    rows = [{"feature": f, "true_fraction": float(truth[f].mean()),
             "accuracy": float((answers[f].to_numpy() == truth[f].to_numpy(bool)).mean()),
             "balanced_accuracy": balanced_accuracy(truth[f].to_numpy(bool), answers[f].to_numpy())}
            for f in features]
    return pd.DataFrame(rows, columns=["feature", "true_fraction", "accuracy", "balanced_accuracy"]).set_index("feature")
