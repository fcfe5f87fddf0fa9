"""The harness: runs any Strategy over any Task at several budgets and records each run.

Depends only on the protocols in `reasoning/`, so a user's own Strategy benchmarks the same way:

    records = run_bench(task, {"cot": ChainOfThought()}, [Budget(seconds=1)], task.problems("val"), model)

Time is measured on a monotonic clock around the strategy call only.
"""

from __future__ import annotations

import dataclasses
import fcntl
import json
import os
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import contextmanager, nullcontext
from importlib import metadata
from pathlib import Path
from typing import Any

from reasoning.errors import BadInput
from reasoning.protocols import LanguageModel, Problem, Strategy, Task
from reasoning.types import Budget, Result


def version() -> str:
    """The installed project's version (part of every cell's identity)."""
    try:
        return metadata.version("reason")
    except metadata.PackageNotFoundError:
        return "unknown"


def settings(strategy: Strategy) -> dict[str, Any]:
    """A strategy's fully resolved settings: its class and every field, nested configs included,
    so `tot` with other defaults (after an upgrade, or with --set) is a different cell."""
    kind = f"{type(strategy).__module__}.{type(strategy).__qualname__}"
    if dataclasses.is_dataclass(strategy):
        return {"class": kind, **json.loads(json.dumps(dataclasses.asdict(strategy), default=repr))}
    return {"class": kind, "repr": repr(strategy)}


def identity(task: Task, model: LanguageModel, seed: int) -> dict[str, Any]:
    """What every cell of one bench directory shares: the task, the model's identity (backend,
    model, weights fingerprint), the project version and the seed."""
    return {"task": task.name, "model": model.identity(), "version": version(), "seed": seed}


def record(
    problem: Problem, task: Task, name: str, result: Result, budget: Budget, seed: int, seconds: float,
    run: Mapping[str, Any] | None = None, strategy: Strategy | None = None,
) -> dict[str, Any]:
    """One flat, JSON-ready record of a solved problem (the fields of `reason solve --json`);
    with `run` (an `identity`) and `strategy`, also everything that made the cell."""
    rec = {
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
        "fallbacks": list(result.extra.get("fallbacks", ())),  # changes of method the model's capabilities forced
        **({"regime": result.extra["regime"]} if "regime" in result.extra else {}),  # tot: with rules | model only
        **{f"problem_{k}": v for k, v in problem.meta.items()},
    }
    if run is not None:
        rec |= {"model": run["model"], "version": run["version"]}
    if strategy is not None:
        rec["settings"] = settings(strategy)
    return rec


def solve_one(
    problem: Problem,
    model: LanguageModel,
    task: Task,
    strategy: Strategy,
    budget: Budget,
    seed: int = 0,
    name: str | None = None,
    run: Mapping[str, Any] | None = None,
) -> tuple[Result, dict[str, Any]]:
    start = time.monotonic()
    result = strategy.solve(problem, model, task, budget, seed=seed)
    seconds = time.monotonic() - start
    return result, record(problem, task, name or strategy.name, result, budget, seed, seconds, run, strategy)


def cell_key(rec: Mapping[str, Any]) -> str:
    """Everything that makes a cell: task, problem, strategy name and resolved settings, budget,
    seed, model identity and project version."""
    fields = ("task", "problem", "strategy", "settings", "budget", "seed", "model", "version")
    return json.dumps([rec.get(f) for f in fields], sort_keys=True)


def _differences(old: Mapping[str, Any], new: Mapping[str, Any], prefix: str = "") -> list[str]:
    """'key: old -> new' for every leaf that differs (nested dicts walked)."""
    out = []
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key), new.get(key)
        if isinstance(a, dict) and isinstance(b, dict):
            out += _differences(a, b, f"{prefix}{key}.")
        elif a != b:
            out.append(f"{prefix}{key}: {a!r} -> {b!r}")
    return out


def check_compatible(
    records: Sequence[Mapping[str, Any]], run: Mapping[str, Any], strategies: Mapping[str, Strategy], where: str
) -> None:
    """Refuse (BadInput naming the difference) to add cells to results made differently: by
    another task, model, project version or seed, or under a strategy name whose settings differ.
    One directory then holds one model's results, and no report credits one model with another's."""
    for rec in records:
        if "model" not in rec or "settings" not in rec:
            raise BadInput(
                f"{where} holds results from an older version of reason that did not record the model "
                "and settings of each cell; use a new --out"
            )
        made = {"task": rec["task"], "model": rec["model"], "version": rec["version"], "seed": rec["seed"]}
        if made != dict(run):
            raise BadInput(f"{where} holds results made differently ({'; '.join(_differences(made, dict(run)))}); "
                           "use another --out")
        if rec["strategy"] in strategies:
            new = settings(strategies[rec["strategy"]])
            if rec["settings"] != new:
                diff = "; ".join(_differences(rec["settings"], new))
                raise BadInput(f"{where} holds {rec['strategy']!r} cells made with other settings ({diff}); "
                               "use another --out or another strategy name")


