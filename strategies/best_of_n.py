"""Best-of-N: sample n responses of a base strategy and return the one the reward model scores
highest. The verifier is never consulted (the harness judges the answer afterwards)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import ClassVar

from reasoning.errors import BadInput
from reasoning.judgment import response_input
from reasoning.meter import Meter
from reasoning.protocols import Capabilities, LanguageModel, Problem, Task, capabilities, require
from reasoning.types import Budget, Result
from strategies.cot import ChainOfThought
from strategies.prompted import Prompted


@dataclass(frozen=True)
class BestOfN:
    """Draw `per_call` samples of `base` per round (one prefill each) until `n` are drawn or the
    budget ends, score each round's responses in one reward-model call, and answer with the
    best-scored response that gives an answer (anytime: the best so far)."""

    name: ClassVar[str] = "bon"
    roles: ClassVar[tuple[str, ...]] = ("answering",)
    base: Prompted = field(default_factory=ChainOfThought)
    n: int = 10
    per_call: int = 10
    temperature: float = 0.8

    def __post_init__(self) -> None:
        if self.n < 1 or self.per_call < 1:
            raise ValueError("n and per_call must be >= 1")

    def adapt(self, caps: Capabilities, prefix: str = "") -> tuple[BestOfN, tuple[str, ...]]:
        """As its base's; BadInput without a reward model beside the model."""
        if not caps.reward:
            raise BadInput("bon needs a reward model beside the model: pass --reward-model DIR (train one with `reason train rm`)")
        base, notes = self.base.adapt(caps, prefix + "base.")
        return replace(self, base=base), notes

    def solve(
        self, problem: Problem, model: LanguageModel, task: Task, budget: Budget, seed: int = 0
    ) -> Result:
        require(task, self.name, *self.roles)
        config, notes = self.adapt(capabilities(model))
        meter = Meter(model, budget)
        prompt = task.prompt(config.base.style, problem, config.base.k)
        texts: list[str] = []
        scores: list[float] = []
        best: tuple[float, str] | None = None  # (score, answer)
        for completions in config.base.rounds(problem, meter, task, config.n, config.per_call, seed, config.temperature):
            batch = [c.text for c in completions]
            batch_scores = meter.reward([response_input(prompt, t) for t in batch])
            texts += batch
            scores += batch_scores
            for text, score in zip(batch, batch_scores):
                answer = task.parse(text)
                if answer is not None and (best is None or score > best[0]):
                    best = (score, answer)
        return Result(
            answer=None if best is None else best[1],
            usage=meter.usage(),
            stop_reason=meter.stop_reason() or "done",
            trace=tuple(texts),
            extra={"samples": len(texts), "scores": [round(s, 4) for s in scores], "fallbacks": list(notes)},
        )
