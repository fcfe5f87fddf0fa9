"""End to end on a real tiny model: trained for real steps, saved, reloaded, solving via the CLI."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from tests.conftest import reason

FIELDS = {"problem", "task", "strategy", "answer", "correct", "seconds", "generated_tokens",
          "prompt_tokens", "calls", "stop_reason"}


def test_training_wrote_loadable_checkpoints(tiny_model):
    log = json.loads((tiny_model / "train_log.json").read_text())
    assert log["stage"] == "rl" and log["steps"] > 0 and log["final_loss"] == log["final_loss"]  # not NaN
    sft = json.loads((tiny_model.parent / "sft" / "train_log.json").read_text())
    assert sft["steps"] > 0 and sft["final_loss"] == sft["final_loss"]
    pre = json.loads((tiny_model.parent / "pretrain" / "train_log.json").read_text())
    assert pre["loss_history"][-1][1] < pre["loss_history"][0][1]  # it learned something


@pytest.mark.parametrize("strategy", ["io", "cot", "sc", "tot"])
def test_solve_json_on_a_real_model(tiny_model, strategy):
    done = reason("solve", "4 9 10 13", "--strategy", strategy, "--model", str(tiny_model), "--json",
                  "--budget", "3calls", check=True)
    record = json.loads(done.stdout)
    assert FIELDS <= record.keys()
    assert record["strategy"] == strategy and record["problem"] == "4 9 10 13"
    assert 1 <= record["calls"] <= 3 and record["generated_tokens"] > 0 and record["seconds"] > 0
    assert isinstance(record["correct"], bool)


def test_same_seed_same_answer_and_tree_saved(tiny_model, tmp_path):
    args = ("solve", "1 2 3 4", "--strategy", "tot", "--search", "mcts", "--model", str(tiny_model),
            "--json", "--budget", "4calls", "--set", "temperature=1.0")
    first = json.loads(reason(*args, "--seed", "7", "--save-tree", str(tmp_path / "t.json"), check=True).stdout)
    second = json.loads(reason(*args, "--seed", "7", check=True).stdout)
    assert (first["answer"], first["generated_tokens"]) == (second["answer"], second["generated_tokens"])
    tree = json.loads((tmp_path / "t.json").read_text())
    assert tree["nodes"][0]["text"] == "1 2 3 4"


def test_human_output_and_tree(tiny_model):
    done = reason("solve", "4 9 10 13", "--strategy", "tot", "--model", str(tiny_model), "--show-tree",
                  "--budget", "2calls", check=True)
    assert "4 9 10 13" in done.stdout and "calls" in done.stdout and "Traceback" not in done.stderr


def test_bench_survives_kill_9_and_resumes(tiny_model, tmp_path):
    out = tmp_path / "bench"
    args = [sys.executable, "-m", "reasoning.cli", "bench", "--split", "val", "--limit", "6", "--strategy", "io,cot",
            "--budget", "1calls,2calls", "--model", str(tiny_model), "--out", str(out)]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    results = out / "results.jsonl"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:  # kill once some, but not all, cells are done
        if results.exists() and len(results.read_text().splitlines()) >= 3:
            break
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    finished = len(results.read_text().splitlines())
    assert 3 <= finished < 24, "the kill should land mid-run"
    done = subprocess.run(args, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    records = [json.loads(line) for line in results.read_text().splitlines()]
    cells = [(r["strategy"], r["budget"], r["problem"]) for r in records]
    assert len(cells) == 24 and len(set(cells)) == 24  # every cell exactly once
    assert (out / "report.md").exists() and (out / "accuracy_vs_time.png").exists()
    again = subprocess.run([sys.executable, "-m", "reasoning.cli", "report", str(out)], capture_output=True, text=True)
    assert again.returncode == 0 and "accuracy" in again.stdout
