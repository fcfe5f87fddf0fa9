"""Request bodies of the OpenAI-compatible API, validated strictly (a string is not a number).

Field names and defaults follow OpenAI's legacy completions and chat completions (and vLLM's
extras `top_k`, `add_special_tokens`). Unknown fields are ignored, as vLLM does; known fields
this server cannot honour are refused unless they hold their neutral value (see `unsupported`).
"""

from __future__ import annotations

import json
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from reasoning.server.errors import APIError, bad_request

MAX_N = 128  # samples per prompt
MAX_TOP_LOGPROBS = 20  # alternatives per position (OpenAI's chat limit; legacy completions allowed 5)
MAX_STOP = 16  # stop strings per request
SEED_MIN, SEED_MAX = -(2**63), 2**64 - 1  # what torch.Generator.manual_seed accepts


class _Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore")


class StreamOptions(_Strict):
    include_usage: bool | None = None


class _Sampling(_Strict):
    model: str | None = None
    n: int | None = Field(None, ge=1, le=MAX_N)
    temperature: float | None = Field(None, ge=0, le=2)
    top_p: float | None = Field(None, gt=0, le=1)
    top_k: int | None = Field(None, ge=-1)  # vLLM extra: -1 or 0 = off
    stop: str | list[str] | None = None
    seed: int | None = Field(None, ge=SEED_MIN, le=SEED_MAX)
    stream: bool | None = False
    stream_options: StreamOptions | None = None
    # neutral-only: accepted at their default, refused otherwise
    frequency_penalty: float | None = None
    presence_penalty: float | None = None
    logit_bias: dict[str, float] | None = None
    user: str | None = None

    def stops(self) -> tuple[str, ...]:
        stops = [self.stop] if isinstance(self.stop, str) else list(self.stop or [])
        if len(stops) > MAX_STOP:
            raise bad_request(f"stop takes at most {MAX_STOP} strings, got {len(stops)}", "stop")
        return tuple(s for s in stops if s)

    def unsupported(self) -> list[str]:
        bad = [f for f in ("frequency_penalty", "presence_penalty") if getattr(self, f) not in (None, 0, 0.0)]
        return bad + (["logit_bias"] if self.logit_bias else [])

    def include_usage(self) -> bool:
        return bool(self.stream_options and self.stream_options.include_usage)


class CompletionRequest(_Sampling):
    prompt: Any = None  # str | list[str] | list[int] | list[list[int]]: checked by prompts.completion_prompts
    max_tokens: int | None = Field(16, ge=0)
    logprobs: int | None = Field(None, ge=0, le=MAX_TOP_LOGPROBS)
    echo: bool | None = False
    suffix: str | None = None
    best_of: int | None = None
    add_special_tokens: bool | None = True  # vLLM extra: prepend BOS to text prompts

    def unsupported(self) -> list[str]:
        bad = super().unsupported() + (["suffix"] if self.suffix else [])
        return bad + (["best_of"] if self.best_of not in (None, 1, self.n or 1) else [])


class ContentPart(_Strict):
    type: str
    text: str | None = None


class Message(_Strict):
    role: Literal["system", "developer", "user", "assistant"]
    content: str | list[ContentPart] | None = None
    name: str | None = None

    def text(self) -> str:
        if self.content is None or isinstance(self.content, str):
            return self.content or ""
        parts = []
        for part in self.content:
            if part.type != "text" or part.text is None:
                raise bad_request(f"message content of type {part.type!r} is not supported (text only)", "messages")
            parts.append(part.text)
        return "".join(parts)


class ChatRequest(_Sampling):
    messages: list[Message] = Field(min_length=1)
    max_tokens: int | None = Field(None, ge=1)
    max_completion_tokens: int | None = Field(None, ge=1)
    logprobs: bool | None = False
    top_logprobs: int | None = Field(None, ge=0, le=MAX_TOP_LOGPROBS)
    tools: list[Any] | None = None
    functions: list[Any] | None = None

    def unsupported(self) -> list[str]:
        return super().unsupported() + [f for f in ("tools", "functions") if getattr(self, f)]


class TokenizeRequest(_Strict):
    """vLLM's /tokenize: a `prompt` (TokenizeCompletionRequest) or `messages` (TokenizeChatRequest)."""

    model: str | None = None
    prompt: str | None = None
    messages: list[Message] | None = None
    add_special_tokens: bool | None = None  # default: True for a prompt, False for messages (vLLM)
    add_generation_prompt: bool | None = True
    return_token_strs: bool | None = False


class DetokenizeRequest(_Strict):
    model: str | None = None
    tokens: list[int]


M = TypeVar("M", bound=BaseModel)


def parse(raw: bytes, schema: type[M]) -> tuple[M, dict[str, Any]]:
    """(validated request, the raw JSON object). 400 for malformed JSON, a body that is not an
    object, missing fields and wrong types; the message names the first offending field."""
    try:
        body = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise APIError(400, f"malformed JSON body: {e}", code="invalid_json") from None
    if not isinstance(body, dict):
        raise APIError(400, f"the request body must be a JSON object, got {type(body).__name__}", code="invalid_json")
    try:
        request = schema.model_validate(body)
    except ValidationError as e:
        err = e.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "body"
        kind = err["type"]
        code = "missing_required_parameter" if kind == "missing" else "invalid_type" if "type" in kind else "invalid_value"
        raise bad_request(f"{where}: {err['msg']}", str(err["loc"][0]) if err["loc"] else None, code) from None
    bad = request.unsupported() if hasattr(request, "unsupported") else []
    if bad:
        raise bad_request(f"{', '.join(bad)} not supported by this server", bad[0], "unsupported_parameter")
    return request, body
