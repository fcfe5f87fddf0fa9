"""Requests shaped exactly as real clients send them, replayed as raw JSON.

- The Tree-of-Thoughts repository (princeton-nlp/tree-of-thought-llm, src/tot/models.py) calls
  `openai.ChatCompletion.create(model=..., messages=[{"role": "user", "content": prompt}],
  temperature=0.7, max_tokens=1000, n=cnt, stop=None)` through openai 0.27, which POSTs that dict
  as JSON to {api_base}/chat/completions and reads choices[i]["message"]["content"] and
  usage["completion_tokens"] / usage["prompt_tokens"].
- lm-evaluation-harness's `local-completions` model (lm_eval/models/openai_completions.py,
  api_models.py, utils.RemoteTokenizer): GET /tokenizer_info and POST /tokenize to find a remote
  tokenizer; loglikelihood as token-id prompts with echo, logprobs=1, max_tokens=1, temperature 0,
  seed 1234, read as sum(token_logprobs[ctxlen:-1]) and a greedy check against top_logprobs;
  generation as token-id prompts with `stop` (until + the EOS string).
"""

from __future__ import annotations

from operator import itemgetter

import httpx
import pytest

from reasoning.types import SamplingParams
from tests.server.support import PROMPT

OPENAI_027_HEADERS = {
    "X-OpenAI-Client-User-Agent": '{"bindings_version": "0.27.8", "httplib": "requests", "lang": "python"}',
    "User-Agent": "OpenAI/v1 PythonBindings/0.27.8",
    "Authorization": "Bearer sk-unused",
    "Content-Type": "application/json",
}


@pytest.fixture(scope="module")
def http(server):
    with httpx.Client(base_url=server, timeout=120) as c:
        yield c


@pytest.fixture(scope="module")
def game():
    from tasks import Game24

    task = Game24()
    return task, task.initial_state(task.parse_problem("4 9 10 13"))


# -- Tree of Thoughts through openai 0.27 -------------------------------------------------------
def tot_chatgpt(http, prompt, model="gpt-4", temperature=0.7, max_tokens=1000, n=1, stop=None):
    """ToT's chatgpt(): the request openai 0.27 sends, and what ToT reads from the reply."""
    outputs, usage = [], {"completion_tokens": 0, "prompt_tokens": 0}
    while n > 0:
        cnt = min(n, 20)
        n -= cnt
        body = {"model": model, "messages": [{"role": "user", "content": prompt}], "temperature": temperature,
                "max_tokens": max_tokens, "n": cnt, "stop": stop}  # fmt: skip
        r = http.post("/v1/chat/completions", json=body, headers=OPENAI_027_HEADERS)
        assert r.status_code == 200, r.text
        res = r.json()
        outputs.extend([choice["message"]["content"] for choice in res["choices"]])
        usage["completion_tokens"] += res["usage"]["completion_tokens"]
        usage["prompt_tokens"] += res["usage"]["prompt_tokens"]
    return outputs, usage


# ToT's default max_tokens (1000) lets the model write to the end of its 1024-token context (it
# rarely ends a propose or value answer itself): seconds per call, so those runs are slow tests
MAX_TOKENS = [100, pytest.param(1000, marks=pytest.mark.slow)]


@pytest.mark.parametrize("max_tokens", MAX_TOKENS)
def test_tot_propose_call(http, game, max_tokens):
    task, state = game
    prompt = task.propose_prompt(state)
    outputs, usage = tot_chatgpt(http, prompt, n=1, max_tokens=max_tokens)
    assert len(outputs) == 1 and outputs[0]
    assert task.parse_thoughts(state, outputs[0])  # the shipped model proposes steps through the server
    assert usage["prompt_tokens"] == 1 + len(prompt) and usage["completion_tokens"] > 0


@pytest.mark.parametrize("max_tokens", MAX_TOKENS)
def test_tot_value_call_with_n(http, game, max_tokens):
    task, state = game
    outputs, usage = tot_chatgpt(http, task.value_prompt(state), n=3, max_tokens=max_tokens)
    assert len(outputs) == 3 and all(isinstance(o, str) for o in outputs)
    assert usage["prompt_tokens"] == 1 + len(task.value_prompt(state))


@pytest.mark.slow
def test_tot_sample_call_in_chunks_of_20(http, game):
    task, state = game
    outputs, usage = tot_chatgpt(http, task.step_prompt(state), n=25, max_tokens=200)  # two calls: 20 + 5
    assert len(outputs) == 25 and usage["completion_tokens"] > 0


