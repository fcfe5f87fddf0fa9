"""`reason serve`: the local model behind an OpenAI-compatible HTTP API (reasoning/server)."""

from __future__ import annotations

import socket
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from reasoning.backends.spec import ModelSpec
from reasoning.cli import options
from reasoning.errors import BadInput


@options.with_model
def serve(
    spec: ModelSpec,
    host: Annotated[str, typer.Option("--host", help="Address to listen on (loopback by default).")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", "-p", help="Port to listen on (0: any free port, printed).")] = 8000,
    served_model_name: Annotated[
        Optional[list[str]],
        typer.Option(
            "--served-model-name",
            help="Name clients address the model by (repeatable; default: the model directory's name). "
            "Requests naming any other model get 404.",
        ),
    ] = None,
    max_batch: Annotated[
        int, typer.Option("--max-batch", min=1, help="Rows (prompts x samples) merged into one forward pass; 1: no merging.")
    ] = 64,
) -> None:
    """Serve a model with the OpenAI API: /v1/completions, /v1/chat/completions, /v1/models, /tokenize."""
    import uvicorn

    from reasoning.cli.models import load_model  # the one place the server's model is chosen
    from reasoning.server import BatchConfig, ServerConfig, create_app

    if spec.backend != "hf":
        raise BadInput("reason serve serves a local model (--backend hf); it does not relay another server")
    if spec.reward_model is not None:
        raise BadInput("reason serve serves the language model alone: --reward-model has no use here")
    sock = _listen(host, port)  # before the model loads: a taken port fails at once
    lm, directory, _ = load_model(spec)
    assert isinstance(directory, Path)
    names = tuple(served_model_name or [directory.name])
    batch = BatchConfig() if max_batch > 1 else BatchConfig(window=0.0, max_rows=1)
    app = create_app(lm, ServerConfig(names=names, batch=batch))
    bound = sock.getsockname()[1]
    print(f"reason serve: {', '.join(names)} ({directory}) on http://{host}:{bound}/v1", flush=True)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", timeout_graceful_shutdown=5))
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:  # uvicorn has shut down cleanly and passes Ctrl-C on: a normal stop
        print("reason serve: stopped", file=sys.stderr)


def _listen(host: str, port: int) -> socket.socket:
    """A bound, listening socket, or BadInput (one line, exit 2) when the address is taken or wrong."""
    if not 0 <= port <= 65535:
        raise BadInput(f"--port must be in 0..65535, got {port}")
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        sock = socket.socket(family, kind, proto)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(2048)
    except OSError as e:
        raise BadInput(f"cannot listen on {host}:{port}: {e.strerror or e}") from None
    return sock
