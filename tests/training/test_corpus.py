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
    assert len(docs) == cfg.io_docs + cfg.cot_docs + cfg.propose_docs + cfg.value_docs
    assert len(pairs) == cfg.io_pairs + cfg.cot_pairs + cfg.propose_pairs + cfg.value_pairs
    stops = {s for style in corpus.STYLES for s in task.stop(style)}
    assert all(r and any(r.endswith(s) for s in stops) for _, r in pairs)
    assert all(len(p) + len(r) <= cfg.max_chars for p, r in pairs)
    # documents continue a k-shot prompt: one style each, several blocks
    assert all(d.count("Input:") + d.count("Numbers:") >= cfg.doc_blocks[0] for d in docs)


def test_value_pool_is_balanced():
    task = Game24()
    material = corpus.pools(task, replace(CorpusConfig.quick(), value_states=60), seed=0)
    labels = [r for _, r in material.value]
    assert len(labels) == 60 and labels.count("sure\n") == labels.count("impossible\n") == 30
    texts = [task.state_text(s) for s, _ in material.propose]
    assert len(texts) == len(set(texts))  # states deduplicated
