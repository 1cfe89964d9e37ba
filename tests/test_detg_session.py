"""The inspection tool's logic without a browser: record, save atomically, resume, one file per inspector."""

import io
import itertools

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from galaxysd.detg.session import InspectionSession
from galaxysd.detg.verdicts import VerdictError, read_verdicts, write_verdicts
from galaxysd.errors import DataError

CAND = np.array([30, 10, 20, 40, 50], dtype=np.int64)


def _clock():
    ticks = itertools.count()
    return lambda: f"2026-12-01T10:00:{next(ticks):02d}+00:00"


def test_every_recorded_verdict_is_on_disk_at_once(tmp_path):
    s = InspectionSession(CAND, tmp_path, "alice", clock=_clock())
    s.record(30, "yes")
    on_disk = read_verdicts(tmp_path / "alice.csv", CAND)
    assert on_disk[["objid", "inspector", "verdict"]].values.tolist() == [[30, "alice", "yes"]]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary file left


def test_a_new_session_resumes_where_the_inspector_stopped(tmp_path):
    s = InspectionSession(CAND, tmp_path, "alice", clock=_clock())
    s.record_many({30: "yes", 10: "no"})
    assert s.position == 2
    again = InspectionSession(CAND, tmp_path, "alice")
    assert again.n_done == 2 and again.verdict(10) == "no"
    assert again.page(2).tolist() == [20, 40]
    assert again.position == 2


def test_skipped_galaxies_stay_pending_and_come_back_first(tmp_path):
    s = InspectionSession(CAND, tmp_path, "bob", clock=_clock())
    s.record_many({30: None, 10: "unsure", 20: "yes"})
    assert s.page(3).tolist() == [30, 40, 50]


def test_changing_a_verdict_replaces_it(tmp_path):
    s = InspectionSession(CAND, tmp_path, "bob", clock=_clock())
    s.record(20, "yes")
    s.record(20, "no")
    frame = read_verdicts(tmp_path / "bob.csv")
    assert frame.verdict.tolist() == ["no"] and len(frame) == 1


def test_each_inspector_writes_their_own_file(tmp_path):
    InspectionSession(CAND, tmp_path, "alice", clock=_clock()).record(30, "yes")
    InspectionSession(CAND, tmp_path, "bob", clock=_clock()).record(30, "no")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["alice.csv", "bob.csv"]


def test_a_session_is_done_when_every_candidate_is_judged(tmp_path):
    s = InspectionSession(CAND, tmp_path, "carol", clock=_clock())
    s.record_many({int(o): "no" for o in CAND})
    assert s.done and s.page(4).size == 0 and s.position == len(CAND)


def test_unknown_objids_and_words_are_refused(tmp_path):
    s = InspectionSession(CAND, tmp_path, "alice", clock=_clock())
    with pytest.raises(VerdictError, match="not among"):
        s.record(99, "yes")
    with pytest.raises(VerdictError, match="unknown verdict word"):
        s.record(30, "probably")
    assert not (tmp_path / "alice.csv").exists()


def test_a_file_with_another_inspectors_verdicts_is_refused(tmp_path):
    write_verdicts(pd.DataFrame({"objid": [30], "inspector": ["bob"], "verdict": ["yes"],
                                 "time": ["2026-12-01T10:00:00Z"]}), tmp_path / "alice.csv")
    with pytest.raises(VerdictError, match="one file per inspector"):
        InspectionSession(CAND, tmp_path, "alice")


def test_the_widget_view_records_a_page_and_shows_the_next(tmp_path):
    pytest.importorskip("ipywidgets")
    from galaxysd.detg.widget import InspectionView
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 100, 50)).save(buf, format="PNG")
    s = InspectionSession(CAND, tmp_path, "alice", clock=_clock())
    view = InspectionView(s, lambda o: buf.getvalue(), per_page=2)
    assert list(view.buttons) == [30, 10]
    view.buttons[30].value = "yes"
    view.save_page()
    assert read_verdicts(tmp_path / "alice.csv").objid.tolist() == [30]
    assert list(view.buttons) == [10, 20]
    assert "1 of 5 judged" in view.status.value


