"""The number game: combine the given numbers with + - * / (exact fractions, each number used once)
into a target. Game of 24 (four numbers, target 24) and Countdown (3 to 6 numbers, any target) are
its cases; this file holds everything they share: states, steps, prompts, reference responses,
grammars, the strict verifier.

A search state is a Position: the numbers left, each with the expression that made it, and the
target, so a terminal state that reaches the target knows its answer expression.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from functools import cached_property, lru_cache

from reasoning.errors import BadInput
from reasoning.protocols import Problem
from tasks.exact import OPS, ExprError, evaluate, fmt, solvable, steps

STYLES = ("io", "cot", "propose", "value")

_STEP = re.compile(
    r"^\s*(\d+(?:/\d+)?)\s*([-+*/])\s*(\d+(?:/\d+)?)\s*=\s*(\d+(?:/\d+)?)\s*(?:\(left:\s*([\d/ ]*)\))?\s*$"
)


@dataclass(frozen=True)
class Position:
    """The numbers left as sorted (value, expression) pairs, and the target. Indexing and len
    reach the pairs: `position[0][0]` is the smallest value left."""

    items: tuple[tuple[Fraction, str], ...]
    target: Fraction

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int) -> tuple[Fraction, str]:
        return self.items[i]

    def __iter__(self):
        return iter(self.items)


def _number(text: str) -> Fraction:
    return Fraction(text)


def _wrap(expr: str) -> str:
    return f"({expr})" if " " in expr else expr


def numbers_text(numbers) -> str:
    return " ".join(fmt(x) for x in numbers)


def _read_step(thought: str) -> tuple[Fraction, str, Fraction, Fraction, list[Fraction] | None] | None:
    """A step line's numbers: (a, op, b, result, the `left:` list or None), None if the line is
    not a step or names a number that is not one (a model may write 21/0)."""
    m = _STEP.match(thought)
    if m is None:
        return None
    a, op, b, c, left = m.groups()
    try:
        return _number(a), op, _number(b), _number(c), None if left is None else [_number(x) for x in left.split()]
    except (ValueError, ZeroDivisionError):
        return None


def _combine(state: Position, a: Fraction, op: str, b: Fraction, result: Fraction) -> Position | None:
    """The state after replacing one a and one b by `result` (their expressions joined by op),
    or None if the state does not hold both numbers."""
    rest = list(state.items)
    used = []
    for x in (a, b):
        item = next((item for item in rest if item[0] == x), None)
        if item is None:
            return None
        rest.remove(item)
        used.append(item[1])
    return Position(tuple(sorted(rest + [(result, f"{_wrap(used[0])} {op} {_wrap(used[1])}")])), state.target)


@dataclass(frozen=True)
class Worked:
    """Grammar of a worked response from `start`: with steps (cot), each line a valid step as
    `successors` writes it, then the answer line those steps make (`Answer: expr = value`, true
    even when value is not the target), then the blank line that ends it; without steps (io), one
    line `expr = value` for any way of combining all the numbers. The model still chooses every step."""

    task: NumberGame
    start: Position
    steps: bool = True

    def lines(self, done: Sequence[str]) -> Sequence[str] | None:
        if not self.steps:
            return None if done else self.task.finals(self.start)
        state = self.start
        for i, line in enumerate(done):
            if len(state) == 1:  # line i is the answer line: then only the closing blank line
                return [""] if i == len(done) - 1 else None
            state = self.task.expand(state, line)
            if state is None:  # a line written without this grammar: nothing to hold to
                return None
        if len(state) == 1:
            return [f"Answer: {state[0][1]} = {fmt(state[0][0])}"]
        return self.task.thoughts(state)


class NumberGame:
    """What Game of 24 and Countdown share. A subclass gives `name`, `shots`, the splits
    (`_splits`: train / val / test lists of Problems), `parse_problem`, `numbers(problem)`,
    `target(problem)` and `state_text(state)` (a problem's text is its initial state's text)."""

    name: str
    shots: int
    value_labels: tuple[str, ...] = ("sure", "likely", "impossible")
    value_weights: tuple[float, ...] = (20.0, 1.0, 0.001)
    grammar_styles: tuple[str, ...] = ("io", "cot", "step")
    io_grammar_numbers: int = 4  # io's grammar lists every expression: only up to this many numbers

    # -- what a game says about its problems -----------------------------------------------------
    _splits: dict[str, list[Problem]]

    def numbers(self, problem: Problem) -> tuple[int, ...]:
        raise NotImplementedError

    def target(self, problem: Problem) -> Fraction:
        raise NotImplementedError

    def state_text(self, state: Position) -> str:
        raise NotImplementedError

    def problems(self, split: str) -> list[Problem]:
        if split not in ("train", "val", "test", "all"):
            raise BadInput(f"unknown split {split!r}: use train, val, test or all")
        if split == "all":
            return [p for s in ("train", "val", "test") for p in self._splits[s]]
        return list(self._splits[split])

    # -- prompts -----------------------------------------------------------------------------
    @cached_property
    def _shot_problems(self) -> list[Problem]:
        train = self._splits["train"]
        return [train[i] for i in random.Random(24).sample(range(len(train)), self.shots)]

    @lru_cache(maxsize=256)
    def _shots(self, style: str, k: int, exclude: str) -> str:
        if k > self.shots:
            raise BadInput(f"at most {self.shots} examples are available, asked for {k}")
        blocks = []
        rng = random.Random(0)
        for p in self._shot_problems:
            if len(blocks) == k:
                break
            if p.text == exclude:
                continue
            if style in ("io", "cot"):
                blocks.append(self._prompt(style, p.text, self.target(p)) + self.response(style, p, rng))
            else:
                state = self.initial_state(p)
                blocks.append(self._prompt(style, self.state_text(state), state.target) + self.response(style, state, rng))
        return "".join(blocks)

    @staticmethod
    def _prompt(style: str, text: str, target: Fraction) -> str:
        if style == "io":
            return f"Input: {text}\nAnswer: "
        if style == "cot":
            return f"Input: {text}\nSteps:\n"
        if style == "propose":
            return f"Input: {text}\nPossible next steps:\n"
        if style == "value":
            return f"Numbers: {text}\nCan reach {fmt(target)}: "
        raise BadInput(f"unknown prompt style {style!r}: use io, cot, propose or value")

    def prompt(self, style: str, problem: Problem, k: int = 0) -> str:
        """io / cot prompt for a problem, after k worked examples."""
        return self._shots(style, k, problem.text) + self._prompt(style, problem.text, self.target(problem))

    def _state_prompt(self, style: str, state: Position, k: int) -> str:
        text = self.state_text(state)
        return self._shots(style, k, text) + self._prompt(style, text, state.target)

    def propose_prompt(self, state: Position, k: int = 0) -> str:
        return self._state_prompt("propose", state, k)

    def step_prompt(self, state: Position, k: int = 0) -> str:
        """The cot prompt on a state's numbers: a sampled completion's first line is one next step."""
        return self._state_prompt("cot", state, k)

    def value_prompt(self, state: Position, k: int = 0) -> str:
        return self._state_prompt("value", state, k)

    def stop(self, style: str) -> tuple[str, ...]:
        return ("\n",) if style in ("io", "value") else ("\n\n",)  # cot, step, propose: a blank line

    # -- reference responses (training corpora) ----------------------------------------------
    def solution_path(self, state: Position, rng: random.Random) -> list[str] | None:
        """A random solving sequence of steps from a state, or None if it cannot reach the target."""
        if not self.solvable(state):  # (cached) no need to list the steps of a dead end
            return None
        path = []
        while len(state) > 1:
            good = [(t, child) for t, child in self.successors(state) if self.solvable(child)]
            if not good:
                return None
            thought, state = rng.choice(good)
            path.append(thought)
        return path if state[0][0] == state.target else None

    def _worked(self, state: Position, rng: random.Random, steps: bool) -> str | None:
        """A random solution from a state: its steps (cot) and answer line, or the answer alone (io)."""
        path = self.solution_path(state, rng)
        if path is None:
            return None
        final = state
        for t in path:
            final = self.expand(final, t)
        answer = f"{self.answer(final)}\n"
        return "".join(t + "\n" for t in path) + "Answer: " + answer + "\n" if steps else answer

    def _as_puzzle(self, state: Position) -> Position:
        """A state's numbers taken as a new puzzle (what the step prompt asks): fractions bracketed."""
        items = tuple(sorted((x, fmt(x) if x.denominator == 1 else f"({fmt(x)})") for x in self.key(state)))
        return Position(items, state.target)

    def response(self, style: str, subject, rng: random.Random) -> str | None:
        """Reference response (ending in its stop string) for a Problem (io, cot) or a Position
        (propose, value, step); None where there is none to learn (an unsolvable problem or state)."""
        if style in ("io", "cot"):
            return self._worked(self.initial_state(subject), rng, steps=style == "cot")
        if style == "step":
            return self._worked(self._as_puzzle(subject), rng, steps=True)
        if style == "propose":  # every valid step, in one fixed order: judging them is the value prompt's job
            return "".join(t + "\n" for t in self.thoughts(subject)) + "\n"
        if style == "value":
            return ("sure" if self.solvable(subject) else "impossible") + "\n"
        raise BadInput(f"unknown prompt style {style!r}")

    def grammar(self, style: str, subject) -> Worked | None:
        """The Worked grammar of an io or cot response to a Problem, or of a step response from a
        Position; None for io beyond `io_grammar_numbers` numbers (too many expressions to list)."""
        if style in ("io", "cot"):
            start = self.initial_state(subject)
            if style == "io" and len(start) > self.io_grammar_numbers:
                return None
            return Worked(self, start, steps=style == "cot")
        if style == "step":
            return Worked(self, self._as_puzzle(subject))
        raise BadInput(f"the {style!r} prompt has no grammar: constrain io, cot or step")

    def finals(self, state: Position) -> list[str]:
        """`expr = value` for every way to combine a state's numbers into one (each distinct)."""
        if len(state) == 1:
            return [f"{state[0][1]} = {fmt(state[0][0])}"]
        return list(dict.fromkeys(line for _, child in self.successors(state) for line in self.finals(child)))

    def training_states(self, problem: Problem) -> list[Position]:
        """Every non-terminal state reachable from a problem (for propose / value corpora)."""
        seen: dict[tuple, Position] = {}
        frontier = [self.initial_state(problem)]
        while frontier:
            state = frontier.pop()
            key = self.key(state)
            if key in seen or self.is_terminal(state):
                continue
            seen[key] = state
            if len(state) > 2:  # a 2-number state's children are all terminal
                frontier.extend(child for _, child in self.successors(state))
        return list(seen.values())

    # -- answers -----------------------------------------------------------------------------
    def answer_pattern(self, problem: Problem) -> str:
        """An answer claims to solve the problem when it states the target."""
        return r"[0-9+\-*/() ]+ = " + re.escape(fmt(self.target(problem)))

    def parse(self, text: str) -> str | None:
        """The expression on the response's 'Answer:' line (or the first line, for io)."""
        for line in text.splitlines():
            if line.startswith("Answer:"):
                return line[len("Answer:") :].strip() or None
        first = text.strip().splitlines()[0] if text.strip() else ""
        return first.strip() if "=" in first and "left" not in first else None

    def verify(self, problem: Problem, answer: str | None) -> bool:
        """Strict: exact arithmetic, only + - * / and parentheses, each number used once, = target."""
        if not answer:
            return False
        target = self.target(problem)
        lhs, *rhs = answer.split("=")
        if len(rhs) > 1:
            return False
        try:
            if rhs and evaluate(rhs[0])[0] != target:
                return False
            value, literals = evaluate(lhs)
        except ExprError:
            return False
        return value == target and sorted(literals) == sorted(self.numbers(problem))

    def reward(self, problem: Problem, text: str) -> float:
        return 1.0 if self.verify(problem, self.parse(text)) else 0.0

    # -- search ------------------------------------------------------------------------------
    def initial_state(self, problem: Problem) -> Position:
        return Position(tuple(sorted((Fraction(n), str(n)) for n in self.numbers(problem))), self.target(problem))

    @staticmethod
    def key(state: Position) -> tuple[Fraction, ...]:
        """The numbers left: states with equal keys (and targets) are the same position."""
        return tuple(v for v, _ in state.items)

    def solvable(self, state: Position) -> bool:
        return solvable(self.key(state), state.target)

    def successors(self, state: Position) -> list[tuple[str, Position]]:
        """Every valid next step from a state, as (thought text, the state it leads to)."""
        out = []
        for a, op, b, result in steps(self.key(state)):
            child = _combine(state, a, op, b, result)
            assert child is not None  # steps() only pairs numbers the state has
            thought = f"{fmt(a)} {op} {fmt(b)} = {fmt(result)} (left: {numbers_text(self.key(child))})"
            out.append((thought, child))
        return out

    def thoughts(self, state: Position) -> list[str]:
        """Every valid next step from a state, as text."""
        return [thought for thought, _ in self.successors(state)]

    def parse_thoughts(self, state: Position, text: str) -> list[str]:
        return [line.strip() for line in text.splitlines() if line.strip()]

    def expand(self, state: Position, thought: str) -> Position | None:
        """Apply a step such as '13 - 9 = 4 (left: 4 4 10)'. None if the arithmetic is wrong,
        a number is not available, or the stated 'left' numbers are wrong."""
        step = _read_step(thought)
        if step is None:
            return None
        a, op, b, c, said = step
        if (op == "/" and b == 0) or OPS[op](a, b) != c:
            return None
        new = _combine(state, a, op, b, c)
        if new is None or (said is not None and sorted(said) != list(self.key(new))):
            return None
        return new

    def stated(self, state: Position, thought: str) -> Position | None:
        """The state a step says it reaches, taken on trust (the ToT paper's model-only search):
        its own result and `left:` list, unchecked. Each number keeps the expression that made
        it where the step names one (a used number the state lacks stands as written), so the
        final answer is the expression the trusted steps build, for the verifier to judge.
        None only if the line is not a step at all (or leaves no numbers)."""
        step = _read_step(thought)
        if step is None:
            return None
        a, op, b, c, said = step
        rest, used = list(state.items), []
        for x in (a, b):
            item = next((item for item in rest if item[0] == x), None)
            if item is not None:
                rest.remove(item)
            used.append(item[1] if item is not None else fmt(x))
        made: tuple[Fraction, str] | None = (c, f"{_wrap(used[0])} {op} {_wrap(used[1])}")
        if said is None:  # no list stated: the numbers not used, and the result as written
            return Position(tuple(sorted(rest + [made])), state.target)
        out = []
        for x in said:  # each stated number takes the expression of one it can stand for
            if made is not None and x == made[0]:
                out.append(made)
                made = None
                continue
            item = next((item for item in rest if item[0] == x), None)
            if item is not None:
                rest.remove(item)
            out.append(item if item is not None else (x, fmt(x)))
        return Position(tuple(sorted(out)), state.target) if out else None  # an empty list states no position

    def is_terminal(self, state: Position) -> bool:
        return len(state) == 1

    def answer(self, state: Position) -> str | None:
        if len(state) != 1 or state[0][0] != state.target:
            return None
        return f"{state[0][1]} = {fmt(state.target)}"
