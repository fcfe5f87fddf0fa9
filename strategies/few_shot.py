"""Few-shot input-output prompting: k examples, then the problem, then the answer directly."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from strategies.prompted import Prompted


@dataclass(frozen=True)
class FewShot(Prompted):
    style: ClassVar[str] = "io"
    name: ClassVar[str] = "io"
    max_new_tokens: int = 48
