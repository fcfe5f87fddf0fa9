"""Load test of `reason serve` on loopback: many concurrent clients against one at a time, and
the batching server against one that runs each request alone (--max-batch 1).

    flock /tmp/reason-cpu.lock python benchmarks/server_load.py [--model DIR] [--requests 200] [--clients 32]

Each configuration starts its own `reason serve --port 0` subprocess (the shipped model unless
--model), sends `--requests` completions (chain-of-thought prompts of Game of 24 val puzzles,
temperature 0.8, no seed, max_tokens 96, stop "\\n\\n") from `--clients` concurrent clients, checks
that every answer is a 200 with text, and prints requests/s, generated tokens/s, latency, the
server's peak resident memory (VmHWM) and how many engine calls its batcher made. Every request
goes to 127.0.0.1 only; the loops are bounded by --requests and a per-request timeout.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

TIMEOUT = 300.0  # seconds one request may take


@dataclass(frozen=True)
class Run:
    name: str
    clients: int
    max_batch: int  # the server's --max-batch (1: every request alone)


@dataclass(frozen=True)
class Outcome:
    ok: int
    seconds: float
    tokens: int
    latencies: list[float]
    peak_rss_mb: float
    jobs: int
    engine_calls: int


def prompts(n: int) -> list[str]:
    from tasks import Game24

    task = Game24()
    problems = task.problems("val")
    return [task.prompt("cot", problems[i % len(problems)]) for i in range(n)]


def start_server(model: str | None, max_batch: int) -> tuple[subprocess.Popen, str]:
    cmd = [sys.executable, "-m", "reasoning.cli", "serve", "--port", "0", "--max-batch", str(max_batch)]
    cmd += ["--model", model] if model else []
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline()  # "reason serve: NAME (DIR) on http://127.0.0.1:PORT/v1"
    if " on http://" not in line:
        proc.kill()
        raise SystemExit(f"the server did not start: {line!r}")
    return proc, line.split(" on ")[-1].strip()


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def load(base: str, texts: list[str], clients: int) -> tuple[int, float, int, list[float]]:
    queue: asyncio.Queue[str] = asyncio.Queue()
    for t in texts:
        queue.put_nowait(t)
    ok, tokens, latencies = 0, 0, []

    async def client(http: httpx.AsyncClient) -> None:
        nonlocal ok, tokens
        while not queue.empty():
            prompt = queue.get_nowait()
            body = {"prompt": prompt, "max_tokens": 96, "temperature": 0.8, "stop": ["\n\n"]}
            t0 = time.monotonic()
            r = await http.post("/completions", json=body)
            latencies.append(time.monotonic() - t0)
            if r.status_code == 200 and r.json()["choices"][0]["text"]:
                ok += 1
                tokens += r.json()["usage"]["completion_tokens"]
            else:
                print(f"  failed: {r.status_code} {r.text[:200]}")

    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, timeout=TIMEOUT, limits=limits) as http:
        start = time.monotonic()
        await asyncio.gather(*(client(http) for _ in range(clients)))
        return ok, time.monotonic() - start, tokens, latencies


def measure(run: Run, model: str | None, texts: list[str]) -> Outcome:
    proc, base = start_server(model, run.max_batch)
    try:
        with httpx.Client(base_url=base, timeout=TIMEOUT) as http:  # warm-up: first calls pay one-off costs
            for t in texts[:3]:
                http.post("/completions", json={"prompt": t, "max_tokens": 8})
            before = http.get(base.removesuffix("/v1") + "/stats").json()
        ok, seconds, tokens, latencies = asyncio.run(load(base, texts, run.clients))
        after = httpx.get(base.removesuffix("/v1") + "/stats").json()
        rss = peak_rss_mb(proc.pid)
    finally:
        proc.terminate()
        proc.wait(timeout=60)
    return Outcome(
        ok, seconds, tokens, latencies, rss, after["jobs"] - before["jobs"], after["engine_calls"] - before["engine_calls"]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="model directory (default: the shipped model)")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--clients", type=int, default=32)
    args = parser.parse_args()
    texts = prompts(args.requests)
    runs = [
        Run(f"batched, {args.clients} clients", args.clients, 64),
        Run(f"unbatched (--max-batch 1), {args.clients} clients", args.clients, 1),
        Run("batched, 1 client (one at a time)", 1, 64),
    ]
    print(f"{args.requests} requests per run (max_tokens 96, T=0.8, stop '\\n\\n'), model: {args.model or 'shipped'}")
    header = f"{'run':<42} {'ok':>7} {'secs':>7} {'req/s':>7} {'tok/s':>7} {'p50 s':>6} {'p95 s':>6} {'rss MB':>7} {'req/call':>8}"
    print(header)
    results = {}
    for run in runs:
        o = measure(run, args.model, texts)
        results[run.name] = o
        lat = sorted(o.latencies)
        p95 = lat[min(len(lat) - 1, int(0.95 * len(lat)))]
        per_call = o.jobs / o.engine_calls if o.engine_calls else float("nan")
        print(
            f"{run.name:<42} {o.ok:>3}/{args.requests:<3} {o.seconds:>7.2f} {o.ok / o.seconds:>7.2f} "
            f"{o.tokens / o.seconds:>7.0f} {statistics.median(lat):>6.2f} {p95:>6.2f} {o.peak_rss_mb:>7.0f} {per_call:>8.2f}",
            flush=True,
        )
    batched, unbatched, single = (results[r.name] for r in runs)
    print(f"batching gain at {args.clients} clients: {(batched.ok / batched.seconds) / (unbatched.ok / unbatched.seconds):.2f}x requests/s")
    print(f"{args.clients} concurrent clients vs one at a time: {(batched.ok / batched.seconds) / (single.ok / single.seconds):.2f}x requests/s")
    if any(o.ok != args.requests for o in results.values()):
        raise SystemExit("not every request was answered with a 200")


if __name__ == "__main__":
    main()
