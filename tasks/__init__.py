"""Tasks: one file per domain, each implementing reasoning.protocols.Task."""

from __future__ import annotations

from collections.abc import Callable
from types import MappingProxyType

from reasoning.errors import BadInput
from reasoning.protocols import Task
from tasks.game24 import Game24

REGISTRY: MappingProxyType[str, Callable[[], Task]] = MappingProxyType({"game24": Game24})


def get_task(name: str) -> Task:
    if name not in REGISTRY:
        raise BadInput(f"unknown task {name!r}; choose from {', '.join(REGISTRY)}")
    return REGISTRY[name]()


__all__ = ["Game24", "get_task", "REGISTRY"]
