"""Start a training module on several processes with ``torchrun`` and wait for it.

Fine-tuning (chapter 02) and the classifiers (chapters 06-08) run the same way on several GPUs, or on
several CPU processes in the tests: the configuration is written to a JSON file in the output folder
and ``python -m torch.distributed.run --standalone --nproc_per_node N -m MODULE CONFIG.json`` runs the
module's ``main`` once per process.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from galaxysd.cache import atomic_write_text
from galaxysd.errors import GalaxySDError


def torchrun(module: str, config_json: str, output_dir: str | os.PathLike, num_processes: int, what: str) -> Path:
    """Run ``python -m <module> <output_dir>/launch_config.json`` on ``num_processes`` processes.

    Parameters
    ----------
    module : str
        A module whose ``main`` reads the configuration file (``"galaxysd.diffusion.train"``).
    config_json : str
        The configuration, as JSON text.
    output_dir : str or path-like
        Folder for the configuration file (created if missing).
    num_processes : int
        Processes to start (one per GPU, or CPU processes).
    what : str
        What runs, for the error message (``"fine-tuning"``).

    Returns
    -------
    pathlib.Path
        The configuration file written.

    Raises
    ------
    GalaxySDError
        If the worker processes fail; the message gives the exit code and the command.
    """
    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    cfg_file = out / "launch_config.json"
    atomic_write_text(cfg_file, config_json)
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={num_processes}",
           "-m", module, str(cfg_file)]
    result = subprocess.run(cmd)
    if result.returncode != 0:
        raise GalaxySDError(f"{what} with {num_processes} processes failed (exit {result.returncode}): "
                            f"{' '.join(cmd)}")
    return cfg_file


def cpu_or_gpu_accelerator(cpu: bool, mixed_precision: str, num_threads: int | None = None):
    """The :class:`accelerate.Accelerator` of a training loop: the GPU when there is one, else the CPU.

    Mixed precision applies on a GPU only (a CPU run is full precision); ``num_threads`` sets torch's CPU
    threads when given. Used by fine-tuning and the classifiers, so both choose devices the same way.

    Examples
    --------
    >>> cpu_or_gpu_accelerator(cpu=True, mixed_precision="fp16").device.type
    'cpu'
    """
    import torch
    from accelerate import Accelerator

    if num_threads:
        torch.set_num_threads(num_threads)
    use_cpu = cpu or not torch.cuda.is_available()
    return Accelerator(cpu=use_cpu, mixed_precision="no" if use_cpu else mixed_precision)
