"""Monte Carlo tree search over thoughts: UCT or PUCT selection, expansion by proposed or sampled thoughts,
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

    def own_value(self, node: int) -> float:
        """The value the node was given when its parent was expanded, in [0, 1]."""
        return self.search.node(node)["value"] / self.search.top_weight

    def score(self, parent: int, child: int, prior: float) -> float:
        """Mean backed-up value (or the child's own value before its first visit) plus exploration:
        UCT's sqrt(log N / (n + 1)), or PUCT's prior * sqrt(N) / (n + 1) (AlphaZero)."""
        s, stats = self.search, self.at(child)
        q = stats.mean() if stats.visits else self.own_value(child)
        n_parent = max(1, self.at(parent).visits)
        if s.settings.selection == "puct":
            return q + s.settings.c_uct * prior * math.sqrt(n_parent) / (stats.visits + 1)
        return q + s.settings.c_uct * math.sqrt(math.log(n_parent + 1) / (stats.visits + 1))

    def pick(self, parent: int, options: list[int]) -> int:
        """The option with the highest score; priors are each option's share of their values."""
        values = [self.own_value(c) for c in options]
        total = sum(values)
        priors = [v / total if total > 0 else 1 / len(options) for v in values]
        return max(zip(options, priors), key=lambda cp: self.score(parent, *cp))[0]

    def select(self) -> int | None:
        """Walk down by the selection rule to a node that has not been expanded; None if the tree is exhausted."""
        node = ROOT
        while self.at(node).expanded:
            options = [c for c in self.search.children(node) if not self.at(c).dead]
            if not options:
                self.at(node).dead = True
                if node == ROOT:
                    return None
                node = ROOT  # this subtree is spent: start again from the top
                continue
            node = self.pick(node, options)
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
