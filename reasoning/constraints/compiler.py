"""Compiles constraints for one tokenizer, each once: a model owns one (HFModel.constraints)."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable, Sequence
from functools import cached_property
from typing import Any

from reasoning.constraints.guide import Guide
from reasoning.constraints.line_guide import LineGuide
from reasoning.constraints.regex_guide import RegexGuide
from reasoning.constraints.types import Choice, JsonSchema, Regex
from reasoning.constraints.vocabulary import TokenVocabulary
from reasoning.errors import BadInput
from reasoning.protocols import Grammar


def is_output_type(constraint: Any) -> bool:
    return isinstance(constraint, (Regex, JsonSchema, Choice))


def is_constraint(constraint: Any) -> bool:
    return is_output_type(constraint) or isinstance(constraint, Grammar)


class Compiler:
    """Guides for one tokenizer, cached by constraint (and stop strings, for line grammars): the
    most recently used `capacity` are kept. Unhashable grammars are compiled for each call."""

    def __init__(self, tokenizer: Any, capacity: int = 128) -> None:
        self.tokenizer = tokenizer
        self.capacity = capacity
        self._guides: OrderedDict[Hashable, Guide] = OrderedDict()

    @cached_property
    def vocab(self) -> TokenVocabulary:
        return TokenVocabulary.from_tokenizer(self.tokenizer)

    def guide(self, constraint: Any, stop: Sequence[str] = ()) -> Guide:
        """The compiled form of an output type or a line grammar; BadInput if it cannot be built."""
        if not is_constraint(constraint):
            raise BadInput(f"not a constraint: {type(constraint).__name__} (use Regex, JsonSchema, Choice or a Grammar)")
        key: Hashable = constraint if is_output_type(constraint) else (constraint, tuple(stop))
        try:
            guide = self._guides.get(key)
        except TypeError:  # an unhashable grammar
            return self._build(constraint, stop)
        if guide is None:
            guide = self._guides[key] = self._build(constraint, stop)
            while len(self._guides) > self.capacity:
                self._guides.popitem(last=False)
        self._guides.move_to_end(key)
        return guide

    def _build(self, constraint: Any, stop: Sequence[str]) -> Guide:
        if is_output_type(constraint):
            return RegexGuide.compile(constraint.regex(), self.vocab)
        return LineGuide(constraint, self.vocab, stop)
