"""The shared ResNet-18: torchvision's layout, random or from local safetensors, and named errors."""

import pytest
import torch
from safetensors.torch import save_file

from galaxysd.backbone import resnet18_classifier, resnet18_features
from galaxysd.errors import DataError


def test_resnet18_has_torchvisions_parameter_count_without_its_head():
    trunk = resnet18_features()
    # torchvision's resnet18 has 11,689,512 parameters, 513,000 of them in its 1000-class head.
    assert sum(p.numel() for p in trunk.parameters()) == 11_689_512 - 513_000


def test_weights_round_trip_through_a_safetensors_file_with_a_classification_prefix(tmp_path):
    torch.manual_seed(0)
    source = resnet18_features()
    state = {f"resnet.{k}": v.contiguous() for k, v in source.trunk.state_dict().items()}
    state["classifier.1.weight"] = torch.zeros(1000, 512)
    save_file(state, tmp_path / "model.safetensors")
    loaded = resnet18_features(tmp_path)  # a folder holding model.safetensors
    x = torch.randn(2, 3, 32, 32)
    source.eval(), loaded.eval()
    assert torch.allclose(source(x), loaded(x))
    assert resnet18_classifier(3, tmp_path / "model.safetensors")(x).shape == (2, 3)


def test_weights_of_the_wrong_shape_name_the_tensor(tmp_path):
    state = {k: v.contiguous() for k, v in resnet18_features().trunk.state_dict().items()}
    name = "embedder.embedder.convolution.weight"
    state[name] = torch.zeros(64, 1, 7, 7)
    save_file(state, tmp_path / "bad.safetensors")
    with pytest.raises(DataError, match="convolution.weight has shape"):
        resnet18_features(tmp_path / "bad.safetensors")
    with pytest.raises(DataError, match="not found"):
        resnet18_features(tmp_path / "absent.safetensors")
