"""HFModel: the LanguageModel protocol over a local transformers checkpoint, via Engine."""

from __future__ import annotations

import functools
import hashlib
import json
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

import torch

from reasoning.constraints import Compiler, GuideProcessor, is_constraint, is_output_type, settle
from reasoning.engine import Engine
from reasoning.errors import BadInput, ModelNotFound
from reasoning.protocols import Capabilities
from reasoning.types import Completion, SamplingParams

_WEIGHTS = ("model.safetensors", "model.safetensors.index.json", "pytorch_model.bin", "pytorch_model.bin.index.json")
_TOKENIZER = ("tokenizer.json", "tokenizer_config.json", "tokenizer.model", "vocab.json")
F = TypeVar("F", bound=Callable[..., Any])


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


def pick_device(name: str = "auto") -> torch.device:
    """auto: cuda if torch sees a GPU, else mps, else cpu. BadInput for a device torch lacks."""
    cuda, mps = torch.cuda.is_available(), torch.backends.mps.is_available()
    if name == "auto":
        return torch.device("cuda" if cuda else "mps" if mps else "cpu")
    if (name == "cuda" and not cuda) or (name == "mps" and not mps):
        raise BadInput(f"--device {name}: this torch build sees no {name} device")
    if name not in ("cpu", "cuda", "mps"):
        raise BadInput(f"unknown device {name!r}; choose from auto, cpu, cuda, mps")
    return torch.device(name)


def pick_dtype(name: str, device: torch.device) -> torch.dtype | str:
    """auto: float32 on a CPU, the checkpoint's own dtype ("auto" to transformers) on a GPU."""
    if name == "auto":
        return torch.float32 if device.type == "cpu" else "auto"
    dtypes = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}
    if name not in dtypes:
        raise BadInput(f"unknown dtype {name!r}; choose from auto, {', '.join(dtypes)}")
    return dtypes[name]


def _serialized(method: F) -> F:
    """One call at a time per model: callers may share a model across threads (bench
    --concurrency); torch on one device gains nothing from overlapping forwards."""

    @functools.wraps(method)
    def locked(self: HFModel, *args: Any, **kwargs: Any) -> Any:
        with self._lock:
            return method(self, *args, **kwargs)

    return locked  # type: ignore[return-value]


def fingerprint(model: torch.nn.Module, tokenizer: Any) -> str:
    """16 hex digits of a SHA-256 over a model's weights (by name) and its tokenizer's vocabulary."""
    h = hashlib.sha256()
    for name, tensor in sorted(model.state_dict().items()):
        h.update(name.encode())
        h.update(tensor.detach().cpu().contiguous().view(torch.uint8).numpy().tobytes())
    h.update(json.dumps(tokenizer.get_vocab(), sort_keys=True).encode())
    return h.hexdigest()[:16]


class HFModel:
    """A transformers causal LM and its tokenizer. `HFModel(model, tokenizer)` wraps in-memory
    objects; `HFModel.load(dir)` reads a directory written by save_pretrained. Any causal LM
    and any tokenizer (characters, BPE, bytes; with or without BOS) works; safe to call from
    several threads (calls run one at a time)."""

    def __init__(self, model: torch.nn.Module, tokenizer: Any, path: Path | None = None) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.path = path
        self.engine = Engine(model, tokenizer)
        self.constraints = Compiler(tokenizer)  # compiled constraints, cached for this tokenizer
        self._fingerprint: str | None = None
        self._lock = threading.RLock()

    def capabilities(self) -> Capabilities:
        """Everything: the engine reads any log-probability, samples n per prefill, seeds a
        torch.Generator and masks logits for constraints."""
        return Capabilities()

    @property
    def has_chat_template(self) -> bool:
        return bool(getattr(self.tokenizer, "chat_template", None))

    def render_chat(self, messages: Sequence[Mapping[str, str]]) -> str:
        """The prompt text of a conversation (OpenAI-style `{"role", "content"}` messages),
        ending where the assistant's reply begins. With the tokenizer's chat template when it
        has one (its leading BOS text dropped: generate adds BOS itself); without one, the
        contents in order joined by blank lines, so a single user message reaches the model
        exactly as a completion prompt would."""
        for m in messages:
            if not isinstance(m, Mapping) or not isinstance(m.get("content"), str) or not isinstance(m.get("role"), str):
                raise BadInput("each chat message needs a string 'role' and a string 'content'")
        if not messages:
            raise BadInput("a chat needs at least one message")
        if not self.has_chat_template:
            return "\n\n".join(m["content"] for m in messages)
        with self._lock:
            text = self.tokenizer.apply_chat_template(
                [dict(m) for m in messages], tokenize=False, add_generation_prompt=True
            )
        bos = self.tokenizer.bos_token
        return text[len(bos) :] if bos and text.startswith(bos) else text

    def identity(self) -> dict[str, str]:
        """What makes this model this model: its directory (where it was loaded from) and a
        fingerprint of its weights and vocabulary, so results are never credited to another model."""
        if self._fingerprint is None:
            self._fingerprint = fingerprint(self.model, self.tokenizer)
        where = str(self.path.resolve()) if self.path is not None else "(in memory)"
        return {"backend": "hf", "model": where, "fingerprint": self._fingerprint}

    @classmethod
    def load(cls, path: str | Path, device: str = "cpu", dtype: str = "float32") -> HFModel:
        """Load a model in eval mode on `device` (auto | cpu | cuda | mps) in `dtype` (auto |
        float32 | bfloat16 | float16; see pick_dtype). ModelNotFound if the directory is missing
        or unusable, BadInput for a device this torch lacks."""
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
            archs = json.loads((path / "config.json").read_text()).get("architectures") or []
        except (ValueError, AttributeError) as e:
            raise ModelNotFound(f"model directory {path} has an unreadable config.json: {_one_line(e)}") from e
        if any(a.endswith("ForSequenceClassification") for a in archs):
            raise ModelNotFound(f"{path} is a reward model, not a language model: pass it as --reward-model")
        where = pick_device(device)
        torch_dtype = pick_dtype(dtype, where)
        try:
            tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
        except Exception as e:  # noqa: BLE001 - any failure here means an unusable checkpoint
            raise ModelNotFound(f"cannot load the tokenizer in {path}: {_one_line(e)}") from e
        try:
            with quiet():
                model = AutoModelForCausalLM.from_pretrained(path, dtype=torch_dtype, local_files_only=True)
        except Exception as e:  # noqa: BLE001
            raise ModelNotFound(f"cannot load the model in {path}: {_one_line(e)}") from e
        model.to(where).eval()
        return cls(model, tokenizer, path)

    # -- LanguageModel -------------------------------------------------------------------------
    @_serialized
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

    @_serialized
    def score(self, prompts: Sequence[str], continuations: Sequence[str]) -> list[float]:
        return self.engine.score(prompts, continuations)

    @_serialized
    def label_logprobs(self, prompts: Sequence[str], labels: Sequence[str]) -> list[list[float]]:
        return self.engine.label_logprobs(prompts, labels)

    @_serialized
    def count_tokens(self, text: str) -> int:
        return self.engine.count_tokens(text)
