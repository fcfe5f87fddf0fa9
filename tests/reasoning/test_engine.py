"""Engine and HFModel over a real tiny Llama and a char-level tokenizer."""

from __future__ import annotations

import string

import pytest
import torch
from tokenizers import Tokenizer, decoders, models
from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

from reasoning.backends.hf import HFModel
from reasoning.engine import Engine
from reasoning.errors import BadInput, ModelNotFound
from reasoning.lookup import PromptLookup
from reasoning.meter import Meter
from reasoning.protocols import LanguageModel
from reasoning.types import Budget, SamplingParams

SAMPLE = "Input: 4 9 10 13\nAnswer: (10 - 4) * 6 = 24\n"
PROMPTS = ["Input: 1 2 3 4\n", "Answer:", "x"]


def char_tokenizer() -> PreTrainedTokenizerFast:
    """One token per character: printable ASCII (no tabs/CR) plus '\\n', after 4 specials."""
    specials = ["<pad>", "<s>", "</s>", "<unk>"]
    chars = [c for c in string.printable if c not in "\t\r\x0b\x0c"]
    vocab = {t: i for i, t in enumerate(specials + chars)}
    tk = Tokenizer(models.BPE(vocab=vocab, merges=[], unk_token="<unk>"))  # no merges: chars
    tk.decoder = decoders.Fuse()
    return PreTrainedTokenizerFast(
        tokenizer_object=tk, bos_token="<s>", eos_token="</s>", pad_token="<pad>", unk_token="<unk>"
    )


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Tiny models run far faster on one thread (no spin-waiting on a busy machine)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def tok() -> PreTrainedTokenizerFast:
    return char_tokenizer()


@pytest.fixture(scope="module")
def llama(tok: PreTrainedTokenizerFast) -> LlamaForCausalLM:
    torch.manual_seed(0)
    cfg = LlamaConfig(
        vocab_size=len(tok),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=4,
        max_position_embeddings=256,
        bos_token_id=tok.bos_token_id,
        eos_token_id=tok.eos_token_id,
        pad_token_id=tok.pad_token_id,
    )
    return LlamaForCausalLM(cfg).eval()


@pytest.fixture(scope="module")
def lm(llama: LlamaForCausalLM, tok: PreTrainedTokenizerFast) -> HFModel:
    return HFModel(llama, tok)


def texts(out):
    return [[c.text for c in row] for row in out]


def test_tokenizer_round_trips(tok):
    ids = tok(SAMPLE, add_special_tokens=False)["input_ids"]
    assert len(ids) == len(SAMPLE) and tok.decode(ids) == SAMPLE


def test_hfmodel_is_a_language_model(lm):
    assert isinstance(lm, LanguageModel)
    assert lm.count_tokens(SAMPLE) == len(SAMPLE)


def test_same_seed_same_output_different_seed_differs(lm):
    p = SamplingParams(temperature=1.0, max_new_tokens=20)
    a = lm.generate(PROMPTS, p, n=3, seed=7)
    b = lm.generate(PROMPTS, p, n=3, seed=7)
    c = lm.generate(PROMPTS, p, n=3, seed=8)
    assert a == b
    assert texts(a) != texts(c)


def test_greedy_ignores_seed_and_all_samples_equal(lm):
    p = SamplingParams(temperature=0, max_new_tokens=15)
    a = lm.generate(PROMPTS, p, n=4, seed=1)
    b = lm.generate(PROMPTS, p, n=4, seed=2)
    assert a == b
    assert all(len(set(row)) == 1 and len(row) == 4 for row in a)


def test_n_samples_per_prompt_in_prompt_order(lm):
    p = SamplingParams(temperature=1.0, max_new_tokens=12)
    out = lm.generate(PROMPTS, p, n=5, seed=3)
    assert [len(row) for row in out] == [5, 5, 5]
    assert len({c.text for c in out[0]}) > 1  # samples differ
    # row b of a batched call is about prompt b: greedy batched equals greedy one by one
    g = SamplingParams(temperature=0, max_new_tokens=12)
    batched = lm.generate(PROMPTS, g, n=2)
    assert [row[0].text for row in batched] == [lm.generate([q], g)[0][0].text for q in PROMPTS]


