"""Both directions at once: the project's own OpenAI client backend (reasoning/backends/openai.py)
driving `reason serve` over the same model gives the answers the local backend gives."""

from __future__ import annotations

import pytest

from reasoning.types import Budget

PUZZLES = ["4 9 10 13", "1 1 4 6", "4 4 6 8"]


@pytest.fixture(scope="module")
def remote(server):
    from reasoning.backends import ModelSpec, load

    return load(ModelSpec(backend="openai", base_url=server + "/v1", model_name="default"))


@pytest.fixture(scope="module")
def task():
    from tasks import Game24

    return Game24()


def run(name, settings, model, task, text, budget=Budget()):
    import strategies

    strategy, fallbacks = strategies.adapt(strategies.create(name, settings), model.capabilities())
    return strategy.solve(task.parse_problem(text), model, task, budget), fallbacks


def test_greedy_cot_through_the_server_answers_as_the_local_model(remote, shipped, task):
    assert remote.identity()["model"] == "default"
    answers = []
    for text in PUZZLES:
        here, _ = run("cot", {"constrained": "false"}, shipped, task, text)
        there, fallbacks = run("cot", {"constrained": "false"}, remote, task, text)
        assert fallbacks == () and there.answer == here.answer, text
        answers.append(here.answer)
    assert all(answers)  # real answers compared, not two Nones


def test_tree_of_thoughts_through_the_server_solves_the_hardest_test_puzzle(remote, task):
    result, fallbacks = run("tot", {}, remote, task, "4 9 10 13", Budget(seconds=60))
    assert fallbacks == ()  # the server gives prompt log-probabilities: nothing falls back
    assert task.verify(task.parse_problem("4 9 10 13"), result.answer), result.answer
