"""Where the CLI gets its model: one ModelSpec (from the options in options.py), loaded and timed."""

from __future__ import annotations

import time
from pathlib import Path

from reasoning.backends.spec import DEFAULT, ModelSpec, shipped_dir
from reasoning.protocols import LanguageModel


def default_model_dir() -> Path:
    return shipped_dir(DEFAULT)


def load_model(spec: ModelSpec | Path | str | None) -> tuple[LanguageModel, Path | str, float]:
    """(model, what was loaded: its directory (hf) or served name (openai), seconds it took).
    A Path or str is a checkpoint directory or shipped model. Raises ModelNotFound / BadInput."""
    from reasoning.backends import load  # the hf backend imports torch: only when a model is needed

    if not isinstance(spec, ModelSpec):
        spec = ModelSpec(model=None if spec is None else str(spec))
    start = time.monotonic()
    model = load(spec)
    where = spec.model_dir() if spec.backend == "hf" else model.identity()["model"]
    return model, where, time.monotonic() - start
