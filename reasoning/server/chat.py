"""POST /v1/chat/completions: messages rendered as the model's chat format (see prompts.py)."""

from __future__ import annotations

import time
from typing import Any

from fastapi.responses import StreamingResponse

from reasoning.server.guided import request_constraint
from reasoning.server.schemas import ChatRequest, parse
from reasoning.server.service import Service
from reasoning.server.streaming import deltas, sse, with_usage
from reasoning.types import Completion


async def create(service: Service, raw: bytes) -> dict[str, Any] | StreamingResponse:
    req, body = parse(raw, ChatRequest)
    name = service.model_name(req.model)
    prompt = service.prompts.chat(req.messages)
    n = req.n or 1
    max_tokens = service.max_tokens([prompt], req.max_completion_tokens or req.max_tokens)
    service.check([prompt], n, max_tokens)
    params = service.params(req, max_tokens)
    constraint = request_constraint(body)
    top = (req.top_logprobs or 0) if req.logprobs else 0
    outs = (await service.generate([prompt], params, n, req.seed, top, constraint))[0]

    head = {"id": service.new_id("chatcmpl"), "created": int(time.time()), "model": name}
    head["system_fingerprint"] = service.identity.get("fingerprint")
    usage = service.usage([prompt], [outs])
    if req.stream:
        head["object"] = "chat.completion.chunk"
        chunks = [chunk for j, c in enumerate(outs) for chunk in _chunks(service, req, j, c, head)]
        return sse(with_usage(chunks, usage, req.include_usage(), head))
    choices = []
    for j, c in enumerate(outs):
        text, reason, matched = service.finish(c, req.stops())
        message = {"role": "assistant", "content": text}
        lp = _logprobs(service, req, c)
        choices.append({"index": j, "message": message, "logprobs": lp, "finish_reason": reason, "stop_reason": matched})
    return {**head, "object": "chat.completion", "choices": choices, "usage": usage}


def _logprobs(service: Service, req: ChatRequest, c: Completion) -> dict | None:
    if not req.logprobs:
        return None
    tops = c.top_logprobs or tuple(() for _ in c.token_ids)
    return service.text.chat(c.token_ids, c.token_logprobs, tops, service.text.strings(c.token_ids))


def _chunks(service: Service, req: ChatRequest, index: int, c: Completion, head: dict) -> list[dict]:
    text, reason, matched = service.finish(c, req.stops())
    lp = _logprobs(service, req, c)
    out: list[dict] = [{"index": index, "delta": {"role": "assistant", "content": ""}, "logprobs": None, "finish_reason": None}]
    for t, d in enumerate(deltas(service.text.strings(c.token_ids), text)):
        one = {"content": lp["content"][t : t + 1]} if lp else None
        out.append({"index": index, "delta": {"content": d}, "logprobs": one, "finish_reason": None})
    out.append({"index": index, "delta": {}, "logprobs": None, "finish_reason": reason, "stop_reason": matched})
    return [{**head, "choices": [choice]} for choice in out]
