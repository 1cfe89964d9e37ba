"""The student edition: notebooks and book without the exercises' solutions (exercise convention of
the book: sphinx-exercise's solution-start/solution-end, nbgrader's ### BEGIN/END SOLUTION)."""

import subprocess
import sys
import textwrap
from pathlib import Path

import jupytext
import nbformat
import pytest

from galaxysd import student

SECRETS = ("SECRET_SOLUTION_CODE", "SECRET_EXPLANATION", "SECRET_OUTPUT", "SECRET_INLINE")

CHAPTER = textwrap.dedent('''\
    # %% [markdown]
    # # A chapter
    #
    # Some story.

    # %% tags=["parameters"]
    seed = 0

    # %%
    x = seed + 1

    # %% [markdown]
    # ```{exercise} Change the seed
    # :label: ex-01-seed
    #
    # Predict what QUESTION_TEXT prints with another seed, then run it.
    # ```

    # %% [markdown]
    # ```{solution-start} ex-01-seed
    # :class: dropdown
    # ```

    # %% tags=["solution"]
    ### BEGIN SOLUTION
    SECRET_SOLUTION_CODE = x * 42
    print(SECRET_SOLUTION_CODE)
    ### END SOLUTION

    # %% [markdown]
    # The answer is SECRET_EXPLANATION.
    #
    # ```{solution-end}
    # ```

    # %%
    def helper(y):
        ### BEGIN SOLUTION
        return y + len("SECRET_INLINE")
        ### END SOLUTION

    # %% [markdown]
    # The end of the chapter.
    ''')


def _chapter():
    return jupytext.reads(CHAPTER, fmt="py:percent")


def test_strip_removes_solution_cells_and_blocks_and_keeps_exercises():
    nb = student.strip_solutions(_chapter(), "01_demo")
    text = nbformat.writes(nb)
    assert not [s for s in SECRETS if s in text]
    assert "QUESTION_TEXT" in text and "{exercise}" in text and "The end of the chapter." in text
    helper = next(c for c in nb.cells if c.source.startswith("def helper"))
    assert helper.source == "def helper(y):\n    # YOUR CODE HERE\n    raise NotImplementedError()"
    assert len(nb.cells) == len(_chapter().cells) - 3


@pytest.mark.parametrize("broken, message", [
    (CHAPTER.replace("# ```{solution-end}", "# ```{note}"), "has no {solution-end}"),
    (CHAPTER.replace("# ```{solution-start} ex-01-seed", "# ```{note}"), "no {solution-start}"),
    (CHAPTER.replace('    ### END SOLUTION\n', ''), "do not pair up"),
])
def test_unpaired_markers_are_refused_with_the_notebook_named(broken, message):
    with pytest.raises(student.SolutionError, match=message) as err:
        student.strip_solutions(jupytext.reads(broken, fmt="py:percent"), "01_demo")
    assert "01_demo" in str(err.value)


@pytest.mark.slow
def test_student_command_writes_notebooks_and_a_book_without_solutions(tmp_path):
    root = tmp_path / "project"
    (root / "notebooks").mkdir(parents=True)
    (root / "book" / "notebooks").mkdir(parents=True)
    (root / "notebooks" / "01_demo.py").write_text(CHAPTER)
    (root / "book" / "intro.md").write_text("# Intro\n\nA tiny book.\n")
    (root / "_toc.yml").write_text("format: jb-book\nroot: book/intro\nchapters:\n  - file: book/notebooks/01_demo\n")
    (root / "_config.yml").write_text(textwrap.dedent('''\
        title: Tiny
        only_build_toc_files: true
        exclude_patterns: ["notebooks/*", "student/*"]
        execute:
          execute_notebooks: "off"
        repository:
          url: ""
        sphinx:
          extra_extensions: [sphinx_exercise]
        '''))
    executed = _chapter()  # as the runner leaves it: the solution ran and printed
    cell = next(c for c in executed.cells if "solution" in c.metadata.get("tags", []))
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="SECRET_OUTPUT\n")]
    nbformat.write(executed, root / "book" / "notebooks" / "01_demo.ipynb")

    out = tmp_path / "student"
    done = subprocess.run([sys.executable, "-m", "galaxysd", "student", "--out", str(out), "--root", str(root)],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    notebook = out / "notebooks" / "01_demo.ipynb"
    page = out / "html" / "book" / "notebooks" / "01_demo.html"
    written = [notebook, page, *sorted((out / "html").rglob("*.ipynb"))]
    assert len(written) >= 3  # the HTML's downloadable source notebook is checked too
    for path in written:
        text = path.read_text()
        assert not [s for s in SECRETS if s in text], path
        assert "QUESTION_TEXT" in text, path
    html = page.read_text()
    assert "Change the seed" in html and "NotImplementedError" in html
    assert 'class="solution' not in html
    assert student.solution_leftovers([notebook, page]) == []
    assert Path(root / "book" / "notebooks" / "01_demo.ipynb").read_text().count("SECRET_OUTPUT") == 1


def test_the_books_own_notebooks_make_student_notebooks_without_solutions(tmp_path):
    root = Path(student.__file__).resolve().parents[1]
    written = student.write_student_notebooks(root / "notebooks", tmp_path)
    assert len(written) == len(list((root / "notebooks").glob("[0-9][0-9]_*.py")))
    assert student.solution_leftovers(written) == []
    for path in written:
        nb = nbformat.read(path, as_version=4)
        assert not [c for c in nb.cells if student.SOLUTION_TAG in c.metadata.get("tags", [])], path.name
