"""Where the CLI finds models: an explicit directory or the checkpoint shipped in the package."""

from __future__ import annotations

import time
from importlib import resources
from pathlib import Path

from reasoning.protocols import LanguageModel


def default_model_dir() -> Path:
    return Path(str(resources.files("reasoning").joinpath("checkpoints/default")))


def load_model(path: Path | None) -> tuple[LanguageModel, Path, float]:
    """(model, its directory, seconds it took to load). Raises ModelNotFound."""
    from reasoning.backends.hf import HFModel  # torch import is slow: only when a model is needed

    directory = path if path is not None else default_model_dir()
    start = time.monotonic()
    model = HFModel.load(directory)
    return model, directory, time.monotonic() - start
