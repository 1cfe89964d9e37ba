"""The notebook runner: checks before running, precedence of values, failures, and the book pages."""

import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from galaxysd import book
from galaxysd.errors import NotebookExecutionError, ParameterError

HEADER = "# %% [markdown]\n# # {title}\n\n"
PARAMETERS = '''# %% tags=["parameters"]
profile = "demo"  # profile name
run_dir = ""  # stage outputs
figures_dir = ""  # figures
data_dir = ""  # data
seed = 0  # random seed
scale = 1.5  # a float knob (unitless)
label = "a"  # a string knob
steps = [1, 2]  # a list knob
'''
RECORD = '''
# %%
import json, pathlib
pathlib.Path(run_dir, "{name}.json").write_text(json.dumps(
    dict(profile=profile, seed=seed, scale=scale, label=label, steps=steps)))
'''


def write_project(root: Path, failing: bool = False) -> Path:
    """A project with two tiny notebooks and a profile folder, in the real layout."""
    (root / "notebooks").mkdir(parents=True)
    for name in ("01_first", "02_second"):
        body = HEADER.format(title=name) + PARAMETERS + RECORD.format(name=name)
        if failing and name == "02_second":
            body += "\n# %%\nvalue = 1 / 0\n"
        (root / "notebooks" / f"{name}.py").write_text(body)
    profiles = root / "profiles"
    profiles.mkdir()
    (profiles / "tiny.yaml").write_text(
        "description: a test profile\nnotebooks:\n  01_first: {seed: 7, scale: 2.5}\n  02_second: {}\n")
    return profiles


@pytest.fixture
def project(tmp_path):
    profiles = write_project(tmp_path / "project")
    return tmp_path / "project", profiles


def test_declared_parameters_come_with_defaults_and_comments(project):
    root, _ = project
    declared = book.declared_parameters(root / "notebooks" / "01_first.py")
    assert list(declared) == ["profile", "run_dir", "figures_dir", "data_dir", "seed", "scale", "label",
                              "steps"]
    assert declared["scale"].default == 1.5
    assert declared["scale"].comment == "a float knob (unitless)"
    assert declared["steps"].default == [1, 2]


def test_unknown_profile_is_rejected_with_the_available_ones(project):
    root, profiles = project
    with pytest.raises(ParameterError, match=r"unknown profile 'nope'.*tiny"):
        book.plan_run("nope", root=root, profiles_dir=profiles)


def test_unknown_notebook_is_rejected_with_the_available_ones(project):
    root, profiles = project
    with pytest.raises(ParameterError, match=r"unknown notebook '09_missing'.*01_first, 02_second"):
        book.plan_run("tiny", only=["09_missing"], root=root, profiles_dir=profiles)
    with pytest.raises(ParameterError, match="unknown notebook '07_x'"):
        book.plan_run("tiny", overrides=["07_x.seed=1"], root=root, profiles_dir=profiles)


def test_unknown_parameter_is_rejected_listing_the_declared_ones(project):
    root, profiles = project
    with pytest.raises(ParameterError, match=r"has no parameter 'guidance'.*seed, scale, label, steps"):
        book.plan_run("tiny", overrides=["01_first.guidance=3"], root=root, profiles_dir=profiles)


def test_unknown_parameter_in_a_profile_is_rejected(project):
    root, profiles = project
    (profiles / "bad.yaml").write_text("notebooks:\n  02_second: {sede: 3}\n")
    with pytest.raises(ParameterError, match=r"profile 'bad'.*no parameter 'sede'"):
        book.plan_run("bad", root=root, profiles_dir=profiles)


@pytest.mark.parametrize("override, expected", [
    ("01_first.seed=1.5", "expects int"),
    ("01_first.seed=true", "expects int"),
    ("01_first.scale=abc", "expects float"),
    ("01_first.label=[3, 4]", "expects str"),
    ("01_first.steps=4", "expects list"),
])
def test_wrong_type_is_rejected_before_running(project, override, expected):
    root, profiles = project
    with pytest.raises(ParameterError, match=expected):
        book.plan_run("tiny", overrides=[override], root=root, profiles_dir=profiles)


