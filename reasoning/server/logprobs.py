"""Token strings and the two log-probability shapes of the API.

Legacy completions (what lm-evaluation-harness reads): `{"tokens", "token_logprobs",
"top_logprobs", "text_offset"}`, one entry per token, `top_logprobs` a dict from token string to
log-probability holding the k most likely tokens and the chosen one, `None` where nothing
predicts the token (the first of an echoed prompt). Chat: `{"content": [{"token", "logprob",
"bytes", "top_logprobs": [{"token", "logprob", "bytes"}]}]}`.

A token's string in a sequence is the text it adds to the decoded sequence (so a word-initial
BPE token keeps its space, and the strings concatenate to the decoded text); a byte-level token
that ends inside a UTF-8 character adds "" and the token that completes the character carries
it. Alternatives in `top_logprobs` are named by their own decoding.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

WINDOW = 4  # tokens of left context decoded with each token (enough for any decoder's merging)
TopPairs = tuple[tuple[int, float], ...]


class TokenText:
    def __init__(self, tokenizer: Any) -> None:
        self.tok = tokenizer
        self._pieces: dict[int, str] = {}

    def piece(self, token: int) -> str:
        """A token's own text (no context)."""
        if token not in self._pieces:
            self._pieces[token] = self.tok.decode([token])
        return self._pieces[token]

    def strings(self, ids: Sequence[int]) -> list[str]:
        """The text each token adds to the decoded sequence."""
        ids, out, done = list(ids), [], 0  # ids[:done] have been given their text
        for i in range(len(ids)):
            start = max(0, done - WINDOW)
            before = self.tok.decode(ids[start:done])
            after = self.tok.decode(ids[start : i + 1])
            if after.endswith("\ufffd"):  # inside a UTF-8 character: wait for the rest
                out.append("")
                continue
            same = len(before) if after.startswith(before) else _common(before, after)
            out.append(after[same:])
            done = i + 1
        return out

    def top_dict(self, chosen: int, logprob: float, top: TopPairs) -> dict[str, float]:
        d: dict[str, float] = {}
        for token, lp in (*top, (chosen, logprob)):
            key = self.piece(token)
            d[key] = max(d.get(key, lp), lp)
        return d

    def legacy(
        self,
        ids: Sequence[int],
        logprobs: Sequence[float | None],
        tops: Sequence[TopPairs | None],
        strings: Sequence[str],
        offset: int = 0,
    ) -> dict[str, list]:
        """Legacy completions logprobs for a run of tokens whose text starts at `offset`."""
        offsets, at = [], offset
        for s in strings:
            offsets.append(at)
            at += len(s)
        top_lists: list[dict[str, float] | None] = []
        for token, lp, top in zip(ids, logprobs, tops):
            top_lists.append(None if lp is None else self.top_dict(token, lp, top or ()))
        return {"tokens": list(strings), "token_logprobs": list(logprobs), "top_logprobs": top_lists, "text_offset": offsets}

    def chat(self, ids: Sequence[int], logprobs: Sequence[float], tops: Sequence[TopPairs], strings: Sequence[str]) -> dict:
        content = []
        for token, lp, top, s in zip(ids, logprobs, tops, strings):
            alts = [{"token": self.piece(t), "logprob": v, "bytes": list(self.piece(t).encode())} for t, v in top]
            content.append({"token": s, "logprob": lp, "bytes": list(s.encode()), "top_logprobs": alts})
        return {"content": content}


def _common(a: str, b: str) -> int:
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    return n


def merge(*parts: dict[str, list]) -> dict[str, list]:
    """Legacy logprobs of consecutive runs (an echoed prompt, then its completion) as one."""
    out: dict[str, list] = {"tokens": [], "token_logprobs": [], "top_logprobs": [], "text_offset": []}
    for part in parts:
        for k in out:
            out[k].extend(part[k])
    return out
