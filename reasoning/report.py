"""Accuracy against thinking time: summaries with Wilson intervals, a plot, and report.md."""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reasoning.types import Budget


def model_label(model: Any) -> str:
    """A model identity (backend, model, fingerprint) in one short line."""
    if not isinstance(model, dict):
        return str(model)
    fingerprint = f" ({model['fingerprint']})" if model.get("fingerprint") else ""
    server = f" at {model['base_url']}" if model.get("base_url") else ""
    return f"{model.get('backend', '?')} {model.get('model', '?')}{server}{fingerprint}"


@dataclass(frozen=True)
class Row:
    strategy: str
    budget: str
    n: int
    correct: int
    low: float  # 95% Wilson interval
    high: float
    mean_seconds: float
    median_seconds: float
    p90_seconds: float
    mean_tokens: float
    mean_calls: float

    @property
    def accuracy(self) -> float:
        return self.correct / self.n if self.n else 0.0


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """95% Wilson score interval of a binomial proportion k/n."""
    if n == 0:
        return 0.0, 1.0
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    # the interval holds p: rounding once left 100/100 with a high end of 0.9999999999999999
    return min(p, max(0.0, centre - half)), max(p, min(1.0, centre + half))


def _quantile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(math.ceil(q * len(ordered))) - 1)] if ordered else 0.0


def budget_order(budget: str) -> tuple[float, float, float]:
    b = Budget.parse(budget)
    inf = float("inf")
    return (
        b.seconds if b.seconds is not None else inf,
        b.tokens if b.tokens is not None else inf,
        b.calls if b.calls is not None else inf,
    )


def _label(record: dict[str, Any], models: list[str]) -> str:
    """The strategy name, with the model when the records hold more than one model's cells."""
    if len(models) < 2:
        return record["strategy"]
    return f"{record['strategy']} @ model {models.index(model_label(record.get('model'))) + 1}"


def models_in(records: Iterable[dict[str, Any]]) -> list[str]:
    """The distinct models (labels) whose cells these are, in first-seen order."""
    return list(dict.fromkeys(model_label(r.get("model")) for r in records))


def summarize(records: Iterable[dict[str, Any]]) -> list[Row]:
    """One row per (strategy, budget), strategies in first-seen order, budgets ascending. Cells
    of different models never share a row: with more than one model, each strategy's rows are
    per model (`cot @ model 2`, numbered as `models_in` lists them)."""
    records = list(records)
    models = models_in(records)
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in records:
        groups.setdefault((_label(r, models), r["budget"]), []).append(r)
    strategies = list(dict.fromkeys(s for s, _ in groups))
    rows = []
    for (strategy, budget), rs in sorted(groups.items(), key=lambda kv: (strategies.index(kv[0][0]), budget_order(kv[0][1]))):
        seconds = [r["seconds"] for r in rs]
        k = sum(bool(r["correct"]) for r in rs)
        rows.append(
            Row(
                strategy, budget, len(rs), k, *wilson(k, len(rs)),
                statistics.fmean(seconds), statistics.median(seconds), _quantile(seconds, 0.9),
                statistics.fmean(r["generated_tokens"] for r in rs), statistics.fmean(r["calls"] for r in rs),
            )
        )
    return rows


def human_baseline(records: Iterable[dict[str, Any]]) -> tuple[float, float, int] | None:
    """(mean human seconds, mean human solve rate, problems) over the distinct problems whose task
    data carries human figures (problem meta human_seconds and human_solve_rate, as Game of 24's
    24.csv does); None when no problem has them: the report then shows no human baseline."""
    seen = {r["problem"]: r for r in records if "problem_human_seconds" in r and "problem_human_solve_rate" in r}
    if not seen:
        return None
    rs = list(seen.values())
    return (
        statistics.fmean(r["problem_human_seconds"] for r in rs),
        statistics.fmean(r["problem_human_solve_rate"] for r in rs),
        len(rs),
    )


