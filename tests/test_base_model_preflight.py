"""Chapter 02's base model is checked before anything runs, and command-line paths are read from here."""

import json
from pathlib import Path

import pytest

from galaxysd import book
from galaxysd.diffusion.base_model import SD15_HUB_ID, check_base_model
from galaxysd.errors import ParameterError

THREE_WAYS = ("Three ways on", f"base_model={SD15_HUB_ID}", "a local diffusers folder", "base_model=tiny")


def assert_names_the_three_ways(message):
    for words in THREE_WAYS:
        assert words in message, words


def diffusers_folder(folder: Path) -> Path:
    folder.mkdir(parents=True)
    (folder / "model_index.json").write_text(json.dumps({"_class_name": "StableDiffusionPipeline"}))
    return folder


def test_tiny_and_a_local_diffusers_folder_pass(tmp_path):
    assert check_base_model("tiny") == "tiny"
    folder = diffusers_folder(tmp_path / "sd15")
    assert check_base_model(folder) == str(folder.resolve())


def test_a_folder_without_a_model_names_the_folder_and_the_three_ways(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(ParameterError, match="holds no diffusers model") as info:
        check_base_model(tmp_path / "empty")
    assert str(tmp_path / "empty") in str(info.value)
    assert_names_the_three_ways(str(info.value))


def test_a_missing_relative_path_is_named_from_where_the_user_stands(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ParameterError, match=f"there is no folder {tmp_path}/models/sd15") as info:
        check_base_model("./models/sd15")
    assert_names_the_three_ways(str(info.value))


def test_a_hub_model_neither_cached_nor_downloadable_offline_says_what_to_do(tmp_path):
    with pytest.raises(ParameterError, match="not in the Hugging Face cache and downloads are switched off") as info:
        check_base_model(SD15_HUB_ID, offline=True, cache_dir=tmp_path)
    assert_names_the_three_ways(str(info.value))


def test_a_hub_model_in_the_cache_passes_offline(tmp_path):
    # the Hub cache's layout: models--org--name/refs/main names a snapshot holding the files
    repo = tmp_path / ("models--" + SD15_HUB_ID.replace("/", "--"))
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text("0123abcd")
    diffusers_folder(repo / "snapshots" / "0123abcd")
    assert check_base_model(SD15_HUB_ID, offline=True, cache_dir=tmp_path) == SD15_HUB_ID


@pytest.mark.parametrize("value, expected", [
    ("./models/sd15", "{cwd}/models/sd15"),
    ("../sd15", "{parent}/sd15"),
    ("here", "{cwd}/here"),                               # exists in the current folder
    ("/abs/sd15", "/abs/sd15"),
    (SD15_HUB_ID, SD15_HUB_ID),                           # a Hub id that is not a local folder
    ("tiny", "tiny"),                                     # the notebook's default
])
def test_command_line_paths_are_resolved_from_the_current_folder(tmp_path, value, expected):
    (tmp_path / "cwd" / "here").mkdir(parents=True)
    cwd = tmp_path / "cwd"
    got = book.resolve_cli_path("base_model", value, "tiny", cwd=cwd)
    assert got == expected.format(cwd=cwd, parent=tmp_path)


def test_only_path_parameters_are_resolved(tmp_path):
    (tmp_path / "ABC").mkdir()
    assert book.resolve_cli_path("letters", "ABC", "ABCD", cwd=tmp_path) == "ABC"
    assert book.resolve_cli_path("data_dir", "ABC", "", cwd=tmp_path) == str(tmp_path / "ABC")


NOTEBOOK = '''# %% tags=["parameters"]
profile = "demo"  # profile name
run_dir = ""  # stage outputs
figures_dir = ""  # figures
data_dir = ""  # data
base_model = "tiny"  # tiny, a Hub id or a folder
'''


@pytest.fixture
def project(tmp_path):
    (tmp_path / "project" / "notebooks").mkdir(parents=True)
    (tmp_path / "project" / "notebooks" / "02_finetune.py").write_text(NOTEBOOK)
    profiles = tmp_path / "project" / "profiles"
    profiles.mkdir()
    (profiles / "p.yaml").write_text("description: test\nnotebooks:\n  02_finetune: {}\n")
    return tmp_path / "project", profiles


def test_the_runner_hands_the_notebook_an_absolute_base_model_path(project, tmp_path, monkeypatch):
    root, profiles = project
    diffusers_folder(tmp_path / "user" / "models" / "sd15")
    monkeypatch.chdir(tmp_path / "user")
    plan, = book.plan_run("p", overrides=["02_finetune.base_model=models/sd15"], root=root, profiles_dir=profiles)
    assert plan.parameters["base_model"] == str(tmp_path / "user" / "models" / "sd15")
    book.preflight([plan])


def test_a_missing_base_model_stops_the_run_before_any_notebook(project, tmp_path, monkeypatch):
    root, profiles = project
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ParameterError, match="Three ways on"):
        book.run_profile("p", overrides=["02_finetune.base_model=./nowhere"], root=root, profiles_dir=profiles,
                         output_dir=tmp_path / "out", run_dir=str(tmp_path / "runs"), progress=False)
    assert not (tmp_path / "out").exists()
