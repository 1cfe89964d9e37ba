"""Time chapters 04_embedding and 05_quality on a profile: from empty stage folders, then cached.

Issue 12 asks that, on the demo profile, 04 + 05 take at most 8 minutes on 2 CPU cores from a run
folder where only 01-03 have run, and under 30 s when every stage is cached. The script copies a run
folder whose 01-03 stages are done (without any 04/05 stage), runs both notebooks through the book's
runner, runs them again, and prints the wall time of each pass and notebook, the seconds each stage
recorded, and the machine's load average (the development machine is shared). Run from the project
root::

    .venv/bin/python benchmarks/evaluation.py --run-dir runs/demo
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
from pathlib import Path


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--run-dir", default="runs/demo", help="run folder with 01_data, 02_finetune, 03_generate done")
    parser.add_argument("--profile", default="demo")
    parser.add_argument("--work", default="", help="scratch folder (default: a temporary one, removed afterwards)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], help="NOTEBOOK.PARAM=VALUE")
    parser.add_argument("--cached", action="store_true",
                        help="copy the 04/05 stages too and time only the cached pass")
    return parser.parse_args(argv)


def stage_seconds(run: Path) -> dict:
    """Seconds each 04/05 stage recorded (``stage.json``), by stage name."""
    out = {}
    for record in sorted(run.glob("0[45]_*/**/stage.json")):
        data = json.loads(record.read_text())
        out[data["name"]] = data.get("seconds")
    return out


def main(argv=None) -> int:
    from galaxysd import book

    args = parse_args(argv)
    scratch = Path(args.work or tempfile.mkdtemp(prefix="gsd-eval-bench-"))
    run = scratch / "run"
    shutil.rmtree(run, ignore_errors=True)
    ignore = None if args.cached else shutil.ignore_patterns("04_embedding", "05_quality")
    shutil.copytree(args.run_dir, run, ignore=ignore, symlinks=True)
    print(f"machine: {os.cpu_count()} cores, load average before {os.getloadavg()}")
    passes = {}
    for name in (("cached",) if args.cached else ("empty", "cached")):
        times = {}
        for notebook in ("04_embedding", "05_quality"):
            began = time.perf_counter()
            # force: time executing the notebook on loaded stages, not reusing the executed copy
            book.run_profile(args.profile, only=[notebook], overrides=args.overrides, output_dir=scratch / "nb",
                             run_dir=str(run), figures_dir=str(scratch / "figures"), progress=False, force=True)
            times[notebook] = time.perf_counter() - began
        passes[name] = times
        print(f"{name}: " + ", ".join(f"{k} {v:.0f} s" for k, v in times.items())
              + f"; total {sum(times.values()):.0f} s; load average {os.getloadavg()}")
    print("stage seconds:", json.dumps(stage_seconds(run)))
    if not args.work:
        shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