def test_left_padding_batched_greedy_equals_one_by_one(lm):
    prompts = ["a", "Input: 4 9 10 13\nAnswer:", "12 + 3 = ", "zz top\n"]
    g = SamplingParams(temperature=0, max_new_tokens=25)
    batched = lm.generate(prompts, g)
    for q, row in zip(prompts, batched):
        one = lm.generate([q], g)[0][0]
        assert row[0].text == one.text and row[0].tokens == one.tokens
        assert row[0].logprob == pytest.approx(one.logprob, abs=1e-4)


def test_max_new_tokens_gives_length(lm):
    out = lm.generate(PROMPTS, SamplingParams(temperature=1.0, max_new_tokens=6), n=2, seed=0)
    for c in (c for row in out for c in row):
        if c.finish_reason == "length":
            assert c.tokens == 6 and len(c.text) == 6
        else:  # a random model may say EOS early
            assert c.tokens <= 6 and c.finish_reason == "stop"
    assert any(c.finish_reason == "length" for row in out for c in row)
    empty = lm.generate(["a"], SamplingParams(max_new_tokens=0), n=2)
    assert [(c.text, c.tokens, c.finish_reason) for c in empty[0]] == [("", 0, "length")] * 2


def test_stop_strings_cut_the_text(lm):
    g = SamplingParams(temperature=0, max_new_tokens=30)
    free = lm.generate(["Answer:"], g)[0][0].text
    assert len(free) >= 6
    stop = free[3:5]  # a stop string the greedy text is known to contain
    cut = lm.generate(["Answer:"], SamplingParams(temperature=0, max_new_tokens=30, stop=(stop, "never!")))[0][0]
    end = free.find(stop) + len(stop)
    assert cut.text == free[:end] and cut.text.endswith(stop)
    assert cut.finish_reason == "stop" and cut.tokens == end
    # sampled rows stop too, each at its own first stop string
    out = lm.generate(PROMPTS, SamplingParams(temperature=1.0, max_new_tokens=40, stop=("e", "a")), n=4, seed=5)
    stopped = [c for row in out for c in row if c.finish_reason == "stop" and c.tokens == len(c.text)]
    assert stopped  # not EOS: the text holds every generated token
    for c in stopped:
        assert c.text[-1] in "ea" and not any(ch in "ea" for ch in c.text[:-1])


def test_eos_stops_and_is_not_in_text(tok):
    class EosAfterThree(torch.nn.Module):  # a fake LM: says "abc" then EOS
        def __init__(self):
            super().__init__()
            self.w = torch.nn.Parameter(torch.zeros(1))
            self.config = LlamaConfig(vocab_size=len(tok), max_position_embeddings=64)
            self.script = tok("abc", add_special_tokens=False)["input_ids"] + [tok.eos_token_id]

        def forward(self, input_ids, attention_mask=None, position_ids=None, past_key_values=None, **kw):
            B, T = input_ids.shape
            logits = torch.zeros(B, T, len(tok))
            for b in range(B):
                step = int(position_ids[b, -1]) - 1  # prompt "p" + BOS: 2 tokens at positions 0, 1
                logits[b, -1, self.script[min(step, 3)]] = 10.0
            cache = past_key_values if past_key_values is not None else _NullCache()
            return type("Out", (), {"logits": logits, "past_key_values": cache})()

    engine = Engine(EosAfterThree(), tok)
    c = engine.generate(["p"], SamplingParams(temperature=0, max_new_tokens=10))[0][0]
    assert (c.text, c.tokens, c.finish_reason) == ("abc", 4, "stop")


class _NullCache:
    def batch_repeat_interleave(self, n):
        pass

    def batch_select_indices(self, idx):
        pass


def test_greedy_logprob_equals_score(lm):
    prompts = ["Input: 4 9 10 13\n", "b"]
    out = lm.generate(prompts, SamplingParams(temperature=0, max_new_tokens=20))
    scores = lm.score(prompts, [row[0].text for row in out])
    for row, s in zip(out, scores):
        assert row[0].finish_reason == "length"  # no EOS: text holds every generated token
        assert row[0].logprob == pytest.approx(s, abs=1e-4)
    sampled = lm.generate(prompts, SamplingParams(temperature=1.0, top_k=20, top_p=0.9, max_new_tokens=20), seed=4)
    for p, row in zip(prompts, sampled):
        if row[0].finish_reason == "length":
            assert row[0].logprob == pytest.approx(lm.score([p], [row[0].text])[0], abs=1e-4)


