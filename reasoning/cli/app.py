"""`reason`: solve, train (and later bench, report, serve). Library errors become one line + exit 2."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

from reasoning.backends.spec import ModelSpec
from reasoning.cli import options
from reasoning.cli.serve import serve
from reasoning.cli.generate import generate
from reasoning.errors import ReasonError
from reasoning.settings import parse_pairs
from reasoning.types import Budget

app = typer.Typer(
    name="reason",
    help="System 2 for small language models: solve, train, benchmark.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.command()(generate)
train_app = typer.Typer(help="Train the model through the stages of a GPT assistant.", no_args_is_help=True)
app.add_typer(train_app, name="train")
app.command()(serve)


def _strategy_settings(settings: list[str] | None, search: str | None) -> dict[str, str]:
    pairs = parse_pairs(settings or [])
    if search is not None:
        pairs["search"] = search
    return pairs


@app.command()
@options.with_model
def solve(
    problem: Annotated[str, typer.Argument(help='The problem, e.g. "4 9 10 13".')],
    spec: ModelSpec,
    task: options.Task = "game24",
    strategy: Annotated[str, typer.Option("--strategy", "-s", help="io, cot, sc, tot or bon.")] = "cot",
    seed: options.Seed = 0,
    budget: Annotated[str, typer.Option("--budget", "-b", help="10s, 500tok, 20calls or 10s+20calls.")] = "unlimited",
    settings: options.Settings = None,
    search: options.Search = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    show_tree: Annotated[bool, typer.Option("--show-tree", help="Render the search tree.")] = False,
    save_tree: Annotated[Optional[Path], typer.Option("--save-tree", help="Write the tree (.json or .graphml).")] = None,
    show_steps: Annotated[
        bool, typer.Option("--show-steps", help="Print the reasoning behind the answer (the response, or the search path).")
    ] = False,
) -> None:
    """Solve one problem with a strategy and report the answer and the thinking time spent."""
    import strategies
    import tasks
    from reasoning.cli.models import load_model
    from reasoning.cli.render import print_result, steps_of
    from reasoning.harness import identity, solve_one
    from reasoning.protocols import capabilities

    the_task = tasks.get_task(task)
    the_problem = the_task.parse_problem(problem)
    the_budget = Budget.parse(budget)
    the_strategy = strategies.create(strategy, _strategy_settings(settings, search))
    lm, _, load_seconds = load_model(spec)
    strategies.adapt(the_strategy, capabilities(lm))  # refuse before any work if it cannot run on this model
    result, record = solve_one(
        the_problem, lm, the_task, the_strategy, the_budget, seed, run=identity(the_task, lm, seed)
    )
    record["load_seconds"] = round(load_seconds, 3)
    if save_tree is not None:
        from reasoning.tree import save_tree as write_tree

        write_tree(result.tree, save_tree)
    if as_json:
        print(json.dumps(record))
    else:
        steps = steps_of(result, the_task.parse) if show_steps else None
        print_result(Console(), record, result, show_tree, steps)


@app.command()
@options.with_model
def bench(
    out: options.Out,
    spec: ModelSpec,
    task: options.Task = "game24",
    split: Annotated[
        str, typer.Option("--split", help="train, val or test (val by default: test only when named, so no one tunes on it).")
    ] = "val",
    strategy: Annotated[
        str, typer.Option("--strategy", "-s", help="Comma-separated; settings after colons, e.g. io,cot,tot:search=mcts.")
    ] = "io,cot,sc,tot",
    budget: Annotated[str, typer.Option("--budget", "-b", help="Comma-separated budgets, e.g. 1s,3s,10s.")] = "1s,3s,10s,30s",
    limit: Annotated[Optional[int], typer.Option("--limit", help="Only the first N problems.")] = None,
    problems_file: Annotated[
        Optional[Path], typer.Option("--problems-file", help="One problem per line, or JSONL with a 'problem' field.")
    ] = None,
    seed: options.Seed = 0,
    concurrency: Annotated[
        int, typer.Option("--concurrency", help="Cells in flight at once (a remote backend only).")
    ] = 1,
) -> None:
    """Run strategies x budgets x problems; results.jsonl survives kills and runs resume."""
    from reasoning.cli.bench import run

    run(out, task, split, strategy, budget, limit, problems_file, spec, seed, concurrency)


@app.command()
def report(directory: Annotated[Path, typer.Argument(help="A bench output directory.")]) -> None:
    """Write accuracy_vs_time.png and report.md for a bench directory and print the table."""
    from reasoning.cli.bench import report as write

    write(directory)


def _train_stage(
    stage: str, out: Path, quick: bool, init: Path | None = None, steps: int | None = None, tasks: str | None = None,
    seed: int | None = None, **settings: object,
) -> Path:
    """Run one stage with its default (or --quick) config, `steps`, `seed` and `settings` replacing
    fields of it, on every task of its corpus mixture (cfg.corpus, by task name) or on the parts
    named in `tasks` (comma-separated)."""
    from dataclasses import replace

    from tasks import get_task
    from training import pretrain, rl, rm, sft

    module = {"pretrain": pretrain, "sft": sft, "rm": rm, "rl": rl}[stage]
    cfg = module.StageConfig.quick() if quick else module.StageConfig()
    settings = {**settings, **{k: v for k, v in (("steps", steps), ("seed", seed)) if v is not None}}
    cfg = replace(cfg, **settings) if settings else cfg
    if tasks is not None:
        cfg = replace(cfg, corpus=cfg.corpus.only([name.strip() for name in tasks.split(",") if name.strip()]))
    chosen = [get_task(name) for name in cfg.corpus.names()]
    if stage == "pretrain":
        return pretrain.pretrain(cfg, out, chosen, init=init)
    assert init is not None
    return {"sft": sft.sft, "rm": rm.rm, "rl": rl.rl}[stage](cfg, init, out, chosen)


@train_app.command("pretrain")
def train_pretrain(
    out: options.Out = Path("checkpoints/pretrain"),
    init: Annotated[
        Optional[Path],
        typer.Option("--init", help="Continue pretraining the finished model in this directory (default: a fresh model)."),
    ] = None,
    quick: options.Quick = False,
    steps: options.Steps = None,
    tasks: options.Tasks = None,
    seed: options.TrainSeed = None,
) -> None:
    """Stage 1: next-token prediction on documents of worked problems of every task in the mixture."""
    print(_train_stage("pretrain", out, quick, init, steps, tasks, seed))


@train_app.command("sft")
def train_sft(
    out: options.Out = Path("checkpoints/sft"),
    init: Annotated[Path, typer.Option("--init", help="Pretrained model directory.")] = Path("checkpoints/pretrain"),
    quick: options.Quick = False,
    steps: options.Steps = None,
    tasks: options.Tasks = None,
    seed: options.TrainSeed = None,
) -> None:
    """Stage 2: supervised fine-tuning on prompt/response pairs (loss on the response)."""
    print(_train_stage("sft", out, quick, init, steps, tasks, seed))


@train_app.command("rm")
def train_rm(
    out: options.Out = Path("checkpoints/rm"),
    init: Annotated[Path, typer.Option("--init", help="Fine-tuned (sft) model directory: the trunk and the policy that samples.")] = Path("checkpoints/sft"),
    human_pairs: Annotated[
        Optional[Path], typer.Option("--human-pairs", help='JSONL comparisons: {"prompt": ..., "chosen": ..., "rejected": ...} a line.')
    ] = None,
    quick: options.Quick = False,
    steps: options.Steps = None,
    tasks: options.Tasks = None,
    seed: options.TrainSeed = None,
) -> None:
    """Stage 3: a reward model (a scalar head on the trunk) trained on outcomes: exact solvability,
    the policy's rollout success, verifier-ranked pairs (and human pairs if given)."""
    from dataclasses import replace

    from training import rm

    settings = {}
    if human_pairs is not None:
        data = rm.StageConfig.quick().data if quick else rm.StageConfig().data
        settings["data"] = replace(data, human_pairs=str(human_pairs))
    print(_train_stage("rm", out, quick, init, steps, tasks, seed, **settings))


