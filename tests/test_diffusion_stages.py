"""Chapter 02's stages: broken training images are found first, reported by objID and left out."""

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from galaxysd.stages import s02_finetune as stages
from galaxysd.errors import DataError
from galaxysd.gz2.manifest import write_manifest

SIZES = dict(vae_channels=(8, 8), unet_channels=(16, 16), unet_attention_levels=(0,), text_hidden=16,
             text_layers=1, text_heads=2, text_intermediate=32, norm_num_groups=4, unet_attention_head_dim=4)


def write_survey(folder, n=6, broken=(), resolution=16):
    """A training manifest of n small JPEGs; the objids in ``broken`` get a truncated or empty file."""
    rng = np.random.default_rng(0)
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    for i in range(n):
        objid = 587722981736000000 + i
        path = folder / f"{objid}.jpg"
        Image.fromarray(rng.integers(0, 255, (resolution, resolution, 3), dtype=np.uint8)).save(path)
        if objid in broken:
            path.write_bytes(path.read_bytes()[:40] if i % 2 else b"")
        rows.append({"objid": objid, "image_path": str(path), "tags": "smooth|completely round galaxy",
                     "caption": "sdss, smooth, completely round galaxy"})
    return write_manifest(pd.DataFrame(rows), folder / "manifest.csv")


def test_broken_training_images_are_reported_by_objid_and_left_out(tmp_path, capsys):
    bad = [587722981736000001, 587722981736000004]
    manifest = write_survey(tmp_path / "survey", broken=bad)
    path, broken = stages.checked_manifest(tmp_path / "run", manifest, progress=False)
    assert broken["objid"].tolist() == bad
    assert broken["reason"].str.contains("truncated|empty").all()
    assert path != manifest and sorted(set(pd.read_csv(path)["objid"])) == [
        587722981736000000 + i for i in (0, 2, 3, 5)]
    assert "2 training image(s) cannot be read and are left out (objID 587722981736000001" in capsys.readouterr().out


def test_a_manifest_whose_images_all_read_is_used_as_it_is(tmp_path):
    manifest = write_survey(tmp_path / "survey")
    path, broken = stages.checked_manifest(tmp_path / "run", manifest, progress=False)
    assert path == manifest and broken.empty


def test_no_readable_training_image_is_an_error_naming_the_manifest(tmp_path):
    manifest = write_survey(tmp_path / "survey", n=2, broken=[587722981736000000, 587722981736000001])
    with pytest.raises(DataError, match="none of the 2 training images"):
        stages.checked_manifest(tmp_path / "run", manifest, progress=False)


def test_training_runs_past_a_broken_image(tmp_path):
    manifest = write_survey(tmp_path / "survey", n=8, broken=[587722981736000003])
    params = dict(base_model="tiny", resolution=16, tiny_sizes=SIZES, autoencoder_steps=2, autoencoder_batch_size=4,
                  autoencoder_learning_rate=1e-3, autoencoder_crop=0, seed=0, max_steps=2, batch_size=4,
                  learning_rate=1e-3, warmup_steps=1, checkpoint_every=100, cpu=True, num_threads=1)
    out = stages.run_finetune_stages(tmp_path / "run", manifest, params)
    assert (out["model"] / "model_index.json").is_file()
    assert out["broken_images"]["objid"].tolist() == [587722981736000003]
    from galaxysd.diffusion.latents import load_latents

    assert 587722981736000003 not in load_latents(out["latents"])["objid"].tolist()
