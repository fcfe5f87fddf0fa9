"""Prompts as the model sees them: token ids, the text an `echo` returns, and chat rendering.

A text prompt is encoded without special tokens and BOS is prepended where the tokenizer has one
(as Engine.generate does). A token-id prompt is used exactly as given. A chat is rendered by the
model's own `render_chat` (HFModel: the tokenizer's chat template when it has one, else the
contents joined by blank lines, so one user message reaches the model as exactly that prompt)
and then run as a text prompt: the same prompt a local strategy's chat would run on.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from reasoning.server.errors import APIError, bad_request
from reasoning.server.schemas import Message

MAX_PROMPTS = 256  # prompts in one completions request


@dataclass(frozen=True)
class Prompt:
    ids: tuple[int, ...]  # what the model sees
    text: str  # what `echo` returns before the completion
    bos: bool = False  # the server prepended BOS (ids[0]; not part of text)


class Prompts:
    """Turns request prompts into Prompt objects for one tokenizer and context length."""

    def __init__(self, tokenizer: Any, context: int | None, render_chat: Callable[[list[Mapping[str, str]]], str]) -> None:
        self.tok = tokenizer
        self.render_chat = render_chat
        self.context = context
        self.bos = tokenizer.bos_token_id
        self.vocab_size = len(tokenizer)

    def encode(self, text: str, bos: bool = True, check: bool = True) -> Prompt:
        """`check`: refuse an empty or over-long prompt (a prompt to run, not just to count)."""
        ids = list(self.tok(text, add_special_tokens=False)["input_ids"])
        add = bos and self.bos is not None
        p = Prompt(tuple([self.bos] * add + ids), text, add)
        return self._checked(p) if check else p

    def from_ids(self, ids: Sequence[int], param: str = "prompt", check: bool = True) -> Prompt:
        bad = [t for t in ids if not 0 <= t < self.vocab_size]
        if bad:
            raise bad_request(f"token id {bad[0]} is outside the vocabulary (0..{self.vocab_size - 1})", param)
        p = Prompt(tuple(ids), self.tok.decode(list(ids)))
        return self._checked(p) if check else p

    def completion(self, prompt: Any, bos: bool = True) -> list[Prompt]:
        """OpenAI's four prompt shapes: a string, strings, token ids, lists of token ids."""
        if prompt is None:
            raise bad_request("prompt: Field required", "prompt", "missing_required_parameter")
        if isinstance(prompt, str):
            return [self.encode(prompt, bos)]
        if isinstance(prompt, list) and prompt:
            if len(prompt) > MAX_PROMPTS and not all(_is_id(p) for p in prompt):
                raise bad_request(f"at most {MAX_PROMPTS} prompts per request, got {len(prompt)}", "prompt")
            if all(isinstance(p, str) for p in prompt):
                return [self.encode(p, bos) for p in prompt]
            if all(_is_id(p) for p in prompt):
                return [self.from_ids(prompt)]
            if all(isinstance(p, list) and p and all(_is_id(t) for t in p) for p in prompt):
                return [self.from_ids(p) for p in prompt]
        raise bad_request(
            "prompt must be a string, a list of strings, a list of token ids or a list of non-empty token-id lists",
            "prompt",
            "invalid_type",
        )

    def chat(self, messages: Sequence[Message], check: bool = True) -> Prompt:
        turns = [{"role": m.role, "content": m.text()} for m in messages]
        try:
            text = self.render_chat(turns)
        except Exception as e:  # noqa: BLE001 - a template refuses a conversation by raising
            raise bad_request(f"the chat template refused these messages: {e}", "messages") from None
        return self.encode(text, check=check)

    def _checked(self, p: Prompt) -> Prompt:
        if not p.ids:
            raise bad_request("the prompt is empty and the tokenizer has no BOS token to start it", "prompt")
        if self.context is not None and len(p.ids) > self.context:
            raise APIError(
                400,
                f"this model's maximum context length is {self.context} tokens, "
                f"but the prompt is {len(p.ids)} tokens",
                code="context_length_exceeded",
                param="prompt",
            )
        return p


def _is_id(x: Any) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)
