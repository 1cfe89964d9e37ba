"""Labels from votes: Willett et al. (2013) thresholds, tag walking, captions, exclusion, balancing."""

import numpy as np
import pandas as pd
import pytest

from galaxysd import gz2
from galaxysd.errors import DataError, ParameterError
from galaxysd.gz2.labels import balance, exclude_detg, label_catalog, well_sampled
from galaxysd.gz2.schema import TASK_BY_STEM, THRESHOLDS, hart16_columns


def blank_row(objid=587722981741363201):
    row = {c: 0 for c in hart16_columns()}
    row.update(dr7objid=objid, ra=180.0, dec=10.0, rastring="12:00:00.00", decstring="+10:00:00.0",
               sample="original", gz2_class="S", total_classifications=40, total_votes=0)
    return row


def set_task(row, task, fractions, n=40, debiased=None):
    """Give a task ``n`` votes split by ``fractions`` (one per answer, in file order)."""
    answers = TASK_BY_STEM[task].answers
    assert len(fractions) == len(answers)
    debiased = fractions if debiased is None else debiased
    for a, f, d in zip(answers, fractions, debiased):
        row[a.col("count")] = int(round(f * n))
        row[a.col("weight")] = f * n
        row[a.col("fraction")] = f
        row[a.col("weighted_fraction")] = f
        row[a.col("debiased")] = d
    return row


def table(*rows):
    return pd.DataFrame(list(rows))[hart16_columns()]


def spiral_row(**tasks):
    """A face-on disk that passes every threshold comfortably; ``tasks`` overrides single tasks."""
    row = blank_row()
    spec = {"t01_smooth_or_features": [0.05, 0.93, 0.02], "t02_edgeon": [0.05, 0.95],
            "t03_bar": [0.1, 0.9], "t04_spiral": [0.9, 0.1], "t05_bulge_prominence": [0.05, 0.85, 0.05, 0.05],
            "t06_odd": [0.1, 0.9], "t10_arms_winding": [0.85, 0.1, 0.05],
            "t11_arms_number": [0.0, 0.9, 0.05, 0.05, 0.0, 0.0]}
    spec.update(tasks)
    for task, fr in spec.items():
        set_task(row, task, fr)
    return row


# -------------------------------------------------------------- thresholds at their boundaries

DEPENDENT = [(task, i) for task, conds in THRESHOLDS.items() for i in range(len(conds))]


def _row_for(task):
    """A row in which every precondition of ``task`` passes by a wide margin."""
    row = spiral_row()
    if task == "t07_rounded":
        set_task(row, "t01_smooth_or_features", [0.9, 0.08, 0.02])
    if task == "t08_odd_feature":
        set_task(row, "t06_odd", [0.9, 0.1])
    if task == "t09_bulge_shape":
        set_task(row, "t02_edgeon", [0.95, 0.05])
    for t in TASK_BY_STEM:
        if t not in ("t01_smooth_or_features", "t02_edgeon", "t06_odd", "t04_spiral") and \
                not row[TASK_BY_STEM[t].answers[0].col("count")]:
            n = len(TASK_BY_STEM[t].answers)
            set_task(row, t, [1.0 / n] * n, n=42)
    return row


@pytest.mark.parametrize("task,index", DEPENDENT)
def test_each_preceding_threshold_must_be_exceeded_strictly_by_default(task, index):
    col, thr = THRESHOLDS[task][index]
    row = _row_for(task)
    assert well_sampled(table(row))[task].iloc[0], "the row should pass with every condition met"
    row[f"{col}_weighted_fraction"] = thr
    at = table(row)
    assert not well_sampled(at)[task].iloc[0]
    assert well_sampled(at, threshold_inclusive=True)[task].iloc[0]
    row[f"{col}_weighted_fraction"] = thr + 0.001
    assert well_sampled(table(row))[task].iloc[0]


def test_bar_needs_not_edge_on_above_0_715():
    row = _row_for("t03_bar")
    row["t02_edgeon_a05_no_weighted_fraction"] = 0.715
    assert not well_sampled(table(row))["t03_bar"].iloc[0]
    row["t02_edgeon_a05_no_weighted_fraction"] = 0.716
    assert well_sampled(table(row))["t03_bar"].iloc[0]


def test_a_task_needs_more_than_20_votes():
    row = spiral_row()
    set_task(row, "t03_bar", [0.9, 0.1], n=20)
    assert not well_sampled(table(row))["t03_bar"].iloc[0]
    assert well_sampled(table(row), votes_inclusive=True)["t03_bar"].iloc[0]
    set_task(row, "t03_bar", [0.9, 0.1], n=21)
    assert well_sampled(table(row))["t03_bar"].iloc[0]


@pytest.mark.parametrize("task", list(TASK_BY_STEM))
def test_every_task_needs_more_than_min_votes(task):
    row = _row_for(task)
    answers = TASK_BY_STEM[task].answers
    for n, default, inclusive in ((20, False, True), (21, True, True), (19, False, False)):
        for i, a in enumerate(answers):
            row[a.col("count")] = n if i == 0 else 0
        assert well_sampled(table(row))[task].iloc[0] == default, n
        assert well_sampled(table(row), votes_inclusive=True)[task].iloc[0] == inclusive, n
    assert well_sampled(table(row), min_votes=18)[task].iloc[0]


def test_thresholds_can_apply_to_another_fraction():
    row = _row_for("t03_bar")
    row["t02_edgeon_a05_no_fraction"] = 0.5  # raw fraction fails, weighted passes
    assert well_sampled(table(row))["t03_bar"].iloc[0]
    assert not well_sampled(table(row), fraction="fraction")["t03_bar"].iloc[0]
    with pytest.raises(ParameterError):
        well_sampled(table(row), fraction="votes")


