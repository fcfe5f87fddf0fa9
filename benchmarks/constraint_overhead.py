"""Constrained decoding overhead: per-token time constrained against unconstrained, side by side in
one process, and the latency of the first constrained call.

    python benchmarks/constraint_overhead.py [--repeats 5] [--tokens 64]

Two models: the shipped one (character vocabulary, 100 tokens) and a random-weight Llama with a
16,384-token Metaspace BPE vocabulary, built in a temporary directory by training.random_model
(its tokenizer is also trained on Python's own sources: our texts alone give about 3k merges).

Workloads, each at n = 1, 16 and 64 samples from one prefill, T = 1:
- regex: `[0-9 +*/()=-]*` with no stop string, so constrained and free rows alike write exactly
  --tokens tokens (the steady per-token cost of the mask);
- cot grammar: Game of 24's line grammar for "4 9 10 13" with its stop string, what `sc` does
  (rows end at different lengths, so this measures the whole call per generated token).
Each cell runs free and constrained alternately --repeats times after a warm-up of each and
divides the summed seconds by the summed generated tokens. The last columns time the constraint's
own work inside the constrained runs (the processor's masks and guide steps, and the finish
check), per generated token and as a share of the free per-token time: when constrained rows
write different lengths than free ones (the cot grammar), that share is the clean figure.

First call: on a fresh compiler (the cache a model owns), the wall time of the first call with a
regex, a JSON schema and the cot grammar (the first of all also reads the vocabulary from the
tokenizer), the same call again once compiled, and the compile alone (guide and first mask, timed
on another fresh compiler whose vocabulary is already read).
"""

from __future__ import annotations

import argparse
import sys
import sysconfig
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import reasoning.backends.hf as hf  # noqa: E402
from reasoning.backends.hf import HFModel  # noqa: E402
from reasoning.constraints import Compiler, GuideProcessor, JsonSchema, Regex, settle  # noqa: E402
from reasoning.types import SamplingParams  # noqa: E402
from tasks.game24 import Game24  # noqa: E402

SHIPPED = Path(__file__).resolve().parents[1] / "reasoning/checkpoints/default"
SCHEMA = {
    "type": "object",
    "properties": {
        "user": {"type": "object", "properties": {"id": {"type": "integer"}, "email": {"type": "string", "format": "email"}}},
        "when": {"type": "string", "format": "date"},
        "tags": {"type": "array", "items": {"enum": ["x", "y", "z"]}, "maxItems": 3},
    },
    "required": ["user", "when", "tags"],
}


class Clock:
    """Seconds spent in the constraint's own code (patched into reasoning.backends.hf below)."""

    seconds = 0.0

    @classmethod
    def timed(cls, fn):
        def wrapper(*args, **kw):
            t = time.perf_counter()
            try:
                return fn(*args, **kw)
            finally:
                cls.seconds += time.perf_counter() - t

        return wrapper


class TimedProcessor(GuideProcessor):
    process_logits = Clock.timed(GuideProcessor.process_logits)
    batch_select_indices = Clock.timed(GuideProcessor.batch_select_indices)


hf.GuideProcessor = TimedProcessor  # type: ignore[misc]
hf.settle = Clock.timed(settle)


def python_sources(limit: int = 12_000_000) -> Iterator[str]:
    """Python's standard library sources (tests left out), about `limit` characters."""
    root, total = Path(sysconfig.get_paths()["stdlib"]), 0
    for f in sorted(root.rglob("*.py")):
        if "site-packages" in f.parts or "test" in f.parts or "tests" in f.parts:
            continue
        text = f.read_text(errors="ignore")
        total += len(text)
        yield text
        if total > limit:
            return


def bpe_model(directory: Path) -> HFModel:
    from training.random_model import RandomModelConfig, build

    return HFModel.load(build(directory, RandomModelConfig(kind="bpe", vocab_size=16384), python_sources()))


