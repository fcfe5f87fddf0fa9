"""The protocols through which strategies, tasks, models and training meet.

A strategy never names a concrete task and a task never names a concrete strategy: both
speak only through these.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from reasoning.errors import BadInput
from reasoning.types import Budget, Completion, Result, SamplingParams


@dataclass(frozen=True)
class Problem:
    """One problem of a task. `text` is what a user types; `meta` carries task-specific facts."""

    id: str
    text: str
    meta: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)


@runtime_checkable
class Grammar(Protocol):
    """What a response may say, line by line: the output type of constrained decoding."""

    def lines(self, done: Sequence[str]) -> Sequence[str] | None:
        """The lines that may come after the completed lines `done` (each without its newline);
        None means anything may."""
        ...


@dataclass(frozen=True)
class Capabilities:
    """What a LanguageModel can do. A strategy setting that needs a missing capability either
    falls back in a documented way (recorded in its Result.extra["fallbacks"]) or refuses with
    BadInput before any work; see `Strategy.adapt` and the README's table of fallbacks."""

    score: bool = True  # log-probabilities of given text after a prompt (score)
    label_logprobs: bool = True  # log-probabilities of given labels after each prompt (value prompts)
    n: bool = True  # n samples per prompt in one request (else the backend sends n requests)
    seeds: bool = True  # a seed fixes the samples (a server may only do its best)
    constraints: bool = True  # decoding held to a task's line grammar (generate's `constraint`); output types
    # (Regex, JsonSchema, Choice) also reach servers that take vLLM's guided_* fields (reason generate --backend openai)
    reward: bool = False  # a reward model beside it scores texts (`RewardScorer`): tot value=learned, bon


def capabilities(model: Any) -> Capabilities:
    """A model's declared capabilities; a model that declares none is taken to have them all but
    a reward model (which only a model that declares it has)."""
    declare = getattr(model, "capabilities", None)
    return declare() if callable(declare) else Capabilities()


@runtime_checkable
class LanguageModel(Protocol):
    """Batch-first model interface. Every method takes a list of prompts."""

    def generate(
        self,
        prompts: Sequence[str],
        params: SamplingParams,
        n: int = 1,
        seed: int = 0,
        constraint: Any = None,
    ) -> list[list[Completion]]:
        """n completions for each prompt (one prefill per prompt, n samples from it). `constraint`
        is a Grammar every completion must follow, a list of one Grammar per prompt, or a
        backend's own logits processor."""
        ...

    def score(self, prompts: Sequence[str], continuations: Sequence[str]) -> list[float]:
        """Sum of token log-probabilities of each continuation given its prompt."""
        ...

    def label_logprobs(self, prompts: Sequence[str], labels: Sequence[str]) -> list[list[float]]:
        """(B, L) log-probabilities of each label string after each prompt, in one forward pass."""
        ...

    def count_tokens(self, text: str) -> int:
        """Number of tokens the model's tokenizer makes of text."""
        ...

    def identity(self) -> dict[str, str]:
        """What identifies the model whose outputs these are: at least `backend` and `model`
        (a directory or a served name), and a weights `fingerprint` where the backend can tell.
        Bench results are keyed by it, so one model's results are never credited to another."""
        ...

    def capabilities(self) -> Capabilities:
        """What this model can do (prompt and label log-probabilities, n, seeds, constraints)."""
        ...


@runtime_checkable
class RewardScorer(Protocol):
    """Optional, beside a LanguageModel (capability `reward`): a reward model's scalar judgment.
    `reasoning.judgment` says which text stands for a search state or a response."""

    def reward(self, texts: Sequence[str]) -> list[float]:
        """The score of each text (a logit, higher is better), in one batched forward pass."""
        ...


# -- tasks: roles ----------------------------------------------------------------------------
# A task offers roles and a strategy asks only for the roles it uses (`require`): answering (every
# task; io, cot, sc), search (tot), training (`reason train`), an optional grammar for
# constrained decoding, and optional stated steps (tot rules=false, the ToT paper's model-only
# search). A role is a set of members; a task has a role when it has all of them.


class Task(Protocol):
    """The answering role, which every task has: problems, prompts, answers and their check."""

    name: str

    def problems(self, split: str) -> list[Problem]:
        """train / val / test problems, deterministic; BadInput for an unknown split."""
        ...

    def parse_problem(self, text: str) -> Problem:
        """A problem from user text; raises BadInput if it is not one."""
        ...

    def prompt(self, style: str, problem: Problem, k: int = 0) -> str:
        """Prompt of a style ('io', 'cot') for a problem, with k worked examples before it."""
        ...

    def stop(self, style: str) -> tuple[str, ...]:
        """Stop strings that end a response of this style."""
        ...

    def parse(self, text: str) -> str | None:
        """The answer in a model's response, or None."""
        ...

    def verify(self, problem: Problem, answer: str | None) -> bool:
        """Whether an answer solves the problem (strict; the harness's judge)."""
        ...

    def reward(self, problem: Problem, text: str) -> float:
        """Reward of a whole response (RL)."""
        ...

    def answer_pattern(self, problem: Problem) -> str:
        """Regex an answer matches when it claims to solve this problem (self-consistency votes
        only for those), e.g. `... = 24`; a task whose every answer is a claim returns `.+`."""
        ...


