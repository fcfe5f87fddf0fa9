"""Stage 3, reward modeling: a scalar head on the SFT model's trunk learns to judge states and
responses from outcomes (training/judgments.py), not from a prompt.

Each step takes `batch_size` points (a text and a target in [0, 1]: exact solvability, or the
policy's rollout success rate) and `pair_batch` pairs (chosen, rejected), scores each kind in
one forward pass and minimises

    BCE(score_point, target) + pair_weight * -log sigmoid(score_chosen - score_rejected)

so sigmoid(score) is the probability that a state can be solved and score differences are
Bradley-Terry log-odds between responses (InstructGPT's reward-model loss), on one scale.
The model is saved as a transformers *ForSequenceClassification (training/reward_head.py).
The texts it was trained on are kept in out/judgments.json, so a resumed run trains on the same
items without sampling them again. It learns from every task of the corpus mixture (cfg.corpus):
each task's train problems as its part of the mixture samples them.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from reasoning.backends.hf import HFModel
from reasoning.backends.reward import encode, pad_id, padded, scores
from reasoning.errors import BadInput
from reasoning.protocols import Task
from training import checkpoint, loop
from training.corpus import Mixture
from training.judgments import JudgmentConfig, Judgments, Report, build
from training.model import ModelConfig
from training.reward_head import HeadInit, from_policy

DATA = "judgments.json"


@dataclass(frozen=True)
class StageConfig(loop.StageConfig):
    """Reward-model settings (the default mixture: 6 min of judgments and 31 min of training on 2
    CPU cores with bf16, measured 2026-12-07; README, Results)."""

    steps: int = 1500
    batch_size: int = 256  # points per step (the shipped rm; the first one took 64 and ranked the same)
    pair_batch: int = 16  # pairs per step
    pair_weight: float = 1.0
    lr: float = 6e-4
    warmup: int = 50
    ckpt_every: int = 250
    head_init: HeadInit = "labels"
    data: JudgmentConfig = field(default_factory=JudgmentConfig)

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.pair_batch < 1 or self.pair_weight < 0:
            raise BadInput(f"need pair_batch >= 1 and pair_weight >= 0: {self}")

    @classmethod
    def quick(cls) -> StageConfig:
        """A few seconds with the tiny model: for tests and `reason train --quick`."""
        return cls(
            steps=12, batch_size=16, pair_batch=4, lr=1e-3, warmup=2, ckpt_every=6, log_every=3,
            model=ModelConfig.tiny(), corpus=Mixture.quick(), data=JudgmentConfig.quick(),
        )  # fmt: skip


@dataclass(frozen=True)
class Encoded:
    """The judgments as token ids: what is trained on."""

    points: tuple[tuple[int, ...], ...]
    targets: tuple[float, ...]
    pairs: tuple[tuple[tuple[int, ...], tuple[int, ...]], ...]

    def sha256(self) -> str:
        h = hashlib.sha256()
        for ids, target in zip(self.points, self.targets):
            h.update(json.dumps([ids, target]).encode())
        for chosen, rejected in self.pairs:
            h.update(json.dumps([chosen, rejected]).encode())
        return h.hexdigest()


def encoded(judgments: Judgments, tokenizer, max_len: int) -> tuple[Encoded, int]:
    """(the items whose texts fit in max_len tokens, how many were left out)."""
    ids = iter(encode(tokenizer, judgments.texts()))
    points = [(tuple(next(ids)), p.target) for p in judgments.points]
    pairs = [(tuple(next(ids)), tuple(next(ids))) for _ in judgments.pairs]
    kept_points = [(x, t) for x, t in points if len(x) <= max_len]
    kept_pairs = [(a, b) for a, b in pairs if max(len(a), len(b)) <= max_len]
    dropped = len(points) - len(kept_points) + len(pairs) - len(kept_pairs)
    if not kept_points and not kept_pairs:
        raise BadInput(f"no reward-model text fits in {max_len} tokens")
    return Encoded(tuple(x for x, _ in kept_points), tuple(t for _, t in kept_points), tuple(kept_pairs)), dropped


class RewardStep:
    """One reward-model update: a seeded batch of points and one of pairs, each kind scored in
    one forward pass (the two backwards add up before the optimizer steps)."""

    def __init__(self, cfg: StageConfig, data: Encoded, pad: int) -> None:
        self.cfg, self.data, self.pad = cfg, data, pad
        self.points = loop.Sampler([len(x) for x in data.points], cfg.batch_size, cfg.seed) if data.points else None
        self.pairs = loop.Sampler([1] * len(data.pairs), cfg.pair_batch, cfg.seed + 1) if data.pairs else None

    def __call__(self, t: loop.Trainee, step: int, lr: float) -> loop.StepStats:
        parts = []  # points and pairs: one forward and backward each (short value prompts pad little)
        if self.points:
            parts.append(self._points(t, self.points(step)[t.rank :: t.world]))
        if self.pairs:
            parts.append(self._pairs(t, self.pairs(step)[t.rank :: t.world]))
        metrics: dict[str, float] = {}
        total, tokens = 0.0, 0
        for i, part in enumerate(parts):
            loss, n, found = part()
            metrics |= found
            total, tokens = total + loss.item(), tokens + n
            if i < len(parts) - 1:
                loss.backward()  # gradients add up; the last part's optimize steps on their sum
            else:
                loop.optimize(t.net, t.optimizer, loss, lr, self.cfg.grad_clip)
        return loop.StepStats(loss=total, tokens=tokens * t.world, metrics=metrics)

    def _score(self, t: loop.Trainee, rows: list[tuple[int, ...]]) -> tuple[torch.Tensor, int]:
        ids = padded(rows, self.pad)  # (B, T)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=t.bf16):
            return scores(t.net, ids), int(ids.numel())  # (B,)

    def _points(self, t: loop.Trainee, index: list[int]):
        def part() -> tuple[torch.Tensor, int, dict[str, float]]:
            s, n = self._score(t, [self.data.points[i] for i in index])  # (P,)
            target = torch.tensor([self.data.targets[i] for i in index])  # (P,)
            bce = F.binary_cross_entropy_with_logits(s, target)
            return bce, n, {"bce": bce.item(), "point_acc": ((s > 0) == (target > 0.5)).float().mean().item()}

        return part

    def _pairs(self, t: loop.Trainee, index: list[int]):
        def part() -> tuple[torch.Tensor, int, dict[str, float]]:
            rows = [self.data.pairs[j][0] for j in index] + [self.data.pairs[j][1] for j in index]
            s, n = self._score(t, rows)  # (2Q,)
            chosen, rejected = s[: len(index)], s[len(index) :]  # (Q,) each
            bt = -F.logsigmoid(chosen - rejected).mean()
            return self.cfg.pair_weight * bt, n, {"bt": bt.item(), "pair_acc": (chosen > rejected).float().mean().item()}

        return part


def _data_key(cfg: StageConfig, init: Path, tasks: Sequence[Task]) -> dict:
    """The settings the judgments depend on, as they read back from JSON (tuples become lists)."""
    return json.loads(json.dumps({
        "tasks": [t.name for t in tasks], "init": str(Path(init).resolve()), "seed": cfg.seed, "data": asdict(cfg.data),
        "corpus": {t.name: asdict(cfg.corpus.of(t.name)) for t in tasks},
    }))  # fmt: skip


@contextmanager
def _building(enabled: bool) -> Iterator[Report | None]:
    """A bar per sampled source while judgments are built (a plain line per update when the
    output is not a terminal, as in a log file); None when disabled."""
    if not enabled:
        yield None
        return
    columns = (TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), TimeRemainingColumn())
    with Progress(*columns) as bar:
        bars: dict[str, TaskID] = {}

        def report(source: str, done: int, total: int) -> None:
            if source not in bars:
                bars[source] = bar.add_task(source, total=total)
            bar.update(bars[source], completed=done)
            if not bar.console.is_terminal:
                print(f"rm judgments: {source} {done}/{total}", flush=True)

        yield report


def judgments_for(
    cfg: StageConfig, init: Path, out: Path, tasks: Sequence[Task], progress: bool = True
) -> tuple[Judgments, float]:
    """The judgments this run trains on: read back from out/ when an earlier run of the same
    settings made them, else built (the policy in `init` samples, with a progress bar) and
    written there. Returns them and the seconds building took (0 when read back)."""
    path, key = Path(out) / DATA, _data_key(cfg, init, tasks)
    if path.is_file():
        saved = json.loads(path.read_text())
        if saved.get("key") == key:
            return Judgments.from_json(saved), 0.0
    start = time.monotonic()
    policy = HFModel.load(init, device="cpu")
    with _building(progress) as report:
        judgments = build(tasks, policy, cfg.data, cfg.seed, cfg.corpus, report)
    seconds = time.monotonic() - start
    Path(out).mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{DATA}.{os.getpid()}")
    tmp.write_text(json.dumps({"key": key, **judgments.to_json()}))
    tmp.replace(path)
    return judgments, seconds


def rm(cfg: StageConfig, init: Path, out: Path, tasks: Sequence[Task], progress: bool = True) -> Path:
    """Train a reward model from the language model in `init` (an sft output dir) on judgments of
    the tasks' train problems (each sized by its part of cfg.corpus); write it to `out/`
    (resumable). Returns out."""
    init, out, tokenizer = checkpoint.continued(init, out, "rm")
    judgments, data_seconds = judgments_for(cfg, init, out, tasks, progress)
    max_len = json.loads((init / "config.json").read_text()).get("max_position_embeddings", 1024)
    data, dropped = encoded(judgments, tokenizer, max_len)
    info = {
        "tasks": [t.name for t in tasks], "init": str(init), "points": len(data.points), "pairs": len(data.pairs),
        "sources": judgments.sources(), "dropped_too_long": dropped, "data_seconds": round(data_seconds, 3),
        "corpus_sha256": data.sha256(),
    }  # fmt: skip
    step = RewardStep(cfg, data, pad_id(tokenizer))
    return loop.run(
        cfg, out, "rm", step, tokenizer,
        init_model=lambda: from_policy(init, tokenizer, tasks, cfg.head_init),
        info=info, progress=progress,
    )  # fmt: skip
