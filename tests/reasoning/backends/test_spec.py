"""ModelSpec: the one description of which model to use (no torch needed to check one)."""

from pathlib import Path

import pytest

from reasoning.backends.spec import SHIPPED, ModelSpec, shipped_dir
from reasoning.errors import BadInput, ModelNotFound


def test_the_default_is_the_shipped_model_from_any_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    directory = ModelSpec().model_dir()
    assert directory == shipped_dir("default") and (directory / "config.json").is_file()
    assert ModelSpec(model="default").model_dir() == directory
    assert set(SHIPPED) == {"default", "base", "sft", "mixed", "rl", "rm", "game24"}
    assert shipped_dir("sft") == shipped_dir("mixed") == directory
    for name in SHIPPED:  # every name ships a transformers checkpoint
        assert (shipped_dir(name) / "config.json").is_file() and (shipped_dir(name) / "model.safetensors").is_file(), name


def test_a_directory_or_an_unknown_name(tmp_path):
    assert ModelSpec(model=str(tmp_path)).model_dir() == tmp_path
    with pytest.raises(ModelNotFound, match="no model 'ppo': not a directory, nor a shipped model \\(shipped: default, base, sft, mixed, rl, rm, game24\\)"):
        ModelSpec(model="ppo").model_dir()
    with pytest.raises(ModelNotFound, match="/no/such/model does not exist"):
        ModelSpec(model="/no/such/model").model_dir()


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"backend": "vllm"}, "unknown backend 'vllm'; choose from hf, openai"),
        ({"device": "tpu"}, "unknown device 'tpu'"),
        ({"dtype": "int8"}, "unknown dtype 'int8'"),
        ({"backend": "openai"}, "needs --base-url"),
        ({"backend": "openai", "base_url": "localhost:8000"}, "must start with http://"),
        ({"backend": "openai", "base_url": "http://h/v1", "model": "x"}, "--model-name"),
        ({"base_url": "http://h/v1"}, "add --backend openai"),
        ({"api": "chat"}, "--api select a server"),
        ({"backend": "openai", "base_url": "http://h/v1", "device": "cuda"}, "--device choose how a local model runs"),
        ({"backend": "openai", "base_url": "http://h/v1", "api": "grpc"}, "unknown api 'grpc'"),
    ],
)
def test_specs_that_make_no_sense_are_refused(fields, message):
    with pytest.raises(BadInput, match=message):
        ModelSpec(**fields)


def test_the_api_key_is_never_shown(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-env")
    spec = ModelSpec(backend="openai", base_url="http://h/v1")
    assert spec.key() == "sk-env"
    given = ModelSpec(backend="openai", base_url="http://h/v1", api_key="sk-secret")
    assert given.key() == "sk-secret" and "sk-secret" not in repr(given)
    assert isinstance(shipped_dir("default"), Path)
