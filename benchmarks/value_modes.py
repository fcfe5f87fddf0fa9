"""State evaluation on the same frontier by each value mode: `logprob` (label probabilities, one
forward pass; whole labels or their first characters), `vote` (sampled labels, the ToT paper's
way), `rollout` (a greedy chain of thought from the state, checked by the task) and, given a
reward model, `learned` (its score of every state in one batched forward pass, no task check).
Prints seconds, ranking quality against exact solvability, and agreement with logprob; not a test.

    python benchmarks/value_modes.py [MODEL_DIR] [--task game24] [--puzzles 20] [--votes 3]
        [--reward-model RM_DIR] [--modes logprob,rollout,learned]

--task takes any task with the search role whose states can be solved exactly (`task.solvable`).
"""

from __future__ import annotations

import argparse
import time

from reasoning.backends.hf import HFModel
from reasoning.backends.reward import RewardModel, Rewarded
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
    parser.add_argument("--votes", type=int, default=3)
    parser.add_argument("--reward-model", default=None, help="a reward model directory: adds value=learned")
    parser.add_argument("--task", default="game24")
    parser.add_argument("--modes", default=None, help="comma-separated subset of the modes (default: all)")
    args = parser.parse_args()
    task, model = get_task(args.task), HFModel.load(args.model)
    if args.reward_model is not None:
        model = Rewarded(model, RewardModel.load(args.reward_model, device="cpu"))
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
             f"vote x{args.votes}": TreeOfThoughts(value="vote", votes=args.votes),
             "rollout": TreeOfThoughts(value="rollout")}
    if args.reward_model is not None:
        modes["learned"] = TreeOfThoughts(value="learned")
    if args.modes is not None:
        modes = {m: c for m, c in modes.items() if m.split()[0] in args.modes.split(",")}
    for mode, config in modes.items():
        search = Search(config.settings(), Meter(model, Budget()), task, task.initial_state(task.problems("val")[0]), seed=0)
        nodes = [add_child(search.graph, ROOT, "", s, task.state_text(s), False, None) for s in frontier]
        start = time.monotonic()
        values = search.evaluate(nodes)
        seconds = time.monotonic() - start
        results[mode] = (values, seconds, search.meter.usage())
    threshold = 1.0  # the DFS default: above it a state counts as promising
    print(f"frontier: {len(frontier)} distinct states from {args.puzzles} val puzzles ({sum(truth)} solvable)")
    print(f"ranking: P(a solvable state is valued above an unsolvable one), ties count half; "
          f"accuracy and agreement: value >= {threshold} read as 'solvable'")
    logprob = results["logprob"][0] if "logprob" in results else None
    for mode, (values, seconds, usage) in results.items():
        sure = [v for v, t in zip(values, truth) if t]
        dead = [v for v, t in zip(values, truth) if not t]
        ranked = sum((a > b) + 0.5 * (a == b) for a in sure for b in dead) / max(1, len(sure) * len(dead))
        accuracy = sum((v >= threshold) == t for v, t in zip(values, truth)) / len(frontier)
        agree = "" if logprob is None else (
            f"  agreement with logprob {sum((a >= threshold) == (b >= threshold) for a, b in zip(values, logprob)) / len(frontier):.1%}"
        )
        print(f"{mode:>15}: {seconds:5.2f} s ({1000 * seconds / len(frontier):4.1f} ms/state, {usage.calls} call(s), "
              f"{usage.generated_tokens} generated tokens)  ranking {ranked:.1%}  accuracy {accuracy:.1%}  "
              f"mean value solvable {sum(sure) / len(sure):.2f} / unsolvable {sum(dead) / len(dead):.2f}{agree}")


if __name__ == "__main__":
    main()
