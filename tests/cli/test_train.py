"""`reason train` options: --steps replaces the stage's step count (and its schedule follows);
--tasks trains on chosen parts of the mixture."""

import json

import pytest

from tests.conftest import reason_here


@pytest.mark.slow
def test_steps_sets_the_number_of_optimizer_steps(tmp_path):
    out = tmp_path / "pre"
    reason_here("train", "pretrain", "--quick", "--steps", "3", "--out", str(out), check=True)
    log = json.loads((out / "train_log.json").read_text())
    assert log["steps"] == 3 and log["config"]["steps"] == 3 and len(log["loss_history"]) >= 1


def test_steps_below_one_is_refused(tmp_path):
    done = reason_here("train", "pretrain", "--quick", "--steps", "0", "--out", str(tmp_path / "pre"))
    assert done.returncode == 2 and "steps" in done.stderr and "Traceback" not in done.stderr


def test_tasks_and_seed_reach_the_stage_config(tmp_path):
    out = tmp_path / "pre"
    reason_here("train", "pretrain", "--quick", "--steps", "1", "--tasks", "game24", "--seed", "7", "--out", str(out), check=True)
    log = json.loads((out / "train_log.json").read_text())
    assert log["tasks"] == ["game24"] and [part[0] for part in log["config"]["corpus"]["parts"]] == ["game24"]
    assert log["config"]["seed"] == 7 and log["steps"] == 1
