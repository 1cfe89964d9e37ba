"""The pages that tell a reader what made the book: data labels, versions, the index of outputs."""

import importlib
import json
import re
from pathlib import Path

import pytest

from galaxysd import book, gz2, outputs, pages
from galaxysd.gz2.catalog import CATALOG_NAME, LABELS_STAGE

ROOT = Path(book.__file__).resolve().parents[1]


def _labels_from(run_dir: Path, survey_root: Path, with_truth: bool) -> None:
    labels = run_dir / LABELS_STAGE
    labels.mkdir(parents=True)
    (labels / CATALOG_NAME).write_text("")
    files = gz2.survey_files(survey_root)
    if with_truth:
        files.truth.parent.mkdir(parents=True)
        files.truth.write_text("objid\n")
    (labels / "survey.json").write_text(json.dumps(files.as_dict()))


def test_a_run_on_a_survey_without_ground_truth_reads_real_data(tmp_path):
    _labels_from(tmp_path / "real_run", tmp_path / "data" / "gz2", with_truth=False)
    _labels_from(tmp_path / "sim_run", tmp_path / "sim_run" / "01_data" / "survey", with_truth=True)
    assert gz2.reads_real_data(tmp_path / "real_run") is True
    assert gz2.reads_real_data(tmp_path / "sim_run") is False
    assert gz2.reads_real_data(tmp_path / "empty_run") is None


def test_settings_box_and_banner_follow_the_data_not_the_profile_name(tmp_path):
    _labels_from(tmp_path / "run", tmp_path / "data" / "gz2", with_truth=False)
    real = pages.reads_real_data({"seed": 0}, tmp_path / "run")  # a notebook after 01_data
    assert real is True
    cell = pages.settings_cell("my-gpu", {"seed": 0}, {"seed": "notebook default"}, real)
    assert "profile **my-gpu** (real data)" in cell.source
    cell = pages.settings_cell("paper", {"real_data": False}, {}, pages.reads_real_data({"real_data": False}))
    assert "(simulated survey)" in cell.source
    banner = pages.write_banner(tmp_path, "my-gpu", "own settings", real).read_text()
    assert "the real Galaxy Zoo 2 data" in banner and "simulated" not in banner


def test_versions_page_names_the_libraries_and_the_commit(tmp_path):
    text = pages.write_versions(tmp_path, ROOT).read_text()
    for name in ("Python", "torch", "diffusers", "transformers", "accelerate", "numpy", "pandas",
                 "jupyter-book"):
        assert f"| {name} |" in text
    if (ROOT / ".git").exists():
        assert re.search(r"commit `[0-9a-f]{40}", text)


def test_every_index_row_names_a_function_that_exists_in_the_file_it_names():
    stems = [o.stem for o in outputs.OUTPUTS]
    assert len(stems) == len(set(stems))
    for o in outputs.OUTPUTS:
        module_name, function = o.function.rsplit(".", 1)
        module = importlib.import_module(module_name)
        assert callable(getattr(module, function)), o.function
        assert Path(module.__file__).resolve() == (ROOT / outputs.source_file(o.function)).resolve()
        assert o.chapter in book.discover_notebooks(ROOT / "notebooks"), o.chapter


@pytest.mark.parametrize("output", [o for o in outputs.OUTPUTS if o.paper], ids=lambda o: o.stem)
def test_paper_figures_and_tables_are_saved_under_their_paper_number(output):
    kind, number = output.paper.split()
    prefix = "fig" if kind == "Figure" else "table"
    assert output.stem.startswith(f"{prefix}{number}_")


# The paper numbers its appendix figures through the whole appendix, not per appendix: A1, A2, B3, D4, E5.
PAPER_APPENDIX_FIGURES = {"A1", "A2", "B3", "D4", "E5"}


def test_appendix_figures_carry_the_papers_numbers_in_index_and_chapters():
    appendix = [o for o in outputs.OUTPUTS if re.fullmatch(r"Figure [A-E]\d+", o.paper)]
    assert {o.paper.split()[1] for o in appendix} <= PAPER_APPENDIX_FIGURES
    assert "Figure D4" in [o.paper for o in appendix]
    for path in (ROOT / "notebooks").glob("*.py"):
        named = set(re.findall(r"(?:Figures?[^.\n]*?\b|fig|fig-)([A-Ea-e]\d+)\b", path.read_text()))
        assert {n.upper() for n in named} <= PAPER_APPENDIX_FIGURES, path.name


def test_index_page_lists_every_output_with_its_files(tmp_path):
    text = pages.write_output_index(tmp_path, "demo").read_text()
    for o in outputs.OUTPUTS:
        assert f"`figures/demo/{o.files[0]}`" in text and f"`{o.function}`" in text


def test_index_page_names_the_one_style_file_and_it_exists(tmp_path):
    from galaxysd import plots

    text = pages.write_output_index(tmp_path, "demo").read_text()
    named = "galaxysd/assets/book.mplstyle"
    assert named in text and (ROOT / named).resolve() == plots.BOOK_STYLE.resolve()


def test_book_links_its_repository_only_when_it_knows_a_real_address(tmp_path, monkeypatch):
    (tmp_path / "_config.yml").write_text((ROOT / "_config.yml").read_text())
    monkeypatch.delenv(book.REPOSITORY_ENV, raising=False)
    config = book.book_config(tmp_path)  # not a git checkout: no address, no buttons
    assert config["repository"]["url"] == "" and config["launch_buttons"] == {}
    assert not config["html"]["use_repository_button"]
    monkeypatch.setenv(book.REPOSITORY_ENV, "https://github.com/someone/galaxysd.git")
    config = book.book_config(tmp_path)
    assert config["repository"]["url"] == "https://github.com/someone/galaxysd"
    assert config["launch_buttons"]["binderhub_url"] and config["html"]["use_issues_button"]
