"""Stage 4, reinforcement learning: the policy writes answers to train problems, the tasks'
verifiers reward them, and a policy gradient with a KL leash to the starting model raises the
reward.

The problems are the train problems of every task in the mixture, each task with an equal share
(a seeded sample of as many problems as the smallest task has). Each step takes `batch_size`
prompts and samples `group` completions of each from one prefill, through the same Engine that
`reason solve` uses (one engine call per task and prompt style, each with its own stop strings).
A completion's advantage is its reward minus its group's mean (the GRPO baseline, without
dividing by the group's spread, as in Dr. GRPO); a group whose completions all got the same
reward carries no signal and is skipped. The loss of a completion y is

    (-A * sum_t log pi(y_t) + kl * sum_t k3(pi, ref)_t) / max_new_tokens

with k3 = exp(r) - r - 1, r = log ref(y_t) - log pi(y_t), an unbiased, always non-negative
estimate of KL(pi || ref) (Schulman, "Approximating KL divergence"). Dividing by a constant
rather than by the completion's length keeps short and long completions alike per token. There is
one update per batch of rollouts, so the policy gradient is on-policy and needs no importance
ratio or clipping.

What the policy practises, and what holds the rest in place (so that RL helps search):

- `step_prompts` of each step's `batch_size` prompts are the `step` prompt (the chain of thought
  tree of thoughts rolls out with `value=rollout`) on a solvable state reached from a train
  problem of a task with the search role, rewarded 1 if its steps, each checked by the task,
  reach the goal; the rest are `cot` prompts of train problems, rewarded by their task's
  verifier (`task.reward(problem, text)`; for Game of 24: 1 if the answer verifies, else 0).
  Without any search state (no task with the search role) every prompt is a problem's;
- `ptx` > 0 adds InstructGPT's pretraining-mix term: `ptx` times the cross-entropy of a batch of
  SFT pairs of the styles in `ptx_styles` (propose, value, step: what tot reads), drawn from the
  same corpus mixture as the sft stage, so the prompts the policy gradient does not touch stay
  where SFT put them;
- `reward`: `verifier` (the task's check), `model` (sigmoid of a reward model's score of prompt +
  response, `reward_model` naming its directory) or `both` (their mean).

What is scored is exactly what was sampled: the prompt's token ids as the engine was given them
(BOS first where the tokenizer has one) followed by the completion's sampled token ids
(`Completion.token_ids`, the closing EOS or stop tokens included), never a re-encoding of text,
which with merged tokens (BPE, bytes) can differ from the sampled ids.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

import torch
from transformers import PreTrainedModel

from reasoning.backends.hf import HFModel
from reasoning.backends.reward import RewardModel
from reasoning.errors import BadInput
from reasoning.judgment import probability, response_input
from reasoning.protocols import Problem, Task, has_role, require
from reasoning.types import Completion, SamplingParams
from training import checkpoint, corpus, loop
from training.corpus import Mixture
from training.judgments import reaches_goal, train_states
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
    seq_len: int = 1024  # longest SFT pair kept for the ptx term
    state_problems: int | None = None  # per task: train problems whose states step prompts start from (a seeded sample); None = all
    step_prompts: int = 4  # of the batch_size prompts, this many are `step` prompts on solvable train states
    ptx: float = 1.0  # weight of the SFT cross-entropy mixed in (InstructGPT's PPO-ptx); 0 turns it off
    ptx_batch: int = 16  # SFT pairs per step for the ptx term
    ptx_styles: tuple[str, ...] = ("propose", "value", "step")  # the prompt styles the ptx term holds in place
    reward: Literal["verifier", "model", "both"] = "verifier"
    reward_model: str | None = None  # reward model directory (reward=model or both)
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
        if not 0 <= self.step_prompts <= self.batch_size or self.ptx < 0 or self.ptx_batch < 1:
            raise BadInput(f"need 0 <= step_prompts <= batch_size, ptx >= 0 and ptx_batch >= 1: {self}")
        if (self.reward == "verifier") != (self.reward_model is None):
            raise BadInput(f"reward={self.reward!r} {'needs' if self.reward != 'verifier' else 'takes no'} reward_model")

    @classmethod
    def quick(cls) -> StageConfig:
        """A few seconds with the tiny model: for tests and `reason train --quick`."""
        return cls(
            steps=4, batch_size=2, group=4, max_new_tokens=48, lr=1e-3, warmup=1, ckpt_every=2, log_every=2,
            step_prompts=1, state_problems=24, ptx_batch=4, model=ModelConfig.tiny(), corpus=Mixture.quick(),
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
StateItem = tuple[Task, Hashable]  # a search state and the task it belongs to (step prompts)


class PolicyGradient:
    """The RL step: rollouts, rewards, advantages, one update (with the ptx term when given).
    Called by loop.run as (trainee, step, lr). `problems` are the (task, problem) items cot
    prompts ask; `states` the solvable (task, state) items `step` prompts start from; `ptx` the
    SFT rows of the pretraining-mix term; `judge` the reward model (reward=model or both)."""

    def __init__(
        self, cfg: StageConfig, problems: Sequence[Item], ref: PreTrainedModel, tokenizer,
        states: Sequence[StateItem] = (), ptx: loop.Rows | None = None, judge: RewardModel | None = None,
    ) -> None:  # fmt: skip
        self.cfg, self.problems, self.tok = cfg, list(problems), tokenizer
        self.states, self.ptx, self.judge = list(states), ptx, judge
        if cfg.reward != "verifier" and judge is None:
            raise BadInput(f"reward={cfg.reward} needs a reward model")
        self.ref = ref.eval().requires_grad_(False)
        n_step = cfg.step_prompts if self.states else 0  # no search states: problems only
        n_cot = cfg.batch_size - n_step if self.problems else 0
        self.sampler = loop.Sampler([1] * len(self.problems), n_cot, cfg.seed) if n_cot else None
        self.state_sampler = loop.Sampler([1] * len(self.states), n_step, cfg.seed + 1) if n_step else None
        self.ptx_sampler = (  # length-bucketed: a batch of short value rows is not padded to a long propose row
            loop.Sampler(ptx.lengths(), cfg.ptx_batch, cfg.seed + 2, cfg.bucket) if ptx is not None and cfg.ptx > 0 else None
        )

    def _ids(self, prompts: Sequence[str]) -> list[list[int]]:
        bos = [self.tok.bos_token_id] if self.tok.bos_token_id is not None else []
        return [bos + list(ids) for ids in self.tok(list(prompts), add_special_tokens=False)["input_ids"]]

    def style(self, subject: object) -> str:
        """The prompt style of an item's subject: cfg.style for a problem, step for a state."""
        return self.cfg.style if isinstance(subject, Problem) else "step"

    def prompt_text(self, task: Task, subject: object) -> str:
        if isinstance(subject, Problem):
            return task.prompt(self.cfg.style, subject, self.cfg.k)
        return task.step_prompt(subject, self.cfg.k)  # type: ignore[attr-defined]

    def prompt_ids(self, problems: Sequence[Item]) -> list[list[int]]:
        """Token ids of each problem's prompt (in its own task's format), BOS first where the
        tokenizer has one."""
        return self._ids([self.prompt_text(task, p) for task, p in problems])

    def state_prompt_ids(self, states: Sequence[StateItem]) -> list[list[int]]:
        """Token ids of each state's step prompt (a chain of thought from the state)."""
        return self._ids([self.prompt_text(task, s) for task, s in states])

    def rollouts(
        self, policy: HFModel, items: Sequence[tuple[Task, object]], prompts: Sequence[Sequence[int]], step: int
    ) -> list[list[Completion]]:
        """`group` sampled completions of each token-id prompt, seeded by (cfg.seed, step): one
        engine call per task and prompt style in the batch, each with its stop strings."""
        seed = self.cfg.seed * 1_000_003 + step
        out: list[list[Completion]] = [[] for _ in items]
        calls: dict[tuple[str, str], list[int]] = {}
        for i, (task, subject) in enumerate(items):
            calls.setdefault((task.name, self.style(subject)), []).append(i)
        for (_, style), index in calls.items():
            task = items[index[0]][0]
            params = SamplingParams(
                temperature=self.cfg.temperature, max_new_tokens=self.cfg.max_new_tokens, stop=task.stop(style)
            )
            groups = policy.engine.generate_ids([prompts[i] for i in index], params, n=self.cfg.group, seed=seed)
            for i, group in zip(index, groups):
                out[i] = group
        return out

    def rewards(self, problems: Sequence[Item], states: Sequence[StateItem], groups: list[list[Completion]]) -> list[list[float]]:
        """Each completion's reward: the verifier's (cot: the problem's task's reward; step:
        whether the checked steps reach the goal), the reward model's (sigmoid of its score of
        prompt + response), or their mean."""
        checked = [[task.reward(p, c.text) for c in g] for (task, p), g in zip(problems, groups)]
        checked += [[float(reaches_goal(task, s, c.text)) for c in g] for (task, s), g in zip(states, groups[len(problems) :])]
        if self.cfg.reward == "verifier":
            return checked
        prompts = [self.prompt_text(task, subject) for task, subject in (*problems, *states)]
        texts = [response_input(prompt, c.text) for prompt, g in zip(prompts, groups) for c in g]
        judged = iter(probability(x) for x in self.judge.reward(texts))  # type: ignore[union-attr]
        model = [[next(judged) for _ in g] for g in groups]
        if self.cfg.reward == "model":
            return model
        return [[(a + b) / 2 for a, b in zip(x, y)] for x, y in zip(checked, model)]

    def __call__(self, t: loop.Trainee, step: int, lr: float) -> loop.StepStats:
        problems = [self.problems[i] for i in self.sampler(step)[t.rank :: t.world]] if self.sampler else []
        states = [self.states[i] for i in self.state_sampler(step)[t.rank :: t.world]] if self.state_sampler else []
        prompts = self.prompt_ids(problems) + (self.state_prompt_ids(states) if states else [])
        groups = self.rollouts(HFModel(t.model, self.tok), [*problems, *states], prompts, step)
        rewards = self.rewards(problems, states, groups)
        kept = [
            (prompt, c.token_ids, a)
            for prompt, group, advs in zip(prompts, groups, advantages(rewards))
            if any(advs)  # a group with one reward for all carries no signal
            for c, a in zip(group, advs)
            if c.token_ids
        ]
        flat = [r for group in rewards for r in group]
        generated = sum(len(c.token_ids) for group in groups for c in group)
        metrics = {"reward": sum(flat) / max(1, len(flat)), "kl": 0.0}
        if self.state_sampler:
            step_rewards = [r for g in rewards[len(problems) :] for r in g]
            metrics["reward_step"] = sum(step_rewards) / max(1, len(step_rewards))
        ptx_index = self.ptx_sampler(step)[t.rank :: t.world] if self.ptx_sampler else []
        if self.ptx_sampler:
            metrics["ptx"] = 0.0
        # the policy gradient and the ptx term: one forward and backward each (they pad differently);
        # a part with nothing to learn is a zero loss that touches the weights, so every rank runs
        # the same backwards
        zero = lambda: sum(p.sum() for p in t.net.parameters()) * 0.0  # noqa: E731
        parts = [(lambda: self._pg_loss(t, kept, metrics)) if kept else zero]
        if self.ptx_sampler:
            parts.append((lambda: self._ptx_loss(t, ptx_index, metrics)) if ptx_index else zero)
        total = 0.0
        for i, part in enumerate(parts):
            loss = part()
            total += loss.item()
            if i < len(parts) - 1:
                loss.backward()  # gradients add up; the last part's optimize steps on their sum
            else:
                loop.optimize(t.net, t.optimizer, loss, lr, self.cfg.grad_clip)
        return loop.StepStats(loss=total, tokens=generated, metrics=metrics)

    def _pg_loss(self, t: loop.Trainee, kept: list, metrics: dict[str, float]) -> torch.Tensor:
        rows = sampled_rows([(prompt, ids) for prompt, ids, _ in kept], self.tok)
        ids, _, labels = rows.batch(range(len(rows)))  # (B, T) each
        mask = (labels[:, 1:] != loop.IGNORE).float()  # (B, T-1)
        with torch.no_grad():
            ref_logp = token_logprobs(self.ref, ids, labels, t.bf16)  # (B, T-1)
        logp = token_logprobs(t.net, ids, labels, t.bf16)  # (B, T-1)
        adv = torch.tensor([a for _, _, a in kept])
        loss, kl = policy_loss(logp, ref_logp, mask, adv, self.cfg.kl, self.cfg.max_new_tokens)
        metrics["kl"] = kl.item()
        return loss

    def _ptx_loss(self, t: loop.Trainee, index: list[int], metrics: dict[str, float]) -> torch.Tensor:
        """ptx times the SFT cross-entropy (mean per target token) of the rows in `index`."""
        ids, _, labels = self.ptx.batch(index)  # type: ignore[union-attr]  # (B, T) each
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=t.bf16):
            ce = t.net(input_ids=ids, labels=labels).loss
        metrics["ptx"] = ce.item()
        return self.cfg.ptx * ce


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


