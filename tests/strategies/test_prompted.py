import pytest

from reasoning.types import Budget
from strategies import ChainOfThought, FewShot, SelfConsistency, create, majority
from reasoning.errors import BadInput
from tasks.game24 import Game24
from tests.fakes import ScriptedModel

TASK = Game24()
PROBLEM = TASK.parse_problem("4 9 10 13")
GOOD = "13 - 9 = 4 (left: 4 4 10)\n10 - 4 = 6 (left: 4 6)\n4 * 6 = 24 (left: 24)\nAnswer: (10 - 4) * (13 - 9) = 24\n\n"


def test_io_prompts_with_k_examples_and_parses():
    model = ScriptedModel(reply=lambda prompt, i: "(10 - 4) * (13 - 9) = 24\n")
    result = FewShot(k=2).solve(PROBLEM, model, TASK, Budget())
    assert result.answer == "(10 - 4) * (13 - 9) = 24"
    assert TASK.verify(PROBLEM, result.answer)
    (kind, (prompts, params, n, seed)), = model.calls
    assert prompts[0].count("Input:") == 3 and prompts[0].endswith("Input: 4 9 10 13\nAnswer: ")
    assert params.temperature == 0 and params.stop == ("\n",)
    assert result.usage.calls == 1 and result.usage.generated_tokens == len("(10 - 4) * (13 - 9) = 24\n")


def test_cot_reads_the_answer_line():
    result = ChainOfThought(k=0).solve(PROBLEM, ScriptedModel(reply=lambda p, i: GOOD), TASK, Budget())
    assert result.answer == "(10 - 4) * (13 - 9) = 24" and result.trace == (GOOD,)


def test_majority_is_pure_and_breaks_ties_by_first_seen():
    assert majority(["a", "b", "b", None, "a"]) == "a"
    assert majority(["b", "a", "a", "b"]) == "b"
    assert majority(["1+2", "1 + 2", "3"]) == "1+2"
    assert majority([None, None]) is None
    assert majority([]) is None


def test_self_consistency_samples_in_rounds_until_the_budget_ends():
    answers = ["Answer: 1 + 2\n", "Answer: (10 - 4) * (13 - 9) = 24\n"]
    model = ScriptedModel(reply=lambda p, i: answers[0] if i % 3 == 0 else answers[1])
    sc = SelfConsistency(ChainOfThought(k=0), n=4, max_samples=100)
    result = sc.solve(PROBLEM, model, TASK, Budget(calls=3))
    assert result.answer == "(10 - 4) * (13 - 9) = 24"
    assert result.stop_reason == "calls" and result.extra["samples"] == 12
    seeds = [call[1][3] for call in model.calls]
    assert seeds == [0, 1, 2]  # a fresh seed per round
    assert all(call[1][2] == 4 and call[1][1].temperature == 0.8 for call in model.calls)


def test_self_consistency_without_budget_stops_at_max_samples():
    model = ScriptedModel(reply=lambda p, i: GOOD)
    result = SelfConsistency(ChainOfThought(k=0), n=4, max_samples=10).solve(PROBLEM, model, TASK, Budget())
    assert result.extra["samples"] == 10 and [c[1][2] for c in model.calls] == [4, 4, 2]
    assert result.stop_reason == "done"


def test_create_applies_settings_and_rejects_unknown():
    assert create("io", {"k": "3"}) == FewShot(k=3)
    with pytest.raises(BadInput):
        create("io", {"breadth": "3"})
    with pytest.raises(BadInput):
        create("nope")
