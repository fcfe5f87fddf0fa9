"""What a reward model reads and what its score means, declared once for training and use.

A state is read as the task's zero-shot value prompt of it (`Numbers: 4 9 10\\nCan reach 24: `):
the text the SFT trunk already learned to judge, so the head starts from a useful representation.
A response is read as its prompt followed by the response. The score is a logit: sigmoid(score)
is the probability that the state can be solved (pointwise labels) and differences of scores are
Bradley-Terry log-odds (pairs), one scale for both.
"""

from __future__ import annotations

import math
from collections.abc import Hashable


def state_input(task: object, state: Hashable) -> str:
    """The text that stands for a search state (the task's value prompt, no examples)."""
    return task.value_prompt(state, 0)  # type: ignore[attr-defined]


def response_input(prompt: str, response: str) -> str:
    """The text that stands for a response to a prompt."""
    return prompt + response


def probability(score: float) -> float:
    """sigmoid(score), computed without overflow."""
    if score >= 0:
        return 1.0 / (1.0 + math.exp(-score))
    z = math.exp(score)
    return z / (1.0 + z)
