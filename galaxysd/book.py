"""Run the notebooks of a profile with papermill, and build the book.

What a run is given is planned and checked first (:mod:`galaxysd.parameters`: notebooks, profiles,
``--set`` values and their precedence); then each notebook is executed in order. Executed notebooks
are written to ``book/notebooks/<name>.ipynb`` (where ``_toc.yml`` takes them from).
The cell papermill injects is tagged ``remove-cell`` so that the book does not render it, and a collapsed
"Run settings" dropdown with the profile, the data it read and every parameter value (and where it came
from) is inserted before the parameters cell instead. Long stages report their progress to the terminal
through :mod:`galaxysd.progress`, not into the notebook. After the notebooks, the pages of
:mod:`galaxysd.pages` (run times, versions, the index of figures and tables, the profile banner) are
written beside them.

Examples
--------
Re-run one notebook with a new value::

    python -m galaxysd run --profile demo --only 03_generate --set 03_generate.guidance=5.0
"""

from __future__ import annotations

import functools
import logging
import os
import re
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Iterable, Sequence

from galaxysd import pages, reuse
from galaxysd.accessibility import add_alt_to_notebook
from galaxysd.cache import atomic_path, atomic_write_text
from galaxysd.errors import NotebookExecutionError
from galaxysd.pages import SETTINGS_TAG, stage_seconds, write_timings  # noqa: F401 (the runner's pages)
from galaxysd.parameters import (PROFILES_DIR, RUNNER_PARAMETERS, NotebookPlan, Parameter,  # noqa: F401
                                 available_profiles, check_type, declared_parameters, describe_plan,
                                 discover_notebooks, load_profile, match_notebook, notebooks_dir,
                                 parse_override, plan_run, preflight, read_notebook, resolve_cli_path)
from galaxysd.paths import project_root
from galaxysd.progress import ProgressRelay


# --------------------------------------------------------------------------------------------------
# Execution
# --------------------------------------------------------------------------------------------------
#: Tag of an exercise's solution code cell (the exercises' convention: ``tags=["solution"]``).
SOLUTION_TAG = "solution"
#: nbclient's tag for a cell it leaves unexecuted (papermill executes through nbclient and honours it).
SKIP_TAG = "skip-execution"


def gate_solutions(nb, exercises: bool = False):
    """Tag every solution cell ``skip-execution`` unless ``exercises`` is true; return the notebook.

    An ordinary run leaves the solutions unexecuted (the book shows their code in the collapsed
    dropdown), so demo and paper runs pay nothing for them; ``exercises=True`` (``galaxysd run
    --exercises``, and the smoke test) executes them, and removes a skip tag a source may carry.

    Examples
    --------
    >>> import nbformat
    >>> nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1", metadata={"tags": ["solution"]})])
    >>> gate_solutions(nb).cells[0].metadata["tags"]
    ['solution', 'skip-execution']
    """
    for cell in nb.cells:
        tags = cell.setdefault("metadata", {}).setdefault("tags", [])
        if cell.get("cell_type") != "code" or SOLUTION_TAG not in tags:
            continue
        if exercises:
            tags[:] = [t for t in tags if t != SKIP_TAG]
        elif SKIP_TAG not in tags:
            tags.append(SKIP_TAG)
    return nb


