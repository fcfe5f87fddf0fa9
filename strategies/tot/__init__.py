"""Tree of thoughts: BFS, DFS, MCTS and best-first over a task's states with propose and value prompts."""

from strategies.tot.tree_of_thoughts import TreeOfThoughts

__all__ = ["TreeOfThoughts"]
