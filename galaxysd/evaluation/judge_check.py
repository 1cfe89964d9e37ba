"""Is one network with eleven linear heads as good a judge as a ResNet-18 of each feature's own?

The consistency metric's judges (:mod:`galaxysd.evaluation.judges`) are logistic-regression heads on
the frozen SimCLR embedding; the paper trains a ResNet-18 per feature. This module holds the
statistics of the check that the heads lose nothing: both kinds of judge answer for the same held-out
galaxies, and a paired bootstrap over those galaxies (each resample scores both judges on the same
galaxies, :func:`galaxysd.evaluation.probe.bootstrap_balanced_accuracy`) gives each judge's balanced
accuracy and the difference head minus network with a 68 % interval. The verdict per feature:

- ``"too few to tell"`` when the held-out part has fewer than ``min_held_out`` galaxies with the
  feature (or without it), or when either judge could not be trained;
- ``"worse"`` when the whole interval of the difference lies below zero: the head is shown to lose;
- ``"as good"`` otherwise: the interval reaches zero, or the head is ahead. This says the sample does
  not show the head losing; how much it could still lose is the interval's lower end, which the
  table keeps.

The training of the networks lives with the chapter's stages (:mod:`galaxysd.stages.s05_quality`),
since the classifier loop is :mod:`galaxysd.classify`'s and imports do not flow back to here.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from galaxysd.errors import ParameterError
from galaxysd.evaluation.judges import JUDGE_FEATURES
from galaxysd.evaluation.probe import balanced_accuracy, bootstrap_balanced_accuracy

#: Fewest held-out galaxies with (and without) a feature for a verdict on it.
MIN_HELD_OUT = 10
#: Confidence level of the intervals (one sigma).
CONFIDENCE = 0.68
#: The verdict words.
AS_GOOD, WORSE, TOO_FEW = "as good", "worse", "too few to tell"
#: Columns of :func:`compare_judges`'s table.
COLUMNS = ("n_tagged_test", "head", "head_low", "head_high", "network", "network_low", "network_high",
           "difference", "difference_low", "difference_high", "verdict")


def resolve_features(names: Sequence[str]) -> list[str]:
    """The judged features a check asks for: tag phrases of :data:`JUDGE_FEATURES`, ``["all"]`` for all 11.

    Raises
    ------
    ParameterError
        If a name is not a judged feature, naming it and the valid ones.

    Examples
    --------
    >>> resolve_features(["spiral galaxy", "ring"])
    ['spiral galaxy', 'ring']
    >>> len(resolve_features(["all"]))
    11
    """
    names = list(names)
    if "all" in names:
        return list(JUDGE_FEATURES)
    unknown = [n for n in names if n not in JUDGE_FEATURES]
    if unknown:
        raise ParameterError(f"check_features: {unknown} are not judged features; choose among "
                             f"{list(JUDGE_FEATURES)} or ['all']")
    return list(dict.fromkeys(names))


def training_parts(train: np.ndarray, val_fraction: float, max_train: int = 0,
                   seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Split the judges' training galaxies into a part to fit on and a validation slice.

    The validation slice chooses the network's best epoch and decision threshold; the part to fit
    on is capped at ``max_train`` galaxies drawn at random (0: no cap).

    Parameters
    ----------
    train : array of int
        Row indices of the training part (:func:`galaxysd.evaluation.probe.split_indices`).
    val_fraction : float
        Share of ``train`` kept for validation.
    max_train : int, optional
    seed : int, optional

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        Sorted row indices to fit on and to validate on (disjoint subsets of ``train``).

    Raises
    ------
    ParameterError
        If ``val_fraction`` leaves no galaxy for either part.

    Examples
    --------
    >>> fit, val = training_parts(np.arange(100), 0.2, max_train=50)
    >>> len(fit), len(val)
    (50, 20)
    """
    train = np.asarray(train, int)
    n_val = int(round(val_fraction * len(train)))
    if not 0 < n_val < len(train):
        raise ParameterError(f"check_val_fraction={val_fraction} leaves {n_val} of {len(train)} training "
                             "galaxies for validation; it must leave some for both parts")
    rng = np.random.default_rng([seed, 13])
    order = rng.permutation(train)
    val, fit = order[:n_val], order[n_val:]
    if max_train and len(fit) > max_train:
        fit = rng.choice(fit, max_train, replace=False)
    return np.sort(fit), np.sort(val)


