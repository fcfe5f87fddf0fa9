"""Options shared by several commands, declared once."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

Task = Annotated[str, typer.Option("--task", "-t", help="Task name.")]
Model = Annotated[
    Optional[Path],
    typer.Option("--model", "-m", help="Model directory (transformers format). Default: the shipped model."),
]
Seed = Annotated[int, typer.Option("--seed", help="Random seed (same seed, same samples).")]
Settings = Annotated[
    Optional[list[str]],
    typer.Option("--set", help="Strategy setting KEY=VALUE (repeatable), e.g. --set breadth=5."),
]
Search = Annotated[
    Optional[str], typer.Option("--search", help="Tree-of-thoughts search: bfs, dfs or mcts (same as --set search=...).")
]
Quick = Annotated[bool, typer.Option("--quick", help="A seconds-long smoke run with a tiny model.")]
Out = Annotated[Path, typer.Option("--out", "-o", help="Output directory.")]
