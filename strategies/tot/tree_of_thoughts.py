"""Tree of thoughts: search the task's state space with propose and value prompts."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import ClassVar, Literal

from reasoning.errors import BadInput
from reasoning.meter import Meter
from reasoning.protocols import Capabilities, LanguageModel, Problem, Task, capabilities, require
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
    roles: ClassVar[tuple[str, ...]] = ("answering", "search")  # grammar (step) only when constrained, optional
    search: Literal["bfs", "dfs", "mcts"] = "bfs"
    generate: Literal["propose", "sample"] = "propose"  # one prompt lists steps | independent samples
    value: Literal["logprob", "vote", "rollout"] = "rollout"  # label probabilities | sampled labels | lookahead
    rollout_estimate: Literal["logprob", "vote"] = "logprob"  # value of a state whose rollout missed (value=rollout)
    breadth: int = 5  # states kept per level (bfs), children tried per node (dfs)
    proposals: int = 48  # valid distinct children kept per expansion (the propose prompt lists every step)
    samples: int = 5  # thoughts sampled per state when generate=sample
    propose_samples: int = 1  # propose completions per state, merged (use temperature > 0 with > 1)
    votes: int = 3  # value samples per state when value=vote
    rollouts: int = 1  # chains of thought per state when value=rollout (1: greedy)
    rollout_temperature: float = 0.8  # of the rollouts when rollouts > 1
    max_rollout_tokens: int = 160
    constrained: bool = False  # rollouts decode inside the task's step grammar where it has one (valid steps only)
    label_prefix: bool = True  # logprob values read label prefixes (s/l/i; one token per character only): 6x faster
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

    def adapt(self, caps: Capabilities, prefix: str = "") -> tuple[TreeOfThoughts, tuple[str, ...]]:
        """The config that runs on a model with these capabilities, and the fallbacks taken
        (see the README's table): without label log-probabilities, logprob values become
        sampled votes. BadInput if constrained rollouts are asked of a model that cannot
        constrain decoding."""
        if self.constrained and not caps.constraints:
            raise BadInput(
                f"tot: {prefix}constrained=true needs grammar-constrained decoding, which this model's backend "
                f"cannot do; run unconstrained with --set {prefix}constrained=false"
            )
        if caps.label_logprobs:
            return self, ()
        if self.value == "logprob":
            note = f"value=logprob -> vote ({self.votes} sampled labels per state): the model gives no label log-probabilities"
            return replace(self, value="vote"), (note,)
        if self.value == "rollout" and self.rollout_estimate == "logprob":
            note = (
                f"rollout_estimate=logprob -> vote ({self.votes} sampled labels per missed state): "
                "the model gives no label log-probabilities"
            )
            return replace(self, rollout_estimate="vote"), (note,)
        return self, ()

    def solve(
        self, problem: Problem, model: LanguageModel, task: Task, budget: Budget, seed: int = 0
    ) -> Result:
        require(task, self.name, *self.roles)
        config, notes = self.adapt(capabilities(model))
        meter = Meter(model, budget)
        search = Search(config, meter, task, task.initial_state(problem), seed)
        SEARCHES[config.search](search)
        return Result(
            answer=search.answer(),
            usage=meter.usage(),
            stop_reason=meter.stop_reason() or "done",
            tree=search.graph,
            extra={
                "nodes": search.graph.number_of_nodes(),
                "invalid_thoughts": search.invalid_thoughts,
                "duplicate_thoughts": search.duplicate_thoughts,
                "fallbacks": [*notes, *search.notes],
            },
        )
