"""Model backends implementing reasoning.protocols.LanguageModel."""

from reasoning.backends.hf import HFModel

__all__ = ["HFModel"]
