"""What a participant clicks: notebooks that open in Colab and Binder, and the install cell they share.

Colab opens ``.ipynb`` files only, and Binder opens files of the repository; the book's chapters are
built from notebooks executed into ``book/notebooks/``, which the repository does not hold. So each
source ``notebooks/NN_name.py`` has a paired ``notebooks/NN_name.ipynb`` in the repository (the same
cells, no outputs), written by :func:`write_paired_notebooks` (``python -m galaxysd notebooks``,
``make notebooks``), and the book's launch buttons open it (:mod:`galaxysd.bookext`).

Opened outside a checkout with ``galaxysd`` installed (Colab, a downloaded notebook), a notebook first
installs the package: every notebook starts with the same small code cell (:func:`install_cell_source`),
which imports nothing of ``galaxysd``, does nothing where the package is importable (every run of the
book), and is tagged ``remove-cell`` so that the book does not show it. It installs from the
repository's address (``repository.url`` of ``_config.yml``, ``$GALAXYSD_REPOSITORY_URL`` or the
``origin`` remote: :func:`galaxysd.book.repository_url`) as it was when the notebooks were written.

Examples
--------
After changing a notebook, or the repository's address::

    python -m galaxysd notebooks
"""

from __future__ import annotations

import os
from pathlib import Path

from galaxysd.cache import atomic_write_text
from galaxysd.errors import GalaxySDError

#: The tag that marks the install cell (with ``remove-cell``, which hides it in the book).
INSTALL_TAG = "install-galaxysd"
#: CPU builds of torch: a laptop or a hosted notebook needs no 5.5 GB CUDA build.
TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"

_TEMPLATE = '''\
# Opened outside a checkout of this book (Colab, a downloaded notebook)? Install galaxysd first.
# This cell imports nothing of galaxysd; where galaxysd is installed it does nothing.
import importlib.util
import os
import subprocess
import sys

if importlib.util.find_spec("galaxysd") is None:
    repository = os.environ.get("GALAXYSD_REPOSITORY_URL", "{url}")
    if not repository:
        raise ModuleNotFoundError("galaxysd is not installed: pip install git+<this book's repository>")
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--extra-index-url",
                    "{index}", f"galaxysd @ git+{{repository}}"], check=True)'''


def install_cell_source(url: str = "") -> str:
    """The source of the install cell every notebook starts with.

    Parameters
    ----------
    url : str, optional
        The repository's https address (empty: the cell asks the reader to install ``galaxysd``).

    Returns
    -------
    str
        Python code that installs ``galaxysd`` (CPU torch) when it cannot be imported.

    Examples
    --------
    >>> "git+" in install_cell_source("https://github.com/example/galaxysd")
    True
    """
    return _TEMPLATE.format(url=url, index=TORCH_CPU_INDEX)


_HEADER = f'# %% tags=["remove-cell", "{INSTALL_TAG}"]'


def with_install_cell(text: str, url: str = "") -> str:
    """A ``py:percent`` source with its install cell set to :func:`install_cell_source`: replaced where
    there is one, else inserted before the ``parameters`` cell; no other line changes.

    The edit is made on the text (not through jupytext's writer) so that a source keeps its header and
    every other cell byte for byte.

    Examples
    --------
    >>> print(with_install_cell('# %% tags=["parameters"]\\nseed = 0\\n').splitlines()[0])
    # %% tags=["remove-cell", "install-galaxysd"]
    """
    cell = f"{_HEADER}\n{install_cell_source(url)}\n\n"
    lines = text.splitlines(keepends=True)
    starts = [i for i, line in enumerate(lines) if line.rstrip("\n") == _HEADER]
    if starts:
        end = next((j for j in range(starts[0] + 1, len(lines)) if lines[j].startswith("# %%")), len(lines))
        return "".join(lines[:starts[0]]) + cell + "".join(lines[end:])
    at = next((i for i, line in enumerate(lines) if line.startswith("# %%") and '"parameters"' in line), None)
    if at is None:
        at = next((i for i, line in enumerate(lines) if line.startswith("# %%") and "[markdown]" not in line),
                  len(lines))
    return "".join(lines[:at]) + cell + "".join(lines[at:])


def paired_notebook(source: str | os.PathLike):
    """The ``.ipynb`` notebook of a ``py:percent`` source: its cells, without outputs or cell ids."""
    from galaxysd.parameters import read_notebook

    nb = read_notebook(source)
    for index, cell in enumerate(nb.cells):  # ids by position: a regenerated notebook differs only where cells do
        cell["id"] = f"cell-{index:03d}"
    nb.metadata.pop("jupytext", None)
    nb.metadata["language_info"] = {"name": "python"}
    return nb


