"""The model's own judgment in tree of thoughts: learned values (a reward model, one batched call,
no rollouts, no task check) in every search, and the model-only regime (steps as stated)."""

import math

import pytest

from reasoning.errors import BadInput
from reasoning.judgment import probability, state_input
from reasoning.types import Budget
from strategies import TreeOfThoughts, create
from strategies.tot.settings import SearchSettings
from tasks.game24 import Game24
from tests.fakes import ScriptedModel
from tests.strategies.tot.test_tree_of_thoughts import PROBLEM, PROPOSALS, TASK, reply, state_of

# the reward model's scores (logits) of states; "6 9 13" is rated low, "4 4 10" and "4 6" high
SCORES = {"10 13 13": -4.0, "6 9 13": -1.0, "4 4 10": 2.0, "8 10": -3.0, "4 6": 5.0, "6 22": -2.0, "13 15": -2.5}


def judged(**kw) -> ScriptedModel:
    return ScriptedModel(reply=reply, rewards=lambda text: SCORES[state_of(text)], **kw)


@pytest.mark.parametrize("search", ["bfs", "dfs", "mcts", "best"])
def test_learned_values_are_one_reward_call_per_frontier_in_every_search(search):
    model = judged()
    result = TreeOfThoughts(search=search, value="learned", breadth=1).solve(PROBLEM, model, TASK, Budget())
    assert result.answer == "4 * (10 - (13 - 9)) = 24" and TASK.verify(PROBLEM, result.answer)
    kinds = [kind for kind, _ in model.calls]
    # propose (generate) then one reward call for all children, level after level: no label
    # probabilities, no rollouts (no chain-of-thought prompt), no votes
    assert set(kinds) == {"generate", "reward"} and kinds[:2] == ["generate", "reward"]
    assert all(not p.endswith("Steps:\n") and not p.endswith("Can reach 24: ")
               for kind, args in model.calls if kind == "generate" for p in args[0])
    first = model.calls[1][1]
    assert first == [state_input(TASK, s) for s in (TASK.expand(TASK.initial_state(PROBLEM), t) for t in
                     ("4 + 9 = 13 (left: 10 13 13)", "10 - 4 = 6 (left: 6 9 13)", "13 - 9 = 4 (left: 4 4 10)"))]
    g = result.tree
    values = {g.nodes[c]["text"]: g.nodes[c]["value"] for c in g.successors(0)}
    assert values == pytest.approx({t: 20 * probability(SCORES[t]) for t in ("10 13 13", "6 9 13", "4 4 10")})
    assert result.extra["regime"] == "with rules"


def test_learned_values_follow_the_reward_model_not_the_task():
    """A reward model that prefers the dead-end branch leads BFS (breadth 1) there: the value
    asks nothing of the task."""
    model = ScriptedModel(reply=reply, rewards=lambda t: {"6 9 13": 3.0}.get(state_of(t), -3.0))
    result = TreeOfThoughts(search="bfs", value="learned", breadth=1).solve(PROBLEM, model, TASK, Budget())
    assert result.answer is None
    expanded = [state_of(p) for kind, args in model.calls if kind == "generate" for p in args[0]]
    assert expanded[:2] == ["4 9 10 13", "6 9 13"]


def test_learned_values_without_a_reward_model_are_refused_before_any_call():
    model = ScriptedModel(reply=reply)
    with pytest.raises(BadInput, match="value=learned needs a reward model.*--reward-model"):
        TreeOfThoughts(value="learned").solve(PROBLEM, model, TASK, Budget())
    assert model.calls == []


def test_learned_values_stop_on_the_budget():
    model = judged()
    result = TreeOfThoughts(value="learned").solve(PROBLEM, model, TASK, Budget(calls=2))
    assert result.stop_reason == "calls" and [k for k, _ in model.calls] == ["generate", "reward"]


# -- model only: the ToT paper's setting ------------------------------------------------------------
WRONG = {  # a model whose bookkeeping is wrong: 4 + 9 = 12, and a dropped number
    "4 9 10 13": ["4 + 9 = 12 (left: 10 12 13)", "10 - 4 = 6 (left: 6 13)", "13 - 9 = 4 (left: 4 4 10)"],
    "10 12 13": ["13 - 10 = 2 (left: 2 12)"],
    "2 12": ["2 * 12 = 24 (left: 24)"],
    "6 13": ["6 + 13 = 19 (left: 19)"],
    "4 4 10": ["4 + 4 = 8 (left: 8 10)"],
    "8 10": ["8 + 10 = 18 (left: 18)"],
}
WRONG_SCORES = {"10 12 13": 4.0, "6 13": 0.0, "4 4 10": -1.0, "2 12": 4.0, "8 10": -2.0}


def wrong_reply(prompt: str, i: int) -> str:
    return "".join(line + "\n" for line in WRONG[state_of(prompt)]) + "\n"


