"""Search mechanics of tree of thoughts, driven by a scripted fake model on Game of 24."""

import json

import networkx as nx
import pytest
from rich.console import Console

from reasoning.errors import BadInput
from reasoning.protocols import Capabilities
from reasoning.tree import render, save_tree
from reasoning.types import Budget
from strategies import TreeOfThoughts, create
from strategies.tot.search import label_reads
from tasks.game24 import Game24
from tests.fakes import ScriptedModel

TASK = Game24()
PROBLEM = TASK.parse_problem("4 9 10 13")

PROPOSALS = {
    "4 9 10 13": [
        "4 + 9 = 13 (left: 10 13 13)",
        "13 - 9 = 5 (left: 4 5 10)",  # wrong arithmetic: not a valid child
        "10 - 4 = 6 (left: 6 9 13)",
        "13 - 9 = 4 (left: 4 4 10)",
        "9 + 4 = 13 (left: 10 13 13)",  # same state as the first: a duplicate
    ],
    "4 4 10": ["4 + 4 = 8 (left: 8 10)", "10 - 4 = 6 (left: 4 6)"],
    "6 9 13": ["9 + 13 = 22 (left: 6 22)", "6 + 9 = 15 (left: 13 15)"],
    "6 22": ["6 + 22 = 28 (left: 28)"],
    "13 15": ["13 + 15 = 28 (left: 28)"],
    "8 10": ["8 + 10 = 18 (left: 18)"],
    "4 6": ["4 + 6 = 10 (left: 10)", "4 * 6 = 24 (left: 24)"],
    "10 13 13": ["10 + 13 = 23 (left: 13 23)"],
}
# sure / likely / impossible probabilities; "6 9 13" is rated best but leads nowhere
VALUES = {
    "10 13 13": {"impossible": 0.98, "likely": 0.02},
    "6 9 13": {"sure": 0.95, "likely": 0.05},
    "4 4 10": {"sure": 0.7, "likely": 0.3},
    "6 22": {"likely": 0.5, "impossible": 0.5},
    "13 15": {"likely": 0.4, "impossible": 0.6},
    "8 10": {"impossible": 1.0},
    "4 6": {"sure": 1.0},
    "13 23": {"impossible": 1.0},
}


def state_of(prompt: str) -> str:
    last = prompt.rstrip("\n").split("\n")
    for line in reversed(last):
        if line.startswith("Input: "):
            return line[len("Input: ") :]
        if line.startswith("Numbers: "):
            return line[len("Numbers: ") :]
    raise AssertionError(prompt)


def reply(prompt: str, i: int) -> str:
    if prompt.endswith("Can reach 24: "):  # vote mode samples the value prompt
        probs = VALUES[state_of(prompt)]
        return max(probs, key=probs.get) + "\n"
    return "".join(line + "\n" for line in PROPOSALS[state_of(prompt)]) + "\n"


def tot(**settings) -> TreeOfThoughts:
    """The mechanics tests script label probabilities: value=logprob unless a test says otherwise."""
    return TreeOfThoughts(**{"value": "logprob", **settings})


def fake() -> ScriptedModel:
    return ScriptedModel(reply=reply, labels=lambda prompt: VALUES[state_of(prompt)])


def expanded_states(model: ScriptedModel) -> list[str]:
    return [state_of(p) for kind, args in model.calls if kind == "generate" for p in args[0]]


def test_bfs_keeps_the_best_breadth_states_per_level():
    model = fake()
    result = tot(search="bfs", breadth=1).solve(PROBLEM, model, TASK, Budget())
    # level 1 keeps the top-valued "6 9 13"; its children are valued, "6 22" is kept; a dead end
    assert expanded_states(model) == ["4 9 10 13", "6 9 13", "6 22"]
    assert result.answer is None and result.stop_reason == "done"
    model = fake()
    result = tot(search="bfs", breadth=2).solve(PROBLEM, model, TASK, Budget())
    assert expanded_states(model) == ["4 9 10 13", "6 9 13", "4 4 10", "4 6", "6 22"]  # best first
    assert result.answer == "4 * (10 - (13 - 9)) = 24"
    assert TASK.verify(PROBLEM, result.answer)
    # one batched call per level for thoughts and one for values
    kinds = [kind for kind, _ in model.calls]
    assert kinds == ["generate", "label_logprobs", "generate", "label_logprobs", "generate"]
    assert result.extra["invalid_thoughts"] == 1 and result.extra["duplicate_thoughts"] >= 1


