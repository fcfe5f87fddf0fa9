"""Countdown: reach a target from 3 to 6 numbers with + - * / (exact fractions), each number used
exactly once: the number game (tasks/number_game.py) with the target written after an arrow,
'96 7 37 74 -> 55'.

Splits are our own, in the setting of the R1-zero replications (TinyZero, Stream of Search): 3 or
4 numbers drawn uniformly from 1 to 99, the target drawn uniformly from the whole numbers 10 to 100
those numbers can reach (so every problem is solvable). They are generated once with a fixed seed
by `generate` (`python -m tasks.countdown` rewrites the files) and shipped in data/countdown/.
No problem is in two splits, and no train problem leads (by one step) to a val or test problem,
so no held-out problem appears as a state in a training corpus.
"""

from __future__ import annotations

import random
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from functools import cached_property
from importlib import resources
from pathlib import Path

from reasoning.errors import BadInput
from reasoning.protocols import Problem
from tasks.exact import fmt, reachable, solvable, steps
from tasks.number_game import NumberGame, Position, numbers_text

SEED = 2025
SIZES = {"test": 200, "val": 100, "train": 20_000}  # generated in this order
MIN_NUMBERS, MAX_NUMBERS = 3, 6  # what a user may type; the splits use 3 or 4
_PROBLEM = re.compile(r"^\s*(.*?)\s*(?:->|→)\s*(\S*)\s*$")

Key = tuple[tuple[int, ...], int]  # (sorted numbers, target)


def text_of(numbers: tuple[int, ...], target: int) -> str:
    return f"{' '.join(map(str, sorted(numbers)))} -> {target}"


def _draws(seed: int) -> Iterator[Key]:
    """Endless solvable problems: 3 or 4 numbers from 1-99, a target from 10-100 they reach."""
    rng = random.Random(seed)
    while True:
        numbers = tuple(sorted(rng.randint(1, 99) for _ in range(rng.choice((3, 4)))))
        targets = sorted(t for t in reachable(numbers) if isinstance(t, int) and 10 <= t <= 100)
        if targets:
            yield numbers, rng.choice(targets)


def _one_step(key: Key) -> set[Key]:
    """The problems one step from a problem (same target, one number fewer; integers only)."""
    numbers, target = key
    out = set()
    for a, _, b, result in steps(tuple(map(Fraction, numbers))):
        if result.denominator == 1 and len(numbers) > 3:  # held-out problems have 3 or 4 numbers
            rest = list(numbers)
            rest.remove(int(a))
            rest.remove(int(b))
            out.add((tuple(sorted(rest + [int(result)])), target))
    return out


def generate(seed: int = SEED, sizes: dict[str, int] = SIZES) -> dict[str, list[str]]:
    """The splits as problem texts: test, val, then train from one seeded stream of draws; a draw
    already taken is skipped, and a train draw one step from a held-out problem is skipped too."""
    out: dict[str, list[str]] = {}
    taken: set[Key] = set()
    held_out: set[Key] = set()
    draws = _draws(seed)
    for split, size in sizes.items():
        out[split] = []
        while len(out[split]) < size:
            key = next(draws)
            if key in taken or (split == "train" and _one_step(key) & held_out):
                continue
            assert solvable(tuple(map(Fraction, key[0])), Fraction(key[1]))  # the game's own rules agree
            taken.add(key)
            if split != "train":
                held_out.add(key)
            out[split].append(text_of(*key))
    return out


@dataclass(frozen=True)
class Countdown(NumberGame):
    """The Countdown task. `shots` is the number of fixed worked examples available for k-shot prompts."""

    name: str = "countdown"
    value_labels: tuple[str, ...] = ("sure", "likely", "impossible")
    value_weights: tuple[float, ...] = (20.0, 1.0, 0.001)
    shots: int = 8

    # -- data --------------------------------------------------------------------------------
    @cached_property
    def _splits(self) -> dict[str, list[Problem]]:
        out = {}
        for split in SIZES:
            lines = resources.files("tasks").joinpath(f"data/countdown/{split}.txt").read_text().splitlines()
            out[split] = [self._problem(line) for line in lines if line.strip()]
        return out

    @cached_property
    def _held_out(self) -> frozenset[str]:
        return frozenset(p.text for split in ("val", "test") for p in self._splits[split])

    def _problem(self, text: str) -> Problem:
        numbers, target = self._parse(text)
        problem_id = f"countdown-{'-'.join(map(str, numbers))}-{target}"
        return Problem(id=problem_id, text=text_of(numbers, target), meta={"category": f"{len(numbers)} numbers"})

    @staticmethod
    def _parse(text: str) -> Key:
        example = "such as '96 7 37 74 -> 55'"
        m = _PROBLEM.match(text)
        if m is None:
            raise BadInput(f"a Countdown problem is numbers, an arrow '->' and a target, {example}; got {text!r}")
        parts, target = m.group(1).replace(",", " ").split(), m.group(2)
        if not all(p.isdigit() for p in parts) or not target.isdigit():
            raise BadInput(f"a Countdown problem has whole numbers only, {example}; got {text!r}")
        if not MIN_NUMBERS <= len(parts) <= MAX_NUMBERS:
            raise BadInput(f"a Countdown problem has {MIN_NUMBERS} to {MAX_NUMBERS} numbers, got {len(parts)} in {text!r}")
        return tuple(sorted(int(p) for p in parts)), int(target)

    def parse_problem(self, text: str) -> Problem:
        return self._problem(text)

    def numbers(self, problem: Problem) -> tuple[int, ...]:
        return tuple(int(x) for x in problem.text.split("->")[0].split())

    def target(self, problem: Problem) -> Fraction:
        return Fraction(int(problem.text.split("->")[1]))

    def state_text(self, state: Position) -> str:
        return f"{numbers_text(self.key(state))} -> {fmt(state.target)}"

    def training_states(self, problem: Problem) -> list[Position]:
        """The states a train problem reaches, without any that is a val or test problem."""
        return [s for s in super().training_states(problem) if self.state_text(s) not in self._held_out]


def main(out: Path) -> None:
    """Write the splits into `out` (data/countdown/ of the package)."""
    out.mkdir(parents=True, exist_ok=True)
    for split, lines in generate().items():
        (out / f"{split}.txt").write_text("".join(line + "\n" for line in lines))
        print(f"{split}: {len(lines)} problems", file=sys.stderr)


if __name__ == "__main__":
    main(Path(__file__).parent / "data" / "countdown")
