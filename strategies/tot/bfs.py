"""Breadth-first ToT (the paper's search): expand the whole frontier, keep the best `breadth`."""

from __future__ import annotations

from reasoning.tree import ROOT
from strategies.tot.search import Search


def bfs(search: Search) -> None:
    frontier = [ROOT]
    seen: set[str] = set()
    for _ in range(search.settings.max_depth):
        if not frontier or search.meter.exhausted():
            return
        children = search.expand(frontier, seen)
        if search.answer() is not None:
            return
        alive = [c for c in children if not search.node(c)["terminal"]]
        if not alive or search.meter.exhausted():
            return
        values = search.evaluate(alive)
        if search.answer() is not None:  # a lookahead (value=rollout) reached the goal
            return
        ranked = sorted(zip(values, alive), key=lambda pair: -pair[0])  # stable: ties keep proposal order
        frontier = [node for _, node in ranked[: search.settings.breadth]]
