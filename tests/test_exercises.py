"""Every chapter has two to four exercises, each with a gated solution; the helpers the solutions call."""

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from galaxysd import book, exercises, gz2
from galaxysd.errors import ParameterError

ROOT = Path(book.__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.py"))


def exercise_cells(path):
    """(labels of the exercises, labels of the solutions, solution code cells) of one notebook."""
    nb = book.read_notebook(path)
    exercise_labels, solution_labels, code = [], [], []
    open_label = None
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            found = re.search(r"```\{exercise\}[^\n]*\n:label: (\S+)", cell.source)
            if found:
                exercise_labels.append(found.group(1))
            start = re.search(r"```\{solution-start\} (\S+)\n:class: dropdown", cell.source)
            if start:
                assert open_label is None, f"{path.name}: solution {start.group(1)} opens inside {open_label}"
                open_label = start.group(1)
                solution_labels.append(open_label)
            if "```{solution-end}" in cell.source:
                assert open_label is not None, f"{path.name}: a solution-end without its start"
                open_label = None
        elif "solution" in cell.metadata.get("tags", []):
            assert open_label is not None, f"{path.name}: a solution cell outside solution-start/-end"
            code.append(cell.source)
    assert open_label is None, f"{path.name}: solution {open_label} is never closed"
    return exercise_labels, solution_labels, code


def test_there_are_eight_chapters():
    assert [p.stem[:2] for p in NOTEBOOKS] == [f"{i:02d}" for i in range(1, 9)]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_chapter_has_two_to_four_exercises_each_with_a_solution(path):
    labels, solutions, code = exercise_cells(path)
    assert 2 <= len(labels) <= 4, f"{path.name}: {len(labels)} exercises"
    assert labels == solutions, f"{path.name}: exercises {labels} and solutions {solutions} differ"
    assert all(label.startswith(f"ex-{path.stem[:2]}-") for label in labels), labels
    assert len(code) >= len(labels)
    for source in code:
        assert source.startswith("### BEGIN SOLUTION\n") and source.rstrip().endswith("### END SOLUTION"), source[:80]


def test_exercise_labels_are_unique_across_the_book():
    labels = [label for path in NOTEBOOKS for label in exercise_cells(path)[0]]
    assert len(labels) == len(set(labels))


def test_scratch_dir_stays_inside_the_run_folder(tmp_path):
    folder = exercises.scratch_dir(tmp_path, "ex-02-short")
    assert folder == tmp_path / "exercises" / "ex-02-short" and folder.is_dir()
    for bad in ("", "../02_finetune", "a/b", "x y"):
        with pytest.raises(ParameterError, match="exercise label"):
            exercises.scratch_dir(tmp_path, bad)


def test_table1_by_threshold_counts_fall_as_the_threshold_rises(tmp_path):
    files = gz2.simulate_survey(tmp_path / "survey", n_galaxies=300, image_size=16, seed=0, progress=False)
    table = exercises.table1_by_threshold(gz2.read_hart16(files.hart16), [0.5, 0.8, 0.95])
    assert list(table.index) == [*gz2.TABLE1_TAGS, "any tag"]
    assert list(table.columns) == ["min_debiased=0.5", "min_debiased=0.8", "min_debiased=0.95"]
    assert (table.diff(axis=1).iloc[:, 1:] <= 0).all().all()
    assert table.loc["any tag"].iloc[0] > table.loc["any tag"].iloc[-1]
    labelled = gz2.label_catalog(gz2.read_hart16(files.hart16), min_debiased=0.8)
    assert table.loc["any tag", "min_debiased=0.8"] == int((labelled.n_tags > 0).sum())
    with pytest.raises(ParameterError, match="between 0 and 1"):
        exercises.table1_by_threshold(gz2.read_hart16(files.hart16), [1.2])


def test_image_change_measures_each_row_against_the_first():
    rows = {1.0: np.zeros((2, 4, 4, 3), np.uint8), 1.5: np.full((2, 4, 4, 3), 10, np.uint8),
            2.0: np.full((2, 4, 4, 3), 255, np.uint8)}
    assert exercises.image_change(rows).tolist() == [0.0, 10.0, 255.0]
    with pytest.raises(ParameterError, match="shape"):
        exercises.image_change({1.0: np.zeros((2, 4, 4, 3)), 2.0: np.zeros((3, 4, 4, 3))})


def test_neighbour_agreement_tells_clusters_from_noise():
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(3, 8)) * 10
    classes = np.repeat(["a", "b", "c"], 30)
    clustered = centres[np.repeat(np.arange(3), 30)] + rng.normal(size=(90, 8))
    assert exercises.neighbour_agreement(clustered, classes, k=5) > 0.95
    assert exercises.neighbour_agreement(rng.normal(size=(90, 8)), classes, k=5) < 0.6
    with pytest.raises(ParameterError, match="one class per vector"):
        exercises.neighbour_agreement(clustered, classes[:10])


def test_metric_change_orders_prompts_by_their_change():
    frame = pd.DataFrame({"condition": list("AABBCC"), "step": [10, 20] * 3,
                          "realism": [0.1, 0.5, 0.4, 0.2, 0.3, 0.3]})
    table = exercises.metric_change(frame, "realism")
    assert list(table.index) == ["A", "C", "B"] and list(table.columns) == ["step 10", "step 20", "change"]
    assert table.loc["B", "change"] == pytest.approx(-0.2)
    with pytest.raises(ParameterError, match="no column"):
        exercises.metric_change(frame, "nonsense")


def test_score_table_puts_runs_side_by_side():
    def scores(value):
        return pd.DataFrame({"task": "spiral", "against": ["label", "label", "truth"], "method": "augmented",
                             "multiple": 1.0, "score": ["f1", "purity", "f1"], "value": value, "low": 0.0,
                             "high": 1.0})
    table = exercises.score_table({"one": scores(0.5), "two": scores(0.7)}, "f1")
    assert table["run"].tolist() == ["one", "two"] and table["value"].tolist() == [0.5, 0.7]
    with pytest.raises(ParameterError, match="no 'recall' scores"):
        exercises.score_table({"one": scores(0.5)}, "recall")
