import numpy as np
import pandas as pd
import pytest
from PIL import Image

from galaxysd import dustlane_report as report
from galaxysd.dustlane import dust_lane, dust_lane_stats
from galaxysd.gz2.simulate import render
from galaxysd.gz2.simulate.population import draw_population


def _ellipticals(n=8, seed=3):
    """Ellipticals of the simulated population (not merging, not disturbed), drawn at random."""
    pop = draw_population(4000, seed=seed)
    ell = pop[(pop["kind"] == "elliptical") & ~pop["merger"] & ~pop["disturbed"]].sample(n, random_state=0)
    return ell.reset_index(drop=True)


def _render(pop, dust: bool, orientation: int = 1, seed: int = 5):
    pop = pop.assign(dust_lane=dust, dust_orientation=orientation, is_detg=dust)
    return render.render_batch(pop, 64, np.random.default_rng(seed))


def test_a_rendered_lane_is_deeper_than_the_same_galaxy_without_it():
    pop = _ellipticals()
    with_lane = dust_lane_stats(_render(pop, True))
    without = dust_lane_stats(_render(pop, False))
    gain = with_lane["lane_depth"] - without["lane_depth"]
    assert (gain > 0).all() and gain.median() > 0.08
    assert without["lane_depth"].abs().median() < 0.1
    assert with_lane["lane_reddening"].median() > 0  # the band is redder, as dust makes it


@pytest.mark.parametrize("orientation, angle", [(1, 0.0), (2, 90.0), (3, 45.0)])
def test_lanes_at_any_angle_are_found_along_their_direction(orientation, angle):
    pop = _ellipticals(6)
    found = dust_lane_stats(_render(pop, True, orientation))
    clean = dust_lane_stats(_render(pop, False))["lane_depth"]
    assert (found["lane_depth"] > clean).all() and (found["lane_depth"] - clean).median() > 0.08
    # the line found lies along the lane (the image's y axis points down, the simulator's up: 45 or 135)
    off = np.minimum.reduce([np.abs((found["lane_angle"] - a + 90) % 180 - 90) for a in {angle, 180 - angle}])
    assert np.median(off) <= 25  # round galaxies have an ill-defined major axis


