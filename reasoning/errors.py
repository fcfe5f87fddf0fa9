"""Domain errors. The library raises these; only the CLI turns them into a message and an exit code."""


class ReasonError(Exception):
    """Base class for every error a user can cause and fix."""


class BadInput(ReasonError):
    """A problem, option, budget or file the user gave is not valid."""


class ModelNotFound(ReasonError):
    """A model directory does not exist or holds no usable checkpoint."""


class BackendError(ReasonError):
    """A model server failed: it kept answering 429 or 5xx, or sent something unreadable."""
