"""The GPU throughput benchmark runs end to end at a tiny size on the CPU and reports its figures."""

import importlib.util
import json
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "gpu_diffusion.py"


def load_benchmark():
    spec = importlib.util.spec_from_file_location("gpu_diffusion", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_full_size_defaults_are_the_papers_workload():
    bench = load_benchmark()
    args = bench.parse_args(["--device", "cpu"])
    assert (args.resolution, args.batch, args.sample_steps, args.guidance, args.dtype) == (424, 16, 40, 6.5, "bf16")
    sd15 = bench.SIZES["sd15"]
    assert sd15["unet"]["block_out_channels"] == (320, 640, 1280, 1280)
    assert sd15["unet"]["cross_attention_dim"] == sd15["text"]["hidden_size"] == 768
    assert 424 // sd15["vae_factor"] == 53


@pytest.mark.slow
def test_tiny_cpu_run_reports_throughput_and_flops(tmp_path, capsys):
    bench = load_benchmark()
    out = tmp_path / "result.json"
    result = bench.main(["--tiny", "--json", str(out)])
    printed = capsys.readouterr().out
    assert "fine-tuning:" in printed and "sampling:" in printed and "TFLOP/s achieved" in printed
    saved = json.loads(out.read_text())
    assert saved["model"] == "tiny" and saved["device"] == "cpu"
    for part in ("train", "sample"):
        assert saved[part]["images_per_s"] > 0
        assert saved[part]["flop_per_image"] > 0
        assert saved[part]["tflop_per_s"] > 0
    # a guided step costs two UNet passes, so sampling with 3 steps costs more than 6 forward passes
    sample = saved["sample"]
    assert sample["flop_per_image"] > 3 * 2 * 1e9 * sample["unet_forward_gflop_per_image"]
    assert result["train"]["batch"] == 2
