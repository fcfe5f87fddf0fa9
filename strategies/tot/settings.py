"""SearchSettings: every setting the tree searches read, declared once.

TreeOfThoughts (the strategy) is a SearchSettings plus the choice of search; it builds the
frozen SearchSettings the searches take (`TreeOfThoughts.settings()`), so bfs, dfs, mcts and
Search never import the strategy.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Literal

ValueMode = Literal["logprob", "vote", "rollout", "learned", "uniform"]


@dataclass(frozen=True)
class SearchSettings:
    generate: Literal["propose", "sample"] = "propose"  # one prompt lists steps | independent samples
    # label probabilities | sampled labels | lookahead | the reward model (one batched call, no task
    # check) | no judgment at all (every state alike: a control that shows what a value adds)
    value: ValueMode = "rollout"
    rollout_estimate: Literal["logprob", "vote"] = "logprob"  # value of a state whose rollout missed (value=rollout)
    rules: bool = True  # the task checks each step (with rules) | the model's stated steps are trusted (model only)
    breadth: int = 5  # states kept per level (bfs), children tried per node (dfs)
    proposals: int = 48  # valid distinct children kept per expansion (the propose prompt lists every step)
    samples: int = 5  # thoughts sampled per state when generate=sample
    propose_samples: int = 1  # propose completions per state, merged (use temperature > 0 with > 1)
    votes: int = 3  # value samples per state when value=vote
    rollouts: int = 1  # chains of thought per state when value=rollout (1: greedy)
    rollout_temperature: float = 0.8  # of the rollouts when rollouts > 1
    max_rollout_tokens: int = 160
    # rollouts and sampled thoughts decode inside the task's step grammar where it has one (valid steps only)
    constrained: bool = False
    label_prefix: bool = True  # logprob values read label prefixes (s/l/i; one token per character only): 6x faster
    threshold: float = 1.0  # dfs prunes states valued below this (label-weight scale, 0.001-20)
    c_uct: float = 1.0  # mcts exploration constant
    # mcts: UCT (exploration by visit counts alone) | PUCT (AlphaZero's: each child's share of its
    # siblings' values is its prior, so the search follows the value and widens as visits grow)
    selection: Literal["uct", "puct"] = "uct"
    iterations: int = 200  # mcts iterations when the budget does not stop it first
    max_depth: int = 10
    k: int = 0  # worked examples in propose and value prompts
    temperature: float = 0.0  # of the propose prompt; of sampled thoughts too (generate=sample: at least 0.7)
    max_propose_tokens: int = 1024

    def __post_init__(self) -> None:
        counts = ("breadth", "proposals", "samples", "propose_samples", "votes", "rollouts", "iterations", "max_depth")
        for name in (*counts, "max_propose_tokens", "max_rollout_tokens"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1")
        if self.constrained and not self.rules:
            raise ValueError("constrained=true holds rollouts and sampled steps to the task's rules: it cannot run with rules=false")

    @property
    def regime(self) -> str:
        """'with rules' (the task checks each step) or 'model only' (the ToT paper's setting)."""
        return "with rules" if self.rules else "model only"

    def settings(self) -> SearchSettings:
        """Just the search settings (what a subclass such as the strategy hands the searches)."""
        return SearchSettings(**{f.name: getattr(self, f.name) for f in fields(SearchSettings)})
