"""Run the notebooks of a profile with papermill, and build the book.

The notebooks live in ``notebooks/`` as jupytext ``py:percent`` files, each with one cell tagged
``parameters``. A profile (``galaxysd/profiles/<name>.yaml``) gives parameter values per notebook::

    description: "..."
    notebooks:
      03_generate: {guidance_scale: 6.5, n_per_prompt: 3}

Values are merged with this precedence: notebook default < profile < command line (``--set``). The
runner also fills ``profile``, ``run_dir``, ``figures_dir`` and ``data_dir``, which every notebook
declares. Before anything executes, every requested notebook, profile, parameter and value is checked:
papermill itself only warns about a parameter that a notebook does not declare.

Executed notebooks are written to ``book/notebooks/<name>.ipynb`` (where ``_toc.yml`` takes them from).
The cell papermill injects is tagged ``remove-cell`` so that the book does not render it, and a collapsed
"Run settings" dropdown with the profile and every parameter value (and where it came from) is inserted
before the parameters cell instead.
"""

from __future__ import annotations

import ast
import json
import logging
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import yaml

from galaxysd.errors import NotebookExecutionError, ParameterError
from galaxysd.paths import PACKAGE_DIR, project_root

PROFILES_DIR = PACKAGE_DIR / "profiles"
RUNNER_PARAMETERS = ("profile", "run_dir", "figures_dir", "data_dir")
SETTINGS_TAG = "galaxysd-run-settings"


# --------------------------------------------------------------------------------------------------
# Notebooks and their declared parameters
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Parameter:
    """One parameter declared in a notebook's ``parameters`` cell."""

    name: str
    default: Any
    comment: str = ""

    @property
    def type_name(self) -> str:
        return "any" if self.default is None else type(self.default).__name__


def notebooks_dir(root: str | os.PathLike | None = None) -> Path:
    """The folder of jupytext notebook sources (``<project root>/notebooks``)."""
    base = Path(root) if root is not None else project_root()
    if base is None:
        raise ParameterError("no notebooks/ folder found: run from a source checkout of galaxysd, or "
                             "pass --root pointing at one")
    return base / "notebooks"


def discover_notebooks(folder: str | os.PathLike) -> dict[str, Path]:
    """Notebook sources in run order, as ``{"01_data": path, ...}``.

    Parameters
    ----------
    folder : str or path-like
        A folder of ``NN_name.py`` jupytext files.

    Returns
    -------
    dict of str to pathlib.Path
        Sorted by name, which starts with the stage number.
    """
    return {p.stem: p for p in sorted(Path(folder).glob("[0-9][0-9]_*.py"))}


def read_notebook(path: str | os.PathLike):
    """Read a jupytext ``py:percent`` source into an nbformat notebook."""
    import jupytext

    return jupytext.read(Path(path), fmt="py:percent")


