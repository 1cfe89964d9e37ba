"""The runner executes the exercises' solutions only when asked (``--exercises``), and reuse tells the two apart."""

from pathlib import Path

import nbformat
import pytest

from galaxysd import book, reuse

NOTEBOOK = '''# %% [markdown]
# # {name}

# %% tags=["parameters"]
profile = "demo"  # profile name
run_dir = ""  # stage outputs
figures_dir = ""  # figures
data_dir = ""  # data

# %%
import pathlib
pathlib.Path(run_dir, "executions.log").open("a").write("{name}\\n")

# %% [markdown]
# ```{{exercise}} A question
# :label: ex-{name}
# What is written?
# ```

# %% [markdown]
# ```{{solution-start}} ex-{name}
# :class: dropdown
# ```

# %% tags=["solution"]
### BEGIN SOLUTION
pathlib.Path(run_dir, "solutions.log").open("a").write("{name}\\n")
### END SOLUTION

# %% [markdown]
# ```{{solution-end}}
# ```
'''


def test_papermill_leaves_a_skip_execution_cell_unexecuted(tmp_path):
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("x = 1"),
        nbformat.v4.new_code_cell("raise RuntimeError('executed')", metadata={"tags": ["skip-execution"]}),
        nbformat.v4.new_code_cell("print(x + 1)")])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    source, out = tmp_path / "in.ipynb", tmp_path / "out.ipynb"
    nbformat.write(nb, source)
    import papermill

    papermill.execute_notebook(str(source), str(out), progress_bar=False, kernel_name="python3")
    done = nbformat.read(out, as_version=4)
    assert done.cells[1].outputs == [] and done.cells[1].execution_count is None
    assert done.cells[2].outputs[0]["text"] == "2\n"


def test_solutions_are_gated_and_only_code_cells_tagged():
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("text", metadata={"tags": ["solution"]}),
        nbformat.v4.new_code_cell("1", metadata={"tags": ["solution"]}),
        nbformat.v4.new_code_cell("2")])
    tags = [c.metadata.get("tags", []) for c in book.gate_solutions(nb).cells]
    assert tags == [["solution"], ["solution", book.SKIP_TAG], []]
    assert nb.cells[1].metadata["tags"] == ["solution", book.SKIP_TAG]  # idempotent
    book.gate_solutions(nb)
    assert nb.cells[1].metadata["tags"] == ["solution", book.SKIP_TAG]
    assert book.gate_solutions(nb, exercises=True).cells[1].metadata["tags"] == ["solution"]


def test_the_exercises_flag_is_part_of_the_reuse_key(tmp_path):
    source = tmp_path / "01_first.py"
    source.write_text("x = 1\n")
    key = reuse.notebook_key("01_first", source, {}, tmp_path / "runs")
    assert reuse.notebook_key("01_first", source, {}, tmp_path / "runs", exercises=False) == key
    assert reuse.notebook_key("01_first", source, {}, tmp_path / "runs", exercises=True) != key


@pytest.mark.slow
def test_solutions_run_only_with_exercises_and_reuse_tells_the_runs_apart(tmp_path):
    root = tmp_path / "project"
    (root / "notebooks").mkdir(parents=True)
    (root / "notebooks" / "01_first.py").write_text(NOTEBOOK.format(name="01_first"))
    profiles = root / "profiles"
    profiles.mkdir()
    (profiles / "tiny.yaml").write_text("description: a test profile\nnotebooks:\n  01_first: {}\n")
    runs, out = tmp_path / "runs", tmp_path / "out"

    def run(exercises):
        book.run_profile("tiny", root=root, profiles_dir=profiles, output_dir=out, run_dir=str(runs),
                         figures_dir=str(tmp_path / "figures"), data_dir=str(tmp_path / "data"),
                         progress=False, exercises=exercises)
        logs = [runs / "executions.log", runs / "solutions.log"]
        return [len(p.read_text().split()) if p.is_file() else 0 for p in logs]

    assert run(False) == [1, 0]
    executed = nbformat.read(out / "01_first.ipynb", as_version=4)
    solution = next(c for c in executed.cells if "solution" in c.metadata.get("tags", []))
    assert solution.execution_count is None and book.SKIP_TAG in solution.metadata["tags"]
    assert run(False) == [1, 0]  # reused
    assert run(True) == [2, 1]  # not reused: the solutions must run
    assert run(True) == [2, 1]  # reused
    assert run(False) == [3, 1]