def write_paired_notebooks(root: str | os.PathLike | None = None, url: str | None = None) -> list[Path]:
    """Give every notebook source its install cell, and write its paired ``.ipynb`` beside it.

    Parameters
    ----------
    root : str or path-like, optional
        The project (default: this checkout).
    url : str, optional
        The repository's address (default: :func:`galaxysd.book.repository_url` of ``root``).

    Returns
    -------
    list of pathlib.Path
        The ``.ipynb`` files written.

    Raises
    ------
    GalaxySDError
        ``notebooks/`` holds no ``NN_name.py`` source.

    Examples
    --------
    >>> write_paired_notebooks()  # doctest: +SKIP
    """
    import nbformat
    import yaml

    from galaxysd.book import repository_url
    from galaxysd.parameters import discover_notebooks
    from galaxysd.paths import project_root

    base = Path(root) if root is not None else project_root()
    if url is None:
        configured = (yaml.safe_load((base / "_config.yml").read_text()) or {}).get("repository", {}) \
            if (base / "_config.yml").is_file() else {}
        url = repository_url(base, (configured or {}).get("url") or "")
    sources = discover_notebooks(base / "notebooks")
    if not sources:
        raise GalaxySDError(f"no notebook sources (NN_name.py) in {base / 'notebooks'}; run this in the project root")
    written = []
    for name, source in sources.items():
        text = with_install_cell(source.read_text(), url)
        if text != source.read_text():
            atomic_write_text(source, text)
        written.append(source.with_suffix(".ipynb"))
        atomic_write_text(written[-1], nbformat.writes(paired_notebook(source)) + "\n")
    return written


def unpaired(root: str | os.PathLike | None = None) -> list[str]:
    """Notebooks whose paired ``.ipynb`` is missing or holds other cells than the ``.py`` source.

    Examples
    --------
    >>> unpaired()  # doctest: +SKIP
    []
    """
    import nbformat

    from galaxysd.parameters import discover_notebooks
    from galaxysd.paths import project_root

    base = Path(root) if root is not None else project_root()
    stale = []
    for name, source in discover_notebooks(base / "notebooks").items():
        paired = source.with_suffix(".ipynb")
        expected = [(c.cell_type, c.source, c.metadata.get("tags", [])) for c in paired_notebook(source).cells]
        found = None
        if paired.is_file():
            found = [(c.cell_type, c.source, c.metadata.get("tags", []))
                     for c in nbformat.read(paired, as_version=4).cells]
        if found != expected:
            stale.append(name)
    return stale


def repository_links(html: str, repository: str) -> dict[str, str]:
    """Every link of a built page into the repository, as ``{url: path in the repository}``.

    The links are the repository and issues buttons (``/issues``, ``/issues/new?...``; path ``""``: the
    repository itself), Binder's
    ``?urlpath=tree/<path>`` and Colab's ``/github/<owner>/<name>/blob/<branch>/<path>`` launch links,
    and ``blob``/``tree``/``edit`` links of the repository's files. A test maps each back to the checkout.

    Parameters
    ----------
    html : str
        The page.
    repository : str
        The repository's https address, as the book was built with.

    Returns
    -------
    dict of str to str
        Each link and the repository path it leads to.

    Examples
    --------
    >>> page = '<a href="https://colab.research.google.com/github/o/r/blob/main/notebooks/01_data.ipynb">'
    >>> repository_links(page, "https://github.com/o/r")
    {'https://colab.research.google.com/github/o/r/blob/main/notebooks/01_data.ipynb': 'notebooks/01_data.ipynb'}
    """
    import html as html_lib
    import re
    from urllib.parse import parse_qs, unquote, urlparse

    owner_name = urlparse(repository).path.strip("/")
    found = {}
    for raw in re.findall(r'href="([^"]+)"', html):
        url = html_lib.unescape(raw)
        parsed = urlparse(url)
        if parsed.netloc.endswith("mybinder.org") or "/v2/gh/" in parsed.path:
            if f"/v2/gh/{owner_name}/" in parsed.path:
                target = parse_qs(parsed.query).get("urlpath", [""])[0]
                found[url] = re.sub(r"^(lab/)?tree/", "", unquote(target))
        elif parsed.netloc == "colab.research.google.com":
            match = re.match(rf"/github/{re.escape(owner_name)}/blob/[^/]+/(.*)", parsed.path)
            if match:
                found[url] = unquote(match.group(1))
        elif url.rstrip("/") == repository or re.match(rf"{re.escape(repository)}/issues(/new)?/?(\?|$)", url):
            found[url] = ""  # the repository, its issue tracker
        elif url.startswith(repository + "/"):
            match = re.match(r"(blob|tree|edit)/[^/]+/(.*)", url[len(repository) + 1:])
            found[url] = unquote(match.group(2)) if match else url  # an unknown kind of link fails the check
    return found
