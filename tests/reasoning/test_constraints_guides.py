"""Guides (compiled constraints), the vocabulary they read, the processor that applies them and
the honest finish, on real tokenizers (character, Metaspace BPE, byte-level BPE) without a model."""

import pytest
import torch

from reasoning.constraints import (
    Choice,
    Compiler,
    GuideProcessor,
    JsonSchema,
    LineGuide,
    Regex,
    TokenVocabulary,
    settle,
)
from reasoning.constraints.line_guide import FREE, LOST
from reasoning.errors import BadInput
from reasoning.types import Completion
from tasks.game24 import Game24
from training.random_model import RandomModelConfig, build_tokenizer as random_tokenizer
from training.tokenizer import build_tokenizer


@pytest.fixture(scope="module")
def tok():
    return build_tokenizer()


@pytest.fixture(scope="module")
def subword():
    return {kind: random_tokenizer(RandomModelConfig(kind=kind, vocab_size=2048)) for kind in ("bpe", "byte")}


def ids_of(tok, chars):
    return sorted(tok.convert_tokens_to_ids(list(chars)))


def allowed(guide, mask_state):
    m = guide.mask(mask_state)
    if m is None:
        return None
    return sorted(m) if isinstance(m, tuple) else m.nonzero().flatten().tolist()


def walk(guide, tok, text):
    """The state after writing `text` one character token at a time."""
    state = guide.initial
    for t in tok.convert_tokens_to_ids(list(text)):
        state = guide.next(state, t)
    return state


# -- vocabulary ------------------------------------------------------------------------------
def test_vocabulary_bytes_are_what_the_tokenizer_writes(tok, subword):
    texts = ["Input: 4 9 10 13\nSteps:\n13 - 9 = 4 (left: 4 4 10)\n", "Answer: (1 + 2) * 8 = 24\n\n"]
    for name, t in [("char", tok), *subword.items()]:
        vocab = TokenVocabulary.from_tokenizer(t)
        assert vocab.size == len(t) and vocab.eos == t.eos_token_id
        assert all(vocab.pieces[i] is None for i in t.all_special_ids)  # never allowed by a constraint
        for text in texts:
            ids = t(text, add_special_tokens=False)["input_ids"]
            written = vocab.text(ids)
            # a Metaspace tokenizer marks the start with a space its decode drops
            assert written == text or (name == "bpe" and written == " " + text), (name, written)
    byte = TokenVocabulary.from_tokenizer(subword["byte"])
    ids = subword["byte"]("naïve ✓", add_special_tokens=False)["input_ids"]
    assert byte.text(ids) == "naïve ✓"
    assert any(p is not None and len(p) == 1 and p[0] >= 0x80 for p in byte.pieces)  # part of a character
    bpe = TokenVocabulary.from_tokenizer(subword["bpe"])
    assert b" 4" in bpe.pieces and not any(p and "▁".encode() in p for p in bpe.pieces)


# -- regex guides ----------------------------------------------------------------------------
def test_regex_guide_allows_eos_exactly_when_the_match_is_complete(tok):
    g = Compiler(tok).guide(Regex("[0-9]{1,3}"))
    digits, eos = ids_of(tok, "0123456789"), tok.eos_token_id
    s0 = g.initial
    assert allowed(g, s0) == digits and not g.complete(s0)
    s1 = walk(g, tok, "7")
    assert allowed(g, s1) == sorted(digits + [eos]) and g.complete(s1) and not g.ended(s1)
    s3 = walk(g, tok, "789")
    assert allowed(g, s3) == [eos] and g.ended(s3)


def test_choice_guide_and_dense_masks(tok):
    g = Compiler(tok).guide(Choice(["yes", "no"]))
    assert allowed(g, g.initial) == ids_of(tok, "yn")
    dense = Compiler(tok).guide(Regex("[a-zA-Z ]+"))
    m = dense.mask(dense.initial)
    assert m.dtype == torch.bool and m.shape == (len(tok),) and int(m.sum()) == 53


@pytest.mark.parametrize(
    "pattern, message",
    [
        ("(?=a)b", "look-ahead"),
        (r"(a)\1", "backreferences"),
        ("[", "bad regex"),
        ("é+", "vocabulary cannot write"),
    ],
)
def test_regexes_that_cannot_compile_say_why(tok, pattern, message):
    with pytest.raises(BadInput, match=message):
        Compiler(tok).guide(Regex(pattern))


def test_compiler_caches_per_constraint_and_stop_strings(tok):
    c = Compiler(tok, capacity=2)
    task = Game24()
    grammar = task.grammar("cot", task.parse_problem("4 9 10 13"))
    assert c.guide(grammar, ("\n\n",)) is c.guide(grammar, ("\n\n",)) is not c.guide(grammar, ())
    first = c.guide(Regex("a+"))
    c.guide(Regex("b+")), c.guide(Regex("c+"))  # capacity 2: the least recently used leaves
    assert c.guide(Regex("a+")) is not first

    class Unhashable:
        __hash__ = None  # type: ignore[assignment]

        def lines(self, done):
            return None

    assert c.guide(Unhashable()) is not c.guide(Unhashable())
    with pytest.raises(BadInput, match="not a constraint"):
        c.guide("[0-9]+")


