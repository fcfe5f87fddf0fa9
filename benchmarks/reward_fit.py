"""How well a reward model ranks Game of 24 states, by depth, split into states its training saw
and states it did not: a solvable state should score above an unsolvable one. Prints figures;
not a test.

    python benchmarks/reward_fit.py [RM_DIR] [--judgments RM_OUT/judgments.json] [--puzzles 100]

RM_DIR defaults to the shipped reward model. `--judgments` is the judgments.json that `reason
train rm` kept in its --out directory (the shipped model's is not in the package): without it the
seen / unseen split and the fit on training states are left out.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from reasoning.backends.reward import RewardModel  # noqa: E402
from reasoning.backends.spec import shipped_dir  # noqa: E402
from reasoning.judgment import state_input  # noqa: E402
from tasks import Game24  # noqa: E402


def ranking(rm: RewardModel, items: list[tuple[str, bool]]) -> str:
    """P(a solvable state scores above an unsolvable one), ties half, and how many states."""
    scores = rm.reward([text for text, _ in items])
    pos = [v for v, (_, ok) in zip(scores, items) if ok]
    neg = [v for v, (_, ok) in zip(scores, items) if not ok]
    if not pos or not neg:
        return f"n/a ({len(items)} states)"
    wins = sum((a > b) + 0.5 * (a == b) for a in pos for b in neg)
    return f"{wins / (len(pos) * len(neg)):.1%} ({len(items)} states)"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("reward_model", nargs="?", default=str(shipped_dir("rm")))
    parser.add_argument("--judgments", default=None, help="the judgments.json of the rm run (its --out directory)")
    parser.add_argument("--puzzles", type=int, default=100, help="val puzzles whose states are ranked")
    args = parser.parse_args()
    rm, task = RewardModel.load(args.reward_model, device="cpu"), Game24()
    seen: dict[str, float] = {}
    if args.judgments:
        points = json.loads(Path(args.judgments).read_text())["points"]
        seen = {p["text"]: p["target"] for p in points if p["source"] == "solvable"}
    frontier = [task.initial_state(p) for p in task.problems("val")[: args.puzzles]]
    for depth in (1, 2):
        frontier = [child for state in frontier for _, child in task.successors(state)]
        states = {state_input(task, s): task.solvable(s) for s in frontier}
        items = list(states.items())
        line = f"val states after {depth} step(s): {ranking(rm, items)}"
        if seen:
            line += f"; seen in training {ranking(rm, [i for i in items if i[0] in seen])}"
            line += f", unseen {ranking(rm, [i for i in items if i[0] not in seen])}"
        print(line)
    if seen:
        three = [(text, target > 0.5) for text, target in seen.items() if len(text.split("\n")[0].split()) == 4]
        random.Random(0).shuffle(three)
        print(f"its own training states with 3 numbers (2,000 drawn): {ranking(rm, three[:2000])}")


if __name__ == "__main__":
    main()
