"""The reward model made from a language model: its trunk, plus a one-output linear head.

Format: transformers' *ForSequenceClassification with num_labels=1 (for our Llama,
LlamaForSequenceClassification), saved with save_pretrained beside its tokenizer. Chosen over a
causal LM carrying an extra head because it is the standard layout (AutoModelForSequenceClassification
loads it anywhere, as TRL's reward models and serving engines' reward/classify endpoints do),
and because the reward model then trains and ships on its own: RL moving the policy never moves
the judge that values its states.

The head starts where the trunk already has an opinion: for the first task with value labels, its weight
is the difference of the output embeddings of the first token of the best and the worst label,
so the initial score of a state's value prompt is the SFT model's own logit of "sure" over
"impossible" at the answer position (`head_init="labels"`); `"zero"` starts every score at 0.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import torch
from transformers import AutoModelForCausalLM, AutoModelForSequenceClassification, PreTrainedModel
from transformers.utils import logging as hf_logging

from reasoning.backends.hf import quiet
from reasoning.backends.reward import with_pad
from reasoning.protocols import Task

HeadInit = Literal["labels", "zero"]


def label_direction(policy: PreTrainedModel, tokenizer, tasks: Sequence[Task]) -> torch.Tensor | None:
    """(D,) output-embedding difference of the best and worst value label's first tokens, for the
    first task whose labels give one (the number games share theirs); None if none does."""
    for task in tasks:
        labels = getattr(task, "value_labels", None)
        if not labels or len(labels) < 2:
            continue
        best, worst = (tokenizer(label, add_special_tokens=False)["input_ids"] for label in (labels[0], labels[-1]))
        if not best or not worst or best[0] == worst[0]:
            continue
        out = policy.get_output_embeddings().weight  # (V, D)
        return (out[best[0]] - out[worst[0]]).detach().clone()
    return None


def from_policy(init: Path, tokenizer, tasks: Sequence[Task], head_init: HeadInit = "labels") -> PreTrainedModel:
    """A reward model with the trunk of the language model in `init` and a new head."""
    verbosity = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()  # "score.weight newly initialized" is the point, not news
    try:
        with quiet():
            model = AutoModelForSequenceClassification.from_pretrained(init, num_labels=1)
    finally:
        hf_logging.set_verbosity(verbosity)
    with_pad(model, tokenizer)
    direction = None
    if head_init == "labels":
        with quiet():
            direction = label_direction(AutoModelForCausalLM.from_pretrained(init), tokenizer, tasks)
    with torch.no_grad():
        model.score.weight.zero_()  # (1, D)
        if direction is not None:
            model.score.weight[0] = direction
    return model
