"""Server-sent events: `data: {chunk}` lines, then `data: [DONE]`.

The engine returns whole completions (Engine.generate_ids has no per-token callback), so a
stream is cut from a finished completion: one chunk per generated token, in the same shapes a
token-by-token server sends. Clients get every delta; the first arrives when generation ends.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from fastapi.responses import StreamingResponse


def sse(chunks: Iterable[dict[str, Any]]) -> StreamingResponse:
    def lines() -> Iterator[str]:
        for chunk in chunks:
            yield f"data: {json.dumps(chunk)}\n\n"
        yield "data: [DONE]\n\n"

    return StreamingResponse(lines(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"})


def deltas(strings: list[str], text: str) -> list[str]:
    """Per-token text deltas that add up to exactly `text` (a completion's visible text, which
    ends before any stop string): each token's string, cut where the text ends. If the token
    strings do not spell the text (a decoder that rewrites across tokens), the first delta
    carries the whole text."""
    if not "".join(strings).startswith(text):
        return [text] + [""] * (len(strings) - 1) if strings else [text]
    out, left = [], len(text)
    for s in strings:
        out.append(s[:left])
        left -= len(out[-1])
    return out


def with_usage(chunks: list[dict[str, Any]], usage: dict[str, int], separate: bool, template: dict) -> list[dict]:
    """Usage in every stream: as OpenAI's final `choices: []` chunk when the client asked for it
    (stream_options.include_usage), else on the last chunk."""
    if separate or not chunks:
        return chunks + [{**template, "choices": [], "usage": usage}]
    chunks[-1] = {**chunks[-1], "usage": usage}
    return chunks
