"""`reason generate`: raw generation from a prompt, optionally held to a regex, a JSON schema or a
choice of strings (reasoning.constraints)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated, Optional

import typer

from reasoning.backends.spec import ModelSpec
from reasoning.cli import options
from reasoning.errors import BadInput


def output_type(regex: str | None, json_schema: Path | None, choice: str | None):  # -> OutputType | None
    """The one output type the options ask for; BadInput if more than one is given."""
    from reasoning.constraints import Choice, JsonSchema, Regex

    given = [x is not None for x in (regex, json_schema, choice)]
    if sum(given) > 1:
        raise BadInput("give at most one of --regex, --json-schema and --choice")
    if regex is not None:
        return Regex(regex)
    if json_schema is not None:
        return JsonSchema(Path(json_schema))
    if choice is not None:
        return Choice([c.strip() for c in choice.split(",")])
    return None


@options.with_model
def generate(
    prompt: Annotated[str, typer.Argument(help='The prompt, e.g. "Answer:".')],
    spec: ModelSpec,
    regex: Annotated[Optional[str], typer.Option("--regex", help="Each completion fully matches this regex.")] = None,
    json_schema: Annotated[
        Optional[Path], typer.Option("--json-schema", help="Each completion is JSON valid under this schema file.")
    ] = None,
    choice: Annotated[Optional[str], typer.Option("--choice", help="Each completion is one of these (a,b,c).")] = None,
    n: Annotated[int, typer.Option("-n", "--n", help="Completions, sampled from one prefill.")] = 1,
    max_tokens: Annotated[int, typer.Option("--max-tokens", help="Most tokens per completion.")] = 128,
    temperature: Annotated[float, typer.Option("--temperature", help="0 is greedy.")] = 1.0,
    seed: options.Seed = 0,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Sample n completions of a prompt; with a constraint, each is held to it, and one that runs
    out of tokens before it is complete says so (finish_reason "length", never "stop")."""
    from reasoning.cli.models import load_model
    from reasoning.constraints import RegexGuide
    from reasoning.types import SamplingParams

    if spec.reward_model is not None:
        raise BadInput("reason generate samples the language model alone: --reward-model has no use here")
    constraint = output_type(regex, json_schema, choice)
    if constraint is not None:
        RegexGuide.check(constraint.regex())  # a bad regex or schema fails before a model loads
    params = SamplingParams(temperature=temperature, max_new_tokens=max_tokens)
    lm, _, _ = load_model(spec)
    start = time.monotonic()
    completions = lm.generate([prompt], params, n=n, seed=seed, constraint=constraint)[0]
    seconds = time.monotonic() - start
    rows = [{"text": c.text, "tokens": c.tokens, "finish_reason": c.finish_reason} for c in completions]
    if as_json:
        print(json.dumps({"completions": rows, "seconds": round(seconds, 3)}))
        return
    for i, row in enumerate(rows):
        print(f"--- {i + 1}/{len(rows)} ({row['tokens']} tokens, {row['finish_reason']})")
        print(row["text"])
    print(f"--- {seconds:.2f} s")
