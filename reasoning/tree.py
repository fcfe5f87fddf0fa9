"""Search trees as networkx DiGraphs: nodes carry the state, edges the thought that led there.

Node attributes: state (the task's state object), text, depth, value, visits, terminal, answer.
Edge attribute: thought.
"""

from __future__ import annotations

import json
from itertools import pairwise
from pathlib import Path
from typing import Any

import networkx as nx
from rich.tree import Tree

from reasoning.errors import BadInput

ROOT = 0


def new_tree(state: Any, text: str) -> nx.DiGraph:
    graph = nx.DiGraph()
    graph.add_node(ROOT, state=state, text=text, depth=0, value=None, visits=0, terminal=False, answer=None)
    return graph


def add_child(graph: nx.DiGraph, parent: int, thought: str, state: Any, text: str, terminal: bool, answer: str | None) -> int:
    node = graph.number_of_nodes()
    depth = graph.nodes[parent]["depth"] + 1
    graph.add_node(node, state=state, text=text, depth=depth, value=None, visits=0, terminal=terminal, answer=answer)
    graph.add_edge(parent, node, thought=thought)
    return node


def path_to(graph: nx.DiGraph, node: int) -> list[int]:
    """Node ids from the root down to `node`."""
    path = [node]
    while path[-1] != ROOT:
        path.append(next(iter(graph.predecessors(path[-1]))))
    return path[::-1]


def thoughts_to(graph: nx.DiGraph, answer: str | None) -> list[str] | None:
    """The thoughts from the root to the first node that gives `answer` (None if none does)."""
    for node, data in graph.nodes(data=True):
        if answer is not None and data.get("answer") == answer:
            path = path_to(graph, node)
            return [graph.edges[u, v]["thought"] for u, v in pairwise(path)]
    return None


def portable(graph: nx.DiGraph) -> nx.DiGraph:
    """A copy with only JSON/GraphML-friendly attributes (no state objects, no None values)."""
    out = nx.DiGraph()
    for node, data in graph.nodes(data=True):
        out.add_node(node, **{k: v for k, v in data.items() if k != "state" and v is not None})
    for u, v, data in graph.edges(data=True):
        out.add_edge(u, v, **data)
    return out


def save_tree(graph: nx.DiGraph | None, path: Path) -> None:
    """Write a tree as node-link JSON (.json) or GraphML (.graphml)."""
    if graph is None:
        raise BadInput("this strategy builds no search tree to save (use --strategy tot)")
    suffix = path.suffix.lower()
    if suffix not in (".json", ".graphml"):
        raise BadInput(f"--save-tree writes .json or .graphml, not {suffix or 'no extension'}")
    data = portable(graph)
    tmp = path.with_name(path.name + ".tmp")
    if suffix == ".json":
        tmp.write_text(json.dumps(nx.node_link_data(data, edges="edges"), indent=1))
    else:
        nx.write_graphml(data, tmp)
    tmp.replace(path)


def _label(graph: nx.DiGraph, node: int, thought: str | None) -> str:
    data = graph.nodes[node]
    parts = [f"[bold]{thought}[/bold]" if thought else f"[bold]{data['text']}[/bold]"]
    if data.get("value") is not None:
        parts.append(f"value {data['value']:.3g}")
    if data.get("visits"):
        parts.append(f"visits {data['visits']}")
    if data.get("answer"):
        parts.append(f"[green]{data['answer']}[/green]")
    elif data.get("terminal"):
        parts.append("[red]dead end[/red]")
    return "  ".join(parts)


def render(graph: nx.DiGraph, max_children: int = 8) -> Tree:
    """A rich Tree of the search, children in order of value (best first)."""

    def build(node: int, branch: Tree) -> None:
        children = sorted(graph.successors(node), key=lambda c: -(graph.nodes[c].get("value") or 0.0))
        for child in children[:max_children]:
            build(child, branch.add(_label(graph, child, graph.edges[node, child]["thought"])))
        if len(children) > max_children:
            branch.add(f"[dim]... {len(children) - max_children} more[/dim]")

    tree = Tree(_label(graph, ROOT, None))
    build(ROOT, tree)
    return tree
