"""Reward models: a scalar head on a language model's trunk, scoring whole texts in one pass.

A reward model is a transformers `*ForSequenceClassification` checkpoint with one label (for our
Llama: LlamaForSequenceClassification, the trunk of the SFT model plus a linear `score` head),
the layout InstructGPT-style reward models and TRL's RewardTrainer use, so it loads with
`AutoModelForSequenceClassification.from_pretrained(dir)` anywhere. Its score of a text is the
head applied to the trunk's last hidden state at the text's last token: a logit, higher is
better. `reasoning.judgment` says which text stands for a state or a response.

`Rewarded(policy, reward_model)` is a LanguageModel (any backend) that can also `reward(texts)`:
what `reasoning.backends.load` returns for a ModelSpec with `reward_model` set.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import torch

from reasoning.errors import BadInput, ModelNotFound
from reasoning.protocols import Capabilities, LanguageModel, capabilities


def is_reward_config(config: Any) -> bool:
    """Whether a transformers config describes a reward model (a one-label sequence classifier)."""
    archs = getattr(config, "architectures", None) or []
    return any(a.endswith("ForSequenceClassification") for a in archs)


def encode(tokenizer: Any, texts: Sequence[str]) -> list[list[int]]:
    """Token ids of each text as the reward model reads it: BOS first where the tokenizer has one
    (as the engine prompts the policy)."""
    bos = [tokenizer.bos_token_id] if tokenizer.bos_token_id is not None else []
    return [bos + list(ids) for ids in tokenizer(list(texts), add_special_tokens=False)["input_ids"]]


def pad_id(tokenizer: Any) -> int:
    """The id rows are padded with (the pad token, else EOS, else 0)."""
    for t in (tokenizer.pad_token_id, tokenizer.eos_token_id):
        if t is not None:
            return t
    return 0


def padded(rows: Sequence[Sequence[int]], pad: int) -> torch.Tensor:
    """(B, T) ids, right-padded with `pad`. Under the causal mask no real token sees a pad, so no
    attention mask is needed, and the model pools each row at its last token that is not `pad`."""
    T = max(len(r) for r in rows)
    ids = torch.full((len(rows), T), pad, dtype=torch.long)  # (B, T)
    for b, r in enumerate(rows):
        ids[b, : len(r)] = torch.tensor(r, dtype=torch.long)
    return ids


def scores(net: torch.nn.Module, ids: torch.Tensor) -> torch.Tensor:
    """Each row's score: (B,). `net` is a one-label *ForSequenceClassification (or its
    DistributedDataParallel wrapper), whose forward applies the head to the trunk's last hidden
    state (after the final norm) at each row's last token that is not the config's pad id."""
    return net(input_ids=ids).logits[:, 0].float()  # (B,)


def with_pad(model: torch.nn.Module, tokenizer: Any) -> torch.nn.Module:
    """The model with its config's pad id set to the one rows are padded with (the head pools at
    each row's last token that is not it)."""
    model.config.pad_token_id = pad_id(tokenizer)
    return model


class RewardModel:
    """A loaded reward model and its tokenizer. `reward(texts)` scores a batch in one forward
    pass (in chunks of `max_batch` rows); safe to call from several threads (one at a time)."""

    def __init__(self, model: torch.nn.Module, tokenizer: Any, path: Path | None = None, max_batch: int = 256) -> None:
        self.model = with_pad(model, tokenizer).eval()
        self.tokenizer = tokenizer
        self.path = path
        self.max_batch = max_batch
        self._fingerprint: str | None = None
        self._lock = threading.Lock()

    @classmethod
    def load(cls, path: str | Path, device: str = "auto", dtype: str = "auto") -> RewardModel:
        """ModelNotFound if `path` holds no reward model (a policy checkpoint says so)."""
        from transformers import AutoConfig, AutoModelForSequenceClassification, AutoTokenizer

        from reasoning.backends.hf import pick_device, pick_dtype, quiet

        path = Path(path).expanduser()
        if not (path / "config.json").is_file():
            raise ModelNotFound(f"reward model directory {path} holds no model (config.json missing)")
        try:
            config = AutoConfig.from_pretrained(path, local_files_only=True)
        except Exception as e:  # noqa: BLE001 - an unreadable config is an unusable checkpoint
            raise ModelNotFound(f"cannot read the reward model config in {path}: {type(e).__name__}") from e
        if not is_reward_config(config) or getattr(config, "num_labels", 1) != 1:
            raise ModelNotFound(
                f"{path} is not a reward model (architectures {config.architectures}); "
                "train one with `reason train rm --init SFT_DIR --out DIR`"
            )
        where = pick_device(device)
        try:
            tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
            with quiet():
                model = AutoModelForSequenceClassification.from_pretrained(
                    path, dtype=pick_dtype(dtype, where), local_files_only=True
                )
        except Exception as e:  # noqa: BLE001
            raise ModelNotFound(f"cannot load the reward model in {path}: {type(e).__name__}: {str(e)[:200]}") from e
        return cls(model.to(where), tokenizer, path)

    @torch.no_grad()
    def reward(self, texts: Sequence[str]) -> list[float]:
        """The score (a logit: higher is better) of each text."""
        if not texts:
            return []
        with self._lock:
            rows = encode(self.tokenizer, texts)
            limit = getattr(self.model.config, "max_position_embeddings", None)
            if limit is not None and max(map(len, rows)) > limit:
                raise BadInput(f"a text of {max(map(len, rows))} tokens is longer than the reward model reads ({limit})")
            device = next(self.model.parameters()).device
            order = sorted(range(len(rows)), key=lambda i: len(rows[i]))  # similar lengths pad little
            out = [0.0] * len(rows)
            for start in range(0, len(order), self.max_batch):
                chunk = order[start : start + self.max_batch]
                ids = padded([rows[i] for i in chunk], self.model.config.pad_token_id).to(device)  # (B, T)
                for i, v in zip(chunk, scores(self.model, ids).tolist()):
                    out[i] = v
            return out

    def count_tokens(self, text: str) -> int:
        return len(encode(self.tokenizer, [text])[0])

    def identity(self) -> dict[str, str]:
        if self._fingerprint is None:
            from reasoning.backends.hf import fingerprint

            self._fingerprint = fingerprint(self.model, self.tokenizer)
        where = str(self.path.resolve()) if self.path is not None else "(in memory)"
        return {"reward_model": where, "reward_fingerprint": self._fingerprint}


class Rewarded:
    """A LanguageModel (any backend) with a reward model beside it: everything the policy does,
    plus `reward(texts)`. Its identity names both, so results with another reward model are
    another model's results."""

    def __init__(self, policy: LanguageModel, judge: RewardModel) -> None:
        self.policy = policy
        self.judge = judge

    def reward(self, texts: Sequence[str]) -> list[float]:
        return self.judge.reward(texts)

    def reward_tokens(self, text: str) -> int:
        return self.judge.count_tokens(text)

    def capabilities(self) -> Capabilities:
        return replace(capabilities(self.policy), reward=True)

    def identity(self) -> dict[str, str]:
        return {**self.policy.identity(), **self.judge.identity()}

    def __getattr__(self, name: str) -> Any:  # generate, score, label_logprobs, count_tokens, engine, ...
        return getattr(self.policy, name)