def test_score_sums_token_logprobs(lm):
    a, ab = lm.score(["Q", "Q"], ["x", "xy"])
    (y,) = lm.score(["Qx"], ["y"])
    assert ab == pytest.approx(a + y, abs=1e-5)
    assert lm.score(["Q"], [""]) == [0.0]


def _count_forward_batches(model):
    seen = []
    handle = model.register_forward_hook(lambda m, args, kwargs, out: seen.append(kwargs["input_ids"].shape[0]), with_kwargs=True)
    return seen, handle


def test_label_logprobs_single_token_path(lm, llama):
    prompts = ["Is 4 9 10 13 solvable? ", "x"]
    labels = ["s", "l", "i"]
    seen, handle = _count_forward_batches(llama)
    try:
        got = lm.label_logprobs(prompts, labels)
    finally:
        handle.remove()
    assert seen == [2]  # one forward over the B prompts
    for p, row in zip(prompts, got):
        assert row == pytest.approx(lm.score([p] * 3, labels), abs=1e-4)


def test_label_logprobs_multi_token_path(lm, llama):
    prompts = ["Is 4 9 10 13 solvable? ", "x"]
    labels = ["sure", "likely", "impossible", "i"]  # multi-token, first tokens collide
    seen, handle = _count_forward_batches(llama)
    try:
        got = lm.label_logprobs(prompts, labels)
    finally:
        handle.remove()
    assert seen == [8]  # one forward over the B*L concatenations
    assert [len(row) for row in got] == [4, 4]
    for p, row in zip(prompts, got):
        assert row == pytest.approx(lm.score([p] * 4, labels), abs=1e-4)


def test_constraint_is_reset_and_applied(lm, tok):
    digits = tok("0123456789", add_special_tokens=False)["input_ids"]

    class DigitsOnly:
        def __init__(self):
            self.resets, self.shapes = 0, []

        def reset(self):
            self.resets += 1

        def process_logits(self, input_ids, logits):
            self.shapes.append((tuple(input_ids.shape), tuple(logits.shape)))
            masked = torch.full_like(logits, float("-inf"))
            masked[:, digits] = logits[:, digits]
            return masked

    c = DigitsOnly()
    out = lm.generate(["a", "bc"], SamplingParams(temperature=1.0, max_new_tokens=5), n=3, seed=0, constraint=c)
    assert c.resets == 1
    assert c.shapes[0] == ((6, 0), (6, len(tok))) and c.shapes[-1][0] == (6, 4)
    assert all(ch.isdigit() for row in out for comp in row for ch in comp.text)


def test_context_limit(lm, llama):
    ctx = llama.config.max_position_embeddings
    with pytest.raises(BadInput, match="context"):
        lm.generate(["x" * ctx], SamplingParams(max_new_tokens=1))
    with pytest.raises(BadInput, match="context"):
        lm.score(["x" * (ctx - 3)], ["yyyy"])
    c = lm.generate(["x" * (ctx - 4)], SamplingParams(temperature=0, max_new_tokens=50))[0][0]
    assert c.finish_reason == "length" and c.tokens == 3  # BOS + prompt + 3 tokens fill the context


def test_engine_restores_train_mode(llama, tok):
    llama.train()
    try:
        Engine(llama, tok).score(["a"], ["b"])
        assert llama.training
    finally:
        llama.eval()


def test_save_load_round_trip(lm, llama, tok, tmp_path):
    llama.save_pretrained(tmp_path)
    tok.save_pretrained(tmp_path)
    loaded = HFModel.load(tmp_path)
    assert not loaded.model.training and loaded.model.dtype == torch.float32
    g = SamplingParams(temperature=0, max_new_tokens=10)
    assert loaded.generate(PROMPTS, g) == lm.generate(PROMPTS, g)
    assert loaded.score(["ab"], ["cd"]) == pytest.approx(lm.score(["ab"], ["cd"]), abs=1e-5)


