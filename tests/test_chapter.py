"""A chapter's setup: folders, data label, threads and clock, in one call every notebook makes."""

import re
import time
from pathlib import Path

import torch

from galaxysd import setup_chapter
from galaxysd.paths import run_paths

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def test_the_setup_gives_the_runners_folders_the_data_label_and_a_started_clock(tmp_path):
    before = time.perf_counter()
    paths, label, began = setup_chapter("smoke", tmp_path / "runs", tmp_path / "figures", tmp_path / "data",
                                        real_data=False)
    assert paths == run_paths("smoke", tmp_path / "runs", tmp_path / "figures", tmp_path / "data")
    assert paths.run.is_dir() and paths.figures.is_dir()
    assert label == "smoke profile: simulated survey (not the paper's data)"
    assert before <= began <= time.perf_counter()
    assert setup_chapter("mine", tmp_path / "r", tmp_path / "f", real_data=True).label == "mine profile: real GZ2 data"


def test_without_real_data_given_the_label_follows_what_the_run_read(tmp_path):
    # a run folder without chapter 01's labels: not known yet
    assert setup_chapter("demo", tmp_path / "runs", tmp_path / "figures").label == "demo profile"


def test_the_setup_sets_torchs_threads_only_when_asked(tmp_path):
    threads = torch.get_num_threads()
    try:
        setup_chapter("smoke", tmp_path / "r", tmp_path / "f", real_data=False, num_threads=1)
        assert torch.get_num_threads() == 1
        torch.set_num_threads(2)
        setup_chapter("smoke", tmp_path / "r", tmp_path / "f", real_data=False, num_threads=0)
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(threads)


def test_every_chapter_opens_with_the_one_setup_call_not_its_own_copy():
    for path in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.py")):
        source = path.read_text()
        assert re.search(r"^paths, label, (began|_) = setup_chapter\(profile, run_dir, figures_dir, data_dir",
                         source, re.M), path.name
        assert "run_paths(" not in source and "set_num_threads" not in source, path.name
