"""The FastAPI app: OpenAI's /v1 routes, vLLM's tokenizer routes, health and batching stats."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from reasoning.server import chat, completions, tokenization
from reasoning.server.errors import APIError, install_handlers
from reasoning.server.service import ServerConfig, Service

MAX_BODY = 16 * 2**20  # bytes of one request body


def create_app(model: Any, config: ServerConfig = ServerConfig()) -> FastAPI:
    """An app serving `model` (an HFModel: `.engine`, `.tokenizer`, `render_chat()`, `identity()`). Its batcher's
    worker thread runs while the app does (uvicorn's lifespan starts and stops it)."""
    service = Service(model, config)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        service.batcher.start()
        try:
            yield
        finally:
            service.batcher.stop()

    app = FastAPI(title="reason serve", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.state.service = service
    install_handlers(app)

    def card(name: str) -> dict[str, Any]:
        return {
            "id": name,
            "object": "model",
            "created": service.created,
            "owned_by": "reason",
            "root": service.identity.get("model"),
            "max_model_len": service.context,
            "fingerprint": service.identity.get("fingerprint"),
        }

    @app.get("/v1/models")
    async def models() -> dict[str, Any]:
        return {"object": "list", "data": [card(name) for name in config.names]}

    @app.get("/v1/models/{name:path}")
    async def model(name: str) -> dict[str, Any]:
        return card(service.model_name(name))

    @app.post("/v1/completions")
    async def create_completion(request: Request) -> Response:
        return await _respond(completions.create(service, await _body(request)))

    @app.post("/v1/chat/completions")
    async def create_chat_completion(request: Request) -> Response:
        return await _respond(chat.create(service, await _body(request)))

    for prefix in ("", "/v1"):  # vLLM serves these at the root; a base URL ending in /v1 finds them too
        app.add_api_route(prefix + "/tokenize", _sync(tokenization.tokenize, service), methods=["POST"])
        app.add_api_route(prefix + "/detokenize", _sync(tokenization.detokenize, service), methods=["POST"])
        app.add_api_route(prefix + "/tokenizer_info", lambda: tokenization.tokenizer_info(service), methods=["GET"])

    @app.get("/health")
    async def health() -> dict[str, Any]:
        return {}

    @app.get("/stats")
    async def stats() -> dict[str, Any]:
        """Batching so far: jobs run and the engine calls they took."""
        return {"jobs": service.batcher.stats.jobs, "engine_calls": service.batcher.stats.calls}

    return app


async def _body(request: Request) -> bytes:
    size = request.headers.get("content-length")
    if size is not None and size.isdigit() and int(size) > MAX_BODY:
        raise APIError(413, f"request body of {size} bytes is over the limit of {MAX_BODY}", "body_too_large")
    raw = await request.body()
    if len(raw) > MAX_BODY:
        raise APIError(413, f"request body of {len(raw)} bytes is over the limit of {MAX_BODY}", "body_too_large")
    return raw


async def _respond(result: Awaitable[Any]) -> Response:
    out = await result
    return out if isinstance(out, Response) else JSONResponse(out)


def _sync(handler: Any, service: Service) -> Any:
    async def route(request: Request) -> Response:
        return JSONResponse(handler(service, await _body(request)))

    return route