def test_load_missing_or_broken_dir_raises_model_not_found(tmp_path):
    with pytest.raises(ModelNotFound, match="does not exist"):
        HFModel.load(tmp_path / "nope")
    with pytest.raises(ModelNotFound, match="config.json"):
        HFModel.load(tmp_path)
    (tmp_path / "config.json").write_text("{not json")
    (tmp_path / "model.safetensors").write_bytes(b"garbage")
    (tmp_path / "tokenizer.json").write_text("{}")
    with pytest.raises(ModelNotFound):
        HFModel.load(tmp_path)


def test_meter_over_hfmodel(lm):
    meter = Meter(lm, Budget(tokens=12))
    out = meter.generate(["ab", "c"], SamplingParams(temperature=1.0, max_new_tokens=100), n=2, seed=0)
    assert all(c.tokens <= 3 for row in out for c in row)  # 12 tokens / 4 rows
    usage = meter.usage()
    assert usage.calls == 1 and usage.prompt_tokens == 3
    assert usage.generated_tokens == sum(c.tokens for row in out for c in row)
    meter.score(["a"], ["b"])
    assert meter.usage().calls == 2


def test_top_k_1_and_tiny_top_p_are_greedy(lm):
    greedy = lm.generate(PROMPTS, SamplingParams(temperature=0, max_new_tokens=15))
    top_k = lm.generate(PROMPTS, SamplingParams(temperature=1.0, top_k=1, max_new_tokens=15), n=3, seed=9)
    top_p = lm.generate(PROMPTS, SamplingParams(temperature=0.7, top_p=1e-6, max_new_tokens=15), n=3, seed=9)
    assert texts(top_k) == texts(top_p) == [[row[0].text] * 3 for row in greedy]


def test_max_seconds_stops_decoding(lm):
    out = lm.generate(["a", "bc"], SamplingParams(temperature=1.0, max_new_tokens=50, max_seconds=0.0), n=2, seed=1)
    # the deadline has passed after the first token: every row stops there, with what it has
    assert all((c.tokens, c.finish_reason) == (1, "time") for row in out for c in row)
    full = lm.generate(["a"], SamplingParams(temperature=0, max_new_tokens=5, max_seconds=None))
    assert full[0][0].finish_reason == "length" and full[0][0].tokens == 5
    with pytest.raises(BadInput):
        SamplingParams(max_seconds=-1)


# -- the lean Llama path (reasoning/llama.py, kv_cache.py, stepper.py) -----------------------------
SHIPPED = "reasoning/checkpoints/default"


def _hf_greedy(model, tok, engine: Engine, ids: list[int], n_new: int) -> list[int]:
    """transformers' own greedy generate, with the tokens the engine never samples suppressed."""
    with torch.inference_mode():
        out = model.generate(
            torch.tensor([ids]), do_sample=False, max_new_tokens=n_new, min_new_tokens=0,
            suppress_tokens=engine._banned or None, eos_token_id=tok.eos_token_id, pad_token_id=engine.pad,
        )  # fmt: skip
    return out[0, len(ids) :].tolist()


def _assert_greedy_matches_generate(model, tok, prompts, n_new=40):
    engine = Engine(model, tok)
    assert engine._lean is not None  # the fast path is what is checked
    for q in prompts:
        ids = engine._with_bos(engine._encode([q])[0])
        ours = engine.generate_ids([ids], SamplingParams(temperature=0, max_new_tokens=n_new))[0][0]
        theirs = _hf_greedy(model, tok, engine, ids, n_new)
        if tok.eos_token_id in theirs:  # generate pads after EOS
            theirs = theirs[: theirs.index(tok.eos_token_id) + 1]
        assert list(ours.token_ids) == theirs


def test_lean_path_only_for_plain_llama(llama, tok):
    from transformers import GPT2Config, GPT2LMHeadModel

    assert Engine(llama, tok)._lean is not None
    assert Engine(llama, tok, fast=False)._lean is None
    gpt2 = GPT2LMHeadModel(GPT2Config(vocab_size=len(tok), n_positions=64, n_embd=32, n_layer=1, n_head=2)).eval()
    assert Engine(gpt2, tok)._lean is None

    class Subclassed(LlamaForCausalLM):  # may change the forward: not ours to guess
        pass

    assert Engine(Subclassed(llama.config).eval(), tok)._lean is None


