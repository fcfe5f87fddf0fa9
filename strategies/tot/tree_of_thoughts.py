"""Tree of thoughts: search the task's state space with propose and value prompts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal

from reasoning.meter import Meter
from reasoning.protocols import LanguageModel, Problem, Task
from reasoning.types import Budget, Result
from strategies.tot.bfs import bfs
from strategies.tot.dfs import dfs
from strategies.tot.mcts import mcts
from strategies.tot.search import Search

SEARCHES = {"bfs": bfs, "dfs": dfs, "mcts": mcts}


@dataclass(frozen=True)
class TreeOfThoughts:
    """Every setting of the search, settable from the CLI with --set KEY=VALUE."""

    name: ClassVar[str] = "tot"
    search: Literal["bfs", "dfs", "mcts"] = "bfs"
    generate: Literal["propose", "sample"] = "propose"  # one prompt lists steps | independent samples
    value: Literal["logprob", "vote", "rollout"] = "rollout"  # label probabilities | sampled labels | lookahead
    breadth: int = 5  # states kept per level (bfs), children tried per node (dfs)
    proposals: int = 48  # valid distinct children kept per expansion (the propose prompt lists every step)
    samples: int = 5  # thoughts sampled per state when generate=sample
    propose_samples: int = 1  # propose completions per state, merged (use temperature > 0 with > 1)
    votes: int = 3  # value samples per state when value=vote
    rollouts: int = 1  # chains of thought per state when value=rollout (1: greedy)
    rollout_temperature: float = 0.8  # of the rollouts when rollouts > 1
    max_rollout_tokens: int = 160
    constrained: bool = False  # rollouts decode inside the task's step grammar (valid steps only)
    label_prefix: bool = True  # value=logprob reads label prefixes only (s/l/i): 6x faster; False reads whole labels
    threshold: float = 1.0  # dfs prunes states valued below this (label-weight scale, 0.001-20)
    c_uct: float = 1.0  # mcts exploration constant
    iterations: int = 200  # mcts iterations when the budget does not stop it first
    max_depth: int = 10
    k: int = 0  # worked examples in propose and value prompts
    temperature: float = 0.0  # of the propose prompt
    max_propose_tokens: int = 1024

    def __post_init__(self) -> None:
        counts = ("breadth", "proposals", "samples", "propose_samples", "votes", "rollouts", "iterations", "max_depth")
        for name in (*counts, "max_propose_tokens", "max_rollout_tokens"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1")

    def solve(
        self, problem: Problem, model: LanguageModel, task: Task, budget: Budget, seed: int = 0
    ) -> Result:
        meter = Meter(model, budget)
        search = Search(self, meter, task, task.initial_state(problem), seed)
        SEARCHES[self.search](search)
        return Result(
            answer=search.answer(),
            usage=meter.usage(),
            stop_reason=meter.stop_reason() or "done",
            tree=search.graph,
            extra={
                "nodes": search.graph.number_of_nodes(),
                "invalid_thoughts": search.invalid_thoughts,
                "duplicate_thoughts": search.duplicate_thoughts,
            },
        )
