"""Figure 2 (UpSet), Table 1, Figure B3 and the galleries render from small hand-made tables."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from PIL import Image  # noqa: E402

from galaxysd.gz2 import figures  # noqa: E402

TAGS = (["smooth|completely round galaxy"] * 5 + ["spiral galaxy|2 spiral arms"] * 3 +
        ["edge-on galaxy|dust lane|with rounded edge-on bulge"] * 2 +
        ["bar-shaped structure in the center of galaxy|spiral galaxy|merger", "ring"])


@pytest.fixture()
def manifest(tmp_path):
    paths = []
    for i in range(len(TAGS)):
        p = tmp_path / f"{i}.jpg"
        Image.fromarray(np.full((12, 12, 3), 20 * i % 255, np.uint8)).save(p)
        paths.append(str(p))
    return pd.DataFrame({"objid": np.arange(len(TAGS)), "image_path": paths, "tags": TAGS})


@pytest.mark.parametrize("show_counts", [True, False])
def test_figure_2_renders_with_and_without_counts(manifest, show_counts):
    import warnings

    with warnings.catch_warnings():
        # upsetplot's own count labels warn here and fail under NumPy >= 2.4; ours must not
        warnings.simplefilter("error", DeprecationWarning)
        fig = figures.upset_figure(manifest, title="smoke", show_counts=show_counts)
        fig.canvas.draw()
    texts = [t.get_text() for ax in fig.axes for t in ax.texts]
    assert ("5" in texts) == show_counts
    labels = [t.get_text() for ax in fig.axes for t in ax.get_yticklabels()]
    assert {"smooth", "spiral", "edge-on", "dust lane", "ring"} <= set(labels)


def test_tag_indicators_use_short_names_and_drop_absent_tags(manifest):
    ind = figures.tag_indicators(manifest)
    assert ind["completely round"].sum() == 5 and "irregular" not in ind.columns


def test_table_1_counts_galaxies_carrying_every_tag_of_a_prompt(manifest):
    table = figures.table1(manifest, labelled=manifest)
    assert list(table.index) == list("ABCDEFGHIJKLMNOP")
    assert table.loc["B", "training galaxies"] == 5
    assert table.loc["L", "training galaxies"] == 2
    assert table.loc["M", "training galaxies"] == 1
    assert table.loc["K", "training galaxies"] == 0
    assert table.loc["A", "prompt"] == "sdss, cigar-shaped galaxy"


def test_figure_b3_draws_every_task():
    fig = figures.question_tree_figure("tree")
    fig.canvas.draw()
    texts = " ".join(t.get_text() for t in fig.axes[0].texts)
    for n in range(1, 12):
        assert f"T{n:02d}" in texts


def test_gallery_has_one_row_per_tag(manifest):
    fig = figures.gallery_figure(manifest, ["smooth", "ring", "dust lane", "irregular"], n_per_tag=3)
    assert len(fig.axes) == 12
    assert len(fig.axes[3].images) == 1 and len(fig.axes[4].images) == 0  # ring: one image only


def test_thresholds_table_lists_every_task_with_the_chosen_comparison():
    strict = figures.thresholds_table()
    assert len(strict) == 11 and strict.loc["T01 smooth or features"].iloc[0] == "—"
    assert strict.loc["T03 bar"].iloc[0] == "T01 features or disk > 0.430 and T02 edge-on 'no' > 0.715"
    assert strict.loc["T10 arms winding"].iloc[0].endswith("T04 spiral > 0.619")
    inclusive = figures.thresholds_table(threshold_inclusive=True, min_votes=10, votes_inclusive=True)
    assert "T06 odd 'yes' ≥ 0.420" == inclusive.loc["T08 odd feature"].iloc[0]
    assert (inclusive["votes on the task"] == "≥ 10").all()


def test_tags_present_keeps_order_and_drops_tags_nobody_carries(manifest):
    assert figures.tags_present(manifest) == ["smooth", "completely round galaxy", "edge-on galaxy",
                                              "spiral galaxy", "bar-shaped structure in the center of galaxy",
                                              "ring", "merger", "dust lane"]
    assert figures.tags_present(manifest, ["ring", "irregular", "smooth"]) == ["ring", "smooth"]
