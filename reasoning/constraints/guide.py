"""The compiled form of a constraint: a guide, an automaton over token ids. Every state carries
the tokens allowed next, kept as a tensor once computed, so the logits processor masks a batch
with tensor operations and walks each row by its last sampled token id."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import torch


class Guide(Protocol):
    initial: int  # state before any token

    def next(self, state: int, token: int) -> int:
        """The state after `token` (a token the mask allowed)."""
        ...

    def mask(self, state: int) -> Mask | None:
        """Tokens allowed in a state (see as_mask), or None when any token may come (nothing to
        hold the row to)."""
        ...

    def complete(self, state: int) -> bool:
        """The text written so far satisfies the constraint (EOS may end it here)."""
        ...

    def ended(self, state: int) -> bool:
        """Nothing but EOS may follow: the constraint is done and ends the completion."""
        ...


Mask = tuple[int, ...] | torch.Tensor

FEW = 16  # up to this many ids a mask stays a tuple: making a tiny tensor costs more than a list


def as_mask(ids: Sequence[int], size: int) -> Mask:
    """Allowed ids in the cheapest form: a tuple when very few (a line grammar's next characters),
    a (k,) int64 tensor when few (8 bytes each), else (size,) bool flags."""
    if len(ids) <= FEW:
        return tuple(sorted(ids))
    if 8 * len(ids) <= size:
        return torch.tensor(sorted(ids), dtype=torch.long)  # (k,)
    flags = torch.zeros(size, dtype=torch.bool)  # (V,)
    flags[torch.tensor(list(ids), dtype=torch.long)] = True
    return flags