def unique(problems: Sequence[Problem]) -> list[Problem]:
    """The problems, refusing one listed twice (it would be counted twice)."""
    seen: set[str] = set()
    for p in problems:
        if p.text in seen:
            raise BadInput(f"problem {p.text!r} is listed more than once")
        seen.add(p.text)
    return list(problems)


class Results:
    """An append-only JSONL file of records: each line is flushed and fsynced when written, so
    a run killed at any moment keeps every finished cell; a torn last line is ignored. Appends
    from several threads never interleave."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._locked = False
        self._write = threading.Lock()

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
        line = json.dumps(rec) + "\n"
        with self._write, self.path.open("a") as f:
            f.write(line)
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
    concurrency: int = 1,
) -> list[dict[str, Any]]:
    """Run every cell not already in `results` and return all records of this grid
    (finished earlier or now). `on_record` sees each new record (for progress display).

    Results made differently (another model, version, task or seed, or other settings under a
    strategy name) are refused before any cell runs. With `concurrency` > 1, up to that many
    cells are in flight at once (for a remote server that batches them); each cell's seconds
    are still its own wall time, which then includes waiting behind the others in flight."""
    if not strategies or not budgets or not problems:
        raise BadInput("a bench needs at least one strategy, one budget and one problem")
    if concurrency < 1:
        raise BadInput(f"concurrency must be at least 1, got {concurrency}")
    problems = unique(problems)
    run = identity(task, model, seed)
    with results.exclusive() if results is not None else nullcontext():
        done: dict[str, dict[str, Any]] = {}
        if results is not None:
            results.repair()
            existing = results.read()
            check_compatible(existing, run, strategies, str(results.path))
            done = {cell_key(r): r for r in existing}
        records: dict[int, dict[str, Any]] = {}
        todo = []
        for i, (name, budget, problem) in enumerate(cells(strategies, budgets, problems)):
            key = cell_key({"task": task.name, "problem": problem.text, "strategy": name,
                            "settings": settings(strategies[name]), "budget": str(budget), **run})
            if key in done:
                records[i] = done[key]
            else:
                todo.append((i, name, budget, problem))

        def finish(i: int, rec: dict[str, Any]) -> None:
            if results is not None:
                results.append(rec)
            records[i] = rec
            if on_record is not None:
                on_record(rec)

        def one(name: str, budget: Budget, problem: Problem) -> dict[str, Any]:
            return solve_one(problem, model, task, strategies[name], budget, seed, name, run)[1]

        if concurrency == 1:
            for i, name, budget, problem in todo:
                finish(i, one(name, budget, problem))
        else:
            with ThreadPoolExecutor(concurrency) as pool:
                pending: dict[Future, int] = {}
                for i, name, budget, problem in todo:
                    if len(pending) >= concurrency:  # keep at most `concurrency` cells in flight
                        finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                        for f in finished:
                            finish(pending.pop(f), f.result())
                    pending[pool.submit(one, name, budget, problem)] = i
                for f in pending:
                    finish(pending[f], f.result())
        return [records[i] for i in sorted(records)]


def read_problems(task: Task, path: Path) -> list[Problem]:
    """Problems from a text file (one per line) or JSONL (a `problem` field per line). Every
    invalid line is reported with its number, and nothing is returned unless all are valid. A
    problem listed twice (after the task's own normalization: `13 10 9 4` is `4 9 10 13`) is an
    invalid line too: it would be counted twice."""
    if not path.exists():
        raise BadInput(f"problems file {path} does not exist")
    problems, errors = [], []
    first: dict[str, int] = {}  # problem text -> the line that listed it first
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
            problem = task.parse_problem(text)
        except BadInput as e:
            errors.append(f"line {number}: {e}")
            continue
        if problem.text in first:
            errors.append(f"line {number}: repeats line {first[problem.text]} ({problem.text})")
            continue
        first[problem.text] = number
        problems.append(problem)
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
