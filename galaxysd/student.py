"""The student edition: the notebooks and the book with every exercise's solution removed.

The instructor's book shows each solution in a collapsed dropdown (``sphinx-exercise``'s
``solution-start`` / ``solution-end``), and the notebooks hold them; hiding is not enough for
participants, since a downloaded notebook would still hold them. The student edition removes them:

- the markdown cells from a ``{solution-start}`` directive to its ``{solution-end}``, inclusive, and
  every cell between them;
- in any code cell left, the lines from ``### BEGIN SOLUTION`` to ``### END SOLUTION`` become
  ``# YOUR CODE HERE`` / ``raise NotImplementedError()`` (nbgrader's markers, which instructors know),
  and a code cell still tagged ``solution`` is removed.

The exercises stay. :func:`write_student_edition` writes the student notebooks (``.ipynb``, from the
sources in ``notebooks/``) and builds a student book from the executed notebooks of ``book/notebooks/``
(stripped the same way), or from the stripped sources where nothing has been executed yet.

Examples
--------
::

    python -m galaxysd student --out student
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

from galaxysd.cache import atomic_write_text
from galaxysd.errors import GalaxySDError

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
#: What a solution block becomes in a student's code cell (nbgrader's text).
PLACEHOLDER = ("# YOUR CODE HERE", "raise NotImplementedError()")
SOLUTION_TAG = "solution"
_START = re.compile(r"\{solution-start\}")
_END = re.compile(r"\{solution-end\}")
_BLOCK = re.compile(rf"^(?P<indent>[ \t]*){re.escape(BEGIN)}[^\n]*\n.*?^[ \t]*{re.escape(END)}[^\n]*(\n|$)",
                    re.MULTILINE | re.DOTALL)


class SolutionError(GalaxySDError):
    """A notebook's solution markers do not pair up, so its solutions cannot be removed safely."""


def _placeholder(match: re.Match) -> str:
    indent = match.group("indent")
    return "".join(f"{indent}{line}\n" for line in PLACEHOLDER)


def strip_solutions(nb, name: str = "notebook"):
    """Remove every solution from a notebook (in place) and return it.

    Parameters
    ----------
    nb : nbformat.NotebookNode
        The notebook, executed or not.
    name : str, optional
        Its name, for error messages.

    Returns
    -------
    nbformat.NotebookNode
        ``nb`` without solutions.

    Raises
    ------
    SolutionError
        A ``{solution-start}`` without its ``{solution-end}`` (or the reverse), or a ``### BEGIN
        SOLUTION`` without its ``### END SOLUTION``; the message names the notebook and the cell.

    Examples
    --------
    >>> import nbformat
    >>> nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
    ...     "x = 1\\n### BEGIN SOLUTION\\nanswer = 42\\n### END SOLUTION")])
    >>> print(strip_solutions(nb).cells[0].source)
    x = 1
    # YOUR CODE HERE
    raise NotImplementedError()
    """
    kept, inside = [], None
    for index, cell in enumerate(nb.cells):
        source = cell.get("source", "")
        if cell.get("cell_type") == "markdown" and _START.search(source):
            if inside is not None:
                raise SolutionError(f"{name}: cell {index} opens a solution while the one opened in cell "
                                    f"{inside} is still open; close it with a {{solution-end}} cell")
            inside = index
        if inside is None:
            kept.append(cell)
        if cell.get("cell_type") == "markdown" and _END.search(source):
            if inside is None:
                raise SolutionError(f"{name}: cell {index} closes a solution ({{solution-end}}) that no "
                                    "{solution-start} cell opened")
            inside = None
    if inside is not None:
        raise SolutionError(f"{name}: the solution opened in cell {inside} has no {{solution-end}} cell after it")
    result = []
    for index, cell in enumerate(kept):
        if cell.get("cell_type") == "code" and SOLUTION_TAG in cell.get("metadata", {}).get("tags", []):
            continue
        if BEGIN in cell.get("source", "") or END in cell.get("source", ""):
            source = _BLOCK.sub(_placeholder, cell.source)
            if BEGIN in source or END in source:
                raise SolutionError(f"{name}: a code cell holds '{BEGIN}' and '{END}' that do not pair up "
                                    f"(it starts {cell.source.strip().splitlines()[0]!r}); every BEGIN needs "
                                    "its END below it")
            cell.source = source.rstrip("\n")
            if cell.get("cell_type") == "code":
                cell.outputs, cell.execution_count = [], None  # outputs of the solution would give it away
        result.append(cell)
    nb.cells = result
    return nb


