"""Shared shape of the prompting strategies: one prompt style of the task, k examples, one call."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import ClassVar

from reasoning.errors import BadInput
from reasoning.meter import Meter
from reasoning.protocols import Capabilities, LanguageModel, Problem, Task, capabilities, grammar_for, require
from reasoning.types import Budget, Completion, Result, SamplingParams


@dataclass(frozen=True)
class Prompted:
    """Prompt the model once with the task's `style` prompt after k worked examples."""

    style: ClassVar[str]
    name: ClassVar[str]
    roles: ClassVar[tuple[str, ...]] = ("answering",)  # what it asks of a task (grammar is optional)
    k: int = 0  # the SFT prompt has no examples; k = 0 scored best on val for io and cot
    temperature: float = 0.0
    top_p: float = 1.0
    top_k: int = 0
    max_new_tokens: int = 64
    constrained: bool = True  # decode inside the task's grammar where it has one (valid steps, each number once): +4 points for cot on val

    def adapt(self, caps: Capabilities, prefix: str = "") -> tuple[Prompted, tuple[str, ...]]:
        """This config and the fallbacks it takes on a model with these capabilities (none: a
        prompt needs only generation). BadInput if it must constrain decoding and cannot;
        `prefix` is where this config sits in an enclosing one (e.g. "base.")."""
        if self.constrained and not caps.constraints:
            raise BadInput(
                f"{self.name}: {prefix}constrained=true needs grammar-constrained decoding, which this model's "
                f"backend cannot do; run unconstrained with --set {prefix}constrained=false"
            )
        return self, ()

    def params(self, task: Task, temperature: float | None = None) -> SamplingParams:
        return SamplingParams(
            temperature=self.temperature if temperature is None else temperature,
            top_p=self.top_p,
            top_k=self.top_k,
            max_new_tokens=self.max_new_tokens,
            stop=task.stop(self.style),
        )

    def sample(
        self,
        problem: Problem,
        model: LanguageModel,
        task: Task,
        n: int = 1,
        seed: int = 0,
        temperature: float | None = None,
    ) -> list[Completion]:
        """n completions of this strategy's prompt from one prefill."""
        prompt = task.prompt(self.style, problem, self.k)
        grammar = grammar_for(task, self.style, problem) if self.constrained else None
        return model.generate([prompt], self.params(task, temperature), n=n, seed=seed, constraint=grammar)[0]

    def rounds(
        self,
        problem: Problem,
        meter: Meter,
        task: Task,
        total: int,
        per_round: int,
        seed: int,
        temperature: float,
        growth: float = 1.0,
    ) -> Iterator[list[Completion]]:
        """Batches of samples (one prefill each, seeds seed, seed+1, ...) until `total` are drawn
        or the meter's budget is spent: the sampling loop of sc and bon. The first round draws
        `per_round`; the next draws `growth` times as many (rounded up) while the time left is at
        least `growth` times what the last round took, else as many again: wide batches, where the
        engine is fastest, when there is time for them, and rounds that end within a tight budget."""
        drawn, round_, size = 0, 0, float(per_round)
        while drawn < total and not meter.exhausted():
            start = meter.seconds
            batch = self.sample(problem, meter, task, min(math.ceil(size), total - drawn), seed + round_, temperature)
            drawn, round_ = drawn + len(batch), round_ + 1
            left = meter.seconds_left()
            if left is None or left >= growth * (meter.seconds - start):
                size *= growth
            yield batch

    def solve(
        self, problem: Problem, model: LanguageModel, task: Task, budget: Budget, seed: int = 0
    ) -> Result:
        require(task, self.name, *self.roles)
        self.adapt(capabilities(model))
        meter = Meter(model, budget)
        completion = self.sample(problem, meter, task, seed=seed)[0]
        return Result(
            answer=task.parse(completion.text),
            usage=meter.usage(),
            stop_reason=meter.stop_reason() or "done",
            trace=(completion.text,),
        )
