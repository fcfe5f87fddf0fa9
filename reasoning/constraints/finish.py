"""An honest finish: what a constrained completion's finish_reason and text say.

- EOS is allowed only where the constraint is complete, so a completion that ends on EOS
  ("stop") satisfies it; the line grammars also forbid a stop string where it would cut the
  grammar short. An output type (Regex, JsonSchema, Choice) is given no stop strings: it says
  itself where the text ends.
- A completion that hits max_new_tokens or the time limit keeps "length" / "time" unless its
  constraint was done (nothing but EOS could follow): then it is complete and says "stop".
- The text of an output type's completion is the bytes its tokens write, exactly what the
  constraint matched (a tokenizer's decode may drop a leading space marker).
"""

from __future__ import annotations

from dataclasses import replace

from reasoning.constraints.guide import Guide
from reasoning.constraints.vocabulary import TokenVocabulary
from reasoning.types import Completion


def settle(completion: Completion, guide: Guide, vocab: TokenVocabulary, exact_text: bool) -> Completion:
    """The completion with its finish reason (and, if exact_text, its text) made honest."""
    ids = completion.token_ids
    if ids and ids[-1] == vocab.eos:
        ids = ids[:-1]
    state = guide.initial
    for t in ids:
        state = guide.next(state, t)
    reason = completion.finish_reason
    if reason in ("length", "time") and guide.ended(state):
        reason = "stop"
    text = vocab.text(ids) if exact_text else completion.text
    return replace(completion, text=text, finish_reason=reason)
