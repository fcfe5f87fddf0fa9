"""Depth-first ToT: go down the best child first, prune children valued below `threshold`,
and backtrack when a subtree is exhausted."""

from __future__ import annotations

from reasoning.tree import ROOT
from strategies.tot.search import Search


def dfs(search: Search, node: int = ROOT) -> bool:
    """True once an answer is found (or the budget ends) and the search should unwind."""
    if search.answer() is not None or search.meter.exhausted():
        return True
    if search.node(node)["depth"] >= search.settings.max_depth:
        return False
    children = search.expand([node])
    search.node(node)["visits"] += 1
    if search.answer() is not None:
        return True
    alive = [c for c in children if not search.node(c)["terminal"]]
    if not alive or search.meter.exhausted():
        return search.meter.exhausted()
    values = search.evaluate(alive)
    ranked = sorted(zip(values, alive), key=lambda pair: -pair[0])
    for value, child in ranked[: search.settings.breadth]:
        if value < search.settings.threshold:
            break  # pruned: this and every worse sibling
        if dfs(search, child):
            return True
    return False  # backtrack
