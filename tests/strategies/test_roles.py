"""Strategies check the roles they use before any model call, and run unconstrained where a task
has no grammar for their style."""

import pytest

from reasoning.errors import BadInput
from reasoning.protocols import Problem
from reasoning.types import Budget
from strategies import ChainOfThought, FewShot, SelfConsistency, TreeOfThoughts
from tasks import Arithmetic
from tests.fakes import ScriptedModel


class Recording(ScriptedModel):
    """The scripted model, also recording the constraint of each call."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.constraints = []

    def generate(self, prompts, params, n=1, seed=0, constraint=None):
        self.constraints.append(constraint)
        return super().generate(prompts, params, n, seed, constraint)


class Echo:
    """A minimal task (answering role only): say the number back."""

    name = "echo"

    def problems(self, split):
        return [Problem(id=f"echo-{i}", text=str(i)) for i in range(3)]

    def parse_problem(self, text):
        return Problem(id=f"echo-{text}", text=text)

    def prompt(self, style, problem, k=0):
        return f"Say {problem.text}: "

    def stop(self, style):
        return ("\n",)

    def parse(self, text):
        return text.strip() or None

    def verify(self, problem, answer):
        return answer == problem.text

    def reward(self, problem, text):
        return float(self.verify(problem, self.parse(text)))

    def answer_pattern(self, problem):
        return r"\d+"


@pytest.mark.parametrize("strategy", [FewShot(), ChainOfThought(), SelfConsistency(n=2, max_samples=2)])
def test_constrained_strategies_run_unconstrained_on_a_task_without_grammar(strategy):
    task, model = Echo(), Recording(reply=lambda prompt, i: "7\n")
    assert strategy.constrained if hasattr(strategy, "constrained") else strategy.base.constrained
    result = strategy.solve(task.parse_problem("7"), model, task, Budget())
    assert result.answer == "7" and task.verify(task.parse_problem("7"), result.answer)
    assert model.constraints and all(c is None for c in model.constraints)


def test_io_on_arithmetic_has_no_grammar_but_cot_has_one():
    task, model = Arithmetic(), Recording(reply=lambda prompt, i: "143\n")
    FewShot().solve(task.parse_problem("98 + 45"), model, task, Budget())
    ChainOfThought().solve(task.parse_problem("98 + 45"), model, task, Budget())
    assert model.constraints[0] is None and model.constraints[1] is not None


@pytest.mark.parametrize("task, role", [(Echo(), "search"), (Arithmetic(), "search")])
def test_tot_refuses_a_task_without_the_search_role_before_any_call(task, role):
    model = Recording()
    with pytest.raises(BadInput, match=f"tot needs the {role} role, which task '{task.name}' lacks"):
        TreeOfThoughts().solve(task.problems("test")[0], model, task, Budget())
    assert model.calls == []


def test_cot_refuses_what_is_not_a_task_before_any_call():
    model = Recording()

    class Broken:
        name = "broken"

        def prompt(self, style, problem, k=0):
            return ""

    with pytest.raises(BadInput, match="cot needs the answering role"):
        ChainOfThought().solve(Problem("p", "1"), model, Broken(), Budget())
    assert model.calls == []
