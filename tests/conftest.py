"""Shared test setup: deliberate thread counts on small machines, and isolated output folders."""

import os

import pytest

os.environ.setdefault("OMP_NUM_THREADS", "2")


@pytest.fixture(autouse=True, scope="session")
def _torch_threads():
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a dependency, but unit tests of pure code need not care
        yield
        return
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "2")))
    yield


@pytest.fixture
def isolated_dirs(tmp_path, monkeypatch):
    """Point GALAXYSD_RUNS/FIGURES/DATA at a temporary folder so tests never touch the checkout."""
    for name in ("RUNS", "FIGURES", "DATA"):
        folder = tmp_path / name.lower()
        monkeypatch.setenv(f"GALAXYSD_{name}", str(folder))
    return tmp_path
