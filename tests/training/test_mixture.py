"""The corpus over every task: split hygiene for Countdown and arithmetic (no val or test problem
in any corpus), the mixture of parts, and length limits counted in tokens."""

import re
from dataclasses import replace

import pytest

from reasoning.errors import BadInput
from tasks import Arithmetic, Countdown, Game24
from training import corpus
from training.corpus import CorpusConfig, Mixture

INPUT = re.compile(r"^(?:Input|Numbers): ([\d ]+) -> (\d+)\s*$")  # a Countdown problem or state line
LEFT = re.compile(r"\(left: ([\d ]+)\)\s*$")  # a step's numbers left (whole numbers only)
EXPR = re.compile(r"^Input: (.+)$")


def countdown_keys(texts):
    """(sorted numbers, target) of every problem or state a Countdown text shows: its Input and
    Numbers lines, and each step's numbers left (with the target of the block they are in)."""
    keys = []
    for text in texts:
        target = None
        for line in text.splitlines():
            if m := INPUT.match(line):
                target = int(m.group(2))
                keys.append((tuple(sorted(map(int, m.group(1).split()))), target))
            elif (m := LEFT.search(line)) and target is not None and len(m.group(1).split()) >= 3:
                keys.append((tuple(sorted(map(int, m.group(1).split()))), target))
    return keys


def held_out_countdown(task):
    return {(tuple(sorted(task.numbers(p))), int(task.target(p))) for s in ("val", "test") for p in task.problems(s)}


def countdown_corpora(cfg):
    task = Countdown()
    material = corpus.pools(task, cfg, seed=0)
    docs = corpus.pretrain_documents(task, cfg, 0, material)
    return task, docs + [p + r for p, r in corpus.sft_pairs(task, cfg, 0, material)]


def test_no_val_or_test_countdown_problem_in_a_corpus():
    cfg = replace(CorpusConfig.quick(), problems=150, states_per_problem=None, value_states=None)
    task, texts = countdown_corpora(cfg)
    keys = countdown_keys(texts)
    assert len(keys) > 2_000 and len({k for k in keys if len(k[0]) == 3}) > 300  # the scan sees problems and states
    forbidden = held_out_countdown(task)
    assert len(forbidden) == 300 and not [k for k in keys if k in forbidden]
    # and it would see one: a held-out problem's prompt, or a step that leaves its numbers
    test = task.problems("test")[3]
    assert len(set(countdown_keys([task.prompt("cot", test)])) & forbidden) == 1
    numbers, target = task.numbers(test), int(task.target(test))
    assert len(numbers) in (3, 4)
    a, *rest = numbers
    step = f"Input: 1 {a + 1} {' '.join(map(str, rest))} -> {target}\nSteps:\n{a + 1} - 1 = {a} (left: {' '.join(map(str, sorted(numbers)))})\n"
    assert (tuple(sorted(numbers)), target) in countdown_keys([step])


@pytest.mark.slow
def test_no_val_or_test_countdown_problem_in_the_default_corpus():
    task, texts = countdown_corpora(Mixture().of("countdown"))
    keys = countdown_keys(texts)
    assert len(keys) > 100_000
    assert not [k for k in keys if k in held_out_countdown(task)]


def test_no_val_or_test_arithmetic_problem_in_the_default_corpus():
    task, cfg = Arithmetic(), Mixture().of("arithmetic")
    material = corpus.pools(task, cfg, seed=0)
    texts = corpus.pretrain_documents(task, cfg, 0, material) + [p + r for p, r in corpus.sft_pairs(task, cfg, 0, material)]
    shown = [m.group(1) for text in texts for line in text.splitlines() if (m := EXPR.match(line))]
    assert len(shown) > 30_000 and len(set(shown)) > 20_000  # the scan sees many problems
    held_out = {p.text for s in ("val", "test") for p in task.problems(s)}
    assert len(held_out) == 2_500 and not set(shown) & held_out
    assert set(shown) <= {p.text for p in task.problems("train")}
    assert not material.propose and not material.value and not material.step  # no search role: io and cot only


@pytest.mark.slow
def test_the_mixture_is_every_part_shuffled_together():
    tasks, mix = [Game24(), Countdown(), Arithmetic()], Mixture.quick()
    assert mix.names() == ("game24", "countdown", "arithmetic")
    docs = corpus.mixture_documents(tasks, mix, 0)
    parts = [corpus.pretrain_documents(t, mix.of(t.name), 0) for t in tasks]
    assert sorted(docs) == sorted(d for part in parts for d in part) and docs != [d for part in parts for d in part]
    assert all(parts) and docs == corpus.mixture_documents(tasks, mix, 0)
    pairs = corpus.mixture_pairs(tasks, mix, 0)
    assert sorted(pairs) == sorted(p for t in tasks for p in corpus.sft_pairs(t, mix.of(t.name), 0))
    assert any("->" in p for p, _ in pairs) and any(" + " in p and "->" not in p for p, _ in pairs)
    with pytest.raises(BadInput, match="no part for task 'chess'"):
        mix.of("chess")
    with pytest.raises(BadInput, match="each task once"):
        Mixture(parts=(("game24", CorpusConfig()), ("game24", CorpusConfig())))


def test_sft_length_limit_counts_tokens():
    task = Game24()
    cfg = replace(CorpusConfig.quick(), shot_probs=(0.0, 0.0, 0.0, 1.0), max_tokens=600)
    material = corpus.pools(task, cfg, 0)
    by_chars = corpus.sft_pairs(task, cfg, 0, material)  # one token a character
    twice = lambda text: 2 * len(text)  # noqa: E731  (a tokenizer that makes two tokens of each character)
    by_tokens = corpus.sft_pairs(task, cfg, 0, material, count=twice)
    assert all(len(p) + len(r) <= 600 for p, r in by_chars)
    assert all(twice(p) + twice(r) <= 600 for p, r in by_tokens)
    shots = lambda pairs: sum(p.count("Input:") + p.count("Numbers:") for p, _ in pairs)  # noqa: E731
    assert shots(by_tokens) < shots(by_chars)  # longer in tokens: fewer examples fit in the prompts


def test_only_keeps_the_named_parts_as_sized():
    full = Mixture()
    only = full.only(["arithmetic", "game24"])
    assert only.names() == ("arithmetic", "game24")
    assert only.of("game24") == full.of("game24") and only.of("arithmetic") == full.of("arithmetic")
    with pytest.raises(BadInput, match="no part for task 'nope'"):
        full.only(["nope"])
    with pytest.raises(BadInput, match="names each task once"):
        full.only(["game24", "game24"])
