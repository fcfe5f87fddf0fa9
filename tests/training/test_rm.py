"""The reward-model stage: a scalar head on the trunk that saves, loads, learns from outcomes
(never from val or test), and resumes."""

import json
import re
from dataclasses import replace

import pytest
import torch

from reasoning.backends.hf import HFModel
from reasoning.backends.reward import RewardModel, Rewarded, encode, padded, scores
from reasoning.errors import BadInput, ModelNotFound
from reasoning.judgment import state_input
from tasks import Arithmetic, Countdown
from tasks.game24 import Game24
from tests.conftest import reason, reason_here
from training import checkpoint, judgments, loop, rm
from training.corpus import Mixture
from training.judgments import JudgmentConfig, Judgments, Pair, Point
from training.model import ModelConfig, build_model
from training.reward_head import from_policy
from training.tokenizer import build_tokenizer

FOUR = re.compile(r"^(?:Input|Numbers): (\d+) (\d+) (\d+) (\d+)\s*$", re.MULTILINE)


class PlusTask(Game24):
    """Game of 24's prompts with a toy reward a random tiny model earns about half the time."""

    def reward(self, problem, text):
        return 1.0 if text.count("+") % 2 == 0 else 0.0


@pytest.fixture(scope="module")
def policy_dir(tmp_path_factory):
    """A random tiny language model saved as a checkpoint (the rm stage's --init)."""
    out = tmp_path_factory.mktemp("policy")
    tok = build_tokenizer()
    build_model(ModelConfig.tiny(), len(tok), seed=0, tokenizer=tok).save_pretrained(out)
    tok.save_pretrained(out)
    return out


def test_the_reward_head_saves_and_loads_as_a_sequence_classifier(policy_dir, tmp_path):
    tok = build_tokenizer()
    model = from_policy(policy_dir, tok, [Arithmetic(), Game24()])  # the first task with value labels
    assert type(model).__name__ == "LlamaForSequenceClassification" and model.config.num_labels == 1
    # the trunk is the policy's; the head starts as the policy's logit of "sure" over "impossible"
    policy = checkpoint.load_model(policy_dir)
    assert torch.equal(model.model.embed_tokens.weight, policy.model.embed_tokens.weight)
    state = Game24().initial_state(Game24().parse_problem("4 9 10 13"))
    text = state_input(Game24(), state)
    ids = torch.tensor([encode(tok, [text])[0]])
    logits = policy(input_ids=ids).logits[0, -1]  # (V,)
    s, i = tok("s", add_special_tokens=False)["input_ids"][0], tok("i", add_special_tokens=False)["input_ids"][0]
    assert scores(model.eval(), ids).item() == pytest.approx((logits[s] - logits[i]).item(), abs=1e-4)

    model.save_pretrained(tmp_path / "rm")
    tok.save_pretrained(tmp_path / "rm")
    loaded = RewardModel.load(tmp_path / "rm", device="cpu")
    texts = [text, "Numbers: 1 1 1 1\nCan reach 24: ", "Input: 4 9 10 13\nSteps:\n13 - 9 = 4 (left: 4 4 10)\n"]
    in_memory = RewardModel(model, tok).reward(texts)
    assert loaded.reward(texts) == pytest.approx(in_memory, abs=1e-5)
    # batched (padded) scores equal one-at-a-time scores
    assert [loaded.reward([t])[0] for t in texts] == pytest.approx(in_memory, abs=1e-5)
    assert type(checkpoint.load_model(tmp_path / "rm")).__name__ == "LlamaForSequenceClassification"
    with pytest.raises(ModelNotFound, match="is a reward model, not a language model: pass it as --reward-model"):
        HFModel.load(tmp_path / "rm")
    with pytest.raises(ModelNotFound, match="is not a reward model"):
        RewardModel.load(policy_dir)
    both = Rewarded(HFModel.load(policy_dir), loaded)
    assert both.capabilities().reward and both.reward(texts[:1]) == pytest.approx(in_memory[:1], abs=1e-5)
    assert both.identity()["reward_fingerprint"] and both.identity()["backend"] == "hf"
    assert both.generate(["Input: 1 2 3 4\nSteps:\n"], __import__("reasoning.types").types.SamplingParams(max_new_tokens=3))


