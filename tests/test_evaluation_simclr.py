"""The SimCLR embedding: its loss against a direct computation, views, resumption and weight loading."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file

from galaxysd.errors import DataError, ParameterError
from galaxysd.evaluation.simclr import SimCLR, augment, embed, load_simclr, nt_xent_loss, save_simclr
from galaxysd.evaluation.train import SimCLRConfig, train_simclr


def _direct_nt_xent(z1, z2, tau):
    """The NT-Xent loss written out pair by pair, as Chen et al. (2020) define it."""
    z = [F.normalize(v, dim=0) for v in torch.cat([z1, z2])]
    n = len(z1)
    total = 0.0
    for i in range(2 * n):
        j = (i + n) % (2 * n)
        sims = [math.exp(float(z[i] @ z[k]) / tau) for k in range(2 * n) if k != i]
        total += -math.log(math.exp(float(z[i] @ z[j]) / tau) / sum(sims))
    return total / (2 * n)


def test_nt_xent_equals_the_pairwise_definition():
    gen = torch.Generator().manual_seed(1)
    z1, z2 = torch.randn(5, 7, generator=gen), torch.randn(5, 7, generator=gen)
    for tau in (0.5, 0.1):
        loss, _ = nt_xent_loss(z1, z2, tau)
        assert float(loss) == pytest.approx(_direct_nt_xent(z1, z2, tau), rel=1e-5)


def test_identical_views_of_orthogonal_galaxies_give_top1_of_one_and_a_small_loss():
    z = torch.eye(6) * 3
    loss, top1 = nt_xent_loss(z, z.clone(), temperature=0.1)
    assert float(top1) == 1.0
    assert float(loss) < 1e-3
    _, top1_swapped = nt_xent_loss(z, z.roll(1, dims=0), temperature=0.1)
    assert float(top1_swapped) == 0.0


def test_nt_xent_rejects_mismatched_batches_and_bad_temperature():
    with pytest.raises(ParameterError, match="batches"):
        nt_xent_loss(torch.zeros(4, 3), torch.zeros(5, 3))
    with pytest.raises(ParameterError, match="temperature"):
        nt_xent_loss(torch.ones(4, 3), torch.ones(4, 3), temperature=0)


def test_views_are_seeded_in_range_and_keep_a_round_galaxy_centred():
    yy, xx = torch.meshgrid(torch.arange(32.0), torch.arange(32.0), indexing="ij")
    blob = torch.exp(-((xx - 15.5) ** 2 + (yy - 15.5) ** 2) / 20)
    images = (blob * 255).to(torch.uint8).expand(8, 3, 32, 32).contiguous()
    a = augment(images, torch.Generator().manual_seed(3), crop_scale=(1.0, 1.0), jitter=0.0)
    b = augment(images, torch.Generator().manual_seed(3), crop_scale=(1.0, 1.0), jitter=0.0)
    assert torch.equal(a, b)
    assert a.min() >= 0 and a.max() <= 1
    # turns and mirrors of a centred round blob leave it as it was
    assert torch.allclose(a, images.float() / 255, atol=2e-2)
    c = augment(images, torch.Generator().manual_seed(4), crop_scale=(0.3, 0.3), jitter=0.2)
    assert not torch.allclose(c, a, atol=2e-2)


def _images(n=24, size=16, seed=0):
    return torch.from_numpy(np.random.default_rng(seed).integers(0, 256, (n, 3, size, size), dtype=np.uint8))


def test_a_killed_and_resumed_run_ends_with_the_weights_of_an_uninterrupted_one(tmp_path):
    images = _images()
    config = SimCLRConfig(epochs=1.5, batch_size=8, checkpoint_every=2, seed=5)
    whole = train_simclr(images, tmp_path / "whole", config, progress=False)
    first = train_simclr(images, tmp_path / "resumed", config, stop_after=2, progress=False)
    assert len(first) == 2 and not (tmp_path / "resumed" / "model.safetensors").exists()
    resumed = train_simclr(images, tmp_path / "resumed", config, progress=False)
    assert len(whole) == config.total_steps(len(images)) == 4
    pd_cols = ["loss", "top1"]
    assert np.allclose(whole[pd_cols].to_numpy(), resumed[pd_cols].to_numpy())
    a, b = load_file(tmp_path / "whole" / "model.safetensors"), load_file(tmp_path / "resumed" / "model.safetensors")
    assert a.keys() == b.keys()
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_a_saved_encoder_loads_whole_and_embeds_as_before(tmp_path):
    torch.manual_seed(0)
    model = SimCLR(projection_dim=32)
    path = save_simclr(model, tmp_path / "enc.safetensors")
    loaded = load_simclr(path)
    images = _images(4, 32)
    assert np.allclose(embed(model, images), embed(loaded, images), atol=1e-5)
    assert loaded.head[2].out_features == 32


def test_released_trunk_weights_in_the_transformers_layout_fill_the_trunk(tmp_path):
    torch.manual_seed(1)
    source = SimCLR()
    save_file({k: v.contiguous() for k, v in source.trunk.trunk.state_dict().items()}, tmp_path / "released.safetensors")
    loaded = load_simclr(tmp_path / "released.safetensors")
    images = _images(3, 32)
    assert np.allclose(embed(source, images), embed(loaded, images), atol=1e-5)


def test_weights_of_the_wrong_shape_or_a_missing_file_are_named_errors(tmp_path):
    state = {k: v.contiguous() for k, v in SimCLR().state_dict().items()}
    state["head.0.weight"] = torch.zeros(3, 3)
    save_file(state, tmp_path / "bad.safetensors")
    with pytest.raises(DataError, match="head.0.weight has shape"):
        load_simclr(tmp_path / "bad.safetensors")
    trunk = {k: v.contiguous() for k, v in SimCLR().trunk.trunk.state_dict().items()}
    trunk["embedder.embedder.convolution.weight"] = torch.zeros(64, 1, 7, 7)
    save_file(trunk, tmp_path / "bad_trunk.safetensors")
    with pytest.raises(DataError, match="convolution.weight has shape"):
        load_simclr(tmp_path / "bad_trunk.safetensors")
    with pytest.raises(DataError, match="do not exist"):
        load_simclr(tmp_path / "absent.safetensors")


def test_too_few_images_to_train_is_a_parameter_error(tmp_path):
    with pytest.raises(ParameterError, match="at least 2 images"):
        train_simclr(_images(1), tmp_path, SimCLRConfig(), progress=False)
