import random
from fractions import Fraction

import pytest

from reasoning.errors import BadInput
from strategies import ChainOfThought, SelfConsistency
from reasoning.types import Budget
from tasks.countdown import SIZES, Countdown, _one_step, generate
from tasks.exact import evaluate, solvable
from tests.fakes import ScriptedModel


@pytest.fixture(scope="module")
def task():
    return Countdown()


def key(task, p):
    return tuple(sorted(task.numbers(p))), int(task.target(p))


def test_splits_are_the_r1_zero_setting_disjoint_and_solvable(task):
    splits = {s: task.problems(s) for s in ("test", "val", "train")}
    assert {s: len(ps) for s, ps in splits.items()} == SIZES
    keys = {s: {key(task, p) for p in ps} for s, ps in splits.items()}
    assert all(len(keys[s]) == len(splits[s]) for s in splits)  # no duplicates inside a split
    assert not (keys["test"] & keys["val"]) and not (keys["train"] & (keys["test"] | keys["val"]))
    for p in splits["train"][::50] + splits["val"] + splits["test"]:
        numbers, target = key(task, p)
        assert len(numbers) in (3, 4) and all(1 <= n <= 99 for n in numbers) and 10 <= target <= 100
        assert solvable(tuple(map(Fraction, numbers)), Fraction(target)), p.text
    assert {len(n) for n, _ in keys["train"]} == {3, 4}
    assert task.problems("test") == splits["test"]  # deterministic


def test_no_train_problem_is_one_step_from_a_held_out_problem(task):
    held_out = {key(task, p) for s in ("val", "test") for p in task.problems(s)}
    train = [key(task, p) for p in task.problems("train")]
    assert sum(len(k[0]) == 4 for k in train) > 9000  # the check below really looks at steps
    assert not any(_one_step(k) & held_out for k in train)
    # and it would see one: a problem one step away from a test problem is caught
    numbers, target = key(task, next(p for p in task.problems("test") if len(task.numbers(p)) == 3))
    assert (numbers, target) in _one_step(parent_of(numbers, target))


def parent_of(numbers, target):
    """A 4-number problem one step from (numbers, target): 1 + (a - 1) = a, or 1 * 1 = 1."""
    a, *rest = numbers
    return tuple(sorted([1, a - 1 if a > 1 else 1, *rest])), target


def test_shipped_files_are_what_the_seeded_generator_makes(task):
    sizes = {"test": SIZES["test"], "val": SIZES["val"], "train": 150}
    made = generate(sizes=sizes)
    assert made["test"] == [p.text for p in task.problems("test")]
    assert made["val"] == [p.text for p in task.problems("val")]
    assert made["train"] == [p.text for p in task.problems("train")[:150]]


def test_parse_problem(task):
    p = task.parse_problem("96 7 37 74 -> 55")
    assert p.text == "7 37 74 96 -> 55" and task.numbers(p) == (7, 37, 74, 96) and task.target(p) == 55
    assert p.meta["category"] == "4 numbers"  # reports break accuracy down by it
    assert {q.meta["category"] for q in task.problems("test")} == {"3 numbers", "4 numbers"}
    assert task.parse_problem("96, 7, 37,74->55").text == p.text
    assert task.parse_problem("1 2 3 4 5 6 -> 700").text == "1 2 3 4 5 6 -> 700"  # 6 numbers, any target
    for bad, says in [
        ("96 7 37 74 55", "arrow"), ("96 7 x 74 -> 55", "whole numbers"), ("96 7 37 74 -> x", "whole numbers"),
        ("96 7 37 74 ->", "whole numbers"), ("1 2 3 4 5 6 7 -> 10", "3 to 6 numbers"), ("1 2 -> 3", "3 to 6 numbers"),
        ("1 2 3 -> -5", "whole numbers"), ("1.5 2 3 -> 5", "whole numbers"), ("", "arrow"),
    ]:
        with pytest.raises(BadInput, match=says):
            task.parse_problem(bad)


@pytest.mark.parametrize(
    "answer, ok",
    [
        ("(96 - 74) + 37 - 7 = 48", False),  # true arithmetic, but not the target
        ("74 - (96 - 37) - 7 = 8", False),
        ("(74 + 96) / (37 - 7) * 0 = 0", False),
        ("96 - 37 - (74 / 7)", False),
        ("7 * (96 - 74) - 37 - 55", False),
        ("", False),
        (None, False),
    ],
)
def test_verify_rejects(task, answer, ok):
    assert task.verify(task.parse_problem("96 7 37 74 -> 55"), answer) is ok


