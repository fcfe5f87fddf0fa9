"""The local backend on models that are not ours: a trained 8k BPE tokenizer, a byte-level one
without BOS; devices, dtypes, chat templates, threads, and loading the default from anywhere."""

from __future__ import annotations

import math
import threading

import pytest
import torch

from reasoning.backends import ModelSpec, load
from reasoning.backends.hf import HFModel, pick_device
from reasoning.errors import BadInput
from reasoning.types import SamplingParams

PROMPTS = ["Input: 4 9 10 13\nSteps:\n", "Numbers: 4 6\nCan reach 24: "]
WARM = SamplingParams(temperature=1.0, max_new_tokens=12)


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.mark.parametrize("kind", ["bpe_model", "byte_model"])
def test_any_tokenizer_generates_scores_and_reads_labels(kind, request):
    model = load(ModelSpec(model=str(request.getfixturevalue(kind)), device="cpu"))
    assert isinstance(model, HFModel)
    bos = model.tokenizer.bos_token_id
    assert (bos is not None) == (kind == "bpe_model") and model.engine.bos == bos
    out = model.generate(PROMPTS, WARM, n=3, seed=1)
    assert [len(row) for row in out] == [3, 3]
    for c in (c for row in out for c in row):
        assert 1 <= c.tokens == len(c.token_ids) <= 12 and math.isfinite(c.logprob)
        assert model.tokenizer.decode(list(c.token_ids), skip_special_tokens=True).startswith(c.text[:1])
    scores = model.score(PROMPTS, ["4 + 6 = 10", "sure"])
    assert all(math.isfinite(s) and s < 0 for s in scores)
    rows = model.label_logprobs(PROMPTS, ["sure", "likely", "impossible"])
    assert len(rows) == 2 and all(len(r) == 3 and all(v < 0 for v in r) for r in rows)
    assert model.count_tokens("Input: 4 9 10 13") < len("Input: 4 9 10 13")  # merged tokens
    assert model.capabilities().label_logprobs and model.capabilities().constraints


def test_dtype_and_device(bpe_model):
    model = HFModel.load(bpe_model, device="auto", dtype="bfloat16")
    assert next(model.model.parameters()).dtype == torch.bfloat16
    assert model.generate(PROMPTS[:1], WARM)[0][0].tokens >= 1
    assert next(HFModel.load(bpe_model, device="cpu", dtype="auto").model.parameters()).dtype == torch.float32
    assert pick_device("auto").type == ("cuda" if torch.cuda.is_available() else "mps" if torch.backends.mps.is_available() else "cpu")
    if not torch.cuda.is_available():
        with pytest.raises(BadInput, match="--device cuda: this torch build sees no cuda device"):
            HFModel.load(bpe_model, device="cuda")


def test_chat_messages_render_with_the_template_or_without(bpe_model):
    model = HFModel.load(bpe_model)
    message = [{"role": "user", "content": "Input: 1 2 3 4\nSteps:\n"}]
    assert not model.has_chat_template
    assert model.render_chat(message) == "Input: 1 2 3 4\nSteps:\n"  # a completion prompt, unchanged
    system = [{"role": "system", "content": "Be brief."}, *message]
    assert model.render_chat(system) == "Be brief.\n\nInput: 1 2 3 4\nSteps:\n"
    model.tokenizer.chat_template = (
        "{{ bos_token }}{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}\n{% endfor %}"
        "{% if add_generation_prompt %}<|assistant|>{% endif %}"
    )
    text = model.render_chat(system)
    assert text == "<|system|>Be brief.\n<|user|>Input: 1 2 3 4\nSteps:\n\n<|assistant|>"  # BOS left to generate
    assert model.generate([text], WARM)[0][0].tokens >= 1
    with pytest.raises(BadInput):
        model.render_chat([{"role": "user"}])


def test_many_threads_get_what_one_thread_gets(bpe_model):
    model = HFModel.load(bpe_model)
    alone = [model.generate([p], WARM, n=2, seed=s) for s in range(4) for p in PROMPTS]
    got: dict[int, object] = {}

    def run(i: int) -> None:
        s, p = divmod(i, len(PROMPTS))
        got[i] = model.generate([PROMPTS[p]], WARM, n=2, seed=s)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(alone))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [got[i] for i in range(len(alone))] == alone


def test_load_finds_the_default_model_from_any_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    model = load()
    identity = model.identity()
    assert identity["backend"] == "hf" and identity["model"].endswith("checkpoints/default")
    assert load("default").identity() == identity
