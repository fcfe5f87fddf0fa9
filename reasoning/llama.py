"""LeanLlama: the forward pass of a transformers LlamaForCausalLM, written plainly in torch.

At the project's model sizes a decoding step is overhead, not arithmetic: transformers' forward
spends most of a step in module calls, config lookups, mask building and cache bookkeeping. This
is the same computation (RMSNorm, RoPE, SDPA, SwiGLU, in transformers' order of operations) over a
preallocated KVCache, reading the HF module's own parameters at each call: no copies, so weights
trained in place (RL rollouts) are the weights decoded. Only plain Llama checkpoints qualify
(`LeanLlama.supports`); everything else runs through transformers.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import torch
import torch.nn.functional as F

from reasoning.kv_cache import KVCache


class _Layer(NamedTuple):
    ln1: torch.Tensor
    q: torch.Tensor
    k: torch.Tensor
    v: torch.Tensor
    o: torch.Tensor
    ln2: torch.Tensor
    gate: torch.Tensor
    up: torch.Tensor
    down: torch.Tensor


def _rms_norm(x: torch.Tensor, weight: torch.Tensor, eps: float) -> torch.Tensor:
    """transformers' LlamaRMSNorm. In float32 torch's fused rms_norm gives the same bits (checked by
    tests/reasoning/test_engine.py); other dtypes go op for op, upcasting as transformers does."""
    if x.dtype == torch.float32 and weight.dtype == torch.float32:
        return F.rms_norm(x, (x.size(-1),), weight, eps)
    h = x.to(torch.float32)
    h = h * torch.rsqrt(h.pow(2).mean(-1, keepdim=True) + eps)
    return weight * h.to(x.dtype)


def _rope(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """x * cos + rotate_half(x) * sin with rotate_half(x) = (-x2, x1), computed as the swapped halves
    (x2, x1) times sin with its first half negated: the same products, bit for bit, in fewer ops.
    x (A, H, T, D); cos, sin (A, 1, T, D), sin already signed."""
    A, H, T, D = x.shape
    swapped = x.view(A, H, T, 2, D // 2).flip(3).view(A, H, T, D)
    return x * cos + swapped * sin


class LeanLlama:
    """Wraps a LlamaForCausalLM (check `supports` first). `start(rows, max_len)` gives an empty
    cache for one call; `forward(ids, pos, cache)` runs new tokens through and returns the
    logits of each row's last one."""

    def __init__(self, model: Any) -> None:
        cfg = model.config
        self.model = model
        self.heads = cfg.num_attention_heads
        self.kv_heads = cfg.num_key_value_heads
        self.head_dim = getattr(cfg, "head_dim", None) or cfg.hidden_size // cfg.num_attention_heads
        self.scale = self.head_dim**-0.5  # LlamaAttention.scaling
        self.eps = cfg.rms_norm_eps

    @staticmethod
    def supports(model: Any) -> bool:
        """True for a plain transformers LlamaForCausalLM (SiLU MLP, no biases, default RoPE, SDPA or
        eager attention, nn.Linear projections): what this forward computes exactly."""
        try:
            from transformers import LlamaForCausalLM
            from transformers.models.llama.modeling_llama import LlamaRMSNorm
        except ImportError:  # pragma: no cover - transformers is a dependency
            return False
        if type(model) is not LlamaForCausalLM:
            return False
        cfg = model.config
        rope = getattr(cfg, "rope_parameters", None) or {}
        if not (
            cfg.hidden_act == "silu"
            and not getattr(cfg, "attention_bias", False)
            and not getattr(cfg, "mlp_bias", False)
            and rope.get("rope_type", "default") == "default"
            and getattr(cfg, "pretraining_tp", 1) == 1
            and getattr(cfg, "_attn_implementation", "sdpa") in ("sdpa", "eager")
            and type(model.lm_head) is torch.nn.Linear
            and model.lm_head.bias is None
            and getattr(model.model.rotary_emb, "attention_scaling", 1.0) == 1.0
        ):
            return False
        for layer in model.model.layers:
            attn, mlp = layer.self_attn, layer.mlp
            linears = (attn.q_proj, attn.k_proj, attn.v_proj, attn.o_proj, mlp.gate_proj, mlp.up_proj, mlp.down_proj)
            if any(type(m) is not torch.nn.Linear or m.bias is not None for m in linears):
                return False
            if type(layer.input_layernorm) is not LlamaRMSNorm or type(layer.post_attention_layernorm) is not LlamaRMSNorm:
                return False
        return True

    def _layers(self) -> list[_Layer]:
        """The parameters as they are now (read per call, never copied)."""
        out = []
        for layer in self.model.model.layers:
            a, m = layer.self_attn, layer.mlp
            out.append(
                _Layer(
                    layer.input_layernorm.weight, a.q_proj.weight, a.k_proj.weight, a.v_proj.weight, a.o_proj.weight,
                    layer.post_attention_layernorm.weight, m.gate_proj.weight, m.up_proj.weight, m.down_proj.weight,
                )  # fmt: skip
            )
        return out

    def start(self, rows: int, max_len: int) -> LeanCall:
        """Everything one generate call needs: the parameters, a RoPE table and an empty cache."""
        return LeanCall(self, rows, max_len)


