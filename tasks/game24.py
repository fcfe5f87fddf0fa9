"""Game of 24: combine four numbers with + - * / into 24, using each number exactly once: the
number game (tasks/number_game.py) with four numbers and the target fixed, so a problem's text is
just its numbers ('4 9 10 13').

Data: the ToT paper's 24.csv (data/game24/SOURCE.txt), with human solve times and rates. Splits
follow the paper: test is rows 900-999; val is 100 fixed rows spread over the rest of the
difficulty range; train is the rest.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from fractions import Fraction
from functools import cached_property
from importlib import resources

from reasoning.errors import BadInput
from reasoning.protocols import Problem
from tasks.number_game import NumberGame, Position, Worked, numbers_text

TARGET = Fraction(24)
TEST_ROWS = range(900, 1000)
VAL_SIZE = 100

__all__ = ["Game24", "Position", "Worked", "TARGET"]


@dataclass(frozen=True)
class Game24(NumberGame):
    """The Game of 24 task. `shots` is the number of fixed worked examples available for k-shot prompts."""

    name: str = "game24"
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

    def target(self, problem: Problem) -> Fraction:
        return TARGET

    def state_text(self, state: Position) -> str:
        return numbers_text(self.key(state))
