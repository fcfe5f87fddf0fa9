import re

import pytest

from reasoning.backends.hf import HFModel
from reasoning.errors import BadInput
from strategies import ChainOfThought
from tasks.arithmetic import CATEGORIES, SIZES, Arithmetic, _Products, scratchpad, show, value
from training.model import ModelConfig, build_model
from training.tokenizer import build_tokenizer


@pytest.fixture(scope="module")
def task():
    return Arithmetic()


@pytest.mark.parametrize(
    "text, canonical, category, result",
    [
        ("98 + 45", "98 + 45", "2D+", 143),
        ("What is 98 plus 45?", "98 + 45", "2D+", 143),
        ("Q: What is 45 minus 98? A:", "45 - 98", "2D-", -53),
        ("Question: What is 12 times 34?\nAnswer:", "12 * 34", "2Dx", 408),
        ("What is (2 * 3) + 4?", "(2 * 3) + 4", "1DC", 10),
        ("What is 6+(4*8)?", "6 + (4 * 8)", "1DC", 38),
        ("12345 - 67890", "12345 - 67890", "5D-", -55545),
        ("7 * 5", "7 * 5", "2Dx", 35),
        ("  3   +  (4 - 9) ", "3 + (4 - 9)", "1DC", -2),
    ],
)
def test_parse_problem_reads_expressions_and_the_papers_questions(task, text, canonical, category, result):
    p = task.parse_problem(text)
    assert p.text == canonical and p.meta["category"] == category and value(task.expr(p.text)) == result


@pytest.mark.parametrize(
    "text, says",
    [
        ("98 +", "expected number"), ("98 + x", "expected number"), ("98 45", "expected + - or *"),
        ("1 + 2 + 3", "two numbers"), ("(12 * 3) + 4", "one-digit"), ("123 * 45", "at most two digits"),
        ("12345678901 + 1", "at most 10 digits"), ("", "expression"), ("What is?", "expression"),
        ("98 / 2", "expected + - or *"), ("-5 + 3", "expected number"), ("(1 + 2) * (3 + 4)", "three one-digit"),
        ("2 ** 3", "expected number"), ("(2 * 3 + 4", "expected )"),
    ],
)
def test_bad_problems_are_refused(task, text, says):
    with pytest.raises(BadInput, match=re.escape(says)):
        task.parse_problem(text)


def test_splits_follow_the_papers_categories(task):
    splits = {s: task.problems(s) for s in ("test", "val", "train")}
    for split, size in SIZES.items():
        cats = [p.meta["category"] for p in splits[split]]
        assert {c: cats.count(c) for c in CATEGORIES} == {c: size for c in CATEGORIES}
    texts = {s: {p.text for p in ps} for s, ps in splits.items()}
    assert not (texts["test"] & texts["val"]) and not (texts["train"] & (texts["test"] | texts["val"]))
    for p in splits["train"][::7] + splits["test"]:
        expr, cat = task.expr(p.text), p.meta["category"]
        if cat == "1DC":
            assert p.text.count("(") == 1 and all(c.isdigit() and int(c) < 10 for c in p.text if c.isdigit())
        else:
            op, a, b = expr
            bound = 100 if cat == "2Dx" else 10 ** int(cat[0])
            assert op == {"x": "*"}.get(cat[2], cat[2]) and 0 <= a < bound and 0 <= b < bound
        assert task.parse_problem(p.text).text == p.text  # the canonical text reads back
    assert any(value(task.expr(p.text)) < 0 for p in splits["test"] if p.meta["category"] == "5D-")
    assert task.problems("test") == splits["test"]  # deterministic


def test_verify_is_exact(task):
    p = task.parse_problem("45 - 98")
    assert task.verify(p, "-53") and task.verify(p, " -53 ")
    for wrong in ("53", "-53.0", "-5 3", "--53", "+-53", "-54", "", None, "Answer: -53"):
        assert not task.verify(p, wrong), wrong
    assert task.parse("45 - 98 = -(98 - 45)\n8 - 5 - 0 = 3\n9 - 4 - 0 = 5\nAnswer: -53\n\n") == "-53"
    assert task.parse("-53\n") == "-53" and task.parse("minus 53\n") is None


def test_every_reference_scratchpad_checks_out(task):
    for p in task.problems("val"):
        text = task.response("cot", p, None)
        assert text.endswith("\n\n") and task.reward(p, text) == 1.0 and task.mistakes(p, text) == [], text
        assert task.reward(p, task.response("io", p, None)) == 1.0


