"""What every chapter does before its story starts: its folders, its data label, its threads, its clock.

Each notebook opens with one call, ``paths, label, began = setup_chapter(profile, run_dir, figures_dir,
data_dir, num_threads=num_threads)``, so that its first cell after the parameters is about the paper.
"""

from __future__ import annotations

import os
import time
from typing import NamedTuple

from galaxysd.paths import RunPaths


class Chapter(NamedTuple):
    """A chapter's setup (unpacks as ``paths, label, began``)."""

    # the fields are documented here, not in an "Attributes" section: autodoc lists a NamedTuple's
    # fields itself, and both together gave the API page duplicate entries
    #: The profile's run, figures and data folders (:class:`galaxysd.paths.RunPaths`).
    paths: RunPaths
    #: Which profile and which data made the chapter's figures (:func:`galaxysd.plots.profile_label`).
    label: str
    #: ``time.perf_counter()`` when the chapter started, for its measured run time.
    began: float


def setup_chapter(profile: str, run_dir: str | os.PathLike = "", figures_dir: str | os.PathLike = "",
                  data_dir: str | os.PathLike = "", num_threads: int = 0,
                  real_data: bool | None = None) -> Chapter:
    """Resolve a chapter's folders, say which data it shows, set torch's threads and start its clock.

    Parameters
    ----------
    profile : str
        The profile's name.
    run_dir, figures_dir, data_dir : str or path-like, optional
        The folders the runner gives every notebook (:func:`galaxysd.paths.run_paths`; empty: defaults).
    num_threads : int, optional
        torch's CPU threads; 0 leaves torch's default (and does not import torch).
    real_data : bool, optional
        Whether the run reads the real GZ2 data; by default what the run's labels say
        (:func:`galaxysd.gz2.reads_real_data`), as every chapter after the first asks.

    Returns
    -------
    Chapter
        ``paths``, ``label`` and ``began``.

    Examples
    --------
    >>> paths, label, began = setup_chapter(profile, run_dir, figures_dir, data_dir, num_threads=2)  # doctest: +SKIP
    """
    from galaxysd.paths import run_paths
    from galaxysd.plots import profile_label

    paths = run_paths(profile, run_dir, figures_dir, data_dir)
    if real_data is None:
        from galaxysd.gz2 import reads_real_data

        real_data = reads_real_data(paths.run)
    if num_threads:
        import torch

        torch.set_num_threads(num_threads)
    return Chapter(paths, profile_label(profile, real_data), time.perf_counter())
