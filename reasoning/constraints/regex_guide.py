"""A regular expression (and so a JSON schema or a choice) compiled by outlines_core: its `Index`
holds, for each DFA state, the token ids allowed and the state each leads to, EOS allowed exactly
in the states where the text so far is a full match."""

from __future__ import annotations

import re
from typing import Any

from reasoning.constraints.guide import Mask, as_mask
from reasoning.constraints.vocabulary import TokenVocabulary
from reasoning.errors import BadInput

LOST = -1  # a token the mask did not allow was written (cannot happen through the processor)


class RegexGuide:
    def __init__(self, index: Any, vocab: TokenVocabulary) -> None:
        self.index = index
        self.size, self.eos = vocab.size, vocab.eos
        self.initial: int = index.get_initial_state()
        self._masks: dict[int, Mask] = {}

    @classmethod
    def compile(cls, pattern: str, vocab: TokenVocabulary) -> RegexGuide:
        """BadInput naming the construct if outlines_core cannot build the regex's automaton."""
        from outlines_core import Index

        try:
            return cls(Index(pattern, vocab.outlines), vocab)
        except (ValueError, TypeError) as e:
            raise BadInput(_explain(pattern, str(e))) from e

    @staticmethod
    def check(pattern: str) -> None:
        """BadInput, as compile() would give it, if `pattern` cannot become an automaton at all,
        found without a model: over a vocabulary of the 256 single bytes, which can write anything."""
        from outlines_core import Index, Vocabulary

        try:
            Index(pattern, Vocabulary(256, {bytes([b]): [b] for b in range(256)}))
        except (ValueError, TypeError) as e:
            raise BadInput(_explain(pattern, str(e))) from e

    def next(self, state: int, token: int) -> int:
        if state == LOST:
            return LOST
        nxt = self.index.get_next_state(state, token)
        return LOST if nxt is None else nxt

    def mask(self, state: int) -> Mask | None:
        if state == LOST:
            return None
        m = self._masks.get(state)
        if m is None:
            m = self._masks[state] = as_mask(self.index.get_allowed_tokens(state) or [], self.size)
        return m

    def complete(self, state: int) -> bool:
        return state != LOST and self.index.is_final_state(state)

    def ended(self, state: int) -> bool:
        return state != LOST and (self.index.get_allowed_tokens(state) or []) == [self.eos]


_UNSUPPORTED = {  # sre opcodes (Python's parser) for constructs a DFA cannot express
    "ASSERT": "look-ahead/look-behind assertions",
    "ASSERT_NOT": "negative look-ahead/look-behind assertions",
    "GROUPREF": "backreferences",
    "GROUPREF_EXISTS": "conditional groups",
    "ATOMIC_GROUP": "atomic groups",
    "POSSESSIVE_REPEAT": "possessive quantifiers",
}


def _explain(pattern: str, error: str) -> str:
    """One line saying why outlines_core refused a regex, naming the construct where we can."""
    if "incompatible with the regex" in error:
        chars = re.search(r"following characters: (\[.*?\])", error)
        return (
            f"the model's vocabulary cannot write what the regex {pattern!r} needs"
            + (f" (one of {chars.group(1)})" if chars else "")
        )
    try:
        from re import _parser as sre_parse  # type: ignore[attr-defined]

        tree = sre_parse.parse(pattern)
    except re.error as e:
        return f"bad regex {pattern!r}: {e}"
    except Exception:  # noqa: BLE001 - only used to name the construct
        tree = None
    found = _find_ops(tree) if tree is not None else None
    if found:
        return f"the regex {pattern!r} uses {found}, which constrained decoding cannot enforce (regular expressions only)"
    first = error.strip().splitlines()[0] if error.strip() else "unknown error"
    return f"cannot compile the regex {pattern!r}: {first}"


def _find_ops(node: Any) -> str | None:
    """The first construct of _UNSUPPORTED in a parsed pattern (nested lists of (opcode, argument))."""
    node = getattr(node, "data", node)  # a SubPattern holds its items in .data
    if isinstance(node, (list, tuple)):
        if len(node) == 2 and type(node[0]).__name__ == "_NamedIntConstant":
            if str(node[0]) in _UNSUPPORTED:
                return _UNSUPPORTED[str(node[0])]
            return _find_ops(node[1])
        return next((f for f in map(_find_ops, node) if f), None)
    return None