def write_student_notebooks(notebooks: str | os.PathLike, out: str | os.PathLike) -> list[Path]:
    """Write ``<out>/<name>.ipynb`` for each ``NN_*.py`` source of ``notebooks``, without solutions.

    Parameters
    ----------
    notebooks : str or path-like
        Folder of jupytext sources (``notebooks/``).
    out : str or path-like
        Folder for the student notebooks (created).

    Returns
    -------
    list of pathlib.Path
        The notebooks written, in chapter order.

    Examples
    --------
    >>> write_student_notebooks("notebooks", "student/notebooks")  # doctest: +SKIP
    """
    import nbformat

    from galaxysd.parameters import discover_notebooks, read_notebook

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, source in discover_notebooks(notebooks).items():
        nb = strip_solutions(read_notebook(source), name)
        written.append(out / f"{name}.ipynb")
        atomic_write_text(written[-1], nbformat.writes(nb))
    return written


def _book_copy(root: Path, target: Path, notebooks: list[Path]) -> None:
    """A copy of the book's sources in ``target`` whose chapter notebooks hold no solution."""
    import nbformat
    import yaml

    from galaxysd.book import book_config

    if target.exists():
        shutil.rmtree(target)
    (target / "book" / "notebooks").mkdir(parents=True)
    config = book_config(root)
    # sphinx-exercise's own switch too, should any solution directive survive
    config.setdefault("sphinx", {}).setdefault("config", {})["hide_solutions"] = True
    config["title"] = f"{config.get('title', 'GalaxySD')} (student edition)"
    (target / "_config.yml").write_text(yaml.safe_dump(config, sort_keys=False))
    for item in ["_toc.yml", "_static", *[p.relative_to(root) for p in (root / "book").glob("*.*")]]:
        src = root / item
        if src.is_dir():
            shutil.copytree(src, target / item)
        elif src.is_file():
            shutil.copy(src, target / item)
    executed = root / "book" / "notebooks"
    for page in sorted(executed.glob("*")) if executed.is_dir() else []:
        if page.is_file() and not page.name.startswith(".") and not page.name.endswith(".failed.ipynb"):
            if page.suffix == ".ipynb":
                nb = strip_solutions(nbformat.read(page, as_version=4), page.stem)
                nbformat.write(nb, target / "book" / "notebooks" / page.name)
            else:
                shutil.copy(page, target / "book" / "notebooks" / page.name)
    for nb_path in notebooks:  # chapters not executed yet: the stripped sources, without outputs
        page = target / "book" / "notebooks" / nb_path.name
        if not page.exists():
            shutil.copy(nb_path, page)


def write_student_edition(out: str | os.PathLike, root: str | os.PathLike | None = None,
                          book: bool = True) -> dict[str, Path]:
    """Write the student notebooks and build the student book.

    Parameters
    ----------
    out : str or path-like
        Folder of the edition: ``notebooks/`` (the ``.ipynb`` files to hand out), ``source/`` (the
        student book's sources) and ``html/`` (the built book).
    root : str or path-like, optional
        The project (default: this checkout).
    book : bool, optional
        Also build the student book (Jupyter Book 1; about half a minute).

    Returns
    -------
    dict of str to pathlib.Path
        ``{"notebooks": folder, "html": index.html}`` (``html`` only when the book is built).

    Raises
    ------
    SolutionError
        A notebook's solution markers do not pair up.

    Examples
    --------
    >>> write_student_edition("student")  # doctest: +SKIP
    """
    from galaxysd.book import build_book
    from galaxysd.paths import project_root

    base = Path(root) if root is not None else project_root()
    out = Path(out).resolve()
    notebooks = write_student_notebooks(base / "notebooks", out / "notebooks")
    result = {"notebooks": out / "notebooks"}
    if book:
        source = out / "source"
        _book_copy(base, source, notebooks)
        index = build_book(source)
        html = out / "html"
        if html.exists():
            shutil.rmtree(html)
        shutil.copytree(index.parent, html)
        result["html"] = html / index.name
    chapters = [*out.glob("notebooks/*.ipynb"), *out.glob("source/book/notebooks/*.ipynb"),
                *out.glob("html/book/notebooks/*.html"), *out.glob("html/_sources/book/notebooks/*")]
    leftovers = solution_leftovers(chapters)
    if leftovers:
        raise SolutionError(f"solution text is left in the student edition: {', '.join(map(str, leftovers))}; "
                            f"check the solution markers of those notebooks")
    return result


def solution_leftovers(files) -> list[Path]:
    """The files (notebooks, HTML pages of chapters) that still hold a solution marker or directive.

    Examples
    --------
    >>> solution_leftovers(Path("student/notebooks").glob("*.ipynb"))  # doctest: +SKIP
    []
    """
    markers = (BEGIN, END, "solution-start", "solution-end", 'class="solution')
    return [Path(p) for p in sorted(files)
            if Path(p).is_file() and any(m in Path(p).read_text(errors="replace") for m in markers)]
