"""HFModel: the LanguageModel protocol over a local transformers checkpoint, via Engine."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import torch

from reasoning.constraint import LineConstraint
from reasoning.engine import Engine
from reasoning.errors import ModelNotFound
from reasoning.protocols import Grammar
from reasoning.types import Completion, SamplingParams

_WEIGHTS = ("model.safetensors", "model.safetensors.index.json", "pytorch_model.bin", "pytorch_model.bin.index.json")
_TOKENIZER = ("tokenizer.json", "tokenizer_config.json")


def _one_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return f"{type(e).__name__}: {text[0][:200]}" if text else type(e).__name__


@contextmanager
def quiet() -> Iterator[None]:
    """No transformers progress bars inside (they would garble our own output)."""
    from transformers.utils import logging as hf_logging

    was = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if was:
            hf_logging.enable_progress_bar()


class HFModel:
    """A transformers causal LM and its tokenizer. `HFModel(model, tokenizer)` wraps in-memory
    objects; `HFModel.load(dir)` reads a directory written by save_pretrained."""

    def __init__(self, model: torch.nn.Module, tokenizer: Any, path: Path | None = None) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.path = path
        self.engine = Engine(model, tokenizer)
        self._fingerprint: str | None = None

    def identity(self) -> dict[str, str]:
        """What makes this model this model: its directory (where it was loaded from) and a
        fingerprint of its weights and vocabulary, so results are never credited to another model."""
        if self._fingerprint is None:
            h = hashlib.sha256()
            for name, tensor in sorted(self.model.state_dict().items()):
                h.update(name.encode())
                h.update(tensor.detach().cpu().contiguous().view(torch.uint8).numpy().tobytes())
            h.update(json.dumps(self.tokenizer.get_vocab(), sort_keys=True).encode())
            self._fingerprint = h.hexdigest()[:16]
        where = str(self.path.resolve()) if self.path is not None else "(in memory)"
        return {"backend": "hf", "model": where, "fingerprint": self._fingerprint}

    @classmethod
    def load(cls, path: str | Path) -> HFModel:
        """Load a float32 model in eval mode; ModelNotFound if the directory is missing or unusable."""
        from transformers import AutoModelForCausalLM, AutoTokenizer

        path = Path(path).expanduser()
        if not path.is_dir():
            raise ModelNotFound(f"model directory {path} does not exist")
        if not (path / "config.json").is_file():
            raise ModelNotFound(f"model directory {path} has no config.json")
        if not any((path / f).is_file() for f in _WEIGHTS):
            raise ModelNotFound(f"model directory {path} has no weights (model.safetensors or pytorch_model.bin)")
        if not any((path / f).is_file() for f in _TOKENIZER):
            raise ModelNotFound(f"model directory {path} has no tokenizer (tokenizer.json)")
        try:
            tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
        except Exception as e:  # noqa: BLE001 - any failure here means an unusable checkpoint
            raise ModelNotFound(f"cannot load the tokenizer in {path}: {_one_line(e)}") from e
        try:
            with quiet():
                model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32, local_files_only=True)
        except Exception as e:  # noqa: BLE001
            raise ModelNotFound(f"cannot load the model in {path}: {_one_line(e)}") from e
        model.eval()
        return cls(model, tokenizer, path)

    # -- LanguageModel -------------------------------------------------------------------------
    def generate(
        self,
        prompts: Sequence[str],
        params: SamplingParams,
        n: int = 1,
        seed: int = 0,
        constraint: Any = None,
    ) -> list[list[Completion]]:
        if isinstance(constraint, Grammar) or (isinstance(constraint, (list, tuple)) and constraint):
            # an output type (one grammar, or one per prompt): build its logits processor for this call
            reps = 1 if params.temperature == 0 else n  # the engine decodes a greedy prompt once
            constraint = LineConstraint(constraint, self.tokenizer, reps)
        return self.engine.generate(prompts, params, n=n, seed=seed, constraint=constraint)

    def score(self, prompts: Sequence[str], continuations: Sequence[str]) -> list[float]:
        return self.engine.score(prompts, continuations)

    def label_logprobs(self, prompts: Sequence[str], labels: Sequence[str]) -> list[list[float]]:
        return self.engine.label_logprobs(prompts, labels)

    def count_tokens(self, text: str) -> int:
        return self.engine.count_tokens(text)
