import json
import math
from dataclasses import replace

import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from reasoning.errors import BadInput, ModelNotFound
from tasks.game24 import Game24
from training import checkpoint, loop
from training.model import MAX_PARAMS, ModelConfig, build_model, count_params
from training.pretrain import StageConfig as PretrainConfig
from training.pretrain import pretrain
from training.sft import StageConfig as SFTConfig
from training.sft import sft


def log_of(out):
    return json.loads((out / "train_log.json").read_text())


def test_quick_pretrain_then_sft(tmp_path):
    task = Game24()
    pre = pretrain(PretrainConfig.quick(), tmp_path / "pre", [task], progress=False)
    log = log_of(pre)
    assert log["steps"] == 30 and log["resumed_from"] is None
    losses = [loss for _, loss in log["loss_history"]]
    assert all(math.isfinite(x) for x in losses)
    assert losses[-1] < losses[0] - 0.5  # 30 steps on a small fixed corpus: it learns
    assert log["tokens_seen"] > 0 and log["tokens_per_second"] > 0 and log["wall_seconds"] > 0
    model = AutoModelForCausalLM.from_pretrained(pre)
    tok = AutoTokenizer.from_pretrained(pre)
    assert model.config.tie_word_embeddings and model.config.bos_token_id == tok.bos_token_id
    assert 30_000 < sum(p.numel() for p in model.parameters()) < 80_000

    out = sft(SFTConfig.quick(), pre, tmp_path / "sft", [task], progress=False)
    log = log_of(out)
    assert log["stage"] == "sft" and log["steps"] == 20 and log["init"] == str(pre)
    assert all(math.isfinite(x) for _, x in log["loss_history"])
    model = AutoModelForCausalLM.from_pretrained(out)
    prompt = task.prompt("io", task.problems("train")[0])
    ids = torch.tensor([[tok.bos_token_id, *tok.encode(prompt)]])  # (1, T)
    assert model(input_ids=ids).logits.shape == (1, ids.shape[1], len(tok))


def test_continued_pretraining_starts_from_the_init_weights(tmp_path):
    task = Game24()
    first = pretrain(PretrainConfig.quick(), tmp_path / "first", [task], progress=False)
    more = pretrain(replace(PretrainConfig.quick(), steps=2), tmp_path / "more", [task], progress=False, init=first)
    fresh = pretrain(replace(PretrainConfig.quick(), steps=2), tmp_path / "fresh", [task], progress=False)
    start = lambda out: log_of(out)["loss_history"][0][1]  # noqa: E731  (the first logged loss)
    assert log_of(more)["init"] == str(first)
    assert start(more) < start(fresh) - 0.5  # it resumes the init's learning, not a random model's
    a, b = AutoModelForCausalLM.from_pretrained(first), AutoModelForCausalLM.from_pretrained(more)
    assert a.config.to_dict()["hidden_size"] == b.config.to_dict()["hidden_size"]
    assert any(not torch.equal(x, y) for x, y in zip(a.parameters(), b.parameters()))  # and it trained


def test_rows_longer_than_the_model_are_refused_before_training(tmp_path):
    cfg = PretrainConfig.quick()
    too_long = replace(cfg, seq_len=cfg.model.max_len + 1)
    with pytest.raises(BadInput, match=f"seq_len {cfg.model.max_len + 1} exceeds the model's max_len {cfg.model.max_len}"):
        pretrain(too_long, tmp_path / "fresh", [Game24()], progress=False)
    first = pretrain(replace(cfg, steps=1), tmp_path / "first", [Game24()], progress=False)
    for stage in (lambda: pretrain(too_long, tmp_path / "more", [Game24()], progress=False, init=first),
                  lambda: sft(replace(SFTConfig.quick(), seq_len=cfg.model.max_len + 1), first, tmp_path / "sft", [Game24()], progress=False)):  # fmt: skip
        with pytest.raises(BadInput, match="exceeds the model's max_len"):
            stage()
    assert not (tmp_path / "fresh").exists() and not (tmp_path / "more").exists() and not (tmp_path / "sft").exists()


