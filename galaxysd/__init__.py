"""galaxysd: the reproducible companion to Ma et al. (2026), "Can AI Dream of Unseen Galaxies?".

The notebooks in ``notebooks/`` tell the paper's story; this package does the work they call.
"""

from galaxysd.chapter import Chapter, setup_chapter
from galaxysd.errors import DataError, GalaxySDError, NotebookExecutionError, ParameterError, PromptError

__version__ = "0.1.0"

__all__ = ["GalaxySDError", "ParameterError", "NotebookExecutionError", "DataError", "PromptError",
           "Chapter", "setup_chapter", "__version__"]