# -- lm-evaluation-harness, local-completions with the remote tokenizer --------------------------
def encode(http, text):
    """RemoteTokenizer.encode"""
    return http.post("/tokenize", json={"prompt": text, "add_special_tokens": False}).json()["tokens"]


def parse_logprobs(outputs, ctxlens):
    """LocalCompletionsAPI.parse_logprobs"""
    res = []
    for choice, ctxlen in zip(sorted(outputs["choices"], key=itemgetter("index")), ctxlens):
        logprobs = sum(choice["logprobs"]["token_logprobs"][ctxlen:-1])
        is_greedy = all(
            tok == max(top.values())
            for tok, top in zip(choice["logprobs"]["token_logprobs"][ctxlen:-1], choice["logprobs"]["top_logprobs"][ctxlen:-1])
        )
        res.append((logprobs, is_greedy))
    return res


def test_harness_finds_the_remote_tokenizer(http, shipped):
    info = http.get("/tokenizer_info").json()  # check_remote_tokenizer_support
    assert isinstance(info, dict) and "eos_token" in info
    assert isinstance(http.post("/tokenize", json={"prompt": "test", "add_special_tokens": False}).json()["tokens"], list)
    assert encode(http, info["eos_token"])[0] == shipped.tokenizer.eos_token_id  # RemoteTokenizer.eos_token_id
    assert encode(http, info["bos_token"])[0] == shipped.tokenizer.bos_token_id
    assert http.post("/detokenize", json={"tokens": encode(http, "4 9")}).json()["prompt"] == "4 9"


def test_harness_loglikelihood(http, shipped):
    pairs = [(PROMPT, "13 - 9 = 4"), (PROMPT + "13 - 9 = 4 (left: ", "4 4 10)"), (PROMPT, "1 + 1 = 7")]
    inputs, ctxlens = [], []
    for context, continuation in pairs:  # the harness encodes without special tokens: no BOS
        ctx, cont = encode(http, context), encode(http, continuation)
        inputs.append(ctx + cont)
        ctxlens.append(len(ctx))
    payload = {"model": "default", "prompt": inputs, "temperature": 0, "max_tokens": 1, "logprobs": 1, "seed": 1234, "echo": True}
    r = http.post("/v1/completions", json=payload)
    assert r.status_code == 200, r.text
    got = parse_logprobs(r.json(), ctxlens)
    scored = shipped.engine.sequence_logprobs(inputs, top_logprobs=1)
    for (total, greedy), (lps, tops), ctxlen in zip(got, scored, ctxlens):
        assert total == pytest.approx(sum(lps[ctxlen:]), abs=1e-3)
        assert greedy == all(top[0][1] == lp for lp, top in zip(lps[ctxlen:], tops[ctxlen:]))
    assert not got[2][1]  # "1 + 1 = 7" is not what the model would write


def test_harness_loglikelihood_with_max_tokens_0(http, shipped):
    ids = [shipped.tokenizer.bos_token_id, *encode(http, PROMPT)]
    payload = {"model": "default", "prompt": [ids], "temperature": 0, "max_tokens": 0, "logprobs": 1, "echo": True}
    choice = http.post("/v1/completions", json=payload).json()["choices"][0]
    want, _ = shipped.engine.sequence_logprobs([ids])[0]
    assert choice["logprobs"]["token_logprobs"][0] is None
    assert choice["logprobs"]["token_logprobs"][1:] == pytest.approx(want[1:], abs=1e-4)
    assert choice["text"] == "<s>" + PROMPT  # a token-id prompt is echoed as its decoding


def test_harness_generate_until(http, shipped):
    contexts = [PROMPT, "Input: 1 1 4 6\nSteps:\n"]
    eos = http.get("/tokenizer_info").json()["eos_token"]
    prompts = [encode(http, c) for c in contexts]
    payload = {"prompt": prompts, "model": "default", "max_tokens": 256, "temperature": 0, "stop": ["\n\n", eos], "seed": 1234}
    out = http.post("/v1/completions", json=payload).json()
    texts = [None] * len(out["choices"])  # LocalCompletionsAPI.parse_generations
    for choice in out["choices"]:
        texts[choice["index"]] = choice["text"]
    for ids, text in zip(prompts, texts):
        want = shipped.engine.generate_ids([ids], SamplingParams(temperature=0, max_new_tokens=256, stop=("\n\n", eos)))[0][0]
        assert text == want.text.split("\n\n")[0] and text
