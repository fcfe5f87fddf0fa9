"""OpenAIModel: the LanguageModel protocol over any OpenAI-compatible server (vLLM, SGLang,
llama.cpp, OpenAI, `reason serve`), by plain HTTP with httpx.

`OpenAIModel.connect(spec)` asks the server what it offers (a few one-token requests) and
declares capabilities from the answers: completions or chat only, a list of prompts per request,
`n` per request, `echo` with `logprobs` (prompt log-probabilities: score, label_logprobs), and a
`/tokenize` endpoint (exact token counts). Field names follow the OpenAI legacy completions API
as vLLM implements it (`prompt`, `n`, `max_tokens`, `stop`, `seed`, `logprobs`, `echo`;
`choices[i].logprobs.{tokens, token_logprobs, text_offset}`, `usage`).

Requests that fail with 429 or 5xx (or lose their connection mid-run) are retried up to
`spec.max_retries` times with exponential backoff (0.5 s, doubling, capped at 8 s; a 429's
Retry-After is honoured up to 30 s). A server that cannot be reached or refuses a request
gives one BadInput line. Safe to share across threads: the httpx client and the small worker
pool are thread-safe, and nothing else changes after connect but a lock-guarded count cache.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any

import httpx

from reasoning.backends.spec import ModelSpec
from reasoning.errors import BackendError, BadInput
from reasoning.protocols import Capabilities
from reasoning.types import Completion, SamplingParams

BACKOFF, MAX_BACKOFF, MAX_RETRY_AFTER = 0.5, 8.0, 30.0
GRACE = 1.0  # seconds a request may run past the time budget before its completions count as "time"
BYTES_PER_TOKEN = 4  # the estimate when a server neither reports usage nor tokenizes
PARALLEL = 8  # requests in flight for one call when the server takes one prompt per request
COUNTS_KEPT = 10_000


class _OutOfTime(Exception):
    """The time budget of a generate call ended before the server answered."""


def _one_line(text: str, limit: int = 200) -> str:
    first = text.strip().splitlines()[0] if text.strip() else ""
    return first[:limit]


def _message(r: httpx.Response) -> str:
    """The error text of a response: OpenAI's {"error": {"message"}}, else the body's first line."""
    try:
        body = r.json()
    except ValueError:
        return _one_line(r.text) or r.reason_phrase
    if isinstance(body, dict):
        err = body.get("error", body)
        if isinstance(err, dict):
            for key in ("message", "detail", "msg"):
                if isinstance(err.get(key), str):
                    return _one_line(err[key])
        if isinstance(err, str):
            return _one_line(err)
        if isinstance(body.get("detail"), str):
            return _one_line(body["detail"])
    return _one_line(r.text) or r.reason_phrase


def apportion(total: int, weights: Sequence[float]) -> list[int]:
    """Split a whole number in proportion to weights (largest remainder): the parts sum to total."""
    if not weights:
        return []
    mass = sum(weights)
    shares = [total * w / mass for w in weights] if mass > 0 else [total / len(weights)] * len(weights)
    parts = [math.floor(s) for s in shares]
    for i in sorted(range(len(shares)), key=lambda i: parts[i] - shares[i])[: total - sum(parts)]:
        parts[i] += 1
    return parts


@dataclass(frozen=True)
class Server:
    """What the server offered when probed at connect."""

    api: str  # completions | chat
    batch: bool  # a list of prompts in one completions request
    n: bool  # n choices per prompt in one request
    echo: bool  # echo with logprobs and text_offset: prompt log-probabilities
    logprobs: bool  # log-probabilities of sampled tokens
    tokenize: bool  # POST {root}/tokenize counts tokens


@dataclass(frozen=True)
class _Job:
    """One request of a generate call: these prompts (indices), k choices each, this seed."""

    prompts: tuple[int, ...]
    k: int
    seed: int


class OpenAIModel:
    """A model behind an OpenAI-compatible server. Build with `connect(spec)`."""

    def __init__(self, spec: ModelSpec, http: httpx.Client, name: str, server: Server) -> None:
        """Prefer connect(); name and server are fixed once connect returns."""
        self.spec = spec
        self.name = name
        self.server = server
        self._http = http
        self._pool = ThreadPoolExecutor(max_workers=PARALLEL, thread_name_prefix="openai-backend")
        self._counts: OrderedDict[str, int] = OrderedDict()  # text -> tokens, learned from echo answers
        self._counts_lock = threading.Lock()

    # -- connecting --------------------------------------------------------------------------
    @classmethod
    def connect(cls, spec: ModelSpec) -> OpenAIModel:
        """Reach the server, pick the model (spec.model_name, else the first the server lists)
        and probe what it offers. BadInput if unreachable or refused."""
        assert spec.base_url is not None
        headers = {"Authorization": f"Bearer {spec.key()}"} if spec.key() else {}
        http = httpx.Client(
            base_url=spec.base_url.rstrip("/") + "/", headers=headers,
            timeout=httpx.Timeout(spec.timeout, connect=min(10.0, spec.timeout)),
        )  # fmt: skip
        model = cls(spec, http, spec.model_name or "", Server("completions", False, False, False, False, False))
        try:
            model.name = model._pick_model()
            model.server = model._probe()
        except BaseException:
            model.close()
            raise
        return model

    def close(self) -> None:
        self._pool.shutdown(wait=False)
        self._http.close()

    @property
    def base_url(self) -> str:
        return self.spec.base_url or ""

    def _root(self) -> str:
        """The server's root (where vLLM and `reason serve` keep /tokenize): base_url without /v1."""
        url = self.base_url.rstrip("/")
        return url[: -len("/v1")] if url.endswith("/v1") else url

    def _pick_model(self) -> str:
        try:
            listed = self._request("GET", "models", None, retry_transport=False)
            ids = [m["id"] for m in listed.get("data", []) if isinstance(m, dict) and isinstance(m.get("id"), str)]
        except _Missing:
            ids = []  # a server without a model list: the name must be given
        if self.spec.model_name:
            if ids and self.spec.model_name not in ids:
                raise BadInput(
                    f"the server at {self.base_url} does not serve {self.spec.model_name!r}; it serves {', '.join(ids[:10])}"
                )
            return self.spec.model_name
        if not ids:
            raise BadInput(f"the server at {self.base_url} lists no models; name one with --model-name")
        return ids[0]

    def _try(self, path: str, body: dict[str, Any]) -> dict[str, Any] | None:
        """A probe: the answer, or None if the server refused this request shape (4xx)."""
        try:
            return self._request("POST", path, body, retry_transport=False)
        except (_Missing, BadInput):
            return None

    def _probe(self) -> Server:
        one = {"model": self.name, "max_tokens": 1, "temperature": 0.0}

        def choices(answer: dict[str, Any] | None, count: int) -> bool:
            return answer is not None and len(answer.get("choices") or []) == count

        if self.spec.api != "chat":
            basic = self._try("completions", {**one, "prompt": "Hi"})
            if basic is None and self.spec.api == "completions":
                raise BadInput(f"the server at {self.base_url} refused a completions request (try --api chat)")
            if basic is not None:
                batch = choices(self._try("completions", {**one, "prompt": ["Hi", "Yo"]}), 2)
                n = choices(self._try("completions", {**one, "prompt": "Hi", "n": 2, "temperature": 1.0}), 2)
                probe = "Hi there"
                echoed = self._try("completions", {**one, "prompt": probe, "echo": True, "logprobs": 1})
                echo = echoed is not None and self._echo_ok(echoed, probe)
                logprobs = echo or self._logprobs_ok(self._try("completions", {**one, "prompt": "Hi", "logprobs": 1}))
                return Server("completions", batch, n, echo, logprobs, self._tokenize("Hi") is not None)
        chat = {"model": self.name, "max_tokens": 1, "messages": [{"role": "user", "content": "Hi"}]}
        if self._try("chat/completions", chat) is None:
            raise BadInput(f"the server at {self.base_url} refused both a completions and a chat request for {self.name!r}")
        n = choices(self._try("chat/completions", {**chat, "n": 2, "temperature": 1.0}), 2)
        return Server("chat", False, n, False, False, self._tokenize("Hi") is not None)

    @staticmethod
    def _echo_ok(answer: dict[str, Any], prompt: str) -> bool:
        try:
            choice = answer["choices"][0]
            lp = choice["logprobs"]
            return (
                choice["text"].startswith(prompt)
                and len(lp["token_logprobs"]) == len(lp["text_offset"]) >= 2
                and any(o < len(prompt) for o in lp["text_offset"])
            )
        except (KeyError, IndexError, TypeError, AttributeError):
            return False

    @staticmethod
    def _logprobs_ok(answer: dict[str, Any] | None) -> bool:
        try:
            return answer is not None and len(answer["choices"][0]["logprobs"]["token_logprobs"]) >= 1
        except (KeyError, IndexError, TypeError):
            return False

    # -- HTTP --------------------------------------------------------------------------------
    def _request(
        self, method: str, path: str, body: dict[str, Any] | None,
        deadline: float | None = None, retry_transport: bool = True,
    ) -> dict[str, Any]:  # fmt: skip
        """One request with bounded retries: 429 and 5xx always, lost connections when
        `retry_transport`. `deadline` (monotonic) bounds the whole wait: _OutOfTime after it."""
        url = f"{self.base_url.rstrip('/')}/{path.lstrip('/')}" if not path.startswith("http") else path
        for attempt in range(self.spec.max_retries + 1):
            timeout = self.spec.timeout
            if deadline is not None:
                timeout = min(timeout, deadline + GRACE - time.monotonic())
                if timeout <= 0:
                    raise _OutOfTime
            try:
                r = self._http.request(method, url, json=body, timeout=timeout)
            except httpx.TimeoutException:
                if deadline is not None and time.monotonic() >= deadline:
                    raise _OutOfTime from None
                if attempt == self.spec.max_retries:
                    raise BackendError(f"the server at {self.base_url} did not answer within {self.spec.timeout:g} s") from None
                self._sleep(attempt, None, deadline)
                continue
            except httpx.TransportError as e:
                if not retry_transport or attempt == self.spec.max_retries:
                    raise BadInput(f"cannot reach the server at {self.base_url}: {_one_line(str(e)) or type(e).__name__}") from None
                self._sleep(attempt, None, deadline)
                continue
            if r.status_code == 429 or r.status_code >= 500:
                if attempt == self.spec.max_retries:
                    raise BackendError(
                        f"the server at {self.base_url} answered {r.status_code} {attempt + 1} times: {_message(r)}"
                    )
                self._sleep(attempt, r.headers.get("retry-after"), deadline)
                continue
            if r.status_code in (404, 405):
                raise _Missing(f"{url}: {r.status_code} {_message(r)}")
            if r.status_code >= 400:
                raise BadInput(f"the server at {self.base_url} refused the request ({r.status_code}): {_message(r)}")
            try:
                answer = r.json()
            except ValueError:
                raise BackendError(f"the server at {self.base_url} sent a non-JSON answer to {path}") from None
            if not isinstance(answer, dict):
                raise BackendError(f"the server at {self.base_url} sent an unexpected answer to {path}")
            return answer
        raise AssertionError("unreachable")

    @staticmethod
    def _sleep(attempt: int, retry_after: str | None, deadline: float | None) -> None:
        delay = min(BACKOFF * 2**attempt, MAX_BACKOFF)
        if retry_after is not None:
            try:
                delay = min(max(float(retry_after), 0.0), MAX_RETRY_AFTER)
            except ValueError:
                pass
        if deadline is not None:
            delay = min(delay, max(0.0, deadline - time.monotonic()))
        time.sleep(delay)

    def _post(self, path: str, body: dict[str, Any], deadline: float | None = None) -> dict[str, Any]:
        try:
            return self._request("POST", path, body, deadline)
        except _Missing as e:
            raise BadInput(f"the server at {self.base_url} has no {path} endpoint ({e})") from None

    # -- LanguageModel -----------------------------------------------------------------------
    def identity(self) -> dict[str, str]:
        return {"backend": "openai", "model": self.name, "base_url": self.base_url, "api": self.server.api}

    def capabilities(self) -> Capabilities:
        s = self.server
        return Capabilities(score=s.echo, label_logprobs=s.echo, n=s.n, seeds=True, constraints=False)

    def generate(
        self,
        prompts: Sequence[str],
        params: SamplingParams,
        n: int = 1,
        seed: int = 0,
        constraint: Any = None,
    ) -> list[list[Completion]]:
        """n completions per prompt. temperature 0 asks for one and repeats it (as the local
        engine decodes a greedy prompt once). Token counts come from the server's usage."""
        if n < 1:
            raise BadInput(f"n must be >= 1, got {n}")
        guided, obeys = _guided(constraint, self.server.api) if constraint is not None else ({}, None)
        prompts = list(prompts)
        if not prompts:
            return []
        if params.max_new_tokens == 0 or (params.max_seconds is not None and params.max_seconds <= 0):
            empty = Completion("", 0, 0.0, "length" if params.max_new_tokens == 0 else "time")
            return [[empty] * n for _ in prompts]
        reps = 1 if params.temperature == 0 else n
        deadline = None if params.max_seconds is None else time.monotonic() + params.max_seconds
        jobs = self._plan(len(prompts), reps, seed)
        answers = self._map(lambda job: self._send(job, prompts, params, guided, deadline), jobs)
        rows: list[list[Completion]] = [[] for _ in prompts]
        counted: list[int | None] = [0] * len(prompts)
        for job, (choices, prompt_counts) in zip(jobs, answers):
            for b, choice_row, count in zip(job.prompts, choices, prompt_counts):
                rows[b] += choice_row
                counted[b] = None if count is None or counted[b] is None else counted[b] + count
        out = []
        for b, row in enumerate(rows):
            row = [replace(c, prompt_tokens=counted[b]) for c in row]
            out.append(row * n if reps == 1 else row)
        if obeys is not None:
            self._check_guided(out, obeys, guided)
        return out

    def _check_guided(self, rows: list[list[Completion]], obeys: Callable[[str], bool], fields: dict[str, Any]) -> None:
        """A server that ignores the guided-decoding fields must not pass unconstrained text off
        as constrained: every completion that says it finished must obey the constraint."""
        for row in rows:
            for c in row:
                if c.finish_reason == "stop" and not obeys(c.text):
                    raise BackendError(
                        f"the server at {self.base_url} does not follow {', '.join(fields)}: it returned {c.text[:60]!r}, "
                        "which the constraint does not allow"
                    )

    def _plan(self, B: int, reps: int, seed: int) -> list[_Job]:
        """The requests of one call: as few as the server allows (a list of prompts, n choices)."""
        s = self.server
        groups = [tuple(range(B))] if s.api == "completions" and s.batch else [(b,) for b in range(B)]
        if s.n or reps == 1:
            return [_Job(g, reps, seed) for g in groups]
        return [_Job(g, 1, seed + j) for g in groups for j in range(reps)]  # n requests, seeds seed .. seed+n-1

    def _map(self, fn: Callable[[_Job], Any], jobs: list[_Job]) -> list[Any]:
        if len(jobs) == 1:
            return [fn(jobs[0])]
        return list(self._pool.map(fn, jobs))

    def _send(
        self, job: _Job, prompts: list[str], params: SamplingParams, guided: dict[str, Any], deadline: float | None
    ) -> tuple[list[list[Completion]], list[int | None]]:
        """One request: (per prompt of the job, its k completions; per prompt, its token count
        as the server's usage apportions it, or None without usage)."""
        body: dict[str, Any] = {
            "model": self.name, "n": job.k, "max_tokens": params.max_new_tokens,
            "temperature": params.temperature, "top_p": params.top_p, "seed": job.seed, **guided,
        }  # fmt: skip
        if params.stop:
            body["stop"] = list(params.stop)
        if params.top_k > 0:
            body["top_k"] = params.top_k  # vLLM and llama.cpp take it; OpenAI does not
        texts = [prompts[b] for b in job.prompts]
        if self.server.api == "chat":
            body["messages"] = [{"role": "user", "content": texts[0]}]
            path = "chat/completions"
        else:
            body["prompt"] = texts if self.server.batch else texts[0]
            path = "completions"
            if self.server.logprobs:
                body["logprobs"] = 1  # per-choice token counts and the sampled tokens' log-probabilities
        try:
            answer = self._post(path, body, deadline)
        except _OutOfTime:
            late = Completion("", 0, 0.0, "time")
            return [[late] * job.k for _ in texts], [0 for _ in texts]
        choices = sorted(answer.get("choices") or [], key=lambda c: c.get("index", 0) if isinstance(c, dict) else 0)
        if len(choices) != len(texts) * job.k:
            raise BackendError(
                f"the server at {self.base_url} sent {len(choices)} choices for {len(texts)} prompt(s) x n={job.k}"
            )
        parsed = [self._choice(c, params) for c in choices]  # (text, finish, token logprobs or None)
        usage = answer.get("usage") if isinstance(answer.get("usage"), dict) else {}
        made, read = usage.get("completion_tokens"), usage.get("prompt_tokens")
        lengths = [len(lp) if lp is not None else None for _, _, lp in parsed]
        if isinstance(made, int):  # the server's count, split over choices by their own counts (or lengths)
            weights = [float(L) if L is not None else float(len(t) + 1) for (t, _, _), L in zip(parsed, lengths)]
            tokens = apportion(made, weights)
        else:
            tokens = [L if L is not None else self.count_tokens(t) for (t, _, _), L in zip(parsed, lengths)]
        prompt_counts: list[int | None] = (
            apportion(read, [float(len(t) + 1) for t in texts]) if isinstance(read, int) else [None] * len(texts)
        )
        completions = [
            Completion(
                text, count, sum(lp) if lp is not None else math.nan, finish,
                token_logprobs=tuple(lp) if lp is not None else (),
            )  # fmt: skip
            for (text, finish, lp), count in zip(parsed, tokens)
        ]
        return [completions[i * job.k : (i + 1) * job.k] for i in range(len(texts))], prompt_counts

    def _choice(self, choice: Any, params: SamplingParams) -> tuple[str, str, list[float] | None]:
        """(text, finish reason, sampled tokens' log-probabilities or None) of one choice. A
        matched stop string the server names (vLLM's stop_reason) is put back on the text, as
        the local engine keeps it."""
        if not isinstance(choice, dict):
            raise BackendError(f"the server at {self.base_url} sent a malformed choice")
        if self.server.api == "chat":
            message = choice.get("message") or {}
            text = message.get("content") if isinstance(message, dict) else None
        else:
            text = choice.get("text")
        text = text if isinstance(text, str) else ""
        finish = "length" if choice.get("finish_reason") == "length" else "stop"
        matched = choice.get("stop_reason")
        if finish == "stop" and isinstance(matched, str) and matched in params.stop and not text.endswith(matched):
            text += matched
        lp = choice.get("logprobs")
        values = lp.get("token_logprobs") if isinstance(lp, dict) else None
        logprobs = [float(v) for v in values if v is not None] if isinstance(values, list) else None
        return text, finish, logprobs

    def score(self, prompts: Sequence[str], continuations: Sequence[str]) -> list[float]:
        """Sum of the continuation tokens' log-probabilities, read from an echo of prompt +
        continuation: the tokens that end after the prompt's last character."""
        if len(prompts) != len(continuations):
            raise BadInput(f"score got {len(prompts)} prompts but {len(continuations)} continuations")
        self._need_echo("score")
        return self._echo_sums([p + c for p, c in zip(prompts, continuations)], [len(p) for p in prompts])

    def label_logprobs(self, prompts: Sequence[str], labels: Sequence[str]) -> list[list[float]]:
        """(B, L) log-probabilities of each whole label after each prompt: one echo request
        over the B*L prompt + label texts."""
        self._need_echo("label_logprobs")
        prompts, labels = list(prompts), list(labels)
        if not prompts or not labels:
            return [[] for _ in prompts]
        flat = self._echo_sums([p + lab for p in prompts for lab in labels], [len(p) for p in prompts for _ in labels])
        L = len(labels)
        return [flat[b * L : (b + 1) * L] for b in range(len(prompts))]

    def _need_echo(self, what: str) -> None:
        if not self.server.echo:
            raise BadInput(
                f"{what} needs prompt log-probabilities (echo with logprobs), which the server at {self.base_url} does not give"
            )

    def _echo_sums(self, texts: list[str], starts: list[int]) -> list[float]:
        if not texts:
            return []
        body = {"model": self.name, "max_tokens": 1, "temperature": 0.0, "echo": True, "logprobs": 1}
        if self.server.batch:
            answers = [self._post("completions", {**body, "prompt": texts})]
            groups = [list(range(len(texts)))]
        else:
            answers = self._map(lambda i: self._post("completions", {**body, "prompt": texts[i]}), list(range(len(texts))))
            groups = [[i] for i in range(len(texts))]
        out = [0.0] * len(texts)
        for answer, group in zip(answers, groups):
            choices = sorted(answer.get("choices") or [], key=lambda c: c.get("index", 0))
            if len(choices) != len(group):
                raise BackendError(f"the server at {self.base_url} echoed {len(choices)} of {len(group)} prompts")
            for i, choice in zip(group, choices):
                out[i] = self._echoed(choice, texts[i], starts[i])
        return out

    def _echoed(self, choice: dict[str, Any], text: str, start: int) -> float:
        """Sum of log p over the echoed tokens of `text` that end after character `start`; learns
        the token counts of text and of text[:start] for count_tokens."""
        try:
            lp = choice["logprobs"]
            offsets, values = list(lp["text_offset"]), list(lp["token_logprobs"])
        except (KeyError, TypeError):
            raise BackendError(f"the server at {self.base_url} echoed no logprobs/text_offset") from None
        echoed = [i for i, o in enumerate(offsets) if o < len(text)]  # the generated token starts at len(text)
        ends = [offsets[i + 1] if i + 1 < len(offsets) else len(text) for i in echoed]
        self._learn(text, len(echoed))
        self._learn(text[:start], sum(1 for i in echoed if offsets[i] < start))
        return sum(values[i] or 0.0 for i, end in zip(echoed, ends) if end > start)  # None: the first token

    # -- token counts ------------------------------------------------------------------------
    def _learn(self, text: str, count: int) -> None:
        with self._counts_lock:
            self._counts[text] = count
            self._counts.move_to_end(text)
            while len(self._counts) > COUNTS_KEPT:
                self._counts.popitem(last=False)

    def _tokenize(self, text: str) -> int | None:
        try:
            answer = self._request(
                "POST", f"{self._root()}/tokenize", {"model": self.name, "prompt": text, "add_special_tokens": False},
                retry_transport=False,
            )  # fmt: skip
        except (_Missing, BadInput, BackendError):
            return None
        if isinstance(answer.get("count"), int):
            return answer["count"]
        return len(answer["tokens"]) if isinstance(answer.get("tokens"), list) else None

    def count_tokens(self, text: str) -> int:
        """Exact where the server told us (an echo, or its /tokenize endpoint), else an estimate
        of one token per 4 bytes."""
        with self._counts_lock:
            if text in self._counts:
                return self._counts[text]
        count = self._tokenize(text) if self.server.tokenize else None
        if count is None:
            return math.ceil(len(text.encode()) / BYTES_PER_TOKEN)
        self._learn(text, count)
        return count


