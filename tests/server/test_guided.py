"""Guided decoding through `reason serve`, sent the way clients send it (vLLM's guided_* fields
through the `openai` package's extra_body, OpenAI's response_format), and the project's own client
backend forwarding constraints to servers that follow them and refusing servers that do not."""

from __future__ import annotations

import json
import re

import jsonschema
import pytest

from reasoning.constraints import Choice, JsonSchema, Regex
from reasoning.errors import BackendError, BadInput
from reasoning.types import SamplingParams
from tests.fake_openai import Behaviour, FakeOpenAIServer

SCHEMA = {
    "type": "object",
    "properties": {"label": {"enum": ["sure", "likely", "impossible"]}, "steps": {"type": "array", "items": {"type": "integer"}}},
    "required": ["label", "steps"],
    "additionalProperties": False,
}


@pytest.fixture(scope="module")
def client(server):
    from openai import OpenAI

    return OpenAI(base_url=server + "/v1", api_key="unused", max_retries=0, timeout=120)


@pytest.fixture(scope="module")
def bpe_client(bpe_server):
    from openai import OpenAI

    return OpenAI(base_url=bpe_server + "/v1", api_key="unused", max_retries=0, timeout=120)


def test_guided_regex_holds_every_sample(client):
    r = client.completions.create(
        model="default", prompt="Answer:", n=6, max_tokens=12, temperature=1.0, seed=3,
        extra_body={"guided_regex": "[0-9]{1,3}( [+*-] [0-9]{1,3})?"},
    )  # fmt: skip
    assert len(r.choices) == 6
    for c in r.choices:
        if c.finish_reason == "stop":
            assert re.fullmatch("[0-9]{1,3}( [+*-] [0-9]{1,3})?", c.text), c.text
    assert any(c.finish_reason == "stop" for c in r.choices)
    assert r.usage.completion_tokens == sum(len(c.text) for c in r.choices) + sum(c.finish_reason == "stop" for c in r.choices)


def test_guided_choice_on_a_bpe_model_gives_one_of_the_choices(bpe_client):
    options = ["sure thing", "likely", "impossible!"]
    r = bpe_client.completions.create(
        model="bpe", prompt="Judge:", n=8, max_tokens=20, temperature=1.0, seed=1, extra_body={"guided_choice": options}
    )
    assert [c.text in options for c in r.choices] == [True] * 8, [c.text for c in r.choices]


def test_response_format_json_schema_in_a_chat_validates(client):
    r = client.chat.completions.create(
        model="default", messages=[{"role": "user", "content": "Input: 1 2 3 4"}], n=3, max_tokens=80, temperature=1.0, seed=5,
        response_format={"type": "json_schema", "json_schema": {"name": "verdict", "schema": SCHEMA}},
    )  # fmt: skip
    finished = [c.message.content for c in r.choices if c.finish_reason == "stop"]
    assert finished, [c.message.content for c in r.choices]
    for text in finished:
        jsonschema.validate(json.loads(text), SCHEMA)


def test_guided_json_on_a_bpe_model_streams_valid_json(bpe_client):
    stream = bpe_client.completions.create(
        model="bpe", prompt="{", max_tokens=120, temperature=0.7, seed=2, stream=True, extra_body={"guided_json": SCHEMA}
    )
    parts, finish = [], None
    for chunk in stream:
        if chunk.choices:
            parts.append(chunk.choices[0].text)
            finish = chunk.choices[0].finish_reason or finish
    text = "".join(parts)
    if finish == "stop":
        jsonschema.validate(json.loads(text), SCHEMA)
    else:  # ran out of tokens: honest, and the text is still a prefix the schema allows
        assert finish == "length" and text.startswith("{")


def test_a_guided_request_that_runs_out_of_tokens_says_length(client):
    r = client.completions.create(
        model="default", prompt="Answer:", max_tokens=3, temperature=0, extra_body={"guided_regex": "[a-z]{10}"}
    )
    assert r.choices[0].finish_reason == "length" and len(r.choices[0].text) == 3


def test_the_client_backend_forwards_constraints_to_our_server(server):
    from reasoning.backends import ModelSpec, load

    remote = load(ModelSpec(backend="openai", base_url=server + "/v1", model_name="default"))
    params = SamplingParams(temperature=1.0, max_new_tokens=60)
    for constraint, ok in [
        (Regex("[0-9]{2}"), lambda t: re.fullmatch("[0-9]{2}", t)),
        (Choice(["yes", "no"]), lambda t: t in ("yes", "no")),
        (JsonSchema(SCHEMA), lambda t: jsonschema.validate(json.loads(t), SCHEMA) is None),
    ]:
        rows = remote.generate(["Input: 2 3 4 5\n"], params, n=4, seed=9, constraint=constraint)[0]
        assert len(rows) == 4
        assert all(ok(c.text) for c in rows if c.finish_reason == "stop") and any(c.finish_reason == "stop" for c in rows)


def test_the_client_backend_refuses_a_server_that_ignores_the_constraint():
    from reasoning.backends import ModelSpec, load

    with FakeOpenAIServer(Behaviour(reply=lambda prompt, i: "free text")) as fake:
        remote = load(ModelSpec(backend="openai", base_url=fake.base_url, model_name="fake-model"))
        with pytest.raises(BackendError, match="does not follow guided_regex"):
            remote.generate(["Q:"], SamplingParams(max_new_tokens=20), constraint=Regex("[0-9]+"))
        sent = [body for path, body in fake.behaviour.requests if path.endswith("completions") and "guided_regex" in body]
        assert sent and sent[-1]["guided_regex"] == "[0-9]+"


def test_the_client_backend_refuses_a_task_grammar_before_sending():
    from reasoning.backends import ModelSpec, load
    from tasks import Game24

    task = Game24()
    grammar = task.grammar("cot", task.parse_problem("4 9 10 13"))
    with FakeOpenAIServer() as fake:
        remote = load(ModelSpec(backend="openai", base_url=fake.base_url, model_name="fake-model"))
        before = len(fake.behaviour.requests)
        with pytest.raises(BadInput, match="constrained=false"):
            remote.generate(["Q:"], SamplingParams(max_new_tokens=20), constraint=grammar)
        assert len(fake.behaviour.requests) == before
