"""The official `openai` package against `reason serve` over the shipped model: every answer is
checked against the same model run locally."""

from __future__ import annotations

import math

import pytest

from reasoning.types import SamplingParams
from tests.server.support import PROMPT


@pytest.fixture(scope="module")
def client(server):
    from openai import OpenAI

    return OpenAI(base_url=server + "/v1", api_key="unused", max_retries=0, timeout=120)


def local(model, prompt=PROMPT, n=1, seed=0, **params):
    return model.engine.generate([prompt], SamplingParams(**params), n=n, seed=seed)[0]


def test_models_lists_the_served_names(client):
    models = client.models.list().data
    assert [m.id for m in models] == ["default", "gpt-4"]


def test_greedy_completion_is_the_local_models(client, shipped):
    r = client.completions.create(model="default", prompt=PROMPT, max_tokens=30, temperature=0)
    want = local(shipped, temperature=0, max_new_tokens=30)[0]
    assert r.choices[0].text == want.text and r.choices[0].finish_reason == want.finish_reason
    assert r.usage.prompt_tokens == 1 + len(PROMPT)  # BOS + one token per character
    assert r.usage.completion_tokens == want.tokens and r.usage.total_tokens == r.usage.prompt_tokens + want.tokens
    assert r.object == "text_completion" and r.model == "default"


def test_n3_with_a_seed_gives_the_local_models_three_samples(client, shipped):
    r = client.completions.create(model="default", prompt=PROMPT, n=3, max_tokens=20, temperature=1.0, seed=7)
    want = local(shipped, n=3, seed=7, temperature=1.0, max_new_tokens=20)
    assert [c.index for c in r.choices] == [0, 1, 2]
    assert [c.text for c in r.choices] == [c.text for c in want]
    assert len({c.text for c in r.choices}) > 1  # three samples, not one repeated
    again = client.completions.create(model="default", prompt=PROMPT, n=3, max_tokens=20, temperature=1.0, seed=7)
    assert [c.text for c in again.choices] == [c.text for c in r.choices]


def test_several_prompts_index_choices_prompt_by_prompt(client, shipped):
    prompts = [PROMPT, "Input: 1 2 3 4\nSteps:\n"]
    r = client.completions.create(model="default", prompt=prompts, n=2, max_tokens=12, temperature=0)
    assert [c.index for c in r.choices] == [0, 1, 2, 3]
    for i, p in enumerate(prompts):
        want = local(shipped, p, temperature=0, max_new_tokens=12)[0].text
        assert r.choices[2 * i].text == r.choices[2 * i + 1].text == want


def test_stop_ends_the_text_before_the_stop_string(client, shipped):
    r = client.completions.create(model="default", prompt=PROMPT, max_tokens=60, temperature=0, stop=["(left"])
    full = local(shipped, temperature=0, max_new_tokens=60)[0].text
    assert "(left" in full
    assert r.choices[0].text == full[: full.index("(left")] and r.choices[0].finish_reason == "stop"
    assert r.choices[0].model_extra["stop_reason"] == "(left"  # vLLM's field: which stop string ended it


def test_logprobs_are_the_sampled_tokens_with_their_alternatives(client, shipped):
    r = client.completions.create(model="default", prompt=PROMPT, max_tokens=15, temperature=0, logprobs=3)
    want = local(shipped, temperature=0, max_new_tokens=15, stop=())[0]
    lp = r.choices[0].logprobs
    assert "".join(lp.tokens) == r.choices[0].text
    assert lp.token_logprobs == pytest.approx(list(want.token_logprobs), abs=1e-4)
    assert lp.text_offset == [sum(len(t) for t in lp.tokens[:i]) for i in range(len(lp.tokens))]
    for token, value, top in zip(lp.tokens, lp.token_logprobs, lp.top_logprobs):
        assert 1 <= len(top) <= 4 and top[token] == value == max(top.values())  # greedy: the top token
        assert all(v <= 0 and math.isfinite(v) for v in top.values())


