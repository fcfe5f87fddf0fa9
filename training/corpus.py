"""Training data made from tasks' train splits, only through the task roles (answering and
training; search for the state styles).

A block is a prompt followed by its reference response (the response ends in its stop string),
in one of five styles: io and cot (one per problem and solution path), propose, value and step
(one per search state reached from a train problem; step is the cot prompt on a state that can
still succeed; only for tasks with the search role). The corpus of a stage is a Mixture: one part
per task, each sized by its own CorpusConfig, the parts' documents (or pairs) shuffled together.
Two outputs:

- pretrain_documents: each document is several blocks of one style concatenated, which is what a
  k-shot prompt continued by the model looks like;
- sft_pairs: (prompt, response) pairs; the prompt has k worked examples (k mostly 0).

Only `task.problems("train")` is read: no val or test problem reaches a corpus (see
tests/training/test_corpus.py, which checks the built corpora line by line). Length limits count
tokens (a `count` function from the stage's tokenizer), not characters.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Hashable, Iterator, Sequence
from dataclasses import dataclass, field

from reasoning.errors import BadInput
from reasoning.protocols import Problem, Task, has_role, require

PROBLEM_STYLES = ("io", "cot")  # a block per (problem, solution path)
STATE_STYLES = ("propose", "value", "step")  # a block per search state
STYLES = PROBLEM_STYLES + STATE_STYLES


@dataclass(frozen=True)
class CorpusConfig:
    """Sizes of one task's part of the corpus. The defaults are Game of 24's part (about 12M
    characters of pretraining text in 24.5k documents; 38k SFT pairs, 5.8M characters)."""

    problems: int | None = None  # train problems used (a seeded sample); None = all of them
    paths: int = 6  # random solution paths drawn per problem (io, cot; duplicates dropped)
    states_per_problem: int | None = None  # search states kept per problem (a seeded sample); None = all
    propose_states: int = 14_000  # propose pool: every initial state plus this many other states
    initial_repeats: int = 3  # each initial state is this many times in the propose pool
    value_states: int | None = None  # value pool: this many states (a seeded sample); None = all
    step_states: int | None = None  # step pool: this many later states (a seeded sample); None = all
    min_label_share: float = 0.3  # rarer value labels are repeated up to this share of the pool
    # pretraining: documents per style, each of doc_blocks[0]..doc_blocks[1] blocks
    io_docs: int = 3_000
    cot_docs: int = 5_000
    propose_docs: int = 3_000
    value_docs: int = 12_000
    step_docs: int = 1_500
    doc_blocks: tuple[int, int] = (2, 8)
    # sft: pairs per style; k worked examples in the prompt with probability shot_probs[k]
    io_pairs: int = 3_000
    cot_pairs: int = 6_000
    propose_pairs: int = 6_000
    value_pairs: int = 20_000
    step_pairs: int = 3_000
    shot_probs: tuple[float, ...] = (0.7, 0.1, 0.1, 0.1)
    max_tokens: int = 1_020  # longest SFT prompt + response in tokens (k is lowered until it fits)

    def __post_init__(self) -> None:
        lo, hi = self.doc_blocks
        if not 1 <= lo <= hi:
            raise BadInput(f"doc_blocks must be 1 <= lo <= hi, got {self.doc_blocks}")
        if not self.shot_probs or min(self.shot_probs) < 0 or sum(self.shot_probs) <= 0:
            raise BadInput(f"shot_probs must be non-negative weights, got {self.shot_probs}")
        if self.paths < 1 or self.initial_repeats < 1 or self.max_tokens < 1:
            raise BadInput("paths, initial_repeats and max_tokens must be at least 1")
        for name in ("problems", "states_per_problem", "value_states", "step_states"):
            if getattr(self, name) is not None and getattr(self, name) < 1:
                raise BadInput(f"{name} must be at least 1 (or None for all)")
        if not 0 <= self.min_label_share < 1:
            raise BadInput(f"min_label_share must be in [0, 1), got {self.min_label_share}")

    @classmethod
    def quick(cls) -> CorpusConfig:
        """A small corpus (built in about a second) for tests and `--quick` runs."""
        return cls(
            problems=24, paths=2, propose_states=100, value_states=100,
            io_docs=60, cot_docs=60, propose_docs=40, value_docs=40, step_docs=20,
            io_pairs=60, cot_pairs=60, propose_pairs=60, value_pairs=60, step_pairs=30,
        )  # fmt: skip


@dataclass(frozen=True)
class Pools:
    """The raw material both outputs draw from: (subject, response) per style, where the subject
    is a Problem (io, cot) or a state (propose, value). Build it once with `pools()` and pass it to
    both outputs to avoid enumerating the search states twice."""

    io: tuple[tuple[Problem, str], ...]
    cot: tuple[tuple[Problem, str], ...]
    propose: tuple[tuple[Hashable, str], ...]
    value: tuple[tuple[Hashable, str], ...]
    step: tuple[tuple[Hashable, str], ...]

    def of(self, style: str) -> tuple[tuple[object, str], ...]:
        return getattr(self, style)


def _train_problems(task: Task, cfg: CorpusConfig, seed: int) -> list[Problem]:
    problems = task.problems("train")
    if cfg.problems is not None and cfg.problems < len(problems):
        problems = random.Random(f"{seed}-problems").sample(problems, cfg.problems)
    return problems


def _problem_pool(task: Task, style: str, problems: list[Problem], paths: int, seed: int) -> list[tuple[Problem, str]]:
    rng = random.Random(f"{seed}-{style}")
    pool = []
    for problem in problems:
        seen = set()
        for _ in range(paths):
            response = task.response(style, problem, rng)
            if response is not None and response not in seen:
                seen.add(response)
                pool.append((problem, response))
    return pool


def _value_pool(task: Task, states: list[Hashable], min_share: float, rng: random.Random) -> list[tuple[Hashable, str]]:
    """Every state with its reference label; a label rarer than min_share of the pool (most
    states cannot reach the goal) has its states repeated until it is about that share."""
    by_label: dict[str, list[Hashable]] = {}
    for state in states:
        label = task.response("value", state, rng)
        if label is not None:
            by_label.setdefault(label, []).append(state)
    total = sum(map(len, by_label.values()))
    pool = []
    for label, group in by_label.items():
        repeats = max(1, round(min_share * total / len(group)))
        pool += [(s, label) for s in group] * repeats
    rng.shuffle(pool)
    return pool


def pools(task: Task, cfg: CorpusConfig, seed: int) -> Pools:
    """Responses for train problems (io, cot) and, for a task with the search role, for states
    reached from them (propose, value, step)."""
    require(task, "a training corpus", "answering", "training")
    problems = _train_problems(task, cfg, seed)
    if not problems:
        raise BadInput(f"task {task.name!r} has no train problems")
    io = tuple(_problem_pool(task, "io", problems, cfg.paths, seed))
    cot = tuple(_problem_pool(task, "cot", problems, cfg.paths, seed))
    if not has_role(task, "search"):
        return Pools(io=io, cot=cot, propose=(), value=(), step=())
    # every non-terminal state reached from a train problem, once per state text
    states: dict[str, Hashable] = {}
    sampler = random.Random(f"{seed}-states")
    for problem in problems:
        reached = task.training_states(problem)
        if cfg.states_per_problem is not None and cfg.states_per_problem < len(reached):
            reached = sampler.sample(reached, cfg.states_per_problem)
        for state in reached:
            states.setdefault(task.state_text(state), state)
    initial = {task.state_text(s): s for s in (task.initial_state(p) for p in problems)}

    rng = random.Random(f"{seed}-propose")
    others = [s for text, s in states.items() if text not in initial]
    chosen = list(initial.values()) * cfg.initial_repeats
    chosen += rng.sample(others, min(cfg.propose_states, len(others)))
    propose = [(s, r) for s in chosen if (r := task.response("propose", s, rng)) is not None]

    rng = random.Random(f"{seed}-value")
    value_states = list(states.values())
    if cfg.value_states is not None and cfg.value_states < len(value_states):
        value_states = rng.sample(value_states, cfg.value_states)
    value = _value_pool(task, value_states, cfg.min_label_share, rng)

    rng = random.Random(f"{seed}-step")  # chain of thought from every later state that can still succeed
    step_states = others
    if cfg.step_states is not None and cfg.step_states < len(others):
        step_states = rng.sample(others, cfg.step_states)
    step = [(s, r) for s in step_states if (r := task.response("step", s, rng)) is not None]

    return Pools(io=io, cot=cot, propose=tuple(propose), value=tuple(value), step=tuple(step))


def prompt(task: Task, style: str, subject: object, k: int = 0) -> str:
    """The task's prompt of a style for a problem or state, after k worked examples."""
    if style in PROBLEM_STYLES:
        return task.prompt(style, subject, k)  # type: ignore[arg-type]
    if style == "propose":
        return task.propose_prompt(subject, k)  # type: ignore[arg-type]
    if style == "value":
        return task.value_prompt(subject, k)  # type: ignore[arg-type]
    if style == "step":
        return task.step_prompt(subject, k)  # type: ignore[arg-type]
    raise BadInput(f"unknown style {style!r}: use one of {', '.join(STYLES)}")


