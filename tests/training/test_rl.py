import json
from dataclasses import replace

import pytest
import torch

from transformers import AutoTokenizer

from reasoning.backends.hf import HFModel
from reasoning.errors import BadInput, ModelNotFound
from tasks import Arithmetic, Countdown
from tasks.game24 import Game24
from training import checkpoint, loop, rl
from training.model import ModelConfig, build_model
from training.tokenizer import build_tokenizer


def test_advantages_subtract_the_group_mean():
    assert rl.advantages([[1, 0, 0, 1], [0, 0], [1, 1, 1, 0]]) == [[0.5, -0.5, -0.5, 0.5], [0, 0], [0.25, 0.25, 0.25, -0.75]]


def test_policy_loss_kl_is_zero_at_the_reference_and_grows_away_from_it():
    logp = torch.tensor([[-1.0, -2.0, 0.0], [-0.5, 0.0, 0.0]])  # (B=2, T-1=3)
    mask = torch.tensor([[1.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
    adv = torch.tensor([1.0, -1.0])
    loss, kl = rl.policy_loss(logp, logp.clone(), mask, adv, kl=0.1, norm=10)
    assert kl.item() == 0.0
    assert loss.item() == pytest.approx((-(1.0 * -3.0) + (1.0 * -0.5)) / (2 * 10))
    _, kl_away = rl.policy_loss(logp, logp - 0.5, mask, adv, kl=0.1, norm=10)
    assert kl_away.item() > 0


class PlusTask(Game24):
    """Game of 24's prompts with a toy reward a random tiny model earns about half the time."""

    def reward(self, problem, text):
        return 1.0 if text.count("+") % 2 == 0 else 0.0


def test_one_update_raises_rewarded_completions_over_unrewarded(tmp_path):
    """A real tiny model, a real rollout and update: sequences with a positive advantage gain
    log-probability relative to those with a negative one."""
    tok = build_tokenizer()
    model = build_model(ModelConfig.tiny(), len(tok), seed=0, tokenizer=tok)
    task = PlusTask()
    cfg = replace(rl.StageConfig.quick(), batch_size=2, group=8, max_new_tokens=24, lr=3e-3, kl=0.0, warmup=0)
    items = [(task, p) for p in task.problems("train")[:4]]
    step = rl.PolicyGradient(cfg, items, build_model(ModelConfig.tiny(), len(tok), 0, tok), tok)
    batch = [step.problems[i] for i in step.sampler(0)]
    problems = [p for _, p in batch]
    groups = step.rollouts(HFModel(model, tok), batch, step.prompt_ids(batch), 0)
    texts = [[c.text for c in g] for g in groups]
    advs = rl.advantages([[task.reward(p, x) for x in g] for p, g in zip(problems, texts)])
    assert any(a > 0 for g in advs for a in g) and any(a < 0 for g in advs for a in g)

    def logps():
        prompts = [task.prompt("cot", p, 0) for p, g in zip(problems, texts) for _ in g]
        return HFModel(model, tok).score(prompts, [x for g in texts for x in g])

    before = logps()
    optimizer = loop.make_optimizer(model, cfg)
    trainee = loop.Trainee(model=model, net=model, optimizer=optimizer, rank=0, world=1, bf16=False)
    stats = step(trainee, 0, cfg.lr)
    assert stats.tokens > 0 and 0 < stats.metrics["reward"] < 1
    delta = [b - a for a, b in zip(before, logps())]
    flat = [a for g in advs for a in g]
    up = [d for d, a in zip(delta, flat) if a > 0]
    down = [d for d, a in zip(delta, flat) if a < 0]
    assert sum(up) / len(up) > sum(down) / len(down) + 0.1


def test_quick_rl_stage_publishes_and_resumes(tiny_model, tmp_path):
    out = tmp_path / "rl"
    cfg = replace(rl.StageConfig.quick(), steps=2, ckpt_every=2)
    rl.rl(cfg, tiny_model.parent / "sft", out, [PlusTask()], progress=False)
    log = json.loads((out / "train_log.json").read_text())
    assert log["stage"] == "rl" and log["steps"] == 2 and log["problems"] == len(Game24().problems("train"))
    assert [s for s, _ in log["metric_history"]] == [2] and "reward" in log["metric_history"][0][1]
    rl.rl(replace(cfg, steps=4), tiny_model.parent / "sft", out, [PlusTask()], progress=False)
    log = json.loads((out / "train_log.json").read_text())
    assert log["resumed_from"] == 2 and log["steps"] == 4 and checkpoint.latest(out).step == 4
    HFModel.load(out)


def test_rl_needs_a_finished_init_and_a_real_group(tmp_path):
    with pytest.raises(ModelNotFound, match="does not exist"):
        rl.rl(rl.StageConfig.quick(), tmp_path / "nope", tmp_path / "rl", [Game24()])
    with pytest.raises(BadInput, match="group must be >= 2"):
        rl.StageConfig(group=1)


def test_rl_rolls_out_train_problems_only(tiny_model, tmp_path, monkeypatch):
    """Split hygiene for RL: only train problems are asked for, and only they and states reached
    from them are rolled out."""
    asked, seen, states = [], [], []

    class Recording(PlusTask):
        def problems(self, split):
            asked.append(split)
            return super().problems(split)

    class Spy(rl.PolicyGradient):
        def prompt_ids(self, problems):
            seen.extend(p.text for _, p in problems)
            return super().prompt_ids(problems)

        def state_prompt_ids(self, chosen):
            states.extend(task.state_text(s) for task, s in chosen)
            return super().state_prompt_ids(chosen)

    monkeypatch.setattr(rl, "PolicyGradient", Spy)
    rl.rl(replace(rl.StageConfig.quick(), steps=3), tiny_model.parent / "sft", tmp_path / "rl", [Recording()], progress=False)
    task = Game24()
    held_out = {p.text for split in ("val", "test") for p in task.problems(split)}
    assert set(asked) == {"train"} and len(seen) == 3 * 1 and len(states) == 3 * 1  # quick: 1 cot + 1 step prompt a step
    assert set(seen) <= {p.text for p in task.problems("train")} and not set(seen) & held_out
    reachable = {task.state_text(s) for p in task.problems("train") for s in task.training_states(p)}
    assert set(states) <= reachable and all(len(s.split()) < 4 for s in states)


def test_step_rewards_are_checked_chains_and_the_model_reward_is_the_judges(tiny_model):
    """A step prompt's completion earns 1 only if its steps, checked by the task, reach 24; with
    reward=model each completion earns sigmoid of the reward model's score of prompt + response."""
    from reasoning.backends.reward import RewardModel
    from reasoning.judgment import probability
    from reasoning.types import Completion

    tok = AutoTokenizer.from_pretrained(tiny_model)
    task = Game24()
    state = task.expand(task.expand(task.initial_state(task.parse_problem("4 9 10 13")), "13 - 9 = 4 (left: 4 4 10)"), "10 - 4 = 6 (left: 4 6)")
    texts = ["4 * 6 = 24 (left: 24)\nAnswer: 4 * 6 = 24\n\n", "4 + 6 = 10 (left: 10)\n\n", "4 * 6 = 25 (left: 25)\n\n"]
    group = [[Completion(t, len(t), 0.0, "stop") for t in texts]]
    ref = checkpoint.load_model(tiny_model)
    item = (task, state)
    step = rl.PolicyGradient(replace(rl.StageConfig.quick()), [], ref, tok, states=[item])
    assert step.rewards([], [item], group) == [[1.0, 0.0, 0.0]]
    judge = RewardModel.load(tiny_model.parent / "rm")
    cfg = replace(rl.StageConfig.quick(), reward="model", reward_model=str(tiny_model.parent / "rm"))
    step = rl.PolicyGradient(cfg, [], ref, tok, states=[item], judge=judge)
    expected = [probability(x) for x in judge.reward([task.step_prompt(state) + t for t in texts])]
    assert step.rewards([], [item], group) == [pytest.approx(expected)]
    both = rl.PolicyGradient(replace(cfg, reward="both"), [], ref, tok, states=[item], judge=judge)
    assert both.rewards([], [item], group) == [pytest.approx([(a + b) / 2 for a, b in zip([1, 0, 0], expected)])]
    with pytest.raises(BadInput, match="reward='model' needs reward_model"):
        rl.StageConfig(reward="model")


class NoReward(Game24):
    def reward(self, problem, text):
        return 0.0


def test_the_ptx_term_holds_the_other_styles_with_sft_pairs(tiny_model):
    """ptx rows are SFT pairs of the propose, value and step styles only, and one update with
    nothing to learn from the rollouts (one reward for all) lowers their cross-entropy."""
    tok = AutoTokenizer.from_pretrained(tiny_model)
    task = NoReward()
    cfg = replace(rl.StageConfig.quick(), step_prompts=0, ptx=1.0, ptx_batch=8, kl=0.0, lr=1e-4, warmup=0)
    rows = rl.ptx_rows([task], cfg, tok)
    lasts = [tok.decode(ids[~mask].tolist()).rsplit("Input: ", 1)[-1].rsplit("Numbers: ", 1)[-1] for ids, mask in zip(rows.ids, rows.mask)]
    kinds = {"propose" if t.endswith("Possible next steps:\n") else "value" if t.endswith("Can reach 24: ")
             else "step" if t.endswith("Steps:\n") and len(t.split("\n")[0].split()) < 4 else "other" for t in lasts}
    assert kinds == {"propose", "value", "step"}
    model = checkpoint.load_model(tiny_model)
    step = rl.PolicyGradient(cfg, [(task, p) for p in task.problems("train")[:4]], checkpoint.load_model(tiny_model), tok, ptx=rows)
    index = step.ptx_sampler(0)

    def ce():
        ids, _, labels = rows.batch(index)
        with torch.no_grad():
            return model(input_ids=ids, labels=labels).loss.item()

    before = ce()
    trainee = loop.Trainee(model=model, net=model, optimizer=loop.make_optimizer(model, cfg), rank=0, world=1, bf16=False)
    stats = step(trainee, 0, cfg.lr)
    assert stats.metrics["reward"] == 0.0 and stats.metrics["ptx"] == pytest.approx(before, rel=1e-4)
    assert ce() < before - 0.005


def test_rl_over_the_mixture_takes_states_and_ptx_rows_from_the_tasks_that_have_them(tiny_model):
    """Step prompts start from the number games' train states (arithmetic has no search role),
    ptx rows come from their state styles, and one step rolls out every task's prompts with its
    own stop strings."""
    tok = AutoTokenizer.from_pretrained(tiny_model)
    tasks = [Game24(), Countdown(), Arithmetic()]
    cfg = replace(rl.StageConfig.quick(), batch_size=6, step_prompts=2, group=2, max_new_tokens=16)
    problems = rl.train_problems(tasks, cfg.seed)
    assert {t.name for t, _ in problems} == {"game24", "countdown", "arithmetic"}
    states = rl.step_states(tasks, problems, cfg)
    assert {t.name for t, _ in states} == {"game24", "countdown"}
    countdown = Countdown()
    held_out = {p.text for s in ("val", "test") for p in countdown.problems(s)}
    texts = [t.state_text(s) for t, s in states if t.name == "countdown"]
    assert texts and all(" -> " in x for x in texts) and not set(texts) & held_out
    assert all(t.solvable(s) for t, s in states)
    rows = rl.ptx_rows(tasks, cfg, tok)
    prompts = [tok.decode(ids[~mask].tolist()) for ids, mask in zip(rows.ids, rows.mask)]
    assert any(" -> " in p for p in prompts) and any("Can reach 24: " in p for p in prompts)
    assert not any(p.rstrip().endswith("Answer:") for p in prompts)  # no io pair of any task

    calls = []

    class Recording(rl.PolicyGradient):
        def rollouts(self, policy, items, prompts, step):
            calls.append([(task.name, self.style(subject)) for task, subject in items])
            return super().rollouts(policy, items, prompts, step)

    model = checkpoint.load_model(tiny_model)
    step = Recording(cfg, problems, checkpoint.load_model(tiny_model), tok, states, rows)
    trainee = loop.Trainee(model=model, net=model, optimizer=loop.make_optimizer(model, cfg), rank=0, world=1, bf16=False)
    stats = step(trainee, 0, cfg.lr)
    assert stats.tokens > 0 and {"reward", "reward_step", "ptx"} <= set(stats.metrics)
    kinds = calls[0]
    assert len(kinds) == 6 and [k for _, k in kinds] == ["cot"] * 4 + ["step"] * 2


class ParityTask(Game24):
    """A toy reward a random model earns about half the time: an even-length answer."""

    def reward(self, problem, text):
        return float(len(text) % 2 == 0)


def test_the_sampled_token_ids_are_the_ids_trained_on(tmp_path, monkeypatch):
    """With a BPE tokenizer without BOS (merged tokens: re-encoding sampled text gives other ids)
    the rows trained on are the prompt ids followed by exactly the ids the engine sampled."""
    from training.random_model import RandomModelConfig, build

    path = build(tmp_path / "bpe", RandomModelConfig(vocab_size=1024, bos=False))
    tok = AutoTokenizer.from_pretrained(path)
    policy, ref = checkpoint.load_model(path), checkpoint.load_model(path)
    cfg = replace(rl.StageConfig.quick(), batch_size=2, group=8, max_new_tokens=12, warmup=0)
    sampled, completions, trained = [], [], []

    class Recording(rl.PolicyGradient):
        def rollouts(self, policy, problems, prompts, step):
            out = super().rollouts(policy, problems, prompts, step)
            for prompt, group in zip(prompts, out):
                sampled.extend(list(prompt) + list(c.token_ids) for c in group)
                completions.extend(c.token_ids for c in group)
            return out

    real_rows = rl.sampled_rows

    def rows(pairs, tokenizer):
        trained.extend(list(p) + list(s) for p, s in pairs)
        return real_rows(pairs, tokenizer)

    monkeypatch.setattr(rl, "sampled_rows", rows)
    step = Recording(cfg, [(ParityTask(), p) for p in ParityTask().problems("train")[:4]], ref, tok)
    trainee = loop.Trainee(model=policy, net=policy, optimizer=loop.make_optimizer(policy, cfg), rank=0, world=1, bf16=False)
    stats = step(trainee, 0, cfg.lr)
    assert stats.tokens == sum(len(c) for c in completions) > 0
    assert trained and all(row in sampled for row in trained)
    reencoded = [tok(tok.decode(list(c)), add_special_tokens=False)["input_ids"] for c in completions]
    assert any(r != list(c) for r, c in zip(reencoded, completions))  # re-encoding would have trained other ids