def test_one_real_update_puts_preferred_items_above_the_others(policy_dir):
    """A tiny model, one real optimizer step on Bradley-Terry pairs and solvability points:
    afterwards every chosen text scores above its rejected one, and solvable above unsolvable."""
    tok = build_tokenizer()
    task = Game24()
    chosen = ["Input: 1 2 3 4\nSteps:\n1 * 2 = 2 (left: 2 3 4)\n", "Input: 2 3 4 5\nSteps:\n2 * 3 = 6 (left: 4 5 6)\n"]
    rejected = ["Input: 1 2 3 4\nSteps:\nI do not know\n", "Input: 2 3 4 5\nSteps:\n5 - 5 = 0\n"]
    good, bad = [state_input(task, task.initial_state(task.parse_problem(p))) for p in ("4 6 1 1", "1 1 1 1")]
    data = Judgments((Point(good, 1.0, "solvable"), Point(bad, 0.0, "solvable")),
                     tuple(Pair(c, r, "verifier") for c, r in zip(chosen, rejected)))
    encoded, dropped = rm.encoded(data, tok, 1024)
    assert dropped == 0
    cfg = replace(rm.StageConfig.quick(), batch_size=2, pair_batch=2, lr=1e-2, warmup=0, bf16=False)
    model = from_policy(policy_dir, tok, [task], head_init="zero")
    judge = RewardModel(model, tok)
    before = judge.reward(chosen + rejected + [good, bad])
    assert before == pytest.approx([0.0] * 6)  # a zero head: no opinion yet
    step = rm.RewardStep(cfg, encoded, tok.pad_token_id)
    model.train()
    trainee = loop.Trainee(model=model, net=model, optimizer=loop.make_optimizer(model, cfg), rank=0, world=1, bf16=False)
    stats = step(trainee, 0, cfg.lr)
    assert {"bce", "bt", "pair_acc", "point_acc"} <= set(stats.metrics) and stats.tokens > 0
    after = RewardModel(model, tok).reward(chosen + rejected + [good, bad])
    assert after[0] > after[2] and after[1] > after[3]  # each chosen above its rejected
    assert after[4] > after[5]  # the solvable state above the unsolvable one


def held_out_lines(texts):
    task = Game24()
    forbidden = {tuple(sorted(task.numbers(p))) for s in ("val", "test") for p in task.problems(s)}
    lines = [tuple(sorted(map(int, m.groups()))) for t in texts for m in FOUR.finditer(t)]
    return lines, [x for x in lines if x in forbidden]


def test_judgments_come_from_train_problems_only_and_held_out_ones_are_refused(policy_dir, tmp_path):
    task = PlusTask()
    cfg = replace(JudgmentConfig.quick(), pair_problems=12, rollout_states=8, generate_batch=5)
    calls = []
    built = judgments.build([task], HFModel.load(policy_dir), cfg, seed=0, mixture=Mixture.quick(), report=lambda *c: calls.append(c))
    assert calls == [("game24 rollout states", 5, 8), ("game24 rollout states", 8, 8),
                     ("game24 pair problems", 5, 12), ("game24 pair problems", 10, 12), ("game24 pair problems", 12, 12)]
    sources = built.sources()
    assert sources["solvable"] > 0 and sources["rollout"] == 8 and sources["verifier"] > 0
    lines, leaks = held_out_lines(built.texts())
    assert len(set(lines)) >= 8 and leaks == []  # puzzles were scanned, none of them held out
    assert any(p.target == 1.0 for p in built.points) and any(p.target == 0.0 for p in built.points)
    for pair in built.pairs:  # verifier-ranked: chosen earned a higher reward than rejected
        prompt = pair.chosen.split("Steps:\n", 1)[0] + "Steps:\n"
        problem = task.parse_problem(prompt.split("Input: ")[1].split("\n")[0])
        assert task.reward(problem, pair.chosen[len(prompt):]) > task.reward(problem, pair.rejected[len(prompt):])

    # a human file that shows a test puzzle (in any order of its numbers) is refused
    test_puzzle = Game24().problems("test")[3]
    a, b, c, d = Game24().numbers(test_puzzle)
    path = tmp_path / "human.jsonl"
    path.write_text(json.dumps({"prompt": f"Input: {d} {c} {b} {a}\nSteps:\n", "chosen": "x", "rejected": "y"}) + "\n")
    with pytest.raises(BadInput, match="show a val or test problem"):
        judgments.build([Game24()], None, replace(JudgmentConfig.quick(), human_pairs=str(path)), seed=0, mixture=Mixture.quick())
    train = Game24().problems("train")[0]
    path.write_text(json.dumps({"prompt": Game24().prompt("cot", train), "chosen": "a\n", "rejected": "b\n"}) + "\n\n")
    ok = judgments.build([Game24()], None, replace(JudgmentConfig.quick(), human_pairs=str(path)), seed=0, mixture=Mixture.quick())
    assert [p.source for p in ok.pairs] == ["human"] and ok.pairs[0].chosen.endswith("Steps:\na\n")
    path.write_text('{"prompt": "p", "chosen": 3}\n')
    with pytest.raises(BadInput, match="human.jsonl:1: needs string fields 'chosen' and 'rejected'"):
        judgments.human_pairs(path)


