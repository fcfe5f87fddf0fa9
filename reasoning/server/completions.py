"""POST /v1/completions: OpenAI's legacy completions, as lm-evaluation-harness and vLLM speak them.

`echo` returns each prompt before its completion; with `logprobs` it also scores the prompt:
its tokens, their log-probabilities (None for the first, which nothing predicts) and top
alternatives come first in the choice's logprobs, then the generated tokens'. With
`max_tokens: 0` nothing is generated, which is how a harness scores a continuation.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from fastapi.responses import StreamingResponse

from reasoning.server.batcher import Scored
from reasoning.server.guided import request_constraint
from reasoning.server.logprobs import merge
from reasoning.server.prompts import Prompt
from reasoning.server.schemas import CompletionRequest, parse
from reasoning.server.service import Service
from reasoning.server.streaming import deltas, sse, with_usage
from reasoning.types import Completion


async def create(service: Service, raw: bytes) -> dict[str, Any] | StreamingResponse:
    req, body = parse(raw, CompletionRequest)
    name = service.model_name(req.model)
    prompts = service.prompts.completion(req.prompt, req.add_special_tokens is not False)
    n = req.n or 1
    max_tokens = 16 if req.max_tokens is None else req.max_tokens
    service.check(prompts, n, max_tokens)
    params = service.params(req, max_tokens)
    constraint = request_constraint(body)
    top = req.logprobs or 0
    generated = service.generate(prompts, params, n, req.seed, top, constraint)
    if req.echo and req.logprobs is not None:
        outs, scored = await asyncio.gather(generated, service.score(prompts, top))
    else:
        outs, scored = await generated, [None] * len(prompts)

    head = {"id": service.new_id("cmpl"), "object": "text_completion", "created": int(time.time()), "model": name}
    head["system_fingerprint"] = service.identity.get("fingerprint")
    usage = service.usage(prompts, outs)
    if req.stream:
        chunks = [c for i, p in enumerate(prompts) for j, o in enumerate(outs[i]) for c in _chunks(service, req, i * n + j, p, o, scored[i], head)]
        return sse(with_usage(chunks, usage, req.include_usage(), head))
    choices = [_choice(service, req, i * n + j, p, o, scored[i]) for i, p in enumerate(prompts) for j, o in enumerate(outs[i])]
    return {**head, "choices": choices, "usage": usage}


def _choice(service: Service, req: CompletionRequest, index: int, p: Prompt, c: Completion, scored: Scored | None) -> dict:
    text, reason, matched = service.finish(c, req.stops())
    logprobs = None
    if req.logprobs is not None:
        start = len(p.text) if req.echo else 0
        logprobs = _generated(service, c, start)
        if req.echo:
            logprobs = merge(_prompt(service, p, scored), logprobs)
    text = (p.text if req.echo else "") + text
    return {"index": index, "text": text, "logprobs": logprobs, "finish_reason": reason, "stop_reason": matched}


def _chunks(service: Service, req: CompletionRequest, index: int, p: Prompt, c: Completion, scored: Scored | None, head: dict) -> list[dict]:
    text, reason, matched = service.finish(c, req.stops())
    want = req.logprobs is not None
    out = []
    if req.echo:
        out.append({"index": index, "text": p.text, "logprobs": _prompt(service, p, scored) if want else None, "finish_reason": None})
    start = len(p.text) if req.echo else 0
    lp = _generated(service, c, start) if want else None
    for t, d in enumerate(deltas(service.text.strings(c.token_ids), text)):
        one = {k: v[t : t + 1] for k, v in lp.items()} if lp else None
        out.append({"index": index, "text": d, "logprobs": one, "finish_reason": None})
    if not c.token_ids:
        out.append({"index": index, "text": "", "logprobs": None, "finish_reason": None})
    out[-1] |= {"finish_reason": reason, "stop_reason": matched}
    return [{**head, "choices": [choice]} for choice in out]


def _generated(service: Service, c: Completion, start: int) -> dict[str, list]:
    tops = c.top_logprobs or tuple(() for _ in c.token_ids)
    return service.text.legacy(c.token_ids, c.token_logprobs, tops, service.text.strings(c.token_ids), start)


def _prompt(service: Service, p: Prompt, scored: Scored | None) -> dict[str, list]:
    """The echoed prompt's logprobs; a BOS the server added is its first token, zero-width in the text."""
    assert scored is not None
    lps, tops = scored
    ids = list(p.ids)
    skip = 1 if p.bos else 0
    rest = service.text.legacy(ids[skip:], lps[skip:], tops[skip:], service.text.strings(ids[skip:]))
    if not skip:
        return rest
    bos = {"tokens": [service.text.piece(ids[0])], "token_logprobs": [None], "top_logprobs": [None], "text_offset": [0]}
    return merge(bos, rest)
