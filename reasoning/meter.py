"""Meter: a LanguageModel wrapper that charges every call to a Budget and records Usage."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from reasoning.protocols import Capabilities, LanguageModel, capabilities
from reasoning.types import Budget, Completion, SamplingParams, Usage


class Meter:
    """Wraps a model for one strategy run. Strategies ask `exhausted()` between steps and
    return the best answer so far when it says yes (they are anytime)."""

    def __init__(self, model: LanguageModel, budget: Budget, clock: Any = time.monotonic) -> None:
        self.model = model
        self.budget = budget
        self._clock = clock
        self._start = clock()
        self.calls = 0
        self.generated_tokens = 0
        self.prompt_tokens = 0

    # -- accounting --------------------------------------------------------------------------
    @property
    def seconds(self) -> float:
        return self._clock() - self._start

    def usage(self) -> Usage:
        return Usage(self.seconds, self.generated_tokens, self.prompt_tokens, self.calls)

    def stop_reason(self) -> str | None:
        """Which budget unit ran out, or None while there is time left."""
        b = self.budget
        if b.seconds is not None and self.seconds >= b.seconds:
            return "seconds"
        if b.tokens is not None and self.generated_tokens >= b.tokens:
            return "tokens"
        if b.calls is not None and self.calls >= b.calls:
            return "calls"
        return None

    def seconds_left(self) -> float | None:
        """Seconds until the time budget ends (None without one)."""
        return None if self.budget.seconds is None else max(0.0, self.budget.seconds - self.seconds)

    def exhausted(self) -> bool:
        return self.stop_reason() is not None

    def _charge_prompts(self, prompts: Sequence[str], counted: Sequence[int | None] = ()) -> None:
        """One call, and the prompts' tokens: as the backend counted them where it says (a
        server's usage), else by the model's tokenizer. After the call, so a backend that
        learns exact counts from its answer can give them."""
        self.calls += 1
        counted = list(counted) + [None] * (len(prompts) - len(counted))
        self.prompt_tokens += sum(c if c is not None else self.model.count_tokens(p) for p, c in zip(prompts, counted))

    # -- LanguageModel -----------------------------------------------------------------------
    def generate(
        self,
        prompts: Sequence[str],
        params: SamplingParams,
        n: int = 1,
        seed: int = 0,
        constraint: Any = None,
    ) -> list[list[Completion]]:
        if self.budget.tokens is not None:  # never generate past the token budget
            per_row = max(1, (self.budget.tokens - self.generated_tokens) // max(1, len(prompts) * n))
            params = replace(params, max_new_tokens=min(params.max_new_tokens, per_row))
        left = self.seconds_left()
        if left is not None:  # nor past the time budget
            params = replace(params, max_seconds=left if params.max_seconds is None else min(params.max_seconds, left))
        out = self.model.generate(prompts, params, n=n, seed=seed, constraint=constraint)
        self._charge_prompts(prompts, [row[0].prompt_tokens if row else None for row in out])
        self.generated_tokens += sum(c.tokens for row in out for c in row)
        return out

    def score(self, prompts: Sequence[str], continuations: Sequence[str]) -> list[float]:
        out = self.model.score(prompts, continuations)
        self._charge_prompts([p + c for p, c in zip(prompts, continuations)])
        return out

    def label_logprobs(self, prompts: Sequence[str], labels: Sequence[str]) -> list[list[float]]:
        out = self.model.label_logprobs(prompts, labels)
        self._charge_prompts(prompts)
        return out

    def reward(self, texts: Sequence[str]) -> list[float]:
        """The reward model's score of each text (one call; the texts' tokens count as prompt tokens)."""
        out = self.model.reward(texts)  # type: ignore[attr-defined]
        count = getattr(self.model, "reward_tokens", self.model.count_tokens)
        self.calls += 1
        self.prompt_tokens += sum(count(t) for t in texts)
        return out

    def count_tokens(self, text: str) -> int:
        return self.model.count_tokens(text)

    def capabilities(self) -> Capabilities:
        return capabilities(self.model)