class _Deck:
    """Draws a pool's items in shuffled passes, so every item is used before any repeats."""

    def __init__(self, items: tuple, rng: random.Random) -> None:
        self.items, self.rng, self.order = items, rng, []

    def draw(self) -> tuple:
        if not self.order:
            self.order = list(range(len(self.items)))
            self.rng.shuffle(self.order)
        return self.items[self.order.pop()]


def _counts(cfg: CorpusConfig, kind: str) -> dict[str, int]:
    return {style: getattr(cfg, f"{style}_{kind}") for style in STYLES}


def _decks(material: Pools, counts: dict[str, int], rng: random.Random) -> Iterator[tuple[str, int, _Deck]]:
    """(style, how many to draw, a deck over that style's pool) for each style that has both."""
    for style, n in counts.items():
        items = material.of(style)
        if items and n > 0:
            yield style, n, _Deck(items, rng)


def pretrain_documents(task: Task, cfg: CorpusConfig, seed: int, material: Pools | None = None) -> list[str]:
    """Documents of several same-style blocks (zero-shot prompt + response) each, shuffled."""
    material = material or pools(task, cfg, seed)
    rng = random.Random(f"{seed}-documents")
    docs = []
    for style, n, deck in _decks(material, _counts(cfg, "docs"), rng):
        for _ in range(n):
            blocks = [deck.draw() for _ in range(rng.randint(*cfg.doc_blocks))]
            docs.append("".join(prompt(task, style, subject) + response for subject, response in blocks))
    rng.shuffle(docs)
    return docs