def _parameters_cell(nb, name: str):
    cells = [c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    if len(cells) != 1:
        raise ParameterError(f"notebook {name} must have exactly one cell tagged 'parameters', "
                             f"found {len(cells)}")
    return cells[0]


def declared_parameters(path: str | os.PathLike) -> dict[str, Parameter]:
    """The parameters a notebook declares, with their defaults and comments.

    The cell is parsed with :mod:`ast` rather than papermill's regex-based inspection so that defaults
    come back as Python values (lists, dicts, None), which the type checks below need.

    Parameters
    ----------
    path : str or path-like
        A jupytext notebook source.

    Returns
    -------
    dict of str to Parameter

    Raises
    ------
    ParameterError
        If the cell is missing, or assigns something that is not a literal.
    """
    path = Path(path)
    cell = _parameters_cell(read_notebook(path), path.stem)
    source = cell.source
    lines = source.splitlines()
    declared = {}
    for node in ast.parse(source).body:
        if not (isinstance(node, (ast.Assign, ast.AnnAssign))):
            continue
        target = node.targets[0] if isinstance(node, ast.Assign) else node.target
        if not isinstance(target, ast.Name):
            continue
        try:
            default = ast.literal_eval(node.value)
        except ValueError as err:
            raise ParameterError(f"{path.name}: parameter '{target.id}' must have a literal default "
                                 f"(number, string, bool, None, list or dict)") from err
        line = lines[node.lineno - 1]
        comment = line.split("#", 1)[1].strip() if "#" in line else ""
        declared[target.id] = Parameter(target.id, default, comment)
    missing = [p for p in RUNNER_PARAMETERS if p not in declared]
    if missing:
        raise ParameterError(f"{path.name}: the parameters cell must declare {', '.join(missing)}")
    return declared


# --------------------------------------------------------------------------------------------------
# Profiles, overrides and type checks
# --------------------------------------------------------------------------------------------------
def available_profiles(folder: Path = PROFILES_DIR) -> list[str]:
    """Names of the shipped profiles."""
    return sorted(p.stem for p in Path(folder).glob("*.yaml"))


def load_profile(name: str, folder: Path = PROFILES_DIR) -> dict:
    """Read a profile's YAML file.

    Raises
    ------
    ParameterError
        If there is no such profile, or its file is not shaped ``notebooks: {name: {param: value}}``.
    """
    path = Path(folder) / f"{name}.yaml"
    if not path.is_file():
        raise ParameterError(f"unknown profile '{name}'; available profiles: "
                             f"{', '.join(available_profiles(folder))}")
    content = yaml.safe_load(path.read_text()) or {}
    notebooks = content.get("notebooks") or {}
    if not isinstance(notebooks, dict) or not all(isinstance(v, dict) or v is None
                                                  for v in notebooks.values()):
        raise ParameterError(f"{path}: 'notebooks' must map notebook names to parameter mappings")
    content["notebooks"] = {k: dict(v or {}) for k, v in notebooks.items()}
    return content


def parse_override(text: str) -> tuple[str, str, Any]:
    """Parse ``NOTEBOOK.PARAM=VALUE`` from the command line; the value is read as YAML.

    Examples
    --------
    >>> parse_override("03_generate.guidance_scale=5.0")
    ('03_generate', 'guidance_scale', 5.0)
    """
    key, sep, raw = text.partition("=")
    notebook, dot, param = key.strip().partition(".")
    if not sep or not dot or not notebook or not param:
        raise ParameterError(f"override '{text}' must look like NOTEBOOK.PARAMETER=VALUE, "
                             f"e.g. 03_generate.guidance_scale=5.0")
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError as err:
        raise ParameterError(f"override '{text}': value is not valid YAML ({err})") from err
    return notebook, param, value


def check_type(notebook: str, param: Parameter, value: Any, origin: str) -> Any:
    """Return ``value`` if it fits the type of the parameter's default, else raise ParameterError.

    An int is accepted (and converted) where the default is a float; a ``None`` default accepts
    anything; bools are never accepted as numbers.
    """
    default = param.default
    if default is None:
        return value
    expected = type(default)
    if expected is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, expected) and not (expected is not bool and isinstance(value, bool)):
        return value
    raise ParameterError(f"{origin}: parameter '{param.name}' of notebook {notebook} expects "
                         f"{expected.__name__} (default {default!r}), got {type(value).__name__} "
                         f"{value!r}")


def _match_notebook(name: str, known: Mapping[str, Path]) -> str:
    if name in known:
        return name
    hits = [k for k in known if k.split("_", 1)[0] == name or k.split("_", 1)[-1] == name]
    if len(hits) == 1:
        return hits[0]
    raise ParameterError(f"unknown notebook '{name}'; available notebooks: {', '.join(known)}")


def is_path_parameter(name: str) -> bool:
    """Whether a parameter's value names a file or folder: ``base_model`` and ``*_dir``, ``*_path``,
    ``*_file``, ``*_folder``."""
    return name == "base_model" or name.endswith(("_dir", "_path", "_file", "_folder"))


def resolve_cli_path(name: str, value: Any, default: Any = None, cwd: str | os.PathLike | None = None) -> Any:
    """A path given on the command line, made absolute from the folder the command runs in.

    Notebooks run in their own folder, so a relative path handed on as it is would be read from
    there. A value is resolved when the parameter names a path (:func:`is_path_parameter`) and the
    value is absolute, starts with ``.`` or ``~``, or names something that exists here; anything
    else (a Hub id such as ``org/model``, ``tiny``, the notebook's default) is kept as it is.

    Examples
    --------
    >>> resolve_cli_path("base_model", "./models/sd15", cwd="/home/me")
    '/home/me/models/sd15'
    >>> resolve_cli_path("base_model", "stable-diffusion-v1-5/stable-diffusion-v1-5", cwd="/home/me")
    'stable-diffusion-v1-5/stable-diffusion-v1-5'
    """
    if not isinstance(value, str) or not value or value == default or not is_path_parameter(name):
        return value
    here = Path(cwd) if cwd is not None else Path.cwd()
    path = Path(value).expanduser()
    if path.is_absolute() or value.startswith((".", "~")) or (here / path).exists():
        return str((here / path).resolve())
    return value


