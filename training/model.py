"""The model: a small Llama (transformers LlamaForCausalLM) with tied input/output embeddings."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerBase

from reasoning.errors import BadInput

MAX_PARAMS = 20_000_000  # no shipped config may exceed this


@dataclass(frozen=True)
class ModelConfig:
    """Architecture of the model. The default (3.4M parameters, 13.7 MB as float32) is what
    `reason train` builds: on 2 CPU cores with bf16 autocast it trains at about 13.6k tokens/s
    (batch 16x512), against 8.2k for 6x256 and 12.1k for 6x192, which learned no better per step
    (benchmarks/train_throughput.py measures it)."""

    layers: int = 4
    dim: int = 256
    heads: int = 4
    ffn_dim: int = 768
    max_len: int = 1024
    rope_theta: float = 10_000.0

    def __post_init__(self) -> None:
        if min(self.layers, self.dim, self.heads, self.ffn_dim, self.max_len) <= 0:
            raise BadInput(f"model sizes must be positive: {self}")
        if self.dim % self.heads:
            raise BadInput(f"dim {self.dim} is not a multiple of heads {self.heads}")

    @classmethod
    def tiny(cls) -> ModelConfig:
        """About 50k parameters: for tests and `--quick` runs."""
        return cls(layers=2, dim=48, heads=4, ffn_dim=96, max_len=1024)

    def to_dict(self) -> dict:
        return asdict(self)


def build_model(
    cfg: ModelConfig, vocab_size: int, seed: int, tokenizer: PreTrainedTokenizerBase | None = None
) -> LlamaForCausalLM:
    """A freshly initialized model; weights depend only on (cfg, vocab_size, seed).
    Special token ids come from the tokenizer (the project's tokenizer's ids by default)."""
    ids = (
        dict(bos=tokenizer.bos_token_id, eos=tokenizer.eos_token_id, pad=tokenizer.pad_token_id)
        if tokenizer is not None
        else dict(bos=1, eos=2, pad=0)  # training.tokenizer.SPECIALS
    )
    config = LlamaConfig(
        vocab_size=vocab_size,
        hidden_size=cfg.dim,
        intermediate_size=cfg.ffn_dim,
        num_hidden_layers=cfg.layers,
        num_attention_heads=cfg.heads,
        num_key_value_heads=cfg.heads,
        max_position_embeddings=cfg.max_len,
        rope_parameters={"rope_type": "default", "rope_theta": cfg.rope_theta},
        tie_word_embeddings=True,
        bos_token_id=ids["bos"],
        eos_token_id=ids["eos"],
        pad_token_id=ids["pad"],
    )
    with torch.random.fork_rng(devices=[]):  # seed the init without touching the caller's RNG
        torch.manual_seed(seed)
        model = LlamaForCausalLM(config)
    return model


def count_params(model: torch.nn.Module) -> int:
    """Distinct parameters (tied embeddings counted once)."""
    return sum(p.numel() for p in model.parameters())
