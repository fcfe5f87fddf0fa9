"""Split hygiene: no val or test puzzle of Game of 24 reaches a training corpus."""

import re
from dataclasses import replace

import pytest

from tasks.game24 import Game24
from training import corpus
from training.corpus import CorpusConfig

# a line that shows a whole puzzle: "Input: a b c d" (io, cot, propose) or "Numbers: a b c d" (value)
FOUR = re.compile(r"^(?:Input|Numbers): (\d+) (\d+) (\d+) (\d+)\s*$", re.MULTILINE)


def puzzle_lines(texts):
    """Sorted 4-number multisets of every puzzle line in texts."""
    return [tuple(sorted(map(int, m.groups()))) for text in texts for m in FOUR.finditer(text)]


def held_out(task):
    return {tuple(sorted(task.numbers(p))) for split in ("val", "test") for p in task.problems(split)}


def leaks(texts, forbidden):
    return [line for line in puzzle_lines(texts) if line in forbidden]


@pytest.fixture(scope="module")
def default_corpora():
    task = Game24()
    cfg = CorpusConfig()
    material = corpus.pools(task, cfg, seed=0)
    docs = corpus.pretrain_documents(task, cfg, 0, material)
    pairs = corpus.sft_pairs(task, cfg, 0, material)
    return task, docs, pairs


def test_no_val_or_test_puzzle_in_default_corpora(default_corpora):
    task, docs, pairs = default_corpora
    forbidden = held_out(task)
    assert len(forbidden) == 200
    texts = docs + [p + r for p, r in pairs]
    lines = puzzle_lines(texts)
    assert len(lines) > 10_000  # the scan really sees puzzles: it cannot pass vacuously
    assert len(set(lines)) > 1_000  # ... and many different ones (train has 1162)
    assert leaks(texts, forbidden) == []
    # k-shot prompts are in the scan too: some sft prompts show more than one puzzle line
    assert sum(len(FOUR.findall(p)) > 1 for p, _ in pairs) > 500


def test_checker_catches_an_injected_test_puzzle(default_corpora):
    task, docs, pairs = default_corpora
    forbidden = held_out(task)
    puzzle = task.problems("test")[7]
    a, b, c, d = task.numbers(puzzle)
    for injected in (task.prompt("cot", puzzle), f"Numbers: {d} {b} {a} {c}\nCan reach 24: sure\n"):
        copy = list(docs)
        copy[len(copy) // 2] += injected
        assert leaks(copy, forbidden) == [tuple(sorted((a, b, c, d)))]
    prompts = [p for p, _ in pairs] + [task.prompt("io", task.problems("val")[3], k=2)]
    assert len(leaks(prompts, forbidden)) == 1


def test_corpus_shape_and_determinism():
    task = Game24()
    cfg = CorpusConfig.quick()
    material = corpus.pools(task, cfg, 1)
    assert material == corpus.pools(task, cfg, 1)
    docs, pairs = corpus.pretrain_documents(task, cfg, 1, material), corpus.sft_pairs(task, cfg, 1, material)
    assert docs == corpus.pretrain_documents(task, cfg, 1, material)
    assert pairs == corpus.sft_pairs(task, cfg, 1, material)
    assert docs != corpus.pretrain_documents(task, cfg, 2, material)
    assert len(docs) == sum(getattr(cfg, f"{style}_docs") for style in corpus.STYLES)
    assert len(pairs) == sum(getattr(cfg, f"{style}_pairs") for style in corpus.STYLES)
    stops = {s for style in corpus.STYLES for s in task.stop(style)}
    assert all(r and any(r.endswith(s) for s in stops) for _, r in pairs)
    assert all(len(p) + len(r) <= cfg.max_tokens for p, r in pairs)  # the character tokenizer: one token a character
    # documents continue a k-shot prompt: one style each, several blocks
    assert all(d.count("Input:") + d.count("Numbers:") >= cfg.doc_blocks[0] for d in docs)


def test_value_pool_repeats_the_rare_label():
    task = Game24()
    cfg = replace(CorpusConfig.quick(), value_states=60, min_label_share=0.3)
    material = corpus.pools(task, cfg, seed=0)
    labels = [r for _, r in material.value]
    sure = {task.state_text(s) for s, r in material.value if r == "sure\n"}
    impossible = {task.state_text(s) for s, r in material.value if r == "impossible\n"}
    assert len(sure) + len(impossible) == 60 and not sure & impossible  # each sampled state, one label
    assert labels.count("impossible\n") == len(impossible)  # the common label is not repeated
    assert labels.count("sure\n") == len(sure) * round(0.3 * 60 / len(sure))
    assert all(task.solvable(s) == (r == "sure\n") for s, r in material.value)
    texts = [task.state_text(s) for s, _ in material.propose]
    initial = {task.state_text(task.initial_state(p)) for p in task.problems("train")}
    assert all(texts.count(t) == cfg.initial_repeats for t in set(texts) if t in initial)
    assert all(texts.count(t) == 1 for t in set(texts) if t not in initial)  # others deduplicated


def test_game24_corpus_is_byte_identical_to_the_one_the_shipped_model_learned():
    """Game of 24's part of the mixture is its corpus from before tasks were mixed (the shipped
    model was trained on these formats): sha256 of the quick corpus, taken on main before the change."""
    import hashlib
    import json

    task, cfg = Game24(), CorpusConfig.quick()
    material = corpus.pools(task, cfg, 0)
    digest = lambda x: hashlib.sha256(json.dumps(x).encode()).hexdigest()[:16]  # noqa: E731
    assert digest(corpus.pretrain_documents(task, cfg, 0, material)) == "53bb2e97793af6e6"
    assert digest([list(p) for p in corpus.sft_pairs(task, cfg, 0, material)]) == "de02ce7c615b5170"
