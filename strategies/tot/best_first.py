"""Best-first ToT: always expand the most valuable state found so far, at any depth (one priority
queue over the whole frontier; ties go to the deeper state, then to the one found first).

Nothing is pruned: a state valued low waits until everything valued above it has been expanded.
A state reached twice (by steps in another order) is kept once. When the queue runs dry with
budget left, every expanded state is queued again by its value and expanded anew: sampled
thoughts (generate=sample, or propose at a temperature) then add children the first round did
not draw. The search ends with an answer, the budget, or a round that adds no new state."""

from __future__ import annotations

import heapq

from reasoning.tree import ROOT
from strategies.tot.search import Search

Entry = tuple[float, int, int]  # (-value, -depth, node): heapq pops the best value, then the deepest


def entry(search: Search, node: int) -> Entry:
    return (-(search.node(node)["value"] or 0.0), -search.node(node)["depth"], node)


def best_first(search: Search) -> None:
    seen = {search.node(ROOT)["text"]}
    queue: list[Entry] = [entry(search, ROOT)]
    grew = False  # a round added a state
    while not search.meter.exhausted():
        if not queue:  # the round is over: widen every expanded state, unless nothing new came
            if not grew:
                return
            queue, grew = [entry(search, n) for n, data in search.graph.nodes(data=True) if data["visits"]], False
            heapq.heapify(queue)
        node = heapq.heappop(queue)[2]
        if search.node(node)["depth"] >= search.settings.max_depth:
            continue
        children = search.expand([node], seen)
        search.node(node)["visits"] += 1
        if search.answer() is not None:
            return
        grew = grew or bool(children)
        alive = [c for c in children if not search.node(c)["terminal"]]
        if not alive or search.meter.exhausted():
            continue
        search.evaluate(alive)
        if search.answer() is not None:  # a lookahead (value=rollout) reached the goal
            return
        for child in alive:
            heapq.heappush(queue, entry(search, child))
