"""Self-consistency: sample many chains of thought and take the majority answer, stopping early
once the vote is settled (Adaptive-Consistency's Beta criterion, Aggarwal et al. 2023)."""

from __future__ import annotations

import math
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


def settled(answers: Sequence[str | None], confidence: float) -> bool:
    """Whether more samples would likely not change the vote: with v1 and v2 votes for the two
    leading answers, the posterior probability that the leader is the more likely of the two,
    P(p1 > p2) under Beta(v1 + 1, v2 + 1), exceeds `confidence` (Adaptive-Consistency's Beta
    stopping criterion). No votes is never settled; confidence >= 1 never stops."""
    if confidence >= 1:
        return False
    counts = sorted(Counter(normalize(a) for a in answers if a is not None).values(), reverse=True)
    if not counts:
        return False
    v1, v2 = counts[0], counts[1] if len(counts) > 1 else 0
    # for integer a, b: P(Beta(a, b) > 1/2) = P(Binomial(a + b - 1, 1/2) <= a - 1)
    trials = v1 + v2 + 1
    return sum(math.comb(trials, i) for i in range(v1 + 1)) / 2**trials > confidence


def _claimed(task: Task, problem: Problem, answer: str | None) -> str | None:
    """The answer if it claims to solve the problem (matches the task's answer pattern), else None:
    a chain that ends honestly on another value (as constrained chains do) casts no vote."""
    return answer if answer is not None and re.fullmatch(task.answer_pattern(problem), answer) else None


@dataclass(frozen=True)
class SelfConsistency:
    """Sample completions of `base` in rounds (one prefill each: `n` in the first, up to `growth`
    times more in each next one, as `Prompted.rounds` sizes them) until the budget is spent,
    `max_samples` are drawn or, after a round, the vote is `settled` at `confidence` (1: never stop
    early); the answer is the majority vote so far (anytime)."""

    name: ClassVar[str] = "sc"
    roles: ClassVar[tuple[str, ...]] = ("answering",)
    base: Prompted = field(default_factory=ChainOfThought)
    n: int = 10  # samples in the first round
    growth: float = 2.0  # a round samples up to this many times the one before (1: n every round)
    max_samples: int = 100
    temperature: float = 0.8
    confidence: float = 1.0

    def __post_init__(self) -> None:
        if self.n < 1 or self.max_samples < 1 or self.growth < 1:
            raise ValueError("n and max_samples must be >= 1, and growth >= 1")
        if not 0.5 <= self.confidence <= 1:
            raise ValueError("confidence must be in [0.5, 1] (1: never stop early)")

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
        early = False
        for batch in base.rounds(problem, meter, task, self.max_samples, self.n, seed, self.temperature, self.growth):
            texts += [c.text for c in batch]
            answers += [_claimed(task, problem, task.parse(c.text)) for c in batch]
            early = len(texts) < self.max_samples and settled(answers, self.confidence)
            if early:
                break
        return Result(
            answer=majority(answers),
            usage=meter.usage(),
            stop_reason=meter.stop_reason() or "done",
            trace=tuple(texts),
            extra={"samples": len(texts), "settled": early, "votes": dict(Counter(normalize(a) for a in answers if a)), "fallbacks": list(notes)},
        )