@pytest.mark.parametrize("turn", [90, 180, 270])
def test_turning_the_image_leaves_the_depth_alone(turn):
    images = _render(_ellipticals(4), True, 3)
    depth = dust_lane_stats(images)["lane_depth"]
    turned = dust_lane_stats([np.rot90(im, turn // 90) for im in images])["lane_depth"]
    assert np.abs(turned - depth).max() < 0.05


def test_an_empty_image_has_no_depth():
    assert np.isnan(dust_lane(np.zeros((32, 32, 3), np.uint8)).depth)


def test_validation_separates_rendered_dusty_galaxies_and_returns_intervals():
    pop = _ellipticals(10)
    depths = pd.concat([dust_lane_stats(_render(pop, True, 2)).assign(group="D-ETG"),
                        dust_lane_stats(_render(pop, False)).assign(group="clean early type")])
    table = report.validation_table(depths, seed=0)
    row = table.loc["D-ETG"]
    assert row["auc"] > 0.9 and row["low"] <= row["auc"] <= row["high"] <= 1
    assert row["median_pos"] > row["median_neg"] and row["n_pos"] == 10
    assert np.isnan(table.loc["dusty disk", "auc"])  # no dusty disk measured: no AUC, not a made-up one
    said = report.validation_sentence(table)
    assert "D-ETGs against clean early types: AUC" in said and "no dusty disk and clean early type pair" in said


def test_truth_groups_follow_the_truth_columns():
    truth = pd.DataFrame({"kind": ["elliptical", "elliptical", "disk", "disk", "elliptical"],
                          "dust_lane": [True, False, True, False, False], "is_detg": [True, False, False, False, False],
                          "merger": [False] * 4 + [True], "disturbed": [False] * 5, "has_image": [True] * 5})
    groups = report.truth_groups(truth)
    assert [len(groups[g]) for g in report.GROUPS] == [1, 1, 1]
    with pytest.raises(report.DataError, match="has_image"):
        report.truth_groups(truth.drop(columns="has_image"))


def test_the_verdict_says_where_the_chain_breaks():
    rng = np.random.default_rng(1)
    real, clean = rng.normal(0.3, 0.05, 30), rng.normal(0.0, 0.05, 30)
    assert "no deeper than clean" in report.detg_lane_verdict(real, rng.normal(0.0, 0.05, 30), clean)
    assert "as deep as real" in report.detg_lane_verdict(real, rng.normal(0.3, 0.05, 30), clean)
    assert "but shallower than real" in report.detg_lane_verdict(real, rng.normal(0.15, 0.05, 30), clean)
    assert report.detg_lane_verdict(real, [0.3, 0.2], clean).startswith("cannot tell with 2 generated")


def test_checkpoint_lanes_compares_the_lane_prompts_with_the_same_prompts_without(tmp_path):
    from PIL import Image

    pop = _ellipticals(6)
    frames = {}
    for step, dust in ((10, False), (20, True)):
        rows = []
        for letter, lane in (("K", dust), ("D", False)):
            for i, image in enumerate(_render(pop, lane, 2)):
                path = tmp_path / f"{step}-{letter}-{i}.png"
                Image.fromarray(image).save(path)
                rows.append({"label": letter, "path": str(path)})
        frames[step] = pd.DataFrame(rows)
    table, said = report.checkpoint_lanes(frames)
    assert list(table.index) == [10, 20] and table.loc[20, "n with lane"] == 6
    assert table.loc[20, "depth with lane"] > table.loc[10, "depth with lane"] + 0.05
    assert said.startswith("at step 20 the dust-lane prompts draw deeper lanes")
    _, none = report.checkpoint_lanes({5: frames[10][frames[10]["label"] == "D"]})
    assert none.startswith("no checkpoint drew")


def test_a_later_chapter_reads_the_lane_verdict_from_chapter_07s_depth_stage(tmp_path):
    from galaxysd import dustlane_report

    assert dustlane_report.stage_lane_verdict(tmp_path) is None  # the stage has not run
    rng = np.random.default_rng(1)
    rows = [("known D-ETG", rng.normal(0.3, 0.03, 30)), ("generated D-ETG", rng.normal(0.04, 0.03, 30)),
            ("clean early type", rng.normal(0.04, 0.03, 30))]
    frame = pd.concat([pd.DataFrame({"group": g, "lane_depth": v}) for g, v in rows])
    frame.to_csv(tmp_path / "depths.csv", index=False)
    assert dustlane_report.stage_lane_verdict(tmp_path).startswith(
        "generated D-ETGs' lanes are no deeper than clean early types'")
    frame[frame["group"] != "clean early type"].to_csv(tmp_path / "depths.csv", index=False)
    assert dustlane_report.stage_lane_verdict(tmp_path) is None


def test_a_depth_stage_names_its_images_relative_to_the_run_folder_and_moves_with_it(tmp_path):
    import shutil

    run = tmp_path / "run"
    (run / "01_data").mkdir(parents=True)
    paths = []
    for i in range(2):
        paths.append(run / "01_data" / f"g{i}.png")
        Image.fromarray(np.full((16, 16, 3), 60 * i, np.uint8)).save(paths[-1])
    images = pd.DataFrame({"group": ["a", "b"], "path": [str(p) for p in paths]})
    first = report.depth_stage(run, "03_generate/dustlane", images, 16)
    assert first["path"].tolist() == images["path"].tolist()
    assert str(run) not in (run / "03_generate" / "dustlane" / "depths.csv").read_text()
    moved = tmp_path / "moved"
    shutil.copytree(run, moved)
    written = (moved / "03_generate" / "dustlane" / "depths.csv").stat().st_mtime_ns
    again = report.depth_stage(moved, "03_generate/dustlane",
                               images.assign(path=[str(moved / "01_data" / p.name) for p in paths]), 16)
    assert (moved / "03_generate" / "dustlane" / "depths.csv").stat().st_mtime_ns == written, "loaded, not recomputed"
    assert again["path"].tolist() == [str(moved / "01_data" / p.name) for p in paths]