def finish_notebook(nb, plan: NotebookPlan, real: bool | None = None, root: Path | None = None):
    """Hide papermill's injected cell in the book, add the collapsed run-settings cell, and give each
    glued figure its alt text (:func:`galaxysd.accessibility.add_alt_to_notebook`).

    ``real`` is what the run read (:func:`galaxysd.pages.reads_real_data`), shown in the cell's title.
    """
    add_alt_to_notebook(nb)
    for cell in nb.cells:
        tags = cell.setdefault("metadata", {}).setdefault("tags", [])
        if "injected-parameters" in tags and "remove-cell" not in tags:
            tags.append("remove-cell")
    nb.cells = [c for c in nb.cells if SETTINGS_TAG not in c.get("metadata", {}).get("tags", [])]
    index = next(i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", []))
    nb.cells.insert(index, pages.settings_cell(plan.parameters.get("profile", "?"), plan.parameters,
                                               plan.origins, real, root))
    return nb


def ipc_socket_prefix() -> str:
    """A private path prefix for a kernel's IPC sockets: in Jupyter's runtime folder (readable by this
    user only), or a fresh private temporary folder where that path would be too long for a socket.

    Examples
    --------
    >>> ipc_socket_prefix().endswith("-ipc")
    True
    """
    from jupyter_core.paths import jupyter_runtime_dir

    folder = Path(jupyter_runtime_dir())
    prefix = folder / f"galaxysd-{uuid.uuid4().hex[:12]}-ipc"
    if len(str(prefix)) > 90:  # a Unix socket's path holds at most about 104 bytes
        folder = Path(tempfile.mkdtemp(prefix="galaxysd-"))
        prefix = folder / "kernel-ipc"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return str(prefix)


@functools.cache
def kernel_manager_class():
    """The kernel manager papermill starts each notebook's kernel with.

    Over TCP, ipykernel warns on every start that its traffic is not encrypted, a line that reads
    like a security problem in every chapter's output. Where the platform has Unix sockets the kernel
    talks over IPC instead: local sockets in a folder only this user can read, so there is nothing to
    encrypt and no warning. On Windows the kernel stays on TCP.
    """
    from jupyter_client.manager import AsyncKernelManager

    if os.name == "nt":
        return AsyncKernelManager

    class IPCKernelManager(AsyncKernelManager):
        """An ``AsyncKernelManager`` whose kernels listen on private IPC sockets, not TCP ports."""

        def __init__(self, **kwargs):
            kwargs.setdefault("transport", "ipc")
            if kwargs["transport"] == "ipc":
                kwargs.setdefault("ip", ipc_socket_prefix())
            super().__init__(**kwargs)

    return IPCKernelManager


def execute_plan(plan: NotebookPlan, output_dir: str | os.PathLike, kernel_name: str = "python3",
                 progress: bool = True, exercises: bool = False) -> Path:
    """Execute one notebook with papermill and write ``<output_dir>/<name>.ipynb``.

    The exercises' solution cells are executed only with ``exercises=True`` (:func:`gate_solutions`).

    While it runs, the progress bars of its long stages (:func:`galaxysd.progress.progress_bar`) are
    shown in this terminal, not in the notebook.

    Raises
    ------
    NotebookExecutionError
        A cell failed; the message names the notebook and cell, and the partly executed notebook is
        kept as ``<output_dir>/<name>.failed.ipynb``.
    """
    import nbformat
    import papermill
    from papermill.exceptions import PapermillExecutionError

    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    final = output_dir / f"{plan.name}.ipynb"
    failed = output_dir / f"{plan.name}.failed.ipynb"
    source = gate_solutions(read_notebook(plan.source), exercises)
    # plan_run has already checked every parameter against the notebook; papermill's own check is a
    # regex over the parameters cell that misreads some comments, so its warnings are only noise here.
    logging.getLogger("papermill").setLevel(logging.ERROR)
    side_channel = output_dir / f".{plan.name}.progress"
    with atomic_path(final) as running:  # the executed notebook appears under its name only when finished
        try:
            with ProgressRelay(side_channel, label=plan.name):
                papermill.execute_notebook(source, str(running), parameters=plan.parameters,
                                           kernel_name=kernel_name, language="python", progress_bar=progress,
                                           cwd=str(output_dir), report_mode=False,
                                           kernel_manager_class=kernel_manager_class())
        except PapermillExecutionError as err:
            atomic_write_text(failed, running.read_text())
            first_line = (err.source or "").strip().splitlines()[:1]
            raise NotebookExecutionError(
                f"notebook {plan.name} failed in code cell {err.exec_count} (cell index {err.cell_index}"
                f"{', ' + repr(first_line[0]) if first_line else ''}): {err.ename}: {err.evalue}\n"
                f"the partly executed notebook is kept at {failed}") from err
        real = pages.reads_real_data(plan.parameters, plan.parameters.get("run_dir") or None)
        nb = finish_notebook(nbformat.read(running, as_version=4), plan, real, plan.source.parent.parent)
        nbformat.write(nb, running)
    failed.unlink(missing_ok=True)
    return final


def run_profile(profile: str = "demo", only: Sequence[str] | None = None, overrides: Iterable[str] = (),
                root: str | os.PathLike | None = None, output_dir: str | os.PathLike | None = None,
                run_dir: str = "", figures_dir: str = "", data_dir: str = "",
                kernel_name: str = "python3", progress: bool = True,
                profiles_dir: Path = PROFILES_DIR, force: bool = False, exercises: bool = False) -> list[Path]:
    """Check, then execute, the notebooks of a profile in order.

    Parameters
    ----------
    profile : str, optional
        ``smoke``, ``demo`` (default) or ``paper``.
    only : sequence of str, optional
        Subset of notebooks to run.
    overrides : iterable of str
        ``NOTEBOOK.PARAM=VALUE`` values that beat the profile's.
    root : path-like, optional
        Project root (default: the checkout this package is in).
    output_dir : path-like, optional
        Where executed notebooks go; default ``<root>/book/notebooks``.
    run_dir, figures_dir, data_dir : str, optional
        Folders handed to every notebook ("" lets :func:`galaxysd.paths.run_paths` decide).
    kernel_name : str, optional
        Jupyter kernel.
    progress : bool, optional
        Show papermill's per-cell progress bar.
    profiles_dir : pathlib.Path, optional
        Where profiles are read from (default: the ones shipped in the package).
    force : bool, optional
        Execute every notebook, even one that :mod:`galaxysd.reuse` finds unchanged since it ran.
    exercises : bool, optional
        Execute the exercises' solutions too (by default they are shown, not run); part of what
        :mod:`galaxysd.reuse` compares, so a notebook run without them is not reused for a run with them.

    Returns
    -------
    list of pathlib.Path
        The executed notebooks (reused ones included).

    Examples
    --------
    >>> run_profile("smoke", only=["01_data"], overrides=["01_data.seed=3"])  # doctest: +SKIP
    """
    from galaxysd.paths import run_paths

    resolved = run_paths(profile, run_dir, figures_dir, data_dir)
    folders = {"run_dir": str(resolved.run), "figures_dir": str(resolved.figures),
               "data_dir": str(resolved.data)}
    plans = plan_run(profile, only, overrides, root, folders, profiles_dir)
    preflight(plans)
    base = Path(root) if root is not None else project_root()
    out = Path(output_dir) if output_dir is not None else base / "book" / "notebooks"
    written, timings = [], {}
    for plan in plans:
        key = reuse.notebook_key(plan.name, plan.source, plan.parameters, resolved.run, resolved.data, exercises)
        record = None if force else reuse.reusable(out, plan.name, key)
        if record is not None:
            written.append(out / f"{plan.name}.ipynb")
            print(f"[galaxysd] {plan.name}: nothing it reads has changed; reusing {written[-1]} "
                  f"(executed in {record['seconds']:.0f} s; --force runs it again)", flush=True)
            continue
        print(f"[galaxysd] running {plan.name} on profile '{profile}'", flush=True)
        reuse.forget(out, plan.name)
        start, figures_before = time.perf_counter(), reuse.snapshot(resolved.figures)
        written.append(execute_plan(plan, out, kernel_name, progress, exercises))
        timings[plan.name] = time.perf_counter() - start
        # the key is taken again now: it must describe the state this notebook's own stages left
        reuse.remember(out, plan.name,
                       reuse.notebook_key(plan.name, plan.source, plan.parameters, resolved.run, resolved.data,
                                          exercises),
                       timings[plan.name], reuse.written_since(resolved.figures, figures_before))
        print(f"[galaxysd] {plan.name} done in {timings[plan.name]:.0f} s -> {written[-1]}", flush=True)
    write_book_pages(out, profile, timings, resolved.run, base, profiles_dir)
    return written


def write_book_pages(output_dir: Path, profile: str, timings: dict[str, float], run_dir: Path,
                     root: Path | None, profiles_dir: Path = PROFILES_DIR) -> None:
    """The pages beside the executed notebooks: run times, versions, the output index, the banner."""
    pages.write_timings(output_dir, profile, timings, run_dir=run_dir)
    pages.write_versions(output_dir, root)
    pages.write_output_index(output_dir, profile)
    description = load_profile(profile, profiles_dir).get("description", "")
    pages.write_banner(output_dir, profile, description, pages.reads_real_data({}, run_dir))


#: Environment variable that gives the book its repository address (see :func:`repository_url`).
REPOSITORY_ENV = "GALAXYSD_REPOSITORY_URL"
#: The launch buttons a page gets once the book knows its repository.
LAUNCH_BUTTONS = {"notebook_interface": "classic", "binderhub_url": "https://mybinder.org",
                  "colab_url": "https://colab.research.google.com"}


def repository_url(root: str | os.PathLike | None = None, configured: str = "") -> str:
    """The address of the book's repository, for its repository, issues and launch buttons.

    The one setting a fork makes: ``repository.url`` in ``_config.yml`` (``configured``); left empty,
    the environment variable :data:`REPOSITORY_ENV`, then the checkout's ``origin`` remote. Only an
    https address of a repository on GitHub, GitLab or Bitbucket is used; anything else gives ``""``
    (no buttons) rather than a link that leads nowhere.

    Examples
    --------
    >>> repository_url(configured="git@github.com:someone/galaxysd.git")
    'https://github.com/someone/galaxysd'
    >>> repository_url(configured="/srv/git/galaxysd")
    ''
    """
    url = configured or os.environ.get(REPOSITORY_ENV, "")
    if not url and root is not None:
        found = subprocess.run(["git", "remote", "get-url", "origin"], cwd=root, capture_output=True, text=True)
        url = found.stdout.strip() if found.returncode == 0 else ""
    url = re.sub(r"^git@([^:]+):", r"https://\1/", url.strip())
    url = re.sub(r"\.git$", "", url).rstrip("/")
    return url if re.fullmatch(r"https://(github\.com|gitlab\.com|bitbucket\.org)/[\w.-]+/[\w.-]+", url) else ""


def book_config(root: str | os.PathLike) -> dict:
    """``_config.yml`` with the repository address filled in and the buttons on, or off without one."""
    import yaml

    config = yaml.safe_load((Path(root) / "_config.yml").read_text())
    repository = config.setdefault("repository", {})
    url = repository_url(root, repository.get("url") or "")
    repository["url"] = url
    html = config.setdefault("html", {})
    html["use_repository_button"] = html["use_issues_button"] = bool(url)
    config["launch_buttons"] = dict(LAUNCH_BUTTONS) if url else {}
    return config


def build_book(root: str | os.PathLike | None = None) -> Path:
    """Build the Jupyter Book (version 1) and return the path of ``index.html``.

    The configuration is ``_config.yml`` completed by :func:`book_config` (repository address and
    buttons), written to ``_build/_config.yml``.
    """
    import yaml

    base = Path(root) if root is not None else project_root()
    config_path = base / "_build" / "_config.yml"
    config_path.parent.mkdir(parents=True, exist_ok=True)
    config_path.write_text(yaml.safe_dump(book_config(base), sort_keys=False))
    command = [str(Path(sys.executable).with_name("jupyter-book")), "build", str(base), "--config", str(config_path)]
    if not Path(command[0]).exists():
        command = [sys.executable, "-m", "jupyter_book", "build", str(base), "--config", str(config_path)]
    subprocess.run(command, check=True)
    return base / "_build" / "html" / "index.html"
