"""Composable reasoning strategies. Each is a frozen config with a `solve()` method:

    from strategies import SelfConsistency, ChainOfThought
    result = SelfConsistency(ChainOfThought(k=3), n=20).solve(problem, model, task, budget)
"""

from __future__ import annotations

from collections.abc import Callable
from types import MappingProxyType

from reasoning.errors import BadInput
from reasoning.protocols import Capabilities, Strategy
from reasoning.settings import apply
from strategies.best_of_n import BestOfN
from strategies.cot import ChainOfThought
from strategies.few_shot import FewShot
from strategies.self_consistency import SelfConsistency, majority, settled
from strategies.tot import TreeOfThoughts

# CLI name -> factory of the default configuration
REGISTRY: MappingProxyType[str, Callable[[], Strategy]] = MappingProxyType(
    {
        "io": FewShot,
        "cot": ChainOfThought,
        "sc": SelfConsistency,
        "tot": TreeOfThoughts,
        "bon": BestOfN,
    }
)


def create(name: str, settings: dict[str, str] | None = None) -> Strategy:
    """A strategy by its CLI name with `key=value` settings applied (BadInput if unknown)."""
    if name not in REGISTRY:
        raise BadInput(f"unknown strategy {name!r}; choose from {', '.join(REGISTRY)}")
    return apply(REGISTRY[name](), settings or {})


def adapt(strategy: Strategy, caps: Capabilities) -> tuple[Strategy, tuple[str, ...]]:
    """The strategy as it will run on a model with these capabilities and the fallbacks it
    takes (documented in the README); BadInput, before any work, if it cannot run there. A
    strategy without an `adapt` method is taken to need nothing."""
    own = getattr(strategy, "adapt", None)
    return own(caps) if callable(own) else (strategy, ())


__all__ = ["BestOfN", "ChainOfThought", "FewShot", "SelfConsistency", "TreeOfThoughts", "majority", "settled", "adapt", "create", "REGISTRY"]
