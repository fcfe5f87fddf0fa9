"""A task's line grammar (reasoning.protocols.Grammar) compiled over a tokenizer's vocabulary.

A state is (the lines done, the bytes of the current line so far). The tokens allowed in a state
are found by walking the vocabulary's sorted token bytes together with the grammar's sorted
allowed lines, one byte at a time: a token is allowed when every byte of it stays inside the
grammar, and a token that crosses a line end (`)\\n13`, `\\n\\n`) is checked against the lines the
grammar allows after the line it completes. Only tokens on grammar paths are visited, never the
whole vocabulary, and each state's allowed ids and successor states are computed once.

Meaning, kept from the character-level processor this replaces:
- `lines(done)` returning None means the rest of the response is free (FREE: any token, EOS
  included, and the response is complete); returning [] means nothing more may be written (only
  EOS, complete).
- Where the grammar allows nothing this tokenizer can write, the row is left unconstrained from
  there on (LOST: not complete) rather than given no token at all.
- A stop string may only be written where it ends the response in a complete state: the task's
  stop strings (cot's blank line) cannot cut a response short of its grammar.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence

from reasoning.constraints.guide import Mask, as_mask
from reasoning.constraints.vocabulary import TokenVocabulary
from reasoning.protocols import Grammar

FREE, LOST = 0, 1  # reserved state ids

Done = tuple[str, ...]


class LineGuide:
    def __init__(self, grammar: Grammar, vocab: TokenVocabulary, stop: Sequence[str] = ()) -> None:
        self.grammar = grammar
        self.vocab = vocab
        self.stops = tuple(s.encode() for s in stop if s)
        self._tail = max((len(s) for s in self.stops), default=1) - 1  # bytes of earlier text a stop may span
        self._stop_ends = {s[-1] for s in self.stops}
        self._lines: dict[Done, list[bytes] | None] = {}
        self._whole: dict[Done, frozenset[bytes]] = {}  # the same lines, for membership
        self._states: list[tuple[Done, bytes]] = [((), b""), ((), b"")]  # FREE and LOST hold no text
        self._ids: dict[tuple[Done, bytes], int] = {}
        self._edges: dict[int, dict[int, int]] = {}  # state -> {allowed token: next state}
        self._masks: dict[int, Mask | None] = {}
        self.initial = self._state((), b"")

    # -- Guide ---------------------------------------------------------------------------------
    def next(self, state: int, token: int) -> int:
        if state in (FREE, LOST):
            return state
        return self._expand(state).get(token, LOST)

    def mask(self, state: int) -> Mask | None:
        if state in (FREE, LOST):
            return None
        if state not in self._masks:
            edges = self._expand(state)
            self._masks[state] = as_mask(list(edges), self.vocab.size) if edges else None  # none: left free
        return self._masks[state]

    def complete(self, state: int) -> bool:
        return state == FREE or self.ended(state)

    def ended(self, state: int) -> bool:
        if state in (FREE, LOST):
            return False
        done, partial = self._states[state]
        return not partial and self._lines[done] == []

    # -- the walk ------------------------------------------------------------------------------
    def _allowed(self, done: Done) -> list[bytes] | None:
        """The grammar's lines after `done`, each as UTF-8 with its newline, sorted; None = free."""
        if done not in self._lines:
            lines = self.grammar.lines(done)
            self._lines[done] = None if lines is None else sorted({line.encode() + b"\n" for line in lines})
            self._whole[done] = frozenset(self._lines[done] or ())
        return self._lines[done]

    def _state(self, done: Done, partial: bytes) -> int:
        if not partial and self._allowed(done) is None:
            return FREE
        key = (done, partial)
        state = self._ids.get(key)
        if state is None:
            state = self._ids[key] = len(self._states)
            self._states.append(key)
        return state

    def _expand(self, state: int) -> dict[int, int]:
        edges = self._edges.get(state)
        if edges is None:
            edges = self._edges[state] = {}
            done, partial = self._states[state]
            if self.ended(state):
                edges[self.vocab.eos] = state
            else:
                text = b"".join(line.encode() + b"\n" for line in done) + partial
                tail = text[len(text) - self._tail :] if self._tail else b""
                keys = self.vocab.sorted[0]
                self._walk(done, partial, b"", 0, len(keys), tail, edges)
        return edges

    def _walk(self, done: Done, partial: bytes, prefix: bytes, lo: int, hi: int, tail: bytes, edges: dict) -> None:
        """Allow every token in keys[lo:hi] (all starting with `prefix`, which led to the state
        (done, partial)) that the grammar can continue, recording the state each leads to."""
        keys, ids = self.vocab.sorted
        lines = self._lines[done]
        assert lines is not None
        k = len(partial)
        i, end = bisect_left(lines, partial), bisect_left(lines, partial + b"\xff")  # lines going on from partial
        while i < end:
            c = lines[i][k]  # each distinct next byte once
            after = bytes((c + 1,)) if c < 255 else None
            i = bisect_left(lines, partial + after, i + 1, end) if after else end
            step = prefix + bytes((c,))
            nlo = bisect_left(keys, step, lo, hi)
            nhi = bisect_left(keys, prefix + after, nlo, hi) if after else hi
            if nlo == nhi:
                continue  # no token goes this way
            grown = partial + bytes((c,))
            if c == 10 and grown in self._whole[done]:  # a whole allowed line: the next one starts
                nd, np = done + (grown[:-1].decode(),), b""
                free = self._allowed(nd) is None
            else:
                nd, np, free = done, grown, False
            if c in self._stop_ends and not free and any((tail + step).endswith(s) for s in self.stops):
                if not self.complete(self._state(nd, np)):
                    continue  # a stop string here would end the response before its grammar does
            if nlo < nhi and keys[nlo] == step:  # tokens that end exactly here
                nxt = FREE if free else self._state(nd, np)
                while nlo < nhi and keys[nlo] == step:
                    edges[ids[nlo]] = nxt
                    nlo += 1
            if free:
                edges.update((ids[t], FREE) for t in range(nlo, nhi))
            elif nlo < nhi:
                self._walk(nd, np, step, nlo, nhi, tail, edges)