def enough_held_out(y: np.ndarray, min_held_out: int = MIN_HELD_OUT) -> bool:
    """Whether the held-out labels have at least ``min_held_out`` galaxies with and without the feature."""
    y = np.asarray(y, bool)
    return min(int(y.sum()), int((~y).sum())) >= min_held_out


def compare_judges(y, head, network, confidence: float = CONFIDENCE, n_resamples: int = 1000, seed: int = 0,
                   min_held_out: int = MIN_HELD_OUT) -> dict:
    """Balanced accuracy of the head and of the network on the same galaxies, their difference, a verdict.

    Parameters
    ----------
    y : array (n,)
        The held-out galaxies' labels (bool).
    head, network : array (n,) or None
        Each judge's yes/no for the same galaxies; ``None`` for a judge that was not trained.
    confidence : float, optional
        Level of the percentile intervals.
    n_resamples : int, optional
        Paired bootstrap resamples of the held-out galaxies.
    seed : int, optional
    min_held_out : int, optional
        Fewest held-out galaxies with and without the feature for a verdict.

    Returns
    -------
    dict
        The :data:`COLUMNS`: ``head`` and ``network`` balanced accuracies with ``_low`` / ``_high``
        interval ends, ``difference`` (head minus network) with its interval, ``n_tagged_test`` and
        ``verdict`` (NaN numbers where there is no verdict).

    Examples
    --------
    >>> y = np.arange(40) % 2 == 0
    >>> compare_judges(y, y, y)["verdict"]
    'as good'
    """
    y = np.asarray(y, bool)
    row = dict.fromkeys(COLUMNS, np.nan)
    row.update(n_tagged_test=int(y.sum()), verdict=TOO_FEW)
    if head is None or network is None or not enough_held_out(y, min_held_out):
        return row
    head, network = np.asarray(head, bool), np.asarray(network, bool)
    boot = bootstrap_balanced_accuracy(y, [head, network], n_resamples, seed)
    tails = [(1 - confidence) / 2, (1 + confidence) / 2]
    for name, values, sample in (("head", boot[0], head), ("network", boot[1], network),
                                 ("difference", boot[0] - boot[1], None)):
        row[name] = (balanced_accuracy(y, sample) if sample is not None
                     else row["head"] - row["network"])
        row[f"{name}_low"], row[f"{name}_high"] = (float(v) for v in np.quantile(values, tails))
    row["verdict"] = WORSE if row["difference_high"] < 0 else AS_GOOD
    return row


def check_summary(table: pd.DataFrame) -> dict:
    """Counts of a check's verdicts, and how far a head called "as good" may still trail its network.

    Returns
    -------
    dict
        ``n_checked``, ``n_as_good``, ``n_worse``, ``n_too_few`` and ``largest_loss``: minus the lowest
        ``difference_low`` of the features called "as good" (NaN if none; positive: the largest
        shortfall of such a head in balanced accuracy that its interval allows).

    Examples
    --------
    >>> check_summary(pd.DataFrame({"verdict": ["as good", "worse"], "difference_low": [-0.02, -0.1]}))["n_worse"]
    1
    """
    good = table[table["verdict"] == AS_GOOD]
    return {"n_checked": len(table), "n_as_good": len(good),
            "n_worse": int((table["verdict"] == WORSE).sum()), "n_too_few": int((table["verdict"] == TOO_FEW).sum()),
            "largest_loss": float(-good["difference_low"].min()) if len(good) else float("nan")}


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def display_table(table: pd.DataFrame, digits: int = 2) -> pd.DataFrame:
    """The check as the chapter shows it: each balanced accuracy and the difference as ``value (low to high)``.

    Examples
    --------
    >>> row = compare_judges(np.arange(40) % 2 == 0, np.arange(40) % 2 == 0, np.arange(40) % 2 == 0)
    >>> display_table(pd.DataFrame([row], index=["ring"])).loc["ring", "difference (head - network)"]
    '+0.00 (+0.00 to +0.00)'
    """
    def cell(row, name, sign=""):
        if np.isnan(row[name]):
            return "-"
        return f"{row[name]:{sign}.{digits}f} ({row[f'{name}_low']:{sign}.{digits}f} to {row[f'{name}_high']:{sign}.{digits}f})"

    return pd.DataFrame({"held-out galaxies with it": table["n_tagged_test"].astype(int),
                         "linear head": [cell(r, "head") for _, r in table.iterrows()],
                         "ResNet-18": [cell(r, "network") for _, r in table.iterrows()],
                         "difference (head - network)": [cell(r, "difference", "+") for _, r in table.iterrows()],
                         "verdict": table["verdict"]}, index=table.index).rename_axis("feature")


