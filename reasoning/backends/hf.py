"""HFModel: the LanguageModel protocol over a local transformers checkpoint, via Engine."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import torch

from reasoning.constraints import Compiler, GuideProcessor, is_constraint, is_output_type, settle
from reasoning.engine import Engine
from reasoning.errors import BadInput, ModelNotFound
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
        self.constraints = Compiler(tokenizer)  # compiled constraints, cached for this tokenizer
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
        """`constraint`: None; one output type (Regex, JsonSchema, Choice or a line Grammar) for
        every prompt; a list of one per prompt; or a logits processor of the engine's interface.
        Output types are given no stop strings (they say themselves where the text ends); see
        reasoning.constraints.finish for what finish_reason means under a constraint."""
        per_prompt = constraint if isinstance(constraint, (list, tuple)) else [constraint] * len(prompts)
        if constraint is None or not per_prompt or not all(is_constraint(c) for c in per_prompt):
            if isinstance(constraint, (list, tuple)) and constraint:
                raise BadInput("a list constraint must hold one Regex, JsonSchema, Choice or Grammar per prompt")
            return self.engine.generate(prompts, params, n=n, seed=seed, constraint=constraint)
        if len(per_prompt) != len(prompts):
            raise BadInput(f"got {len(per_prompt)} constraints for {len(prompts)} prompts")
        typed = [is_output_type(c) for c in per_prompt]
        if any(typed):
            if params.stop and not all(typed):
                raise BadInput("stop strings cannot be mixed with output types: constrain these prompts in separate calls")
            params = replace(params, stop=())
        guides = [self.constraints.guide(c, params.stop) for c in per_prompt]
        reps = 1 if params.temperature == 0 else n  # the engine decodes a greedy prompt once
        processor = GuideProcessor(guides, reps, self.constraints.vocab.size)
        out = self.engine.generate(prompts, params, n=n, seed=seed, constraint=processor)
        vocab = self.constraints.vocab
        return [[settle(c, g, vocab, exact) for c in row] for row, g, exact in zip(out, guides, typed)]

    def score(self, prompts: Sequence[str], continuations: Sequence[str]) -> list[float]:
        return self.engine.score(prompts, continuations)

    def label_logprobs(self, prompts: Sequence[str], labels: Sequence[str]) -> list[list[float]]:
        return self.engine.label_logprobs(prompts, labels)

    def count_tokens(self, text: str) -> int:
        return self.engine.count_tokens(text)
