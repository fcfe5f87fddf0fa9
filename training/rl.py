"""Stage 4, reinforcement learning: the policy writes answers to train problems, the tasks'
verifiers reward them, and a policy gradient with a KL leash to the starting model raises the
reward.

The problems are the train problems of every task in the mixture, each task with an equal share
(a seeded sample of as many problems as the smallest task has). Each step takes `batch_size` of
them and samples `group` completions of each from one prefill, through the same Engine that
`reason solve` uses. The reward is `task.reward(problem, text)` of the problem's own task (for
Game of 24: 1 if the answer verifies, else 0). A completion's advantage is its reward
minus its group's mean (the GRPO baseline, without dividing by the group's spread, as in Dr. GRPO);
a group whose completions all got the same reward carries no signal and is skipped. The loss of a
completion y is

    (-A * sum_t log pi(y_t) + kl * sum_t k3(pi, ref)_t) / max_new_tokens

with k3 = exp(r) - r - 1, r = log ref(y_t) - log pi(y_t), an unbiased, always non-negative
estimate of KL(pi || ref) (Schulman, "Approximating KL divergence"). Dividing by a constant
rather than by the completion's length keeps short and long completions alike per token. There is
one update per batch of rollouts, so the policy gradient is on-policy and needs no importance
ratio or clipping.

What is scored is exactly what was sampled: the prompt's token ids as the engine was given them
(BOS first where the tokenizer has one) followed by the completion's sampled token ids
(`Completion.token_ids`, the closing EOS or stop tokens included), never a re-encoding of text,
which with merged tokens (BPE, bytes) can differ from the sampled ids.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
from transformers import AutoTokenizer, PreTrainedModel

from reasoning.backends.hf import HFModel
from reasoning.errors import BadInput
from reasoning.protocols import Problem, Task, require
from reasoning.types import Completion, SamplingParams
from training import checkpoint, loop
from training.corpus import Mixture
from training.model import ModelConfig


@dataclass(frozen=True)
class StageConfig(loop.StageConfig):
    """RL settings. The default took 24 min 47 s on 2 CPU cores: each step samples 8 x 16
    completions and trains on the groups with mixed rewards (about 3.7 s a step). On val it took
    greedy cot from 25% to 33% (46% constrained)."""

    steps: int = 400  # 400 x 8 = 3,200 problems: about 2.8 passes over the 1,162 train problems
    batch_size: int = 8  # problems per step
    group: int = 16  # completions per problem, from one prefill
    style: str = "cot"  # the prompt style the policy answers in
    k: int = 0  # worked examples in the prompt
    temperature: float = 1.0
    max_new_tokens: int = 160
    kl: float = 0.05  # weight of the KL leash to the starting model
    lr: float = 2e-4
    min_lr: float = 1.0  # constant after warmup
    warmup: int = 10
    ckpt_every: int = 25
    log_every: int = 5

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.group < 2:
            raise BadInput(f"group must be >= 2 (the baseline is the group's mean reward), got {self.group}")
        if self.temperature <= 0 or self.max_new_tokens < 1 or self.kl < 0:
            raise BadInput(f"need temperature > 0, max_new_tokens >= 1 and kl >= 0: {self}")

    @classmethod
    def quick(cls) -> StageConfig:
        """A few seconds with the tiny model: for tests and `reason train --quick`."""
        return cls(
            steps=4, batch_size=2, group=4, max_new_tokens=48, lr=1e-3, warmup=1, ckpt_every=2, log_every=2,
            model=ModelConfig.tiny(), corpus=Mixture.quick(),
        )  # fmt: skip


def advantages(rewards: Sequence[Sequence[float]]) -> list[list[float]]:
    """Per group of completions of one problem: each reward minus the group's mean."""
    return [[r - sum(group) / len(group) for r in group] for group in rewards]


def token_logprobs(net: torch.nn.Module, ids: torch.Tensor, labels: torch.Tensor, bf16: bool) -> torch.Tensor:
    """log p(token) of every target token (labels != IGNORE), 0 elsewhere: (B, T-1)."""
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        logits = net(input_ids=ids).logits  # (B, T, V)
    logp = torch.log_softmax(logits[:, :-1].float(), dim=-1)  # (B, T-1, V)
    targets = labels[:, 1:]  # (B, T-1)
    mask = targets != loop.IGNORE
    picked = logp.gather(-1, targets.clamp(min=0).unsqueeze(-1)).squeeze(-1)  # (B, T-1)
    return picked * mask


