"""The one training loop every stage uses.

`run` owns everything around a step; a stage supplies the step itself: `supervised(rows)` for
pretrain and sft (cross-entropy on the rows' targets), a rollout-and-policy-gradient step for rl.
AdamW with linear warmup and cosine decay, gradient clipping, optional bf16 autocast on CPUs
that support it, a rich progress bar, atomic checkpoints every `ckpt_every` steps and at the end,
and resume from the newest checkpoint when re-run on the same out dir. A step's data is a pure
function of (seed, step), so a resumed run sees the batches an uninterrupted run would.

Under torchrun (WORLD_SIZE > 1) it joins a gloo process group, wraps the model in
DistributedDataParallel and each rank trains on its slice of every batch; only rank 0 writes.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import random
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from reasoning.errors import BadInput
from training import checkpoint
from training.corpus import Mixture
from training.model import ModelConfig

IGNORE = -100  # label of a position that takes no loss


@dataclass(frozen=True)
class StageConfig:
    """Settings of one training stage. Each stage module subclasses this with its own defaults."""

    steps: int = 1000
    batch_size: int = 16  # rows per step, summed over all ranks
    seq_len: int = 512  # pretrain: packed row length; sft: longest example kept
    lr: float = 1e-3
    min_lr: float = 0.1  # final lr, as a fraction of lr (cosine decay)
    warmup: int = 100
    weight_decay: float = 0.1
    grad_clip: float = 1.0
    seed: int = 0
    ckpt_every: int = 200
    bucket: int = 50  # sort each run of bucket*batch_size rows by length (sft: less padding)
    bf16: bool = True  # bf16 autocast where the CPU supports it (weights stay float32)
    log_every: int = 10  # steps between loss-history entries in train_log.json
    model: ModelConfig = field(default_factory=ModelConfig)  # pretrain builds it; sft takes init's
    corpus: Mixture = field(default_factory=Mixture)  # the tasks trained on and each one's share

    def __post_init__(self) -> None:
        if min(self.steps, self.batch_size, self.seq_len, self.ckpt_every, self.bucket, self.log_every) < 1:
            raise BadInput(f"steps, batch_size, seq_len, ckpt_every, bucket and log_every must be >= 1: {self}")
        if self.lr <= 0 or self.warmup < 0 or not 0 <= self.min_lr <= 1:
            raise BadInput(f"need lr > 0, warmup >= 0 and 0 <= min_lr <= 1: {self}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Rows:
    """Training rows: token ids and a loss mask per row (True where that token is a target)."""

    ids: tuple[torch.Tensor, ...]  # each (T_i,) int64
    mask: tuple[torch.Tensor, ...]  # each (T_i,) bool
    pad_id: int

    def __len__(self) -> int:
        return len(self.ids)

    def lengths(self) -> list[int]:
        return [len(x) for x in self.ids]

    def sha256(self) -> str:
        """A fingerprint of exactly what is trained on: every row's token ids and loss mask."""
        h = hashlib.sha256()
        for ids, mask in zip(self.ids, self.mask):
            h.update(ids.numpy().tobytes())
            h.update(mask.numpy().tobytes())
        return h.hexdigest()

    def batch(self, index: Sequence[int], multiple: int = 32) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(input_ids, attention_mask, labels), each (B, T), rows left-aligned; T is the longest
        row rounded up to a multiple (few distinct shapes keep the CPU kernels' caches warm)."""
        T = -(-max(len(self.ids[i]) for i in index) // multiple) * multiple
        ids = torch.full((len(index), T), self.pad_id, dtype=torch.long)  # (B, T)
        attn = torch.zeros((len(index), T), dtype=torch.long)  # (B, T)
        labels = torch.full((len(index), T), IGNORE, dtype=torch.long)  # (B, T)
        for b, i in enumerate(index):
            n = len(self.ids[i])
            ids[b, :n] = self.ids[i]
            attn[b, :n] = 1
            labels[b, :n] = torch.where(self.mask[i], self.ids[i], IGNORE)
        return ids, attn, labels


def packed(seqs: Sequence[Sequence[int]], seq_len: int, bos_id: int, pad_id: int) -> Rows:
    """Pretraining rows: BOS + document, all documents concatenated and cut into seq_len rows
    (the last one shorter). Every token is a target."""
    stream = torch.tensor([t for s in seqs for t in (bos_id, *s)], dtype=torch.long)  # (N,)
    if len(stream) == 0:
        raise BadInput("no training text")
    ids = tuple(stream[i : i + seq_len] for i in range(0, len(stream), seq_len))
    mask = tuple(torch.ones(len(x), dtype=torch.bool) for x in ids)
    return Rows(ids=ids, mask=mask, pad_id=pad_id)


def examples(pairs: Sequence[tuple[Sequence[int], Sequence[int]]], seq_len: int, bos_id: int, pad_id: int) -> Rows:
    """SFT rows: BOS + prompt + response, one example per row, loss on the response tokens only.
    Examples longer than seq_len are left out."""
    ids, mask = [], []
    for prompt, response in pairs:
        n = 1 + len(prompt) + len(response)
        if n > seq_len or not response:
            continue
        ids.append(torch.tensor([bos_id, *prompt, *response], dtype=torch.long))  # (T,)
        m = torch.zeros(n, dtype=torch.bool)
        m[n - len(response) :] = True
        mask.append(m)
    if not ids:
        raise BadInput(f"no example fits in seq_len={seq_len}")
    return Rows(ids=tuple(ids), mask=tuple(mask), pad_id=pad_id)


class Sampler:
    """Row indices of each step: shuffled epochs (seeded per epoch), optionally length-bucketed."""

    def __init__(self, lengths: Sequence[int], batch_size: int, seed: int, bucket: int = 1) -> None:
        self.lengths = list(lengths)
        self.batch_size = min(batch_size, len(self.lengths))
        self.per_epoch = len(self.lengths) // self.batch_size  # batches per epoch (drop the rest)
        self.seed, self.bucket = seed, bucket
        self._epoch: tuple[int, list[list[int]]] | None = None

    def _batches(self, epoch: int) -> list[list[int]]:
        g = torch.Generator().manual_seed(self.seed * 1_000_003 + epoch)
        order = torch.randperm(len(self.lengths), generator=g).tolist()
        B, span = self.batch_size, self.batch_size * self.bucket
        if self.bucket > 1:  # sort runs of `span` rows by length so batches pad little
            runs = [sorted(order[s : s + span], key=self.lengths.__getitem__) for s in range(0, len(order), span)]
            order = [i for run in runs for i in run]
        batches = [order[b * B : (b + 1) * B] for b in range(self.per_epoch)]
        return [batches[i] for i in torch.randperm(len(batches), generator=g).tolist()]

    def __call__(self, step: int) -> list[int]:
        epoch, i = divmod(step, self.per_epoch)
        if self._epoch is None or self._epoch[0] != epoch:
            self._epoch = (epoch, self._batches(epoch))
        return self._epoch[1][i]


def lr_at(step: int, cfg: StageConfig) -> float:
    """Linear warmup to cfg.lr, then cosine decay to cfg.lr * cfg.min_lr at cfg.steps."""
    if step < cfg.warmup:
        return cfg.lr * (step + 1) / cfg.warmup
    progress = min(1.0, (step - cfg.warmup) / max(1, cfg.steps - cfg.warmup))
    return cfg.lr * (cfg.min_lr + (1 - cfg.min_lr) * 0.5 * (1 + math.cos(math.pi * progress)))


def optimize(net: torch.nn.Module, optimizer: torch.optim.Optimizer, loss: torch.Tensor, lr: float, grad_clip: float) -> None:
    """Backward, clip, one optimizer step at learning rate `lr`."""
    for group in optimizer.param_groups:
        group["lr"] = lr
    loss.backward()
    torch.nn.utils.clip_grad_norm_(net.parameters(), grad_clip)
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)


def train_step(
    net: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    batch: tuple[torch.Tensor, torch.Tensor, torch.Tensor],
    lr: float,
    grad_clip: float,
    bf16: bool,
) -> torch.Tensor:
    """One optimizer step on (input_ids, attention_mask, labels); returns the (detached) loss."""
    ids, attn, labels = batch  # (B, T) each
    # rows are left-aligned, so under the causal mask no real token sees a pad: no attention
    # mask is needed (and without one attention takes the fast causal path)
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        loss = net(input_ids=ids, labels=labels).loss
    optimize(net, optimizer, loss, lr, grad_clip)
    return loss.detach()


def make_optimizer(model: torch.nn.Module, cfg: StageConfig) -> torch.optim.Optimizer:
    """AdamW; no weight decay on gains (1-d parameters)."""
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    groups = [{"params": decay, "weight_decay": cfg.weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=cfg.lr, betas=(0.9, 0.95))


def bf16_ok(cfg: StageConfig) -> bool:
    """Whether to train under bf16 autocast: asked for, and the CPU has native bf16."""
    try:
        return cfg.bf16 and bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


def _distributed() -> tuple[int, int, bool]:
    """(rank, world size, whether this call started the process group)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return 0, 1, False
    started = not dist.is_initialized()
    if started:
        dist.init_process_group("gloo")
    return dist.get_rank(), dist.get_world_size(), started


def _progress(enabled: bool) -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("step {task.completed:.0f}/{task.total:.0f}"),
        TextColumn("loss {task.fields[loss]:.4f}"),
        TextColumn("{task.fields[metrics]}"),
        TextColumn("{task.fields[tps]:,.0f} tok/s"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        disable=not enabled,
    )


@dataclass(frozen=True)
class Trainee:
    """What one training step works on."""

    model: PreTrainedModel  # the model itself (e.g. to sample rollouts from)
    net: torch.nn.Module  # the model or its DistributedDataParallel wrapper (for the loss)
    optimizer: torch.optim.Optimizer
    rank: int
    world: int
    bf16: bool  # whether to run the forward pass under bf16 autocast


@dataclass(frozen=True)
class StepStats:
    """What one step reports: its loss, the tokens it processed (for tok/s), other metrics."""

    loss: float
    tokens: int
    metrics: Mapping[str, float] = field(default_factory=dict)


Step = Callable[[Trainee, int, float], StepStats]  # (trainee, step, lr) -> stats; does the update


def supervised(rows: Rows, cfg: StageConfig) -> Step:
    """The step of the supervised stages: a seeded batch of rows, cross-entropy on the targets."""
    sampler = Sampler(rows.lengths(), cfg.batch_size, cfg.seed, cfg.bucket)  # packed rows: bucketing is a no-op
    lengths = rows.lengths()

    def step(t: Trainee, i: int, lr: float) -> StepStats:
        index = sampler(i)  # the global batch
        batch = rows.batch(index[t.rank :: t.world])  # (B/world, T) each
        loss = train_step(t.net, t.optimizer, batch, lr, cfg.grad_clip, t.bf16)
        return StepStats(loss=loss.item(), tokens=sum(lengths[j] for j in index))

    return step


def source_commit() -> str:
    """The git commit of the code that is training (with `+dirty` when it has uncommitted
    changes), or "unknown" outside a git checkout."""
    root = Path(__file__).resolve().parent.parent
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                               capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")


def train(
    cfg: StageConfig,
    out: Path,
    stage: str,
    rows: Rows,
    tokenizer: PreTrainedTokenizerBase,
    init_model: Callable[[], PreTrainedModel],
    info: dict[str, Any] | None = None,
    progress: bool = True,
) -> Path:
    """Train on `rows` (cross-entropy) to cfg.steps; see `run`."""
    info = {"rows": len(rows), "corpus_sha256": rows.sha256(), **(info or {})}
    return run(cfg, out, stage, supervised(rows, cfg), tokenizer, init_model, info, progress)


def run(
    cfg: StageConfig,
    out: Path,
    stage: str,
    step_fn: Step,
    tokenizer: PreTrainedTokenizerBase,
    init_model: Callable[[], PreTrainedModel],
    info: dict[str, Any] | None = None,
    progress: bool = True,
) -> Path:
    """Run `step_fn` to cfg.steps, resuming from out/'s newest checkpoint if there is one; publish
    the final model, tokenizer and train_log.json into out/. Returns out."""
    out = Path(out)
    rank, world, started = _distributed()
    torch.set_num_threads(max(1, (os.cpu_count() or 1) // world))
    run_config = {"stage": stage, **cfg.to_dict()}

    ckpt = checkpoint.latest(out)
    if ckpt is not None:
        if ckpt.config.get("stage") != stage or ckpt.config.get("model") != run_config["model"]:
            raise BadInput(
                f"{out} holds a checkpoint of another run (stage {ckpt.config.get('stage')!r}, "
                f"model {ckpt.config.get('model')}): use a new out dir or delete it"
            )
        model = ckpt.model()
    else:
        model = init_model()
    model.train()
    optimizer = make_optimizer(model, cfg)
    state: dict[str, Any] = {"step": 0, "tokens": 0, "seconds": 0.0, "history": []}
    if ckpt is not None:
        optimizer.load_state_dict(ckpt.optimizer_state())
        state = {**state, **ckpt.state}
        rng = ckpt.rng_state()
        if "torch" in rng:
            torch.set_rng_state(rng["torch"])
        if "python" in rng:
            random.setstate(rng["python"])
    start, base_seconds = int(state["step"]), float(state["seconds"])
    resumed_from = start if ckpt is not None else None

    net: torch.nn.Module = model
    if world > 1:
        net = torch.nn.parallel.DistributedDataParallel(model)
    trainee = Trainee(model=model, net=net, optimizer=optimizer, rank=rank, world=world, bf16=bf16_ok(cfg))

    def save(step: int) -> None:
        if rank == 0:
            rng = {"torch": torch.get_rng_state(), "python": random.getstate()}
            checkpoint.save(out, step, model, tokenizer, optimizer, state, run_config, rng)
        if world > 1:
            dist.barrier()

    t0, run_tokens, recent = time.monotonic(), 0, []
    with _progress(progress and rank == 0) as bar:
        task = bar.add_task(stage, total=cfg.steps, completed=start, loss=float("nan"), tps=0.0, metrics="")
        for step in range(start, cfg.steps):
            stats = step_fn(trainee, step, lr_at(step, cfg))
            run_tokens += stats.tokens
            state["tokens"] += stats.tokens
            state["step"] = step + 1
            recent = (recent + [stats])[-cfg.log_every :]
            if (step + 1) % cfg.log_every == 0 or step + 1 == cfg.steps:
                state["history"].append([step + 1, sum(s.loss for s in recent) / len(recent)])
                if stats.metrics:
                    means = {k: sum(s.metrics[k] for s in recent) / len(recent) for k in stats.metrics}
                    state.setdefault("metric_history", []).append([step + 1, means])
            elapsed = time.monotonic() - t0
            shown = "  ".join(f"{k} {v:.3f}" for k, v in stats.metrics.items())
            bar.update(task, completed=step + 1, loss=stats.loss, tps=run_tokens / max(elapsed, 1e-9), metrics=shown)
            if progress and rank == 0 and not bar.console.is_terminal and (step + 1) % (10 * cfg.log_every) == 0:
                # no live bar in a log file or CI: a plain line now and then instead
                print(f"{stage} step {step + 1}/{cfg.steps} loss {stats.loss:.4f} {shown} "
                      f"{run_tokens / max(elapsed, 1e-9):,.0f} tok/s {elapsed:.0f}s", flush=True)
            if (step + 1) % cfg.ckpt_every == 0 and step + 1 < cfg.steps:
                state["seconds"] = base_seconds + elapsed
                save(step + 1)

    run_seconds = time.monotonic() - t0
    state["seconds"] = base_seconds + run_seconds
    if resumed_from is None or resumed_from < cfg.steps:
        save(int(state["step"]))
    log = {
        "stage": stage,
        "config": run_config,
        "steps": int(state["step"]),
        "resumed_from": resumed_from,
        "final_loss": state["history"][-1][1] if state["history"] else None,
        "loss_history": state["history"],
        **({"metric_history": state["metric_history"]} if "metric_history" in state else {}),
        "tokens_seen": int(state["tokens"]),
        "wall_seconds": round(float(state["seconds"]), 3),
        "tokens_per_second": round(run_tokens / run_seconds, 1) if run_tokens else None,
        "params": sum(p.numel() for p in model.parameters()),
        "bf16": trainee.bf16,
        "world_size": world,
        "commit": source_commit(),
        **(info or {}),
    }
    if info and info.get("init") and (Path(info["init"]) / "train_log.json").is_file():
        # the earlier stages' logs travel with the model: a shipped checkpoint carries them all
        log["init_log"] = json.loads((Path(info["init"]) / "train_log.json").read_text())
    if rank == 0:
        model.eval()
        checkpoint.publish(out, model, tokenizer, {"train_log.json": log})
    if world > 1:
        dist.barrier()
        if started:
            dist.destroy_process_group()
    return out
