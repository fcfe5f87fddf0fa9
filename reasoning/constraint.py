"""Constrained decoding: a logits processor that keeps every row of a batch inside a Grammar.

The processor follows the outlines 1.x logits-processor interface the Engine drives (`reset`,
`process_logits(input_ids, logits)`, `batch_select_indices`) and is kept apart from the output
type it enforces: a `Grammar` (reasoning.protocols) says which whole lines may follow the lines
written so far, and the processor turns that into a token mask. A token is allowed when the
current line, extended by it, is still a prefix of an allowed line followed by its newline, so a
token never runs past a line end (exact for the character tokenizer `reason train` builds; with
merged tokens a line may take more, shorter tokens). Where the grammar allows nothing the tokenizer
can write, the row is left unconstrained rather than given no token at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from reasoning.protocols import Grammar


class LineConstraint:
    """Masks the logits of each row to the tokens its Grammar allows next. Build once per call:
    one grammar for every row, or one per prompt with each prompt's `reps` rows after it (the
    Engine's row order); rows that leave the batch are followed via batch_select_indices."""

    def __init__(self, grammars: Grammar | Sequence[Grammar], tokenizer: Any, reps: int = 1) -> None:
        self.grammars = [grammars] if isinstance(grammars, Grammar) else list(grammars)
        self.reps = reps
        self.tok = tokenizer
        self.pieces = [tokenizer.decode([i]) for i in range(len(tokenizer))]  # text of each token
        self.reset()

    def reset(self) -> None:
        self._lines: dict[tuple[int, tuple[str, ...]], Sequence[str] | None] = {}
        self.rows = list(range(len(self.grammars) * self.reps))  # input row of each active row

    def batch_select_indices(self, indices: list[int]) -> None:
        """Only these active rows (indices into the previous active batch) stay."""
        self.rows = [self.rows[a] for a in indices]

    def allowed(self, text: str, grammar: int = 0) -> list[int] | None:
        """Token ids that may follow `text` (the completion so far) under grammars[grammar]; None = any."""
        *done, partial = text.split("\n")
        key = (grammar, tuple(done))
        if key not in self._lines:
            self._lines[key] = self.grammars[grammar].lines(key[1])
        lines = self._lines[key]
        if lines is None:
            return None
        ends = [line + "\n" for line in lines if line.startswith(partial)]  # allowed lines still in reach
        heads = {e[len(partial)] for e in ends}
        return [
            i for i, piece in enumerate(self.pieces)
            if piece and piece[0] in heads and any(e.startswith(partial + piece) for e in ends)
        ] or None  # fmt: skip

    def process_logits(self, input_ids: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
        """input_ids: (A, t) tokens generated so far; logits: (A, V). Returns masked logits."""
        one = len(self.grammars) == 1
        for a, row in enumerate(input_ids.tolist()):
            keep = self.allowed(self.tok.decode(row), 0 if one else self.rows[a] // self.reps)
            if keep is None:
                continue
            mask = torch.full_like(logits[a], float("-inf"))  # (V,)
            mask[keep] = 0.0
            logits[a] = logits[a] + mask
        return logits
