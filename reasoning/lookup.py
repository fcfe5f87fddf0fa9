"""Prompt lookup: draft the next tokens by copying what followed the last n-gram's latest earlier
occurrence in the prompt or the text generated so far (Saxena's prompt lookup decoding, vLLM's
`ngram` speculator).

What the engine does with a draft (engine.py) keeps every output exactly the model's: one
forward pass reads the logits after each drafted token, and the engine still samples every token
itself, in order, from its own logits; a drafted position's logits are used only while the sampled
tokens agree with the draft. A good draft saves forward passes, a bad one costs one slightly wider
pass. Our outputs copy a great deal (the numbers of a puzzle, `(left: ...)` lists, an answer line
that repeats the steps), so a decoding step often yields several tokens.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class PromptLookup:
    """ngram: longest tail matched (shorter ones are tried next, down to 1); draft: tokens proposed
    per forward pass."""

    ngram: int = 3
    draft: int = 8

    def __post_init__(self) -> None:
        if self.ngram < 1 or self.draft < 1:
            raise ValueError("ngram and draft must be >= 1")

    def start(self, context: Sequence[int]) -> Drafter:
        return Drafter(self, context)


class Drafter:
    """One sequence's n-gram index, extended token by token. For each n-gram it keeps the
    position right after its latest occurrence that has a follower, so a draft is a dict lookup."""

    def __init__(self, settings: PromptLookup, context: Sequence[int]) -> None:
        self.settings = settings
        self.seq: list[int] = []
        self._next: dict[tuple[int, ...], int] = {}
        self.extend(context)

    def extend(self, tokens: Sequence[int]) -> None:
        for tok in tokens:
            end = len(self.seq)  # the n-grams ending just before `tok` are now followed by it
            for n in range(1, min(self.settings.ngram, end) + 1):
                self._next[tuple(self.seq[end - n : end])] = end
            self.seq.append(tok)

    def draft(self, limit: int) -> list[int]:
        """Up to min(limit, settings.draft) tokens that followed the longest matching tail, [] if none."""
        k = min(limit, self.settings.draft)
        if k <= 0:
            return []
        for n in range(min(self.settings.ngram, len(self.seq)), 0, -1):
            start = self._next.get(tuple(self.seq[-n:]))
            if start is not None:
                return self.seq[start : start + k]
        return []