def policy_loss(
    logp: torch.Tensor, ref_logp: torch.Tensor, mask: torch.Tensor, adv: torch.Tensor, kl: float, norm: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """(loss, mean KL per target token). logp, ref_logp, mask: (B, T-1); adv: (B,)."""
    r = (ref_logp - logp) * mask  # (B, T-1)
    k3 = (torch.exp(r) - r - 1) * mask  # (B, T-1), >= 0
    per_row = -adv * logp.sum(-1) + kl * k3.sum(-1)  # (B,)
    return per_row.sum() / (len(adv) * norm), k3.sum() / mask.sum().clamp(min=1)


def sampled_rows(pairs: Sequence[tuple[Sequence[int], Sequence[int]]], tokenizer) -> loop.Rows:
    """Training rows of (prompt ids, sampled ids) pairs, used as they are: loss on the sampled ids."""
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else (tokenizer.eos_token_id or 0)
    ids, mask = [], []
    for prompt, sampled in pairs:
        ids.append(torch.tensor([*prompt, *sampled], dtype=torch.long))  # (T,)
        m = torch.zeros(len(prompt) + len(sampled), dtype=torch.bool)
        m[len(prompt) :] = True
        mask.append(m)
    return loop.Rows(ids=tuple(ids), mask=tuple(mask), pad_id=pad)


Item = tuple[Task, Problem]  # a problem and the task it belongs to


class PolicyGradient:
    """The RL step: rollouts, rewards, advantages, one update. Called by loop.run as (trainee, step, lr)."""

    def __init__(self, cfg: StageConfig, problems: Sequence[Item], ref: PreTrainedModel, tokenizer) -> None:
        self.cfg, self.problems, self.tok = cfg, list(problems), tokenizer
        self.ref = ref.eval().requires_grad_(False)
        self.sampler = loop.Sampler([1] * len(self.problems), cfg.batch_size, cfg.seed)

    def prompt_ids(self, problems: Sequence[Item]) -> list[list[int]]:
        """Token ids of each problem's prompt (in its own task's format), BOS first where the
        tokenizer has one."""
        prompts = [task.prompt(self.cfg.style, p, self.cfg.k) for task, p in problems]
        bos = [self.tok.bos_token_id] if self.tok.bos_token_id is not None else []
        return [bos + list(ids) for ids in self.tok(prompts, add_special_tokens=False)["input_ids"]]

    def rollouts(
        self, policy: HFModel, problems: Sequence[Item], prompts: Sequence[Sequence[int]], step: int
    ) -> list[list[Completion]]:
        """`group` sampled completions of each token-id prompt, seeded by (cfg.seed, step): one
        engine call per task in the batch, each with its task's stop strings."""
        seed = self.cfg.seed * 1_000_003 + step
        out: list[list[Completion]] = [[] for _ in problems]
        by_task: dict[str, list[int]] = {}
        for i, (task, _) in enumerate(problems):
            by_task.setdefault(task.name, []).append(i)
        for index in by_task.values():
            task = problems[index[0]][0]
            params = SamplingParams(
                temperature=self.cfg.temperature, max_new_tokens=self.cfg.max_new_tokens, stop=task.stop(self.cfg.style)
            )
            groups = policy.engine.generate_ids([prompts[i] for i in index], params, n=self.cfg.group, seed=seed)
            for i, group in zip(index, groups):
                out[i] = group
        return out

    def __call__(self, t: loop.Trainee, step: int, lr: float) -> loop.StepStats:
        problems = [self.problems[i] for i in self.sampler(step)[t.rank :: t.world]]
        prompts = self.prompt_ids(problems)
        groups = self.rollouts(HFModel(t.model, self.tok), problems, prompts, step)
        rewards = [[task.reward(p, c.text) for c in group] for (task, p), group in zip(problems, groups)]
        kept = [
            (prompt, c.token_ids, a)
            for prompt, group, advs in zip(prompts, groups, advantages(rewards))
            if any(advs)  # a group with one reward for all carries no signal
            for c, a in zip(group, advs)
            if c.token_ids
        ]
        flat = [r for group in rewards for r in group]
        generated = sum(len(c.token_ids) for group in groups for c in group)
        metrics = {"reward": sum(flat) / len(flat), "kl": 0.0}
        if not kept:  # keep every rank's backward in step: a zero loss that touches the weights
            loss = sum(p.sum() for p in t.net.parameters()) * 0.0
            loop.optimize(t.net, t.optimizer, loss, lr, self.cfg.grad_clip)
            return loop.StepStats(loss=0.0, tokens=generated, metrics=metrics)
        rows = sampled_rows([(prompt, ids) for prompt, ids, _ in kept], self.tok)
        adv = [a for _, _, a in kept]
        ids, _, labels = rows.batch(range(len(rows)))  # (B, T) each
        mask = (labels[:, 1:] != loop.IGNORE).float()  # (B, T-1)
        with torch.no_grad():
            ref_logp = token_logprobs(self.ref, ids, labels, t.bf16)  # (B, T-1)
        logp = token_logprobs(t.net, ids, labels, t.bf16)  # (B, T-1)
        loss, kl = policy_loss(logp, ref_logp, mask, torch.tensor(adv), self.cfg.kl, self.cfg.max_new_tokens)
        loop.optimize(t.net, t.optimizer, loss, lr, self.cfg.grad_clip)
        return loop.StepStats(loss=loss.item(), tokens=generated, metrics={**metrics, "kl": kl.item()})


def train_problems(tasks: Sequence[Task], seed: int) -> list[Item]:
    """Every task's share of train problems: as many as the smallest task has (a seeded sample)."""
    for task in tasks:
        require(task, "reason train rl", "answering")
    splits = [task.problems("train") for task in tasks]
    n = min(map(len, splits))
    if n == 0:
        raise BadInput("every task needs train problems for RL")
    rng = random.Random(f"{seed}-rl")
    return [(task, p) for task, ps in zip(tasks, splits) for p in (ps if len(ps) == n else rng.sample(ps, n))]


def rl(cfg: StageConfig, init: Path, out: Path, tasks: Sequence[Task], progress: bool = True) -> Path:
    """Improve the model in `init` (an sft output dir) by policy gradient on the tasks' train
    problems; write it to `out/` (resumable). Returns out."""
    init, out = checkpoint.init_dirs(init, out, "rl")
    tokenizer = AutoTokenizer.from_pretrained(init)
    problems = train_problems(tasks, cfg.seed)
    step = PolicyGradient(cfg, problems, checkpoint.load_model(init), tokenizer)
    corpus = hashlib.sha256("\n".join(p.text for _, p in problems).encode()).hexdigest()  # the problems rolled out
    info = {"tasks": [t.name for t in tasks], "init": str(init), "problems": len(problems), "corpus_sha256": corpus}
    return loop.run(cfg, out, "rl", step, tokenizer, init_model=lambda: checkpoint.load_model(init), info=info, progress=progress)