class StateSpace(Protocol):
    """The search role (tree of thoughts): states, thoughts that move between them, values.
    A state is any hashable value the task understands."""

    value_labels: tuple[str, ...]  # value-prompt labels, best first
    value_weights: tuple[float, ...]  # score of each label (ToT: sure 20, likely 1, impossible 0.001)

    def initial_state(self, problem: Problem) -> Hashable: ...

    def state_text(self, state: Hashable) -> str:
        """The state as text (also its identity: equal texts are the same position)."""
        ...

    def propose_prompt(self, state: Hashable, k: int = 0) -> str: ...

    def step_prompt(self, state: Hashable, k: int = 0) -> str:
        """A prompt whose sampled completions start with one next step from the state."""
        ...

    def value_prompt(self, state: Hashable, k: int = 0) -> str: ...

    def parse_thoughts(self, state: Hashable, text: str) -> list[str]:
        """Thought lines in a propose response (unchecked)."""
        ...

    def expand(self, state: Hashable, thought: str) -> Hashable | None:
        """The state a thought leads to, or None if the thought is not a valid step."""
        ...

    # optional: `stated(state, thought) -> state | None`, the state a thought says it reaches,
    # unchecked (tree of thoughts with rules=false, the ToT paper's model-only setting)

    def is_terminal(self, state: Hashable) -> bool: ...

    def answer(self, state: Hashable) -> str | None:
        """The answer a terminal state stands for (None if it is a dead end)."""
        ...


class CorpusSource(Protocol):
    """The training role: reference responses to learn from."""

    def response(self, style: str, subject: Any, rng: Any) -> str | None:
        """A reference response (ending in its stop string) of a style to a Problem (io, cot) or a
        state (propose, value, step); None where there is none to learn."""
        ...

    def training_states(self, problem: Problem) -> list[Hashable]:
        """The search states a train problem leads to (propose / value / step corpora); [] for a
        task without the search role."""
        ...


class Grammatical(Protocol):
    """Optional: what a response may say, for constrained decoding. A style outside
    `grammar_styles` (or a task without this role) decodes unconstrained."""

    grammar_styles: tuple[str, ...]  # styles with a grammar, e.g. ("io", "cot", "step")

    def grammar(self, style: str, subject: Any) -> Grammar | None:
        """The Grammar of a response of this style to a problem (or search state); None where
        this subject has none (then the response is unconstrained)."""
        ...


class StatedSteps(Protocol):
    """Optional: the model-only search (tot rules=false, as in the ToT paper), where a step's own
    result and remaining numbers are trusted during the search and only the answer is verified."""

    def stated(self, state: Hashable, thought: str) -> Hashable | None:
        """The state a thought says it reaches, unchecked; None if the line is not a step."""
        ...


def _members(role: type) -> tuple[str, ...]:
    own = [n for n in vars(role) if not n.startswith("_") and callable(vars(role)[n])]
    return (*getattr(role, "__annotations__", {}), *own)


ROLES: dict[str, tuple[str, ...]] = {
    "answering": _members(Task),
    "search": _members(StateSpace),
    "training": _members(CorpusSource),
    "grammar": _members(Grammatical),
    "stated steps": _members(StatedSteps),
}


def missing(task: object, role: str) -> list[str]:
    """The members of a role the task lacks ([] if it has the role)."""
    return [m for m in ROLES[role] if not hasattr(task, m)]


def has_role(task: object, role: str) -> bool:
    return not missing(task, role)


def require(task: object, user: str, *roles: str) -> None:
    """BadInput naming the first role (and its missing members) that `user` needs and the task
    lacks; called before any model call."""
    for role in roles:
        if lacking := missing(task, role):
            name = getattr(task, "name", type(task).__name__)
            raise BadInput(f"{user} needs the {role} role, which task {name!r} lacks (missing: {', '.join(lacking)})")


@dataclass(frozen=True)
class Unconstrained:
    """The Grammar that allows anything: stands in for a missing grammar in a batch of them."""

    def lines(self, done: Sequence[str]) -> Sequence[str] | None:
        return None


def grammar_for(task: object, style: str, subject: Any) -> Grammar | None:
    """The task's grammar for a style and subject, or None where it has none (unconstrained)."""
    if not has_role(task, "grammar") or style not in task.grammar_styles:  # type: ignore[attr-defined]
        return None
    return task.grammar(style, subject)  # type: ignore[attr-defined]


def grammars_for(task: object, style: str, subjects: Sequence[Any]) -> list[Grammar] | None:
    """One grammar per subject (Unconstrained where a subject has none), or None if none has one."""
    grammars = [grammar_for(task, style, s) for s in subjects]
    if all(g is None for g in grammars):
        return None
    return [Unconstrained() if g is None else g for g in grammars]


@runtime_checkable
class Strategy(Protocol):
    name: str

    def solve(
        self, problem: Problem, model: LanguageModel, task: Task, budget: Budget, seed: int = 0
    ) -> Result: ...
