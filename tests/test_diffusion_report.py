"""The fine-tuning chapter's helpers: its parameters, the loss change, the checkpoint sample grid."""

from __future__ import annotations

import pandas as pd
import pytest

from galaxysd.diffusion import model as dmodel
from galaxysd.diffusion import report, sample
from galaxysd.errors import ParameterError
from galaxysd.stages import s02_finetune as stages

SIZES = dict(vae_channels=(8, 8), unet_channels=(16, 16), unet_attention_levels=(0,), text_hidden=16,
             text_layers=1, text_heads=2, text_intermediate=32, norm_num_groups=4,
             unet_attention_head_dim=4)


def test_finetune_params_pick_the_notebook_knobs_and_nothing_else():
    values = {key: i for i, key in enumerate(stages.NOTEBOOK_KEYS)}
    values.update(profile="demo", paths=object(), num_processes=2)
    params = stages.finetune_params(values)
    assert list(params) == list(stages.NOTEBOOK_KEYS)
    assert params["seed"] == stages.NOTEBOOK_KEYS.index("seed")


def test_finetune_params_name_the_missing_parameter():
    values = {key: 0 for key in stages.NOTEBOOK_KEYS if key != "warmup_steps"}
    with pytest.raises(ParameterError, match="warmup_steps"):
        stages.finetune_params(values)


def test_loss_change_averages_the_first_and_last_fraction_of_steps():
    history = pd.DataFrame({"step": range(1, 41), "loss": [4.0, 2.0] + [1.0] * 36 + [0.5, 0.3]})
    assert report.loss_change(history, 0.05) == (3.0, 0.4)


def test_loss_change_uses_at_least_one_step_at_each_end():
    history = pd.DataFrame({"step": [1, 2, 3], "loss": [3.0, 2.0, 1.0]})
    assert report.loss_change(history, 0.05) == (3.0, 1.0)


@pytest.mark.slow
def test_checkpoint_sample_grid_has_a_row_per_chosen_checkpoint_and_a_column_per_prompt(tmp_path):
    parts = dmodel.build_tiny_components(resolution=16, **SIZES)
    for step in (1, 2, 3):
        dmodel.save_pipeline(parts, tmp_path / "checkpoints" / f"step-{step:06d}")
    settings = sample.SamplerSettings(scheduler="euler_a", steps=2, guidance=2.0, strength=None)
    fig = report.checkpoint_sample_grid(tmp_path, {"B": "sdss, completely round galaxy", "A": "sdss, cigar"},
                                        2, settings, seed=0, title="smoke")
    axes = fig.axes
    assert len(axes) == 2 * 2
    assert [axes[0].get_ylabel(), axes[2].get_ylabel()] == ["step 2", "step 3"]
    assert axes[0].get_title().replace("\n", " ").startswith("B: completely round")


def test_base_stage_key_follows_the_tiny_model_defaults(monkeypatch):
    params = {"base_model": "tiny", "resolution": 64, "tiny_sizes": {"text_layers": 1}, "seed": 0}
    before = stages.base_stage_params(params)
    assert before["tiny_sizes"]["text_layers"] == 1
    assert before["tiny_sizes"]["unet_attention_levels"] == dmodel.TINY_DEFAULTS["unet_attention_levels"]
    monkeypatch.setitem(dmodel.TINY_DEFAULTS, "unet_attention_levels", (0, 1))
    after = stages.base_stage_params(params)
    assert after != before and after["tiny_sizes"]["unet_attention_levels"] == (0, 1)
