"""Human-readable output of the CLI."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rich.console import Console
from rich.table import Table

from reasoning.report import model_label
from reasoning.tree import thoughts_to
from reasoning.types import Result


def steps_of(result: Result, parse: Callable[[str], str | None]) -> str | None:
    """The reasoning behind the answer: the search path to it (tot), else the first response that
    gives it (sc, bon), else the first response; None if the strategy kept neither."""
    if result.tree is not None:
        thoughts = thoughts_to(result.tree, result.answer)
        return None if thoughts is None else "\n".join(thoughts)
    agreeing = [text for text in result.trace if parse(text) == result.answer]
    return (agreeing or list(result.trace) or [None])[0]


def print_result(console: Console, record: dict[str, Any], result: Result, show_tree: bool, steps: str | None = None) -> None:
    if show_tree and result.tree is not None:
        from reasoning.tree import render

        console.print(render(result.tree))
    elif show_tree:
        console.print("[dim](this strategy builds no search tree)[/dim]")
    if steps is not None:
        console.print(steps.rstrip("\n"), markup=False, highlight=False)
    mark = "[green]correct[/green]" if record["correct"] else "[red]not correct[/red]"
    console.print(f"[bold]{record['answer'] or '(no answer)'}[/bold]  {mark}")
    table = Table(show_header=True, header_style="dim", box=None)
    for column in ("strategy", "seconds", "generated tokens", "prompt tokens", "calls", "stopped"):
        table.add_column(column)
    table.add_row(
        record["strategy"],
        f"{record['seconds']:.2f}",
        str(record["generated_tokens"]),
        str(record["prompt_tokens"]),
        str(record["calls"]),
        record["stop_reason"],
    )
    console.print(table)
    if record.get("regime") == "model only":
        console.print("[dim]regime: model only (steps as the model stated them; only the answer verified)[/dim]")
    for note in record.get("fallbacks", ()):
        console.print(f"[yellow]fallback: {note}[/yellow]")
    console.print(f"[dim]model {model_label(record['model'])} (loaded in {record['load_seconds']:.1f}s)[/dim]")
