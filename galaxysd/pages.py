"""Pages the runner writes beside the executed notebooks, so that a reader can tell what made the book.

==========================  =====================================================================
what                        where
==========================  =====================================================================
Run-settings box            a collapsed cell at the top of each chapter (:func:`settings_cell`)
profile banner              ``profile.md``, included by the introduction (:func:`write_banner`)
run times                   ``run_times.md`` and ``.json`` (:func:`write_timings`)
versions and commit         ``versions.md`` (:func:`write_versions`)
figures and tables index    ``outputs.md`` (:func:`write_output_index`, from :mod:`galaxysd.outputs`)
==========================  =====================================================================

Whether a page says "real data" or "simulated survey" is decided by what the run read
(:func:`reads_real_data`), never by the profile's name: a user's own profile on the real data is
labelled real.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
from pathlib import Path
from typing import Any, Mapping

from galaxysd.cache import RECORD_NAME, atomic_write_text

SETTINGS_TAG = "galaxysd-run-settings"
FOLDER_PARAMETERS = ("run_dir", "figures_dir", "data_dir")
#: Distributions whose versions the reproducing page lists.
VERSIONED = ("torch", "diffusers", "transformers", "accelerate", "numpy", "pandas", "jupyter-book",
             "papermill")


def reads_real_data(parameters: Mapping[str, Any], run_dir: str | os.PathLike | None = None) -> bool | None:
    """Whether a notebook's run read the real GZ2 data, from what it was given and what the run holds.

    A notebook with a ``real_data`` parameter (``01_data``) says it itself; a later one reads the
    survey that the run's labels were made from: a simulated survey carries its ground truth, the real
    data have none.

    Parameters
    ----------
    parameters : mapping
        The notebook's parameter values.
    run_dir : str or path-like, optional
        The run folder.

    Returns
    -------
    bool or None
        ``None`` when neither tells (no labels in the run yet).

    Examples
    --------
    >>> reads_real_data({"real_data": True})
    True
    >>> reads_real_data({"seed": 0}) is None
    True
    """
    if "real_data" in parameters:
        return bool(parameters["real_data"])
    if run_dir is None:
        return None
    from galaxysd.gz2.catalog import reads_real_data as run_reads_real_data

    return run_reads_real_data(run_dir)


def data_kind(real: bool | None) -> str:
    """The words for what a run read.

    Examples
    --------
    >>> data_kind(True), data_kind(False), data_kind(None)
    ('real data', 'simulated survey', 'data not read yet')
    """
    return {True: "real data", False: "simulated survey", None: "data not read yet"}[real]


def _shown(name: str, value: Any, root: str | os.PathLike | None) -> Any:
    """A folder the runner filled in, as the page shows it: inside the project, or just its name."""
    if name not in FOLDER_PARAMETERS or not value:
        return value
    path = Path(value)
    if root is not None and path.is_relative_to(Path(root).resolve()):
        return path.relative_to(Path(root).resolve()).as_posix()
    return f".../{path.name}"


def settings_cell(profile: str, parameters: Mapping[str, Any], origins: Mapping[str, str], real: bool | None,
                  root: str | os.PathLike | None = None):
    """The collapsed "Run settings" cell: the profile, what data it read, and every value with its origin.

    Parameters
    ----------
    profile : str
    parameters, origins : mapping
        Values and where each came from (:class:`galaxysd.parameters.NotebookPlan`).
    real : bool or None
        :func:`reads_real_data`.
    root : str or path-like, optional
        The project: folders inside it are shown relative to it, others by their name only, so that
        the page does not show the building machine's paths.

    Returns
    -------
    nbformat.NotebookNode
        A markdown cell tagged :data:`SETTINGS_TAG`.
    """
    import nbformat

    rows = "\n".join(f"| `{k}` | `{json.dumps(_shown(k, v, root))}` | {origins.get(k, '')} |"
                     for k, v in parameters.items())
    text = (f":::{{dropdown}} Run settings: profile **{profile}** ({data_kind(real)})\n"
            f"This page was executed by `python -m galaxysd run --profile {profile}` with these "
            f"parameter values.\n\n| parameter | value | set by |\n|---|---|---|\n{rows}\n:::\n")
    return nbformat.v4.new_markdown_cell(text, metadata={"tags": [SETTINGS_TAG]})


def write_banner(output_dir: str | os.PathLike, profile: str, description: str, real: bool | None) -> Path:
    """Write ``profile.md``: the note at the top of the introduction that says which profile and data made the book.

    Examples
    --------
    >>> write_banner(out, "demo", "Simulated survey", real=False)  # doctest: +SKIP
    """
    source = {True: "the real Galaxy Zoo 2 data", False: "a simulated survey",
              None: "the data this profile reads"}[real]
    path = Path(output_dir) / "profile.md"
    atomic_write_text(path, f"```{{admonition}} You are reading the **{profile}** profile\n:class: note\n"
                            f"{description}\n\nEvery figure and number in these pages was computed from "
                            f"{source} when the book was built; the paper's published values are quoted "
                            f"beside them for comparison.\n```\n")
    return path


# --------------------------------------------------------------------------------------------------
# Run times
# --------------------------------------------------------------------------------------------------
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


def duration(seconds: float) -> str:
    """Seconds as minutes and seconds.

    Examples
    --------
    >>> duration(125.4), duration(7)
    ('2 min 5 s', '7 s')
    """
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest} s" if minutes else f"{rest} s"


def _stages_cell(info: Mapping[str, Any] | None) -> str:
    if not info or not info["stages"]:
        return "no cached stages"
    known = info["stages"] - info["unknown"]
    if not known:
        return f"not recorded ({info['stages']} stages)"
    text = f"{duration(info['seconds'])} ({known} stage{'s' if known > 1 else ''}"
    return text + (f"; {info['unknown']} more not recorded)" if info["unknown"] else ")")


def write_timings(output_dir: str | os.PathLike, profile: str, timings: Mapping[str, float],
                  run_dir: str | os.PathLike | None = None) -> Path:
    """Record measured run times as a Markdown table the reproducing page includes.

    Parameters
    ----------
    output_dir : str or path-like
        Where ``run_times.md`` and ``run_times.json`` are written (beside the executed notebooks).
    profile : str
    timings : mapping of str to float
        Wall seconds of each notebook executed now.
    run_dir : path-like, optional
        The profile's run folder: adds a column with what computing each notebook's cached stages
        took (:func:`stage_seconds`), which a rebuild from loaded stages would otherwise hide.

    Returns
    -------
    pathlib.Path
        ``run_times.md``.
    """
    Path(output_dir).mkdir(parents=True, exist_ok=True)
    path = Path(output_dir) / "run_times.md"
    json_path = Path(output_dir) / "run_times.json"
    previous = json.loads(json_path.read_text()) if json_path.is_file() else {}
    if previous.get("profile") != profile:
        previous = {"profile": profile, "seconds": {}}
    previous["seconds"].update({k: round(v, 1) for k, v in timings.items()})
    previous.setdefault("stages", {})
    if run_dir is not None:
        for name in timings:
            total, n_stages, unknown = stage_seconds(run_dir, name)
            previous["stages"][name] = {"seconds": round(total, 1), "stages": n_stages, "unknown": unknown}
    atomic_write_text(json_path, json.dumps(previous, indent=2))
    machine = f"{platform.machine()}, {os.cpu_count()} CPU cores, Python {platform.python_version()}"
    rows = "\n".join(f"| {k} | {duration(v)} | {_stages_cell(previous['stages'].get(k))} |"
                     for k, v in sorted(previous["seconds"].items()))
    atomic_write_text(path, f"Measured when this book was built (profile **{profile}**, {machine}). A "
                            "notebook whose stages were loaded from `runs/` takes seconds, and one that nothing it "
                            "reads has changed since it last ran is reused as it was executed, keeping the "
                            "time it took then; the last column is what computing its stages took when "
                            "they were computed:\n\n"
                            f"| notebook | this build | computing its stages |\n|---|---|---|\n{rows}\n")
    return path


# --------------------------------------------------------------------------------------------------
# Versions and the index of figures and tables
# --------------------------------------------------------------------------------------------------
def git_commit(root: str | os.PathLike | None) -> str:
    """The project's commit (with ``+ uncommitted changes`` when the work tree differs), or ``unknown``."""
    if root is None:
        return "unknown (not a source checkout)"
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True,
                                check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    return commit + (" + uncommitted changes" if dirty else "")