def test_tree_records_states_thoughts_values_and_exports():
    result = tot(search="bfs", breadth=2).solve(PROBLEM, fake(), TASK, Budget())
    graph = result.tree
    assert isinstance(graph, nx.DiGraph)
    root_children = {graph.nodes[c]["text"] for c in graph.successors(0)}
    assert root_children == {"10 13 13", "6 9 13", "4 4 10"}  # invalid and duplicate dropped
    assert graph.edges[0, next(c for c in graph.successors(0) if graph.nodes[c]["text"] == "4 4 10")]["thought"] == "13 - 9 = 4 (left: 4 4 10)"
    assert graph.nodes[next(c for c in graph.successors(0) if graph.nodes[c]["text"] == "6 9 13")]["value"] == pytest.approx(0.95 * 20 + 0.05)
    assert any(d["terminal"] and d["answer"] for _, d in graph.nodes(data=True))
    console = Console(record=True, width=200)
    console.print(render(graph))
    text = console.export_text()
    assert "13 - 9 = 4 (left: 4 4 10)" in text and "4 * (10 - (13 - 9)) = 24" in text and "dead end" in text


def test_save_tree_json_and_graphml(tmp_path):
    result = tot(search="bfs", breadth=2).solve(PROBLEM, fake(), TASK, Budget())
    save_tree(result.tree, tmp_path / "t.json")
    data = json.loads((tmp_path / "t.json").read_text())
    assert len(data["nodes"]) == result.tree.number_of_nodes() and data["edges"][0]["thought"]
    save_tree(result.tree, tmp_path / "t.graphml")
    assert nx.read_graphml(tmp_path / "t.graphml").number_of_nodes() == result.tree.number_of_nodes()
    with pytest.raises(BadInput):
        save_tree(result.tree, tmp_path / "t.txt")


def test_dfs_prunes_below_threshold_and_backtracks():
    model = fake()
    result = tot(search="dfs", threshold=0.3).solve(PROBLEM, model, TASK, Budget())
    # best first: "6 9 13" and its subtree (dead ends), backtrack, then "4 4 10" -> "4 6" -> 24.
    # "10 13 13" (value below the threshold) is never expanded; nor is "8 10".
    assert expanded_states(model) == ["4 9 10 13", "6 9 13", "6 22", "13 15", "4 4 10", "4 6"]
    assert result.answer == "4 * (10 - (13 - 9)) = 24"
    model = fake()  # a higher threshold prunes "6 22" (0.5) and "13 15" (0.4) before expanding them
    tot(search="dfs", threshold=1.0).solve(PROBLEM, model, TASK, Budget())
    assert expanded_states(model) == ["4 9 10 13", "6 9 13", "4 4 10", "4 6"]


def test_best_first_expands_the_best_state_at_any_depth():
    model = fake()
    result = tot(search="best").solve(PROBLEM, model, TASK, Budget())
    # "6 9 13" (19.05) first; its children are worth little (0.5, 0.4), so the search goes back up
    # to "4 4 10" (14.3) before them, and from there to "4 6" (20): nothing below is pruned, only later
    assert expanded_states(model) == ["4 9 10 13", "6 9 13", "4 4 10", "4 6"]
    assert result.answer == "4 * (10 - (13 - 9)) = 24" and result.stop_reason == "done"


WIDENING = {  # one sampled step per call: the root's first draw leads to a dead end, its second to 24
    "4 9 10 13": ["4 + 9 = 13 (left: 10 13 13)", "13 - 9 = 4 (left: 4 4 10)"],
    "10 13 13": ["10 + 13 = 23 (left: 13 23)"],
    "13 23": ["13 + 23 = 36 (left: 36)"],
    "4 4 10": ["10 - 4 = 6 (left: 4 6)"],
    "4 6": ["4 * 6 = 24 (left: 24)"],
}