def test_echo_returns_the_prompt_and_its_logprobs(client, shipped):
    prompts = [PROMPT, "Input: 1 1 4 6\n"]
    r = client.completions.create(model="default", prompt=prompts, max_tokens=0, echo=True, logprobs=1)
    tok = shipped.tokenizer
    want = shipped.engine.sequence_logprobs([[tok.bos_token_id, *tok(p, add_special_tokens=False)["input_ids"]] for p in prompts])
    for choice, p, (lps, _) in zip(r.choices, prompts, want):
        assert choice.text == p
        lp = choice.logprobs
        assert lp.tokens == ["<s>", *p] and lp.token_logprobs[0] is None and lp.top_logprobs[0] is None
        assert lp.token_logprobs[1:] == pytest.approx(lps[1:], abs=1e-4)
        assert lp.text_offset == [0, *range(len(p))]  # BOS is not part of the text
    assert r.usage.completion_tokens == 0


def test_echo_with_generation_puts_the_completion_after_the_prompt(client, shipped):
    r = client.completions.create(model="default", prompt=PROMPT, max_tokens=5, temperature=0, echo=True, logprobs=0)
    gen = local(shipped, temperature=0, max_new_tokens=5)[0]
    assert r.choices[0].text == PROMPT + gen.text
    lp = r.choices[0].logprobs
    assert len(lp.tokens) == 1 + len(PROMPT) + 5 and lp.text_offset[-5:] == [len(PROMPT) + i for i in range(5)]


def test_streamed_completion_spells_the_same_text(client):
    kw = dict(model="default", prompt=PROMPT, max_tokens=40, temperature=0, stop=["\n"])
    whole = client.completions.create(**kw).choices[0]
    chunks = list(client.completions.create(stream=True, **kw))
    assert "".join(c.choices[0].text for c in chunks) == whole.text
    assert [c.choices[0].finish_reason for c in chunks][-1] == "stop"
    assert all(c.choices[0].finish_reason is None for c in chunks[:-1])
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens > 0
    with_usage = list(client.completions.create(stream=True, stream_options={"include_usage": True}, **kw))
    assert with_usage[-1].choices == [] and with_usage[-1].usage.total_tokens > 0


def test_chat_renders_the_messages_as_the_models_prompt(client, shipped):
    # the shipped model has no chat template: the conversation is its contents, after BOS
    r = client.chat.completions.create(
        model="gpt-4", messages=[{"role": "user", "content": PROMPT}], temperature=0, max_tokens=30
    )
    want = local(shipped, temperature=0, max_new_tokens=30)[0]
    assert r.choices[0].message.role == "assistant" and r.choices[0].message.content == want.text
    assert r.usage.prompt_tokens == 1 + len(PROMPT) and r.usage.completion_tokens == want.tokens
    assert r.object == "chat.completion" and r.model == "gpt-4"


def test_a_chat_without_a_template_is_its_contents_joined_by_blank_lines(client, shipped):
    messages = [{"role": "system", "content": "Input: 4 9 10 13"}, {"role": "user", "content": "Steps:\n"}]
    r = client.chat.completions.create(model="default", messages=messages, temperature=0, max_tokens=20)
    prompt = shipped.render_chat(messages)
    assert prompt == "Input: 4 9 10 13\n\nSteps:\n"  # the same rendering a local strategy's chat gets
    assert r.choices[0].message.content == local(shipped, prompt, temperature=0, max_new_tokens=20)[0].text


def test_chat_with_n_stop_seed_and_logprobs(client, shipped):
    kw = dict(model="default", messages=[{"role": "user", "content": PROMPT}], max_tokens=40, temperature=0.8)
    r = client.chat.completions.create(n=2, seed=3, stop=["\n"], logprobs=True, top_logprobs=2, **kw)
    want = local(shipped, n=2, seed=3, temperature=0.8, max_new_tokens=40, stop=("\n",))
    for choice, w in zip(r.choices, want):
        assert choice.message.content == w.text.removesuffix("\n") and "\n" not in choice.message.content
        tokens = choice.logprobs.content
        assert [t.logprob for t in tokens] == pytest.approx(list(w.token_logprobs), abs=1e-4)
        assert all(len(t.top_logprobs) == 2 for t in tokens)


def test_streamed_chat_spells_the_same_message(client):
    kw = dict(model="default", messages=[{"role": "user", "content": PROMPT}], max_tokens=30, temperature=0)
    whole = client.chat.completions.create(**kw).choices[0].message.content
    chunks = list(client.chat.completions.create(stream=True, **kw))
    assert chunks[0].choices[0].delta.role == "assistant"
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == whole
    assert chunks[-1].choices[0].finish_reason in ("stop", "length") and chunks[-1].usage is not None