def test_lean_forward_matches_transformers_bit_for_bit(llama):
    from reasoning.llama import LeanLlama

    torch.manual_seed(1)
    mask = torch.ones(3, 9, dtype=torch.long)
    mask[0, :4], mask[2, :1] = 0, 0  # left padding of different lengths
    ids = torch.randint(4, llama.config.vocab_size, (3, 9)) * mask
    pos = (mask.cumsum(-1) - 1).clamp(min=0)
    call = LeanLlama(llama).start(3, 16)
    call.cache.set_padding(mask)
    with torch.inference_mode():
        out = llama(input_ids=ids, attention_mask=mask, position_ids=pos, use_cache=True, logits_to_keep=1)
        assert torch.equal(call.forward(ids, pos), out.logits[:, -1])
        cache, nxt = out.cache, pos[:, -1:] + 1
        for _ in range(4):
            tok_ = torch.randint(4, llama.config.vocab_size, (3, 1))
            mask = torch.cat([mask, torch.ones(3, 1, dtype=torch.long)], dim=1)
            ref = llama(input_ids=tok_, attention_mask=mask, position_ids=nxt, cache=cache, use_cache=True)
            assert torch.equal(call.forward(tok_, nxt), ref.logits[:, -1])
            nxt = nxt + 1


def test_greedy_equals_transformers_generate(llama, tok):
    _assert_greedy_matches_generate(llama, tok, ["Input: 4 9 10 13\n", "x", "Answer: (1 + 2) * 8"])


def test_greedy_equals_transformers_generate_on_the_shipped_model():
    shipped = HFModel.load(SHIPPED)
    prompts = ["Input: 4 9 10 13\nSteps:\n", "Input: 1 1 4 6\nAnswer:", "Input: 2 3 5 12\nSteps:\n13 - 9"]
    _assert_greedy_matches_generate(shipped.model, shipped.tokenizer, prompts, n_new=60)


@pytest.mark.slow
@pytest.mark.parametrize("kind,bos", [("bpe", True), ("byte", False)])
def test_greedy_equals_transformers_generate_on_a_random_subword_model(tmp_path, kind, bos):
    from training.random_model import RandomModelConfig, build

    random_lm = HFModel.load(build(tmp_path, RandomModelConfig(kind=kind, vocab_size=600, bos=bos)))
    _assert_greedy_matches_generate(random_lm.model, random_lm.tokenizer, ["Input: 4 9 10 13\nSteps:\n", "The model"])


def test_lean_and_plain_paths_give_the_same_completions(llama, tok):
    lean, plain = Engine(llama, tok), Engine(llama, tok, fast=False)
    prompts = [[1, 40, 41], [1, 50, 51, 52, 53, 54, 55], [1]]  # different lengths: left padding
    for p in (
        SamplingParams(temperature=1.0, max_new_tokens=30, stop=("e", "7")),
        SamplingParams(temperature=0.8, top_k=20, top_p=0.9, max_new_tokens=25),
        SamplingParams(temperature=0, max_new_tokens=30, stop=("a",)),
    ):
        a = lean.generate_ids(prompts, p, n=4, seed=3, top_logprobs=2)
        b = plain.generate_ids(prompts, p, n=4, seed=3, top_logprobs=2)
        for ra, rb in zip(a, b):
            for ca, cb in zip(ra, rb):
                assert (ca.text, ca.token_ids, ca.finish_reason) == (cb.text, cb.token_ids, cb.finish_reason)
                assert ca.token_logprobs == pytest.approx(cb.token_logprobs, abs=1e-5)
                assert [i for i, _ in sum(ca.top_logprobs, ())] == [i for i, _ in sum(cb.top_logprobs, ())]


