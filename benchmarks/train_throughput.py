"""Training throughput (tokens/s) of a ModelConfig on this machine: the default one unless told.

    PYTHONPATH=. python benchmarks/train_throughput.py                 # default ModelConfig
    PYTHONPATH=. python benchmarks/train_throughput.py --layers 4 --dim 256 --heads 8 --ffn 768

Rows are packed pretraining text (the quick corpus) of --seq-len tokens; the first --warmup
steps are not timed. Uses the training loop's own step (AdamW, clipping, bf16 autocast if the
CPU supports it).
"""

from __future__ import annotations

import argparse
import os
import time
from dataclasses import replace

import torch

from tasks.game24 import Game24
from training import corpus, loop
from training.model import ModelConfig, build_model, count_params
from training.pretrain import StageConfig
from training.tokenizer import build_tokenizer


def main() -> None:
    default = ModelConfig()
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--layers", type=int, default=default.layers)
    ap.add_argument("--dim", type=int, default=default.dim)
    ap.add_argument("--heads", type=int, default=default.heads)
    ap.add_argument("--ffn", type=int, default=default.ffn_dim)
    ap.add_argument("--batch", type=int, default=StageConfig().batch_size)
    ap.add_argument("--seq-len", type=int, default=StageConfig().seq_len)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--no-bf16", action="store_true")
    args = ap.parse_args()

    torch.set_num_threads(os.cpu_count() or 1)
    mcfg = ModelConfig(layers=args.layers, dim=args.dim, heads=args.heads, ffn_dim=args.ffn)
    cfg = replace(StageConfig(), batch_size=args.batch, seq_len=args.seq_len, bf16=not args.no_bf16, model=mcfg)
    tok = build_tokenizer()
    docs = corpus.pretrain_documents(Game24(), corpus.CorpusConfig.quick(), seed=0)
    seqs = tok(docs, add_special_tokens=False)["input_ids"]
    rows = loop.packed(seqs, cfg.seq_len, tok.bos_token_id, tok.pad_token_id)
    model = build_model(mcfg, len(tok), seed=0, tokenizer=tok)
    optimizer = loop.make_optimizer(model, cfg)
    sampler = loop.Sampler(rows.lengths(), cfg.batch_size, cfg.seed)
    bf16 = loop.bf16_ok(cfg)

    tokens, t0 = 0, time.monotonic()
    for step in range(args.warmup + args.steps):
        if step == args.warmup:
            tokens, t0 = 0, time.monotonic()
        batch = rows.batch(sampler(step))  # (B, T) each
        loss = loop.train_step(model, optimizer, batch, cfg.lr, cfg.grad_clip, bf16)
        tokens += int(batch[1].sum())
    seconds = time.monotonic() - t0
    params = count_params(model)
    print(
        f"{mcfg.layers}x{mcfg.dim} h{mcfg.heads} ffn{mcfg.ffn_dim} ({params / 1e6:.2f}M params, "
        f"{params * 4 / 1e6:.1f} MB fp32) batch {cfg.batch_size}x{cfg.seq_len} bf16={bf16} "
        f"threads={torch.get_num_threads()}: {tokens / seconds:,.0f} tokens/s, "
        f"{seconds / args.steps:.2f} s/step, loss {loss.item():.3f}"
    )


if __name__ == "__main__":
    main()