def per_token(
    lm: HFModel, prompt: str, params: SamplingParams, n: int, constraint, repeats: int
) -> tuple[float, float, float]:
    """ms per generated token: free, constrained, and the constraint's own code in the
    constrained runs; free and constrained runs interleaved."""
    run = lambda c, seed: lm.generate([prompt], params, n=n, seed=seed, constraint=c)[0]  # noqa: E731
    run(None, 0), run(constraint, 0)  # warm-up (and compile)
    secs, toks = [0.0, 0.0], [0, 0]
    Clock.seconds = 0.0
    for r in range(repeats):
        for k, c in enumerate((None, constraint)):
            t = time.perf_counter()
            out = run(c, r + 1)
            secs[k] += time.perf_counter() - t
            toks[k] += sum(x.tokens for x in out)
    return 1000 * secs[0] / toks[0], 1000 * secs[1] / toks[1], 1000 * Clock.seconds / toks[1]


def first_calls(lm: HFModel, prompt: str) -> None:
    task = Game24()
    problem = task.parse_problem("4 9 10 13")
    cases = [
        ("regex [0-9]{1,3}", SamplingParams(max_new_tokens=8), Regex("[0-9]{1,3}")),
        ("JSON schema", SamplingParams(max_new_tokens=64), JsonSchema(SCHEMA)),
        ("cot grammar", SamplingParams(max_new_tokens=64, stop=task.stop("cot")), task.grammar("cot", problem)),
    ]
    lm.constraints = Compiler(lm.tokenizer)  # nothing compiled yet, not even the vocabulary
    for name, params, c in cases:
        times = []
        for _ in range(2):
            t = time.perf_counter()
            lm.generate([prompt], params, n=1, seed=0, constraint=c)
            times.append(time.perf_counter() - t)
        fresh = Compiler(lm.tokenizer)
        fresh.vocab, fresh.vocab.sorted, fresh.vocab.outlines  # the tokenizer read apart
        t = time.perf_counter()
        guide = fresh.guide(c, params.stop)
        guide.mask(guide.initial)
        compile_s = time.perf_counter() - t
        print(f"  first call {name:<18} {times[0]:6.3f} s   again {times[1]:6.3f} s   compile alone {compile_s:6.3f} s")


def report(name: str, lm: HFModel, repeats: int, tokens: int) -> None:
    task = Game24()
    problem = task.parse_problem("4 9 10 13")
    prompt = task.prompt("cot", problem)
    print(f"{name}: vocabulary {len(lm.tokenizer)}, {sum(p.numel() for p in lm.model.parameters()) / 1e6:.2f}M params")
    first_calls(lm, prompt)
    workloads = [
        ("regex", SamplingParams(temperature=1.0, max_new_tokens=tokens), Regex(r"[0-9 +*/()=-]*")),
        ("cot grammar", SamplingParams(temperature=1.0, max_new_tokens=200, stop=task.stop("cot")), task.grammar("cot", problem)),
    ]
    print(f"  {'workload':<12} {'n':>3} {'free ms/tok':>12} {'constrained':>12} {'overhead':>9} {'own ms/tok':>11} {'share':>7}")
    for label, params, c in workloads:
        for n in (1, 16, 64):
            free, held, own = per_token(lm, prompt, params, n, c, repeats)
            print(
                f"  {label:<12} {n:>3} {free:12.3f} {held:12.3f} {100 * (held / free - 1):8.1f}%"
                f" {own:11.4f} {100 * own / free:6.1f}%"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--tokens", type=int, default=64, help="tokens per row in the regex workload")
    args = parser.parse_args()
    print(f"torch threads {torch.get_num_threads()}")
    report("shipped model", HFModel.load(SHIPPED), args.repeats, args.tokens)
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        lm = bpe_model(Path(tmp))
        print(f"(random BPE model built in {time.perf_counter() - t:.1f} s)")
        report("random BPE model", lm, args.repeats, args.tokens)


if __name__ == "__main__":
    main()
