"""Tree of thoughts: search the task's state space with propose and value prompts."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import ClassVar, Literal

from reasoning.errors import BadInput
from reasoning.meter import Meter
from reasoning.protocols import Capabilities, LanguageModel, Problem, Task, capabilities, require
from reasoning.types import Budget, Result
from strategies.tot.best_first import best_first
from strategies.tot.bfs import bfs
from strategies.tot.dfs import dfs
from strategies.tot.mcts import mcts
from strategies.tot.search import Search
from strategies.tot.settings import SearchSettings

SEARCHES = {"bfs": bfs, "dfs": dfs, "mcts": mcts, "best": best_first}


@dataclass(frozen=True)
class TreeOfThoughts(SearchSettings):
    """The search to run and every setting it reads (SearchSettings), each settable from the CLI
    with --set KEY=VALUE."""

    name: ClassVar[str] = "tot"
    search: Literal["bfs", "dfs", "mcts", "best"] = "bfs"

    @property
    def roles(self) -> tuple[str, ...]:
        """The task roles this search asks for: answering and search, and stated steps in the
        model-only regime (rules=false); the step grammar stays optional (constrained=true)."""
        return ("answering", "search") if self.rules else ("answering", "search", "stated steps")

    def adapt(self, caps: Capabilities, prefix: str = "") -> tuple[TreeOfThoughts, tuple[str, ...]]:
        """The config that runs on a model with these capabilities, and the fallbacks taken
        (see the README's table): without label log-probabilities, logprob values become
        sampled votes. BadInput if constrained rollouts are asked of a model that cannot
        constrain decoding, or learned values of a model without a reward model beside it."""
        if self.constrained and not caps.constraints:
            raise BadInput(
                f"tot: {prefix}constrained=true needs grammar-constrained decoding, which this model's backend "
                f"cannot do; run unconstrained with --set {prefix}constrained=false"
            )
        if self.value == "learned" and not caps.reward:
            raise BadInput(
                f"tot: {prefix}value=learned needs a reward model beside the model: pass --reward-model DIR "
                "(train one with `reason train rm`)"
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
        require(task, self.name if self.rules else f"{self.name} rules=false", *self.roles)
        config, notes = self.adapt(capabilities(model))
        meter = Meter(model, budget)
        search = Search(config.settings(), meter, task, task.initial_state(problem), seed)
        SEARCHES[config.search](search)
        return Result(
            answer=search.answer(),
            usage=meter.usage(),
            stop_reason=meter.stop_reason() or "done",
            tree=search.graph,
            extra={
                "regime": config.regime,
                "nodes": search.graph.number_of_nodes(),
                "invalid_thoughts": search.invalid_thoughts,
                "duplicate_thoughts": search.duplicate_thoughts,
                "fallbacks": [*notes, *search.notes],
            },
        )
