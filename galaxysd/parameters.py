"""Notebooks, their parameters and the profiles that set them: one place for each setting.

The notebooks live in ``notebooks/`` as jupytext ``py:percent`` files, each with one cell tagged
``parameters``. **A notebook's defaults are the demo's values**; a profile
(``galaxysd/profiles/<name>.yaml``) sets only what differs, per notebook, with a comment each::

    description: "..."
    notebooks:
      03_generate:
        steps: 40  # the paper's sampler steps (demo: 12)

Values are merged with this precedence: notebook default < profile < command line (``--set``) <
runner. The runner fills ``profile``, ``run_dir``, ``figures_dir`` and ``data_dir``, which every
notebook declares. Before anything executes, every requested notebook, profile, parameter and value is
checked: papermill itself only warns about a parameter that a notebook does not declare.
``python -m galaxysd params NOTEBOOK --profile P`` prints :func:`describe_plan` of one notebook.
"""

from __future__ import annotations

import ast
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import yaml

from galaxysd.errors import ParameterError
from galaxysd.paths import PACKAGE_DIR, project_root

PROFILES_DIR = PACKAGE_DIR / "profiles"
RUNNER_PARAMETERS = ("profile", "run_dir", "figures_dir", "data_dir")
#: A dry run on the tiny model (``--set 02_finetune.base_model=tiny``) of a profile made for another
#: model leaves out what the profile sets for that model's size: the tiny model is built at the
#: notebook's default size and generation follows the model (``03_generate.resolution=0``).
TINY_DRY_RUN = {"02_finetune": ("resolution",), "03_generate": ("resolution",)}


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

    A parameter whose default is text takes the text as typed instead (:func:`check_type`), so
    ``02_finetune.mixed_precision=no`` gives ``"no"``, not YAML's ``False``.

    Examples
    --------
    >>> parse_override("03_generate.guidance=5.0")
    ('03_generate', 'guidance', 5.0)
    """
    key, sep, raw = text.partition("=")
    notebook, dot, param = key.strip().partition(".")
    if not sep or not dot or not notebook or not param:
        raise ParameterError(f"override '{text}' must look like NOTEBOOK.PARAMETER=VALUE, "
                             f"e.g. 03_generate.guidance=5.0")
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError as err:
        raise ParameterError(f"override '{text}': value is not valid YAML ({err})") from err
    return notebook, param, value


def check_type(notebook: str, param: Parameter, value: Any, origin: str, typed: str | None = None) -> Any:
    """Return ``value`` if it fits the type of the parameter's default, else raise ParameterError.

    An int is accepted (and converted) where the default is a float; a ``None`` default accepts
    anything; bools are never accepted as numbers. ``typed`` is the text a user typed on the command
    line: where the default is a string and YAML read that text as something else (``no`` as
    ``False``, ``7`` as a number, ``null`` as ``None``), the text itself is the value; where the
    default is a float, a number YAML left as text (``1e-4``) is read as one.

    Examples
    --------
    >>> check_type("02_finetune", Parameter("mixed_precision", "no"), False, "command line", typed="no")
    'no'
    """
    default = param.default
    if default is None:
        return value
    expected = type(default)
    scalar = value is None or isinstance(value, (bool, int, float))
    if expected is str and typed is not None and scalar:
        return typed
    if expected is float and typed is not None and isinstance(value, str):
        try:  # YAML 1.1 reads 1e-4 (no dot) as text
            return float(typed)
        except ValueError:
            pass
    if expected is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, expected) and not (expected is not bool and isinstance(value, bool)):
        return value
    if isinstance(value, bool):
        quote = (f"; YAML reads a bare yes, no, on, off, true or false as a bool: quote the word, e.g. "
                 f"{param.name}: \"{'yes' if value else 'no'}\"")
    else:
        quote = f"; YAML reads it as a {type(value).__name__}: quote it, e.g. {param.name}: \"{value}\""
    quote = quote if expected is str and scalar else ""
    raise ParameterError(f"{origin}: parameter '{param.name}' of notebook {notebook} expects "
                         f"{expected.__name__} (default {default!r}), got {type(value).__name__} "
                         f"{value!r}{quote}")


def match_notebook(name: str, known: Mapping[str, Path]) -> str:
    """The notebook a short name means: ``"03"``, ``"generate"`` or ``"03_generate"``.

    Examples
    --------
    >>> match_notebook("03", {"01_data": None, "03_generate": None})
    '03_generate'
    """
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
    (:func:`galaxysd.diffusion.base_model.check_base_model`).

    Raises
    ------
    ParameterError
        From the first check that fails, saying what to do.
    """
    for plan in plans:
        if "base_model" in plan.parameters:
            from galaxysd.diffusion.base_model import check_base_model

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
    selected = [match_notebook(n, known) for n in only] if only else list(known)
    selected = [n for n in known if n in set(selected)]  # keep run order

    overrides = list(overrides)
    parsed = [parse_override(o) for o in overrides]
    typed = [o.partition("=")[2].strip() for o in overrides]  # the text itself, for string parameters
    command_line = [(match_notebook(nb, known), p, v) for nb, p, v in parsed]
    profile_base = profile_content["notebooks"].get("02_finetune", {}).get("base_model", "tiny")
    dry_run = ("02_finetune", "base_model", "tiny") in command_line and profile_base != "tiny"
    for notebook in profile_content["notebooks"]:
        if notebook not in known:
            raise ParameterError(f"profile '{profile}' sets parameters of unknown notebook "
                                 f"'{notebook}'; available notebooks: {', '.join(known)}")

    plans = []
    for name in selected:
        declared = declared_parameters(known[name])
        values = {k: p.default for k, p in declared.items()}
        origins = {k: "notebook default" for k in declared}
        from_profile = dict(profile_content["notebooks"].get(name, {}))
        for key in TINY_DRY_RUN.get(name, ()) if dry_run else ():
            if key in from_profile:
                origins[key] = (f"notebook default (base_model=tiny: profile '{profile}' sets "
                                f"{from_profile.pop(key)!r} for {profile_base})")
        layers = [(f"profile '{profile}'", from_profile),
                  ("command line", {p: v for nb, p, v in parsed if match_notebook(nb, known) == name}),
                  ("runner", {"profile": profile, **(paths or {})})]
        texts = {p: t for (nb, p, _), t in zip(parsed, typed) if match_notebook(nb, known) == name}
        for origin, layer in layers:
            for key, value in layer.items():
                if key not in declared:
                    raise ParameterError(
                        f"{origin}: notebook {name} has no parameter '{key}'; it declares: "
                        f"{', '.join(declared)}")
                values[key] = check_type(name, declared[key], value, origin,
                                         texts.get(key) if origin == "command line" else None)
                if origin == "command line":
                    values[key] = resolve_cli_path(key, values[key], declared[key].default)
                origins[key] = origin
        plans.append(NotebookPlan(name, known[name], values, origins, declared))
    return plans


def describe_plan(plan: NotebookPlan) -> str:
    """Every parameter of a planned notebook: its value, its type, where the value comes from, and its comment.

    Parameters
    ----------
    plan : NotebookPlan
        From :func:`plan_run`.

    Returns
    -------
    str
        One line per parameter, e.g. ``max_steps = 10000  [int]  from profile 'paper'  # ...``.

    Examples
    --------
    >>> plan = NotebookPlan("01_x", Path("01_x.py"), {"seed": 3}, {"seed": "command line"},
    ...                     {"seed": Parameter("seed", 0, "random seed")})
    >>> print(describe_plan(plan))
    01_x (profile ?):
      seed = 3  [int]  from command line  # random seed
    """
    lines = [f"{plan.name} (profile {plan.parameters.get('profile', '?')}):"]
    for name, value in plan.parameters.items():
        param = plan.declared.get(name, Parameter(name, value))
        comment = f"  # {param.comment}" if param.comment else ""
        lines.append(f"  {name} = {value!r}  [{param.type_name}]  from {plan.origins.get(name, '?')}{comment}")
    return "\n".join(lines)