def preflight(plans: Sequence["NotebookPlan"]) -> None:
    """Checks that take seconds, made before the first notebook runs so that a run fails at once.

    Today: the base model of every notebook that declares ``base_model``
    (:func:`galaxysd.diffusion.model.check_base_model`).

    Raises
    ------
    ParameterError
        From the first check that fails, saying what to do.
    """
    for plan in plans:
        if "base_model" in plan.parameters:
            from galaxysd.diffusion.model import check_base_model

            check_base_model(plan.parameters["base_model"])


@dataclass
class NotebookPlan:
    """A notebook ready to run: where it is, and every parameter value with its origin."""

    name: str
    source: Path
    parameters: dict[str, Any]
    origins: dict[str, str] = field(default_factory=dict)
    declared: dict[str, Parameter] = field(default_factory=dict)


def plan_run(profile: str, only: Sequence[str] | None = None, overrides: Iterable[str] = (),
             root: str | os.PathLike | None = None, paths: Mapping[str, str] | None = None,
             profiles_dir: Path = PROFILES_DIR) -> list[NotebookPlan]:
    """Resolve and check everything a run needs, without executing anything.

    Parameters
    ----------
    profile : str
        Profile name.
    only : sequence of str, optional
        Notebook names (``"03_generate"``, ``"03"`` or ``"generate"``) to run; default all, in order.
    overrides : iterable of str
        ``NOTEBOOK.PARAM=VALUE`` one-off overrides, highest precedence.
    root : path-like, optional
        Project root holding ``notebooks/``.
    paths : mapping, optional
        Values for ``run_dir``, ``figures_dir`` and ``data_dir`` given to every notebook.
    profiles_dir : pathlib.Path, optional
        Where profiles are read from.

    Returns
    -------
    list of NotebookPlan

    Raises
    ------
    ParameterError
        Unknown profile, notebook or parameter, or a value of the wrong type.
    """
    known = discover_notebooks(notebooks_dir(root))
    if not known:
        raise ParameterError(f"no notebooks found in {notebooks_dir(root)}")
    profile_content = load_profile(profile, profiles_dir)
    selected = [_match_notebook(n, known) for n in only] if only else list(known)
    selected = [n for n in known if n in set(selected)]  # keep run order

    parsed = [parse_override(o) for o in overrides]
    for notebook, _, _ in parsed:
        _match_notebook(notebook, known)
    for notebook in profile_content["notebooks"]:
        if notebook not in known:
            raise ParameterError(f"profile '{profile}' sets parameters of unknown notebook "
                                 f"'{notebook}'; available notebooks: {', '.join(known)}")

    plans = []
    for name in selected:
        declared = declared_parameters(known[name])
        values = {k: p.default for k, p in declared.items()}
        origins = {k: "notebook default" for k in declared}
        layers = [(f"profile '{profile}'", profile_content["notebooks"].get(name, {})),
                  ("command line", {p: v for nb, p, v in parsed if _match_notebook(nb, known) == name}),
                  ("runner", {"profile": profile, **(paths or {})})]
        for origin, layer in layers:
            for key, value in layer.items():
                if key not in declared:
                    raise ParameterError(
                        f"{origin}: notebook {name} has no parameter '{key}'; it declares: "
                        f"{', '.join(declared)}")
                values[key] = check_type(name, declared[key], value, origin)
                if origin == "command line":
                    values[key] = resolve_cli_path(key, values[key], declared[key].default)
                origins[key] = origin
        plans.append(NotebookPlan(name, known[name], values, origins, declared))
    return plans