# -- line guides -----------------------------------------------------------------------------
class TwoLines:
    def lines(self, done):
        return ["ab", "ac"] if not done else ([""] if len(done) == 1 else None)


def test_line_guide_follows_the_lines(tok):
    g = LineGuide(TwoLines(), TokenVocabulary.from_tokenizer(tok))
    assert allowed(g, walk(g, tok, "")) == ids_of(tok, "a")
    assert allowed(g, walk(g, tok, "a")) == ids_of(tok, "bc")
    assert allowed(g, walk(g, tok, "ab")) == ids_of(tok, "\n")
    assert allowed(g, walk(g, tok, "ab\n")) == ids_of(tok, "\n")  # the closing blank line
    end = walk(g, tok, "ab\n\n")
    assert end == FREE and allowed(g, end) is None and g.complete(end)  # past the grammar: anything
    assert not g.complete(walk(g, tok, "ab\n"))


def test_a_line_the_tokenizer_cannot_write_leaves_the_row_unconstrained(tok):
    class Accent:
        def lines(self, done):
            return ["é"] if not done else None

    g = LineGuide(Accent(), TokenVocabulary.from_tokenizer(tok))
    assert g.mask(g.initial) is None and not g.complete(g.initial)
    assert g.next(g.initial, tok.convert_tokens_to_ids("x")) == LOST and not g.complete(LOST)


def test_an_empty_line_set_ends_the_response(tok):
    class Once:
        def lines(self, done):
            return ["x"] if not done else []

    g = LineGuide(Once(), TokenVocabulary.from_tokenizer(tok))
    s = walk(g, tok, "x\n")
    assert allowed(g, s) == [tok.eos_token_id] and g.ended(s) and g.complete(s)


def fake_vocab(*pieces: str) -> TokenVocabulary:
    """Ids 0 and 1 are special (1 is EOS); the rest write `pieces`."""
    return TokenVocabulary((None, None, *(p.encode() for p in pieces)), eos=1)


class Steps:
    """ab, then cd, then a blank line, then anything."""

    def lines(self, done):
        return [["ab"], ["cd"], [""]][len(done)] if len(done) < 3 else None


def test_tokens_that_cross_a_line_end_follow_the_next_line():
    vocab = fake_vocab("a", "b", "ab\nc", "b\nx", "b\nc", "\n", "c", "d", "d\n\nzz", "x")
    a, b, abnc, bnx, bnc, nl, c, d, dtail, x = range(2, 12)
    g = LineGuide(Steps(), vocab)
    assert sorted(g.mask(g.initial)) == [a, abnc]
    s = g.next(g.initial, a)
    assert sorted(g.mask(s)) == [b, bnc]  # "b\nx" would start a line the grammar does not allow
    s = g.next(g.initial, abnc)
    assert sorted(g.mask(s)) == [d, dtail]  # mid-way through the second line
    assert g.next(s, dtail) == FREE  # its end crosses the blank line into the free rest


def test_a_stop_string_cannot_cut_the_grammar_short(tok):
    class Blank:
        """x, then a blank line or y, then z, then anything: a blank line is a valid line here."""

        def lines(self, done):
            return [["x"], ["", "y"], ["z"]][len(done)] if len(done) < 3 else None

    vocab = TokenVocabulary.from_tokenizer(tok)
    free = LineGuide(Blank(), vocab)
    guarded = LineGuide(Blank(), vocab, stop=("\n\n",))
    assert allowed(free, walk(free, tok, "x\n")) == ids_of(tok, "\ny")
    assert allowed(guarded, walk(guarded, tok, "x\n")) == ids_of(tok, "y")  # "\n\n" would stop it at x


def write(g, vocab, text):
    """Write text through guide g in the greedy longest-match tokens of vocab, each of which must
    be allowed in turn; returns (final state, how many tokens held a line end among other bytes)."""
    pieces = {p: i for i, p in enumerate(vocab.pieces) if p is not None}
    text, state, crossed = text.encode(), g.initial, 0
    while text and state != FREE:
        piece = max((text[:k] for k in range(1, len(text) + 1) if text[:k] in pieces), key=len)
        m = g.mask(state)
        assert pieces[piece] in (m if isinstance(m, tuple) else m.nonzero().flatten().tolist()), piece
        crossed += b"\n" in piece and len(piece) > 1
        state, text = g.next(state, pieces[piece]), text[len(piece) :]
    return state, crossed


