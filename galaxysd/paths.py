"""Where data, stage outputs and figures live.

Paths come from the caller (the runner passes absolute paths to every notebook) or from the
environment (``GALAXYSD_DATA``, ``GALAXYSD_RUNS``, ``GALAXYSD_FIGURES``); they are never derived from the
current working directory, so a notebook gives the same result wherever it is started from.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

PACKAGE_DIR = Path(__file__).resolve().parent
#: A chapter's folder in a run folder: ``01_data``, ``05_quality`` ...
CHAPTER_NAME = re.compile(r"\d{2}_\w+")


def project_root() -> Path | None:
    """The source checkout this package lives in, or ``None`` for a non-editable install.

    Returns
    -------
    pathlib.Path or None
        The folder holding ``notebooks/`` and ``_toc.yml`` next to the package, if there is one.
    """
    root = PACKAGE_DIR.parent
    if (root / "notebooks").is_dir() and (root / "_toc.yml").is_file():
        return root
    return None


def _default_base() -> Path:
    # Inside a checkout, keep outputs beside the book; elsewhere use the user's cache folder.
    root = project_root()
    return root if root is not None else Path.home() / ".cache" / "galaxysd"


@dataclass(frozen=True)
class RunPaths:
    """The three folders a notebook reads and writes.

    Attributes
    ----------
    profile : str
        Profile name (``smoke``, ``demo`` or ``paper``).
    run : pathlib.Path
        Stage outputs of this profile (one sub-folder per stage, each with a ``stage.json`` record).
    figures : pathlib.Path
        Figures of this profile, saved as PNG and PDF.
    data : pathlib.Path
        Downloaded real data files (paper profile) or the simulated survey (smoke/demo).
    """

    profile: str
    run: Path
    figures: Path
    data: Path

    def relative(self, path: str | os.PathLike) -> str:
        """A path as a page prints it: inside the run, data or figures folder, not the machine's absolute path.

        Examples
        --------
        >>> paths = RunPaths("demo", Path("/x/runs/demo"), Path("/x/figures/demo"), Path("/x/data"))
        >>> paths.relative("/x/runs/demo/01_data/survey/gz2_hart16.csv.gz")
        '<run>/01_data/survey/gz2_hart16.csv.gz'
        >>> paths.relative("/elsewhere/file.csv")
        'file.csv'
        """
        path = Path(path)
        for name, folder in (("run", self.run), ("figures", self.figures), ("data", self.data)):
            if path.is_relative_to(folder):
                return f"<{name}>/{path.relative_to(folder).as_posix()}"
        return path.name

    def ensure(self) -> "RunPaths":
        """Create the run and figures folders if they do not exist and return ``self``.

        The data folder is not created: it holds files the user puts there (or ``python -m galaxysd
        fetch`` downloads there), and a wrongly named one must not be left behind as an empty folder.
        """
        for folder in (self.run, self.figures):
            folder.mkdir(parents=True, exist_ok=True)
        return self


def run_paths(profile: str, run_dir: str | os.PathLike = "", figures_dir: str | os.PathLike = "",
              data_dir: str | os.PathLike = "") -> RunPaths:
    """Resolve a profile's folders, filling empty arguments from the environment.

    Parameters
    ----------
    profile : str
        Profile name.
    run_dir, figures_dir, data_dir : str or path-like, optional
        Explicit folders. An empty string means: ``$GALAXYSD_RUNS/<profile>``,
        ``$GALAXYSD_FIGURES/<profile>`` and ``$GALAXYSD_DATA`` respectively, falling back to
        ``runs/``, ``figures/`` and ``data/`` of the source checkout (or ``~/.cache/galaxysd``).

    Returns
    -------
    RunPaths
        Absolute folders; the run and figures folders are created on disk, the data folder is not.

    Examples
    --------
    >>> paths = run_paths("smoke", run_dir="/tmp/gsd-runs")  # doctest: +SKIP
    """
    base = _default_base()
    run = Path(run_dir) if str(run_dir) else Path(os.environ.get("GALAXYSD_RUNS", base / "runs")) / profile
    figures = (Path(figures_dir) if str(figures_dir)
               else Path(os.environ.get("GALAXYSD_FIGURES", base / "figures")) / profile)
    data = Path(data_dir) if str(data_dir) else Path(os.environ.get("GALAXYSD_DATA", base / "data"))
    return RunPaths(profile, run.expanduser().resolve(), figures.expanduser().resolve(),
                    data.expanduser().resolve()).ensure()


# --------------------------------------------------------------------------------------------------
# Paths written into the run folder
# --------------------------------------------------------------------------------------------------
def run_folder_of(path: str | os.PathLike) -> Path | None:
    """The run folder ``path`` lies in: the parent of its nearest folder named like a chapter (``NN_name``).

    Stages write into ``<run>/<NN_chapter>/<stage>/`` (or the stage's partial folder beside it), so
    the chapter folder tells where the run folder is without being told.

    Examples
    --------
    >>> run_folder_of("/x/runs/demo/01_data/training/manifest.csv").as_posix()
    '/x/runs/demo'
    >>> run_folder_of("/x/elsewhere/manifest.csv") is None
    True
    """
    path = Path(os.path.abspath(path))
    for folder in (path, *path.parents):
        if CHAPTER_NAME.fullmatch(folder.name):
            return folder.parent
    return None


def portable_path(path: str | os.PathLike, folder: str | os.PathLike) -> str:
    """How a file written into ``folder`` names ``path``: relative to ``folder`` when both lie in one run folder.

    A run folder then moves (a copy, a checkpoint bundle unpacked elsewhere) and its files still name
    each other, and two runs in two folders write the same bytes. A path outside the run folder (the
    real data) stays absolute; an empty string (no file) stays empty. Read it back with
    :func:`resolve_stored`.

    Parameters
    ----------
    path : str or path-like
        The path to store.
    folder : str or path-like
        The folder of the file that stores it.

    Returns
    -------
    str
        A relative POSIX path (``../survey/images/1.jpg``), or ``path`` unchanged.

    Examples
    --------
    >>> portable_path("/x/runs/demo/01_data/survey/images/1.jpg", "/x/runs/demo/01_data/training")
    '../survey/images/1.jpg'
    >>> portable_path("/data/gz2/images/1.jpg", "/x/runs/demo/01_data/training")
    '/data/gz2/images/1.jpg'
    """
    text = str(path)
    if not text or not os.path.isabs(text):
        return text
    run = run_folder_of(folder)
    target = Path(os.path.abspath(text))
    if run is None or not target.is_relative_to(run):
        return text
    return PurePosixPath(*Path(os.path.relpath(target, os.path.abspath(folder))).parts).as_posix()


def resolve_stored(value: str, folder: str | os.PathLike) -> str:
    """A path read from a file in ``folder``: a relative one joined to ``folder``, others unchanged.

    Examples
    --------
    >>> resolve_stored("../survey/images/1.jpg", "/x/runs/demo/01_data/training")
    '/x/runs/demo/01_data/survey/images/1.jpg'
    >>> resolve_stored("", "/x/runs/demo/01_data/training")
    ''
    """
    if not value or os.path.isabs(value):
        return value
    return os.path.normpath(os.path.join(os.path.abspath(folder), value))