# --------------------------------------------------------------------------------------------------
# Execution
# --------------------------------------------------------------------------------------------------
def _settings_cell(plan: NotebookPlan):
    import nbformat

    profile = plan.parameters["profile"]
    rows = "\n".join(f"| `{k}` | `{json.dumps(v)}` | {plan.origins[k]} |"
                     for k, v in plan.parameters.items())
    kind = "real data" if profile == "paper" else "simulated survey"
    text = (f":::{{dropdown}} Run settings: profile **{profile}** ({kind})\n"
            f"This page was executed by `python -m galaxysd run --profile {profile}` with these "
            f"parameter values.\n\n| parameter | value | set by |\n|---|---|---|\n{rows}\n:::\n")
    return nbformat.v4.new_markdown_cell(text, metadata={"tags": [SETTINGS_TAG]})


def finish_notebook(nb, plan: NotebookPlan):
    """Hide papermill's injected cell in the book and add the collapsed run-settings cell."""
    for cell in nb.cells:
        tags = cell.setdefault("metadata", {}).setdefault("tags", [])
        if "injected-parameters" in tags and "remove-cell" not in tags:
            tags.append("remove-cell")
    nb.cells = [c for c in nb.cells if SETTINGS_TAG not in c.get("metadata", {}).get("tags", [])]
    index = next(i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", []))
    nb.cells.insert(index, _settings_cell(plan))
    return nb


def execute_plan(plan: NotebookPlan, output_dir: str | os.PathLike, kernel_name: str = "python3",
                 progress: bool = True) -> Path:
    """Execute one notebook with papermill and write ``<output_dir>/<name>.ipynb``.

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
    running = output_dir / f".{plan.name}.running.ipynb"
    final = output_dir / f"{plan.name}.ipynb"
    failed = output_dir / f"{plan.name}.failed.ipynb"
    source = read_notebook(plan.source)
    # plan_run has already checked every parameter against the notebook; papermill's own check is a
    # regex over the parameters cell that misreads some comments, so its warnings are only noise here.
    logging.getLogger("papermill").setLevel(logging.ERROR)
    try:
        papermill.execute_notebook(source, str(running), parameters=plan.parameters,
                                   kernel_name=kernel_name, language="python", progress_bar=progress,
                                   cwd=str(output_dir), report_mode=False)
    except PapermillExecutionError as err:
        os.replace(running, failed)
        first_line = (err.source or "").strip().splitlines()[:1]
        raise NotebookExecutionError(
            f"notebook {plan.name} failed in code cell {err.exec_count} (cell index {err.cell_index}"
            f"{', ' + repr(first_line[0]) if first_line else ''}): {err.ename}: {err.evalue}\n"
            f"the partly executed notebook is kept at {failed}") from err
    nb = finish_notebook(nbformat.read(running, as_version=4), plan)
    nbformat.write(nb, running)
    os.replace(running, final)
    failed.unlink(missing_ok=True)
    return final


def stage_seconds(run_dir: str | os.PathLike, notebook: str) -> tuple[float, int, int]:
    """How long computing a notebook's cached stages took, read from their records.

    A notebook whose stages were loaded from ``runs/`` runs in seconds; this is what they cost when
    they were computed. Records written before stages recorded their time fall back to the
    ``timing.json`` that the diffusion stages keep beside them.

    Parameters
    ----------
    run_dir : str or path-like
        The profile's run folder.
    notebook : str
        Notebook name, which is also the folder of its stages (``02_finetune``).

    Returns
    -------
    (float, int, int)
        Total seconds of the stages whose time is known, how many stages there are, and how many
        of them have no recorded time.
    """
    from galaxysd.cache import RECORD_NAME

    total, n_stages, unknown = 0.0, 0, 0
    for record_path in sorted((Path(run_dir) / notebook).rglob(RECORD_NAME)):
        n_stages += 1
        seconds = json.loads(record_path.read_text()).get("seconds")
        timing = record_path.with_name("timing.json")
        if seconds is None and timing.is_file():
            seconds = json.loads(timing.read_text()).get("seconds")
        if seconds is None:
            unknown += 1
        else:
            total += float(seconds)
    return total, n_stages, unknown


def _duration(seconds: float) -> str:
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest} s" if minutes else f"{rest} s"


def write_timings(output_dir: Path, profile: str, timings: Mapping[str, float],
                  profiles_dir: Path = PROFILES_DIR, run_dir: str | os.PathLike | None = None) -> Path:
    """Record measured run times as a Markdown table the reproducing page includes.

    Parameters
    ----------
    output_dir : pathlib.Path
        Where ``run_times.md`` and ``run_times.json`` are written (beside the executed notebooks).
    profile : str
    timings : mapping of str to float
        Wall seconds of each notebook executed now.
    profiles_dir : pathlib.Path, optional
    run_dir : path-like, optional
        The profile's run folder: adds a column with what computing each notebook's cached stages
        took (:func:`stage_seconds`), which a rebuild from loaded stages would otherwise hide.

    Returns
    -------
    pathlib.Path
        ``run_times.md``.
    """
    import platform

    Path(output_dir).mkdir(parents=True, exist_ok=True)
    path = Path(output_dir) / "run_times.md"
    previous = {}
    json_path = Path(output_dir) / "run_times.json"
    if json_path.is_file():
        previous = json.loads(json_path.read_text())
    if previous.get("profile") != profile:
        previous = {"profile": profile, "seconds": {}}
    previous["seconds"].update({k: round(v, 1) for k, v in timings.items()})
    previous.setdefault("stages", {})
    if run_dir is not None:
        for name in timings:
            total, n_stages, unknown = stage_seconds(run_dir, name)
            previous["stages"][name] = {"seconds": round(total, 1), "stages": n_stages, "unknown": unknown}
    json_path.write_text(json.dumps(previous, indent=2))
    machine = f"{platform.machine()}, {os.cpu_count()} CPU cores, Python {platform.python_version()}"

    def stages_cell(name: str) -> str:
        info = previous["stages"].get(name)
        if not info or not info["stages"]:
            return "no cached stages"
        known = info["stages"] - info["unknown"]
        if not known:
            return f"not recorded ({info['stages']} stages)"
        text = f"{_duration(info['seconds'])} ({known} stage{'s' if known > 1 else ''}"
        return text + (f"; {info['unknown']} more not recorded)" if info["unknown"] else ")")

    rows = "\n".join(f"| {k} | {_duration(v)} | {stages_cell(k)} |" for k, v in sorted(previous["seconds"].items()))
    path.write_text(f"Measured when this book was built (profile **{profile}**, {machine}). A notebook "
                    "whose stages were loaded from `runs/` takes seconds; the last column is what "
                    "computing those stages took when they were computed:\n\n"
                    f"| notebook | this build | computing its stages |\n|---|---|---|\n{rows}\n")
    description = load_profile(profile, profiles_dir).get("description", "")
    kind = "the real Galaxy Zoo 2 data" if profile == "paper" else "a simulated survey"
    (Path(output_dir) / "profile.md").write_text(
        f"```{{admonition}} You are reading the **{profile}** profile\n:class: note\n"
        f"{description}\n\nEvery figure and number in these pages was computed from {kind} when the "
        f"book was built; the paper's published values are quoted beside them for comparison.\n```\n")
    return path


def run_profile(profile: str = "demo", only: Sequence[str] | None = None, overrides: Iterable[str] = (),
                root: str | os.PathLike | None = None, output_dir: str | os.PathLike | None = None,
                run_dir: str = "", figures_dir: str = "", data_dir: str = "",
                kernel_name: str = "python3", progress: bool = True,
                profiles_dir: Path = PROFILES_DIR) -> list[Path]:
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

    Returns
    -------
    list of pathlib.Path
        The executed notebooks.

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
        print(f"[galaxysd] running {plan.name} on profile '{profile}'", flush=True)
        start = time.perf_counter()
        written.append(execute_plan(plan, out, kernel_name, progress))
        timings[plan.name] = time.perf_counter() - start
        print(f"[galaxysd] {plan.name} done in {timings[plan.name]:.0f} s -> {written[-1]}", flush=True)
    write_timings(out, profile, timings, profiles_dir, run_dir=resolved.run)
    return written


def build_book(root: str | os.PathLike | None = None) -> Path:
    """Build the Jupyter Book (version 1) and return the path of ``index.html``."""
    base = Path(root) if root is not None else project_root()
    command = [str(Path(sys.executable).with_name("jupyter-book")), "build", str(base)]
    if not Path(command[0]).exists():
        command = [sys.executable, "-m", "jupyter_book", "build", str(base)]
    subprocess.run(command, check=True)
    return base / "_build" / "html" / "index.html"
