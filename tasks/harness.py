"""The harness: runs any Strategy over any Task at several budgets and records each run.

Depends only on the protocols in `reasoning/`, so a user's own Strategy benchmarks the same way:

    records = run_bench(task, {"cot": ChainOfThought()}, [Budget(seconds=1)], task.problems("val"), model)

Time is measured on a monotonic clock around the strategy call only.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

from reasoning.errors import BadInput
from reasoning.protocols import LanguageModel, Problem, Strategy, Task
from reasoning.types import Budget, Result


def record(
    problem: Problem, task: Task, name: str, result: Result, budget: Budget, seed: int, seconds: float
) -> dict[str, Any]:
    """One flat, JSON-ready record of a solved problem (the fields of `reason solve --json`)."""
    return {
        "problem": problem.text,
        "task": task.name,
        "strategy": name,
        "answer": result.answer,
        "correct": task.verify(problem, result.answer),
        "seconds": round(seconds, 4),
        "generated_tokens": result.usage.generated_tokens,
        "prompt_tokens": result.usage.prompt_tokens,
        "calls": result.usage.calls,
        "stop_reason": result.stop_reason,
        "budget": str(budget),
        "seed": seed,
        **{f"problem_{k}": v for k, v in problem.meta.items()},
    }


def solve_one(
    problem: Problem,
    model: LanguageModel,
    task: Task,
    strategy: Strategy,
    budget: Budget,
    seed: int = 0,
    name: str | None = None,
) -> tuple[Result, dict[str, Any]]:
    start = time.monotonic()
    result = strategy.solve(problem, model, task, budget, seed=seed)
    seconds = time.monotonic() - start
    return result, record(problem, task, name or strategy.name, result, budget, seed, seconds)


def cell_key(rec: Mapping[str, Any]) -> tuple[str, str, str, int]:
    return (rec["strategy"], rec["budget"], rec["problem"], rec["seed"])


class Results:
    """An append-only JSONL file of records: each line is flushed and fsynced when written, so
    a run killed at any moment keeps every finished cell; a torn last line is ignored."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._locked = False

    def read(self) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        records = []
        for line in self.path.read_text().splitlines():
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError:
                continue  # the line a kill cut short; its cell runs again
        return records

    def repair(self) -> None:
        """Drop a torn last line (from a kill mid-write) so new lines start clean."""
        if self.path.exists():
            data = self.path.read_bytes()
            if data and not data.endswith(b"\n"):
                self.path.write_bytes(data[: data.rfind(b"\n") + 1])

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        """Hold a lock beside the file while a bench writes it: a second bench on the same file
        is refused (it would run the same cells twice, and two runs on one CPU slow each other).
        Re-entrant: holding it already, this object may take it again."""
        if self._locked:
            yield
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path.with_name(self.path.name + ".lock"), "w") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise BadInput(f"another bench is writing {self.path}; wait for it to finish") from None
            self._locked = True
            try:
                yield
            finally:
                self._locked = False

    def append(self, rec: Mapping[str, Any]) -> None:
        with self.path.open("a") as f:
            f.write(json.dumps(rec) + "\n")
            f.flush()
            os.fsync(f.fileno())


def cells(
    strategies: Mapping[str, Strategy], budgets: Sequence[Budget], problems: Sequence[Problem]
) -> list[tuple[str, Budget, Problem]]:
    """Every (strategy, budget, problem) cell, budgets outermost so partial runs cover every
    strategy at the small budgets first."""
    return [(name, b, p) for b in budgets for name in strategies for p in problems]


def run_bench(
    task: Task,
    strategies: Mapping[str, Strategy],
    budgets: Sequence[Budget],
    problems: Sequence[Problem],
    model: LanguageModel,
    seed: int = 0,
    results: Results | None = None,
    on_record: Callable[[dict[str, Any]], None] | None = None,
) -> list[dict[str, Any]]:
    """Run every cell not already in `results` and return all records of this grid
    (finished earlier or now). `on_record` sees each new record (for progress display)."""
    if not strategies or not budgets or not problems:
        raise BadInput("a bench needs at least one strategy, one budget and one problem")
    with results.exclusive() if results is not None else nullcontext():
        done: dict[tuple, dict[str, Any]] = {}
        if results is not None:
            results.repair()
            done = {cell_key(r): r for r in results.read()}
        out = []
        for name, budget, problem in cells(strategies, budgets, problems):
            key = (name, str(budget), problem.text, seed)
            if key in done:
                out.append(done[key])
                continue
            _, rec = solve_one(problem, model, task, strategies[name], budget, seed, name)
            if results is not None:
                results.append(rec)
            out.append(rec)
            if on_record is not None:
                on_record(rec)
        return out


def read_problems(task: Task, path: Path) -> list[Problem]:
    """Problems from a text file (one per line) or JSONL (a `problem` field per line). Every
    invalid line is reported with its number, and nothing is returned unless all are valid."""
    if not path.exists():
        raise BadInput(f"problems file {path} does not exist")
    problems, errors = [], []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        text = line
        if path.suffix == ".jsonl" or line.lstrip().startswith("{"):
            try:
                text = json.loads(line)["problem"]
                if not isinstance(text, str):
                    raise TypeError
            except (json.JSONDecodeError, KeyError, TypeError):
                errors.append(f"line {number}: not a JSON object with a string 'problem' field")
                continue
        try:
            problems.append(task.parse_problem(text))
        except BadInput as e:
            errors.append(f"line {number}: {e}")
    if errors:
        raise BadInput(f"{path} has {len(errors)} invalid line(s): " + "; ".join(errors))
    if not problems:
        raise BadInput(f"{path} holds no problems")
    return problems


def parse_budgets(text: str) -> list[Budget]:
    """'1s,3s,10s' -> budgets (BadInput on a bad one)."""
    budgets = [Budget.parse(part) for part in text.split(",") if part.strip()]
    if not budgets:
        raise BadInput("give at least one budget, e.g. --budget 1s,3s,10s")
    return budgets


def split_names(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def group(records: Iterable[dict[str, Any]]) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """Records by (strategy, budget), in first-seen order."""
    out: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in records:
        out.setdefault((r["strategy"], r["budget"]), []).append(r)
    return out
