"""Engine throughput against transformers' own `generate`, side by side in one process.

    flock /tmp/reason-cpu.lock python benchmarks/engine_throughput.py [--model DIR] [--tokens 128]
        [--n 1,16,64] [--repeats 5] [--profile N]

For each n (samples from one prompt) the same prompt is decoded for exactly --tokens new tokens
(EOS does not stop either side), sampling at temperature 1 with no top-k/top-p cut, by
  - generate: `model.generate(do_sample=True, num_return_sequences=n)` (transformers),
  - plain:    the Engine through the model's own forward (its fallback for any causal LM),
  - lean:     the Engine through the lean Llama forward, drafting nothing,
  - engine:   the Engine as it runs (the lean forward, and prompt lookup drafts once one row is left),
interleaved, `--repeats` times each; the table gives the median generated tokens/s and the
engine's ratio to generate. `--profile N` then prints where the engine's time goes at n = N
(torch.profiler, top operators). Default model: the shipped checkpoint.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from reasoning.backends.hf import HFModel  # noqa: E402
from reasoning.engine import Engine  # noqa: E402
from reasoning.types import SamplingParams  # noqa: E402

PROMPT = "Input: 4 9 10 13\nSteps:\n"
DEFAULT = Path(__file__).resolve().parents[1] / "reasoning" / "checkpoints" / "default"


def fixed_length(engine: Engine) -> Engine:
    """The engine with EOS not ending a row, so every row makes exactly max_new_tokens (what
    generate does with eos_token_id=None): both sides then decode the same number of tokens."""
    engine.eos = None
    return engine


def runners(lm: HFModel, tokens: int) -> dict[str, Callable[[int], int]]:
    """name -> run(n) returning the number of generated tokens."""
    from transformers import GenerationConfig

    model, tok = lm.model, lm.tokenizer
    ids = ([tok.bos_token_id] if tok.bos_token_id is not None else []) + tok(PROMPT, add_special_tokens=False)["input_ids"]
    x = torch.tensor([ids])  # (1, T)
    cfg = GenerationConfig(
        do_sample=True, temperature=1.0, top_k=0, top_p=1.0, max_new_tokens=tokens, eos_token_id=None,
        pad_token_id=tok.pad_token_id, bos_token_id=tok.bos_token_id,
    )  # fmt: skip
    params = SamplingParams(temperature=1.0, max_new_tokens=tokens)
    plain = fixed_length(Engine(model, tok, fast=False, lookup=None))
    lean, engine = fixed_length(Engine(model, tok, lookup=None)), fixed_length(Engine(model, tok))

    def hf(n: int) -> int:
        torch.manual_seed(0)
        with torch.inference_mode():
            out = model.generate(x.repeat(n, 1), generation_config=cfg)  # (n, T + tokens)
        return (out.size(1) - x.size(1)) * n

    def ours(e: Engine) -> Callable[[int], int]:
        return lambda n: sum(c.tokens for c in e.generate_ids([ids], params, n=n, seed=0)[0])

    return {"generate": hf, "plain": ours(plain), "lean": ours(lean), "engine": ours(engine)}


def profile(run: Callable[[int], int], n: int) -> None:
    from torch.profiler import ProfilerActivity
    from torch.profiler import profile as torch_profile

    run(n)
    with torch_profile(activities=[ProfilerActivity.CPU]) as prof:
        run(n)
    print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=15))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", type=Path, default=DEFAULT)
    ap.add_argument("--tokens", type=int, default=128)
    ap.add_argument("--n", default="1,16,64")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--profile", type=int, default=0, help="profile the engine at this n (0: no)")
    args = ap.parse_args()

    lm = HFModel.load(args.model)
    size = sum(p.numel() for p in lm.model.parameters())
    lean = lm.engine._lean is not None
    print(f"model: {args.model} ({size / 1e6:.2f}M params), lean path: {lean}, torch threads {torch.get_num_threads()}")
    print(f"{args.tokens} new tokens per sample, temperature 1, {args.repeats} interleaved runs, median tokens/s\n")
    run = runners(lm, args.tokens)
    print(f"{'n':>3}  {'generate':>9}  {'plain':>9}  {'lean':>9}  {'engine':>9}  {'engine/generate':>15}  {'engine/lean':>11}")
    for n in (int(v) for v in args.n.split(",")):
        rates: dict[str, list[float]] = {name: [] for name in run}
        for name, fn in run.items():
            fn(n)  # warm-up
        for _ in range(args.repeats):
            for name, fn in run.items():
                t = time.perf_counter()
                toks = fn(n)
                rates[name].append(toks / (time.perf_counter() - t))
        med = {name: statistics.median(r) for name, r in rates.items()}
        print(
            f"{n:>3}  {med['generate']:>9.0f}  {med['plain']:>9.0f}  {med['lean']:>9.0f}  {med['engine']:>9.0f}  "
            f"{med['engine'] / med['generate']:>14.2f}x  {med['engine'] / med['lean']:>10.2f}x"
        )
    if args.profile:
        print(f"\nwhere the engine's time goes at n={args.profile}:")
        profile(run["engine"], args.profile)
        print(f"\nwhere transformers generate's time goes at n={args.profile}:")
        profile(run["generate"], args.profile)


if __name__ == "__main__":
    main()
