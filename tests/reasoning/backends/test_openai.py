"""The OpenAI-compatible client backend against a real HTTP server on loopback (tests/fake_openai.py)."""

from __future__ import annotations

import math
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from reasoning.backends import ModelSpec, load
from reasoning.backends.openai import OpenAIModel, apportion
from reasoning.errors import BackendError, BadInput
from reasoning.meter import Meter
from reasoning.protocols import LanguageModel
from reasoning.types import Budget, SamplingParams
from tests.fake_openai import Behaviour, FakeOpenAIServer, free_port

GREEDY = SamplingParams(temperature=0.0, max_new_tokens=32)
WARM = SamplingParams(temperature=1.0, max_new_tokens=32)


def connect(server: FakeOpenAIServer, **kw) -> OpenAIModel:
    spec = ModelSpec(backend="openai", base_url=server.base_url, **{"max_retries": 3, **kw})
    return load(spec)  # type: ignore[return-value]


def bodies(server: FakeOpenAIServer, path: str) -> list[dict]:
    return [body for p, body in server.behaviour.requests if p == path]


def test_connect_probes_what_the_server_offers():
    with FakeOpenAIServer() as server:
        model = connect(server)
        assert isinstance(model, LanguageModel)
        assert model.name == "fake-model"
        assert model.identity() == {"backend": "openai", "model": "fake-model", "base_url": server.base_url, "api": "completions"}
        caps = model.capabilities()
        assert caps.score and caps.label_logprobs and caps.n and not caps.constraints
    with FakeOpenAIServer(Behaviour(echo=False, n=False, batch=False, tokenize=False)) as server:
        model = connect(server)
        caps = model.capabilities()
        assert not caps.score and not caps.label_logprobs and not caps.n
        assert (model.server.batch, model.server.tokenize) == (False, False)


def test_a_list_of_prompts_and_n_in_one_request():
    with FakeOpenAIServer(Behaviour(reply=lambda p, i: f"{p[-1]}{i}\nmore")) as server:
        model = connect(server)
        before = len(bodies(server, "/v1/completions"))
        out = model.generate(["a", "b"], SamplingParams(temperature=1.0, max_new_tokens=9, stop=("\n",)), n=3, seed=5)
        sent = bodies(server, "/v1/completions")[before:]
        assert len(sent) == 1 and sent[0]["prompt"] == ["a", "b"] and sent[0]["n"] == 3 and sent[0]["seed"] == 5
        assert sent[0]["stop"] == ["\n"] and sent[0]["max_tokens"] == 9
        # the server names the stop it matched; the client keeps it on the text, as the local engine does
        assert [[c.text for c in row] for row in out] == [["a0\n", "a1\n", "a2\n"], ["b0\n", "b1\n", "b2\n"]]
        assert all(c.finish_reason == "stop" and c.tokens == 2 for row in out for c in row)


def test_greedy_asks_once_and_repeats():
    with FakeOpenAIServer() as server:
        model = connect(server)
        before = len(bodies(server, "/v1/completions"))
        out = model.generate(["x"], GREEDY, n=4)
        sent = bodies(server, "/v1/completions")[before:]
        assert len(sent) == 1 and sent[0]["n"] == 1 and sent[0]["temperature"] == 0.0
        assert [c.text for c in out[0]] == ["reply 0"] * 4


def test_without_batch_or_n_the_client_fans_out_with_distinct_seeds():
    with FakeOpenAIServer(Behaviour(batch=False, n=False)) as server:
        model = connect(server)
        before = len(bodies(server, "/v1/completions"))
        out = model.generate(["p", "q"], WARM, n=2, seed=10)
        sent = bodies(server, "/v1/completions")[before:]
        assert len(sent) == 4 and all(b["n"] == 1 and isinstance(b["prompt"], str) for b in sent)
        assert sorted((b["prompt"], b["seed"]) for b in sent) == [("p", 10), ("p", 11), ("q", 10), ("q", 11)]
        assert [len(row) for row in out] == [2, 2]
        assert sorted(c.text for c in out[0]) == ["reply 0", "reply 1"]


def test_usage_from_the_server_is_charged_to_the_meter():
    replies = {"abc": "four", "de": "xy"}
    with FakeOpenAIServer(Behaviour(reply=lambda p, i: replies.get(p, "x"), tokenize=False)) as server:
        meter = Meter(connect(server), Budget())
        out = meter.generate(["abc", "de"], WARM, n=2)
        # the fake counts one token per character: prompts 3 + 2, completions 2 x 4 + 2 x 2
        assert (meter.calls, meter.prompt_tokens, meter.generated_tokens) == (1, 5, 12)
        assert [c.prompt_tokens for row in out for c in row] == [3, 3, 2, 2]
        assert all(not math.isnan(c.logprob) for row in out for c in row)


def test_without_usage_the_counts_are_local():
    with FakeOpenAIServer(Behaviour(reply=lambda p, i: "twelve chars", usage=False, tokenize=True)) as server:
        meter = Meter(connect(server), Budget())
        meter.generate(["abcd"], WARM, n=1)
        # no usage: the sampled tokens' logprobs give 12 tokens, /tokenize gives the prompt's 4
        assert (meter.prompt_tokens, meter.generated_tokens) == (4, 12)
    quiet = Behaviour(reply=lambda p, i: "twelve chars", usage=False, tokenize=False, echo=False, logprobs=False)
    with FakeOpenAIServer(quiet) as server:
        meter = Meter(connect(server), Budget())
        meter.generate(["abcdefgh"], WARM, n=1)
        assert (meter.prompt_tokens, meter.generated_tokens) == (2, 3)  # estimates: 4 bytes a token


