"""Time the D-ETG search's bookkeeping at the paper's scale, with a classifier that costs nothing.

Prints seconds for: scoring 239,695 galaxies through the manifest of score parts (trivial scorer, so
this is the overhead the manifest adds to the classifier's own time), matching 4,000 controls to 872
D-ETGs in a pool of 60,000 early types, a 1-sigma bootstrap CDF band of 4,000 values, and two-of-three
voting on 8,184 candidates.

    python benchmarks/detg_search.py [--work DIR]
"""

from __future__ import annotations

import argparse
import tempfile
import time

import numpy as np
import pandas as pd

from galaxysd import detg


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", default=None, help="folder for the score parts (default: a temporary one)")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    ids = 587722981741363000 + rng.choice(10 ** 12, 239_695, replace=False).astype(np.int64)
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        detg.score_survey(ids, lambda b: (b % 1000) / 1000.0, args.work or tmp, batch_size=1024, progress=False)
        print(f"scoring manifest, 239,695 galaxies in batches of 1,024: {time.perf_counter() - t0:.1f} s")
        t0 = time.perf_counter()
        detg.score_survey(ids, lambda b: (b % 1000) / 1000.0, args.work or tmp, batch_size=1024, progress=False)
        print(f"  the same call again (every part on disk, joined): {time.perf_counter() - t0:.1f} s")
    targets = pd.DataFrame({"objid": np.arange(872), "z": rng.normal(0.08, 0.03, 872),
                            "logmstar": rng.normal(10.9, 0.3, 872)})
    pool = pd.DataFrame({"objid": np.arange(10 ** 6, 10 ** 6 + 60_000), "z": rng.uniform(0.01, 0.25, 60_000),
                         "logmstar": rng.normal(10.7, 0.5, 60_000)})
    t0 = time.perf_counter()
    match = detg.match_control(targets, pool, n_control=4000, seed=0)
    print(f"control matching, 4,000 of 60,000 for 872 targets: {time.perf_counter() - t0:.1f} s "
          f"(KS p: z {match.ks.loc['z', 'p_value']:.2f}, mass {match.ks.loc['logmstar', 'p_value']:.2f})")
    t0 = time.perf_counter()
    detg.cdf_band(rng.normal(size=4000), n_resamples=1000, seed=0)
    print(f"1-sigma CDF band, 4,000 values, 1,000 resamples, 200 grid points: {time.perf_counter() - t0:.1f} s")
    cand = ids[:8184]
    panel = detg.simulated_panel()
    t0 = time.perf_counter()
    verdicts = detg.simulated_inspection(cand, cand[::3], panel, seed=0)
    detg.majority(detg.validate_verdicts(verdicts, candidates=cand), candidates=cand)
    print(f"three simulated inspectors and two-of-three voting on 8,184 candidates: {time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main()
