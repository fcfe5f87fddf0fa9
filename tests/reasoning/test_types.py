import dataclasses

import pytest

from reasoning.errors import BadInput
from reasoning.types import Budget, SamplingParams


@pytest.mark.parametrize(
    "text, budget",
    [
        ("10s", Budget(seconds=10.0)),
        ("0.5s", Budget(seconds=0.5)),
        ("500tok", Budget(tokens=500)),
        ("20calls", Budget(calls=20)),
        ("10s+20calls", Budget(seconds=10.0, calls=20)),
        ("unlimited", Budget()),
    ],
)
def test_budget_parse(text, budget):
    assert Budget.parse(text) == budget
    assert Budget.parse(str(budget)) == budget  # round trip


@pytest.mark.parametrize("text", ["10parsecs", "ten s", "0s", "1.5tok", "10s+5s", "-3calls"])
def test_budget_parse_rejects(text):
    with pytest.raises(BadInput):
        Budget.parse(text)


def test_values_are_frozen_and_checked():
    with pytest.raises(dataclasses.FrozenInstanceError):
        Budget().seconds = 3  # type: ignore[misc]
    with pytest.raises(BadInput):
        SamplingParams(top_p=0)
    with pytest.raises(BadInput):
        SamplingParams(temperature=-1)