def test_the_verdict_buttons_show_each_word_whole(tmp_path):
    pytest.importorskip("ipywidgets")
    from galaxysd.detg.widget import InspectionView
    buf = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buf, format="PNG")
    view = InspectionView(InspectionSession(CAND, tmp_path, "alice"), lambda o: buf.getvalue(), per_page=2)
    buttons = view.buttons[30]
    assert list(buttons.options) == ["yes", "no", "unsure"]
    # a fixed width cuts a word with an ellipsis; a button as wide as its content does not
    assert buttons.style.button_width in ("max-content", "auto", "")
    assert "max-content" in view.grid.layout.grid_template_columns   # nor does the column squeeze them


def test_an_inspector_enlarges_a_galaxy_at_the_surveys_full_resolution_and_closes_it(tmp_path):
    pytest.importorskip("ipywidgets")
    from galaxysd.detg.widget import InspectionView
    images = {}
    for o in CAND:
        buf = io.BytesIO()
        Image.new("RGB", (424, 424), (int(o), 0, 0)).save(buf, format="PNG")
        images[int(o)] = buf.getvalue()
    view = InspectionView(InspectionSession(CAND, tmp_path, "alice"), images.__getitem__, per_page=2, size_px=100)
    assert view.zoom.children == ()
    view.enlarge_buttons[10].value = True   # a click on the galaxy's "enlarge" button
    caption, big = view.zoom.children
    assert big.value == images[10] and (big.width, big.height) == ("424", "424") and "424 x 424 px" in caption.value
    assert view.grid.children[1].children[0].width == "100"   # the thumbnail stays small
    view.enlarge_buttons[30].value = True   # another galaxy replaces it
    assert view.zoom.children[1].value == images[30] and not view.enlarge_buttons[10].value
    view.enlarge_buttons[30].value = False
    assert view.zoom.children == ()
    view.enlarge_buttons[10].value = True
    view.buttons[30].value, view.buttons[10].value = "yes", "no"
    view.save_page()   # a new page closes it
    assert view.zoom.children == () and list(view.enlarge_buttons) == [20, 40]


def test_a_small_simulated_image_is_enlarged_a_whole_number_of_times(tmp_path):
    pytest.importorskip("ipywidgets")
    from galaxysd.detg.widget import InspectionView
    buf = io.BytesIO()
    Image.new("RGB", (64, 48)).save(buf, format="PNG")
    view = InspectionView(InspectionSession(CAND, tmp_path, "alice"), lambda o: buf.getvalue(), per_page=1)
    view.enlarge(30)
    caption, big = view.zoom.children
    assert (big.width, big.height) == ("320", "240") and "64 x 48 px (full resolution, shown 5x larger)" in caption.value


def test_the_tool_opens_on_a_candidates_file_and_resumes_from_the_inspectors_file(tmp_path):
    pytest.importorskip("ipywidgets")
    from galaxysd.detg.widget import open_inspection
    paths = {}
    for o in CAND:
        paths[int(o)] = tmp_path / f"{o}.jpg"
        Image.new("RGB", (8, 8), (int(o), 0, 0)).save(paths[int(o)])
    cand = tmp_path / "to_inspect.csv"
    pd.DataFrame({"objid": CAND, "score": np.linspace(0.9, 0.5, 5)}).to_csv(cand, index=False)
    view = open_inspection(cand, tmp_path / "verdicts", "dan", paths, per_page=3)
    for b in view.buttons.values():
        b.value = "no"
    view.save_page()
    again = open_inspection(cand, tmp_path / "verdicts", "dan", paths, per_page=3)
    assert list(again.buttons) == [40, 50]
    del paths[50]
    with pytest.raises(DataError, match="no image"):
        open_inspection(cand, tmp_path / "verdicts", "dan", paths)
