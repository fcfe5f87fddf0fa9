"""Stage 2, supervised fine-tuning: prompt -> response pairs, loss on the response only.

Starts from a pretrain output dir; the architecture comes from there (cfg.model is not used).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from reasoning.protocols import Task
from training import checkpoint, corpus, loop
from training.corpus import Mixture
from training.model import ModelConfig


@dataclass(frozen=True)
class StageConfig(loop.StageConfig):
    """SFT settings. The default mixture (Game of 24 38.0k, Countdown 37.1k, arithmetic 13.0k
    pairs: 12.8M characters) takes an estimated 21 minutes on 2 CPU cores (bf16 autocast): about
    6 minutes to build and count the corpus, then ~9.4k tokens/s (about 0.57 s a step). (Game of
    24 alone, the shipped model's corpus: 700 steps, 8 min.)"""

    steps: int = 1600  # 1600 x 32 rows = 0.58 passes over the 88k pairs
    batch_size: int = 32
    seq_len: int = 1024  # longest example kept (BOS + prompt + response)
    lr: float = 5e-4
    warmup: int = 50
    ckpt_every: int = 100

    @classmethod
    def quick(cls) -> StageConfig:
        """A few seconds with the tiny model: for tests and `reason train --quick`."""
        return cls(
            steps=20, batch_size=8, seq_len=1024, lr=1e-3, warmup=2, ckpt_every=10, log_every=5, bucket=4,
            model=ModelConfig.tiny(), corpus=Mixture.quick(),
        )  # fmt: skip


def sft(cfg: StageConfig, init: Path, out: Path, tasks: Sequence[Task], progress: bool = True) -> Path:
    """Fine-tune the model in `init` (a pretrain output dir) on the tasks' (prompt, response) pairs
    (each sized by its part of cfg.corpus); write it to `out/` (resumable). Returns out."""
    init, out, tokenizer = checkpoint.continued(init, out, "sft", cfg.seq_len)
    enc = lambda texts: tokenizer(texts, add_special_tokens=False)["input_ids"]  # noqa: E731
    count = lambda text: len(enc([text])[0])  # noqa: E731  (tokens, as the rows below count them)
    pairs = corpus.mixture_pairs(tasks, cfg.corpus, cfg.seed, count)
    prompts, responses = enc([p for p, _ in pairs]), enc([r for _, r in pairs])
    rows = loop.examples(list(zip(prompts, responses)), cfg.seq_len, tokenizer.bos_token_id, tokenizer.pad_token_id)
    info = {
        "tasks": [t.name for t in tasks], "init": str(init), "pairs": len(pairs),
        "characters": sum(len(p) + len(r) for p, r in pairs),
    }  # fmt: skip
    return loop.train(
        cfg, out, "sft", rows, tokenizer,
        init_model=lambda: checkpoint.load_model(init),
        info=info, progress=progress,
    )  # fmt: skip
