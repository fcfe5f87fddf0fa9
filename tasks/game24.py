"""Game of 24: combine four numbers with + - * / into 24, using each number exactly once.

Data: the ToT paper's 24.csv (data/game24/SOURCE.txt). Splits follow the paper: test is rows
900-999; val is 100 fixed rows spread over the rest of the difficulty range; train is the rest.

A search state is a sorted tuple of (value, expression) pairs: the numbers left and how each
was made, so a terminal state of 24 knows its answer expression.
"""

from __future__ import annotations

import csv
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from functools import cached_property, lru_cache
from importlib import resources

from reasoning.errors import BadInput
from reasoning.protocols import Problem
from tasks.arithmetic import OPS, ExprError, evaluate, fmt, solvable, steps

TARGET = Fraction(24)
TEST_ROWS = range(900, 1000)
VAL_SIZE = 100

State = tuple[tuple[Fraction, str], ...]

_STEP = re.compile(
    r"^\s*(\d+(?:/\d+)?)\s*([-+*/])\s*(\d+(?:/\d+)?)\s*=\s*(\d+(?:/\d+)?)\s*(?:\(left:\s*([\d/ ]*)\))?\s*$"
)


def _number(text: str) -> Fraction:
    return Fraction(text)


def _wrap(expr: str) -> str:
    return f"({expr})" if " " in expr else expr


def _numbers_text(numbers) -> str:
    return " ".join(fmt(x) for x in numbers)


def _combine(state: State, a: Fraction, op: str, b: Fraction, result: Fraction) -> State | None:
    """The state after replacing one a and one b by `result` (their expressions joined by op),
    or None if the state does not hold both numbers."""
    rest = list(state)
    used = []
    for x in (a, b):
        item = next((item for item in rest if item[0] == x), None)
        if item is None:
            return None
        rest.remove(item)
        used.append(item[1])
    return tuple(sorted(rest + [(result, f"{_wrap(used[0])} {op} {_wrap(used[1])}")]))


@dataclass(frozen=True)
class Worked:
    """Grammar of a worked response from `start`: with steps (cot), each line a valid step as
    `successors` writes it, then the answer line those steps make (`Answer: expr = value`, true
    even when value is not 24), then the blank line that ends it; without steps (io), one line
    `expr = value` for any way of combining all the numbers. The model still chooses every step."""

    task: Game24
    start: State
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