def test_best_first_widens_expanded_states_when_the_queue_runs_dry():
    def sampled(prompt: str, i: int) -> str:
        lines = WIDENING[state_of(prompt)]
        return lines[min(i, len(lines) - 1)] + "\n"

    model = ScriptedModel(reply=sampled, labels=lambda p: VALUES[state_of(p)])
    result = tot(search="best", generate="sample", samples=1).solve(PROBLEM, model, TASK, Budget())
    # round one: the root's only child and its line to 36; round two draws again from every expanded
    # state, best first ("10 13 13" and "13 23" give nothing new), then the root's new step leads to 24
    assert expanded_states(model) == ["4 9 10 13", "10 13 13", "13 23", "10 13 13", "13 23", "4 9 10 13", "4 4 10", "4 6"]
    assert result.answer == "4 * (10 - (13 - 9)) = 24"


def test_best_first_ends_when_a_round_adds_nothing():
    model = ScriptedModel(reply=lambda p, i: WIDENING[state_of(p)][0] + "\n", labels=lambda p: VALUES[state_of(p)])
    result = tot(search="best", generate="sample", samples=1).solve(PROBLEM, model, TASK, Budget())
    assert expanded_states(model) == ["4 9 10 13", "10 13 13", "13 23", "10 13 13", "13 23", "4 9 10 13"]
    assert result.answer is None and result.stop_reason == "done"


def test_constrained_samples_are_valid_steps():
    wrong = "13 - 9 = 5 (left: 4 5 10)\n"  # wrong arithmetic: the task rejects it
    free = tot(search="bfs", generate="sample", samples=3, max_depth=1)
    result = free.solve(PROBLEM, ScriptedModel(reply=lambda p, i: wrong, labels=lambda p: {"likely": 1.0}), TASK, Budget())
    assert result.extra["invalid_thoughts"] == 3 and result.tree.number_of_nodes() == 1
    held = tot(search="bfs", generate="sample", samples=3, max_depth=1, constrained=True)
    result = held.solve(PROBLEM, ScriptedModel(reply=lambda p, i: wrong, labels=lambda p: {"likely": 1.0}), TASK, Budget())
    # held to the step grammar the same sample becomes a step the task accepts
    assert result.extra["invalid_thoughts"] == 0 and result.tree.number_of_nodes() == 2
    (child,) = result.tree.successors(0)
    assert TASK.expand(TASK.initial_state(PROBLEM), result.tree.edges[0, child]["thought"]) is not None


def test_dfs_threshold_can_prune_everything():
    model = fake()
    result = tot(search="dfs", threshold=25.0).solve(PROBLEM, model, TASK, Budget())
    assert expanded_states(model) == ["4 9 10 13"] and result.answer is None


def test_mcts_selects_by_uct_and_backs_up():
    model = fake()
    result = tot(search="mcts", c_uct=0.1, iterations=50).solve(PROBLEM, model, TASK, Budget())
    assert result.answer == "4 * (10 - (13 - 9)) = 24"
    # low exploration: first the top-valued "6 9 13" branch, whose backed-up value falls,
    # then "4 4 10" overtakes it
    order = expanded_states(model)
    assert order[:2] == ["4 9 10 13", "6 9 13"] and order[-2:] == ["4 4 10", "4 6"]
    g = result.tree
    for node, data in g.nodes(data=True):  # every visit of a child was a visit of its parent
        kids = sum(g.nodes[c]["visits"] for c in g.successors(node))
        assert data["visits"] in (kids, kids + 1)
    assert g.nodes[0]["visits"] == len(order)  # one backup per iteration


WIDE = {  # five root children: "4 4 10" is valued far above the rest, its own children only "likely"
    "4 9 10 13": ["13 - 9 = 4 (left: 4 4 10)", "4 + 9 = 13 (left: 10 13 13)", "10 - 4 = 6 (left: 6 9 13)",
                  "9 + 10 = 19 (left: 4 13 19)", "4 * 9 = 36 (left: 10 13 36)"],
    "4 4 10": ["4 + 4 = 8 (left: 8 10)", "10 - 4 = 6 (left: 4 6)"],
    "4 6": ["4 * 6 = 24 (left: 24)"],
    "8 10": ["8 + 10 = 18 (left: 18)"],
}  # fmt: skip


def wide() -> ScriptedModel:
    def answer(prompt: str, i: int) -> str:
        return "".join(line + "\n" for line in WIDE.get(state_of(prompt), ["1 + 1 = 2 (left: 2)"])) + "\n"

    def labels(prompt: str) -> dict[str, float]:
        return {"sure": 0.9, "likely": 0.1} if state_of(prompt) == "4 4 10" else {"likely": 0.6, "impossible": 0.4}

    return ScriptedModel(reply=answer, labels=labels)


