"""How much of the test split's search space the training corpora cover (the README's overlap figure).

Whole test puzzles never reach a corpus (tests/training/test_corpus.py checks it), but smaller
states recur across puzzles: a 3-number state reachable from a test puzzle may also be reachable
from some train puzzle, and then it appears in the propose, value and step corpora.

    python benchmarks/split_overlap.py [--task game24]
"""

from __future__ import annotations

import argparse
from collections import Counter

from tasks import get_task


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", default="game24")
    args = parser.parse_args()
    task = get_task(args.task)

    def states(split: str) -> dict[int, set]:
        """The distinct states (by numbers left) reachable from a split's problems, by size."""
        out: dict[int, set] = {}
        for problem in task.problems(split):
            for state in task.training_states(problem):
                key = task.key(state)
                out.setdefault(len(key), set()).add(key)
        return out

    train, test = states("train"), states("test")
    sizes = Counter({n: len(keys) for n, keys in test.items()})
    for n in sorted(sizes, reverse=True):
        shared = test[n] & train.get(n, set())
        print(f"{n}-number states reachable from test puzzles: {len(test[n])}, also reachable from train "
              f"puzzles: {len(shared)} ({len(shared) / len(test[n]):.0%})")


if __name__ == "__main__":
    main()