class LeanCall:
    """One call's state: parameter views, cos/sin tables for positions [0, max_len), and the cache."""

    def __init__(self, lean: LeanLlama, rows: int, max_len: int) -> None:
        inner = lean.model.model
        self.lean = lean
        self.layers = lean._layers()
        self.embed = inner.embed_tokens.weight  # (V, C)
        self.norm = inner.norm.weight
        self.head = lean.model.lm_head.weight  # (V, C), the embedding itself when tied
        dtype, dev = self.embed.dtype, self.embed.device
        inv_freq = inner.rotary_emb.inv_freq.to(device=dev, dtype=torch.float)  # (D/2,)
        freqs = torch.arange(max_len, device=dev).float()[:, None] * inv_freq  # (P, D/2), as LlamaRotaryEmbedding
        emb = torch.cat((freqs, freqs), dim=-1)  # (P, D)
        self.cos, sin = emb.cos().to(dtype), emb.sin().to(dtype)
        half = sin.size(-1) // 2
        self.sin = torch.cat((-sin[:, :half], sin[:, half:]), dim=-1)  # signed for _rope
        self.cache = KVCache(len(self.layers), rows, lean.kv_heads, max_len, lean.head_dim, dtype, dev)

    def forward(self, ids: torch.Tensor, pos: torch.Tensor, every: bool = False) -> torch.Tensor:
        """ids, pos (A, T) for the A live rows of the cache -> logits (A, V) at each row's last
        token, or (A, T, V) at every token when `every`."""
        lean, cache = self.lean, self.cache
        A, T = ids.shape
        D, eps = lean.head_dim, lean.eps
        x = F.embedding(ids.reshape(-1), self.embed)  # (A*T, C): every linear runs on 2-D rows
        cos, sin = self.cos[pos].unsqueeze(1), self.sin[pos].unsqueeze(1)  # (A, 1, T, D)
        mask = cache.attention_mask(A, T)  # (A, 1, T, S) or None
        causal = mask is None and T > 1
        gqa = lean.kv_heads != lean.heads
        for i, w in enumerate(self.layers):
            h = _rms_norm(x, w.ln1, eps)
            q = F.linear(h, w.q).view(A, T, -1, D).transpose(1, 2)  # (A, H, T, D)
            k = F.linear(h, w.k).view(A, T, -1, D).transpose(1, 2)  # (A, Hkv, T, D)
            v = F.linear(h, w.v).view(A, T, -1, D).transpose(1, 2)
            k, v = cache.update(i, _rope(k, cos, sin), v)  # (A, Hkv, S, D)
            y = F.scaled_dot_product_attention(
                _rope(q, cos, sin), k, v, attn_mask=mask, is_causal=causal, scale=lean.scale, enable_gqa=gqa
            )  # (A, H, T, D)
            x = x + F.linear(y.transpose(1, 2).reshape(A * T, -1), w.o)  # (A*T, C)
            h = _rms_norm(x, w.ln2, eps)
            x = x + F.linear(F.silu(F.linear(h, w.gate)) * F.linear(h, w.up), w.down)
        cache.advance(T)
        x = _rms_norm(x, self.norm, eps).view(A, T, -1)  # (A, T, C): all positions, as transformers
        return F.linear(x if every else x[:, -1], self.head)  # (A, T, V) or (A, V)
