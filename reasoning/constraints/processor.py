"""The logits processor that applies guides to a decoding batch (the outlines 1.x processor
interface the Engine drives: `reset`, `process_logits`, `batch_select_indices`).

Rows are laid out as the Engine lays them out: row r is sample r % reps of prompt r // reps, and
prompt b follows guides[b]. The first process_logits after reset() masks every row at its
guide's initial state; each later call first advances each row's state by the last column of
input_ids, the token just sampled for it. Masks are tensors cached per guide state, so a step
costs one small Python loop over the rows (never over the vocabulary) and a few tensor
operations; a step whose rows are all in the states of the step before reuses its mask.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from reasoning.constraints.guide import Guide


class GuideProcessor:
    """Build once per call; the Engine calls reset() before any row leaves the batch."""

    def __init__(self, guides: Sequence[Guide], reps: int, vocab_size: int) -> None:
        self.guides = list(guides)
        self.reps = reps
        self.vocab_size = vocab_size  # token ids the guides know; logit columns past it are never allowed
        self.reset()

    def reset(self) -> None:
        self.rows = list(range(len(self.guides) * self.reps))  # output row of each active row
        self.states = [self.guides[r // self.reps].initial for r in self.rows]
        self._started = False
        self._last: tuple[tuple[int, ...], torch.Tensor | None] = ((), None)  # (states, bias) of the last step
        self._biases: dict[int, tuple[torch.Tensor, torch.Tensor]] = {}  # id(flags) -> (flags, their bias)

    def batch_select_indices(self, indices: Sequence[int]) -> None:
        """Only these active rows (indices into the previous active batch) stay."""
        self.rows = [self.rows[a] for a in indices]
        self.states = [self.states[a] for a in indices]
        self._last = ((), None)

    def process_logits(self, input_ids: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
        """input_ids: (A, t), its last column the token each row just sampled; logits: (A, V).
        Returns logits with every token the rows' guides do not allow set to -inf."""
        guides = [self.guides[r // self.reps] for r in self.rows]
        if self._started:
            last = input_ids[:, -1].tolist()  # (A,)
            self.states = [g.next(s, t) for g, s, t in zip(guides, self.states, last)]
        self._started = True
        A, V = logits.shape
        Vt = min(V, self.vocab_size)
        key = tuple(self.states)
        bias = self._last[1] if key == self._last[0] else self._bias(guides, A, Vt, logits.device)
        self._last = (key, bias)
        if bias is None:
            return logits
        (logits if Vt == V else logits[:, :Vt]).add_(bias)  # an add: far cheaper than masked_fill_ on CPU
        if V > Vt:
            logits[:, Vt:] = float("-inf")
        return logits

    def _bias(self, guides: list[Guide], A: int, Vt: int, dev: torch.device) -> torch.Tensor | None:
        """(A, Vt): 0 where a row's guide allows the token, -inf where it forbids it; None if no
        row is constrained."""
        dense_rows, dense, sparse_rows, sparse, free_rows = [], [], [], [], []
        few_rows: list[int] = []  # the row of each id in few_ids (masks kept as tuples)
        few_ids: list[int] = []
        for a, (g, s) in enumerate(zip(guides, self.states)):
            m = g.mask(s)
            if m is None:
                free_rows.append(a)
            elif isinstance(m, tuple):
                few_rows += [a] * len(m)
                few_ids += m
            elif m.dtype == torch.bool:
                dense_rows.append(a)
                dense.append(self._dense_bias(m))
            else:
                sparse_rows.append(a)
                sparse.append(m)
        if len(free_rows) == A:
            return None
        if len(dense_rows) == A:
            return torch.stack(dense)[:, :Vt].to(dev)  # (A, Vt)
        bias = torch.full((A, Vt), float("-inf"), device=dev)  # (A, Vt)
        if free_rows:
            bias[torch.tensor(free_rows, device=dev)] = 0.0
        if dense_rows:
            bias[torch.tensor(dense_rows, device=dev)] = torch.stack(dense)[:, :Vt].to(dev)  # (D, Vt)
        if sparse_rows:
            counts = torch.tensor([len(m) for m in sparse])  # (S,)
            rows = torch.tensor(sparse_rows).repeat_interleave(counts)  # (sum k,)
            bias[rows.to(dev), torch.cat(sparse).to(dev)] = 0.0
        if few_rows:
            bias[torch.tensor(few_rows, device=dev), torch.tensor(few_ids, device=dev)] = 0.0
        return bias

    def _dense_bias(self, flags: torch.Tensor) -> torch.Tensor:
        """(V,) 0 / -inf of a (V,) allowed-flags mask, made once per mask for this call."""
        key = id(flags)
        if key not in self._biases:
            self._biases[key] = (flags, torch.zeros(flags.shape).masked_fill_(~flags, float("-inf")))
        return self._biases[key][1]
