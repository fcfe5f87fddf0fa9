"""The reward model through the CLI: train all writes one, solve and bench use it beside the
model (tot value=learned, bon), and a missing one is refused before any work."""

import json

import pytest

from tests.conftest import reason_here


def test_train_all_writes_a_reward_model_between_sft_and_rl(tiny_model):
    rm = tiny_model.parent / "rm"
    log = json.loads((rm / "train_log.json").read_text())
    assert log["stage"] == "rm" and log["steps"] > 0 and log["init"] == str(tiny_model.parent / "sft")
    assert json.loads((rm / "config.json").read_text())["architectures"] == ["LlamaForSequenceClassification"]
    assert json.loads((tiny_model / "train_log.json").read_text())["init"] == str(tiny_model.parent / "sft")
    printed = (tiny_model.parent / "train.log").read_text()  # judgment building shows its progress (plain lines: no terminal)
    assert "rm judgments: game24 rollout states 24/24" in printed and "rm judgments: arithmetic pair problems 8/8" in printed


@pytest.mark.parametrize("strategy, settings", [
    ("tot", ["--set", "value=learned", "--search", "mcts"]),
    ("tot", ["--set", "value=learned", "--set", "rules=false"]),
    ("bon", ["--set", "n=4", "--set", "base.constrained=false"]),
])  # fmt: skip
def test_solve_with_a_reward_model_beside_the_model(tiny_model, strategy, settings):
    done = reason_here("solve", "4 9 10 13", "--strategy", strategy, *settings, "--model", str(tiny_model),
                       "--reward-model", str(tiny_model.parent / "rm"), "--json", "--budget", "6calls", check=True)
    record = json.loads(done.stdout)
    assert record["model"]["reward_model"] == str((tiny_model.parent / "rm").resolve())
    assert record["model"]["reward_fingerprint"] and 1 <= record["calls"] <= 6
    if strategy == "tot":
        assert record["regime"] == ("model only" if "rules=false" in settings else "with rules")


def test_learned_values_and_bon_without_a_reward_model_exit_2_before_work(tiny_model, tmp_path):
    for args in (["--strategy", "tot", "--set", "value=learned"], ["--strategy", "bon"]):
        done = reason_here("solve", "4 9 10 13", *args, "--model", str(tiny_model))
        assert done.returncode == 2 and "needs a reward model" in done.stderr and "--reward-model" in done.stderr
        assert len(done.stderr.splitlines()) == 1 and done.stdout == ""
    done = reason_here("solve", "4 9 10 13", "--model", str(tiny_model.parent / "rm"))
    assert done.returncode == 2 and "is a reward model, not a language model" in done.stderr
    done = reason_here("solve", "4 9 10 13", "--reward-model", str(tiny_model), "--model", str(tiny_model))
    assert done.returncode == 2 and "is not a reward model" in done.stderr
    done = reason_here("solve", "4 9 10 13", "--reward-model", str(tmp_path / "none"))
    assert done.returncode == 2 and "does not exist" in done.stderr


def test_bench_records_the_regime_and_the_reward_model(tiny_model, tmp_path):
    out = tmp_path / "bench"
    reason_here("bench", "--strategy", "tot:value=learned:rules=false,bon:n=2:base.constrained=false", "--budget", "4calls",
                "--limit", "2", "--model", str(tiny_model), "--reward-model", str(tiny_model.parent / "rm"), "--out", str(out),
                check=True)
    records = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    tot = [r for r in records if r["strategy"].startswith("tot")]
    assert len(records) == 4 and len(tot) == 2
    assert all(r["regime"] == "model only" and r["settings"]["rules"] is False for r in tot)
    assert all(r["model"]["reward_fingerprint"] for r in records)
