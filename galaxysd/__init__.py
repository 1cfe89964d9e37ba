"""galaxysd: the reproducible companion to Ma et al. (2026), "Can AI Dream of Unseen Galaxies?".

The notebooks in ``notebooks/`` tell the paper's story; this package does the work they call.
"""

import os

# OpenMP threads that spin while waiting for work fight any other process for a small machine's cores:
# a SimCLR step with 2 threads took 10 s instead of 2.5 s on 2 shared cores (benchmarks/README.md,
# 2026-12-01). Sleeping threads cost nothing measurable when the machine is idle. Set before torch is
# imported (the notebooks import galaxysd first), and inherited by the kernels the runner starts.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from galaxysd.errors import DataError, GalaxySDError, NotebookExecutionError, ParameterError, PromptError

__version__ = "0.1.0"

__all__ = ["GalaxySDError", "ParameterError", "NotebookExecutionError", "DataError", "PromptError",
           "__version__"]