def test_labels_name_the_missing_column():
    t = table(spiral_row()).drop(columns=["t02_edgeon_a05_no_weighted_fraction"])
    with pytest.raises(DataError, match="t02_edgeon_a05_no_weighted_fraction"):
        well_sampled(t)


# -------------------------------------------------------------- tag walking on hand-built rows

def test_edge_on_disk_with_boxy_bulge():
    row = blank_row()
    set_task(row, "t01_smooth_or_features", [0.05, 0.93, 0.02])
    set_task(row, "t02_edgeon", [0.92, 0.08], n=37)
    set_task(row, "t09_bulge_shape", [0.1, 0.85, 0.05], n=34)
    set_task(row, "t06_odd", [0.1, 0.9])
    labels = label_catalog(table(row))
    assert labels.tags.iloc[0] == "edge-on galaxy|with boxy edge-on bulge"
    assert labels.caption.iloc[0] == "sdss, edge-on galaxy, with boxy edge-on bulge"


def test_barred_two_arm_tight_spiral():
    row = spiral_row(t03_bar=[0.88, 0.12])
    caption = label_catalog(table(row)).caption.iloc[0]
    assert caption == ("sdss, bar-shaped structure in the center of galaxy, spiral galaxy, just noticeable "
                       "central bulge prominence, tightly wound spiral arms, 2 spiral arms")


def test_smooth_cigar_with_dust_lane_drops_something_odd():
    row = blank_row()
    set_task(row, "t01_smooth_or_features", [0.9, 0.08, 0.02])
    set_task(row, "t07_rounded", [0.05, 0.1, 0.85], n=36)
    set_task(row, "t06_odd", [0.9, 0.1])
    set_task(row, "t08_odd_feature", [0.02, 0.02, 0.02, 0.02, 0.02, 0.05, 0.85], n=36)
    labels = label_catalog(table(row))
    assert labels.tags.iloc[0].split("|") == ["smooth", "cigar-shaped galaxy", "dust lane"]
    assert "odd" not in labels.caption.iloc[0]


def test_edge_on_answer_is_not_a_tag_when_features_are_not_above_0_430():
    row = blank_row()
    set_task(row, "t01_smooth_or_features", [0.55, 0.43, 0.02], debiased=[0.1, 0.88, 0.02])
    set_task(row, "t02_edgeon", [0.95, 0.05])
    set_task(row, "t06_odd", [0.1, 0.9])
    labels = label_catalog(table(row))
    assert "edge-on galaxy" not in labels.tags.iloc[0]
    assert not labels["ws_t02_edgeon"].iloc[0]


def test_debiased_fraction_must_exceed_0_8():
    row = spiral_row(t04_spiral=[0.9, 0.1])
    set_task(row, "t04_spiral", [0.9, 0.1], debiased=[0.8, 0.2])
    assert "spiral galaxy" not in label_catalog(table(row)).tags.iloc[0]
    set_task(row, "t04_spiral", [0.9, 0.1], debiased=[0.801, 0.199])
    assert "spiral galaxy" in label_catalog(table(row)).tags.iloc[0]


def test_star_or_artifact_is_never_a_tag():
    row = blank_row()
    set_task(row, "t01_smooth_or_features", [0.02, 0.02, 0.96])
    set_task(row, "t06_odd", [0.95, 0.05])
    labels = label_catalog(table(row))
    assert labels.n_tags.iloc[0] == 0 and labels.tags.iloc[0] == ""


def test_labels_of_many_rows_match_row_by_row():
    rows = [spiral_row(), blank_row(2), spiral_row(t03_bar=[0.9, 0.1])]
    rows[2]["dr7objid"] = 3
    together = label_catalog(table(*rows)).tags.tolist()
    alone = [label_catalog(table(r)).tags.iloc[0] for r in rows]
    assert together == alone


# -------------------------------------------------------------- exclusion and balancing

def _labels(tags_list):
    return pd.DataFrame({"objid": np.arange(1, len(tags_list) + 1, dtype=np.int64), "tags": tags_list})


def test_exclusion_removes_known_detg_and_early_types_with_dust_only():
    labels = _labels(["smooth|completely round galaxy", "smooth|in-between round galaxy|dust lane",
                      "edge-on galaxy|dust lane", "smooth|completely round galaxy|dust lane", "spiral galaxy"])
    kept, report = exclude_detg(labels, known_objids=[1, 99])
    assert kept.objid.tolist() == [3, 5]
    assert (report.known_detg, report.early_dust, report.known_not_found) == (1, 2, 1)


def test_balancing_caps_each_tag_combination():
    labels = _labels(["smooth|completely round galaxy"] * 10 + ["spiral galaxy"] * 3 + ["ring"])
    out = balance(labels, cap=4, seed=1)
    assert out.tags.value_counts().to_dict() == {"smooth|completely round galaxy": 4, "spiral galaxy": 3, "ring": 1}
    assert out.objid.tolist() == balance(labels, cap=4, seed=1).objid.tolist()
    draws = {tuple(balance(labels, cap=4, seed=s).objid) for s in range(6)}
    assert len(draws) > 1
    with pytest.raises(ParameterError):
        balance(labels, cap=0)


def test_has_tag_matches_whole_phrases_only():
    labels = _labels(["2 spiral arms", "spiral galaxy|more than 4 spiral arms"])
    assert gz2.has_tag(labels, "spiral galaxy").tolist() == [False, True]
    assert gz2.has_tag(labels, "4 spiral arms").tolist() == [False, False]
