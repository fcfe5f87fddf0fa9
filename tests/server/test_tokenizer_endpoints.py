"""/tokenize, /detokenize and /tokenizer_info with plain HTTP, in vLLM's shapes."""

from __future__ import annotations

import httpx
import pytest

from tests.server.support import PROMPT


@pytest.fixture(scope="module")
def http(server):
    with httpx.Client(base_url=server, timeout=60) as c:
        yield c


def test_tokenizer_info_carries_the_special_tokens(http, shipped):
    info = http.get("/tokenizer_info").json()
    assert info["eos_token"] == "</s>" and info["bos_token"] == "<s>" and info["pad_token"] == "<pad>"
    assert info["model_max_length"] == 1024 and info["tokenizer_class"]
    assert "chat_template" not in info  # the shipped model has none
    assert http.get("/v1/tokenizer_info").json() == info  # also under a base URL ending in /v1


def test_tokenize_and_detokenize_round_trip(http, shipped):
    ids = shipped.tokenizer(PROMPT, add_special_tokens=False)["input_ids"]
    plain = http.post("/tokenize", json={"prompt": PROMPT, "add_special_tokens": False}).json()
    assert plain == {"count": len(ids), "max_model_len": 1024, "tokens": ids, "token_strs": None}
    with_bos = http.post("/tokenize", json={"prompt": PROMPT, "return_token_strs": True}).json()
    assert with_bos["tokens"] == [shipped.tokenizer.bos_token_id, *ids]  # as a text prompt is run
    assert with_bos["token_strs"][:3] == ["<s>", "I", "n"]
    assert http.post("/detokenize", json={"tokens": ids}).json() == {"prompt": PROMPT}


def test_tokenize_messages_gives_the_ids_a_chat_runs_on(http, shipped):
    r = http.post("/tokenize", json={"messages": [{"role": "user", "content": "Input: 1 2"}]}).json()
    assert r["tokens"] == [shipped.tokenizer.bos_token_id, *shipped.tokenizer("Input: 1 2", add_special_tokens=False)["input_ids"]]


def test_special_tokens_by_name_are_their_ids(http, shipped):
    # lm-evaluation-harness finds eos/bos ids by tokenizing the token strings from /tokenizer_info
    for name in ("eos_token", "bos_token"):
        text = http.get("/tokenizer_info").json()[name]
        ids = http.post("/tokenize", json={"prompt": text, "add_special_tokens": False}).json()["tokens"]
        assert ids == [getattr(shipped.tokenizer, name + "_id")]


def test_counting_a_text_longer_than_the_context_is_allowed(http):
    r = http.post("/tokenize", json={"prompt": "1" * 3000, "add_special_tokens": False})
    assert r.status_code == 200 and r.json()["count"] == 3000


@pytest.mark.parametrize(
    "path, body",
    [
        ("/tokenize", {}),
        ("/tokenize", {"prompt": 5}),
        ("/tokenize", {"prompt": "a", "messages": [{"role": "user", "content": "b"}]}),
        ("/detokenize", {"tokens": [10**6]}),
        ("/detokenize", {"tokens": "1 2"}),
        ("/tokenize", {"prompt": "a", "model": "nope"}),
    ],
)
def test_bad_tokenizer_requests_are_refused(http, path, body):
    r = http.post(path, json=body)
    assert r.status_code in (400, 404) and set(r.json()["error"]) >= {"message", "type", "code"}
