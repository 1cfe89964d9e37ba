"""Reusing an executed notebook: only when nothing it can see has changed."""

from pathlib import Path

import pytest

from galaxysd import book, reuse

NOTEBOOK = '''# %% [markdown]
# # {name}

# %% tags=["parameters"]
profile = "demo"  # profile name
run_dir = ""  # stage outputs
figures_dir = ""  # figures
data_dir = ""  # data
label = "a"  # a string knob

# %%
import pathlib
stage = pathlib.Path(run_dir, "{name}")
stage.mkdir(parents=True, exist_ok=True)
(stage / "out.txt").write_text(label)
with open(pathlib.Path(run_dir, "executions.log"), "a") as log:
    log.write("{name}\\n")
pathlib.Path(figures_dir).mkdir(parents=True, exist_ok=True)
pathlib.Path(figures_dir, "fig_{name}.png").write_bytes(b"png")
'''


@pytest.fixture
def project(tmp_path):
    root = tmp_path / "project"
    (root / "notebooks").mkdir(parents=True)
    for name in ("01_first", "02_second"):
        (root / "notebooks" / f"{name}.py").write_text(NOTEBOOK.format(name=name))
    profiles = root / "profiles"
    profiles.mkdir()
    (profiles / "tiny.yaml").write_text("description: a test profile\nnotebooks:\n  01_first: {}\n  02_second: {}\n")
    runs, figures = tmp_path / "runs", tmp_path / "figures"

    def run(*overrides, force=False):
        log = runs / "executions.log"
        before = log.read_text().split() if log.is_file() else []
        book.run_profile("tiny", overrides=list(overrides), root=root, profiles_dir=profiles,
                         output_dir=tmp_path / "out", run_dir=str(runs), figures_dir=str(figures),
                         data_dir=str(tmp_path / "data"), progress=False, force=force)
        return log.read_text().split()[len(before):]

    return run, runs, figures


@pytest.mark.slow
def test_an_unchanged_notebook_is_reused_and_any_change_it_can_see_runs_it_again(project):
    run, runs, figures = project
    assert run() == ["01_first", "02_second"]
    assert run() == []  # nothing changed: both executed notebooks reused
    assert run("02_second.label=b") == ["02_second"]  # a parameter of the second only
    (runs / "01_first" / "out.txt").write_text("edited")  # a stage of chapter 01 changed
    assert run("02_second.label=b") == ["01_first", "02_second"]
    (figures / "fig_02_second.png").unlink()  # a figure it wrote is gone
    assert run("02_second.label=b") == ["02_second"]
    (runs / "02_second" / "verdicts.csv").write_text("objid,verdict\n")  # a file added to chapter 02 only
    assert run("02_second.label=b") == ["02_second"]
    assert run("02_second.label=b", force=True) == ["01_first", "02_second"]


def test_the_key_covers_earlier_chapters_but_not_later_ones(tmp_path):
    source = tmp_path / "05_quality.py"
    source.write_text("x = 1\n")
    for chapter in ("04_embedding", "05_quality", "06_classification"):
        (tmp_path / "runs" / chapter).mkdir(parents=True)
    key = reuse.notebook_key("05_quality", source, {"seed": 0}, tmp_path / "runs")
    (tmp_path / "runs" / "06_classification" / "later.txt").write_text("later")
    assert reuse.notebook_key("05_quality", source, {"seed": 0}, tmp_path / "runs") == key
    (tmp_path / "runs" / "04_embedding" / "earlier.txt").write_text("earlier")
    assert reuse.notebook_key("05_quality", source, {"seed": 0}, tmp_path / "runs") != key
    changed = reuse.notebook_key("05_quality", source, {"seed": 1}, tmp_path / "runs")
    assert changed != reuse.notebook_key("05_quality", source, {"seed": 0}, tmp_path / "runs")


def test_a_data_folder_outside_the_run_folder_is_part_of_the_key(tmp_path):
    source = tmp_path / "01_data.py"
    source.write_text("x = 1\n")
    data = tmp_path / "data"
    data.mkdir()
    key = reuse.notebook_key("01_data", source, {}, tmp_path / "runs", data)
    (data / "gz2_hart16.csv.gz").write_bytes(b"new table")
    assert reuse.notebook_key("01_data", source, {}, tmp_path / "runs", data) != key


def test_verdict_files_a_parameter_names_outside_the_run_folder_are_part_of_the_key(tmp_path):
    source = tmp_path / "08_detg_catalog.py"
    source.write_text("x = 1\n")
    verdicts, supplied = tmp_path / "verdicts", tmp_path / "released.csv"
    (verdicts / "iter1").mkdir(parents=True)
    (verdicts / "iter1" / "ann.csv").write_text("objid,inspector,verdict,time\n1,ann,yes,2026-12-01\n")
    supplied.write_text("objid,inspector,verdict,time\n")
    params = {"verdict_dir": str(verdicts), "supplied_verdicts": [str(supplied)], "figures_dir": str(tmp_path)}
    key = reuse.notebook_key("08_detg_catalog", source, params, tmp_path / "runs")
    (verdicts / "iter1" / "ann.csv").write_text("objid,inspector,verdict,time\n1,ann,no,2026-12-02\n")
    assert reuse.notebook_key("08_detg_catalog", source, params, tmp_path / "runs") != key
    key = reuse.notebook_key("08_detg_catalog", source, params, tmp_path / "runs")
    supplied.write_text("objid,inspector,verdict,time\n2,bob,yes,2026-12-02\n")
    assert reuse.notebook_key("08_detg_catalog", source, params, tmp_path / "runs") != key


def test_a_record_with_a_different_key_or_no_executed_notebook_is_not_reused(tmp_path):
    (tmp_path / "01_first.ipynb").write_text("{}")
    figure = tmp_path / "fig.png"
    figure.write_bytes(b"png")
    reuse.remember(tmp_path, "01_first", "k1", 3.0, [figure])
    assert reuse.reusable(tmp_path, "01_first", "k1")["seconds"] == 3.0
    assert reuse.reusable(tmp_path, "01_first", "k2") is None
    figure.write_bytes(b"a different png")
    assert reuse.reusable(tmp_path, "01_first", "k1") is None
    (tmp_path / "01_first.ipynb").unlink()
    assert reuse.reusable(tmp_path, "01_first", "k1") is None
