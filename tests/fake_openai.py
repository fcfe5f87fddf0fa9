"""A small OpenAI-compatible HTTP server for tests: a real server on 127.0.0.1 (a free port), run
in a thread of the test process, so the client backend is tested over real HTTP.

Its "model" spells one token per character: a prompt of c characters is c prompt tokens, each
echoed token has log-probability -1 (the first: None, as nothing predicts it) and its text offset
is its index. Replies come from `reply(prompt, i)`. Switches make it behave like the servers a
client meets: chat only, no list of prompts, no `n`, no `echo`, no `logprobs`, no `usage`, no
/tokenize, and
`fail` (status codes to answer first, e.g. [429, 503], for retries)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Behaviour:
    reply: Callable[[str, int], str] = lambda prompt, i: f"reply {i}"
    models: tuple[str, ...] = ("fake-model",)
    completions: bool = True
    batch: bool = True
    n: bool = True
    echo: bool = True
    logprobs: bool = True
    usage: bool = True
    tokenize: bool = True
    stop_reason: bool = True  # name the matched stop string, as vLLM does
    fail: list[int] = field(default_factory=list)  # statuses to answer (once each) before serving
    retry_after: str | None = None
    requests: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # (path, body) of each request
    lock: threading.Lock = field(default_factory=threading.Lock)


class _Handler(BaseHTTPRequestHandler):
    behaviour: Behaviour

    def log_message(self, *args: Any) -> None:  # quiet
        pass

    def _send(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        try:
            self.wfile.write(data)
        except BrokenPipeError:  # the client gave up waiting (a time budget ran out)
            pass

    def _error(self, status: int, message: str) -> None:
        self._send(status, {"error": {"message": message, "type": "invalid_request_error", "code": status}})

    def _failing(self) -> bool:
        b = self.behaviour
        with b.lock:
            status = b.fail.pop(0) if b.fail else None
        if status is None:
            return False
        headers = {"Retry-After": b.retry_after} if b.retry_after is not None else None
        self._send(status, {"error": {"message": f"busy ({status})", "type": "server_error", "code": status}}, headers)
        return True

    def do_GET(self) -> None:  # noqa: N802
        with self.behaviour.lock:
            self.behaviour.requests.append((self.path, {}))
        if self._failing():
            return
        if self.path == "/v1/models":
            self._send(200, {"object": "list", "data": [{"id": m, "object": "model"} for m in self.behaviour.models]})
        else:
            self._error(404, f"no route {self.path}")

    def do_POST(self) -> None:  # noqa: N802
        b = self.behaviour
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
        with b.lock:
            b.requests.append((self.path, body))
        if self._failing():
            return
        if self.path == "/tokenize" and b.tokenize:
            return self._send(200, {"count": len(body["prompt"]), "tokens": list(range(len(body["prompt"])))})
        if self.path == "/v1/completions" and b.completions:
            return self._completions(body)
        if self.path == "/v1/chat/completions":
            return self._chat(body)
        self._error(404, f"no route {self.path}")

    def _sample(self, prompt: str, body: dict[str, Any]) -> tuple[str, str, str | None]:
        """(text, finish_reason, matched stop) of the next reply to a prompt."""
        with self.behaviour.lock:
            drawn = getattr(self.server, "drawn")
            i = drawn.get(prompt, 0)
            drawn[prompt] = i + 1
        text = self.behaviour.reply(prompt, i)
        stops = body.get("stop") or []
        stops = [stops] if isinstance(stops, str) else stops
        hits = [(text.find(s), s) for s in stops if s and s in text]
        if hits:
            at, stop = min(hits)
            return text[:at], "stop", stop
        limit = body.get("max_tokens", 16)
        if len(text) > limit:
            return text[:limit], "length", None
        return text, "stop", None

    def _completions(self, body: dict[str, Any]) -> None:
        b = self.behaviour
        prompts = body["prompt"]
        if isinstance(prompts, list):
            if not b.batch and len(prompts) > 1:
                return self._error(400, "prompt must be a string")
        else:
            prompts = [prompts]
        n = body.get("n", 1)
        if n > 1 and not b.n:
            return self._error(400, "n > 1 is not supported")
        if body.get("echo") and not b.echo:
            return self._error(400, "echo is not supported")
        if body.get("logprobs") is not None and not b.logprobs:
            return self._error(400, "logprobs is not supported")
        choices, made = [], 0
        for p, prompt in enumerate(prompts):
            for j in range(n):
                text, finish, stop = self._sample(prompt, body)
                choice: dict[str, Any] = {"index": p * n + j, "text": text, "finish_reason": finish}
                if b.stop_reason:
                    choice["stop_reason"] = stop
                made += len(text)
                if body.get("logprobs") is not None:
                    shown = prompt + text if body.get("echo") else text
                    lps: list[float | None] = [-1.0] * len(shown)
                    if body.get("echo") and lps:
                        lps[0] = None
                    choice["logprobs"] = {
                        "tokens": list(shown), "token_logprobs": lps,
                        "text_offset": list(range(len(shown))), "top_logprobs": None,
                    }  # fmt: skip
                    if body.get("echo"):
                        choice["text"] = prompt + text
                choices.append(choice)
        answer: dict[str, Any] = {"id": "cmpl-1", "object": "text_completion", "model": body.get("model"), "choices": choices}
        if b.usage:
            read = sum(len(p) for p in prompts)
            answer["usage"] = {"prompt_tokens": read, "completion_tokens": made, "total_tokens": read + made}
        self._send(200, answer)

    def _chat(self, body: dict[str, Any]) -> None:
        b = self.behaviour
        prompt = "\n\n".join(m["content"] for m in body["messages"])
        n = body.get("n", 1)
        if n > 1 and not b.n:
            return self._error(400, "n > 1 is not supported")
        choices, made = [], 0
        for j in range(n):
            text, finish, _ = self._sample(prompt, body)
            made += len(text)
            choices.append({"index": j, "message": {"role": "assistant", "content": text}, "finish_reason": finish})
        answer: dict[str, Any] = {"id": "chat-1", "object": "chat.completion", "model": body.get("model"), "choices": choices}
        if b.usage:
            answer["usage"] = {"prompt_tokens": len(prompt), "completion_tokens": made, "total_tokens": len(prompt) + made}
        self._send(200, answer)


class FakeOpenAIServer:
    """`with FakeOpenAIServer(Behaviour(...)) as server:` then `server.base_url` (…/v1)."""

    def __init__(self, behaviour: Behaviour | None = None) -> None:
        self.behaviour = behaviour or Behaviour()
        handler = type("Handler", (_Handler,), {"behaviour": self.behaviour})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        setattr(self.httpd, "drawn", {})
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def paths(self) -> list[str]:
        return [path for path, _ in self.behaviour.requests]

    def __enter__(self) -> FakeOpenAIServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def free_port() -> int:
    """A loopback port nothing listens on (bound and released)."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
