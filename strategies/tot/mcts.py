"""Monte Carlo tree search over thoughts: UCT selection, expansion by the propose prompt,
evaluation of the new children by the value prompt (batched), and backup along the path."""

from __future__ import annotations

import math

from reasoning.tree import ROOT, path_to
from strategies.tot.search import Search


def uct(search: Search, parent: int, child: int) -> float:
    """Mean backed-up value (or the child's own value before its first visit) plus exploration."""
    data, c = search.node(child), search.config.c_uct
    q = data["total"] / data["visits"] if data["visits"] else data["value"] / search.top_weight
    n_parent = max(1, search.node(parent)["visits"])
    return q + c * math.sqrt(math.log(n_parent + 1) / (data["visits"] + 1))


def select(search: Search) -> int | None:
    """Walk down by UCT to a node that has not been expanded; None if the tree is exhausted."""
    node = ROOT
    while search.node(node).get("expanded"):
        options = [c for c in search.children(node) if not search.node(c).get("dead")]
        if not options:
            search.node(node)["dead"] = True
            if node == ROOT:
                return None
            node = ROOT  # this subtree is spent: start again from the top
            continue
        node = max(options, key=lambda c: uct(search, node, c))
    return node


def expand_and_evaluate(search: Search, leaf: int) -> float:
    """Expand a leaf and value its children; returns the leaf's new value in [0, 1]."""
    data = search.node(leaf)
    data["expanded"] = True
    if data["terminal"] or data["depth"] >= search.config.max_depth:
        data["dead"] = True
        return 1.0 if data["answer"] is not None else 0.0
    children = search.expand([leaf])
    if not children:
        data["dead"] = True
        return 0.0
    for child in children:
        search.node(child)["total"] = 0.0
        if search.node(child)["terminal"]:
            search.node(child)["dead"] = search.node(child)["answer"] is None
    values = search.evaluate(children)
    return max(values) / search.top_weight


def backup(search: Search, leaf: int, value: float) -> None:
    for node in path_to(search.graph, leaf):
        data = search.node(node)
        data["visits"] += 1
        data["total"] = data.get("total", 0.0) + value


def mcts(search: Search) -> None:
    search.node(ROOT)["total"] = 0.0
    for _ in range(search.config.iterations):
        if search.answer() is not None or search.meter.exhausted():
            return
        leaf = select(search)
        if leaf is None:
            return
        backup(search, leaf, expand_and_evaluate(search, leaf))
