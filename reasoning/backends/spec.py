"""ModelSpec: which model to use, declared once for every command and for the library.

    ModelSpec()                                            # the shipped default model
    ModelSpec(model="checkpoints/sft", device="cuda")      # a local transformers checkpoint
    ModelSpec(backend="openai", base_url="http://127.0.0.1:8000/v1", model_name="m")

`reasoning.backends.load(spec)` turns a spec into a LanguageModel. Importing this module is
cheap (no torch): the CLI builds and checks specs before any model is loaded.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from types import MappingProxyType

from reasoning.errors import BadInput, ModelNotFound

BACKENDS = ("hf", "openai")
DEVICES = ("auto", "cpu", "cuda", "mps")
DTYPES = ("auto", "float32", "bfloat16", "float16")
APIS = ("auto", "completions", "chat")

# The models shipped inside the package: name -> directory under reasoning/. The one table of
# shipped models. One recipe's stages (`reason train all`, trained on every task of the mixture):
# "base" (pretraining), "sft" (the policy, also "default" and "mixed"), "rl" (200 of its 400
# steps) and the reward model beside them ("rm", for --reward-model); and "game24", the earlier
# policy trained on Game of 24 alone, kept so the figures measured with it can be made again.
SHIPPED: MappingProxyType[str, str] = MappingProxyType({
    "default": "checkpoints/default", "base": "checkpoints/base", "sft": "checkpoints/default",
    "mixed": "checkpoints/default", "rl": "checkpoints/rl", "rm": "checkpoints/rm", "game24": "checkpoints/game24",
})  # fmt: skip
DEFAULT = "default"


def shipped_dir(name: str) -> Path:
    """Directory of a shipped model (works from any working directory)."""
    return Path(str(resources.files("reasoning").joinpath(SHIPPED[name])))


def resolve(name: str, what: str = "model") -> Path:
    """A shipped stage's directory by name, else `name` as a directory; ModelNotFound if neither."""
    if name in SHIPPED:
        return shipped_dir(name)
    path = Path(name).expanduser()
    if path.is_dir():
        return path
    if os.sep in name or name.startswith("."):
        raise ModelNotFound(f"{what} directory {name} does not exist")
    raise ModelNotFound(f"no {what} {name!r}: not a directory, nor a shipped model (shipped: {', '.join(SHIPPED)})")


@dataclass(frozen=True)
class ModelSpec:
    """Everything that chooses a model. `model` is a shipped stage name or a checkpoint
    directory (hf); `base_url`, `model_name`, `api_key` and `api` select a server (openai).
    `api_key` None reads OPENAI_API_KEY when the server is contacted."""

    backend: str = "hf"  # hf | openai
    model: str | None = None  # hf: a shipped stage (see SHIPPED) or a directory; None: "default"
    base_url: str | None = None  # openai: e.g. http://127.0.0.1:8000/v1
    model_name: str | None = None  # openai: the served model (None: the server's first model)
    api_key: str | None = field(default=None, repr=False)  # openai; never printed or recorded
    api: str = "auto"  # openai: completions | chat | auto (completions if the server has them)
    device: str = "auto"  # hf: auto = cuda, else mps, else cpu
    dtype: str = "auto"  # hf: auto = float32 on cpu, the checkpoint's own dtype on a GPU
    timeout: float = 600.0  # openai: seconds to wait for one response
    max_retries: int = 4  # openai: retries of a request answered 429 or 5xx (backoff 0.5 s, doubling)
    reward_model: str | None = None  # a reward model beside the policy (any backend; runs locally): a shipped stage or a directory

    def __post_init__(self) -> None:
        def choose(what: str, value: str, choices: tuple[str, ...]) -> None:
            if value not in choices:
                raise BadInput(f"unknown {what} {value!r}; choose from {', '.join(choices)}")

        choose("backend", self.backend, BACKENDS)
        choose("device", self.device, DEVICES)
        choose("dtype", self.dtype, DTYPES)
        choose("api", self.api, APIS)
        if self.timeout <= 0 or self.max_retries < 0:
            raise BadInput(f"need timeout > 0 and max_retries >= 0, got {self.timeout} and {self.max_retries}")
        if self.backend == "openai":
            if not self.base_url:
                raise BadInput("--backend openai needs --base-url, e.g. http://127.0.0.1:8000/v1")
            if not self.base_url.startswith(("http://", "https://")):
                raise BadInput(f"--base-url must start with http:// or https://, got {self.base_url!r}")
            if self.model is not None:
                raise BadInput("--model names a local checkpoint; with --backend openai name the served model with --model-name")
            local = [name for name, v in (("--device", self.device), ("--dtype", self.dtype)) if v != "auto"]
            if local:
                raise BadInput(f"{' and '.join(local)} choose how a local model runs; the server decides with --backend openai")
        else:
            given = [
                name for name, v in (("--base-url", self.base_url), ("--model-name", self.model_name),
                                     ("--api-key", self.api_key), ("--api", None if self.api == "auto" else self.api)) if v
            ]  # fmt: skip
            if given:
                raise BadInput(f"{' and '.join(given)} select a server: add --backend openai")

    def model_dir(self) -> Path:
        """The checkpoint directory of an hf spec: a shipped stage by name, else a directory.
        ModelNotFound if it is neither."""
        return resolve(self.model or DEFAULT, "model")

    def reward_dir(self) -> Path | None:
        """The reward model's directory (a shipped stage by name, else a directory), None without one."""
        return None if self.reward_model is None else resolve(self.reward_model, "reward model")

    def key(self) -> str | None:
        """The API key to send (openai): the spec's own, else OPENAI_API_KEY, else none."""
        return self.api_key or os.environ.get("OPENAI_API_KEY") or None
