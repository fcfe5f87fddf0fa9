"""Model backends implementing reasoning.protocols.LanguageModel, chosen by one ModelSpec:

    from reasoning.backends import ModelSpec, load
    model = load()                                                   # the shipped model, from any directory
    model = load(ModelSpec(model="checkpoints/sft", device="cuda"))  # any local transformers causal LM
    model = load(ModelSpec(backend="openai", base_url="http://127.0.0.1:8000/v1"))  # any OpenAI-compatible server

`hf` (reasoning.backends.hf) imports torch; `openai` (reasoning.backends.openai) does not.
`ModelSpec(reward_model=DIR)` puts a reward model (reasoning.backends.reward) beside either.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from reasoning.backends.spec import SHIPPED, ModelSpec
from reasoning.protocols import LanguageModel


def load(spec: ModelSpec | str | Path | None = None) -> LanguageModel:
    """The model a spec names (a str or Path is a shipped stage name or a checkpoint directory;
    None is the shipped default). ModelNotFound or BadInput when it cannot be had."""
    if spec is None:
        spec = ModelSpec()
    elif isinstance(spec, (str, Path)):
        spec = ModelSpec(model=str(spec))
    reward_dir = spec.reward_dir()  # a missing reward model fails before anything loads
    if spec.backend == "openai":
        from reasoning.backends.openai import OpenAIModel

        policy: LanguageModel = OpenAIModel.connect(spec)
    else:
        from reasoning.backends.hf import HFModel

        policy = HFModel.load(spec.model_dir(), device=spec.device, dtype=spec.dtype)
    if reward_dir is None:
        return policy
    from reasoning.backends.reward import RewardModel, Rewarded

    return Rewarded(policy, RewardModel.load(reward_dir, device=spec.device, dtype=spec.dtype))


def __getattr__(name: str) -> Any:  # `from reasoning.backends import HFModel` without importing torch up front
    if name == "HFModel":
        from reasoning.backends.hf import HFModel

        return HFModel
    raise AttributeError(name)


__all__ = ["SHIPPED", "HFModel", "ModelSpec", "load"]
