"""A scripted fake LanguageModel for unit tests: answers come from a function of the prompt."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from reasoning.protocols import Capabilities, Grammar
from reasoning.types import Completion, SamplingParams


def constrain(text: str, grammar: Grammar) -> str:
    """What a constrained decoder makes of a scripted reply: each line the grammar does not allow
    becomes the first line it does (a model held to the grammar), and the reply ends where the
    grammar allows nothing more."""
    out: list[str] = []
    for line in text.split("\n"):
        allowed = grammar.lines(out)
        if allowed is None:  # free from here on
            out.append(line)
        elif not allowed:
            break
        else:
            out.append(line if line in allowed else allowed[0])
    return "\n".join(out)


class ScriptedModel:
    """`reply(prompt, i)` gives the i-th sample's text for a prompt (i counts per prompt across
    calls); `labels(prompt)` gives label -> probability for label_logprobs; `rewards(text)` the
    reward model's score of a text (and the fake then declares the `reward` capability). Records every call.
    A Grammar constraint (one, or one per prompt) is honoured: see `constrain`; any other kind of
    constraint is refused, so a test can never pass by ignoring one."""

    def __init__(
        self,
        reply: Callable[[str, int], str] = lambda prompt, i: "",
        labels: Callable[[str], dict[str, float]] | None = None,
        caps: Capabilities = Capabilities(),
        rewards: Callable[[str], float] | None = None,
    ) -> None:
        self.reply = reply
        self.labels = labels
        self.rewards = rewards  # a reward model's score of a text; given, the fake declares `reward`
        self.caps = caps if rewards is None else replace(caps, reward=True)
        self.calls: list[tuple[str, Any]] = []
        self._drawn: dict[str, int] = {}

    def generate(
        self, prompts: Sequence[str], params: SamplingParams, n: int = 1, seed: int = 0, constraint: Any = None
    ) -> list[list[Completion]]:
        self.calls.append(("generate", (list(prompts), params, n, seed)))
        if constraint is None or isinstance(constraint, Grammar):
            grammars = [constraint] * len(prompts)
        elif isinstance(constraint, (list, tuple)) and all(isinstance(g, Grammar) for g in constraint):
            assert len(constraint) == len(prompts), "one grammar per prompt"
            grammars = list(constraint)
        else:
            raise NotImplementedError(f"the scripted model cannot honour a {type(constraint).__name__}")
        out = []
        for prompt, grammar in zip(prompts, grammars):
            row = []
            for _ in range(n):
                i = self._drawn.get(prompt, 0)
                self._drawn[prompt] = i + 1
                text = self.reply(prompt, i)
                text = (text if grammar is None else constrain(text, grammar))[: params.max_new_tokens]
                row.append(Completion(text=text, tokens=len(text), logprob=-float(len(text)), finish_reason="stop"))
            out.append(row)
        return out

    def score(self, prompts: Sequence[str], continuations: Sequence[str]) -> list[float]:
        self.calls.append(("score", (list(prompts), list(continuations))))
        return [-float(len(c)) for c in continuations]

    def label_logprobs(self, prompts: Sequence[str], labels: Sequence[str]) -> list[list[float]]:
        self.calls.append(("label_logprobs", (list(prompts), list(labels))))
        assert self.labels is not None, "this fake was given no label probabilities"
        rows = []
        for prompt in prompts:
            probs = self.labels(prompt)
            mass = [sum(p for name, p in probs.items() if name.startswith(label)) for label in labels]
            rows.append([math.log(max(m, 1e-9)) for m in mass])
        return rows

    def reward(self, texts: Sequence[str]) -> list[float]:
        self.calls.append(("reward", list(texts)))
        assert self.rewards is not None, "this fake was given no reward model"
        return [float(self.rewards(t)) for t in texts]

    def count_tokens(self, text: str) -> int:
        return len(text)

    def identity(self) -> dict[str, str]:
        return {"backend": "scripted", "model": "fake"}

    def capabilities(self) -> Capabilities:
        return self.caps
