"""`reason bench` and `reason report`: the harness with a progress bar, and its reports."""

from __future__ import annotations

import json
import os
import platform
import shlex
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from reasoning.backends.spec import ModelSpec
from reasoning.errors import BadInput
from reasoning.protocols import require
from reasoning.report import Row, write_report
from reasoning.settings import parse_pairs


def _strategies(spec: str) -> dict[str, Any]:
    import strategies
    from reasoning.harness import split_names

    out = {}
    for name in split_names(spec):
        base, *pairs = name.split(":")
        out[name] = strategies.create(base, parse_pairs(pairs))
    if not out:
        raise BadInput("give at least one strategy, e.g. --strategy io,cot")
    return out


def _write_json(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=1))
    tmp.replace(path)


def run(
    out: Path, task_name: str, split: str, strategy: str, budget: str, limit: int | None,
    problems_file: Path | None, spec: ModelSpec, seed: int, concurrency: int = 1,
) -> None:
    import strategies
    import tasks
    import torch
    from reasoning.cli.models import load_model
    from reasoning.harness import Results, check_compatible, identity, parse_budgets, read_problems, run_bench, unique
    from reasoning.protocols import capabilities

    task = tasks.get_task(task_name)
    problems = unique(read_problems(task, problems_file) if problems_file else task.problems(split))
    if limit is not None:
        if limit < 1:
            raise BadInput("--limit must be at least 1")
        problems = problems[:limit]
    budgets = parse_budgets(budget)
    grid = _strategies(strategy)
    if concurrency < 1:
        raise BadInput(f"--concurrency must be at least 1, got {concurrency}")
    for name, each in grid.items():  # a role the task lacks: refuse before any cell runs
        require(task, name, *getattr(each, "roles", ("answering",)))
    if out.exists() and not out.is_dir():
        raise BadInput(f"--out {out} exists and is not a directory")
    out.mkdir(parents=True, exist_ok=True)
    results = Results(out / "results.jsonl")
    with results.exclusive():  # before meta.json: a refused second bench changes nothing
        model, _, load_seconds = load_model(spec)
        for each in grid.values():  # refuse before any cell runs if a strategy cannot run on this model
            strategies.adapt(each, capabilities(model))
        if concurrency > 1 and model.identity().get("backend") == "hf":
            raise BadInput("--concurrency needs a remote backend (--backend openai): a local model runs one cell at a time")
        this = identity(task, model, seed)
        check_compatible(results.read(), this, grid, str(out))  # refuse before anything is written
        meta_path = out / "meta.json"
        meta = json.loads(meta_path.read_text()) if meta_path.exists() else {}
        meta.setdefault("runs", [])
        meta["runs"].append({  # every run in this directory, with what made it
            "command": shlex.join(["reason", *sys.argv[1:]]),
            "split": "file " + str(problems_file) if problems_file else split,
            **this,
            "model_load_seconds": round(load_seconds, 2),
            "concurrency": concurrency,
            "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.platform()}",
            "torch": torch.__version__,
            "started": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        })
        _write_json(meta_path, meta)
        console = Console(stderr=True)
        total = len(grid) * len(budgets) * len(problems)
        tally: dict[str, list[int]] = {name: [0, 0] for name in grid}

        def describe() -> str:
            return "  ".join(f"{n} {c}/{t}" for n, (c, t) in tally.items())

        with Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
            TextColumn("eta"), TimeRemainingColumn(), console=console,
        ) as progress:
            bar = progress.add_task(describe(), total=total)

            def on_record(rec: dict[str, Any]) -> None:
                tally[rec["strategy"]][0] += bool(rec["correct"])
                tally[rec["strategy"]][1] += 1
                progress.update(bar, advance=1, description=describe())

            records = run_bench(task, grid, budgets, problems, model, seed, results, on_record, concurrency)
            progress.update(bar, completed=total)
        rows = write_report(out, records_in(out), meta)
        print_rows(rows)
        console.print(f"wrote {out / 'report.md'} and {out / 'accuracy_vs_time.png'} ({len(records)} cells)")


def records_in(directory: Path) -> list[dict[str, Any]]:
    from reasoning.harness import Results

    return Results(directory / "results.jsonl").read()


def report(directory: Path) -> None:
    if not (directory / "results.jsonl").exists():
        raise BadInput(f"{directory} has no results.jsonl (run `reason bench --out {directory}` first)")
    records = records_in(directory)
    if not records:
        raise BadInput(f"{directory}/results.jsonl holds no finished cells yet")
    meta_path = directory / "meta.json"
    meta = json.loads(meta_path.read_text()) if meta_path.exists() else {}
    rows = write_report(directory, records, meta)
    print_rows(rows)


def print_rows(rows: list[Row]) -> None:
    console = Console() if sys.stdout.isatty() else Console(width=140)  # no wrapped cells in logs
    table = Table(title="accuracy against thinking time")
    for column in ("strategy", "budget", "accuracy", "95% interval", "n", "median s", "p90 s", "tokens", "calls"):
        table.add_column(column, justify="left" if column in ("strategy", "budget") else "right")
    for r in rows:
        table.add_row(r.strategy, r.budget, f"{r.accuracy:.1%}", f"{r.low:.0%}-{r.high:.0%}", str(r.n),
                      f"{r.median_seconds:.2f}", f"{r.p90_seconds:.2f}", f"{r.mean_tokens:.0f}", f"{r.mean_calls:.1f}")
    console.print(table)
