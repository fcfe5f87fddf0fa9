"""The bytes each token id writes, read from a local transformers tokenizer.

outlines_core's `Vocabulary.from_pretrained` needs the Hugging Face hub; models here are local
directories, so the mapping is built from the tokenizer itself. Three token spellings cover the
tokenizers in use: byte-level BPE (GPT-2's printable byte alphabet: `Ġ` is a space, `Ċ` a
newline, and a token may be part of a UTF-8 character), Metaspace BPE (sentencepiece-style: `▁` is
a space, `<0x0A>` byte-fallback tokens are single bytes) and plain text (our character tokenizer,
whose tokens are the characters themselves). Special tokens write nothing and are never allowed
by a constraint, except EOS, which ends a completion when its constraint is complete.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from reasoning.errors import BadInput

_BYTE_FALLBACK = re.compile(r"<0x([0-9A-Fa-f]{2})>")


def _gpt2_byte_decoder() -> dict[str, int]:
    """GPT-2's printable stand-in character for each byte, inverted (character -> byte)."""
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    chars, extra = {}, 0
    for b in range(256):
        if b in printable:
            chars[b] = chr(b)
        else:
            chars[b] = chr(256 + extra)
            extra += 1
    return {c: b for b, c in chars.items()}


def _types(node: Any) -> set[str]:
    """Every component "type" named anywhere in a tokenizer.json fragment (decoders nest in Sequences)."""
    if isinstance(node, dict):
        found = {node["type"]} if isinstance(node.get("type"), str) else set()
        return found.union(*(_types(v) for v in node.values()))
    if isinstance(node, list):
        return set().union(*(_types(v) for v in node))
    return set()


@dataclass(frozen=True, eq=False)
class TokenVocabulary:
    """pieces[i]: the bytes token i writes, or None for a special token (never allowed).
    size: the number of token ids (len(tokenizer)); eos: the id that ends a completion."""

    pieces: tuple[bytes | None, ...]
    eos: int

    @property
    def size(self) -> int:
        return len(self.pieces)

    @classmethod
    def from_tokenizer(cls, tokenizer: Any) -> TokenVocabulary:
        """BadInput if the tokenizer has no EOS token (a constrained completion could not end)."""
        if tokenizer.eos_token_id is None:
            raise BadInput("the model's tokenizer has no end-of-sequence token: constrained decoding needs one")
        spec = json.loads(tokenizer.backend_tokenizer.to_str())
        kinds = _types(spec.get("decoder")) | _types(spec.get("pre_tokenizer"))
        byte_level = "ByteLevel" in kinds
        metaspace = "Metaspace" in kinds or any(
            r.get("type") == "Replace" and r.get("pattern", {}).get("String") == "▁"
            for r in (spec.get("decoder") or {}).get("decoders", [])
        )
        byte_fallback = "ByteFallback" in kinds or bool((spec.get("model") or {}).get("byte_fallback"))
        special = set(tokenizer.all_special_ids)
        added = {}
        for i, t in tokenizer.added_tokens_decoder.items():
            if t.special:
                special.add(i)
            else:
                added[i] = t.content.encode()  # added tokens are written as they read
        decoder = _gpt2_byte_decoder() if byte_level else {}
        pieces: list[bytes | None] = [None] * len(tokenizer)
        for token, i in tokenizer.get_vocab().items():
            if i >= len(pieces) or i in special:
                continue
            if i in added:
                pieces[i] = added[i]
            elif byte_fallback and (m := _BYTE_FALLBACK.fullmatch(token)):
                pieces[i] = bytes([int(m.group(1), 16)])
            elif byte_level and all(c in decoder for c in token):
                pieces[i] = bytes(decoder[c] for c in token)
            elif metaspace:
                pieces[i] = token.replace("▁", " ").encode()
            else:
                pieces[i] = token.encode()
        return cls(tuple(p if p else None for p in pieces), tokenizer.eos_token_id)

    @cached_property
    def sorted(self) -> tuple[list[bytes], list[int]]:
        """(token bytes in sorted order, their ids): every token starting with a given prefix is
        one contiguous run, found by bisection (the line grammars' token walk)."""
        pairs = sorted((p, i) for i, p in enumerate(self.pieces) if p is not None)
        return [p for p, _ in pairs], [i for _, i in pairs]

    @cached_property
    def outlines(self) -> Any:
        """The outlines_core Vocabulary of these tokens (EOS kept apart, as outlines_core wants)."""
        from outlines_core import Vocabulary

        ids: dict[bytes, list[int]] = {}
        for i, p in enumerate(self.pieces):
            if p is not None and i != self.eos:
                ids.setdefault(p, []).append(i)
        return Vocabulary(self.eos, ids)

    def text(self, ids: Any) -> str:
        """The text a sequence of token ids writes (special tokens write nothing)."""
        return b"".join(self.pieces[i] or b"" for i in ids if 0 <= i < len(self.pieces)).decode("utf-8", "replace")