def test_int_is_accepted_for_a_float_parameter(project):
    root, profiles = project
    plan, = book.plan_run("tiny", only=["01"], overrides=["01_first.scale=3"], root=root,
                          profiles_dir=profiles)
    assert plan.parameters["scale"] == 3.0 and isinstance(plan.parameters["scale"], float)


@pytest.mark.parametrize("typed, expected", [("no", "no"), ("off", "off"), ("3", "3"), ("1.0", "1.0"),
                                             ("null", "null"), ('"yes"', "yes")])
def test_a_string_parameter_takes_the_text_typed_even_where_yaml_reads_something_else(project, typed, expected):
    root, profiles = project
    plan, = book.plan_run("tiny", only=["01"], overrides=[f"01_first.label={typed}"], root=root,
                          profiles_dir=profiles)
    assert plan.parameters["label"] == expected


def test_a_float_parameter_takes_an_exponent_yaml_leaves_as_text(project):
    root, profiles = project
    plan, = book.plan_run("tiny", only=["01"], overrides=["01_first.scale=1e-4"], root=root, profiles_dir=profiles)
    assert plan.parameters["scale"] == 1e-4


def test_a_profile_giving_a_bare_no_to_a_string_parameter_is_told_to_quote_it(project):
    root, profiles = project
    (profiles / "bare.yaml").write_text("notebooks:\n  01_first: {label: no}\n")
    with pytest.raises(ParameterError, match=r"expects str.*got bool False.*quote the word, e.g. label: \"no\""):
        book.plan_run("bare", root=root, profiles_dir=profiles)


def test_the_real_mixed_precision_no_from_the_command_line_is_accepted():
    plan, = book.plan_run("smoke", only=["02_finetune"], overrides=["02_finetune.mixed_precision=no"])
    assert plan.parameters["mixed_precision"] == "no" and plan.origins["mixed_precision"] == "command line"


def test_one_set_of_base_model_tiny_makes_the_paper_profile_a_dry_run_at_the_tiny_models_size():
    from galaxysd.diffusion.model import build_tiny_components

    finetune, generate = book.plan_run("paper", only=["02_finetune", "03_generate"],
                                       overrides=["02_finetune.base_model=tiny"])
    assert finetune.parameters["resolution"] == finetune.declared["resolution"].default
    assert generate.parameters["resolution"] == 0   # generation at the model's own size
    assert "base_model=tiny" in finetune.origins["resolution"] and "424" in finetune.origins["resolution"]
    assert finetune.parameters["max_steps"] == 10000   # every other paper setting stays
    with pytest.raises(ParameterError, match="03_generate.resolution=0"):  # the profile's 424 would not fit
        build_tiny_components(424)
    build_tiny_components(finetune.parameters["resolution"], text_layers=1)


def test_a_resolution_set_beside_base_model_tiny_and_a_profile_made_for_tiny_are_kept():
    finetune, generate = book.plan_run("paper", only=["02", "03"], overrides=[
        "02_finetune.base_model=tiny", "02_finetune.resolution=32", "03_generate.resolution=32"])
    assert finetune.parameters["resolution"] == generate.parameters["resolution"] == 32
    smoke, = book.plan_run("smoke", only=["02"], overrides=["02_finetune.base_model=tiny"])
    assert smoke.parameters["resolution"] == 32 and smoke.origins["resolution"] == "profile 'smoke'"
    paper, = book.plan_run("paper", only=["03"])
    assert paper.parameters["resolution"] == 424


def test_a_notebook_runs_without_the_kernels_warning_about_unencrypted_tcp(project, tmp_path, capfd):
    root, profiles = project
    (tmp_path / "runs").mkdir()
    plan, = book.plan_run("tiny", only=["01"], root=root, profiles_dir=profiles,
                          paths={"run_dir": str(tmp_path / "runs"), "figures_dir": "", "data_dir": ""})
    book.execute_plan(plan, tmp_path / "out", progress=False)
    err = capfd.readouterr().err   # the kernel's own stderr included (it inherits the file descriptor)
    assert json.loads((tmp_path / "runs" / "01_first.json").read_text())["seed"] == 7
    assert "without encryption" not in err and "Kernel is running over TCP" not in err


def test_malformed_override_is_rejected():
    with pytest.raises(ParameterError, match="NOTEBOOK.PARAMETER=VALUE"):
        book.parse_override("seed=3")


