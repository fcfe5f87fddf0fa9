"""The models that ship in the package: the stages of one `reason train all` run (`base`, the
policy `sft` also named `default` and `mixed`, `rl`, and the reward model `rm`) and the earlier
Game-of-24 model (`game24`), found by name from any working directory and used as a user would."""

import json
import re
from fractions import Fraction

from reasoning.backends.reward import RewardModel
from reasoning.backends.spec import ModelSpec, shipped_dir
from reasoning.judgment import state_input
from tasks import Countdown, Game24
from tasks.number_game import Position
from tests.conftest import reason_here


def test_shipped_reward_model_loads_by_name_and_ranks_plain_cases():
    spec = ModelSpec(reward_model="rm")
    assert spec.reward_dir() == shipped_dir("rm")
    assert shipped_dir("sft") == shipped_dir("default")
    rm, task = RewardModel.load(spec.reward_dir(), device="cpu"), Game24()
    log = json.loads((shipped_dir("rm") / "train_log.json").read_text())
    assert log["stage"] == "rm" and log["tasks"] == ["game24", "countdown", "arithmetic"]
    # every state of two numbers up to 24 (sorted, as the search makes them), one step from the
    # goal or not (exact search decides): measured 84% of (solvable, unsolvable) pairs in order
    # (the first reward model, trained on Game of 24 alone: 92%)
    pairs = [(a, b) for a in range(1, 25) for b in range(a, 25)]
    states = [Position(tuple((Fraction(n), str(n)) for n in p), Fraction(24)) for p in pairs]
    solvable = [task.solvable(s) for s in states]
    assert sum(solvable) == 16 and solvable[pairs.index((4, 20))] and not solvable[pairs.index((5, 7))]
    scores = rm.reward([state_input(task, s) for s in states])
    good = [score for score, ok in zip(scores, solvable) if ok]
    bad = [score for score, ok in zip(scores, solvable) if not ok]
    assert sum(g > b for g in good for b in bad) / (len(good) * len(bad)) > 0.8


def test_solve_with_the_shipped_reward_model_records_it(tmp_path):
    done = reason_here("solve", "4 9 10 13", "--strategy", "tot", "--set", "value=learned", "--reward-model", "rm",
                       "--json", "--budget", "10s", cwd=tmp_path, check=True)  # fmt: skip
    record = json.loads(done.stdout)
    assert record["model"]["reward_model"] == str(shipped_dir("rm").resolve())
    assert record["regime"] == "with rules" and record["settings"]["value"] == "learned"


def test_shipped_mixed_model_works_on_the_other_tasks(tmp_path):
    """`--model mixed` (the default: trained on every task of the mixture) writes checked scratchpads and
    searches Countdown; each answer is checked here again, independently of the task."""
    log = json.loads((shipped_dir("mixed") / "train_log.json").read_text())
    assert log["stage"] == "sft" and log["tasks"] == ["game24", "countdown", "arithmetic"]
    done = reason_here("solve", "What is 7645 plus 501?", "--task", "arithmetic", "--model", "mixed", "--strategy", "cot",
                       "--json", cwd=tmp_path, check=True)  # fmt: skip
    record = json.loads(done.stdout)
    assert record["correct"] and int(record["answer"]) == 7645 + 501
    for problem, value in (("What is 4503 minus 8127?", 4503 - 8127), ("73 * 86", 73 * 86), ("(2 - 9) * 3", -21)):
        done = reason_here("solve", problem, "--task", "arithmetic", "--model", "mixed", "--show-steps", cwd=tmp_path, check=True)
        lines = done.stdout.splitlines()
        assert f"Answer: {value}" in lines and "not correct" not in done.stdout, done.stdout  # borrows, products, signs
    done = reason_here("solve", "3 37 94 -> 54", "--task", "countdown", "--model", "mixed", "--strategy", "tot",
                       "--budget", "20s", "--json", cwd=tmp_path, check=True)  # fmt: skip
    record = json.loads(done.stdout)
    assert record["correct"] and reaches(record["answer"], [3, 37, 94], 54)


def reaches(answer: str, numbers: list[int], target: int) -> bool:
    """An independent check of a number-game answer `expr = target`: each number used exactly once,
    only + - * / and brackets, exact fractions."""
    expression, _, result = answer.partition("=")
    assert int(result) == target and sorted(int(n) for n in re.findall(r"\d+", expression)) == sorted(numbers)
    exact = re.sub(r"\d+", lambda m: f"Fraction({m.group()})", expression)  # digits, + - * / and brackets only
    assert set(re.sub(r"Fraction|\d+", "", exact)) <= set("()+-*/ ")
    return eval(exact, {"Fraction": Fraction, "__builtins__": {}}) == target


def test_best_first_over_sampled_steps_valued_by_the_reward_model_solves_countdown(tmp_path):
    """The README's best Countdown strategy, on a problem of no split: steps sampled inside the
    task's grammar, valued by the shipped reward model, best-first (a call budget: load-proof)."""
    problem = "91 14 36 5 -> 87"
    assert all(problem not in (p.text for p in Countdown().problems(split)) for split in ("train", "val", "test"))
    done = reason_here("solve", problem, "--task", "countdown", "--strategy", "tot", "--search", "best",
                       "--set", "generate=sample", "--set", "constrained=true", "--set", "samples=64",
                       "--set", "temperature=1.5", "--set", "value=learned", "--reward-model", "rm",
                       "--budget", "60calls", "--json", cwd=tmp_path, check=True)  # fmt: skip
    record = json.loads(done.stdout)
    assert record["correct"] and record["regime"] == "with rules" and reaches(record["answer"], [91, 14, 36, 5], 87)


def test_the_shipped_stages_are_one_run_and_each_one_answers(tmp_path):
    """base -> sft -> (rm, rl): each stage's log names the one before it as its start."""
    logs = {name: json.loads((shipped_dir(name) / "train_log.json").read_text()) for name in ("base", "sft", "rm", "rl")}
    assert {name: log["stage"] for name, log in logs.items()} == {"base": "pretrain", "sft": "sft", "rm": "rm", "rl": "rl"}
    assert logs["base"]["init"] is None  # pretrained from scratch
    assert logs["sft"]["init"].endswith("/pretrain") and logs["rm"]["init"].endswith("/sft") and logs["rl"]["init"].endswith("/sft")
    assert logs["sft"]["init_log"]["wall_seconds"] == logs["base"]["wall_seconds"]  # the base that ships is the one sft started from
    for name in ("base", "rl"):
        done = reason_here("solve", "4 9 10 13", "--strategy", "cot", "--model", name, "--json", cwd=tmp_path, check=True)
        record = json.loads(done.stdout)
        assert record["model"]["model"] == str(shipped_dir(name).resolve()) and record["answer"], record
