"""Where does the chain from real to generated D-ETGs break? Dust-lane depth of a run's galaxies.

Measures :func:`galaxysd.dustlane.dust_lane` (0 for a smooth galaxy, about 0.3 for a lane that dims
the g band by a third) on whatever the run folder holds, without writing into it:

- from ``01_data`` (a simulated survey): the known D-ETGs, every true D-ETG, dusty discs and clean
  early types of the simulated truth, with each group's ROC AUC against the clean early types
  (:func:`galaxysd.dustlane_report.validation_table`);
- from ``07_detg_experiment/generated``, if present: the generated D-ETGs, with the verdict of
  :func:`galaxysd.dustlane_report.detg_lane_verdict`;
- from ``03_generate/sweep``, if present: each weight of the ``{dust lane:w}`` sweep.

It prints one row per group (n, median depth with its 95 % interval, median reddening, AUC against
clean early types) and the verdict. Run from the project root::

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/dust_lane.py --run-dir runs/demo --n 100
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--run-dir", default="runs/demo", help="profile run folder (01_data at least)")
    parser.add_argument("--n", type=int, default=100, help="galaxies per group of the simulated truth")
    parser.add_argument("--size", type=int, default=64, help="side in pixels every image is resized to")
    parser.add_argument("--seed", type=int, default=0)
    return parser.parse_args(argv)


def survey_images(run_dir) -> pd.DataFrame:
    """The simulated truth with each galaxy's image path (``path``; galaxies with an image only)."""
    from galaxysd import gz2

    files = gz2.survey_of(run_dir)
    truth = gz2.truth_table(run_dir)
    truth = truth[truth["has_image"].astype(str).str.lower() == "true"].copy()
    truth["path"] = [str(Path(files.images) / f"{a}.jpg") for a in truth["asset_id"]]
    return truth[[Path(p).is_file() for p in truth["path"]]]


def measure(run_dir, n: int, size: int, seed: int) -> tuple[pd.DataFrame, str]:
    """The table of groups and the verdict (see the module's description)."""
    from galaxysd import dustlane_report as report
    from galaxysd.diffusion.batch import read_generated
    from galaxysd.dustlane import read_dust_lane_stats

    run_dir = Path(run_dir)
    truth = survey_images(run_dir)
    groups = report.truth_groups(truth, with_image=False)
    groups["known D-ETG"] = truth[truth["known_detg"].astype(str).str.lower() == "true"]
    frames = [report.sample_groups({name: frame}, n, seed)[["path"]].assign(group=name)
              for name, frame in groups.items()]
    generated = run_dir / "07_detg_experiment" / "generated"
    if (generated / "stage.json").is_file():
        frames.append(read_generated(generated)[["path"]].assign(group="generated D-ETG"))
    sweep = run_dir / "03_generate" / "sweep"
    if (sweep / "stage.json").is_file():
        made = read_generated(sweep)
        frames.append(made[["path"]].assign(group=[f"sweep {label}" for label in made["label"]]))
    images = pd.concat(frames, ignore_index=True)
    depths = pd.concat([images, read_dust_lane_stats(images["path"], size)], axis=1)
    table = report.group_table(depths, seed=seed)
    clean = depths.loc[depths["group"] == "clean early type", "lane_depth"]
    table["AUC against clean"] = [report.separation(depths.loc[depths["group"] == g, "lane_depth"], clean,
                                                    seed=seed)["auc"] for g in table.index]
    values = {g: depths.loc[depths["group"] == g, "lane_depth"] for g in table.index}
    said = (report.detg_lane_verdict(values["known D-ETG"], values["generated D-ETG"], clean, seed)
            if "generated D-ETG" in values else "no generated D-ETGs in this run folder (07 has not run)")
    validation = report.validation_sentence(report.validation_table(depths, seed))
    return table, f"{validation}\n{said}"


def main(argv=None) -> None:
    args = parse_args(argv)
    began = time.perf_counter()
    table, said = measure(args.run_dir, args.n, args.size, args.seed)
    with pd.option_context("display.width", 200):
        print(table.round(3).to_string())
    print(said)
    print(f"{time.perf_counter() - began:.0f} s")


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
