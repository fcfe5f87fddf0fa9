"""Countdown and arithmetic end to end on the shipped model (trained on Game of 24 only, so its
answers here are mostly wrong: these tests check behaviour, never accuracy)."""

import json

import pytest

from tasks.exact import ExprError, evaluate
from tests.conftest import reason_here

FIELDS = {"problem", "task", "strategy", "answer", "correct", "seconds", "generated_tokens", "prompt_tokens",
          "calls", "stop_reason"}


def countdown_ok(answer, numbers, target):
    """An independent check of a Countdown answer: exact value, each number once."""
    if not answer:
        return False
    lhs, *rhs = answer.split("=")
    try:
        value, literals = evaluate(lhs)
        return len(rhs) <= 1 and all(evaluate(r)[0] == target for r in rhs) and value == target and sorted(literals) == sorted(numbers)
    except ExprError:
        return False


@pytest.mark.parametrize(
    "strategy, budget", [pytest.param("cot", "unlimited", marks=pytest.mark.slow), ("tot", "3calls"), pytest.param("sc", "2calls", marks=pytest.mark.slow)]
)
def test_countdown_solve(strategy, budget):
    done = reason_here("solve", "96 7 37 74 -> 55", "--task", "countdown", "--strategy", strategy, "--budget", budget,
                       "--json", check=True)
    record = json.loads(done.stdout)
    assert FIELDS <= record.keys() and record["task"] == "countdown" and record["problem"] == "7 37 74 96 -> 55"
    assert record["generated_tokens"] > 0 and (budget == "unlimited" or record["calls"] <= int(budget[0]))
    assert record["correct"] == countdown_ok(record["answer"], [96, 7, 37, 74], 55)
    if strategy == "cot":  # constrained: a chain of valid steps ends on an answer line with its true value
        expr, value = record["answer"].split(" = ")
        got, literals = evaluate(expr)
        assert got == int(value) and sorted(literals) == [7, 37, 74, 96]


@pytest.mark.parametrize("strategy", ["cot", pytest.param("io", marks=pytest.mark.slow), pytest.param("sc", marks=pytest.mark.slow)])
def test_arithmetic_solve(strategy):
    done = reason_here("solve", "What is 12 times 34?", "--task", "arithmetic", "--strategy", strategy, "--budget", "2calls",
                       "--json", check=True)
    record = json.loads(done.stdout)
    assert FIELDS <= record.keys() and record["task"] == "arithmetic" and record["problem"] == "12 * 34"
    assert record["problem_category"] == "2Dx" and 1 <= record["calls"] <= 2
    assert record["correct"] == (record["answer"] is not None and record["answer"].strip() == "408")
    if strategy == "cot":  # the scratchpad grammar ends every chain on an answer line: a whole number
        assert record["answer"] is not None and record["answer"].lstrip("-").isdigit()


@pytest.mark.slow
def test_arithmetic_has_no_search_role():
    done = reason_here("solve", "98 + 45", "--task", "arithmetic", "--strategy", "tot")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "tot needs the search role, which task 'arithmetic' lacks" in done.stderr.strip()


@pytest.mark.parametrize(
    "task, split", [pytest.param("countdown", "val", marks=pytest.mark.slow), ("arithmetic", "test"), pytest.param("game24", "val", marks=pytest.mark.slow)]
)
def test_bench_and_report_per_task(task, split, tmp_path):
    out = tmp_path / task
    reason_here("bench", "--task", task, "--split", split, "--limit", "2", "--strategy", "cot", "--budget", "1calls",
                "--out", str(out), check=True)
    records = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert len(records) == 2 and {r["task"] for r in records} == {task}
    reason_here("report", str(out), check=True)
    md = (out / "report.md").read_text()
    assert f"`{task}`" in md and ("Humans" in md) == (task == "game24")  # only 24.csv carries human times