def test_verify_is_strict_on_a_found_solution(task):
    p = task.parse_problem("96 7 37 74 -> 55")
    line = task.response("io", p, random.Random(0)).strip()
    expr, value = line.split(" = ")
    assert value == "55" and evaluate(expr)[0] == 55 and task.verify(p, line) and task.verify(p, expr)
    assert not task.verify(p, expr + " + 0")  # a number that is not there
    assert not task.verify(p, f"{expr} = 56")
    assert not task.verify(task.parse_problem("96 7 37 74 -> 56"), expr)
    assert not task.verify(task.parse_problem("96 7 37 74 74 -> 55"), expr)  # a number left unused


def test_states_prompts_and_steps_carry_the_target(task):
    p = task.parse_problem("96 7 37 74 -> 55")
    s = task.initial_state(p)
    assert task.state_text(s) == "7 37 74 96 -> 55"
    assert task.prompt("cot", p) == "Input: 7 37 74 96 -> 55\nSteps:\n"
    child = task.expand(s, "96 - 74 = 22 (left: 7 22 37)")
    assert task.state_text(child) == "7 22 37 -> 55"
    assert task.value_prompt(child) == "Numbers: 7 22 37 -> 55\nCan reach 55: "
    assert task.step_prompt(child) == "Input: 7 22 37 -> 55\nSteps:\n"
    assert task.expand(s, "96 - 74 = 21 (left: 7 21 37)") is None
    assert task.expand(s, "96 - 75 = 21 (left: 7 21 37)") is None
    done = task.expand(task.expand(child, "22 - 7 = 15 (left: 15 37)"), "15 + 37 = 52 (left: 52)")
    assert task.is_terminal(done) and task.answer(done) is None  # 52 is not the target
    assert task.response("value", child, random.Random(0)) in ("sure\n", "impossible\n")


def test_reference_responses_verify(task):
    rng = random.Random(0)
    for p in task.problems("train")[:40]:
        for style in ("io", "cot"):
            text = task.response(style, p, rng)
            assert text.endswith(task.stop(style)[0]) and task.reward(p, text) == 1.0, text


def test_training_states_leave_out_held_out_problems(task):
    test = next(p for p in task.problems("test") if len(task.numbers(p)) == 3)
    numbers, target = parent_of(*key(task, test))
    parent = task.parse_problem(f"{' '.join(map(str, numbers))} -> {target}")  # leads straight to the test problem
    assert test.text in {task.state_text(c) for _, c in task.successors(task.initial_state(parent))}
    texts = {task.state_text(s) for s in task.training_states(parent)}
    assert len(texts) > 10 and test.text not in texts


def test_answer_pattern_claims_the_target_only(task):
    import re

    p = task.parse_problem("96 7 37 74 -> 55")
    assert re.fullmatch(task.answer_pattern(p), "(96 - 74) * 7 = 55")
    assert not re.fullmatch(task.answer_pattern(p), "(96 - 74) * 7 = 154")
    # self-consistency counts only claims: two chains that honestly end elsewhere cast no vote
    line = task.response("io", p, random.Random(0)).strip()
    replies = ["Answer: 96 + 74 = 170\n\n", "Answer: 96 + 74 = 170\n\n", f"Answer: {line}\n\n"]
    model = ScriptedModel(reply=lambda prompt, i: replies[i % 3])
    free = ChainOfThought(constrained=False)  # the scripted replies as they are
    result = SelfConsistency(base=free, n=3, max_samples=3).solve(p, model, task, Budget())
    assert result.answer == line and task.verify(p, result.answer)


def test_grammars(task):
    four = task.parse_problem("96 7 37 74 -> 55")
    g = task.grammar("cot", four)
    assert set(g.lines([])) == set(task.thoughts(task.initial_state(four)))
    assert "96 - 74 = 22 (left: 7 22 37)" in g.lines([])
    assert len(task.grammar("io", four).lines([])) > 1000
    five = task.parse_problem("1 2 3 4 5 -> 55")
    assert task.grammar("io", five) is None  # too many expressions to list: io runs unconstrained
    assert task.grammar("cot", five).lines([])  # cot's grammar lists steps, any count
