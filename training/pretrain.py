"""Stage 1, pretraining: a fresh model (or, with `init`, a finished one continued) learns the tasks' formats
from documents of worked blocks."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from reasoning.protocols import Task
from training import checkpoint, corpus, loop
from training.corpus import Mixture
from training.model import ModelConfig, build_model
from training.tokenizer import build_tokenizer


@dataclass(frozen=True)
class StageConfig(loop.StageConfig):
    """Pretraining settings. The default mixture (Game of 24 12.1M, Countdown 14.3M, arithmetic
    6.6M characters: 32.8M tokens with the character tokenizer, 62k documents) takes an estimated
    50 minutes on 2 CPU cores (bf16 autocast): about 5 minutes to build the corpus, then ~11.2k
    tokens/s (0.73 s a step). (Game of 24 alone, the shipped model's corpus: 1600 steps, 21 min.)"""

    steps: int = 3700  # 3700 x 16 x 512 = 30.3M tokens, about 0.92 passes over the mixture
    batch_size: int = 16
    seq_len: int = 512
    lr: float = 2e-3
    warmup: int = 100
    ckpt_every: int = 100

    @classmethod
    def quick(cls) -> StageConfig:
        """A few seconds with the tiny model: for tests and `reason train --quick`."""
        return cls(
            steps=30, batch_size=8, seq_len=128, lr=3e-3, warmup=5, ckpt_every=10, log_every=5,
            model=ModelConfig.tiny(), corpus=Mixture.quick(),
        )  # fmt: skip


def pretrain(
    cfg: StageConfig, out: Path, tasks: Sequence[Task], progress: bool = True, init: Path | None = None
) -> Path:
    """Pretrain on the tasks' documents (each sized by its part of cfg.corpus): a fresh model
    (cfg.model), or, with `init`, the finished model there (continued pretraining: its own
    architecture and tokenizer; cfg.model is not read). Writes `out/` (resumable). Returns out."""
    if init is None:
        out, tokenizer = Path(out), build_tokenizer()
        checkpoint.check_seq_len(cfg.seq_len, cfg.model.max_len)
        init_model = lambda: build_model(cfg.model, len(tokenizer), cfg.seed, tokenizer)  # noqa: E731
    else:
        init, out, tokenizer = checkpoint.continued(init, out, "pretrain", cfg.seq_len)
        init_model = lambda: checkpoint.load_model(init)  # noqa: E731
    docs = corpus.mixture_documents(tasks, cfg.corpus, cfg.seed)
    seqs = tokenizer(docs, add_special_tokens=False)["input_ids"]
    rows = loop.packed(seqs, cfg.seq_len, tokenizer.bos_token_id, tokenizer.pad_token_id)
    info = {
        "tasks": [t.name for t in tasks], "documents": len(docs), "characters": sum(map(len, docs)),
        "corpus_tokens": sum(map(len, seqs)) + len(seqs),  # with one BOS per document
        "init": None if init is None else str(init),
    }  # fmt: skip
    return loop.train(cfg, out, "pretrain", rows, tokenizer, init_model=init_model, info=info, progress=progress)
