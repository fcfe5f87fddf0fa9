"""Tasks: one file per domain, each offering the roles of reasoning.protocols (answering always;
search, training and grammar where it has them).

A task is named by `--task` in one of three ways:
- a built-in name: game24, countdown, arithmetic;
- an import path `module:attribute` (`--task mypkg.tasks:MyTask`), the attribute a task class
  (built with no arguments), a factory function, or a task object;
- a name another package registers in the `reason.tasks` entry-point group, in its pyproject.toml:
  `[project.entry-points."reason.tasks"]` then `mytask = "mypkg.tasks:MyTask"`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from importlib.metadata import entry_points
from types import MappingProxyType

from reasoning.errors import BadInput
from reasoning.protocols import Task, missing
from tasks.arithmetic import Arithmetic
from tasks.countdown import Countdown
from tasks.game24 import Game24

REGISTRY: MappingProxyType[str, Callable[[], Task]] = MappingProxyType(
    {"game24": Game24, "countdown": Countdown, "arithmetic": Arithmetic}
)
ENTRY_POINTS = "reason.tasks"


def _plugins() -> dict[str, object]:
    return {ep.name: ep for ep in entry_points(group=ENTRY_POINTS)}


def names() -> list[str]:
    """Every task name `get_task` knows without an import path: built-ins, then entry points."""
    return [*REGISTRY, *(n for n in _plugins() if n not in REGISTRY)]


def _load(spec: str) -> object:
    """The object an import path `module:attribute` (attribute may be dotted) names."""
    module_name, _, attr = spec.partition(":")
    if not module_name or not attr:
        raise BadInput(f"a task import path is module:attribute, such as mypkg.tasks:MyTask; got {spec!r}")
    try:
        obj: object = importlib.import_module(module_name)
    except Exception as e:  # the user's module may fail in any way while it runs
        raise BadInput(f"cannot import task module {module_name!r}: {type(e).__name__}: {e}") from None
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise BadInput(f"task module {module_name!r} has no attribute {attr!r}")
        obj = getattr(obj, part)
    return obj


def _instance(obj: object, spec: str) -> Task:
    """A task from a class or factory (called with no arguments) or a task object; BadInput if
    the result lacks the answering role."""
    if isinstance(obj, type) or (callable(obj) and missing(obj, "answering")):  # a class or a factory
        try:
            obj = obj()
        except Exception as e:
            raise BadInput(f"task {spec!r} could not be built with no arguments: {type(e).__name__}: {e}") from None
    if lacking := missing(obj, "answering"):
        raise BadInput(f"{spec!r} is not a task: it lacks {', '.join(lacking)} (see reasoning/protocols.py, Task)")
    return obj  # type: ignore[return-value]


def get_task(name: str) -> Task:
    """A task by built-in name, entry-point name or import path (BadInput if none fits)."""
    if name in REGISTRY:
        return REGISTRY[name]()
    if ":" in name:
        return _instance(_load(name), name)
    plugins = _plugins()
    if name in plugins:
        try:
            obj = plugins[name].load()  # type: ignore[attr-defined]
        except Exception as e:
            raise BadInput(f"cannot load task {name!r} from its entry point: {type(e).__name__}: {e}") from None
        return _instance(obj, name)
    raise BadInput(f"unknown task {name!r}; choose from {', '.join(names())}, or give an import path module:Class")


__all__ = ["Arithmetic", "Countdown", "Game24", "get_task", "names", "REGISTRY", "ENTRY_POINTS"]
