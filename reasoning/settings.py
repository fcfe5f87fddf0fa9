"""Apply `key=value` overrides (from the CLI's `--set`) to a frozen dataclass config, checked."""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Iterable
from typing import Any, TypeVar

from reasoning.errors import BadInput

C = TypeVar("C")

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _convert(name: str, raw: str, kind: Any) -> Any:
    origin = typing.get_origin(kind)
    if origin is typing.Literal:
        choices = typing.get_args(kind)
        if raw not in choices:
            raise BadInput(f"setting {name} must be one of {', '.join(map(str, choices))}, got {raw!r}")
        return raw
    if origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
        args = [a for a in typing.get_args(kind) if a is not type(None)]
        if raw.lower() == "none" and len(args) < len(typing.get_args(kind)):
            return None
        return _convert(name, raw, args[0])
    try:
        if kind is bool:
            if raw.lower() in _TRUE:
                return True
            if raw.lower() in _FALSE:
                return False
            raise ValueError(raw)
        if kind in (int, float, str):
            return kind(raw)
    except ValueError:
        raise BadInput(f"setting {name} takes a {kind.__name__}, got {raw!r}") from None
    raise BadInput(f"setting {name} cannot be set from the command line")


def parse_pairs(pairs: Iterable[str]) -> dict[str, str]:
    """['breadth=5', 'value=vote'] -> {'breadth': '5', 'value': 'vote'}."""
    out: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise BadInput(f"--set takes KEY=VALUE, got {pair!r}")
        out[key.strip()] = value.strip()
    return out


def apply(config: C, overrides: dict[str, str]) -> C:
    """A copy of `config` with overrides converted to each field's declared type; a dotted key
    (`base.k`) sets a field of a nested config.
    Unknown keys and values of the wrong type raise BadInput naming the valid choices."""
    hints = typing.get_type_hints(type(config))
    fields = {f.name for f in dataclasses.fields(config) if f.init}  # type: ignore[arg-type]
    changes: dict[str, Any] = {}
    nested: dict[str, dict[str, str]] = {}  # "base.k=3" sets k of the config in field base
    for key, raw in overrides.items():
        head, dot, rest = key.partition(".")
        if dot and head in fields and dataclasses.is_dataclass(getattr(config, head)):
            nested.setdefault(head, {})[rest] = raw
            continue
        if key not in fields:
            valid = ", ".join(sorted(fields)) or "none"
            raise BadInput(f"unknown setting {key!r} for {type(config).__name__}; valid settings: {valid}")
        changes[key] = _convert(key, raw, hints[key])
    for head, inner in nested.items():
        changes[head] = apply(getattr(config, head), inner)
    try:
        return dataclasses.replace(config, **changes)  # type: ignore[type-var]
    except (ValueError, TypeError) as e:
        raise BadInput(f"bad settings for {type(config).__name__}: {e}") from None