def solvable_states(task: Task, problems: Sequence[Problem], per_problem: int | None = None, seed: int = 0) -> list[Hashable]:
    """The non-initial states reached from the problems (at most `per_problem` of each, a seeded
    sample) that can still reach the goal (all of them where the task cannot tell), in a fixed
    order: where `step` prompts start. [] for a task without the search and training roles."""
    if not (has_role(task, "search") and has_role(task, "training")):
        return []
    initial = {task.state_text(task.initial_state(p)) for p in problems}  # type: ignore[attr-defined]
    reached = train_states(task, problems, per_problem, seed)
    states = [s for s in reached if task.state_text(s) not in initial]  # type: ignore[attr-defined]
    solvable = getattr(task, "solvable", None)
    return [s for s in states if solvable(s)] if callable(solvable) else states


def step_states(tasks: Sequence[Task], problems: Sequence[Item], cfg: StageConfig) -> list[StateItem]:
    """Each task's solvable states reached from its share of the train problems (at most
    `state_problems` of them, a seeded sample; of each, at most the states its part of the
    corpus mixture keeps per problem: Countdown's 4-number problems reach hundreds), as
    (task, state) items."""
    if not cfg.step_prompts:
        return []
    out: list[StateItem] = []
    for task in tasks:
        if not (has_role(task, "search") and has_role(task, "training")):
            continue  # arithmetic: cot prompts only
        sources = [p for t, p in problems if t is task]
        if cfg.state_problems is not None and cfg.state_problems < len(sources):
            sources = random.Random(f"{cfg.seed}-rl-states-{task.name}").sample(sources, cfg.state_problems)
        per_problem = cfg.corpus.of(task.name).states_per_problem
        out += [(task, s) for s in solvable_states(task, sources, per_problem, cfg.seed)]
    return out


