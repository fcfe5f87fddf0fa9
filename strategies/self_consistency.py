"""Self-consistency: sample many chains of thought and take the majority answer."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import ClassVar

from reasoning.meter import Meter
from reasoning.protocols import Capabilities, LanguageModel, Problem, Task, capabilities, require
from reasoning.types import Budget, Result
from strategies.cot import ChainOfThought
from strategies.prompted import Prompted


def normalize(answer: str) -> str:
    """Answers that differ only in white space are the same vote."""
    return "".join(answer.split())


def majority(answers: Sequence[str | None]) -> str | None:
    """The most common answer (None votes ignored); ties go to the answer seen first."""
    votes = [a for a in answers if a is not None]
    if not votes:
        return None
    counts = Counter(normalize(a) for a in votes)
    best = max(counts.values())
    return next(a for a in votes if counts[normalize(a)] == best)


def _claimed(task: Task, problem: Problem, answer: str | None) -> str | None:
    """The answer if it claims to solve the problem (matches the task's answer pattern), else None:
    a chain that ends honestly on another value (as constrained chains do) casts no vote."""
    return answer if answer is not None and re.fullmatch(task.answer_pattern(problem), answer) else None


@dataclass(frozen=True)
class SelfConsistency:
    """Sample `n` completions of `base` per round (one prefill each round) until the budget
    is spent or `max_samples` are drawn; the answer is the majority vote so far (anytime)."""

    name: ClassVar[str] = "sc"
    roles: ClassVar[tuple[str, ...]] = ("answering",)
    base: Prompted = field(default_factory=ChainOfThought)
    n: int = 10
    max_samples: int = 100
    temperature: float = 0.8

    def __post_init__(self) -> None:
        if self.n < 1 or self.max_samples < 1:
            raise ValueError("n and max_samples must be >= 1")

    def adapt(self, caps: Capabilities, prefix: str = "") -> tuple[SelfConsistency, tuple[str, ...]]:
        """As its base's (n samples per prompt need no capability: a backend without them sends n requests)."""
        base, notes = self.base.adapt(caps, prefix + "base.")
        return replace(self, base=base), notes

    def solve(
        self, problem: Problem, model: LanguageModel, task: Task, budget: Budget, seed: int = 0
    ) -> Result:
        require(task, self.name, *self.roles)
        base, notes = self.base.adapt(capabilities(model), "base.")
        meter = Meter(model, budget)
        texts: list[str] = []
        answers: list[str | None] = []
        for batch in base.rounds(problem, meter, task, self.max_samples, self.n, seed, self.temperature):
            texts += [c.text for c in batch]
            answers += [_claimed(task, problem, task.parse(c.text)) for c in batch]
        return Result(
            answer=majority(answers),
            usage=meter.usage(),
            stop_reason=meter.stop_reason() or "done",
            trace=tuple(texts),
            extra={"samples": len(texts), "votes": dict(Counter(normalize(a) for a in answers if a)), "fallbacks": list(notes)},
        )