def test_rows_leaving_keep_the_others_exact(lm):
    """Rows of different lengths stop at different steps (stop strings, EOS, limits): every
    completion's token log-probabilities are those of one forward pass over prompt + its tokens,
    so the cache rows that stayed were never mixed up when others left."""
    engine = lm.engine
    prompts = ["Input: 1 2 3 4\n", "Answer:", "x", "12 + 3 = 15\n"]
    p = SamplingParams(temperature=1.0, max_new_tokens=30, stop=("e", "9"))
    out = lm.generate(prompts, p, n=5, seed=11)
    ends = {c.tokens for row in out for c in row}
    assert len(ends) > 3  # rows really left at different steps
    for q, row in zip(prompts, out):
        ids = engine._with_bos(engine._encode([q])[0])
        for c, (lps, _) in zip(row, engine.sequence_logprobs([ids + list(c.token_ids) for c in row])):
            assert c.token_logprobs == pytest.approx(lps[len(ids) :], abs=1e-4)
            if c.finish_reason == "stop" and c.token_ids[-1] != engine.eos:
                assert c.text.endswith(("e", "9")) and not any(s in c.text[:-1] for s in "e9")


def test_stop_strings_after_bpe_merges_are_found():
    """A stop string completed inside a merged token is still caught (the candidate filter must
    never skip a token that can complete one)."""
    from tokenizers import Tokenizer, decoders, models

    vocab = {t: i for i, t in enumerate(["<pad>", "<s>", "</s>", "<unk>", "a", "b", "c", "ab", "bc", "abc", " ", "▁x"])}
    tk = Tokenizer(models.BPE(vocab=vocab, merges=[("a", "b"), ("b", "c"), ("ab", "c")], unk_token="<unk>"))
    tk.decoder = decoders.Fuse()
    tok_ = PreTrainedTokenizerFast(tokenizer_object=tk, bos_token="<s>", eos_token="</s>", pad_token="<pad>", unk_token="<unk>")
    cfg = LlamaConfig(vocab_size=len(tok_), hidden_size=16, intermediate_size=32, num_hidden_layers=1,
                      num_attention_heads=2, num_key_value_heads=2, max_position_embeddings=64)  # fmt: skip
    torch.manual_seed(0)
    engine = Engine(LlamaForCausalLM(cfg).eval(), tok_)
    out = engine.generate(["a"], SamplingParams(temperature=1.0, max_new_tokens=20, stop=("ca", "bb")), n=16, seed=2)
    hits = 0
    for c in out[0]:
        full = tok_.decode(list(c.token_ids))
        if c.finish_reason == "stop" and c.token_ids[-1] != engine.eos:
            hits += 1
            assert c.text.endswith(("ca", "bb")) and "ca" not in c.text[:-1] and "bb" not in c.text[:-1]
        else:  # no stop string anywhere in what was generated
            assert "ca" not in full and "bb" not in full
    assert hits


def test_sequence_logprobs_and_score_are_a_plain_forward(lm, llama, tok):
    ids = [tok.bos_token_id] + tok("Input: 4 9 10 13\n", add_special_tokens=False)["input_ids"]
    (lps, _), = lm.engine.sequence_logprobs([ids])
    with torch.inference_mode():
        ref = llama(input_ids=torch.tensor([ids])).logits[0].log_softmax(-1)  # (T, V)
    want = [ref[j - 1, ids[j]].item() for j in range(1, len(ids))]
    assert lps[0] is None and lps[1:] == pytest.approx(want, abs=1e-6)
    assert lm.score(["Input: 4 9 10 13"], ["\n"])[0] == pytest.approx(want[-1], abs=1e-6)


def test_kv_cache_select_repeats_and_drops_rows():
    from reasoning.kv_cache import KVCache

    cache = KVCache(1, 4, 1, 8, 2, torch.float32, torch.device("cpu"))
    k = torch.arange(2 * 3 * 2, dtype=torch.float32).view(2, 1, 3, 2)  # 2 rows, 3 tokens
    cache.update(0, k, -k)
    cache.advance(3)
    cache.select(torch.tensor([0, 0, 1, 1]))  # each row twice
    keys, values = cache.update(0, torch.zeros(4, 1, 1, 2), torch.zeros(4, 1, 1, 2))
    assert torch.equal(keys[:, :, :3], k.repeat_interleave(2, dim=0)) and torch.equal(values[:, :, :3], -keys[:, :, :3])
    cache.advance(1)
    cache.select(torch.tensor([3]))
    assert torch.equal(cache.k[0][:1, :, :3], k[1:]) and cache.length == 4


