import random
from fractions import Fraction

import pytest

from reasoning.errors import BadInput
from tasks.exact import ExprError, evaluate
from tasks.game24 import Game24


@pytest.fixture(scope="module")
def task():
    return Game24()


def test_splits_follow_the_tot_paper(task):
    test, val, train = task.problems("test"), task.problems("val"), task.problems("train")
    assert [p.meta["row"] for p in test] == list(range(900, 1000))
    assert len(val) == 100 and len(train) == 1362 - 200
    keys = [frozenset(p.id for p in s) for s in (test, val, train)]
    assert not (keys[0] & keys[1]) and not (keys[0] & keys[2]) and not (keys[1] & keys[2])
    # the same multiset of numbers never appears in two splits
    multisets = [{tuple(sorted(task.numbers(p))) for p in s} for s in (test, val, train)]
    assert not (multisets[2] & (multisets[0] | multisets[1]))
    assert task.problems("test") == test  # deterministic


def test_first_test_puzzle_is_row_900(task):
    import csv
    from importlib import resources

    with resources.files("tasks").joinpath("data/game24/24.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert task.problems("test")[0].text == rows[900]["Puzzles"]


@pytest.mark.parametrize(
    "answer, ok",
    [
        ("(10 - 4) * (13 - 9) = 24", True),
        ("(10 - 4) * (13 - 9)", True),
        ("(13-9)*(10-4)", True),
        ("2**3*3*1", False),  # power is not allowed, and wrong numbers
        ("4 * 9 - 10 - 13 = 24", False),  # equals 13
        ("(10 - 4) * (13 - 9) = 25", False),  # right-hand side not 24
        ("(10 - 4) * (13 - 9) = 24 = 24", False),
        ("(10 - 4) * 4 = 24", False),  # 4 used twice, 13 and 9 unused
        ("(10 - 4) * (13 - 9) * 1 = 24", False),  # extra number
        ("4 / (10 - 10) + 9 + 13", False),  # division by zero
        ("", False),
        (None, False),
        ("__import__('os')", False),
        ("-(4 - 10) * (13 - 9)", False),  # unary minus is not an operation of the game
        ("(10 - 4)) * (13 - 9", False),
    ],
)
def test_verify_is_strict(task, answer, ok):
    assert task.verify(task.parse_problem("4 9 10 13"), answer) is ok


def test_verify_uses_exact_fractions(task):
    p = task.parse_problem("1 5 5 5")
    assert task.verify(p, "5 * (5 - 1 / 5) = 24")
    assert not task.verify(p, "5 * (5 - 1 / 5) + 0.0001 = 24")


def test_evaluate_rejects_what_is_not_arithmetic():
    assert evaluate("(1 + 2) * 8")[0] == Fraction(24)
    for bad in ("2**3", "1 +", "abc", "3 % 2", "1 / 0"):
        with pytest.raises(ExprError):
            evaluate(bad)


def test_parse_problem(task):
    assert task.parse_problem("13, 4 10 9").text == "4 9 10 13"
    assert task.parse_problem("4 9 10 13").meta["row"] == 999
    assert task.parse_problem("1 1 1 20").meta == {}  # outside 1-13 is accepted
    for bad in ("4 9 x 13", "4 9 10", "4 9 10 13 2", "", "4.5 9 10 13", "-4 9 10 13"):
        with pytest.raises(BadInput):
            task.parse_problem(bad)


def test_expand_checks_every_step(task):
    s = task.initial_state(task.parse_problem("4 9 10 13"))
    s1 = task.expand(s, "13 - 9 = 4 (left: 4 4 10)")
    assert task.state_text(s1) == "4 4 10"
    assert task.expand(s, "13 - 9 = 5 (left: 4 5 10)") is None  # wrong arithmetic
    assert task.expand(s, "13 - 9 = 4 (left: 4 10)") is None  # wrong numbers left
    assert task.expand(s, "7 + 9 = 16 (left: 4 10 13 16)") is None  # 7 is not there
    assert task.expand(s, "nonsense") is None
    assert task.expand(s, "21/0 + 4 = 4 (left: 4 9 10)") is None  # a zero denominator, not a crash
    s2 = task.expand(s1, "10 - 4 = 6 (left: 4 6)")
    s3 = task.expand(s2, "4 * 6 = 24 (left: 24)")
    assert task.is_terminal(s3)
    assert task.answer(s3) == "4 * (10 - (13 - 9)) = 24"
    assert task.verify(task.parse_problem("4 9 10 13"), task.answer(s3))
    dead = task.expand(s2, "4 + 6 = 10 (left: 10)")
    assert task.is_terminal(dead) and task.answer(dead) is None


def test_reference_responses_verify(task):
    rng = random.Random(0)
    for p in task.problems("train")[:30]:
        for style in ("io", "cot"):
            text = task.response(style, p, rng)
            assert text.endswith(task.stop(style)[0])
            assert task.verify(p, task.parse(text)), text
            assert task.reward(p, text) == 1.0


def test_value_and_propose_references(task):
    rng = random.Random(0)
    s = task.initial_state(task.parse_problem("4 9 10 13"))
    text = task.response("propose", s, rng)
    steps = text.splitlines()[:-1]
    assert text.endswith("\n\n") and steps == task.thoughts(s)  # every valid step, one fixed order
    assert len(steps) == 30 and "13 - 9 = 4 (left: 4 4 10)" in steps
    assert all(task.expand(s, t) is not None for t in steps)
    assert task.response("value", s, rng) == "sure\n"
    # step: the cot prompt and a worked solution on a later state, its numbers taken as the puzzle
    later = task.expand(s, "13 - 9 = 4 (left: 4 4 10)")
    assert task.step_prompt(later) == "Input: 4 4 10\nSteps:\n"
    worked = task.response("step", later, rng)
    assert worked.endswith("\n\n") and worked.splitlines()[-2].startswith("Answer: ")
    value, literals = evaluate(task.parse(worked).split("=")[0])
    assert value == 24 and sorted(literals) == [4, 4, 10]
    assert task.response("step", task.expand(s, "4 + 9 = 13 (left: 10 13 13)"), rng) is None
    dead = task.expand(s, "4 + 9 = 13 (left: 10 13 13)")
    assert not task.solvable(dead) and task.response("value", dead, rng) == "impossible\n"


def test_k_shot_prompts_use_train_examples_and_never_the_problem(task):
    train = {p.text for p in task.problems("train")}
    p = task.problems("test")[0]
    prompt = task.prompt("cot", p, k=3)
    inputs = [line[len("Input: ") :] for line in prompt.splitlines() if line.startswith("Input: ")]
    assert len(inputs) == 4 and inputs[-1] == p.text
    assert all(text in train for text in inputs[:-1])
    with pytest.raises(BadInput):
        task.prompt("cot", p, k=99)


def test_worked_grammar_allows_valid_steps_then_their_answer(task):
    problem = task.parse_problem("4 9 10 13")
    g = task.grammar("cot", problem)
    first = g.lines([])
    assert "13 - 9 = 4 (left: 4 4 10)" in first and "13 - 9 = 5 (left: 4 5 10)" not in first
    assert set(first) == set(task.thoughts(task.initial_state(problem)))
    steps = ["13 - 9 = 4 (left: 4 4 10)", "10 - 4 = 6 (left: 4 6)"]
    assert g.lines(steps) == task.thoughts(task.expand(task.expand(task.initial_state(problem), steps[0]), steps[1]))
    assert g.lines(steps + ["4 * 6 = 24 (left: 24)"]) == ["Answer: 4 * (10 - (13 - 9)) = 24"]
    # a chain that misses says so: its answer line states the value it really reached
    assert g.lines(steps + ["4 + 6 = 10 (left: 10)"]) == ["Answer: 4 + (10 - (13 - 9)) = 10"]
    assert g.lines(steps + ["4 * 6 = 24 (left: 24)", "Answer: 4 * (10 - (13 - 9)) = 24"]) == [""]
    assert g.lines(["13 - 9 = 5 (left: 4 5 10)"]) is None  # written without the grammar


def test_io_grammar_is_every_way_to_combine_the_numbers(task):
    finals = task.grammar("io", task.parse_problem("4 9 10 13")).lines([])
    assert "(13 - 9) * (10 - 4) = 24" in finals and len(finals) == len(set(finals)) > 1000
    for line in finals[:200]:
        expr, value = line.split(" = ")
        assert task.verify(task.parse_problem("4 9 10 13"), line) == (value == "24")
    with pytest.raises(BadInput, match="no grammar"):
        task.grammar("value", task.parse_problem("4 9 10 13"))