def sft_pairs(
    task: Task, cfg: CorpusConfig, seed: int, material: Pools | None = None, count: Callable[[str], int] = len
) -> list[tuple[str, str]]:
    """(prompt, response) pairs; prompts carry k worked examples, k ~ cfg.shot_probs, shuffled.
    `count` gives a text's length in tokens (the default, len, is exact for the character
    tokenizer); a pair longer than cfg.max_tokens loses examples until it fits, or is left out."""
    material = material or pools(task, cfg, seed)
    rng = random.Random(f"{seed}-sft")
    ks = list(range(len(cfg.shot_probs)))
    pairs = []
    for style, n, deck in _decks(material, _counts(cfg, "pairs"), rng):
        for _ in range(n):
            subject, response = deck.draw()
            k = rng.choices(ks, weights=cfg.shot_probs)[0]
            text = prompt(task, style, subject, k)
            size = count(response)
            while k > 0 and count(text) + size > cfg.max_tokens:
                k -= 1
                text = prompt(task, style, subject, k)
            if count(text) + size <= cfg.max_tokens:
                pairs.append((text, response))
    rng.shuffle(pairs)
    return pairs


def _game24_part() -> CorpusConfig:
    return CorpusConfig()


def _countdown_part() -> CorpusConfig:
    """Countdown: as many documents and pairs as Game of 24, drawn from a sample of 4,000 of its
    20,000 train problems and 20 search states of each (all the states of 20,000 problems with
    numbers up to 99 would take too long to enumerate and label)."""
    return CorpusConfig(problems=4_000, paths=3, states_per_problem=20, value_states=60_000)


def _arithmetic_part() -> CorpusConfig:
    """Arithmetic: one scratchpad per problem (paths=1), io and cot only (no search states). Its
    cot documents and pairs are three and two times what they were with the old scratchpad
    (12,000 / 20,000 against 4,000 / 10,000): every column is now a fact to learn."""
    return CorpusConfig(paths=1, io_docs=1_000, cot_docs=12_000, propose_docs=0, value_docs=0, step_docs=0,
                        io_pairs=3_000, cot_pairs=20_000, propose_pairs=0, value_pairs=0, step_pairs=0)  # fmt: skip


@dataclass(frozen=True)
class Mixture:
    """The corpus of a stage: one part per task (its name and its CorpusConfig), mixed by
    concatenating and shuffling the parts' documents or pairs. The default mixes Game of 24 (its
    corpus as before the mixture), Countdown and arithmetic."""

    parts: tuple[tuple[str, CorpusConfig], ...] = field(
        default_factory=lambda: (("game24", _game24_part()), ("countdown", _countdown_part()), ("arithmetic", _arithmetic_part()))
    )

    def __post_init__(self) -> None:
        names = [name for name, _ in self.parts]
        if not names or len(set(names)) != len(names):
            raise BadInput(f"a corpus mixture names each task once, got {names}")

    def names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.parts)

    def of(self, name: str) -> CorpusConfig:
        for part, cfg in self.parts:
            if part == name:
                return cfg
        raise BadInput(f"the corpus mixture has no part for task {name!r} (it has {', '.join(self.names())})")

    def only(self, names: Sequence[str]) -> Mixture:
        """The parts of these tasks alone (each as sized here), in the order given."""
        return Mixture(parts=tuple((name, self.of(name)) for name in names))

    @classmethod
    def quick(cls) -> Mixture:
        """The quick corpus of each default task (built in a few seconds)."""
        return cls(parts=tuple((name, CorpusConfig.quick()) for name in cls().names()))


def mixture_documents(tasks: Sequence[Task], mixture: Mixture, seed: int) -> list[str]:
    """Every task's pretraining documents (sized by its part of the mixture), shuffled together."""
    docs = [d for task in tasks for d in pretrain_documents(task, mixture.of(task.name), seed)]
    random.Random(f"{seed}-mixture").shuffle(docs)
    return docs


def mixture_pairs(
    tasks: Sequence[Task], mixture: Mixture, seed: int, count: Callable[[str], int] = len
) -> list[tuple[str, str]]:
    """Every task's SFT pairs (sized by its part of the mixture), shuffled together."""
    pairs = [p for task in tasks for p in sft_pairs(task, mixture.of(task.name), seed, count=count)]
    random.Random(f"{seed}-mixture").shuffle(pairs)
    return pairs