@train_app.command("rl")
def train_rl(
    out: options.Out = Path("checkpoints/rl"),
    init: Annotated[Path, typer.Option("--init", help="Fine-tuned (sft) model directory.")] = Path("checkpoints/sft"),
    reward: Annotated[
        str, typer.Option("--reward", help="verifier (the task's check), model (the reward model) or both (their mean).")
    ] = "verifier",
    reward_model: options.RewardModel = None,
    quick: options.Quick = False,
    steps: options.Steps = None,
    tasks: options.Tasks = None,
    seed: options.TrainSeed = None,
) -> None:
    """Stage 4: policy gradient on train problems and states (cot and step prompts), KL-leashed to
    --init, with SFT pairs of the other styles mixed in (ptx)."""
    from reasoning.errors import BadInput

    if reward not in ("verifier", "model", "both"):
        raise BadInput(f"--reward must be verifier, model or both, got {reward!r}")
    judge = ModelSpec(reward_model=reward_model).reward_dir()  # the model options' --reward-model, resolved as there
    print(_train_stage("rl", out, quick, init, steps, tasks, seed, reward=reward, reward_model=None if judge is None else str(judge)))


@train_app.command("all")
def train_all(out: options.Out = Path("checkpoints"), quick: options.Quick = False) -> None:
    """Every stage in order (pretrain, sft, rm, rl), each in its own subdirectory of --out."""
    pretrained = _train_stage("pretrain", out / "pretrain", quick)
    tuned = _train_stage("sft", out / "sft", quick, pretrained)
    _train_stage("rm", out / "rm", quick, tuned)
    print(_train_stage("rl", out / "rl", quick, tuned))


def main() -> None:
    """Console entry point: domain and usage errors print one line on stderr and exit 2."""
    try:
        code = app(standalone_mode=False)
    except (ReasonError, typer.TyperException) as e:
        message = e.format_message() if hasattr(e, "format_message") else str(e)
        print(f"reason: error: {message}", file=sys.stderr)
        sys.exit(2)
    except (typer.Abort, KeyboardInterrupt):
        print("reason: aborted", file=sys.stderr)
        sys.exit(130)
    sys.exit(code if isinstance(code, int) else 0)