def environment_versions() -> dict[str, str]:
    """Python's version and those of the libraries that shape the results (:data:`VERSIONED`).

    Examples
    --------
    >>> environment_versions()["Python"] == platform.python_version()
    True
    """
    from importlib.metadata import PackageNotFoundError, version

    versions = {"Python": platform.python_version()}
    for name in VERSIONED:
        try:
            versions[name] = version(name)
        except PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def write_versions(output_dir: str | os.PathLike, root: str | os.PathLike | None) -> Path:
    """Write ``versions.md``: the exact versions and the commit the book was built with."""
    rows = "\n".join(f"| {k} | {v} |" for k, v in environment_versions().items())
    path = Path(output_dir) / "versions.md"
    atomic_write_text(path, f"Built from commit `{git_commit(root)}` on {platform.system()} "
                            f"{platform.machine()} with:\n\n| software | version |\n|---|---|\n{rows}\n")
    return path


def write_output_index(output_dir: str | os.PathLike, profile: str) -> Path:
    """Write ``outputs.md``: every figure and table, its chapter, the function that makes it, and its files."""
    from galaxysd.outputs import index_table

    path = Path(output_dir) / "outputs.md"
    atomic_write_text(path, "To change a figure, edit the function in its row (layout, colours, what it shows); "
                            "the fonts and sizes of every figure are in one style file, "
                            "`galaxysd/assets/book.mplstyle`. A chapter's settings are its notebook's "
                            "`parameters` cell (the demo's values), overridden per profile in "
                            "`galaxysd/profiles/`.\n\n" + index_table(profile))
    return path
