"""Prompt lookup drafts (reasoning/lookup.py): pure index behaviour, no model."""

from __future__ import annotations

import pytest

from reasoning.lookup import PromptLookup


def test_draft_copies_what_followed_the_latest_occurrence_of_the_longest_tail():
    d = PromptLookup(ngram=3, draft=4).start([1, 2, 3, 9, 9, 1, 2, 3, 7, 8, 5, 2, 3])
    assert d.draft(10) == [7, 8, 5, 2]  # tail (2, 3): latest earlier occurrence is followed by 7 8 5 2
    d.extend([6])
    assert d.draft(10) == []  # 6 never appeared before
    d.extend([1, 2])
    assert d.draft(10) == [3, 7, 8, 5]  # (6, 1, 2) is new; (1, 2) last came before 3 7 8 5


def test_shorter_tails_are_tried_and_limits_hold():
    d = PromptLookup(ngram=3, draft=8).start([5, 4, 3, 2, 1, 9, 3])
    assert d.draft(8) == [2, 1, 9, 3]  # only the 1-gram (3,) recurs
    assert d.draft(2) == [2, 1] and d.draft(0) == []
    assert PromptLookup(ngram=2, draft=1).start([4, 4, 4]).draft(5) == [4]  # a run repeats itself


def test_extending_token_by_token_is_building_at_once():
    seq = [3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8, 9, 7, 9, 3, 2, 3, 8, 4, 6, 2, 6, 4, 3, 3, 8, 3, 2, 7, 9, 5]
    settings = PromptLookup(ngram=3, draft=5)
    grown = settings.start(seq[:3])
    for i in range(3, len(seq)):
        grown.extend([seq[i]])
        assert grown.draft(5) == settings.start(seq[: i + 1]).draft(5)


def test_bad_settings_are_refused():
    with pytest.raises(ValueError):
        PromptLookup(ngram=0)
    with pytest.raises(ValueError):
        PromptLookup(draft=0)
