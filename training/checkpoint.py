"""Atomic checkpoints.

A stage's resumable state lives in `out/checkpoints/step-NNNNNNNN/`: the model (save_pretrained),
the tokenizer, `optimizer.pt`, `rng.pt`, `state.json` (step and counters) and `train_config.json`.
It is written into a hidden temp dir beside its final place, fsynced, and renamed into place, so a
`step-*` dir is always complete: a crash mid-save leaves only a temp dir that `latest` ignores and
the next save removes.

The final model is published into `out/` itself (so `from_pretrained(out)` works) with
`config.json` as the commit marker: it is removed first and renamed in last, so a reader sees
either no model or a complete one.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from transformers import (
    AutoConfig,
    AutoModelForCausalLM,
    AutoModelForSequenceClassification,
    AutoTokenizer,
    PreTrainedModel,
    PreTrainedTokenizerBase,
)

from reasoning.backends.hf import quiet
from reasoning.errors import BadInput, ModelNotFound

CHECKPOINTS = "checkpoints"
PREFIX = "step-"
STATE = "state.json"  # written last inside a checkpoint
MODEL_MARKER = "config.json"  # what makes a dir a transformers model


@dataclass(frozen=True)
class Checkpoint:
    """A complete checkpoint on disk."""

    path: Path
    step: int
    state: dict[str, Any]  # step, tokens, seconds, ... (state.json)
    config: dict[str, Any]  # the stage config that wrote it (train_config.json)

    def model(self) -> PreTrainedModel:
        return load_model(self.path)

    def tokenizer(self) -> PreTrainedTokenizerBase:
        return AutoTokenizer.from_pretrained(self.path)

    def optimizer_state(self) -> dict[str, Any]:
        return torch.load(self.path / "optimizer.pt", weights_only=True)

    def rng_state(self) -> dict[str, Any]:
        return torch.load(self.path / "rng.pt", weights_only=True)


def _fsync_tree(root: Path) -> None:
    for dirpath, _, files in os.walk(root):
        for name in files:
            fd = os.open(os.path.join(dirpath, name), os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        _fsync_dir(Path(dirpath))


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")


def save(
    out: Path,
    step: int,
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    optimizer: torch.optim.Optimizer,
    state: Mapping[str, Any],
    config: Mapping[str, Any],
    rng: Mapping[str, Any] | None = None,
    keep: int = 2,
) -> Path:
    """Write a checkpoint of `step` under out/checkpoints atomically; keep the newest `keep`."""
    root = Path(out) / CHECKPOINTS
    root.mkdir(parents=True, exist_ok=True)
    for stale in root.glob(".tmp-*"):  # left by a crashed save
        shutil.rmtree(stale, ignore_errors=True)
    final = root / f"{PREFIX}{step:08d}"
    tmp = root / f".tmp-{final.name}-{os.getpid()}"
    try:
        tmp.mkdir()
        torch.save(optimizer.state_dict(), tmp / "optimizer.pt")
        torch.save(dict(rng or {}), tmp / "rng.pt")
        # STATE last: it marks the checkpoint complete
        _stage(tmp, model, tokenizer, {"train_config.json": dict(config), STATE: {**state, "step": step}})
        if final.exists():  # the same step saved again: move the old one aside first
            old = root / f".tmp-old-{final.name}-{os.getpid()}"
            final.rename(old)
            tmp.rename(final)
            shutil.rmtree(old, ignore_errors=True)
        else:
            tmp.rename(final)
        _fsync_dir(root)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    for older in _complete(root)[:-keep] if keep > 0 else []:
        shutil.rmtree(older, ignore_errors=True)
    return final


def _stage(tmp: Path, model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, files: Mapping[str, Any]) -> None:
    """Write model, tokenizer and JSON `files` (in order) into the temp dir `tmp`, then fsync it."""
    with quiet():
        model.save_pretrained(tmp)
    tokenizer.save_pretrained(tmp)
    for name, data in files.items():
        _write_json(tmp / name, data)
    _fsync_tree(tmp)


def _complete(root: Path) -> list[Path]:
    """Complete checkpoint dirs, oldest first."""
    if not root.is_dir():
        return []
    dirs = [p for p in root.iterdir() if p.is_dir() and p.name.startswith(PREFIX) and (p / STATE).is_file()]
    return sorted(dirs, key=lambda p: int(p.name[len(PREFIX) :]))


def latest(out: Path) -> Checkpoint | None:
    """The newest complete checkpoint under out/checkpoints, or None."""
    dirs = _complete(Path(out) / CHECKPOINTS)
    if not dirs:
        return None
    path = dirs[-1]
    state = json.loads((path / STATE).read_text())
    config = json.loads((path / "train_config.json").read_text())
    return Checkpoint(path=path, step=int(state["step"]), state=state, config=config)


def publish(out: Path, model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, files: Mapping[str, Any]) -> Path:
    """Write the final model, tokenizer and JSON `files` (name -> data) into `out/` atomically:
    everything is staged in a temp dir, then renamed in with config.json last."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    for stale in out.glob(".tmp-final-*"):  # left by a crashed publish
        shutil.rmtree(stale, ignore_errors=True)
    tmp = out / f".tmp-final-{os.getpid()}"
    try:
        tmp.mkdir()
        _stage(tmp, model, tokenizer, files)
        (out / MODEL_MARKER).unlink(missing_ok=True)  # out/ is not a model until config.json is back
        _fsync_dir(out)
        names = sorted(p.name for p in tmp.iterdir() if p.name != MODEL_MARKER) + [MODEL_MARKER]
        for name in names:
            os.replace(tmp / name, out / name)
        _fsync_dir(out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out


def require_model(path: Path, what: str = "model") -> Path:
    """`path` if it holds a published transformers model, else ModelNotFound."""
    path = Path(path)
    if not path.is_dir():
        raise ModelNotFound(f"{what} directory {str(path)!r} does not exist")
    if not (path / MODEL_MARKER).is_file():
        raise ModelNotFound(
            f"{what} directory {str(path)!r} holds no finished model ({MODEL_MARKER} missing): "
            "run the stage that writes it to completion first"
        )
    return path


def is_reward_model(path: Path) -> bool:
    """Whether `path` holds a reward model (a *ForSequenceClassification) rather than a language model."""
    archs = json.loads((Path(path) / MODEL_MARKER).read_text()).get("architectures") or []
    return any(a.endswith("ForSequenceClassification") for a in archs)


def load_model(path: Path) -> PreTrainedModel:
    """The model saved in `path` (a language model, or a reward model as its own class), with
    transformers' load messages silenced."""
    auto = AutoModelForSequenceClassification if is_reward_model(path) else AutoModelForCausalLM
    with quiet():
        return auto.from_pretrained(path)


def init_dirs(init: Path, out: Path, stage: str) -> tuple[Path, Path]:
    """(init, out) of a stage that starts from the finished model in `init` and writes `out`:
    ModelNotFound if init holds no finished model, BadInput if out is init."""
    init, out = Path(init), Path(out)
    require_model(init, f"{stage} init")
    if init.resolve() == out.resolve():
        raise BadInput(f"{stage} out dir {str(out)!r} must differ from its init dir")
    return init, out


def continued(
    init: Path, out: Path, stage: str, seq_len: int | None = None
) -> tuple[Path, Path, PreTrainedTokenizerBase]:
    """(init, out, tokenizer) of a stage that continues training the finished language model in
    `init` (init_dirs' checks; the model keeps its tokenizer): BadInput if it is a reward model or
    `seq_len` (when the stage packs rows of its own length) exceeds its positions."""
    init, out = init_dirs(init, out, stage)
    if is_reward_model(init):
        raise BadInput(f"{stage} init {init} is a reward model: start from a language model (the sft stage's output)")
    if seq_len is not None:
        check_seq_len(seq_len, AutoConfig.from_pretrained(init).max_position_embeddings)
    return init, out, AutoTokenizer.from_pretrained(init)


def check_seq_len(seq_len: int, max_len: int) -> None:
    if seq_len > max_len:
        raise BadInput(f"seq_len {seq_len} exceeds the model's max_len {max_len}")