def test_resume_continues_from_the_last_checkpoint(tmp_path):
    task, out = Game24(), tmp_path / "pre"
    cfg = replace(PretrainConfig.quick(), steps=8, ckpt_every=4)
    pretrain(cfg, out, [task], progress=False)
    first = log_of(out)
    assert checkpoint.latest(out).step == 8
    pretrain(replace(cfg, steps=16), out, [task], progress=False)
    log = log_of(out)
    assert log["resumed_from"] == 8 and log["steps"] == 16
    assert 1.9 * first["tokens_seen"] < log["tokens_seen"] <= 2 * first["tokens_seen"]  # 8 more steps, not 16
    assert [s for s, _ in log["loss_history"]] == [5, 8, 10, 15, 16]
    assert checkpoint.latest(out).step == 16
    assert sorted(p.name for p in (out / "checkpoints").iterdir()) == ["step-00000012", "step-00000016"]
    # a run whose steps are already done only republishes
    pretrain(replace(cfg, steps=16), out, [task], progress=False)
    assert log_of(out)["steps"] == 16
    with pytest.raises(BadInput, match="another run"):
        pretrain(replace(cfg, steps=20, model=replace(ModelConfig.tiny(), layers=3)), out, [task], progress=False)


def test_interrupted_save_leaves_previous_checkpoint(tmp_path, monkeypatch):
    task, out = Game24(), tmp_path / "pre"
    cfg = replace(PretrainConfig.quick(), steps=4, ckpt_every=4)
    pretrain(cfg, out, [task], progress=False)
    before = checkpoint.latest(out)

    def crash(root):  # every file of the new checkpoint is written; the rename has not happened
        raise OSError("disk died")

    monkeypatch.setattr(checkpoint, "_fsync_tree", crash)
    with pytest.raises(OSError, match="disk died"):
        pretrain(replace(cfg, steps=8), out, [task], progress=False)
    monkeypatch.undo()
    after = checkpoint.latest(out)
    assert after.path == before.path and after.step == 4
    assert not [p for p in (out / "checkpoints").iterdir() if p.name.startswith(".")]
    assert isinstance(after.model(), torch.nn.Module) and after.optimizer_state()["state"]
    AutoModelForCausalLM.from_pretrained(out)  # the published model of the first run is intact
    pretrain(replace(cfg, steps=8), out, [task], progress=False)
    assert log_of(out)["resumed_from"] == 4 and log_of(out)["steps"] == 8


def test_sft_needs_a_finished_init_dir(tmp_path):
    with pytest.raises(ModelNotFound, match="does not exist"):
        sft(SFTConfig.quick(), tmp_path / "nope", tmp_path / "sft", [Game24()])
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelNotFound, match="no finished model"):
        sft(SFTConfig.quick(), tmp_path / "empty", tmp_path / "sft", [Game24()])


def test_rows_and_masks():
    rows = loop.examples([([5, 6, 7], [8, 9]), ([5] * 2000, [9])], seq_len=16, bos_id=1, pad_id=0)
    assert len(rows) == 1  # the too-long example is left out
    ids, attn, labels = rows.batch([0], multiple=8)  # (1, 8) each
    assert ids.tolist() == [[1, 5, 6, 7, 8, 9, 0, 0]]
    assert attn.tolist() == [[1, 1, 1, 1, 1, 1, 0, 0]]
    assert labels.tolist() == [[-100, -100, -100, -100, 8, 9, -100, -100]]  # loss on the response only
    packed = loop.packed([[5, 6], [7, 8, 9]], seq_len=4, bos_id=1, pad_id=0)
    assert [r.tolist() for r in packed.ids] == [[1, 5, 6, 1], [7, 8, 9]]  # every document starts with BOS
    sampler = loop.Sampler([4] * 10, batch_size=3, seed=0)
    epoch = [i for step in range(3) for i in sampler(step)]
    assert len(set(epoch)) == 9 and sampler(4) == loop.Sampler([4] * 10, 3, 0)(4)
    cfg = PretrainConfig.quick()
    assert loop.lr_at(0, cfg) < loop.lr_at(cfg.warmup - 1, cfg) == cfg.lr > loop.lr_at(cfg.steps, cfg)


def test_shipped_model_configs_are_small():
    for cfg in (ModelConfig(), ModelConfig.tiny(), PretrainConfig().model):
        params = count_params(build_model(cfg, 100, seed=0))
        assert params <= MAX_PARAMS and params * 4 <= 25e6  # float32 checkpoint of at most ~25 MB
    assert count_params(build_model(ModelConfig.tiny(), 100, seed=0)) < 80_000