def test_precedence_is_default_then_profile_then_command_line(project):
    root, profiles = project
    plan, = book.plan_run("tiny", only=["01_first"], overrides=["01_first.scale=9.0"], root=root,
                          profiles_dir=profiles)
    assert plan.parameters["label"] == "a" and plan.origins["label"] == "notebook default"
    assert plan.parameters["seed"] == 7 and plan.origins["seed"] == "profile 'tiny'"
    assert plan.parameters["scale"] == 9.0 and plan.origins["scale"] == "command line"
    assert plan.parameters["profile"] == "tiny"


def test_nothing_runs_when_a_later_notebook_has_a_bad_parameter(project, tmp_path):
    root, profiles = project
    with pytest.raises(ParameterError):
        book.run_profile("tiny", overrides=["02_second.nope=1"], root=root, profiles_dir=profiles,
                         output_dir=tmp_path / "out", run_dir=str(tmp_path / "runs"), progress=False)
    assert not (tmp_path / "runs" / "01_first.json").exists()


@pytest.mark.slow
def test_run_executes_in_order_with_merged_values_and_renders_settings(project, tmp_path):
    root, profiles = project
    out, runs = tmp_path / "out", tmp_path / "runs"
    written = book.run_profile("tiny", overrides=["02_second.label=cli"], root=root,
                               profiles_dir=profiles, output_dir=out, run_dir=str(runs),
                               figures_dir=str(tmp_path / "fig"), data_dir=str(tmp_path / "data"),
                               progress=False)
    assert [p.name for p in written] == ["01_first.ipynb", "02_second.ipynb"]
    first = json.loads((runs / "01_first.json").read_text())
    second = json.loads((runs / "02_second.json").read_text())
    assert first == {"profile": "tiny", "seed": 7, "scale": 2.5, "label": "a", "steps": [1, 2]}
    assert second["label"] == "cli" and second["seed"] == 0

    nb = nbformat.read(out / "02_second.ipynb", as_version=4)
    injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert len(injected) == 1 and "remove-cell" in injected[0].metadata.tags
    settings = [c for c in nb.cells if book.SETTINGS_TAG in c.metadata.get("tags", [])]
    assert len(settings) == 1
    assert "{dropdown}" in settings[0].source and '`"cli"` | command line' in settings[0].source
    assert "| 02_second |" in (out / "run_times.md").read_text()


