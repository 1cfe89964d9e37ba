"""Time chapters 07 and 08 together, from empty stages and again cached (issue 14's 9-minute budget).

Copies a run folder in which 01-03 are done, removes the 07/08 stage folders of the copy, runs both
notebooks through the runner twice and prints the wall time of each pass.

    python benchmarks/detg_chapters.py --from runs/demo [--profile demo] [--work /tmp/detg_bench]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path


def run_once(profile: str, run_dir: Path, work: Path) -> float:
    cmd = [sys.executable, "-m", "galaxysd", "run", "--profile", profile, "--only", "07_detg_experiment",
           "08_detg_catalog", "--run-dir", str(run_dir), "--figures-dir", str(work / "figures"),
           "--output-dir", str(work / "notebooks"), "--no-progress",
           "--force"]  # the cached pass executes both notebooks on loaded stages rather than reusing them
    began = time.perf_counter()
    subprocess.run(cmd, check=True, env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])})
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--from", dest="source", required=True, help="run folder with 01-03 done")
    parser.add_argument("--profile", default="demo")
    parser.add_argument("--work", default="/tmp/detg_bench", help="scratch folder (replaced)")
    args = parser.parse_args()
    work = Path(args.work)
    if work.exists():
        shutil.rmtree(work)
    run_dir = work / "runs"
    shutil.copytree(args.source, run_dir, symlinks=True)
    for stage in ("07_detg_experiment", "08_detg_catalog", "08_detg_catalog_verdicts"):
        shutil.rmtree(run_dir / stage, ignore_errors=True)
    empty = run_once(args.profile, run_dir, work)
    print(f"07 + 08 on {args.profile}, empty stages: {empty:.0f} s ({empty / 60:.1f} min)")
    cached = run_once(args.profile, run_dir, work)
    print(f"07 + 08 on {args.profile}, every stage cached: {cached:.0f} s")


if __name__ == "__main__":
    main()
