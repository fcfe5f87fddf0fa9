"""Monte Carlo tree search over thoughts: UCT selection, expansion by the propose prompt,
evaluation of the new children by the value (batched), and backup along the path.

The statistics MCTS keeps per node are typed (NodeStats, held by the run); the tree's own
node attributes (value, visits) are kept in step so the exported tree shows them."""

from __future__ import annotations

import math
from dataclasses import dataclass

from reasoning.tree import ROOT, path_to
from strategies.tot.search import Search


@dataclass
class NodeStats:
    """What MCTS knows about one node."""

    visits: int = 0  # backups through this node
    total: float = 0.0  # sum of the values backed up through it, each in [0, 1]
    expanded: bool = False  # its children have been generated and valued
    dead: bool = False  # nothing left to find below it

    def mean(self) -> float:
        return self.total / self.visits


class Mcts:
    """One MCTS run over a Search."""

    def __init__(self, search: Search) -> None:
        self.search = search
        self.stats: dict[int, NodeStats] = {ROOT: NodeStats()}

    def at(self, node: int) -> NodeStats:
        return self.stats.setdefault(node, NodeStats())

    def uct(self, parent: int, child: int) -> float:
        """Mean backed-up value (or the child's own value before its first visit) plus exploration."""
        s, stats = self.search, self.at(child)
        q = stats.mean() if stats.visits else s.node(child)["value"] / s.top_weight
        n_parent = max(1, self.at(parent).visits)
        return q + s.settings.c_uct * math.sqrt(math.log(n_parent + 1) / (stats.visits + 1))

    def select(self) -> int | None:
        """Walk down by UCT to a node that has not been expanded; None if the tree is exhausted."""
        node = ROOT
        while self.at(node).expanded:
            options = [c for c in self.search.children(node) if not self.at(c).dead]
            if not options:
                self.at(node).dead = True
                if node == ROOT:
                    return None
                node = ROOT  # this subtree is spent: start again from the top
                continue
            node = max(options, key=lambda c: self.uct(node, c))
        return node

    def expand_and_evaluate(self, leaf: int) -> float:
        """Expand a leaf and value its children; returns the leaf's new value in [0, 1]."""
        s, stats = self.search, self.at(leaf)
        data = s.node(leaf)
        stats.expanded = True
        if data["terminal"] or data["depth"] >= s.settings.max_depth:
            stats.dead = True
            return 1.0 if data["answer"] is not None else 0.0
        children = s.expand([leaf])
        if not children:
            stats.dead = True
            return 0.0
        for child in children:
            if s.node(child)["terminal"]:
                self.at(child).dead = s.node(child)["answer"] is None
        values = s.evaluate(children)
        return max(values) / s.top_weight

    def backup(self, leaf: int, value: float) -> None:
        for node in path_to(self.search.graph, leaf):
            stats = self.at(node)
            stats.visits += 1
            stats.total += value
            self.search.node(node)["visits"] = stats.visits  # the exported tree shows visits

    def run(self) -> None:
        s = self.search
        for _ in range(s.settings.iterations):
            if s.answer() is not None or s.meter.exhausted():
                return
            leaf = self.select()
            if leaf is None:
                return
            self.backup(leaf, self.expand_and_evaluate(leaf))


def mcts(search: Search) -> None:
    Mcts(search).run()
