"""How well the propose prompt lists next steps: on the first states of val puzzles, the share of
all valid steps that a greedy propose completion lists (recall), the share of its lines the task
rejects (wrong arithmetic or numbers), and how often it lists at least one step that can still
reach the target. Prints figures; not a test.

    python benchmarks/propose_recall.py [MODEL_DIR] [--puzzles 20] [--task countdown] [--propose-samples 1 --temperature 0]
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
from tasks import get_task


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("model", nargs="?", default="reasoning/checkpoints/default")
    parser.add_argument("--puzzles", type=int, default=20)
    parser.add_argument("--task", default="game24")
    parser.add_argument("--propose-samples", type=int, default=1)
    parser.add_argument("--temperature", type=float, default=0.0)
    args = parser.parse_args()
    task, model = get_task(args.task), HFModel.load(args.model)
    settings = TreeOfThoughts(propose_samples=args.propose_samples, temperature=args.temperature).settings()
    for depth, label in ((0, "the puzzle"), (1, "one step in")):
        states = {}
        for problem in task.problems("val")[: args.puzzles]:
            root = task.initial_state(problem)
            for state in [root] if depth == 0 else [child for _, child in task.successors(root)][::6]:
                states.setdefault(task.state_text(state), state)
        search = Search(settings, Meter(model, Budget()), task, next(iter(states.values())), seed=0)
        nodes = [add_child(search.graph, ROOT, "", s, task.state_text(s), False, None) for s in states.values()]
        start = time.monotonic()
        proposed = search.thoughts(nodes)
        seconds = time.monotonic() - start
        found = total = invalid = lines = hit = solvable = 0
        for state, thoughts in zip(states.values(), proposed):
            valid = {task.state_text(c) for _, c in task.successors(state)}
            children = {task.state_text(c) for t in thoughts if (c := task.expand(state, t)) is not None}
            lines += len(thoughts)
            invalid += sum(task.expand(state, t) is None for t in thoughts)
            found, total = found + len(children & valid), total + len(valid)
            good = {task.state_text(c) for _, c in task.successors(state) if task.solvable(c)}
            solvable += bool(good)
            hit += bool(children & good)
        usage = search.meter.usage()
        print(f"{label}: {len(states)} states, recall {found / total:.1%} of {total} valid steps, "
              f"{invalid / max(1, lines):.1%} of {lines} lines rejected, a step that still reaches the target "
              f"listed for {hit}/{solvable} solvable states; {seconds:.2f} s, {usage.generated_tokens} tokens")


if __name__ == "__main__":
    main()