def test_model_only_expands_by_the_stated_left_list_and_verifies_only_the_answer():
    model = ScriptedModel(reply=wrong_reply, rewards=lambda t: WRONG_SCORES[state_of(t)])
    result = TreeOfThoughts(value="learned", rules=False, breadth=1).solve(PROBLEM, model, TASK, Budget())
    g = result.tree
    # every stated step is a child, as stated (wrong sums and a dropped number included)
    assert [g.nodes[c]["text"] for c in g.successors(0)] == ["10 12 13", "6 13", "4 4 10"]
    assert result.extra["invalid_thoughts"] == 0 and result.extra["regime"] == "model only"
    # the search believes it reached 24; the answer is the expression the stated steps build,
    # and only the verifier (here, afterwards) finds it wrong: (13 - 10) * (4 + 9) is 39
    assert result.answer == "(13 - 10) * (4 + 9) = 24"
    assert not TASK.verify(PROBLEM, result.answer)


def test_with_rules_the_same_model_gets_only_its_valid_steps():
    model = ScriptedModel(reply=wrong_reply, rewards=lambda t: WRONG_SCORES[state_of(t)])
    result = TreeOfThoughts(value="learned", breadth=1).solve(PROBLEM, model, TASK, Budget())
    assert [result.tree.nodes[c]["text"] for c in result.tree.successors(0)] == ["4 4 10"]
    assert result.extra["invalid_thoughts"] == 2 and result.answer is None


def test_model_only_rollouts_trust_the_model_too():
    """value=rollout in model only follows the chain's steps as stated: a chain that claims 24
    by wrong arithmetic ends the search with its (wrong) answer."""
    chain = "4 + 4 = 8 (left: 8 10)\n8 + 10 = 24 (left: 24)\nAnswer: (4 + 4) + 10 = 24\n\n"

    def rolled(prompt, i):
        if prompt.endswith("Steps:\n"):
            return chain if state_of(prompt) == "4 4 10" else "1 + 1 = 3 (left: 3)\n\n"
        return reply(prompt, i)

    model = ScriptedModel(reply=rolled, labels=lambda p: {"likely": 1.0})
    result = TreeOfThoughts(value="rollout", rules=False).solve(PROBLEM, model, TASK, Budget())
    assert result.answer == "((13 - 9) + 4) + 10 = 24" and not TASK.verify(PROBLEM, result.answer)
    with_rules = TreeOfThoughts(value="rollout").solve(PROBLEM, ScriptedModel(reply=rolled, labels=lambda p: {"likely": 1.0}), TASK, Budget(calls=3))
    assert with_rules.answer is None  # the task refuses 8 + 10 = 24


class NoStated:
    """Game of 24 without the stated-steps role: it cannot read the state a step says it reaches."""

    def __init__(self) -> None:
        self._game = Game24()

    def __getattr__(self, name):
        if name == "stated":
            raise AttributeError(name)
        return getattr(self._game, name)


def test_model_only_needs_a_task_that_reads_stated_states_and_no_grammar():
    model = judged()
    with pytest.raises(BadInput, match="tot rules=false needs the stated steps role, which task 'game24' lacks .missing: stated"):
        TreeOfThoughts(value="learned", rules=False).solve(PROBLEM, model, NoStated(), Budget())
    assert model.calls == []
    assert TreeOfThoughts(rules=False).roles == ("answering", "search", "stated steps")
    assert TreeOfThoughts().roles == ("answering", "search")
    with pytest.raises(BadInput, match="constrained=true .* cannot run with rules=false"):
        create("tot", {"rules": "false", "constrained": "true"})


def test_search_settings_are_declared_once_and_handed_to_the_searches():
    config = create("tot", {"search": "mcts", "breadth": "3", "value": "learned", "rules": "false"})
    settings = config.settings()
    assert type(settings) is SearchSettings and settings.breadth == 3 and settings.value == "learned"
    assert not hasattr(settings, "search") and settings.regime == "model only"
    assert math.isclose(probability(0.0), 0.5) and probability(-800.0) == 0.0 and probability(800.0) == 1.0


def test_uniform_values_ask_nothing_and_keep_the_order_thoughts_came_in():
    """value=uniform is the control: no judgment, so bfs keeps the first proposals."""
    model = ScriptedModel(reply=reply)
    result = TreeOfThoughts(search="bfs", value="uniform", breadth=1, max_depth=2).solve(PROBLEM, model, TASK, Budget())
    assert {kind for kind, _ in model.calls} == {"generate"}
    assert [state_of(p) for _, args in model.calls for p in args[0]] == ["4 9 10 13", "10 13 13"]
    assert result.answer is None and {d["value"] for n, d in result.tree.nodes(data=True) if n} == {1.0}