def test_judgments_over_the_mixture_take_each_task_by_its_roles(policy_dir, tmp_path):
    """Countdown gives states (solvability, rollouts) and pairs; arithmetic, without the search
    role, only verifier-ranked pairs; a human pair showing any task's held-out problem is refused."""
    class PlusArithmetic(Arithmetic):  # a toy reward a random tiny model earns about half the time
        def reward(self, problem, text):
            return 1.0 if text.count("+") % 2 == 0 else 0.0

    tasks = [Countdown(), PlusArithmetic()]
    cfg = replace(JudgmentConfig.quick(), rollout_states=4, pair_problems=6, pair_samples=6)
    built = judgments.build(tasks, HFModel.load(policy_dir), cfg, seed=0, mixture=Mixture.quick())
    assert built.points and all(" -> " in p.text.splitlines()[0] for p in built.points)  # every state is Countdown's
    assert {p.source for p in built.points} == {"solvable", "rollout"}
    assert sum(1 for p in built.points if p.source == "rollout") == 4
    arithmetic = {p.text for p in Arithmetic().problems("train")}
    assert built.pairs and all(p.chosen.splitlines()[0].removeprefix("Input: ") in arithmetic for p in built.pairs)
    held = {p.text for t in tasks for s in ("val", "test") for p in t.problems(s)}
    assert not [line for text in built.texts() for line in text.splitlines() if line.partition(": ")[2].strip() in held]
    path = tmp_path / "human.jsonl"
    test = Arithmetic().problems("test")[0]
    path.write_text(json.dumps({"prompt": Arithmetic().prompt("cot", test), "chosen": "a\n", "rejected": "b\n"}) + "\n")
    with pytest.raises(BadInput, match="show a val or test problem of 'arithmetic'"):
        judgments.build(tasks, None, replace(JudgmentConfig.quick(), human_pairs=str(path)), seed=0, mixture=Mixture.quick())


def test_quick_rm_stage_publishes_resumes_and_records_its_corpus(policy_dir, tmp_path):
    out = tmp_path / "rm"
    cfg = replace(rm.StageConfig.quick(), steps=4, ckpt_every=2, log_every=2, data=replace(JudgmentConfig.quick(), pair_problems=6))
    rm.rm(cfg, policy_dir, out, [PlusTask()], progress=False)
    log = json.loads((out / "train_log.json").read_text())
    assert log["stage"] == "rm" and log["steps"] == 4 and log["data_seconds"] > 0 and len(log["corpus_sha256"]) == 64
    assert log["points"] > 0 and log["pairs"] > 0 and set(log["sources"]) == {"solvable", "rollout", "verifier"}
    assert {"bce", "bt"} <= set(log["metric_history"][-1][1])
    rm.rm(replace(cfg, steps=6), policy_dir, out, [PlusTask()], progress=False)
    again = json.loads((out / "train_log.json").read_text())
    assert again["resumed_from"] == 4 and again["steps"] == 6 and again["data_seconds"] == 0  # judgments read back
    assert again["corpus_sha256"] == log["corpus_sha256"]
    assert RewardModel.load(out).reward(["Numbers: 4 6\nCan reach 24: "])
    with pytest.raises(BadInput, match="rm init .* is a reward model: start from a language model"):
        rm.rm(cfg, out, tmp_path / "rm2", [PlusTask()], progress=False)


def test_bad_init_exits_2_with_one_line(tmp_path):
    for init in (tmp_path / "nope", tmp_path):
        done = reason_here("train", "rm", "--quick", "--init", str(init), "--out", str(tmp_path / "out"))
        assert done.returncode == 2 and done.stderr.startswith("reason: error:") and len(done.stderr.splitlines()) == 1
        assert "Traceback" not in done.stderr
