"""`reason bench --concurrency N` against `reason serve` on loopback: the same bench at
concurrency 1 and at each N given, side by side, each against its own fresh server.

    flock /tmp/reason-cpu.lock python benchmarks/bench_concurrency.py [--strategy STRATEGY] [--limit 100] [--levels 1,4,16]

Every run is a real `reason bench --backend openai --base-url ... --concurrency N` subprocess into
a temporary --out; the script prints, per level, the bench's wall time, problems per second, the
accuracy, the median of the cells' own seconds (each a cell's wall time from start to answer, so
under overlap it includes waiting behind other cells at the server), and the server's batching
(requests per engine call, from GET /stats). The gain is wall time at concurrency 1 over wall time
at N: on one machine it comes from the server merging concurrent requests into shared forward
passes, not from more hardware. The default workload is greedy chain of thought (greedy requests
merge whatever their seeds); sampled requests with a seed (what the client backend sends for sc
and tot samples) run alone at the server so that a seed always gives the same samples, and so
gain little from concurrency on one machine.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.server_load import start_server  # noqa: E402


def run(base: str, strategy: str, budget: str, limit: int, split: str, concurrency: int, out: Path) -> float:
    cmd = [
        sys.executable, "-m", "reasoning.cli", "bench", "--backend", "openai", "--base-url", base,
        "--strategy", strategy, "--budget", budget, "--limit", str(limit), "--split", split,
        "--concurrency", str(concurrency), "--out", str(out),
    ]  # fmt: skip
    start = time.monotonic()
    done = subprocess.run(cmd, capture_output=True, text=True)
    seconds = time.monotonic() - start
    if done.returncode != 0:
        raise SystemExit(f"bench failed ({done.returncode}): {done.stderr.strip()[-400:]}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--strategy", default="cot:constrained=false")
    parser.add_argument("--budget", default="unlimited")
    parser.add_argument("--limit", type=int, default=100)
    parser.add_argument("--split", default="val")
    parser.add_argument("--levels", default="1,4,16")
    parser.add_argument("--model", default=None)
    args = parser.parse_args()
    levels = [int(x) for x in args.levels.split(",")]
    print(f"{args.strategy} on {args.limit} {args.split} problems, budget {args.budget}")
    print(f"{'concurrency':>11} {'wall s':>8} {'problems/s':>11} {'accuracy':>9} {'cell s p50':>11} {'req/call':>9} {'gain':>6}")
    base_wall = None
    for level in levels:
        proc, base = start_server(args.model, 64)
        try:
            with tempfile.TemporaryDirectory() as tmp:
                out = Path(tmp) / "out"
                wall = run(base, args.strategy, args.budget, args.limit, args.split, level, out)
                cells = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines() if line.strip()]
                stats = httpx.get(base.removesuffix("/v1") + "/stats", timeout=10).json()
        finally:
            proc.terminate()
            proc.wait(timeout=30)
        base_wall = base_wall or wall
        accuracy = sum(bool(c.get("correct")) for c in cells) / len(cells)
        median = statistics.median(c["seconds"] for c in cells)
        per_call = stats.get("jobs", 0) / max(1, stats.get("engine_calls", 0))
        print(
            f"{level:>11} {wall:8.1f} {len(cells) / wall:11.2f} {accuracy:9.1%} {median:11.2f} {per_call:9.2f} {base_wall / wall:5.2f}x"
        )


if __name__ == "__main__":
    main()
