import pytest

from reasoning.meter import Meter
from reasoning.types import Budget
from reasoning.protocols import Capabilities
from strategies import ChainOfThought, FewShot, SelfConsistency, adapt, create, majority, settled
from reasoning.errors import BadInput
from tasks.game24 import Game24
from tests.fakes import ScriptedModel

TASK = Game24()
PROBLEM = TASK.parse_problem("4 9 10 13")
GOOD = "13 - 9 = 4 (left: 4 4 10)\n10 - 4 = 6 (left: 4 6)\n4 * 6 = 24 (left: 24)\nAnswer: (10 - 4) * (13 - 9) = 24\n\n"


def test_io_prompts_with_k_examples_and_parses():
    model = ScriptedModel(reply=lambda prompt, i: "(10 - 4) * (13 - 9) = 24\n")
    result = FewShot(k=2, constrained=False).solve(PROBLEM, model, TASK, Budget())
    assert result.answer == "(10 - 4) * (13 - 9) = 24"
    assert TASK.verify(PROBLEM, result.answer)
    (kind, (prompts, params, n, seed)), = model.calls
    assert prompts[0].count("Input:") == 3 and prompts[0].endswith("Input: 4 9 10 13\nAnswer: ")
    assert params.temperature == 0 and params.stop == ("\n",)
    assert result.usage.calls == 1 and result.usage.generated_tokens == len("(10 - 4) * (13 - 9) = 24\n")


def test_cot_reads_the_answer_line():
    result = ChainOfThought(k=0, constrained=False).solve(PROBLEM, ScriptedModel(reply=lambda p, i: GOOD), TASK, Budget())
    assert result.answer == "(10 - 4) * (13 - 9) = 24" and result.trace == (GOOD,)


def test_majority_is_pure_and_breaks_ties_by_first_seen():
    assert majority(["a", "b", "b", None, "a"]) == "a"
    assert majority(["b", "a", "a", "b"]) == "b"
    assert majority(["1+2", "1 + 2", "3"]) == "1+2"
    assert majority([None, None]) is None
    assert majority([]) is None


def test_settled_is_the_beta_criterion_on_the_two_leading_answers():
    """P(p1 > p2) under Beta(v1 + 1, v2 + 1): 4 unopposed votes give 1 - 2**-5 = 0.969, 3 give
    0.9375; 10 against 5 give P(Binomial(16, 1/2) <= 10) = 0.895; 12 against 3 give 0.989."""
    assert settled(["a"] * 4, 0.95) and not settled(["a"] * 3, 0.95)
    assert settled(["a"] * 3, 0.9) and not settled(["a"] * 3, 0.94)
    assert not settled(["a"] * 10 + ["b"] * 5, 0.9) and settled(["a"] * 10 + ["b"] * 5, 0.89)
    assert settled(["a"] * 12 + ["b"] * 3 + ["c"] * 3, 0.985)  # only the runner-up counts against the leader
    assert not settled(["a"] * 12 + ["b"] * 3 + ["c"] * 3, 0.99)
    assert settled(["1+2"] * 2 + ["1 + 2"] * 2, 0.95)  # white space does not split a vote
    assert not settled([None] * 50, 0.5) and not settled([], 0.5)  # no vote is never settled
    assert not settled(["a"] * 1000, 1.0)  # confidence 1: never stop early


def test_self_consistency_stops_once_the_vote_is_settled():
    miss = "13 - 9 = 4 (left: 4 4 10)\n4 + 4 = 8 (left: 8 10)\n8 + 10 = 18 (left: 18)\nAnswer: (13 - 9) + 4 + 10 = 18\n\n"
    other = "Answer: (13 - 9) * (10 - 4) = 24\n"
    # round 1: 2 claims of GOOD, 1 of another 24, a miss (P = 0.6875); round 2 adds 4 GOOD (6 vs 1: 0.965)
    replies = [GOOD, other, miss, GOOD, GOOD, GOOD, GOOD, GOOD]
    model = ScriptedModel(reply=lambda p, i: replies[i % len(replies)])
    sc = SelfConsistency(ChainOfThought(constrained=False), n=4, growth=1, max_samples=100, confidence=0.95)
    result = sc.solve(PROBLEM, model, TASK, Budget())
    assert result.extra["samples"] == 8 and len(model.calls) == 2 and result.extra["settled"]
    assert result.answer == "(10 - 4) * (13 - 9) = 24" and result.stop_reason == "done"
    never = SelfConsistency(ChainOfThought(constrained=False), n=4, max_samples=20)  # the default confidence, 1
    result = never.solve(PROBLEM, ScriptedModel(reply=lambda p, i: GOOD), TASK, Budget())
    assert result.extra["samples"] == 20 and not result.extra["settled"]
    with pytest.raises(BadInput, match="confidence"):
        create("sc", {"confidence": "0.2"})


def test_self_consistency_samples_in_rounds_until_the_budget_ends():
    answers = ["Answer: 1 + 2\n", "Answer: (10 - 4) * (13 - 9) = 24\n"]
    model = ScriptedModel(reply=lambda p, i: answers[0] if i % 3 == 0 else answers[1])
    sc = SelfConsistency(ChainOfThought(k=0, constrained=False), n=4, max_samples=100)
    result = sc.solve(PROBLEM, model, TASK, Budget(calls=3))
    assert result.answer == "(10 - 4) * (13 - 9) = 24"
    assert result.stop_reason == "calls" and result.extra["samples"] == 4 + 8 + 16  # each round twice the last
    seeds = [call[1][3] for call in model.calls]
    assert seeds == [0, 1, 2]  # a fresh seed per round
    assert [call[1][2] for call in model.calls] == [4, 8, 16]
    assert all(call[1][1].temperature == 0.8 for call in model.calls)
    flat = SelfConsistency(ChainOfThought(k=0, constrained=False), n=4, growth=1, max_samples=100)
    flat.solve(PROBLEM, model, TASK, Budget(calls=3))
    assert [call[1][2] for call in model.calls[3:]] == [4, 4, 4]


