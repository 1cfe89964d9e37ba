"""Simulated inspectors: they look up a simulated survey's truth and err at their own rates.

On the smoke and demo profiles nobody looks at the candidates; three simulated inspectors stand in
for the paper's three. Each answers ``unsure`` with probability ``unsure_rate``; otherwise it says
``yes`` to a true D-ETG with probability ``1 - miss_rate`` and to anything else with probability
``false_alarm_rate``. The draws depend only on (seed, inspector, objID), so a galaxy gets the same
verdict whichever candidate list or iteration it appears in, and a run repeated gives the same files.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import pandas as pd

from galaxysd.detg.verdicts import VERDICT_COLUMNS, check_inspector
from galaxysd.errors import ParameterError

#: Time stamped on simulated verdicts: a constant, so that repeated runs write identical files.
SIMULATED_TIME = "2000-01-01T00:00:00+00:00"


@dataclass(frozen=True)
class SimulatedInspector:
    """One simulated inspector and its error rates (probabilities in [0, 1])."""

    name: str
    miss_rate: float = 0.1
    false_alarm_rate: float = 0.05
    unsure_rate: float = 0.05

    def __post_init__(self):
        check_inspector(self.name)
        for field in ("miss_rate", "false_alarm_rate", "unsure_rate"):
            value = getattr(self, field)
            if not 0.0 <= float(value) <= 1.0:
                raise ParameterError(f"inspector {self.name}: {field} must lie in [0, 1], got {value}")

    def _uniforms(self, objids: np.ndarray, seed: int, stream: int) -> np.ndarray:
        # splitmix64's finaliser (pandas.util.hash_array on integers) of objID + a key drawn from
        # (seed, inspector, stream) gives each galaxy its own fixed uniform; numpy's generators cannot
        # be keyed per element without a Python loop
        key = np.uint64(int(hashlib.sha256(f"{seed}/{self.name}/{stream}".encode()).hexdigest()[:16], 16))
        with np.errstate(over="ignore"):
            keyed = np.asarray(objids, dtype=np.int64).view(np.uint64) + key
        hashed = pd.util.hash_array(keyed, categorize=False)
        return (hashed >> np.uint64(11)).astype(np.float64) / float(1 << 53)

    def judge(self, objids, true_ids, seed: int = 0, time: str = SIMULATED_TIME) -> pd.DataFrame:
        """Verdicts on ``objids`` given the true D-ETGs ``true_ids``.

        Returns
        -------
        pandas.DataFrame
            Columns :data:`~galaxysd.detg.verdicts.VERDICT_COLUMNS`, one row per objID.

        Examples
        --------
        >>> SimulatedInspector("sim1").judge(candidates, gz2.true_detg(run), seed=0)  # doctest: +SKIP
        """
        objids = np.asarray(objids, dtype=np.int64)
        truth = np.isin(objids, np.asarray(true_ids, dtype=np.int64))
        unsure = self._uniforms(objids, seed, 0) < self.unsure_rate
        say_yes = np.where(truth, 1.0 - self.miss_rate, self.false_alarm_rate)
        yes = self._uniforms(objids, seed, 1) < say_yes
        verdict = np.where(unsure, "unsure", np.where(yes, "yes", "no"))
        return pd.DataFrame(dict(zip(VERDICT_COLUMNS, (objids, self.name, verdict, time))))


def simulated_panel(rates=((0.10, 0.05, 0.05), (0.15, 0.03, 0.05), (0.05, 0.08, 0.05)),
                    prefix: str = "sim") -> list[SimulatedInspector]:
    """A panel of simulated inspectors named ``sim1, sim2, ...``, one per ``(miss, false alarm, unsure)``.

    Examples
    --------
    >>> panel = simulated_panel()  # three inspectors with different error rates  # doctest: +SKIP
    """
    return [SimulatedInspector(f"{prefix}{i}", *r) for i, r in enumerate(rates, 1)]


def simulated_inspection(objids, true_ids, panel, seed: int = 0) -> pd.DataFrame:
    """Every inspector of ``panel`` judges every objID; returns all verdicts in one table."""
    frames = [inspector.judge(objids, true_ids, seed) for inspector in panel]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=list(VERDICT_COLUMNS))
