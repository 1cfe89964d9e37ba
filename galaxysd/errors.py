"""Error types that callers can catch.

Every error raised on purpose by :mod:`galaxysd` derives from :class:`GalaxySDError`, and its message
names the thing that is wrong (file, column, parameter) and what was expected instead.
"""


class GalaxySDError(Exception):
    """Base class of every error galaxysd raises on purpose."""


class ParameterError(GalaxySDError, ValueError):
    """A notebook, profile or parameter is unknown, or a value has the wrong type."""


class NotebookExecutionError(GalaxySDError, RuntimeError):
    """A notebook cell failed while the runner executed it."""


class DataError(GalaxySDError, ValueError):
    """An input file is missing, malformed, or does not match its expected schema."""


class CheckpointError(GalaxySDError, ValueError):
    """A checkpoint bundle is damaged, of another galaxysd version, or cannot be unpacked where asked."""


class DataWarning(UserWarning):
    """Input data that can be used, but lose something the user should know of (counted in the message)."""


class PromptError(GalaxySDError, ValueError):
    """A (weighted) prompt is malformed."""


class GenerationError(GalaxySDError, RuntimeError):
    """A model produced an unusable result: a non-finite embedding, or a non-finite or constant image."""
