"""Frozen value types shared by every package: sampling settings, budgets, usage, results."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from reasoning.errors import BadInput


@dataclass(frozen=True)
class SamplingParams:
    """How to sample one completion. temperature 0 means greedy (the seed is ignored)."""

    temperature: float = 1.0
    top_p: float = 1.0
    top_k: int = 0  # 0 = no top-k cut
    max_new_tokens: int = 128
    stop: tuple[str, ...] = ()
    max_seconds: float | None = None  # stop decoding after this long (finish_reason "time")

    def __post_init__(self) -> None:
        if self.max_seconds is not None and self.max_seconds < 0:
            raise BadInput(f"max_seconds must be >= 0, got {self.max_seconds}")
        if self.temperature < 0:
            raise BadInput(f"temperature must be >= 0, got {self.temperature}")
        if not 0 < self.top_p <= 1:
            raise BadInput(f"top_p must be in (0, 1], got {self.top_p}")
        if self.top_k < 0 or self.max_new_tokens < 0:
            raise BadInput("top_k and max_new_tokens must be >= 0")


@dataclass(frozen=True)
class Budget:
    """Thinking time a strategy may spend. None means unlimited in that unit."""

    seconds: float | None = None
    tokens: int | None = None  # generated tokens
    calls: int | None = None  # model calls

    def __str__(self) -> str:
        parts = [
            f"{self.seconds:g}s" if self.seconds is not None else "",
            f"{self.tokens}tok" if self.tokens is not None else "",
            f"{self.calls}calls" if self.calls is not None else "",
        ]
        return "+".join(p for p in parts if p) or "unlimited"

    @classmethod
    def parse(cls, text: str) -> Budget:
        """Parse '10s', '2000tok', '50calls', 'unlimited', or a '+'-joined mix such as '10s+50calls'."""
        text = text.strip().lower()
        if text in ("", "none", "unlimited"):
            return cls()
        values: dict[str, float | int] = {}
        for part in text.split("+"):
            m = re.fullmatch(r"(\d+(?:\.\d+)?)\s*(s|sec|secs|seconds|tok|tokens|calls?)", part.strip())
            if m is None:
                raise BadInput(
                    f"bad budget {part.strip()!r}: use seconds (10s), generated tokens (500tok) or model calls (20calls)"
                )
            number, unit = m.groups()
            key = "seconds" if unit.startswith("s") else "tokens" if unit.startswith("tok") else "calls"
            if key in values:
                raise BadInput(f"budget {text!r} gives {key} twice")
            if key != "seconds" and "." in number:
                raise BadInput(f"budget {part!r}: {key} must be a whole number")
            values[key] = float(number) if key == "seconds" else int(number)
            if values[key] <= 0:
                raise BadInput(f"budget {part!r} must be positive")
        return cls(**values)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Usage:
    """What was spent. seconds is wall time on a monotonic clock."""

    seconds: float = 0.0
    generated_tokens: int = 0
    prompt_tokens: int = 0
    calls: int = 0


@dataclass(frozen=True)
class Completion:
    text: str
    tokens: int  # generated tokens, including any stop string
    logprob: float  # sum of the sampled tokens' log-probabilities under the raw model
    finish_reason: str  # "stop" | "length" | "time" (params.max_seconds ran out)
    token_ids: tuple[int, ...] = ()  # the ids sampled (what training scores: never re-encode text)
    token_logprobs: tuple[float, ...] = ()  # log p of each sampled id under the raw model
    top_logprobs: tuple[tuple[tuple[int, float], ...], ...] = ()  # per step, the k most likely (id, logprob)
    prompt_tokens: int | None = None  # the prompt's tokens as the backend counted them (a server's usage); None: the Meter counts


@dataclass(frozen=True)
class Result:
    """What a strategy returns. stop_reason says why it stopped: done | seconds | tokens | calls."""

    answer: str | None
    usage: Usage
    stop_reason: str = "done"
    trace: tuple[str, ...] = ()
    tree: Any = None  # networkx.DiGraph for search strategies
    extra: dict[str, Any] = field(default_factory=dict)
