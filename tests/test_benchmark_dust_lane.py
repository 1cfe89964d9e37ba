"""The dust-lane benchmark measures a run folder's simulated truth without writing into it."""

import importlib.util
from pathlib import Path

import numpy as np

from galaxysd.paths import run_paths
from galaxysd.stages import s01_data as s01

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "dust_lane.py"


def test_the_benchmark_measures_the_truths_groups_and_leaves_the_run_folder_alone(tmp_path):
    spec = importlib.util.spec_from_file_location("dust_lane", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    paths = run_paths("smoke", tmp_path / "runs", tmp_path / "figures", tmp_path / "data")
    survey = s01.survey_stage(paths, n_galaxies=400, image_size=32, seed=2, progress=False)
    s01.labels_stage(paths, survey)
    before = sorted(p.relative_to(paths.run) for p in paths.run.rglob("*"))
    table, said = module.measure(paths.run, 20, 32, 0)
    assert {"D-ETG", "dusty disk", "clean early type"} <= set(table.index)
    assert table.loc["clean early type", "n"] == 20
    assert np.isclose(table.loc["clean early type", "AUC against clean"], 0.5)
    assert "no generated D-ETGs" in said and "against clean early types" in said
    assert sorted(p.relative_to(paths.run) for p in paths.run.rglob("*")) == before
