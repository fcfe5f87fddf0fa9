"""The server over someone else's model: random weights, a BPE tokenizer whose tokens span
several characters, a chat template, a 256-token context."""

from __future__ import annotations

import pytest

from reasoning.types import SamplingParams
from tests.server.support import PROMPT


@pytest.fixture(scope="module")
def client(bpe_server):
    from openai import OpenAI

    return OpenAI(base_url=bpe_server + "/v1", api_key="unused", max_retries=0, timeout=120)


def ids_of(model, text, bos=True):
    tok = model.tokenizer
    return [tok.bos_token_id] * bos + tok(text, add_special_tokens=False)["input_ids"]


def greedy(model, ids, max_new_tokens=20, **kw):
    return model.engine.generate_ids([ids], SamplingParams(temperature=0, max_new_tokens=max_new_tokens, **kw))[0][0]


def test_token_strings_spell_the_text_with_merged_tokens(client, bpe_model):
    r = client.completions.create(model="bpe", prompt=PROMPT, max_tokens=20, temperature=0, logprobs=2, echo=True)
    want = greedy(bpe_model, ids_of(bpe_model, PROMPT))
    choice = r.choices[0]
    assert choice.text == PROMPT + want.text
    lp = choice.logprobs
    n_prompt = len(ids_of(bpe_model, PROMPT))
    assert n_prompt < 1 + len(PROMPT)  # merged tokens: fewer tokens than characters
    assert lp.tokens[0] == "<s>" and "".join(lp.tokens[1:n_prompt]) == PROMPT
    assert "".join(lp.tokens[n_prompt:]) == want.text
    assert [choice.text[o:].startswith(t) for o, t in zip(lp.text_offset[1:], lp.tokens[1:])] == [True] * (len(lp.tokens) - 1)
    assert lp.token_logprobs[n_prompt:] == pytest.approx(list(want.token_logprobs), abs=1e-4)


def test_a_stop_string_inside_a_token_cuts_the_text_there(client, bpe_model):
    full = greedy(bpe_model, ids_of(bpe_model, PROMPT), max_new_tokens=30).text
    stop = full[len(full) // 2 : len(full) // 2 + 2]
    kw = dict(model="bpe", prompt=PROMPT, max_tokens=30, temperature=0, stop=[stop])
    whole = client.completions.create(**kw).choices[0]
    assert whole.text == full[: full.index(stop)] and whole.finish_reason == "stop"
    streamed = "".join(c.choices[0].text for c in client.completions.create(stream=True, **kw))
    assert streamed == whole.text


def test_chat_uses_the_models_chat_template(client, bpe_model):
    messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "4 9 10 13"}]
    r = client.chat.completions.create(model="bpe", messages=messages, max_tokens=10, temperature=0)
    rendered = bpe_model.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    assert rendered.startswith("<s><|system|>\nBe brief.</s>\n<|user|>") and rendered.endswith("<|assistant|>\n")
    ids = ids_of(bpe_model, rendered, bos=False)  # the template writes BOS itself
    assert r.usage.prompt_tokens == len(ids)
    assert r.choices[0].message.content == greedy(bpe_model, ids, 10).text


def test_tokenizer_info_carries_the_chat_template(bpe_server):
    import httpx

    info = httpx.get(bpe_server + "/tokenizer_info").json()
    assert info["chat_template"].startswith("{{ bos_token }}") and info["model_max_length"] == 256


def test_a_prompt_over_the_context_is_refused(client):
    from openai import BadRequestError

    with pytest.raises(BadRequestError) as e:
        client.completions.create(model="bpe", prompt="4 9 10 13 " * 200, max_tokens=5)
    assert e.value.status_code == 400 and e.value.code == "context_length_exceeded"