def ptx_rows(tasks: Sequence[Task], cfg: StageConfig, tokenizer) -> loop.Rows | None:
    """The SFT pairs of the ptx styles (the sft stage's corpus mixture, other styles left out;
    lengths counted in tokens as the sft stage counts them); None if no task has any."""
    zero = {f"{style}_pairs": 0 for style in corpus.STYLES if style not in cfg.ptx_styles}
    parts = tuple((name, replace(part, **zero)) for name, part in cfg.corpus.parts)
    mixture = Mixture(parts=parts)
    keep = [t for t in tasks if any(getattr(mixture.of(t.name), f"{s}_pairs") for s in cfg.ptx_styles)]
    if not keep:
        return None
    enc = lambda texts: tokenizer(texts, add_special_tokens=False)["input_ids"]  # noqa: E731
    count = lambda text: len(enc([text])[0])  # noqa: E731
    pairs = corpus.mixture_pairs(keep, mixture, cfg.seed, count)
    if not pairs:
        return None
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else (tokenizer.eos_token_id or 0)
    return loop.examples(list(zip(enc([p for p, _ in pairs]), enc([r for _, r in pairs]))), cfg.seq_len, tokenizer.bos_token_id, pad)


def rl(cfg: StageConfig, init: Path, out: Path, tasks: Sequence[Task], progress: bool = True) -> Path:
    """Improve the model in `init` (an sft output dir) by policy gradient on the tasks' train
    problems (and states reached from them); write it to `out/` (resumable). Returns out."""
    init, out, tokenizer = checkpoint.continued(init, out, "rl", cfg.seq_len)
    judge = RewardModel.load(cfg.reward_model, device="cpu") if cfg.reward_model is not None else None  # fails first
    problems = train_problems(tasks, cfg.seed)
    states = step_states(tasks, problems, cfg)
    ptx = ptx_rows(tasks, cfg, tokenizer) if cfg.ptx > 0 else None
    step = PolicyGradient(cfg, problems, checkpoint.load_model(init), tokenizer, states, ptx, judge)
    h = hashlib.sha256("\n".join(p.text for _, p in problems).encode())  # the problems rolled out,
    h.update("\n".join(task.state_text(s) for task, s in states).encode())  # the states, # type: ignore[attr-defined]
    h.update((ptx.sha256() if ptx is not None else "").encode())  # and the ptx rows trained on
    info = {
        "tasks": [t.name for t in tasks], "init": str(init), "problems": len(problems), "states": len(states),
        "ptx_rows": len(ptx) if ptx is not None else 0, "corpus_sha256": h.hexdigest(),
        **({"reward_model": judge.identity()} if judge is not None else {}),
    }  # fmt: skip
    return loop.run(cfg, out, "rl", step, tokenizer, init_model=lambda: checkpoint.load_model(init), info=info, progress=progress)
