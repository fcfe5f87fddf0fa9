"""Constrained decoding through real models: an untrained tiny char model (noise held to the Game of
24 grammars), the shipped model, and random-weight models with BPE and byte-level vocabularies
held to regexes and JSON schemas they never saw."""

import json
import re
from fractions import Fraction

import jsonschema
import pytest

from reasoning.backends.hf import HFModel
from reasoning.cli.models import default_model_dir
from reasoning.constraints import Choice, JsonSchema, Regex
from reasoning.errors import BadInput
from reasoning.types import Budget, Completion, SamplingParams
from strategies import ChainOfThought, FewShot, TreeOfThoughts
from tasks.exact import evaluate
from tasks.game24 import Game24, Worked
from training.model import ModelConfig, build_model
from training.tokenizer import build_tokenizer

FORMATS = jsonschema.Draft202012Validator.FORMAT_CHECKER


@pytest.fixture(scope="module")
def tok():
    return build_tokenizer()


@pytest.fixture(scope="module")
def random_lm(tok):
    """A real (untrained) tiny model: left alone it writes noise."""
    return HFModel(build_model(ModelConfig.tiny(), len(tok), seed=0, tokenizer=tok).eval(), tok)


@pytest.fixture(scope="module")
def shipped():
    return HFModel.load(default_model_dir())


@pytest.fixture(scope="module")
def models(shipped, random_bpe_model, random_byte_model):
    return {"shipped": shipped, "bpe": HFModel.load(random_bpe_model), "byte": HFModel.load(random_byte_model)}


# -- the task grammars (ported from the character-level processor's tests) -------------------
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
    assert all(c.finish_reason == "stop" for row in out for c in row)


def test_tot_constrained_rollouts_pass_one_step_grammar_per_state(random_lm):
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


def test_the_game24_grammar_holds_on_subword_vocabularies(models):
    """Tokens there are whole numbers, ` =`, `)\\n` and `\\n\\n`: every sampled chain is valid."""
    task, problem = Game24(), Game24().parse_problem("4 9 10 13")
    params = SamplingParams(temperature=1.0, max_new_tokens=200, stop=task.stop("cot"))
    for name in ("bpe", "byte"):
        out = models[name].generate([task.prompt("cot", problem)], params, n=6, seed=3, constraint=task.grammar("cot", problem))
        for c in out[0]:
            assert c.finish_reason == "stop", (name, c.text)
            *steps, answer, blank, end = c.text.split("\n")
            state = task.initial_state(problem)
            for line in steps:
                state = task.expand(state, line)
                assert state is not None, (name, line)
            assert len(steps) == 3 and answer == f"Answer: {state[0][1]} = {state[0][0]}" and blank == end == ""


# -- output types ----------------------------------------------------------------------------
def test_regex_on_the_shipped_model_matches_fully(shipped):
    out = shipped.generate(["Answer:"], SamplingParams(temperature=1.0, max_new_tokens=16), n=8, seed=0, constraint=Regex("[0-9]{1,3}"))
    assert len(out[0]) == 8
    for c in out[0]:
        assert re.fullmatch("[0-9]{1,3}", c.text) and c.finish_reason == "stop"
        assert c.token_ids[-1] == shipped.tokenizer.eos_token_id  # ended by EOS, allowed once complete


def test_a_completion_cut_short_says_length_and_a_finished_one_stop(shipped):
    out = shipped.generate(["Answer:"], SamplingParams(temperature=1.0, max_new_tokens=3), n=4, seed=0, constraint=Regex("[0-9]{5}"))
    assert all(c.finish_reason == "length" and len(c.text) == 3 for c in out[0])  # not a match yet
    out = shipped.generate(["Answer:"], SamplingParams(temperature=1.0, max_new_tokens=3), n=4, seed=0, constraint=Regex("[0-9]{3}"))
    assert all(c.finish_reason == "stop" and len(c.text) == 3 for c in out[0])  # complete: nothing else could follow


def test_greedy_choice_and_per_prompt_output_types(shipped):
    params = SamplingParams(temperature=0.0, max_new_tokens=16)
    out = shipped.generate(["Answer:", "Input:"], params, n=2, constraint=[Choice(["yes", "no"]), Regex("[a-c]{2}")])
    assert {c.text for c in out[0]} <= {"yes", "no"} and len({c.text for c in out[0]}) == 1
    assert all(re.fullmatch("[a-c]{2}", c.text) for c in out[1])
    with pytest.raises(BadInput, match="2 prompts"):
        shipped.generate(["a", "b"], params, constraint=[Regex("a")])
    with pytest.raises(BadInput, match="look-ahead"):
        shipped.generate(["a"], params, constraint=Regex("(?=a)a"))