def by_category(records: Iterable[dict[str, Any]]) -> dict[tuple[str, str], dict[str, tuple[int, int]]]:
    """(strategy, budget) -> category -> (correct, n), over the records whose problem carries a
    category (problem meta `category`, as arithmetic's and Countdown's do); empty when none does. Strategies are
    labelled as in `summarize`; categories keep their first-seen order."""
    records = [r for r in records if "problem_category" in r]
    models = models_in(records)
    out: dict[tuple[str, str], dict[str, tuple[int, int]]] = {}
    for r in records:
        cell = out.setdefault((_label(r, models), r["budget"]), {})
        k, n = cell.get(r["problem_category"], (0, 0))
        cell[r["problem_category"]] = (k + bool(r["correct"]), n + 1)
    return out


def _category_table(cells: dict[tuple[str, str], dict[str, tuple[int, int]]]) -> list[str]:
    categories = list(dict.fromkeys(c for per in cells.values() for c in per))
    lines = ["## By category", "", "| strategy | budget | " + " | ".join(categories) + " |",
             "|---|---|" + "---|" * len(categories)]  # fmt: skip
    for (strategy, budget), per in sorted(cells.items(), key=lambda kv: (kv[0][0], budget_order(kv[0][1]))):
        shown = [f"{per[c][0] / per[c][1]:.1%} ({per[c][1]})" if c in per else "-" for c in categories]
        lines.append(f"| {strategy} | {budget} | " + " | ".join(shown) + " |")
    return [*lines, ""]


def declines(rows: Sequence[Row]) -> list[str]:
    """Sentences naming every place where a strategy's accuracy falls as its budget grows."""
    out = []
    by_strategy: dict[str, list[Row]] = {}
    for row in rows:
        by_strategy.setdefault(row.strategy, []).append(row)
    for strategy, rs in by_strategy.items():
        for a, b in zip(rs, rs[1:]):
            if b.accuracy < a.accuracy:
                overlap = "within" if b.high >= a.low else "outside"
                out.append(
                    f"{strategy}: accuracy falls from {a.accuracy:.0%} at {a.budget} to {b.accuracy:.0%} at "
                    f"{b.budget} ({overlap} the 95% intervals)."
                )
    return out


def _point_labels(xs: Sequence[float], ys: Sequence[float], budgets: Sequence[str]) -> list[tuple[float, float, str]]:
    """One label per run of points that coincide (same accuracy, x within 15%), e.g. a strategy
    whose cost does not depend on the budget gets '0.5s-4s' instead of four stacked labels."""
    runs: list[tuple[float, float, list[str]]] = []
    for x, y, budget in zip(xs, ys, budgets):
        if runs and runs[-1][1] == y and abs(x - runs[-1][0]) <= 0.15 * max(abs(runs[-1][0]), 1e-9):
            runs[-1][2].append(budget)
        else:
            runs.append((x, y, [budget]))
    return [(x, y, b[0] if len(b) == 1 else f"{b[0]}-{b[-1]}") for x, y, b in runs]


