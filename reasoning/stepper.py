"""Steppers: the model side of one decoding call, behind one small interface the Engine drives.

`prefill(ids, mask, pos, reps, max_len)` runs the left-padded prompts once and returns the
last-token logits with every prompt's row repeated `reps` times (R = B * reps rows); `step(tok)`
feeds one token per live row and returns the next logits; `select(idx)` keeps only rows idx.
The lean stepper also runs a drafted run of tokens through one live row in
one pass, `verify(toks)` -> the logits after each, and `rewind(k)` drops the last k of them again.

- `PlainStepper`: any transformers causal LM through its own forward and cache.
- `LeanStepper`: a plain Llama through LeanLlama and a preallocated KVCache.
"""

from __future__ import annotations

import inspect
from typing import Any

import torch

from reasoning.llama import LeanCall, LeanLlama


class PlainStepper:
    """The model's forward with its cache (`cache` since transformers 5.2x, `past_key_values` before
    and in remote code), growing its attention mask one column a step."""

    def __init__(self, model: torch.nn.Module, keep_arg: bool) -> None:
        self.model = model
        self.kw: dict[str, Any] = {"logits_to_keep": 1} if keep_arg else {}
        self.cache_arg = "cache" if "cache" in inspect.signature(model.forward).parameters else "past_key_values"
        self.cache: Any = None

    def _forward(self, ids: torch.Tensor, mask: torch.Tensor, pos: torch.Tensor, **kw: Any) -> torch.Tensor:
        # without padding the mask says nothing, and leaving it out keeps attention on its fast path
        attention_mask = None if bool(mask.all()) else mask
        out = self.model(input_ids=ids, attention_mask=attention_mask, position_ids=pos, use_cache=True, **kw)
        cache = getattr(out, "cache", None)
        self.cache = out.past_key_values if cache is None else cache
        return out.logits[:, -1, :].float()  # (A, V)

    def prefill(self, ids: torch.Tensor, mask: torch.Tensor, pos: torch.Tensor, reps: int, max_len: int) -> torch.Tensor:
        logits = self._forward(ids, mask, pos, **self.kw)  # (B, V)
        self.mask, self.next_pos = mask, pos[:, -1] + 1  # (B, T), (B,)
        if reps > 1:
            self.cache.batch_repeat_interleave(reps)
            logits = logits.repeat_interleave(reps, dim=0)  # (R, V)
            self.mask = self.mask.repeat_interleave(reps, dim=0)  # (R, T)
            self.next_pos = self.next_pos.repeat_interleave(reps, dim=0)  # (R,)
        return logits

    def step(self, tok: torch.Tensor) -> torch.Tensor:
        self.mask = torch.cat([self.mask, self.mask.new_ones((self.mask.size(0), 1))], dim=1)  # (A, T+t+1)
        logits = self._forward(tok[:, None], self.mask, self.next_pos[:, None], **{self.cache_arg: self.cache})
        self.next_pos = self.next_pos + 1
        return logits

    def select(self, idx: torch.Tensor) -> None:
        self.cache.batch_select_indices(idx)
        self.mask, self.next_pos = self.mask[idx], self.next_pos[idx]


class LeanStepper:
    """LeanLlama over a KVCache sized for the call (R rows, max_len columns), written in place."""

    def __init__(self, lean: LeanLlama) -> None:
        self.lean = lean
        self.call: LeanCall | None = None

    def prefill(self, ids: torch.Tensor, mask: torch.Tensor, pos: torch.Tensor, reps: int, max_len: int) -> torch.Tensor:
        B = ids.size(0)
        self.call = call = self.lean.start(B * reps, max_len)
        call.cache.set_padding(mask)
        logits = call.forward(ids, pos)  # (B, V)
        self.next_pos = pos[:, -1] + 1  # (B,)
        if reps > 1:
            idx = torch.arange(B, device=ids.device).repeat_interleave(reps)  # (R,)
            call.cache.select(idx)
            logits, self.next_pos = logits[idx], self.next_pos[idx]  # (R, V), (R,)
        return logits

    def step(self, tok: torch.Tensor) -> torch.Tensor:
        assert self.call is not None
        logits = self.call.forward(tok[:, None], self.next_pos[:, None])  # (A, V)
        self.next_pos = self.next_pos + 1
        return logits

    def verify(self, toks: torch.Tensor) -> torch.Tensor:
        """toks (T,) for the one live row -> logits (T, V) after each of them."""
        assert self.call is not None
        T = toks.numel()
        pos = self.next_pos[:, None] + torch.arange(T, device=toks.device)  # (1, T)
        logits = self.call.forward(toks[None], pos, every=True)[0]  # (T, V)
        self.next_pos = self.next_pos + T
        return logits

    def rewind(self, steps: int) -> None:
        assert self.call is not None
        self.call.cache.rewind(steps)
        self.next_pos = self.next_pos - steps

    def select(self, idx: torch.Tensor) -> None:
        assert self.call is not None
        self.call.cache.select(idx)
        self.next_pos = self.next_pos[idx]
