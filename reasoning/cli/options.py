"""Options shared by several commands, declared once.

The model options (`--model`, `--backend`, `--base-url`, ...) are the fields of
reasoning.backends.spec.ModelSpec; a command takes them all by declaring a `spec: ModelSpec`
parameter and the `@with_model` decorator:

    @app.command()
    @options.with_model
    def solve(problem: str, spec: ModelSpec) -> None: ...
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from reasoning.backends.spec import APIS, BACKENDS, DEVICES, DTYPES, SHIPPED, ModelSpec

Task = Annotated[
    str,
    typer.Option(
        "--task", "-t",
        help="game24, countdown, arithmetic, a name in the reason.tasks entry-point group, or an import path module:Class.",
    ),
]
Seed = Annotated[int, typer.Option("--seed", help="Random seed (same seed, same samples).")]
Settings = Annotated[
    Optional[list[str]],
    typer.Option("--set", help="Strategy setting KEY=VALUE (repeatable), e.g. --set breadth=5."),
]
Search = Annotated[
    Optional[str], typer.Option("--search", help="Tree-of-thoughts search: bfs, dfs, mcts or best (best-first; same as --set search=...).")
]
Quick = Annotated[bool, typer.Option("--quick", help="A seconds-long smoke run with a tiny model.")]
Out = Annotated[Path, typer.Option("--out", "-o", help="Output directory.")]
Steps = Annotated[
    Optional[int], typer.Option("--steps", min=1, help="Optimizer steps (default: the stage's own; the schedule follows).")
]
TrainSeed = Annotated[
    Optional[int],
    typer.Option("--seed", help="Seed of the stage's corpus, shuffle and sampling (default: the stage's own, 0)."),
]
Tasks = Annotated[
    Optional[str],
    typer.Option("--tasks", help="Comma-separated mixture parts to train on, e.g. game24 (default: every task of the mixture)."),
]

_PANEL = "Model"
Model = Annotated[
    Optional[str],
    typer.Option(
        "--model", "-m", rich_help_panel=_PANEL, show_default=False,
        help=f"A checkpoint directory (transformers format) or a shipped model ({', '.join(SHIPPED)}). Default: the shipped model.",
    ),
]  # fmt: skip
Backend = Annotated[
    str, typer.Option("--backend", rich_help_panel=_PANEL, help=f"{' or '.join(BACKENDS)}: local transformers, or an OpenAI-compatible server.")
]
BaseUrl = Annotated[
    Optional[str], typer.Option("--base-url", rich_help_panel=_PANEL, help="The server (openai backend), e.g. http://127.0.0.1:8000/v1.")
]
ModelName = Annotated[
    Optional[str], typer.Option("--model-name", rich_help_panel=_PANEL, help="The served model (openai). Default: the server's first.")
]
ApiKey = Annotated[
    Optional[str],
    typer.Option("--api-key", rich_help_panel=_PANEL, show_default=False, help="API key (openai). Default: $OPENAI_API_KEY."),
]
Api = Annotated[
    str, typer.Option("--api", rich_help_panel=_PANEL, help=f"{', '.join(APIS)}: the server API to use (openai; auto prefers completions).")
]
Device = Annotated[str, typer.Option("--device", rich_help_panel=_PANEL, help=f"{', '.join(DEVICES)} (hf; auto: cuda, else mps, else cpu).")]
Dtype = Annotated[
    str, typer.Option("--dtype", rich_help_panel=_PANEL, help=f"{', '.join(DTYPES)} (hf; auto: float32 on cpu, the checkpoint's on a GPU).")
]
RewardModel = Annotated[
    Optional[str],
    typer.Option(
        "--reward-model", rich_help_panel=_PANEL, show_default=False,
        help="A reward model directory (`reason train rm`) or shipped stage, beside the model: tot value=learned and bon "
        "need one (reason train rl: the reward of --reward model or both).",
    ),
]  # fmt: skip

# ModelSpec field -> its option; defaults come from ModelSpec itself (declared once, there)
MODEL_OPTIONS: dict[str, Any] = {
    "model": Model, "backend": Backend, "base_url": BaseUrl, "model_name": ModelName,
    "api_key": ApiKey, "api": Api, "device": Device, "dtype": Dtype, "reward_model": RewardModel,
}  # fmt: skip


def with_model(command: Callable[..., Any]) -> Callable[..., Any]:
    """Give a typer command the model options in place of its `spec: ModelSpec` parameter and
    call it with the ModelSpec they make (BadInput, one line and exit 2, if they disagree)."""
    signature = inspect.signature(command, eval_str=True)
    if "spec" not in signature.parameters:
        raise TypeError(f"{command.__name__} needs a `spec: ModelSpec` parameter to take the model options")
    defaults = {f.name: f.default for f in dataclasses.fields(ModelSpec)}
    kept = [p for p in signature.parameters.values() if p.name != "spec"]
    added = [
        inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=defaults[name], annotation=option)
        for name, option in MODEL_OPTIONS.items()
    ]

    @functools.wraps(command)
    def run(*args: Any, **kwargs: Any) -> Any:
        spec = ModelSpec(**{name: kwargs.pop(name) for name in MODEL_OPTIONS})
        return command(*args, spec=spec, **kwargs)

    run.__signature__ = signature.replace(parameters=[*kept, *added])  # type: ignore[attr-defined]
    run.__annotations__ = {p.name: p.annotation for p in (*kept, *added)}
    return run
