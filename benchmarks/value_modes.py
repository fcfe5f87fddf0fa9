"""Value evaluation by `logprob` (label probabilities, one forward pass) versus `vote` (sampled
labels, the ToT paper's way) on the same frontier. Prints seconds and agreement; not a test.

    python benchmarks/value_modes.py [MODEL_DIR] [--puzzles 20] [--votes 3]
"""

from __future__ import annotations

import argparse
import time

from reasoning.backends.hf import HFModel
from reasoning.meter import Meter
from reasoning.tree import ROOT, add_child
from reasoning.types import Budget
from strategies import TreeOfThoughts
from strategies.tot.search import Search
from tasks import Game24


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("model", nargs="?", default="reasoning/checkpoints/default")
    parser.add_argument("--puzzles", type=int, default=20)
    parser.add_argument("--votes", type=int, default=3)
    args = parser.parse_args()
    task, model = Game24(), HFModel.load(args.model)
    # the frontier: every state one step from each val puzzle (what BFS values at level 1)
    states = {}
    for problem in task.problems("val")[: args.puzzles]:
        for _, child in task.successors(task.initial_state(problem)):
            states.setdefault(task.state_text(child), child)
    frontier = list(states.values())
    truth = [task.solvable(s) for s in frontier]
    results = {}
    modes = {"logprob": TreeOfThoughts(value="logprob", label_prefix=False),
             "logprob+prefix": TreeOfThoughts(value="logprob", label_prefix=True),
             "vote": TreeOfThoughts(value="vote", votes=args.votes)}
    for mode, config in modes.items():
        search = Search(config, Meter(model, Budget()), task, task.initial_state(task.problems("val")[0]), seed=0)
        nodes = [add_child(search.graph, ROOT, "", s, task.state_text(s), False, None) for s in frontier]
        start = time.monotonic()
        values = search.evaluate(nodes)
        seconds = time.monotonic() - start
        results[mode] = (values, seconds, search.meter.usage())
    (lp, lp_s, lp_u), (vote, vote_s, vote_u) = results["logprob"], results["vote"]
    prefix_s = results["logprob+prefix"][1]
    threshold = 1.0  # the DFS default: above it a state counts as promising
    agree = sum((a >= threshold) == (b >= threshold) for a, b in zip(lp, vote)) / len(frontier)
    def accuracy(values):
        return sum((v >= threshold) == t for v, t in zip(values, truth)) / len(frontier)
    print(f"frontier: {len(frontier)} distinct states from {args.puzzles} val puzzles "
          f"({sum(truth)} solvable)")
    print(f"logprob: {lp_s:.2f} s total, {1000 * lp_s / len(frontier):.1f} ms/state, {lp_u.calls} call(s), "
          f"accuracy vs exact solvability {accuracy(lp):.1%}")
    print(f"logprob+prefix: {prefix_s:.2f} s total, {1000 * prefix_s / len(frontier):.1f} ms/state, "
          f"accuracy {accuracy(results['logprob+prefix'][0]):.1%}")
    print(f"vote x{args.votes}: {vote_s:.2f} s total, {1000 * vote_s / len(frontier):.1f} ms/state, "
          f"{vote_u.calls} call(s), {vote_u.generated_tokens} generated tokens, accuracy {accuracy(vote):.1%}")
    for mode, (values, _, _) in results.items():
        sure = [v for v, t in zip(values, truth) if t]
        dead = [v for v, t in zip(values, truth) if not t]
        ranked = sum(a > b for a in sure for b in dead) / max(1, len(sure) * len(dead))
        print(f"{mode}: mean value of solvable states {sum(sure) / len(sure):.2f}, of unsolvable "
              f"{sum(dead) / len(dead):.2f}; P(solvable ranked above unsolvable) = {ranked:.1%}")
    print(f"agreement of logprob and vote (value >= {threshold}): {agree:.1%}; vote takes {vote_s / max(lp_s, 1e-9):.2f}x the time of logprob")


if __name__ == "__main__":
    main()
