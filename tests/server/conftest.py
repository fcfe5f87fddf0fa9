"""Session-scoped servers over real models, each a uvicorn server on a free loopback port."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.server.support import CHAT_TEMPLATE, live


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