HELD_OUT_REGEXES = [
    r"[0-9]{1,3}",
    r"(yes|no|maybe)",
    r"[A-Z][a-z]{1,8}( [A-Z][a-z]{1,8}){0,2}",
    r"\d{4}-\d{2}-\d{2}",
    r"-?(0|[1-9][0-9]{0,5})(\.[0-9]{1,2})?",
    r"[a-z]{2,6}@[a-z]{2,6}\.(com|org)",
    r"[0-9]{1,2} [*/+-] [0-9]{1,2} = [0-9]{1,4}",
    r"\(left: [0-9]{1,2}( [0-9]{1,2}){0,2}\)",
]

HELD_OUT_SCHEMAS = [
    {  # nested objects, an enum, a bounded array, integers and booleans
        "type": "object",
        "properties": {
            "name": {"type": "string", "maxLength": 10},
            "kind": {"enum": ["cat", "dog", "fish"]},
            "owner": {
                "type": "object",
                "properties": {"id": {"type": "integer"}, "admin": {"type": "boolean"}},
                "required": ["id", "admin"],
            },
            "tags": {"type": "array", "items": {"type": "string", "maxLength": 5}, "maxItems": 3},
        },
        "required": ["name", "kind", "owner", "tags"],
    },
    {  # $ref, and the date, time and uuid formats
        "$defs": {
            "point": {"type": "object", "properties": {"x": {"type": "integer"}, "y": {"type": "integer"}}, "required": ["x", "y"]}
        },
        "type": "object",
        "properties": {
            "from": {"$ref": "#/$defs/point"},
            "to": {"$ref": "#/$defs/point"},
            "day": {"type": "string", "format": "date"},
            "at": {"type": "string", "format": "time"},
            "id": {"type": "string", "format": "uuid"},
        },
        "required": ["from", "to", "day", "at", "id"],
    },
    {"type": "array", "items": {"enum": ["red", "green", "blue"]}, "minItems": 1, "maxItems": 4},
    {"anyOf": [{"type": "integer"}, {"type": "object", "properties": {"ok": {"type": "boolean"}}, "required": ["ok"]}]},
    {"type": "object", "properties": {"n": {"type": "number"}, "s": {"type": "string", "pattern": "^[a-z]{3}$"}}, "required": ["n", "s"]},
]


def check_regex(model, pattern):
    out = model.generate(["Answer:"], SamplingParams(temperature=1.0, max_new_tokens=64), n=4, seed=1, constraint=Regex(pattern))
    for c in out[0]:
        assert c.finish_reason == "stop" and re.fullmatch(pattern, c.text), (pattern, c)


def check_schema(model, schema):
    out = model.generate(["Input:"], SamplingParams(temperature=1.0, max_new_tokens=400), n=4, seed=1, constraint=JsonSchema(schema))
    for c in out[0]:
        assert c.finish_reason == "stop", (schema, c)
        jsonschema.validate(json.loads(c.text), schema, format_checker=FORMATS)


def test_held_out_regex_and_schema_on_each_vocabulary(models):
    """One of each in the default run; the whole matrix is the slow test below."""
    check_regex(models["shipped"], HELD_OUT_REGEXES[3])
    check_regex(models["byte"], HELD_OUT_REGEXES[5])
    check_schema(models["bpe"], HELD_OUT_SCHEMAS[1])
    check_schema(models["shipped"], HELD_OUT_SCHEMAS[0])


@pytest.mark.slow
@pytest.mark.parametrize("name", ["shipped", "bpe", "byte"])
def test_every_held_out_regex_and_schema_gives_complete_valid_outputs(models, name):
    for pattern in HELD_OUT_REGEXES:
        check_regex(models[name], pattern)
    for schema in HELD_OUT_SCHEMAS:
        check_schema(models[name], schema)


def test_an_unbounded_format_the_model_cannot_finish_is_reported_as_length(shipped):
    """The shipped model never saw '@': held to an email it writes a local part until the tokens
    run out, and every completion says so instead of passing as valid."""
    schema = {"type": "string", "format": "email"}
    out = shipped.generate(["Input:"], SamplingParams(temperature=1.0, max_new_tokens=40), n=4, seed=0, constraint=JsonSchema(schema))
    for c in out[0]:
        if c.finish_reason == "stop":
            jsonschema.validate(json.loads(c.text), schema, format_checker=FORMATS)
        else:
            assert c.finish_reason == "length" and c.tokens == 40
            with pytest.raises(ValueError):
                jsonschema.validate(json.loads(c.text), schema, format_checker=FORMATS)