def test_rounds_grow_only_while_the_time_left_allows():
    """A model that takes 0.25 s a sample on a fake clock, 10 s of budget: rounds of 4 (1 s, 9 s
    left), 8 (2 s, 7 s left), 16 (4 s, 3 s left: less than twice that round) and 16 again."""
    clock = [0.0]

    class Slow(ScriptedModel):
        def generate(self, prompts, params, n=1, seed=0, constraint=None):
            clock[0] += 0.25 * n * len(prompts)
            return super().generate(prompts, params, n, seed, constraint)

    model = Slow(reply=lambda p, i: GOOD)
    meter = Meter(model, Budget(seconds=10), clock=lambda: clock[0])
    cot = ChainOfThought(k=0)
    sizes = [len(b) for b in cot.rounds(PROBLEM, meter, TASK, 1000, 4, 0, 0.8, growth=2.0)]
    assert sizes == [4, 8, 16, 16] and meter.exhausted()


def test_self_consistency_without_budget_stops_at_max_samples():
    model = ScriptedModel(reply=lambda p, i: GOOD)
    result = SelfConsistency(ChainOfThought(k=0), n=4, max_samples=10).solve(PROBLEM, model, TASK, Budget())
    assert result.extra["samples"] == 10 and [c[1][2] for c in model.calls] == [4, 6]
    assert result.stop_reason == "done"
    model = ScriptedModel(reply=lambda p, i: GOOD)
    result = SelfConsistency(ChainOfThought(k=0), n=4, growth=1.5, max_samples=20).solve(PROBLEM, model, TASK, Budget())
    assert result.extra["samples"] == 20 and [c[1][2] for c in model.calls] == [4, 6, 9, 1]  # 4 * 1.5 ** 2 = 9


def test_create_applies_settings_and_rejects_unknown():
    assert create("io", {"k": "3"}) == FewShot(k=3)
    with pytest.raises(BadInput):
        create("io", {"breadth": "3"})
    with pytest.raises(BadInput):
        create("nope")


def test_the_scripted_model_holds_constrained_cot_to_the_grammar():
    """A wrong step and a mis-copied answer line: constrained, the grammar replaces both (the first
    valid step, then the answer those steps really build); free, the model's text stands."""
    wrong = "13 - 9 = 5 (left: 4 5 10)\n10 - 4 = 6 (left: 5 6)\n5 * 6 = 30 (left: 30)\nAnswer: (13 - 9) * 6 = 24\n\n"
    model = ScriptedModel(reply=lambda p, i: wrong)
    free = ChainOfThought(constrained=False).solve(PROBLEM, model, TASK, Budget())
    assert free.trace == (wrong,) and free.answer == "(13 - 9) * 6 = 24"
    held = ChainOfThought(constrained=True).solve(PROBLEM, model, TASK, Budget())
    lines = held.trace[0].split("\n")
    first = TASK.thoughts(TASK.initial_state(PROBLEM))[0]
    assert lines[0] == first != wrong.split("\n")[0]
    state = TASK.initial_state(PROBLEM)
    for line in lines[:3]:
        state = TASK.expand(state, line)
        assert state is not None  # every step valid
    assert held.answer == TASK.answer(state) or held.answer.endswith(f"= {TASK.key(state)[0]}")
    assert TASK.verify(PROBLEM, held.answer) == (TASK.key(state)[0] == 24)


def test_self_consistency_counts_only_answers_that_claim_the_target():
    """Three chains end honestly on another value (as constrained chains do) and two claim a
    verified 24: the vote must go to the claim, not to the more common non-claim."""
    miss = "13 - 9 = 4 (left: 4 4 10)\n4 + 4 = 8 (left: 8 10)\n8 + 10 = 18 (left: 18)\nAnswer: (13 - 9) + 4 + 10 = 18\n\n"
    replies = [miss, GOOD, miss, GOOD, miss]
    model = ScriptedModel(reply=lambda p, i: replies[i % len(replies)])
    result = SelfConsistency(ChainOfThought(constrained=False), n=5, max_samples=5).solve(PROBLEM, model, TASK, Budget())
    assert result.extra["samples"] == 5
    assert result.answer == "(10 - 4) * (13 - 9) = 24" and TASK.verify(PROBLEM, result.answer)
    assert result.extra["votes"] == {"(10-4)*(13-9)=24": 2}  # the misses cast no vote


def test_constrained_prompting_needs_constraints_and_says_which_setting():
    no_constraints = ScriptedModel(reply=lambda p, i: "Answer: 1\n", caps=Capabilities(constraints=False))
    with pytest.raises(BadInput, match="cot: constrained=true needs .*; run unconstrained with --set constrained=false"):
        ChainOfThought().solve(PROBLEM, no_constraints, TASK, Budget())
    with pytest.raises(BadInput, match="--set base.constrained=false"):
        SelfConsistency().solve(PROBLEM, no_constraints, TASK, Budget())
    assert no_constraints.calls == []  # refused before any work
    free = SelfConsistency(ChainOfThought(constrained=False), n=2, max_samples=2)
    result = free.solve(PROBLEM, no_constraints, TASK, Budget())
    assert result.extra["samples"] == 2 and result.extra["fallbacks"] == []
    assert adapt(free, Capabilities(constraints=False)) == (free, ())
