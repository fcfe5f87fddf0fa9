"""Task roles: what each role asks for, and the checks strategies make before any model call."""

import pytest

from reasoning.errors import BadInput
from reasoning.protocols import ROLES, Unconstrained, grammar_for, grammars_for, has_role, missing, require
from tasks import Arithmetic, Countdown, Game24


def test_roles_list_their_members():
    assert set(ROLES["answering"]) == {"name", "problems", "parse_problem", "prompt", "stop", "parse", "verify",
                                       "reward", "answer_pattern"}
    assert {"initial_state", "state_text", "propose_prompt", "step_prompt", "value_prompt", "parse_thoughts",
            "expand", "is_terminal", "answer", "value_labels", "value_weights"} == set(ROLES["search"])
    assert set(ROLES["training"]) == {"response", "training_states"}
    assert set(ROLES["grammar"]) == {"grammar_styles", "grammar"}


def test_which_task_has_which_role():
    for task in (Game24(), Countdown()):
        assert all(has_role(task, role) for role in ROLES)
    arithmetic = Arithmetic()
    assert has_role(arithmetic, "answering") and has_role(arithmetic, "training") and has_role(arithmetic, "grammar")
    assert missing(arithmetic, "search") == list(ROLES["search"])


def test_require_names_the_missing_role_and_members():
    require(Game24(), "tot", "answering", "search")  # has both: no error
    with pytest.raises(BadInput, match=r"tot needs the search role, which task 'arithmetic' lacks \(missing: value_labels"):
        require(Arithmetic(), "tot", "answering", "search")

    class Half:
        name = "half"

        def prompt(self, style, problem, k=0):
            return ""

    with pytest.raises(BadInput, match="cot needs the answering role.*missing: problems, parse_problem, stop"):
        require(Half(), "cot", "answering")


def test_grammar_for_is_none_where_a_task_has_none():
    game, arithmetic = Game24(), Arithmetic()
    problem = game.parse_problem("4 9 10 13")
    assert grammar_for(game, "cot", problem) is not None
    assert grammar_for(game, "value", problem) is None  # not one of its grammar styles: no BadInput
    assert grammar_for(arithmetic, "io", arithmetic.parse_problem("1 + 2")) is None
    assert grammar_for(object(), "cot", problem) is None  # a task without the grammar role
    states = [game.initial_state(problem)]
    assert grammars_for(object(), "step", states) is None
    assert len(grammars_for(game, "step", states)) == 1
    mixed = Countdown()
    five, four = mixed.parse_problem("1 2 3 4 5 -> 15"), mixed.parse_problem("1 2 3 4 -> 10")
    got = [grammar_for(mixed, "io", p) for p in (five, four)]
    assert got[0] is None and got[1] is not None
    assert Unconstrained().lines(["x"]) is None