# -- prompt lookup drafts (reasoning/lookup.py, Engine._decode) -------------------------------------
def _counting_verify(monkeypatch) -> list[int]:
    """Record the width of every drafted pass the lean stepper runs."""
    from reasoning.stepper import LeanStepper

    widths: list[int] = []
    verify = LeanStepper.verify

    def counted(self, toks):
        widths.append(toks.numel())
        return verify(self, toks)

    monkeypatch.setattr(LeanStepper, "verify", counted)
    return widths


def test_drafting_changes_no_token_and_no_logprob(monkeypatch):
    """On the shipped model's propose prompt (a long, repetitive list), greedy and seeded sampling
    give the same tokens with drafts as without, drafts really run, and every token's
    log-probability is that of one plain forward pass over prompt + tokens: rejected drafts never
    stay in the cache."""
    from tasks.game24 import Game24

    shipped = HFModel.load(SHIPPED)
    task = Game24()
    prompt = task.propose_prompt(task.initial_state(task.parse_problem("1 2 4 7")))
    drafting, plain = shipped.engine, Engine(shipped.model, shipped.tokenizer, lookup=None)
    widths = _counting_verify(monkeypatch)
    for p in (
        SamplingParams(temperature=0, max_new_tokens=400, stop=("\n\n",)),
        SamplingParams(temperature=1.0, max_new_tokens=150, stop=("\n\n",)),
    ):
        a = drafting.generate([prompt], p, seed=4, top_logprobs=2)[0][0]
        b = plain.generate([prompt], p, seed=4, top_logprobs=2)[0][0]
        assert (a.text, a.token_ids, a.finish_reason) == (b.text, b.token_ids, b.finish_reason)
        assert a.token_logprobs == pytest.approx(b.token_logprobs, abs=1e-4)
        assert [i for i, _ in sum(a.top_logprobs, ())] == [i for i, _ in sum(b.top_logprobs, ())]
        ids = drafting._with_bos(drafting._encode([prompt])[0])
        (lps, _), = drafting.sequence_logprobs([ids + list(a.token_ids)])
        assert a.token_logprobs == pytest.approx(lps[len(ids) :], abs=1e-4)
    assert len(widths) > 20 and max(widths) > 2  # drafted passes of several tokens ran
    assert sum(widths) > len(a.token_ids)  # and some drafts were wrong (rewound), yet nothing changed


def test_drafts_start_when_one_row_is_left(lm, monkeypatch):
    """Rows leave at different steps (a stop string, the context's end); once one is left it
    drafts, and every row's tokens are still those of plain decoding with the same seed."""
    widths = _counting_verify(monkeypatch)
    plain = Engine(lm.model, lm.tokenizer, lookup=None)
    prompts = ["abc" * 72, "Input: 1 2 3 4\n", "xyxyxyxyxy"]  # the first reaches the 256-token context first
    p = SamplingParams(temperature=0.7, max_new_tokens=80, stop=("9",))
    a, b = lm.generate(prompts, p, n=2, seed=5), plain.generate(prompts, p, n=2, seed=5)
    assert [[c.token_ids for c in row] for row in a] == [[c.token_ids for c in row] for row in b]
    assert [[c.finish_reason for c in row] for row in a] == [[c.finish_reason for c in row] for row in b]
    assert widths  # the last row drafted


def test_drafting_under_a_grammar_changes_nothing(monkeypatch):
    """Constrained decoding (the task's cot grammar, one row, greedy and sampled) sees the same
    logits calls in the same order with drafts as without: the same chains come out."""
    from reasoning.protocols import grammars_for
    from tasks.game24 import Game24

    shipped = HFModel.load(SHIPPED)
    task = Game24()
    problem = task.parse_problem("1 2 4 7")
    prompt, grammars = task.prompt("cot", problem), grammars_for(task, "cot", [problem])
    assert grammars is not None
    widths = _counting_verify(monkeypatch)
    for p in (SamplingParams(temperature=0, max_new_tokens=160), SamplingParams(temperature=0.8, max_new_tokens=160)):
        a = shipped.generate([prompt], p, seed=2, constraint=grammars)[0][0]
        shipped.engine.lookup = None
        b = shipped.generate([prompt], p, seed=2, constraint=grammars)[0][0]
        shipped.engine.lookup = PromptLookup()
        assert (a.text, a.token_ids, a.finish_reason) == (b.text, b.token_ids, b.finish_reason)
    assert widths
