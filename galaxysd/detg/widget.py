"""The notebook's inspection tool: a page of candidate images with yes / no / unsure buttons.

A thin ipywidgets view over :class:`galaxysd.detg.session.InspectionSession`, which holds all the
logic (what to show next, saving, resuming). Pressing "save and next page" records the page's
verdicts (galaxies left without an answer stay pending and come back) and shows the next page.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable, Mapping

import numpy as np
import pandas as pd

from galaxysd.detg.session import InspectionSession
from galaxysd.detg.verdicts import VERDICT_WORDS
from galaxysd.errors import DataError


class InspectionView:
    """ipywidgets grid over an inspection session.

    Parameters
    ----------
    session : InspectionSession
        The inspector's session (it saves every page).
    image_bytes : callable
        objID -> the galaxy's image as PNG or JPEG bytes.
    per_page : int, optional
        Galaxies per page.
    columns : int, optional
        Galaxies per row of the grid.
    size_px : int, optional
        Displayed width of each image.

    Examples
    --------
    >>> view = InspectionView(session, lambda o: paths_of[o].read_bytes()); view.widget  # doctest: +SKIP
    """

    def __init__(self, session: InspectionSession, image_bytes: Callable[[int], bytes], per_page: int = 12,
                 columns: int = 4, size_px: int = 160):
        import ipywidgets as w

        self._w = w
        self.session, self.image_bytes = session, image_bytes
        self.per_page, self.columns, self.size_px = per_page, columns, size_px
        self.status = w.HTML()
        self.grid = w.GridBox(layout=w.Layout(grid_template_columns=f"repeat({columns}, {size_px + 20}px)"))
        self.next_button = w.Button(description="save and next page", button_style="primary")
        self.next_button.on_click(lambda _: self.save_page())
        self.widget = w.VBox([self.status, self.grid, self.next_button])
        self.buttons: dict[int, "w.ToggleButtons"] = {}
        self.show_page()

    def show_page(self) -> None:
        """Draw the next page of candidates not judged yet."""
        w = self._w
        ids = self.session.page(self.per_page)
        self.buttons = {int(o): w.ToggleButtons(options=list(VERDICT_WORDS), value=None,
                                                style={"button_width": f"{self.size_px // 3 - 4}px"})
                        for o in ids}
        self.grid.children = [w.VBox([w.Image(value=self.image_bytes(int(o)), width=self.size_px),
                                      w.Label(str(int(o))), self.buttons[int(o)]]) for o in ids]
        left = len(self.session) - self.session.n_done
        self.status.value = (f"<b>{self.session.inspector}</b>: {self.session.n_done} of {len(self.session)} "
                             f"judged, {left} to go; saved to <code>{self.session.path}</code>")
        self.next_button.disabled = not ids.size

    def save_page(self) -> None:
        """Record the answers given on this page, save, and show the next page."""
        self.session.record_many({o: b.value for o, b in self.buttons.items()})
        self.show_page()


def open_inspection(candidates_file: str | os.PathLike, verdict_dir: str | os.PathLike, inspector: str,
                    image_paths: Mapping[int, str | os.PathLike], per_page: int = 12) -> InspectionView:
    """The inspection tool for one inspector over a candidates file (``to_inspect.csv`` of the search).

    Parameters
    ----------
    candidates_file : path-like
        CSV with an ``objid`` column, in the order to show (the search writes it by decreasing score).
    verdict_dir : path-like
        Where ``<inspector>.csv`` is saved (the folder the search's message names).
    inspector : str
        Who is inspecting.
    image_paths : mapping of int to path-like
        objID -> image file (JPEG or PNG).
    per_page : int, optional
        Galaxies per page.

    Returns
    -------
    InspectionView
        Display ``view.widget`` in the notebook.

    Raises
    ------
    DataError
        If the candidates file does not exist or a candidate has no image.

    Examples
    --------
    >>> open_inspection(run / "iter1/to_inspect.csv", verdicts / "iter1", "alice", paths).widget  # doctest: +SKIP
    """
    candidates_file = Path(candidates_file)
    if not candidates_file.is_file():
        raise DataError(f"candidates file {candidates_file} does not exist")
    ids = pd.read_csv(candidates_file)["objid"].to_numpy(np.int64)
    missing = [int(o) for o in ids if int(o) not in image_paths]
    if missing:
        raise DataError(f"{len(missing)} candidate(s) of {candidates_file} have no image, e.g. objid {missing[0]}")
    session = InspectionSession(ids, verdict_dir, inspector)
    return InspectionView(session, lambda o: Path(image_paths[o]).read_bytes(), per_page=per_page)
