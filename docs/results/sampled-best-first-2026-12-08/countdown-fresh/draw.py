"""Fresh Countdown problems in the R1-zero replications' setting, drawn independently of the
`tasks` package: 3 or 4 numbers from 1 to 99, a target from 10 to 100, solvable (checked here by
its own exhaustive search over exact fractions), none in our splits.

    python draw.py 100 > problems.txt
"""

import random
import sys
from fractions import Fraction
from itertools import combinations
from pathlib import Path

SPLITS = Path(__file__).resolve().parents[4] / "tasks" / "data" / "countdown"


def reachable(numbers: tuple[Fraction, ...]) -> set[Fraction]:
    """Every value the numbers can make, each used exactly once."""
    if len(numbers) == 1:
        return {numbers[0]}
    out: set[Fraction] = set()
    for i, j in combinations(range(len(numbers)), 2):
        a, b, rest = numbers[i], numbers[j], tuple(n for k, n in enumerate(numbers) if k not in (i, j))
        for c in {a + b, a - b, b - a, a * b} | ({a / b} if b else set()) | ({b / a} if a else set()):
            out |= reachable((*rest, c))
    return out


def key(line: str) -> tuple[tuple[int, ...], int]:
    numbers, target = line.split("->")
    return tuple(sorted(map(int, numbers.split()))), int(target)


def main(count: int, seed: int = 20261208) -> None:
    known = {key(line) for split in ("train", "val", "test")
             for line in (SPLITS / f"{split}.txt").read_text().splitlines() if "->" in line}
    rng, drawn = random.Random(seed), set()
    while len(drawn) < count:
        numbers = [rng.randint(1, 99) for _ in range(rng.choice((3, 4)))]
        target = rng.randint(10, 100)
        text = f"{' '.join(map(str, numbers))} -> {target}"
        if key(text) in known or key(text) in drawn or Fraction(target) not in reachable(tuple(map(Fraction, numbers))):
            continue
        drawn.add(key(text))
        print(text)


if __name__ == "__main__":
    main(int(sys.argv[1]))