def test_mcts_puct_follows_the_values_where_uct_explores():
    """At the same exploration constant PUCT (values as priors) stays below the top-valued child
    while its subtree looks only "likely"; UCT leaves it to try the other root children first."""
    puct_model, uct_model = wide(), wide()
    puct = tot(search="mcts", selection="puct").solve(PROBLEM, puct_model, TASK, Budget())
    uct = tot(search="mcts").solve(PROBLEM, uct_model, TASK, Budget())
    assert puct.answer == uct.answer == "4 * (10 - (13 - 9)) = 24"
    assert expanded_states(puct_model)[:2] == ["4 9 10 13", "4 4 10"] and len(expanded_states(puct_model)) <= 4
    assert len(set(expanded_states(uct_model)) & {"10 13 13", "6 9 13", "4 13 19", "10 13 36"}) >= 2


def test_mcts_stops_when_the_tree_is_exhausted():
    model = ScriptedModel(reply=lambda p, i: "4 + 9 = 13 (left: 10 13 13)\n\n" if "4 9 10 13" in p else "10 + 13 = 23 (left: 13 23)\n\n",
                          labels=lambda p: {"impossible": 1.0})
    result = tot(search="mcts", iterations=1000).solve(PROBLEM, model, TASK, Budget())
    assert result.answer is None and result.stop_reason == "done" and len(model.calls) < 20


@pytest.mark.parametrize("search", ["bfs", "dfs", "mcts", "best"])
def test_every_search_stops_on_the_budget(search):
    model = fake()
    result = tot(search=search).solve(PROBLEM, model, TASK, Budget(calls=2))
    assert result.stop_reason == "calls" and len(model.calls) == 2 and result.answer is None


def test_vote_values_use_sampled_labels():
    model = fake()
    result = tot(search="bfs", breadth=2, value="vote", votes=3).solve(PROBLEM, model, TASK, Budget())
    assert result.answer == "4 * (10 - (13 - 9)) = 24"
    value_calls = [args for kind, args in model.calls if kind == "generate" and args[0][0].endswith("Can reach 24: ")]
    assert value_calls and all(args[2] == 3 for args in value_calls)
    node = next(n for n, d in result.tree.nodes(data=True) if d["text"] == "10 13 13")
    assert result.tree.nodes[node]["value"] == pytest.approx(0.001)


def test_sample_generation_takes_one_thought_per_sample():
    lines = PROPOSALS["4 9 10 13"]
    model = ScriptedModel(reply=lambda p, i: lines[i % len(lines)] + "\n", labels=lambda p: VALUES[state_of(p)])
    result = tot(search="bfs", generate="sample", samples=5, max_depth=1).solve(PROBLEM, model, TASK, Budget())
    assert {result.tree.nodes[c]["text"] for c in result.tree.successors(0)} == {"10 13 13", "6 9 13", "4 4 10"}
    (kind, (prompts, params, n, seed)), *_ = model.calls
    # each sample is the first line of a chain of thought started from the state
    assert prompts == [TASK.step_prompt(TASK.initial_state(PROBLEM))] and prompts[0].endswith("Steps:\n")
    assert (kind, n, params.stop) == ("generate", 5, ("\n",)) and params.temperature > 0


def test_settings_from_the_cli():
    assert create("tot", {"search": "mcts", "breadth": "3", "value": "vote"}) == TreeOfThoughts(search="mcts", breadth=3, value="vote")
    with pytest.raises(BadInput):
        create("tot", {"search": "astar"})
    with pytest.raises(BadInput):
        create("tot", {"breadth": "0"})


def test_several_propose_samples_are_merged_in_order():
    first = "4 + 9 = 13 (left: 10 13 13)\n\n"
    second = "13 - 9 = 4 (left: 4 4 10)\n4 + 9 = 13 (left: 10 13 13)\n\n"
    model = ScriptedModel(reply=lambda p, i: first if i % 2 == 0 else second, labels=lambda p: VALUES[state_of(p)])
    config = tot(search="bfs", propose_samples=2, temperature=0.8, max_depth=1)
    result = config.solve(PROBLEM, model, TASK, Budget())
    (kind, (prompts, params, n, seed)), *_ = model.calls
    assert n == 2 and params.temperature == 0.8
    assert [result.tree.nodes[c]["text"] for c in result.tree.successors(0)] == ["10 13 13", "4 4 10"]
    assert result.extra["duplicate_thoughts"] == 1