class _Missing(Exception):
    """The server has no such endpoint (404 or 405)."""


def _guided(constraint: Any, api: str) -> tuple[dict[str, Any], Callable[[str], bool]]:
    """(the request fields that ask the server for `constraint`, a check that a returned text
    obeys it). Regex, JSON schema and choice go as vLLM's guided_regex / guided_json /
    guided_choice (a JSON schema to a chat-only server as OpenAI's response_format); a task's
    line grammar has no wire form and is refused."""
    import json
    import re

    from reasoning.constraints import JsonSchema, Regex, is_constraint, is_output_type, to_request

    if not is_output_type(constraint):
        what = "a task's line grammar" if is_constraint(constraint) else f"a {type(constraint).__name__}"
        raise BadInput(
            f"{what} cannot be sent to a server (only a regex, a JSON schema or a choice can): "
            "run unconstrained (--set constrained=false) or use --backend hf"
        )
    if api == "chat" and isinstance(constraint, JsonSchema):
        fields = {"response_format": {"type": "json_schema", "json_schema": {"name": "output", "schema": constraint.as_dict()}}}
    else:
        fields = to_request(constraint)
    if isinstance(constraint, JsonSchema):
        import jsonschema

        validator = jsonschema.validators.validator_for(constraint.as_dict())(constraint.as_dict())

        def obeys(text: str) -> bool:
            try:
                return validator.is_valid(json.loads(text))
            except ValueError:
                return False

        return fields, obeys
    if isinstance(constraint, Regex):
        try:
            pattern = re.compile(constraint.pattern)
        except re.error:  # Rust syntax Python lacks: the server's word is taken
            return fields, lambda text: True
        return fields, lambda text: pattern.fullmatch(text) is not None
    options = set(constraint.options)
    return fields, lambda text: text in options
