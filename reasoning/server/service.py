"""What every endpoint shares: the served model, its names, limits, and the batcher's calls."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from reasoning.constraints import Compiler, Guide, GuideProcessor, OutputType, settle
from reasoning.errors import ReasonError
from reasoning.server.batcher import BatchConfig, Batcher, Generate, Score, Scored
from reasoning.server.errors import APIError, bad_request
from reasoning.server.logprobs import TokenText
from reasoning.server.prompts import Prompt, Prompts
from reasoning.server.schemas import MAX_TOP_LOGPROBS
from reasoning.types import Completion, SamplingParams


@dataclass(frozen=True)
class ServerConfig:
    names: tuple[str, ...] = ("reason",)  # model names served; responses report the one asked for
    batch: BatchConfig = field(default_factory=BatchConfig)
    max_request_rows: int = 256  # prompts x n in one request (bounds one request's memory)


class Service:
    """`model` is an HFModel (or anything with `.engine`, `.tokenizer`, `render_chat()` and `identity()`)."""

    def __init__(self, model: Any, config: ServerConfig) -> None:
        if not config.names:
            raise ValueError("a server needs at least one model name")
        self.config = config
        self.engine = model.engine
        self.tokenizer = model.tokenizer
        self.identity = model.identity()
        self.context: int | None = self.engine.max_context
        self.prompts = Prompts(self.tokenizer, self.context, model.render_chat)
        self.text = TokenText(self.tokenizer)
        self.batcher = Batcher(self.engine, config.batch)
        self.constraints = Compiler(self.tokenizer)  # guided decoding: each constraint compiled once
        self._compiling = threading.Lock()
        self.created = int(time.time())

    # -- requests ------------------------------------------------------------------------------
    def model_name(self, requested: str | None) -> str:
        """The served name a request addresses: its `model`, which must be one of ours (404
        otherwise, as OpenAI and vLLM answer), or the first name when it gives none."""
        if requested is None:
            return self.config.names[0]
        if requested not in self.config.names:
            served = ", ".join(self.config.names)
            raise APIError(
                404, f"the model `{requested}` does not exist; this server serves: {served}", "model_not_found", "model"
            )
        return requested

    def check(self, prompts: Sequence[Prompt], n: int, max_tokens: int) -> None:
        if self.context is not None and max_tokens > self.context:
            raise bad_request(
                f"max_tokens is {max_tokens} but this model's maximum context length is {self.context} tokens",
                "max_tokens",
            )
        rows = len(prompts) * n
        if rows > self.config.max_request_rows:
            raise bad_request(
                f"{len(prompts)} prompts x n={n} is {rows} completions; at most {self.config.max_request_rows} per request",
                "n",
            )

    def max_tokens(self, prompts: Sequence[Prompt], asked: int | None) -> int:
        """A request without max_tokens may run to the end of the context."""
        if asked is not None:
            return asked
        if self.context is None:
            return 1024
        return max(1, self.context - min(len(p.ids) for p in prompts))

    @staticmethod
    def params(req: Any, max_tokens: int) -> SamplingParams:
        return SamplingParams(
            temperature=1.0 if req.temperature is None else req.temperature,
            top_p=1.0 if req.top_p is None else req.top_p,
            top_k=max(0, req.top_k or 0),
            max_new_tokens=max_tokens,
            stop=req.stops(),
        )

    # -- model calls (through the batcher) ---------------------------------------------------------
    async def generate(
        self, prompts: Sequence[Prompt], params: SamplingParams, n: int, seed: int | None, top: int,
        constraint: OutputType | None,
    ) -> list[list[Completion]]:  # fmt: skip
        """n completions per prompt; with a constraint, each held to it (a processor for this
        request alone) and its finish reason made honest (reasoning.constraints.finish)."""
        if constraint is None:
            if params.max_new_tokens == 0:
                return [[Completion("", 0, 0.0, "length") for _ in range(n)] for _ in prompts]
            return await self._run(Generate([list(p.ids) for p in prompts], params, n, seed, top, None))
        guide = await asyncio.to_thread(self._guide, constraint)
        reps = 1 if params.temperature == 0 else n  # the engine decodes a greedy prompt once
        processor = GuideProcessor([guide] * len(prompts), reps, self.constraints.vocab.size)
        outs = await self._run(Generate([list(p.ids) for p in prompts], params, n, seed, top, processor))
        return [[settle(c, guide, self.constraints.vocab, exact_text=True) for c in row] for row in outs]

    def _guide(self, constraint: OutputType) -> Guide:
        """The compiled constraint (off the event loop: a first JSON schema may take a while)."""
        with self._compiling:
            try:
                return self.constraints.guide(constraint)
            except ReasonError as e:
                raise bad_request(str(e), "guided_decoding") from None

    async def score(self, prompts: Sequence[Prompt], top: int) -> list[Scored]:
        return await self._run(Score([list(p.ids) for p in prompts], min(top, MAX_TOP_LOGPROBS)))

    async def _run(self, job: Generate | Score) -> Any:
        try:
            return await asyncio.wrap_future(self.batcher.submit(job))
        except ReasonError as e:  # the engine refusing an input it was handed is the request's fault
            raise bad_request(str(e)) from None
        except Exception as e:  # noqa: BLE001
            raise APIError(500, f"generation failed: {type(e).__name__}: {e}", "generation_failed") from None

    # -- responses -----------------------------------------------------------------------------
    def finish(self, c: Completion, stops: Sequence[str]) -> tuple[str, str, str | None]:
        """(the text a client sees, OpenAI's finish_reason, vLLM's stop_reason: the stop string
        that ended it, else None). A stop string ends the completion and is not part of its
        text; EOS is never part of it either."""
        text = c.text
        if c.finish_reason != "stop":
            return text, "length", None
        if not stops or (c.token_ids and c.token_ids[-1] == self.engine.eos):
            return text, "stop", None
        found = [(text.find(s), s) for s in stops if s in text]
        if not found:
            return text, "stop", None
        cut, matched = min(found)
        return text[:cut], "stop", matched

    @staticmethod
    def usage(prompts: Sequence[Prompt], completions: Sequence[Sequence[Completion]]) -> dict[str, int]:
        prompt = sum(len(p.ids) for p in prompts)
        done = sum(c.tokens for row in completions for c in row)
        return {"prompt_tokens": prompt, "completion_tokens": done, "total_tokens": prompt + done}

    @staticmethod
    def new_id(prefix: str) -> str:
        return f"{prefix}-{uuid.uuid4().hex}"
