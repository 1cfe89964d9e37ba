"""The chapter's training stage on small image files in the real formats (the paper profile's path:
images decoded in the data loader, generated positives as PNG files)."""

import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image

from galaxysd.classify.train import TrainConfig
from galaxysd.errors import DataError
from galaxysd.stages import s06_classification as s06

SIZE = 16


def _sample(tmp_path, n=40):
    rng = np.random.default_rng(0)
    spiral = np.arange(n) % 3 == 0
    folder = tmp_path / "images"
    folder.mkdir()
    paths = []
    for i, positive in enumerate(spiral):
        level = 190 if positive else 60
        image = np.clip(level + rng.normal(0, 20, (24, 24, 3)), 0, 255).astype(np.uint8)
        Image.fromarray(image).save(folder / f"{i}.jpg", quality=95)
        paths.append(str(folder / f"{i}.jpg"))
    catalog = pd.DataFrame({"objid": np.arange(n) + 1000, "image_path": paths,
                            "conf_t04_spiral_a08_spiral": spiral, "conf_t04_spiral_a09_no_spiral": ~spiral})
    catalog["part"] = np.array(["train"] * 24 + ["val"] * 8 + ["test"] * 8)
    labels_stage = tmp_path / "labels"
    labels_stage.mkdir()
    (labels_stage / "catalog.csv").write_text(catalog.to_csv(index=False))
    return s06.Sample(catalog, None, labels_stage)


def _generated(tmp_path, n=8):
    folder = tmp_path / "generated"
    folder.mkdir()
    for i in range(n):
        Image.fromarray(np.full((32, 32, 3), 200, np.uint8)).save(folder / f"F-{i:04d}.png")
    return pd.DataFrame({"path": [str(folder / f"F-{i:04d}.png") for i in range(n)]}), folder


@pytest.mark.slow
def test_training_stage_reads_image_files_and_scores_every_run(tmp_path):
    torch.set_num_threads(1)
    sample = _sample(tmp_path)
    generated, gen_folder = _generated(tmp_path)
    plan = s06.run_plan([0], [1.0], ours=1.0)
    config = TrainConfig(epochs=1, batch_size=8, learning_rate=1e-3, cpu=True)
    stage = s06.train_task(tmp_path / "run", sample, "spiral", generated, gen_folder, config, plan, "not_positive",
                           n_negatives=10, split_seed=0, image_size=SIZE, preload=False)
    predictions, runs = s06.read_task(stage.path)
    assert list(runs["run"]) == list(plan["run"])
    assert set(plan["run"]) <= set(predictions.columns) and len(predictions) == 8
    assert predictions["truth"].isna().all() and predictions["label"].sum() == 3
    assert runs.loc[runs["method"] == "augmented", "n_generated"].tolist() == [runs["n_positive"].iloc[0]]
    assert not list((stage.path / "runs").rglob("*.safetensors"))  # weights are not kept
    scores = s06.score_stage(tmp_path / "run", {"spiral": stage}, n_resamples=50)
    assert set(scores["against"]) == {"label"} and len(scores) == 3 * 3
    diffs = s06.read_differences(tmp_path / "run")
    assert set(diffs["method"]) == {"focal", "augmented"} and len(diffs) == 2 * 3
    assert set(diffs["verdict"]) <= {"better", "worse", "too small to tell"}
    assert list(s06.verdicts(diffs, 1.0)) == ["verdict_spiral"]
    assert (runs["epochs_run"] == 1).all()
    again = s06.train_task(tmp_path / "run", sample, "spiral", generated, gen_folder, config, plan, "not_positive",
                           n_negatives=10, split_seed=0, image_size=SIZE, preload=False)
    assert again.hit


def test_a_validation_part_without_positives_is_a_named_error(tmp_path):
    sample = _sample(tmp_path)
    sample.catalog.loc[sample.catalog["part"] == "val", "conf_t04_spiral_a08_spiral"] = False
    with pytest.raises(DataError, match="'spiral'.*validation part has no positives"):
        s06.train_task(tmp_path / "run", sample, "spiral", None, None, TrainConfig(epochs=1, cpu=True),
                       s06.run_plan([0], [1.0], 1.0), "not_positive", 10, 0, SIZE, preload=False)
