"""Bad requests get OpenAI-shaped errors with the right status, and never wedge the server."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import httpx
import pytest

from tests.server.support import PROMPT, live

GOOD = {"model": "default", "prompt": PROMPT, "max_tokens": 5, "temperature": 0}
CHAT = {"model": "default", "messages": [{"role": "user", "content": PROMPT}], "max_tokens": 5}


@pytest.fixture(scope="module")
def http(server):
    with httpx.Client(base_url=server, timeout=60) as c:
        yield c


def assert_error(r: httpx.Response, status: int, code: str | None = None) -> dict:
    assert r.status_code == status, r.text
    err = r.json()["error"]
    assert isinstance(err["message"], str) and err["message"] and err["type"] and "code" in err
    if code is not None:
        assert err["code"] == code, err
    return err


@pytest.mark.parametrize(
    "body, code",
    [
        ({**GOOD, "prompt": None}, "missing_required_parameter"),
        ({k: v for k, v in GOOD.items() if k != "prompt"}, "missing_required_parameter"),
        ({**GOOD, "prompt": 5}, "invalid_type"),
        ({**GOOD, "prompt": []}, "invalid_type"),
        ({**GOOD, "prompt": [[1, 2], []]}, "invalid_type"),
        ({**GOOD, "prompt": [1, "a"]}, "invalid_type"),
        ({**GOOD, "prompt": [1, 10**6]}, "invalid_value"),
        ({**GOOD, "max_tokens": "5"}, "invalid_type"),
        ({**GOOD, "max_tokens": 5.0}, "invalid_type"),
        ({**GOOD, "max_tokens": True}, "invalid_type"),
        ({**GOOD, "max_tokens": -1}, "invalid_value"),
        ({**GOOD, "max_tokens": 10**12}, "invalid_value"),
        ({**GOOD, "n": 0}, "invalid_value"),
        ({**GOOD, "n": "3"}, "invalid_type"),
        ({**GOOD, "temperature": "hot"}, "invalid_type"),
        ({**GOOD, "temperature": -0.5}, "invalid_value"),
        ({**GOOD, "top_p": 0}, "invalid_value"),
        ({**GOOD, "stop": 7}, "invalid_type"),
        ({**GOOD, "stop": ["a"] * 17}, "invalid_value"),
        ({**GOOD, "logprobs": 1000}, "invalid_value"),
        ({**GOOD, "seed": 2**70}, "invalid_value"),
        ({**GOOD, "echo": "yes"}, "invalid_type"),
        ({**GOOD, "prompt": "1" * 1100}, "context_length_exceeded"),
        ({**GOOD, "prompt": [1] * 1025}, "context_length_exceeded"),
        ({**GOOD, "prompt": [PROMPT] * 300}, "invalid_value"),
        ({**GOOD, "n": 100, "prompt": [PROMPT] * 3}, "invalid_value"),
        ({**GOOD, "suffix": "x"}, "unsupported_parameter"),
        ({**GOOD, "presence_penalty": 1.0}, "unsupported_parameter"),
        ({**GOOD, "guided_grammar": "root ::= [0-9]+"}, "unsupported_parameter"),
        ({**GOOD, "guided_regex": 5}, "invalid_value"),
        ({**GOOD, "guided_regex": "[0-9"}, "invalid_value"),
        ({**GOOD, "guided_regex": "[0-9]+", "guided_choice": ["a"]}, "invalid_value"),
        ({**GOOD, "response_format": {"type": "xml"}}, "invalid_value"),
        ({**GOOD, "guided_json": {"type": "object", "properties": {"a": {"type": "string", "minLength": 5, "maxLength": 2}}}}, "invalid_value"),
    ],
)
def test_bad_completion_requests_get_400(http, body, code):
    assert_error(http.post("/v1/completions", json=body), 400, code)


@pytest.mark.parametrize(
    "body, code",
    [
        ({**CHAT, "messages": []}, "invalid_value"),
        ({k: v for k, v in CHAT.items() if k != "messages"}, "missing_required_parameter"),
        ({**CHAT, "messages": "hi"}, "invalid_type"),
        ({**CHAT, "messages": [{"role": "wizard", "content": "x"}]}, "invalid_value"),
        ({**CHAT, "messages": [{"role": "user", "content": [{"type": "image_url"}]}]}, "invalid_value"),
        ({**CHAT, "max_tokens": 0}, "invalid_value"),
        ({**CHAT, "top_logprobs": 21, "logprobs": True}, "invalid_value"),
        ({**CHAT, "tools": [{"type": "function"}]}, "unsupported_parameter"),
        ({**CHAT, "guided_choice": "a,b"}, "invalid_value"),
        ({**CHAT, "response_format": {"type": "json_schema"}}, "invalid_value"),
    ],
)
def test_bad_chat_requests_get_400(http, body, code):
    assert_error(http.post("/v1/chat/completions", json=body), 400, code)


@pytest.mark.parametrize("raw", [b"{bad json", b"[1, 2]", b"", b"\xff\xfe", b'"prompt"'])
def test_a_body_that_is_not_a_json_object_gets_400(http, raw):
    for path in ("/v1/completions", "/v1/chat/completions", "/tokenize"):
        assert_error(http.post(path, content=raw, headers={"Content-Type": "application/json"}), 400, "invalid_json")


def test_an_unknown_model_gets_404_naming_the_served_ones(http):
    err = assert_error(http.post("/v1/completions", json={**GOOD, "model": "gpt-3.5-turbo"}), 404, "model_not_found")
    assert "default" in err["message"] and err["param"] == "model"
    assert_error(http.post("/v1/chat/completions", json={**CHAT, "model": "llama"}), 404, "model_not_found")
    assert_error(http.get("/v1/models/llama"), 404, "model_not_found")
    assert http.post("/v1/completions", json={k: v for k, v in GOOD.items() if k != "model"}).status_code == 200


def test_unknown_routes_and_methods_are_openai_shaped(http):
    assert_error(http.get("/v1/nothing"), 404)
    assert_error(http.get("/v1/completions"), 405)


def test_an_oversized_body_gets_413(http):
    assert_error(http.post("/v1/completions", content=b" " * (17 * 2**20)), 413)


def test_a_prompt_that_fills_the_context_gets_no_tokens_not_an_error(http):
    r = http.post("/v1/completions", json={**GOOD, "prompt": [1] + [14] * 1023, "max_tokens": 50})
    assert r.status_code == 200 and r.json()["choices"][0]["finish_reason"] == "length"
    assert r.json()["usage"]["completion_tokens"] == 0


def test_the_server_still_answers_after_every_bad_request(http):
    assert http.post("/v1/completions", json=GOOD).status_code == 200
    assert http.post("/v1/chat/completions", json=CHAT).status_code == 200


# -- failures inside generation ---------------------------------------------------------------
POISON = 3  # <unk>: a prompt holding it makes the wrapped engine raise


class FailingEngine:
    """The real engine, except that generating from a prompt holding POISON raises."""

    def __init__(self, engine):
        self.inner = engine

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def generate_ids(self, seqs, *args, **kw):
        if any(POISON in s for s in seqs):
            raise RuntimeError("injected failure")
        return self.inner.generate_ids(seqs, *args, **kw)


@pytest.fixture(scope="module")
def failing(shipped):
    from reasoning.server import ServerConfig, create_app

    model = SimpleNamespace(
        engine=FailingEngine(shipped.engine), tokenizer=shipped.tokenizer, identity=shipped.identity, render_chat=shipped.render_chat
    )
    with live(create_app(model, ServerConfig(names=("default",)))) as url:
        yield url


def test_a_failure_inside_generation_is_a_500_and_the_next_request_works(failing):
    poisoned = {**GOOD, "prompt": [1, 14, POISON, 15], "temperature": 0.5}
    good = [{**GOOD, "prompt": p, "temperature": 0.5} for p in (PROMPT, "Input: 1 2 3 4\n", "Input: 2 2 6 6\n")]

    async def together():
        async with httpx.AsyncClient(base_url=failing, timeout=60) as c:
            return await asyncio.gather(*(c.post("/v1/completions", json=b) for b in [good[0], poisoned, *good[1:]]))

    responses = asyncio.run(together())  # batched together: the poisoned one must not fail the others
    err = assert_error(responses[1], 500, "generation_failed")
    assert err["type"] == "server_error" and "injected failure" in err["message"]
    assert [r.status_code for r in responses[:1] + responses[2:]] == [200, 200, 200]
    with httpx.Client(base_url=failing, timeout=60) as c:
        assert_error(c.post("/v1/completions", json={**poisoned, "stream": True}), 500, "generation_failed")
        after = c.post("/v1/completions", json=GOOD)
        assert after.status_code == 200 and after.json()["choices"][0]["text"]
        stats = c.get("/stats").json()
    assert stats["jobs"] >= 4 and stats["engine_calls"] >= 2