def check_sentences(table: pd.DataFrame | None) -> dict:
    """What the check shows, in words earned by its intervals (the chapter glues them).

    Parameters
    ----------
    table : pandas.DataFrame or None
        The check (:func:`compare_judges` rows indexed by feature); ``None`` or empty when it was not run.

    Returns
    -------
    dict
        ``check_sentence`` (the finding and what it means for consistency) and ``check_short`` (a
        few words for the summary).

    Examples
    --------
    >>> check_sentences(None)["check_short"]
    'not run on this profile'
    """
    if table is None or table.empty:
        return {"check_sentence": "The check was not run on this profile (`check_features` is empty): whether "
                                  "each head judges as well as a ResNet-18 of its own is not known here, and the "
                                  "consistency scores below rest on the heads' held-out accuracies alone.",
                "check_short": "not run on this profile"}
    s = check_summary(table)
    text = (f"Of {_count(s['n_checked'], 'feature')} checked, the linear head is as good as a ResNet-18 of its "
            f"own on {s['n_as_good']} (the 68 % interval of the difference reaches zero or favours the head), "
            f"worse on {s['n_worse']}, and {s['n_too_few']} had too few held-out galaxies to tell.")
    told = table[table["verdict"] != TOO_FEW]
    if len(told) and {"difference_low", "difference_high", "n_tagged_test"} <= set(table.columns):
        half = float(((told["difference_high"] - told["difference_low"]) / 2).max())
        tagged = told["n_tagged_test"].astype(int)
        span = f"{tagged.min():,}" if tagged.min() == tagged.max() else f"{tagged.min():,} to {tagged.max():,}"
        text += (f" The held-out galaxies ({span} carrying each checked feature) bound the difference's interval "
                 f"to ±{half:.2f} at most.")
    if s["n_as_good"] and s["largest_loss"] > 0:
        text += (f" Within their intervals, the heads called as good may still trail their networks by up to "
                 f"{s['largest_loss']:.2f} in balanced accuracy.")
    elif s["n_as_good"]:
        text += " The intervals of the heads called as good lie at or above zero: each is level with or ahead of its network."
    worse = list(table.index[table["verdict"] == WORSE])
    if worse:
        many = len(worse) > 1
        text += (f" The head{'s' if many else ''} for {', '.join(worse)} lose{'' if many else 's'} to a network "
                 f"of {'their' if many else 'its'} own: on prompts that ask about "
                 f"{'these features' if many else 'this feature'}, consistency is judged by a weaker judge than "
                 "the paper's, whose extra mistakes pull the score toward chance; read it with that in mind.")
    elif s["n_as_good"]:
        text += (" On the features checked, one network with linear heads costs the consistency score nothing "
                 "that these intervals can detect.")
    if s["n_too_few"]:
        text += " The features with too few held-out galaxies are unchecked, not cleared."
    short = (f"{s['n_as_good']} of {s['n_checked']} checked heads as good as a ResNet-18 of their own, "
             f"{s['n_worse']} worse, {s['n_too_few']} too few to tell")
    return {"check_sentence": text, "check_short": short}