def test_label_prefix_reads_the_distinct_first_characters():
    model = fake()
    tot(search="bfs", label_prefix=True, max_depth=1).solve(PROBLEM, model, TASK, Budget())
    (labels,) = {tuple(args[1]) for kind, args in model.calls if kind == "label_logprobs"}
    assert labels == ("s", "l", "i")


ROLLOUTS = {  # chains of thought from a state (value=rollout): only the one from "4 4 10" is right
    "4 4 10": "10 - 4 = 6 (left: 4 6)\n4 * 6 = 24 (left: 24)\nAnswer: 4 * (10 - 4) = 24\n\n",
    "6 9 13": "13 - 9 = 4 (left: 4 6)\n4 * 6 = 25 (left: 25)\nAnswer: 6 * (13 - 9) = 25\n\n",  # wrong arithmetic
    "10 13 13": "13 - 10 = 3 (left: 3 13)\n3 + 13 = 16 (left: 16)\nAnswer: (13 - 10) + 13 = 16\n\n",  # no 24
}


def rollout_reply(prompt: str, i: int) -> str:
    return ROLLOUTS[state_of(prompt)] if prompt.endswith("Steps:\n") else reply(prompt, i)


@pytest.mark.parametrize("search", ["bfs", "dfs", "mcts", "best"])
def test_rollout_values_look_ahead_and_keep_the_path_that_reaches_24(search):
    model = ScriptedModel(reply=rollout_reply)
    result = TreeOfThoughts(search=search, value="rollout").solve(PROBLEM, model, TASK, Budget())
    assert result.answer == "4 * (10 - (13 - 9)) = 24" and TASK.verify(PROBLEM, result.answer)
    # one call lists the first steps, one batched call rolls out from all three children; then stop
    (_, (proposed, _, _, _)), (_, (rolled, params, n, _)) = model.calls
    assert [state_of(p) for p in rolled] == ["10 13 13", "6 9 13", "4 4 10"] and (n, params.temperature) == (1, 0.0)
    g = result.tree
    value = {g.nodes[c]["text"]: g.nodes[c]["value"] for c in g.successors(0)}
    assert value == {"4 4 10": 20.0, "6 9 13": 0.001, "10 13 13": 0.001}
    found = [d for _, d in g.nodes(data=True) if d.get("rollout")]
    assert [d["text"] for d in found] == ["4 6", "24"] and found[-1]["answer"] == result.answer


def test_several_rollouts_are_sampled_and_averaged():
    miss = "4 + 4 = 8 (left: 8 10)\n8 + 10 = 18 (left: 18)\nAnswer: (4 + 4) + 10 = 18\n\n"

    def sampled(prompt: str, i: int) -> str:  # from "4 4 10" one sample in three reaches 24
        if prompt.endswith("Steps:\n") and state_of(prompt) == "4 4 10":
            return ROLLOUTS["4 4 10"] if i % 3 == 0 else miss
        return rollout_reply(prompt, i)

    model = ScriptedModel(reply=sampled)
    result = TreeOfThoughts(value="rollout", rollouts=3, rollout_temperature=0.5).solve(PROBLEM, model, TASK, Budget())
    _, (rolled, params, n, _) = model.calls[1]
    assert (n, params.temperature) == (3, 0.5)
    node = next(c for c in result.tree.successors(0) if result.tree.nodes[c]["text"] == "4 4 10")
    assert result.tree.nodes[node]["value"] == pytest.approx((20 + 2 * 0.001) / 3)
    assert result.answer == "4 * (10 - (13 - 9)) = 24"


