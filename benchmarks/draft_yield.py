"""What prompt lookup drafts buy on tree of thoughts' propose prompts, side by side in one process.

    flock /tmp/reason-cpu.lock python benchmarks/draft_yield.py [--model DIR] [--puzzles 20] [--repeats 3]

Prints (1) tokens per forward pass of greedy propose completions with drafts, over the first
--puzzles Game of 24 test puzzles (the prefill counts as a pass); (2) the milliseconds of one lean
forward pass of 1 and of 9 tokens (a full draft) for one row after a 300-token context; (3) the
seconds of the propose call on `4 9 10 13` with and without drafts, interleaved --repeats times.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from reasoning.backends.hf import HFModel  # noqa: E402
from reasoning.engine import Engine  # noqa: E402
from reasoning.llama import LeanLlama  # noqa: E402
from reasoning.stepper import LeanStepper  # noqa: E402
from reasoning.types import SamplingParams  # noqa: E402
from tasks.game24 import Game24  # noqa: E402

DEFAULT = Path(__file__).resolve().parents[1] / "reasoning" / "checkpoints" / "default"


def passes_per_call(engine: Engine, prompt: str, params: SamplingParams) -> tuple[int, int]:
    """(generated tokens, forward passes) of one call: the prefill, then every step and verify."""
    passes = [1]
    originals = {name: getattr(LeanStepper, name) for name in ("step", "verify")}

    def counted(method):
        def run(self, *args):
            passes[0] += 1
            return method(self, *args)

        return run

    for name, method in originals.items():
        setattr(LeanStepper, name, counted(method))
    try:
        c = engine.generate([prompt], params)[0][0]
    finally:
        for name, method in originals.items():
            setattr(LeanStepper, name, method)
    return c.tokens, passes[0]


def pass_ms(lean: LeanLlama, width: int, n: int = 100) -> float:
    with torch.inference_mode():
        call = lean.start(1, 512)
        call.forward(torch.randint(4, 50, (1, 300)), torch.arange(300)[None])
        t = time.perf_counter()
        for _ in range(n):
            call.forward(torch.randint(4, 50, (1, width)), (300 + torch.arange(width))[None], every=True)
            call.cache.rewind(width)
        return (time.perf_counter() - t) / n * 1e3


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", type=Path, default=DEFAULT)
    ap.add_argument("--puzzles", type=int, default=20)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    lm, task = HFModel.load(args.model), Game24()
    params = SamplingParams(temperature=0.0, max_new_tokens=1024, stop=task.stop("propose"))
    propose = lambda text: task.propose_prompt(task.initial_state(task.parse_problem(text)))  # noqa: E731

    ratios = []
    for problem in task.problems("test")[: args.puzzles]:
        tokens, passes = passes_per_call(lm.engine, propose(problem.text), params)
        ratios.append(tokens / passes)
    print(f"tokens per forward pass, greedy propose, first {len(ratios)} test puzzles: "
          f"min {min(ratios):.2f}, median {statistics.median(ratios):.2f}, max {max(ratios):.2f}")  # fmt: skip

    lean = LeanLlama(lm.model)
    one, nine = [], []
    for _ in range(args.repeats):
        one.append(pass_ms(lean, 1))
        nine.append(pass_ms(lean, 9))
    print(f"one row, median of {args.repeats}: a 1-token pass {statistics.median(one):.2f} ms, "
          f"a 9-token pass {statistics.median(nine):.2f} ms")  # fmt: skip

    plain = Engine(lm.model, lm.tokenizer, lookup=None)
    seconds: dict[str, list[float]] = {"drafts": [], "no drafts": []}
    for _ in range(args.repeats):
        for name, engine in (("drafts", lm.engine), ("no drafts", plain)):
            t = time.perf_counter()
            c = engine.generate([propose("4 9 10 13")], params)[0][0]
            seconds[name].append(time.perf_counter() - t)
    print(f"propose call on 4 9 10 13 ({c.tokens} tokens), median of {args.repeats}: "
          + ", ".join(f"{name} {statistics.median(s):.2f} s" for name, s in seconds.items()))


if __name__ == "__main__":
    main()