@pytest.mark.slow
def test_failing_cell_exits_nonzero_names_the_cell_and_keeps_the_notebook(tmp_path):
    root = tmp_path / "project"
    profiles = write_project(root, failing=True)
    with pytest.raises(NotebookExecutionError, match=r"notebook 02_second failed in code cell .*ZeroDivision"):
        book.run_profile("tiny", root=root, profiles_dir=profiles, output_dir=tmp_path / "out",
                         run_dir=str(tmp_path / "runs"), progress=False)
    kept = tmp_path / "out" / "02_second.failed.ipynb"
    assert kept.is_file() and not (tmp_path / "out" / "02_second.ipynb").exists()
    errors = [o for c in nbformat.read(kept, as_version=4).cells if c.cell_type == "code"
              for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert errors and errors[0]["ename"] == "ZeroDivisionError"
    assert (tmp_path / "out" / "01_first.ipynb").is_file()


def test_command_line_reports_a_bad_parameter_with_exit_code_2(tmp_path):
    result = subprocess.run([sys.executable, "-m", "galaxysd", "run", "--profile", "smoke", "--only",
                             "01_data", "--set", "01_data.no_such_knob=1", "--run-dir",
                             str(tmp_path)], capture_output=True, text=True)
    assert result.returncode == 2
    assert "no parameter 'no_such_knob'" in result.stderr


def test_every_shipped_profile_is_valid_for_every_notebook():
    for profile in book.available_profiles():
        plans = book.plan_run(profile, paths={"run_dir": "/x", "figures_dir": "/y", "data_dir": "/z"})
        assert [p.name for p in plans] == list(book.discover_notebooks(book.notebooks_dir()))


def test_table_of_contents_lists_every_notebook():
    root = Path(book.__file__).resolve().parents[1]
    toc = (root / "_toc.yml").read_text()
    for name in book.discover_notebooks(root / "notebooks"):
        assert f"book/notebooks/{name}" in toc, f"{name} is missing from _toc.yml"


def test_plain_papermill_reads_the_same_parameters_as_the_runner(tmp_path):
    """Readers may run notebooks with plain papermill, whose parser is stricter about comments."""
    import papermill

    for name, source in book.discover_notebooks(book.notebooks_dir()).items():
        converted = tmp_path / f"{name}.ipynb"
        nbformat.write(book.read_notebook(source), converted)
        assert list(papermill.inspect_notebook(str(converted))) == list(book.declared_parameters(source)), name


@pytest.mark.slow
def test_command_line_exits_nonzero_on_a_failing_cell_and_names_it(tmp_path):
    root = tmp_path / "project"
    profiles = write_project(root, failing=True)
    result = subprocess.run([sys.executable, "-m", "galaxysd", "run", "--profile", "tiny", "--root", str(root),
                             "--profiles-dir", str(profiles), "--output-dir", str(tmp_path / "out"),
                             "--run-dir", str(tmp_path / "runs"), "--no-progress"],
                            capture_output=True, text=True)
    assert result.returncode == 1
    assert "notebook 02_second failed in code cell" in result.stderr and "ZeroDivisionError" in result.stderr
    assert (tmp_path / "out" / "02_second.failed.ipynb").is_file()


def test_run_times_page_says_what_loaded_stages_cost_when_they_were_computed(tmp_path):
    from galaxysd.cache import run_stage

    runs, out = tmp_path / "runs", tmp_path / "out"
    run_stage(runs, "01_first/labels", {}, lambda folder: (folder / "a.txt").write_text("a"), verbose=False)
    record_path = runs / "01_first" / "labels" / "stage.json"
    record = json.loads(record_path.read_text())
    record_path.write_text(json.dumps({**record, "seconds": 125.0}))
    # an older record without its time, and the timing.json of a diffusion stage beside another one
    (runs / "02_second" / "old").mkdir(parents=True)
    (runs / "02_second" / "old" / "stage.json").write_text(json.dumps({"name": "02_second/old"}))
    (runs / "02_second" / "train").mkdir()
    (runs / "02_second" / "train" / "stage.json").write_text(json.dumps({"name": "02_second/train"}))
    (runs / "02_second" / "train" / "timing.json").write_text(json.dumps({"seconds": 30.0}))

    assert book.stage_seconds(runs, "01_first") == (125.0, 1, 0)
    assert book.stage_seconds(runs, "02_second") == (30.0, 2, 1)
    assert book.stage_seconds(runs, "03_none") == (0.0, 0, 0)
    book.write_timings(out, "demo", {"01_first": 3.2, "02_second": 65.0, "03_none": 1.0}, run_dir=runs)
    table = (out / "run_times.md").read_text()
    assert "| 01_first | 3 s | 2 min 5 s (1 stage) |" in table
    assert "| 02_second | 1 min 5 s | 30 s (1 stage; 1 more not recorded) |" in table
    assert "| 03_none | 1 s | no cached stages |" in table
    # a later build of one notebook keeps the other rows
    book.write_timings(out, "demo", {"01_first": 4.0}, run_dir=runs)
    assert "| 02_second | 1 min 5 s |" in (out / "run_times.md").read_text()



@pytest.mark.slow
def test_long_stage_progress_shows_in_the_terminal_and_not_in_the_notebook(tmp_path):
    root = tmp_path / "project"
    profiles = write_project(root)
    with open(root / "notebooks" / "02_second.py", "a") as handle:
        handle.write("\n# %%\nfrom galaxysd.progress import progress_bar\n"
                     "for _ in progress_bar(range(30), desc='fine-tune', mininterval=0):\n    pass\n")
    result = subprocess.run([sys.executable, "-m", "galaxysd", "run", "--profile", "tiny", "--root", str(root),
                             "--profiles-dir", str(profiles), "--output-dir", str(tmp_path / "out"),
                             "--run-dir", str(tmp_path / "runs"), "--no-progress"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "[02_second] fine-tune: 100%" in result.stderr and "30/30" in result.stderr
    nb = nbformat.read(tmp_path / "out" / "02_second.ipynb", as_version=4)
    assert "fine-tune" not in json.dumps([c.get("outputs", []) for c in nb.cells if c.cell_type == "code"])
