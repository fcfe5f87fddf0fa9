"""The harness: runs any Strategy over any Task and records what each run spent and got."""

from __future__ import annotations

from typing import Any

from reasoning.protocols import LanguageModel, Problem, Strategy, Task
from reasoning.types import Budget, Result


def record(
    problem: Problem, task: Task, strategy: Strategy, result: Result, budget: Budget, seed: int
) -> dict[str, Any]:
    """One flat, JSON-ready record of a solved problem (the fields of `reason solve --json`)."""
    return {
        "problem": problem.text,
        "task": task.name,
        "strategy": strategy.name,
        "answer": result.answer,
        "correct": task.verify(problem, result.answer),
        "seconds": round(result.usage.seconds, 4),
        "generated_tokens": result.usage.generated_tokens,
        "prompt_tokens": result.usage.prompt_tokens,
        "calls": result.usage.calls,
        "stop_reason": result.stop_reason,
        "budget": str(budget),
        "seed": seed,
    }


def solve_one(
    problem: Problem, model: LanguageModel, task: Task, strategy: Strategy, budget: Budget, seed: int = 0
) -> tuple[Result, dict[str, Any]]:
    result = strategy.solve(problem, model, task, budget, seed=seed)
    return result, record(problem, task, strategy, result, budget, seed)
