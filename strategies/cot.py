"""Chain of thought: the model writes its steps, then the answer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from strategies.prompted import Prompted


@dataclass(frozen=True)
class ChainOfThought(Prompted):
    style: ClassVar[str] = "cot"
    name: ClassVar[str] = "cot"
    max_new_tokens: int = 256
