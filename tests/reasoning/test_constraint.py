from fractions import Fraction

import pytest
import torch

from reasoning.backends.hf import HFModel
from reasoning.constraint import LineConstraint
from reasoning.types import Completion, SamplingParams
from strategies import ChainOfThought, FewShot
from tasks.exact import evaluate
from tasks.game24 import Game24
from training.model import ModelConfig, build_model
from training.tokenizer import build_tokenizer


@pytest.fixture(scope="module")
def tok():
    return build_tokenizer()


@pytest.fixture(scope="module")
def random_lm(tok):
    """A real (untrained) tiny model: left alone it writes noise."""
    return HFModel(build_model(ModelConfig.tiny(), len(tok), seed=0, tokenizer=tok).eval(), tok)


class TwoLines:
    def lines(self, done):
        return ["ab", "ac"] if not done else ([""] if len(done) == 1 else None)


def test_allowed_tokens_follow_the_lines(tok):
    c = LineConstraint(TwoLines(), tok)
    ids = lambda chars: sorted(tok.convert_tokens_to_ids(list(chars)))  # noqa: E731
    assert sorted(c.allowed("")) == ids("a")
    assert sorted(c.allowed("a")) == ids("bc")
    assert sorted(c.allowed("ab")) == ids("\n")
    assert sorted(c.allowed("ab\n")) == ids("\n")  # the closing blank line
    assert c.allowed("ab\n\n") is None  # past the grammar: anything
    assert c.allowed("x") is None  # nothing the grammar allows is in reach: left unconstrained
    logits = torch.zeros(1, len(tok))  # (A, V)
    out = c.process_logits(torch.tensor([tok.convert_tokens_to_ids(["a"])]), logits)
    assert torch.isfinite(out[0]).sum() == 2 and torch.isfinite(out[0, ids("bc")]).all()


def test_constrained_cot_writes_only_valid_chains_even_from_noise(random_lm):
    task, problem = Game24(), Game24().parse_problem("4 9 10 13")
    free = ChainOfThought(k=0, temperature=1.0, max_new_tokens=200, constrained=False)
    valid_first = set(task.grammar("cot", problem).lines([]))
    assert not any(c.text.split("\n")[0] in valid_first for c in free.sample(problem, random_lm, task, n=4, seed=1))
    chains = ChainOfThought(k=0, temperature=1.0, max_new_tokens=200, constrained=True)
    for c in chains.sample(problem, random_lm, task, n=6, seed=1):
        *steps, answer, blank, end = c.text.split("\n")
        assert len(steps) == 3 and blank == end == "" and c.finish_reason == "stop"
        state = task.initial_state(problem)
        for line in steps:
            state = task.expand(state, line)
            assert state is not None, line
        expr, value = task.parse(c.text).split(" = ")
        got, literals = evaluate(expr)
        assert got == Fraction(value) == state[0][0] and sorted(literals) == [4, 9, 10, 13]


def test_constrained_io_uses_each_number_once(random_lm):
    task, problem = Game24(), Game24().parse_problem("1 2 3 4")
    io = FewShot(k=0, temperature=1.0, constrained=True)
    for c in io.sample(problem, random_lm, task, n=4, seed=2):
        expr, value = task.parse(c.text).split(" = ")
        got, literals = evaluate(expr)
        assert got == Fraction(value) and sorted(literals) == [1, 2, 3, 4]


def test_a_grammar_passed_to_the_model_becomes_a_processor(random_lm):
    task = Game24()
    grammar = task.grammar("cot", task.parse_problem("4 9 10 13"))
    params = SamplingParams(temperature=0.0, max_new_tokens=200, stop=("\n\n",))
    text = random_lm.generate(["Input: 4 9 10 13\nSteps:\n"], params, constraint=grammar)[0][0].text
    assert text.startswith(tuple(grammar.lines([]))) and "Answer: " in text


class OneLine:
    def __init__(self, line):
        self.line = line

    def lines(self, done):
        return [self.line] if not done else ([""] if len(done) == 1 else None)


@pytest.mark.parametrize("temperature", [0.0, 1.0])
def test_one_grammar_per_prompt_follows_rows_that_leave_the_batch(random_lm, temperature):
    """Rows of the short grammar finish first; the rows left must keep their own grammar."""
    params = SamplingParams(temperature=temperature, max_new_tokens=20, stop=("\n\n",))
    grammars = [OneLine("ab"), OneLine("wxyz 12"), OneLine("c")]
    out = random_lm.generate(["p", "q", "r"], params, n=3, seed=0, constraint=grammars)
    assert [[c.text for c in row] for row in out] == [["ab\n\n"] * 3, ["wxyz 12\n\n"] * 3, ["c\n\n"] * 3]


def test_tot_constrained_rollouts_pass_one_step_grammar_per_state(random_lm):
    from reasoning.types import Budget
    from strategies import TreeOfThoughts
    from tasks.game24 import Worked

    seen = []

    class Spy:
        def __getattr__(self, name):
            return getattr(random_lm, name)

        def generate(self, prompts, params, n=1, seed=0, constraint=None):
            seen.append((len(prompts), constraint))
            if "Possible next steps" in prompts[0]:  # propose: a scripted list of valid steps
                steps = "".join(line + "\n" for line in task.thoughts(task.initial_state(problem))[:4]) + "\n"
                return [[Completion(steps, len(steps), 0.0, "stop")] * n for _ in prompts]
            return random_lm.generate(prompts, params, n=n, seed=seed, constraint=constraint)

    task = Game24()
    problem = task.parse_problem("4 9 10 13")
    tot = TreeOfThoughts(constrained=True, breadth=2, proposals=4, max_propose_tokens=64)
    tot.solve(problem, Spy(), task, Budget(calls=3))
    rollouts = [(k, c) for k, c in seen if c is not None]
    assert rollouts, seen
    assert all(len(c) == k and all(isinstance(g, Worked) for g in c) for k, c in rollouts)