@dataclass(frozen=True)
class Game24:
    """The Game of 24 task. `shots` is the number of fixed worked examples available for k-shot prompts."""

    name: str = "game24"
    answer_pattern: str = r"[0-9+\-*/() ]+ = 24"
    value_labels: tuple[str, ...] = ("sure", "likely", "impossible")
    value_weights: tuple[float, ...] = (20.0, 1.0, 0.001)
    shots: int = 8

    # -- data --------------------------------------------------------------------------------
    @cached_property
    def _rows(self) -> list[Problem]:
        path = resources.files("tasks").joinpath("data/game24/24.csv")
        with path.open() as f:
            rows = list(csv.DictReader(f))
        return [
            Problem(
                id=f"game24-{i}",
                text=row["Puzzles"].strip(),
                meta={
                    "row": i,
                    "human_seconds": float(row["AMT (s)"]),
                    "human_solve_rate": float(row["Solved rate"].rstrip("%")) / 100,
                },
            )
            for i, row in enumerate(rows)
        ]

    @cached_property
    def _splits(self) -> dict[str, list[Problem]]:
        rows = self._rows
        rest = [p for p in rows if p.meta["row"] not in TEST_ROWS]
        step = len(rest) // VAL_SIZE  # every step-th remaining row: val spans all difficulties
        val = rest[step // 2 :: step][:VAL_SIZE]
        val_ids = {p.id for p in val}
        return {
            "test": [rows[i] for i in TEST_ROWS],
            "val": val,
            "train": [p for p in rest if p.id not in val_ids],
        }

    def problems(self, split: str) -> list[Problem]:
        if split not in ("train", "val", "test", "all"):
            raise BadInput(f"unknown split {split!r}: use train, val, test or all")
        return list(self._rows) if split == "all" else list(self._splits[split])

    def parse_problem(self, text: str) -> Problem:
        parts = text.replace(",", " ").split()
        if len(parts) != 4 or not all(p.isdigit() for p in parts):
            raise BadInput(f"a Game of 24 problem is four whole numbers such as '4 9 10 13', got {text!r}")
        numbers = sorted(int(p) for p in parts)
        canonical = " ".join(map(str, numbers))
        for p in self._rows:
            if sorted(map(int, p.text.split())) == numbers:
                return p
        return Problem(id=f"game24-{'-'.join(map(str, numbers))}", text=canonical, meta={})

    @staticmethod
    def numbers(problem: Problem) -> tuple[int, ...]:
        return tuple(int(x) for x in problem.text.split())

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
                blocks.append(self._prompt(style, p.text) + self.response(style, p, rng))
            else:
                state = self.initial_state(p)
                blocks.append(self._prompt(style, self.state_text(state)) + self.response(style, state, rng))
        return "".join(blocks)

    @staticmethod
    def _prompt(style: str, text: str) -> str:
        if style == "io":
            return f"Input: {text}\nAnswer: "
        if style == "cot":
            return f"Input: {text}\nSteps:\n"
        if style == "propose":
            return f"Input: {text}\nPossible next steps:\n"
        if style == "value":
            return f"Numbers: {text}\nCan reach 24: "
        raise BadInput(f"unknown prompt style {style!r}: use io, cot, propose or value")

    def prompt(self, style: str, problem: Problem, k: int = 0) -> str:
        """io / cot prompt for a problem, after k worked examples."""
        return self._shots(style, k, problem.text) + self._prompt(style, problem.text)

    def propose_prompt(self, state: State, k: int = 0) -> str:
        text = self.state_text(state)
        return self._shots("propose", k, text) + self._prompt("propose", text)

    def step_prompt(self, state: State, k: int = 0) -> str:
        """The cot prompt on a state's numbers: a sampled completion's first line is one next step."""
        text = self.state_text(state)
        return self._shots("cot", k, text) + self._prompt("cot", text)

    def value_prompt(self, state: State, k: int = 0) -> str:
        text = self.state_text(state)
        return self._shots("value", k, text) + self._prompt("value", text)

    def stop(self, style: str) -> tuple[str, ...]:
        return ("\n",) if style in ("io", "value") else ("\n\n",)  # cot, step, propose: a blank line

    # -- reference responses (training corpora) ----------------------------------------------
    def solution_path(self, state: State, rng: random.Random) -> list[str] | None:
        """A random solving sequence of steps from a state, or None if it cannot reach 24."""
        path = []
        while len(state) > 1:
            good = [(t, child) for t, child in self.successors(state) if self.solvable(child)]
            if not good:
                return None
            thought, state = rng.choice(good)
            path.append(thought)
        return path if state[0][0] == TARGET else None

    def _worked(self, state: State, rng: random.Random, steps: bool) -> str | None:
        """A random solution from a state: its steps (cot) and answer line, or the answer alone (io)."""
        path = self.solution_path(state, rng)
        if path is None:
            return None
        final = state
        for t in path:
            final = self.expand(final, t)
        answer = f"{self.answer(final)}\n"
        return "".join(t + "\n" for t in path) + "Answer: " + answer + "\n" if steps else answer

    def _as_puzzle(self, state: State) -> State:
        """A state's numbers taken as a new puzzle (what the step prompt asks): fractions bracketed."""
        return tuple(sorted((x, fmt(x) if x.denominator == 1 else f"({fmt(x)})") for x in self.key(state)))

    def response(self, style: str, subject, rng: random.Random) -> str | None:
        """Reference response (ending in its stop string) for a Problem (io, cot) or a State
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

    def grammar(self, style: str, subject) -> Worked:
        """The Worked grammar of an io or cot response to a Problem, or of a step response from a State."""
        if style in ("io", "cot"):
            return Worked(self, self.initial_state(subject), steps=style == "cot")
        if style == "step":
            return Worked(self, self._as_puzzle(subject))
        raise BadInput(f"the {style!r} prompt has no grammar: constrain io, cot or step")

    def finals(self, state: State) -> list[str]:
        """`expr = value` for every way to combine a state's numbers into one (each distinct)."""
        if len(state) == 1:
            return [f"{state[0][1]} = {fmt(state[0][0])}"]
        return list(dict.fromkeys(line for _, child in self.successors(state) for line in self.finals(child)))

    def training_states(self, problem: Problem) -> list[State]:
        """Every non-terminal state reachable from a problem (for propose / value corpora)."""
        seen: dict[tuple, State] = {}
        frontier = [self.initial_state(problem)]
        while frontier:
            state = frontier.pop()
            key = self.key(state)
            if key in seen or self.is_terminal(state):
                continue
            seen[key] = state
            frontier.extend(child for _, child in self.successors(state))
        return list(seen.values())

    # -- answers -----------------------------------------------------------------------------
    def parse(self, text: str) -> str | None:
        """The expression on the response's 'Answer:' line (or the first line, for io)."""
        for line in text.splitlines():
            if line.startswith("Answer:"):
                return line[len("Answer:") :].strip() or None
        first = text.strip().splitlines()[0] if text.strip() else ""
        return first.strip() if "=" in first and "left" not in first else None

    def verify(self, problem: Problem, answer: str | None) -> bool:
        """Strict: exact arithmetic, only + - * / and parentheses, each number used once, = 24."""
        if not answer:
            return False
        lhs, *rhs = answer.split("=")
        if len(rhs) > 1:
            return False
        try:
            if rhs and evaluate(rhs[0])[0] != TARGET:
                return False
            value, literals = evaluate(lhs)
        except ExprError:
            return False
        return value == TARGET and sorted(literals) == sorted(self.numbers(problem))

    def reward(self, problem: Problem, text: str) -> float:
        return 1.0 if self.verify(problem, self.parse(text)) else 0.0

    # -- search ------------------------------------------------------------------------------
    def initial_state(self, problem: Problem) -> State:
        return tuple(sorted((Fraction(n), str(n)) for n in self.numbers(problem)))

    @staticmethod
    def key(state: State) -> tuple[Fraction, ...]:
        """The numbers left: states with equal keys are the same position."""
        return tuple(v for v, _ in state)

    def solvable(self, state: State) -> bool:
        return solvable(self.key(state), TARGET)

    def state_text(self, state: State) -> str:
        return _numbers_text(self.key(state))

    def successors(self, state: State) -> list[tuple[str, State]]:
        """Every valid next step from a state, as (thought text, the state it leads to)."""
        out = []
        for a, op, b, result in steps(self.key(state)):
            child = _combine(state, a, op, b, result)
            assert child is not None  # steps() only pairs numbers the state has
            thought = f"{fmt(a)} {op} {fmt(b)} = {fmt(result)} (left: {_numbers_text(self.key(child))})"
            out.append((thought, child))
        return out

    def thoughts(self, state: State) -> list[str]:
        """Every valid next step from a state, as text."""
        return [thought for thought, _ in self.successors(state)]

    def parse_thoughts(self, state: State, text: str) -> list[str]:
        return [line.strip() for line in text.splitlines() if line.strip()]

    def expand(self, state: State, thought: str) -> State | None:
        """Apply a step such as '13 - 9 = 4 (left: 4 4 10)'. None if the arithmetic is wrong,
        a number is not available, or the stated 'left' numbers are wrong."""
        m = _STEP.match(thought)
        if m is None:
            return None
        a, op, b, c, left = m.groups()
        try:
            a, b, c = _number(a), _number(b), _number(c)
        except ZeroDivisionError:  # a model may write a number such as 21/0
            return None
        if (op == "/" and b == 0) or OPS[op](a, b) != c:
            return None
        new = _combine(state, a, op, b, c)
        if new is None:
            return None
        if left is not None:
            try:
                stated = sorted(_number(x) for x in left.split())
            except (ValueError, ZeroDivisionError):
                return None
            if stated != list(self.key(new)):
                return None
        return new

    def is_terminal(self, state: State) -> bool:
        return len(state) == 1

    def answer(self, state: State) -> str | None:
        if len(state) != 1 or state[0][0] != TARGET:
            return None
        return f"{state[0][1]} = 24"