def plot(rows: Sequence[Row], human: tuple[float, float, int] | None, path: Path) -> None:
    """accuracy_vs_time.png: accuracy vs mean seconds (log x) and vs mean generated tokens."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(12, 4.8))
    strategies = list(dict.fromkeys(r.strategy for r in rows))
    for ax, attr, label in ((axes[0], "mean_seconds", "mean seconds per problem (log)"), (axes[1], "mean_tokens", "mean generated tokens per problem (log)")):
        for s in strategies:
            rs = [r for r in rows if r.strategy == s]
            xs = [max(getattr(r, attr), 1e-3) for r in rs]
            ys = [r.accuracy for r in rs]
            err = [[r.accuracy - r.low for r in rs], [r.high - r.accuracy for r in rs]]
            ax.errorbar(xs, ys, yerr=err, marker="o", capsize=3, label=s)
            for x, y, text in _point_labels(xs, ys, [r.budget for r in rs]):
                ax.annotate(text, (x, y), textcoords="offset points", xytext=(4, 4), fontsize=7)
        if human is not None and attr == "mean_seconds":
            ax.scatter([human[0]], [human[1]], marker="*", s=160, color="black", zorder=5,
                       label=f"humans (the task's data, {human[2]} problems)")
        ax.set_xscale("log")
        ax.set_xlabel(label)
        ax.set_ylabel("accuracy (95% Wilson interval)")
        ax.set_ylim(-0.02, 1.02)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle("Accuracy against thinking time")
    fig.tight_layout()
    tmp = path.with_name(path.stem + ".tmp.png")
    fig.savefig(tmp, dpi=120)
    plt.close(fig)
    tmp.replace(path)


def markdown(
    rows: Sequence[Row],
    human: tuple[float, float, int] | None,
    meta: dict[str, Any],
    models: Sequence[str] = (),
    categories: dict[tuple[str, str], dict[str, tuple[int, int]]] | None = None,
) -> str:
    lines = ["# Accuracy against thinking time", ""]
    for command in meta.get("commands", []):  # directories written before runs were recorded
        lines.append(f"- **command**: `{command}`")
    for key in ("task", "split", "model", "model_load_seconds", "machine", "torch", "started", "seed"):
        if key in meta:
            lines.append(f"- **{key.replace('_', ' ')}**: `{meta[key]}`")
    tasks = list(dict.fromkeys(run["task"] for run in meta.get("runs", [])))
    if tasks:
        lines.append(f"- **task**: {', '.join(f'`{t}`' for t in tasks)}")
    for run in meta.get("runs", []):
        lines.append(f"- **run** `{run['command']}`: split {run['split']}, model {model_label(run['model'])}, "
                     f"reason {run['version']}, seed {run['seed']}, torch {run['torch']}, {run['machine']}, "
                     f"started {run['started']}")
    if len(models) > 1:
        lines += ["", "Cells of more than one model (rows say which):"]
        lines += [f"- model {i}: {m}" for i, m in enumerate(models, start=1)]
    elif models:
        lines.append(f"- **model of every cell**: `{models[0]}`")
    lines += ["", "![accuracy vs time](accuracy_vs_time.png)", ""]
    if human is not None:
        lines += [f"Humans (from the task's data, the same {human[2]} problems): mean solve time {human[0]:.1f} s, "
                  f"mean solve rate {human[1]:.1%}.", ""]
    for budget in sorted(dict.fromkeys(r.budget for r in rows), key=budget_order):
        lines += [f"## Budget {budget}", "",
                  "| strategy | accuracy | 95% interval | n | median s | p90 s | mean tokens | mean calls |",
                  "|---|---|---|---|---|---|---|---|"]
        for r in rows:
            if r.budget == budget:
                lines.append(f"| {r.strategy} | {r.accuracy:.1%} | {r.low:.1%} - {r.high:.1%} | {r.n} | "
                             f"{r.median_seconds:.2f} | {r.p90_seconds:.2f} | {r.mean_tokens:.0f} | {r.mean_calls:.1f} |")
        lines.append("")
    if categories:
        lines += _category_table(categories)
    falls = declines(rows)
    lines += ["## Where accuracy falls with more budget", ""]
    lines += [f"- {s}" for s in falls] if falls else ["Nowhere: every curve is flat or rising."]
    return "\n".join(lines) + "\n"


def write_report(directory: Path, records: Sequence[dict[str, Any]], meta: dict[str, Any]) -> list[Row]:
    """Write accuracy_vs_time.png and report.md into `directory`; returns the summary rows."""
    rows = summarize(records)
    human = human_baseline(records)
    plot(rows, human, directory / "accuracy_vs_time.png")
    tmp = directory / "report.md.tmp"
    tmp.write_text(markdown(rows, human, meta, models_in(records), by_category(records)))
    tmp.replace(directory / "report.md")
    return rows
