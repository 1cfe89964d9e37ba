"""What to generate: a plan of samples (id, prompt, seed, reference galaxy), made the same wherever
and however often it is made.

Every random choice in a plan is derived from the run's seed and the sample's label and index
(:func:`sample_seed`), so two processes, or a rerun after an interruption, agree on every sample
without sharing any state. :mod:`galaxysd.diffusion.batch` generates a plan's images to disk.
"""

from __future__ import annotations

import re
import zlib
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from galaxysd.diffusion.prompts import parse_weighted_prompt
from galaxysd.errors import ParameterError


PLAN_COLUMNS = ("sample_id", "label", "prompt", "index", "seed", "reference_id")


def _label_key(label: str) -> int:
    return zlib.crc32(str(label).encode())


def sample_seed(seed: int, label: str, index: int) -> int:
    """The seed of one sample, derived from the run seed, its label and its index (a 31-bit int)."""
    state = np.random.SeedSequence([int(seed), _label_key(label), int(index)]).generate_state(1)[0]
    return int(state) & 0x7FFFFFFF


def _safe(label: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", str(label)).strip("_") or "sample"


def plan_samples(prompts: Mapping[str, str], n_per_prompt: int, seed: int,
                 references: Sequence[int] | Mapping[str, Sequence[int]] | None = None,
                 same_draws_for_every_prompt: bool = False) -> pd.DataFrame:
    """Every sample to generate: id, prompt, seed and (for image-to-image) the reference drawn.

    Parameters
    ----------
    prompts : mapping
        Label (e.g. a Table 1 letter) -> weighted prompt.
    n_per_prompt : int
        Images per prompt.
    seed : int
        Run seed; each sample's seed and reference draw derive from it, its label and its index.
    references : sequence of int or mapping, optional
        Pool of reference ids (objids) to draw from uniformly, or one pool per label. ``None``: no
        references (text-to-image).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`PLAN_COLUMNS`; ``reference_id`` is -1 without references.

    Raises
    ------
    ParameterError
        If ``n_per_prompt`` is negative or a reference pool is empty.

    Examples
    --------
    >>> plan = plan_samples({"A": "sdss, cigar-shaped galaxy"}, 3, seed=0, references=[11, 12, 13])
    >>> list(plan.sample_id)
    ['A-0000', 'A-0001', 'A-0002']
    """
    if n_per_prompt < 0:
        raise ParameterError(f"plan_samples: n_per_prompt must be >= 0, got {n_per_prompt}")
    rows = []
    for label, prompt in prompts.items():
        parse_weighted_prompt(prompt)  # fail early on a malformed prompt
        pool = references.get(label) if isinstance(references, Mapping) else references
        if pool is not None and len(pool) == 0:
            raise ParameterError(f"plan_samples: the reference pool of prompt {label!r} is empty")
        key = "" if same_draws_for_every_prompt else label
        for index in range(n_per_prompt):
            reference = -1
            if pool is not None:
                rng = np.random.default_rng([int(seed), _label_key(key), index, 1])
                reference = int(pool[int(rng.integers(len(pool)))])
            rows.append((f"{_safe(label)}-{index:04d}", str(label), prompt, index,
                         sample_seed(seed, key, index), reference))
    plan = pd.DataFrame(rows, columns=list(PLAN_COLUMNS))
    if plan["sample_id"].duplicated().any():  # labels that differ only in characters a file name drops
        raise ParameterError("plan_samples: two labels map to the same file name; use simpler labels")
    return plan