def test_game24_grammar_on_subword_vocabularies_allows_line_crossing_tokens(subword):
    task = Game24()
    grammar = task.grammar("cot", task.parse_problem("4 9 10 13"))
    chain = "13 - 9 = 4 (left: 4 4 10)\n10 - 4 = 6 (left: 4 6)\n4 * 6 = 24 (left: 24)\nAnswer: 4 * (10 - (13 - 9)) = 24\n\n"
    crossings = 0
    for t in subword.values():
        vocab = TokenVocabulary.from_tokenizer(t)
        g = LineGuide(grammar, vocab, task.stop("cot"))
        state, crossed = write(g, vocab, chain)
        assert state == FREE and g.complete(state)
        crossings += crossed
        state, _ = write(g, vocab, "13 - 9 = ")
        m = g.mask(state)
        assert all(vocab.pieces[i].startswith(b"4") for i in m)  # only the true value may follow
    assert crossings > 0  # tokens such as ")\n": one token ends a line and moves to the next line's choices


# -- processor -------------------------------------------------------------------------------
def test_processor_masks_each_row_by_its_prompts_guide_and_follows_rows_that_leave(tok):
    c = Compiler(tok)
    digits, letters = c.guide(Regex("[0-9]+")), c.guide(Regex("[a-z ]+"))
    p = GuideProcessor([digits, letters], reps=2, vocab_size=len(tok))  # rows: d d l l
    V = len(tok) + 4  # logits may be wider than the tokenizer
    out = p.process_logits(torch.zeros(4, 0, dtype=torch.long), torch.zeros(4, V))
    ok = torch.isfinite(out)  # (A, V)
    assert ok[0].nonzero().flatten().tolist() == ids_of(tok, "0123456789") and torch.equal(ok[0], ok[1])
    assert ok[2].nonzero().flatten().tolist() == ids_of(tok, "abcdefghijklmnopqrstuvwxyz ") and not ok[2, len(tok) :].any()
    p.batch_select_indices([1, 2])  # row 0 and row 3 finished
    last = torch.tensor([tok.convert_tokens_to_ids(["5"]), tok.convert_tokens_to_ids(["q"])])  # (2, 1)
    out = p.process_logits(last, torch.zeros(2, V))
    eos = tok.eos_token_id
    assert torch.isfinite(out[0, eos]) and torch.isfinite(out[1, eos])  # both complete now
    assert torch.isfinite(out[0]).sum() == 11 and torch.isfinite(out[1]).sum() == 28
    p.reset()
    assert p.rows == [0, 1, 2, 3] and p.states == [digits.initial] * 2 + [letters.initial] * 2


def test_free_rows_are_left_alone(tok):
    g = LineGuide(TwoLines(), TokenVocabulary.from_tokenizer(tok))
    p = GuideProcessor([g], reps=1, vocab_size=len(tok))
    p.states = [FREE]
    logits = torch.randn(1, len(tok))
    assert torch.equal(p.process_logits(torch.zeros(1, 0, dtype=torch.long), logits.clone()), logits)


# -- honest finish ---------------------------------------------------------------------------
def test_settle_says_stop_only_for_complete_constraints(tok):
    vocab = TokenVocabulary.from_tokenizer(tok)
    g = Compiler(tok).guide(Regex("[0-9]{3}"))
    ids = lambda s: tuple(tok.convert_tokens_to_ids(list(s)))  # noqa: E731
    done = Completion("123", 3, -1.0, "length", ids("123"), (0.0,) * 3)
    short = Completion("12", 2, -1.0, "length", ids("12"), (0.0,) * 2)
    timed = Completion("12", 2, -1.0, "time", ids("12"), (0.0,) * 2)
    eos = Completion("123", 4, -1.0, "stop", ids("123") + (vocab.eos,), (0.0,) * 4)
    assert settle(done, g, vocab, True).finish_reason == "stop"  # the constraint ended it: nothing else could follow
    assert settle(short, g, vocab, True).finish_reason == "length"
    assert settle(timed, g, vocab, True).finish_reason == "time"
    assert settle(eos, g, vocab, True).text == "123"


def test_json_schema_guide_compiles_nested_refs_and_formats(tok):
    schema = {
        "$defs": {"pt": {"type": "object", "properties": {"x": {"type": "integer"}}, "required": ["x"]}},
        "type": "object",
        "properties": {"a": {"$ref": "#/$defs/pt"}, "d": {"type": "string", "format": "date"}},
        "required": ["a", "d"],
    }
    g = Compiler(tok).guide(JsonSchema(schema))
    assert g.ended(walk(g, tok, '{"a": {"x": 12}, "d": "2024-02-29"}'))
    assert ids_of(tok, "9") not in [[i] for i in allowed(g, walk(g, tok, '{"a": {"x": 12}, "d": "2023-02-2'))]
    assert tok.convert_tokens_to_ids("9") in allowed(g, walk(g, tok, '{"a": {"x": 12}, "d": "2024-02-2'))
