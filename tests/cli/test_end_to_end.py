"""End to end on a real tiny model: trained for real steps, saved, reloaded, solving via the CLI."""

import json
import re
import signal
import subprocess
import sys

import pytest

from tasks.game24 import Game24
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


@pytest.mark.parametrize(
    "strategy", [pytest.param("io", marks=pytest.mark.slow), "cot", pytest.param("sc", marks=pytest.mark.slow), "tot"]
)
def test_solve_json_on_a_real_model(tiny_model, strategy):
    done = reason("solve", "4 9 10 13", "--strategy", strategy, "--model", str(tiny_model), "--json",
                  "--budget", "3calls", check=True)
    record = json.loads(done.stdout)
    assert FIELDS <= record.keys()
    assert record["strategy"] == strategy and record["problem"] == "4 9 10 13"
    assert 1 <= record["calls"] <= 3 and record["generated_tokens"] > 0 and record["seconds"] > 0
    assert isinstance(record["correct"], bool)


@pytest.mark.slow
def test_same_seed_same_answer_and_tree_saved(tiny_model, tmp_path):
    args = ("solve", "1 2 3 4", "--strategy", "tot", "--search", "mcts", "--model", str(tiny_model),
            "--json", "--budget", "4calls", "--set", "temperature=1.0")
    first = json.loads(reason(*args, "--seed", "7", "--save-tree", str(tmp_path / "t.json"), check=True).stdout)
    second = json.loads(reason(*args, "--seed", "7", check=True).stdout)
    assert (first["answer"], first["generated_tokens"]) == (second["answer"], second["generated_tokens"])
    tree = json.loads((tmp_path / "t.json").read_text())
    assert tree["nodes"][0]["text"] == "1 2 3 4"


@pytest.mark.slow
def test_show_tree_draws_the_search_tree():
    """The shipped model's tree for 4 9 10 13: root, children as `a op b = c (left: ...)` thoughts
    with values, and the path to the answer drawn under them."""
    done = reason("solve", "4 9 10 13", "--strategy", "tot", "--show-tree", check=True)  # no time budget: load-proof
    lines = done.stdout.splitlines()
    assert lines[0] == "4 9 10 13"
    children = [line for line in lines if re.match(r"^[├└]── \d+ [-+*/] \d+ = [\d/]+ \(left: [\d/ ]+\)", line)]
    assert len(children) >= 3 and any("value" in c for c in children)
    deeper = [line for line in lines if re.match(r"^[│ ]   [├└]── ", line)]
    assert deeper, "the tree should go below the first level"
    answer = next(line for line in lines if re.search(r"\(left: 24\)", line))
    assert answer.rstrip().endswith("= 24") and "correct" in done.stdout and "Traceback" not in done.stderr


def test_training_logs_carry_provenance(tiny_model):
    log = json.loads((tiny_model / "train_log.json").read_text())
    chain = [log, log["init_log"], log["init_log"]["init_log"]]
    assert [entry["stage"] for entry in chain] == ["rl", "sft", "pretrain"]
    for entry in chain:
        assert re.fullmatch(r"[0-9a-f]{40}(\+dirty)?|unknown", entry["commit"])
        assert re.fullmatch(r"[0-9a-f]{64}", entry["corpus_sha256"])


KILL_AFTER_THREE = """
import os, signal, sys
import reasoning.harness as harness
real, done = harness.solve_one, []
def solve_one(*args, **kwargs):
    if len(done) == 3:  # three cells are fsynced: die as kill -9 would, mid-run
        os.kill(os.getpid(), signal.SIGKILL)
    done.append(1)
    return real(*args, **kwargs)
harness.solve_one = solve_one
from reasoning.cli.app import main
sys.argv = ["reason", *sys.argv[1:]]
main()
"""


def test_bench_survives_kill_9_and_resumes(tiny_model, tmp_path):
    """The first run is killed (SIGKILL) right after its third cell, whatever the machine's speed;
    the second finishes the grid with every cell exactly once."""
    out = tmp_path / "bench"
    grid = ["bench", "--limit", "6", "--strategy", "io,cot", "--budget", "1calls,2calls", "--model", str(tiny_model),
            "--out", str(out)]
    killed = subprocess.run([sys.executable, "-c", KILL_AFTER_THREE, *grid], capture_output=True, text=True)
    assert killed.returncode == -signal.SIGKILL
    results = out / "results.jsonl"
    assert len(results.read_text().splitlines()) == 3
    done = subprocess.run([sys.executable, "-m", "reasoning.cli", *grid], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    records = [json.loads(line) for line in results.read_text().splitlines()]
    cells = [(r["strategy"], r["budget"], r["problem"]) for r in records]
    assert len(cells) == 24 and len(set(cells)) == 24  # every cell exactly once
    val = {p.text for p in Game24().problems("val")[:6]}
    assert {r["problem"] for r in records} == val  # no --split: val
    assert (out / "report.md").exists() and (out / "accuracy_vs_time.png").exists()
    again = subprocess.run([sys.executable, "-m", "reasoning.cli", "report", str(out)], capture_output=True, text=True)
    assert again.returncode == 0 and "accuracy" in again.stdout


@pytest.mark.slow
def test_a_second_model_on_the_same_out_is_refused_before_it_writes(tiny_model, tmp_path):
    """As a new user would: the same bench with the shipped model, then with another model on the
    same --out. The second run names the difference, exits 2 and leaves every file as it was."""
    out = tmp_path / "x"
    args = ("bench", "--strategy", "io", "--budget", "2s", "--limit", "3", "--out", str(out))
    reason(*args, check=True)
    before = {f.name: f.read_bytes() for f in out.iterdir() if f.is_file()}
    refused = reason(*args, "--model", str(tiny_model))
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1 and "made differently" in refused.stderr
    assert "fingerprint" in refused.stderr and str(tiny_model) in refused.stderr
    assert {f.name: f.read_bytes() for f in out.iterdir() if f.is_file()} == before
    meta = json.loads((out / "meta.json").read_text())
    assert len(meta["runs"]) == 1 and meta["runs"][0]["split"] == "val"
    assert meta["runs"][0]["model"]["fingerprint"] == json.loads((out / "results.jsonl").read_text().splitlines()[0])["model"]["fingerprint"]
