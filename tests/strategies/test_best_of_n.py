"""Best-of-N: n samples of a base strategy, the reward model's favourite wins, no verifier."""

import pytest

from reasoning.errors import BadInput
from reasoning.judgment import response_input
from reasoning.types import Budget
from strategies import BestOfN, ChainOfThought, adapt, create
from reasoning.protocols import Capabilities
from tasks.game24 import Game24
from tests.fakes import ScriptedModel

TASK = Game24()
PROBLEM = TASK.parse_problem("4 9 10 13")
SAMPLES = [
    "13 - 9 = 4 (left: 4 4 10)\nAnswer: 4 + 4 + 10 = 18\n\n",
    "4 + 9 = 13 (left: 10 13 13)\nAnswer: (4 + 9) + 10 + 13 = 24\n\n",  # claims 24, wrongly
    "13 - 9 = 4 (left: 4 4 10)\nAnswer: (10 - 4) * (13 - 9) = 24\n\n",
    "I give up\n\n",  # no answer: never chosen, whatever its score
]


class Unverified(Game24):
    """The harness verifies; best-of-N must not."""

    def verify(self, problem, answer):
        raise AssertionError("best-of-N consulted the verifier")


def scored(scores):
    return ScriptedModel(reply=lambda p, i: SAMPLES[i % len(SAMPLES)], rewards=lambda text: scores[text.split("Steps:\n", 1)[1]])


@pytest.mark.parametrize("best", [1, 2])
def test_bon_returns_the_sample_the_reward_model_scores_highest(best):
    scores = {s: 0.0 for s in SAMPLES} | {SAMPLES[best]: 2.0, SAMPLES[3]: 9.0}
    model = scored(scores)
    result = BestOfN(ChainOfThought(constrained=False), n=4, per_call=4).solve(PROBLEM, model, Unverified(), Budget())
    assert result.answer == TASK.parse(SAMPLES[best])
    (_, (prompts, params, n, _)), (kind, texts) = model.calls
    assert (n, params.temperature, kind) == (4, 0.8, "reward")
    assert texts == [response_input(prompts[0], s) for s in SAMPLES]  # the prompt and each response, one call
    assert result.extra["samples"] == 4 and result.extra["scores"] == [scores[s] for s in SAMPLES]


def test_bon_samples_in_rounds_and_stops_on_the_budget():
    model = scored({s: float(i) for i, s in enumerate(SAMPLES)})
    result = BestOfN(ChainOfThought(constrained=False), n=8, per_call=2).solve(PROBLEM, model, TASK, Budget(calls=4))
    # round 1: generate + reward; round 2: generate + reward; then the budget is spent
    assert [k for k, _ in model.calls] == ["generate", "reward", "generate", "reward"]
    assert result.stop_reason == "calls" and result.extra["samples"] == 4
    assert result.answer == TASK.parse(SAMPLES[2])  # the best-scored of the four with an answer


def test_bon_needs_a_reward_model_and_names_the_option():
    model = ScriptedModel(reply=lambda p, i: SAMPLES[0])
    with pytest.raises(BadInput, match="bon needs a reward model.*--reward-model"):
        BestOfN().solve(PROBLEM, model, TASK, Budget())
    assert model.calls == []
    with pytest.raises(BadInput, match="bon needs a reward model"):
        adapt(create("bon"), Capabilities())
    with pytest.raises(BadInput, match="base.constrained=true needs grammar-constrained decoding"):
        adapt(create("bon"), Capabilities(constraints=False, reward=True))
    assert create("bon", {"n": "16", "base.k": "1"}) == BestOfN(ChainOfThought(k=1), n=16)


def test_bon_asks_a_task_only_for_the_answering_role():
    """On a task with nothing but the answering role (no grammar, no search), bon runs; on what
    is not a task it refuses before any model call."""
    from reasoning.protocols import Problem
    from tests.strategies.test_roles import Echo

    task = Echo()
    model = ScriptedModel(reply=lambda p, i: f"{i + 6}\n", rewards=lambda text: 1.0 if text.endswith("7\n") else 0.0)
    result = BestOfN(n=3, per_call=3).solve(task.parse_problem("7"), model, task, Budget())
    assert result.answer == "7" and BestOfN.roles == ("answering",)

    class Broken:
        name = "broken"

    model = ScriptedModel(rewards=lambda text: 0.0)
    with pytest.raises(BadInput, match="bon needs the answering role"):
        BestOfN().solve(Problem("p", "1"), model, Broken(), Budget())
    assert model.calls == []
