"""What a training run sees and when it stops: its start weights, each epoch's order, early stopping.

Paired runs
-----------
Runs that differ only in their loss or in extra training images appended after the shared ones (a
:func:`~galaxysd.classify.data.concat` of the real set and generated positives) are *paired*: with the
same seed they start from the same weights, and they see the shared images in the same order. The
order is per image, not per set: each image ``i`` draws a key from ``(seed, e)``'s stream at position
``i`` and an epoch visits images by increasing key (:func:`epoch_order`). Appending images therefore
leaves the keys, and so the relative order, of the shared images unchanged; the appended ones fall
at random places among them (a permutation of the whole set would reshuffle everything as soon as its
length changes). A difference between paired runs is then the method's, not the luck of a draw.
(An epoch drops its last incomplete batch, so a few shared images may sit out an epoch of one run of
a pair and not the other's; the augmentation of a batch is seeded by the batch, so it pairs only
where the batches coincide.)

API
---
- :func:`initial_model`: the network a run starts from (seeded; the same for every method).
- :func:`epoch_order`: an epoch's per-image order, shared out over processes.
- :func:`should_stop`: early stopping on the validation history.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import torch


def epoch_order(n: int, seed: int, epoch: int, world: int = 1, rank: int = 0) -> list[int]:
    """This process's share of epoch ``epoch``'s random order of ``n`` items (equal shares).

    Item ``i`` is visited by its key, the ``i``-th number of the ``(seed, epoch)`` stream, so the first
    ``m`` items keep their relative order whatever ``n >= m`` is (see *Paired runs* above).

    Parameters
    ----------
    n : int
        Items in the training set.
    seed, epoch : int
        The run's seed and the 0-based epoch.
    world, rank : int, optional
        Processes, and this one's index: each takes every ``world``-th item of the order (the order
        cut to a multiple of ``world``).

    Returns
    -------
    list of int

    Examples
    --------
    >>> short, long = epoch_order(5, 0, 0), epoch_order(8, 0, 0)
    >>> [i for i in long if i < 5] == short
    True
    """
    # Generator.random draws the stream in sequence, so the first m keys do not depend on n.
    keys = np.random.default_rng([int(seed), int(epoch)]).random(n)
    order = np.argsort(keys, kind="stable")
    order = order[: len(order) - len(order) % world]
    return order[rank::world].tolist()


def should_stop(val_ap: Sequence[float], patience: int) -> bool:
    """Whether the last ``patience`` epochs all failed to beat the best validation AP before them.

    Parameters
    ----------
    val_ap : sequence of float
        Validation average precision per epoch so far.
    patience : int
        Epochs without a new best before stopping (0: never stop).

    Returns
    -------
    bool

    Examples
    --------
    >>> should_stop([0.5, 0.7, 0.6, 0.65], 2), should_stop([0.5, 0.7, 0.6, 0.75], 2)
    (True, False)
    """
    if patience <= 0 or len(val_ap) <= patience:
        return False
    return int(np.argmax(val_ap)) < len(val_ap) - patience  # argmax: the first best epoch


def initial_model(seed: int, weights: str = "") -> torch.nn.Module:
    """The network a run starts from: ``weights`` (or random weights) seeded by ``seed``.

    Runs with the same seed and weights start from the same parameters, whatever their loss or data.

    Parameters
    ----------
    seed : int
    weights : str, optional
        ResNet-18 weights (safetensors); empty: random.

    Returns
    -------
    torch.nn.Module

    Examples
    --------
    >>> a, b = initial_model(1), initial_model(1)
    >>> all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    True
    """
    from galaxysd.classify.weights import build_model

    torch.manual_seed(seed)
    return build_model(weights)