def test_a_missed_rollout_counts_as_the_value_prompts_estimate():
    scripts = {  # no rollout from the first level reaches 24; from "4 6" one does
        "4 4 10": "4 + 4 = 8 (left: 8 10)\n8 + 10 = 18 (left: 18)\nAnswer: (4 + 4) + 10 = 18\n\n",
        "6 9 13": ROLLOUTS["6 9 13"],
        "10 13 13": ROLLOUTS["10 13 13"],
        "6 22": "6 + 22 = 28 (left: 28)\nAnswer: 6 + 22 = 28\n\n",
        "13 15": "13 + 15 = 28 (left: 28)\nAnswer: 13 + 15 = 28\n\n",
        "8 10": "8 + 10 = 18 (left: 18)\nAnswer: 8 + 10 = 18\n\n",
        "4 6": "4 * 6 = 24 (left: 24)\nAnswer: 4 * 6 = 24\n\n",
    }
    model = ScriptedModel(reply=lambda p, i: scripts[state_of(p)] if p.endswith("Steps:\n") else reply(p, i),
                          labels=lambda p: VALUES[state_of(p)])
    result = TreeOfThoughts(value="rollout", breadth=2).solve(PROBLEM, model, TASK, Budget())
    # propose, roll out, then the value prompt for the states whose rollouts missed; level 2 the same
    # until a rollout from "4 6" reaches 24 (no value call after that)
    assert [kind for kind, _ in model.calls] == ["generate", "generate", "label_logprobs", "generate", "generate"]
    g = result.tree
    value = {g.nodes[c]["text"]: g.nodes[c]["value"] for c in g.successors(0)}
    assert value == pytest.approx({"6 9 13": 0.95 * 20 + 0.05, "4 4 10": 0.7 * 20 + 0.3, "10 13 13": 0.98 * 0.001 + 0.02})
    assert result.answer == "4 * (10 - (13 - 9)) = 24"


def test_label_reads_are_whole_labels_when_the_tokenizer_merges_characters():
    labels = TASK.value_labels
    assert label_reads(labels, len) == ["s", "l", "i"]  # one token per character: the prefixes
    words = lambda text: len(text.split()) or 1  # noqa: E731 - a tokenizer that makes one token per word
    assert label_reads(labels, words) is None
    model = fake()
    model.count_tokens = words  # type: ignore[method-assign]
    result = tot(search="bfs", label_prefix=True, max_depth=1).solve(PROBLEM, model, TASK, Budget())
    (read,) = {tuple(args[1]) for kind, args in model.calls if kind == "label_logprobs"}
    assert read == labels
    assert result.extra["fallbacks"] == ["label_prefix=true -> whole labels: the tokenizer merges characters"]


NO_LOGPROBS = Capabilities(score=False, label_logprobs=False)


def test_without_label_logprobs_logprob_values_become_votes_and_say_so():
    model = ScriptedModel(reply=reply, caps=NO_LOGPROBS)  # no label probabilities to give
    result = tot(search="bfs", breadth=2, votes=3).solve(PROBLEM, model, TASK, Budget())
    assert result.answer == "4 * (10 - (13 - 9)) = 24"
    assert "label_logprobs" not in {kind for kind, _ in model.calls}
    assert result.extra["fallbacks"] == [
        "value=logprob -> vote (3 sampled labels per state): the model gives no label log-probabilities"
    ]
    node = next(n for n, d in result.tree.nodes(data=True) if d["text"] == "10 13 13")
    assert result.tree.nodes[node]["value"] == pytest.approx(0.001)  # the vote of the sampled label


def test_without_label_logprobs_missed_rollouts_are_valued_by_votes():
    model = ScriptedModel(reply=rollout_reply, caps=NO_LOGPROBS)
    config, notes = TreeOfThoughts(value="rollout").adapt(NO_LOGPROBS)
    assert config.rollout_estimate == "vote" and "rollout_estimate=logprob -> vote" in notes[0]
    result = TreeOfThoughts(value="rollout", breadth=1, search="dfs").solve(PROBLEM, model, TASK, Budget())
    assert result.answer == "4 * (10 - (13 - 9)) = 24" and result.extra["fallbacks"] == list(notes)
    assert "label_logprobs" not in {kind for kind, _ in model.calls}


def test_with_every_capability_nothing_changes():
    config = TreeOfThoughts(value="logprob", constrained=True)
    assert config.adapt(Capabilities()) == (config, ())
    assert tot(search="bfs", breadth=2).solve(PROBLEM, fake(), TASK, Budget()).extra["fallbacks"] == []


def test_constrained_rollouts_without_constraints_are_refused_before_any_call():
    model = ScriptedModel(reply=rollout_reply, caps=Capabilities(constraints=False))
    with pytest.raises(BadInput, match="constrained=true needs grammar-constrained decoding.*--set constrained=false"):
        TreeOfThoughts(value="rollout", constrained=True).solve(PROBLEM, model, TASK, Budget())
    assert model.calls == []
