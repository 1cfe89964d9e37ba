"""The notebook's inspection tool: a page of candidate images with yes / no / unsure buttons.

A thin ipywidgets view over :class:`galaxysd.detg.session.InspectionSession`, which holds all the
logic (what to show next, saving, resuming). Pressing "save and next page" records the page's
verdicts (galaxies left without an answer stay pending and come back) and shows the next page.
A thumbnail is too small to see a dust lane: each galaxy's "enlarge" button shows it beside the grid
at the survey's full resolution (one galaxy at a time; press it again to close).
"""

from __future__ import annotations

import io
import math
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
        Displayed width of each thumbnail.
    min_zoom_px : int, optional
        Smallest displayed width of an enlarged galaxy: an image smaller than this at full
        resolution is shown an integer number of times larger.

    Examples
    --------
    >>> view = InspectionView(session, lambda o: paths_of[o].read_bytes()); view.widget  # doctest: +SKIP
    """

    def __init__(self, session: InspectionSession, image_bytes: Callable[[int], bytes], per_page: int = 12,
                 columns: int = 4, size_px: int = 160, min_zoom_px: int = 320):
        import ipywidgets as w

        self._w = w
        self.session, self.image_bytes = session, image_bytes
        self.per_page, self.columns, self.size_px, self.min_zoom_px = per_page, columns, size_px, min_zoom_px
        self.status = w.HTML()
        # a column as wide as the thumbnail or as its three verdict words, whichever is wider
        self.grid = w.GridBox(layout=w.Layout(
            grid_template_columns=f"repeat({columns}, minmax({size_px + 20}px, max-content))"))
        self.zoom = w.VBox()  # the galaxy an inspector enlarged, at full resolution
        self.next_button = w.Button(description="save and next page", button_style="primary")
        self.next_button.on_click(lambda _: self.save_page())
        self.widget = w.VBox([self.status, w.HBox([self.grid, self.zoom]), self.next_button])
        self.buttons: dict[int, "w.ToggleButtons"] = {}
        self.enlarge_buttons: dict[int, "w.ToggleButton"] = {}
        self.enlarged: int | None = None
        self.show_page()

    def show_page(self) -> None:
        """Draw the next page of candidates not judged yet."""
        w = self._w
        ids = self.session.page(self.per_page)
        self.enlarge(None)
        # each button as wide as its word ("unsure" whole, not cut to "un...")
        self.buttons = {int(o): w.ToggleButtons(options=list(VERDICT_WORDS), value=None,
                                                style={"button_width": "max-content"})
                        for o in ids}
        self.enlarge_buttons = {int(o): w.ToggleButton(value=False, description="enlarge", icon="search-plus",
                                                       tooltip="show this galaxy at the survey's full resolution",
                                                       layout=w.Layout(width="max-content"))
                                for o in ids}
        for objid, button in self.enlarge_buttons.items():
            button.observe(lambda change, o=objid: self._enlarge_toggled(o, change["new"]), names="value")
        self.grid.children = [w.VBox([w.Image(value=self.image_bytes(int(o)), width=self.size_px),
                                      w.HBox([w.Label(str(int(o))), self.enlarge_buttons[int(o)]]),
                                      self.buttons[int(o)]]) for o in ids]
        left = len(self.session) - self.session.n_done
        self.status.value = (f"<b>{self.session.inspector}</b>: {self.session.n_done} of {len(self.session)} "
                             f"judged, {left} to go; saved to <code>{self.session.path}</code>")
        self.next_button.disabled = not ids.size

    def save_page(self) -> None:
        """Record the answers given on this page, save, and show the next page."""
        self.session.record_many({o: b.value for o, b in self.buttons.items()})
        self.show_page()

    def enlarge(self, objid: int | None) -> None:
        """Show galaxy ``objid`` beside the grid at the survey's full resolution (``None``: close).

        An image narrower than ``min_zoom_px`` (a simulated survey's small images) is shown an
        integer number of times larger, and the caption says so.
        """
        from PIL import Image

        w = self._w
        self.enlarged = objid
        for other, button in self.enlarge_buttons.items():
            button.value = other == objid
        if objid is None:
            self.zoom.children = ()
            return
        data = self.image_bytes(int(objid))
        width, height = Image.open(io.BytesIO(data)).size
        factor = max(1, math.ceil(self.min_zoom_px / width))
        shown = "full resolution" + (f", shown {factor}x larger" if factor > 1 else "")
        self.zoom.children = (w.HTML(f"<b>{int(objid)}</b>: {width} x {height} px ({shown})"),
                              w.Image(value=data, width=str(width * factor), height=str(height * factor)))

    def _enlarge_toggled(self, objid: int, pressed: bool) -> None:
        if pressed and self.enlarged != objid:
            self.enlarge(objid)
        elif not pressed and self.enlarged == objid:
            self.enlarge(None)


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
