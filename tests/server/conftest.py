"""Real uvicorn servers on free loopback ports, each in a thread of the test process."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

PROMPT = "Input: 4 9 10 13\nSteps:\n"  # what the shipped model was trained to continue


@contextmanager
def live(app: Any) -> Iterator[str]:
    """Serve `app` on 127.0.0.1 at a free port; yields the base URL (without /v1)."""
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()


@pytest.fixture(scope="session")
def shipped() -> Any:
    from reasoning.backends.hf import HFModel
    from reasoning.cli.models import default_model_dir

    return HFModel.load(default_model_dir())


@pytest.fixture(scope="session")
def server(shipped: Any) -> Iterator[str]:
    """The shipped model, served as "default" and also as "gpt-4" (what the ToT repo asks for)."""
    from reasoning.server import ServerConfig, create_app

    with live(create_app(shipped, ServerConfig(names=("default", "gpt-4")))) as url:
        yield url


CHAT_TEMPLATE = (
    "{{ bos_token }}{% for m in messages %}<|{{ m['role'] }}|>\n{{ m['content'] }}{{ eos_token }}\n{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>\n{% endif %}"
)


@pytest.fixture(scope="session")
def bpe_model(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """Someone else's model: random weights, a trained BPE tokenizer with merged multi-character
    tokens, and a chat template."""
    from reasoning.backends.hf import HFModel
    from training.random_model import RandomModelConfig, build

    path: Path = build(tmp_path_factory.mktemp("bpe"), RandomModelConfig(vocab_size=2000, max_len=256))
    model = HFModel.load(path)
    model.tokenizer.chat_template = CHAT_TEMPLATE
    return model


@pytest.fixture(scope="session")
def bpe_server(bpe_model: Any) -> Iterator[str]:
    from reasoning.server import ServerConfig, create_app

    with live(create_app(bpe_model, ServerConfig(names=("bpe",)))) as url:
        yield url
