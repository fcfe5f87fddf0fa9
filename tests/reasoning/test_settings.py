from dataclasses import dataclass
from typing import Literal

import pytest

from reasoning.errors import BadInput
from reasoning.settings import apply, parse_pairs


@dataclass(frozen=True)
class Config:
    breadth: int = 5
    c_uct: float = 1.0
    value: Literal["logprob", "vote"] = "logprob"
    dedupe: bool = True
    limit: int | None = None


def test_apply_converts_to_declared_types():
    c = apply(Config(), parse_pairs(["breadth=3", "c_uct=0.5", "value=vote", "dedupe=no", "limit=7"]))
    assert c == Config(breadth=3, c_uct=0.5, value="vote", dedupe=False, limit=7)
    assert apply(Config(limit=3), {"limit": "none"}).limit is None


@pytest.mark.parametrize(
    "pairs, message",
    [
        (["width=3"], "unknown setting 'width'"),
        (["breadth=three"], "takes a int"),
        (["value=sample"], "must be one of logprob, vote"),
        (["dedupe=maybe"], "takes a bool"),
    ],
)
def test_apply_rejects(pairs, message):
    with pytest.raises(BadInput, match=message):
        apply(Config(), parse_pairs(pairs))


def test_parse_pairs_needs_equals():
    with pytest.raises(BadInput):
        parse_pairs(["breadth"])
