"""Wall time of notebook ``06_classification`` from an empty stage and then cached (issue 13's budget:
at most 10 minutes on 2 CPU cores from empty, given 01-03 done; under 30 s cached).

    python benchmarks/classification.py --run-dir runs/demo          # demo profile, 01-03 done there

Deletes ``<run-dir>/06_classification`` first (unless ``--keep``), runs the notebook twice through the
book's runner, and prints both wall times, each stage's own seconds and the machine's load average
(the development machine is shared: a busy machine makes every figure slower), and the CPU seconds
the runner's processes used, which a busy machine inflates less than the wall time.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _child_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_once(profile: str, run_dir: Path, out: Path, extra: list[str]) -> tuple[float, float]:
    """Wall seconds and CPU seconds (the runner, its kernel and their children) of one run."""
    cmd = [sys.executable, "-m", "galaxysd", "run", "--profile", profile, "--only", "06_classification",
           "--run-dir", str(run_dir), "--figures-dir", str(out / "figures"), "--output-dir", str(out / "nb"),
           "--no-progress", "--force", *extra]  # force: the cached pass executes on loaded stages
    began, cpu = time.perf_counter(), _child_cpu()
    subprocess.run(cmd, check=True)
    return time.perf_counter() - began, _child_cpu() - cpu


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--run-dir", required=True, help="run folder where 01_data, 02_finetune, 03_generate are done")
    parser.add_argument("--profile", default="demo")
    parser.add_argument("--keep", action="store_true", help="keep an existing 06_classification folder")
    parser.add_argument("--set", action="append", default=[], help="parameter overrides passed to the runner")
    args = parser.parse_args(argv)
    from galaxysd.stages.s06_classification import STAGE, stage_seconds

    run_dir = Path(args.run_dir).resolve()
    if not args.keep:
        shutil.rmtree(run_dir / STAGE, ignore_errors=True)
    extra = [x for item in args.set for x in ("--set", item)]
    with tempfile.TemporaryDirectory() as tmp:
        load_before = os.getloadavg()
        first = run_once(args.profile, run_dir, Path(tmp), extra)
        load_after = os.getloadavg()
        second = run_once(args.profile, run_dir, Path(tmp), extra)
    print(f"06_classification ({args.profile}): from empty {first[0]:.0f} s wall ({first[0] / 60:.1f} min), "
          f"{first[1]:.0f} CPU s; cached {second[0]:.0f} s wall, {second[1]:.0f} CPU s")
    print("load average (1, 5, 15 min) before: " + ", ".join(f"{x:.1f}" for x in load_before)
          + "; after: " + ", ".join(f"{x:.1f}" for x in load_after))
    for name, seconds in stage_seconds(run_dir).items():
        print(f"  {name}: {seconds} s")


if __name__ == "__main__":
    main()