def test_scratchpad_lines_carry_borrow_and_multiply():
    assert scratchpad(("+", 98, 45)) == ["8 + 5 + 0 = 13", "9 + 4 + 1 = 14", "Answer: 143"]
    assert scratchpad(("-", 45, 98)) == ["45 - 98 = -(98 - 45)", "8 - 5 - 0 = 3", "9 - 4 - 0 = 5", "Answer: -53"]
    assert scratchpad(("-", 1000, 1)) == ["0 - 1 - 0 = -1", "0 - 0 - 1 = -1", "0 - 0 - 1 = -1", "1 - 0 - 1 = 0", "Answer: 999"]
    assert scratchpad(("*", 12, 34)) == ["2 * 4 + 0 = 8 + 0 = 8", "1 * 4 + 0 = 4 + 0 = 4", "12 * 4 = 48",
                                         "2 * 3 + 0 = 6 + 0 = 6", "1 * 3 + 0 = 3 + 0 = 3", "12 * 30 = 360",
                                         "8 + 0 + 0 = 8", "4 + 6 + 0 = 10", "0 + 3 + 1 = 4", "Answer: 408"]  # fmt: skip
    assert scratchpad(("*", 87, 2)) == ["7 * 2 + 0 = 14 + 0 = 14", "8 * 2 + 1 = 16 + 1 = 17", "87 * 2 = 174", "Answer: 174"]
    assert scratchpad(("*", 2, ("-", 3, 9))) == ["3 - 9 = -(9 - 3)", "9 - 3 - 0 = 6", "2 * (3 - 9) = 2 * (-6)",
                                                 "2 * (-6) = -(2 * 6)", "2 * 6 + 0 = 12 + 0 = 12", "2 * 6 = 12", "Answer: -12"]  # fmt: skip
    assert scratchpad(("*", ("+", 9, 6), 3)) == ["9 + 6 + 0 = 15", "(9 + 6) * 3 = 15 * 3", "5 * 3 + 0 = 15 + 0 = 15",
                                                 "1 * 3 + 1 = 3 + 1 = 4", "15 * 3 = 45", "Answer: 45"]  # fmt: skip


def test_composite_sign_rules_cover_every_shape(task):
    """Every composite of one-digit numbers (18,000 of them: both shapes, every pair of operations)
    has a reference scratchpad that the checker accepts and that reaches the exact value."""
    for op, iop in ((o, i) for o in "+-*" for i in "+-*"):
        for x in range(10):
            for y in range(10):
                for z in range(10):
                    for expr in ((op, (iop, x, y), z), (op, x, (iop, y, z))):
                        p = task.parse_problem(show(expr))
                        text = task.response("cot", p, None)
                        assert text.endswith(f"Answer: {value(expr)}\n\n") and task.mistakes(p, text) == [], text


def test_product_lines_are_read_not_listed():
    """A product line's 7,380 choices are looked up by reading the line: the same lines, and only
    plainly written numbers in range, as listing them all would give."""
    lines = _Products(7, 8, 5)
    assert {line: lines[line] for line in lines} == {f"7 * 8 + 5 = {q} + 5 = {p}": p for q in range(82) for p in range(90)}
    for bad in ("7 * 8 + 5 = 056 + 5 = 61", "7 * 8 + 5 = 56 + 5 = 90", "7 * 8 + 4 = 56 + 5 = 61",
                "7 * 8 + 5 = 82 + 5 = 61", "7 * 8 + 5 = 56 + 5 = -1", "7 * 8 + 5 = 56 + 5 = 61 ", "7 * 8 + 5 = 61"):
        assert bad not in lines, bad


def test_mistakes_names_each_wrong_line_once(task):
    p = task.parse_problem("98 + 45")
    assert task.mistakes(p, "8 + 5 + 0 = 12\n9 + 4 + 1 = 14\nAnswer: 142\n\n") == ["8 + 5 + 0 = 12"]  # a wrong sum
    assert task.mistakes(p, "8 + 5 + 0 = 13\n9 + 4 + 0 = 13\nAnswer: 133\n\n") == ["9 + 4 + 0 = 13"]  # a lost carry
    assert task.mistakes(p, "8 + 5 + 0 = 13\n9 + 4 + 1 = 14\nAnswer: 144\n\n") == ["Answer: 144"]
    assert task.mistakes(p, "8 + 6 + 0 = 14\n") == ["8 + 6 + 0 = 14"]  # a digit that is not in the problem
    assert task.mistakes(p, "8 + 5 + 0 = 13\n") == ["(unfinished)"]