def test_retries_429_and_503_then_answers():
    behaviour = Behaviour(retry_after="0")
    with FakeOpenAIServer(behaviour) as server:
        model = connect(server)
        behaviour.fail[:] = [429, 503]
        before = len(server.paths())
        out = model.generate(["x"], GREEDY)
        assert out[0][0].text == "reply 0"
        assert server.paths()[before:] == ["/v1/completions"] * 3


def test_retries_are_bounded():
    behaviour = Behaviour()
    with FakeOpenAIServer(behaviour) as server:
        model = connect(server, max_retries=2)
        behaviour.fail[:] = [503] * 5
        start = time.monotonic()
        with pytest.raises(BackendError, match="answered 503 3 times"):
            model.generate(["x"], GREEDY)
        assert time.monotonic() - start >= 0.5 + 1.0  # backoff 0.5 s then 1 s
        assert behaviour.fail == [503, 503]


def test_refused_connection_is_one_clear_line():
    url = f"http://127.0.0.1:{free_port()}/v1"
    with pytest.raises(BadInput, match=f"cannot reach the server at {url}"):
        load(ModelSpec(backend="openai", base_url=url))


def test_refusals_name_the_cause():
    with FakeOpenAIServer() as server:
        with pytest.raises(BadInput, match="does not serve 'other'; it serves fake-model"):
            connect(server, model_name="other")
        model = connect(server)
        with pytest.raises(BadInput, match="cannot be sent to a server"):
            model.generate(["x"], GREEDY, constraint=object())
    with FakeOpenAIServer(Behaviour(echo=False)) as server:
        with pytest.raises(BadInput, match="refused the request \\(400\\): echo is not supported"):
            connect(server)._post("completions", {"model": "fake-model", "prompt": "x", "echo": True})


def test_score_and_label_logprobs_read_an_echo():
    with FakeOpenAIServer() as server:
        model = connect(server)
        # one token per character at -1 each: the continuation's characters
        assert model.score(["Value: ", "ab"], ["sure", "c"]) == [-4.0, -1.0]
        rows = model.label_logprobs(["p1 ", "p2 "], ["sure", "likely", "impossible"])
        assert rows == [[-4.0, -6.0, -10.0]] * 2
        sent = bodies(server, "/v1/completions")[-1]
        assert sent["echo"] is True and len(sent["prompt"]) == 6
        # the echo taught the client exact counts: the Meter charges them without /tokenize
        calls = len(server.paths())
        assert model.count_tokens("p1 likely") == 9 and model.count_tokens("p1 ") == 3
        assert len(server.paths()) == calls


def test_a_server_without_echo_refuses_score():
    with FakeOpenAIServer(Behaviour(echo=False)) as server:
        model = connect(server)
        with pytest.raises(BadInput, match="prompt log-probabilities"):
            model.label_logprobs(["p"], ["sure"])


def test_chat_only_server():
    with FakeOpenAIServer(Behaviour(completions=False, reply=lambda p, i: f"[{p}] {i}")) as server:
        model = connect(server)
        assert model.server.api == "chat" and model.identity()["api"] == "chat"
        assert not model.capabilities().label_logprobs
        out = model.generate(["hello", "bye"], WARM, n=2)
        assert [[c.text for c in row] for row in out] == [["[hello] 0", "[hello] 1"], ["[bye] 0", "[bye] 1"]]
        sent = bodies(server, "/v1/chat/completions")[-2:]
        assert sorted(b["messages"][0]["content"] for b in sent) == ["bye", "hello"]
    with FakeOpenAIServer() as server:
        assert connect(server, api="chat").server.api == "chat"  # asked for


def test_the_time_budget_bounds_the_wait():
    def reply(prompt, i):
        if prompt == "slow":
            time.sleep(3)
        return "ok"

    with FakeOpenAIServer(Behaviour(reply=reply)) as server:
        model = connect(server)
        start = time.monotonic()
        out = model.generate(["slow"], SamplingParams(max_seconds=0.2))
        assert time.monotonic() - start < 2.5  # the budget plus a second of grace, not the server's 3 s
        assert out[0][0].finish_reason == "time" and out[0][0].tokens == 0


def test_many_threads_share_one_client():
    with FakeOpenAIServer(Behaviour(reply=lambda p, i: p.upper())) as server:
        model = connect(server)

        def one(k: int) -> tuple[str, int]:
            meter = Meter(model, Budget())
            text = meter.generate([f"prompt {k}"], GREEDY)[0][0].text
            return text, meter.prompt_tokens

        with ThreadPoolExecutor(16) as pool:
            got = list(pool.map(one, range(64)))
        assert got == [(f"PROMPT {k}", len(f"prompt {k}")) for k in range(64)]


def test_apportion_keeps_the_total():
    assert apportion(10, [1, 1, 1]) == [4, 3, 3]
    assert apportion(7, [0, 0]) in ([4, 3], [3, 4])
    assert apportion(5, [2, 8]) == [1, 4]
    assert apportion(0, []) == []
