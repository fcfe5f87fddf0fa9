"""KVCache: keys and values of every layer in buffers allocated once per call and written in place.

transformers' DynamicCache concatenates each layer's keys and values every step (a copy of the
whole cache per token) and the caller grows an attention mask alongside. Here each layer owns one
(R, H, T_max, D) buffer: a step writes one column and attention reads a view of the first columns.
Memory the call never writes is never touched (large buffers are mapped lazily by the OS).
"""

from __future__ import annotations

import torch


class KVCache:
    """The first A rows are the live batch (A is the batch of each forward pass); columns
    [0, length) hold its tokens, left padding included.
    `valid` (R, T_max) marks the columns that are real tokens; None when no row is padded."""

    def __init__(
        self, layers: int, rows: int, heads: int, max_len: int, head_dim: int, dtype: torch.dtype, device: torch.device
    ) -> None:
        shape = (rows, heads, max_len, head_dim)
        self.k = [torch.empty(shape, dtype=dtype, device=device) for _ in range(layers)]
        self.v = [torch.empty(shape, dtype=dtype, device=device) for _ in range(layers)]
        self.max_len = max_len
        self.length = 0
        self.valid: torch.Tensor | None = None

    def set_padding(self, mask: torch.Tensor) -> None:
        """mask (B, T) of the prompts just written (1 = token, 0 = left padding): every later column is real."""
        B, T = mask.shape
        if bool(mask.all()):
            self.valid = None
            return
        self.valid = torch.ones((self.k[0].size(0), self.max_len), dtype=torch.bool, device=mask.device)
        self.valid[:B, :T] = mask.bool()

    def update(self, layer: int, k: torch.Tensor, v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Write k, v (A, H, T, D) at columns [length, length + T) of the live rows and return the
        keys and values of columns [0, length + T). (A, H, length + T, D) views, no copy."""
        A, end = k.size(0), self.length + k.size(2)
        self.k[layer][:A, :, self.length : end] = k
        self.v[layer][:A, :, self.length : end] = v
        return self.k[layer][:A, :, :end], self.v[layer][:A, :, :end]

    def advance(self, steps: int) -> None:
        """The tokens of the last forward pass are in: later writes go after them."""
        self.length += steps

    def rewind(self, steps: int) -> None:
        """Forget the last `steps` columns (drafted tokens the sampler did not take)."""
        self.length -= steps

    def attention_mask(self, rows: int, queries: int) -> torch.Tensor | None:
        """Boolean mask (A, 1, queries, length + queries) for a forward pass of `queries` new tokens:
        causal within them, blind to padding (a padding query sees itself, so no row is all blind).
        None when causal order is all there is (no padding; one new token, or a first pass that
        SDPA's is_causal covers)."""
        end = self.length + queries
        if self.valid is None and (queries == 1 or self.length == 0):
            return None
        keys = (
            self.valid[:rows, None, None, :end]
            if self.valid is not None
            else torch.ones((rows, 1, 1, end), dtype=torch.bool, device=self.k[0].device)
        )  # (A, 1, 1, end)
        if queries == 1:
            return keys
        q = torch.arange(self.length, end, device=keys.device)[:, None]  # (Tq, 1) absolute columns
        c = torch.arange(end, device=keys.device)[None, :]  # (1, end)
        return (keys & (c <= q)) | (c == q)  # (A, 1, Tq, end)

    def select(self, idx: torch.Tensor) -> None:
        """Keep rows idx (indices into the live rows; repeats allowed) as the new live rows 0..len(idx)-1."""
        n, L = idx.numel(), self.length  # n <= the buffers' rows
        for buf in (*self.k, *self.v):
            buf[:n, :, :L] = buf[idx, :, :L]  # the gather is materialised before the write
        if self.valid is not None:
            self.valid[:n] = self.valid[idx]