def test_grammar_holds_the_bookkeeping_not_the_sums(task):
    g = task.grammar("cot", task.parse_problem("98 + 45"))
    first = g.lines([])
    assert "8 + 5 + 0 = 13" in first and "8 + 5 + 0 = 12" in first  # the sum is the model's choice
    assert not any(line.startswith(("8 + 6", "9 + 4", "5 + 8")) for line in first)  # the digits are not
    assert g.lines(["8 + 5 + 0 = 12"]) == [f"9 + 4 + 1 = {s}" for s in range(20)]  # the carry the line says
    assert g.lines(["8 + 5 + 0 = 12", "9 + 4 + 1 = 14"]) == ["Answer: 142"]  # the answer those lines make
    assert g.lines(["8 + 5 + 0 = 12", "9 + 4 + 1 = 14", "Answer: 142"]) == [""]
    assert g.lines(["anything"]) is None  # written without the grammar: nothing to hold to
    neg = task.grammar("cot", task.parse_problem("45 - 98"))
    assert neg.lines([]) == ["45 - 98 = -(98 - 45)"]
    swapped = ["45 - 98 = -(98 - 45)"]
    assert neg.lines(swapped) == [f"8 - 5 - 0 = {r}" for r in range(-10, 10)]  # the sign is the model's choice
    assert neg.lines([*swapped, "8 - 5 - 0 = -7"]) == [f"9 - 4 - 1 = {r}" for r in range(-10, 10)]  # the borrow it says
    assert neg.lines([*swapped, "8 - 5 - 0 = -7", "9 - 4 - 1 = 4"]) == ["Answer: -43"]
    mul = task.grammar("cot", task.parse_problem("12 * 34"))
    first = mul.lines([])
    assert "2 * 4 + 0 = 9 + 0 = 9" in first and "3 * 4 + 0 = 8 + 0 = 8" not in first  # products chosen, digits held
    assert "2 * 4 + 0 = 8 + 0 = 18" in first  # the sum too, not only the product
    after = mul.lines(["2 * 4 + 0 = 8 + 0 = 18"])
    assert len(after) == 82 * 90 and all(line.startswith("1 * 4 + 1 = ") for line in after)  # the carry the line says
    assert mul.lines(["2 * 4 + 0 = 8 + 0 = 18", "1 * 4 + 1 = 4 + 1 = 5"]) == ["12 * 4 = 58"]  # the partial they make
    with pytest.raises(BadInput):
        task.grammar("io", task.parse_problem("12 * 34"))


def test_constrained_cot_from_noise_writes_only_scratchpad_lines(task):
    tok = build_tokenizer()
    lm = HFModel(build_model(ModelConfig.tiny(), len(tok), seed=0, tokenizer=tok).eval(), tok)
    for text in ("98 + 45", "45 - 98", "12 * 34", "(2 * 3) + 4"):
        p = task.parse_problem(text)
        cot = ChainOfThought(temperature=1.0, max_new_tokens=200)
        for c in cot.sample(p, lm, task, n=3, seed=1):
            lines = c.text.split("\n")
            assert c.finish_reason == "stop" and lines[-2:] == ["", ""], c.text
            written = lines[:-2]
            g = task.grammar("cot", p)
            assert all(line in g.lines(written[:i]) for i, line in enumerate(written)), c.text
            assert task.parse(c.text) is not None  # an answer line, right or wrong
            if task.mistakes(p, c.text) == []:  # every line right: then so is the answer
                assert task.verify(p, task.parse(c.text))


def test_k_shot_prompts_show_train_problems_of_the_same_category(task):
    p = task.problems("test")[0]
    prompt = task.prompt("cot", p, k=3)
    inputs = [line[len("Input: ") :] for line in prompt.splitlines() if line.startswith("Input: ")]
    train = {q.text: q.meta["category"] for q in task.problems("train")}
    assert len(inputs) == 4 and inputs[-1] == p.text
    assert all(train[t] == p.meta["category"] for t in inputs[:-1])
    assert task.prompt("io", task.parse_problem("1234567 + 1"), k=1).count("Input: ") == 2  # 7D+ borrows 2D+ examples
