"""The tokenizer endpoints, in vLLM's shapes (what lm-evaluation-harness's remote tokenizer reads).

- `POST /tokenize` `{"prompt": str, "add_special_tokens": bool}` or `{"messages": [...]}` ->
  `{"count", "max_model_len", "tokens", "token_strs"}`. add_special_tokens (default true for a
  prompt) prepends BOS as the server does for a text prompt; messages give exactly the ids a chat
  request would run on. Nothing is refused for length: counting a long text is what this is for.
- `POST /detokenize` `{"tokens": [int]}` -> `{"prompt": str}` (special tokens kept).
- `GET /tokenizer_info` -> the tokenizer's configuration (tokenizer_config.json's fields: bos_token,
  eos_token, pad_token, ...), `tokenizer_class`, and `chat_template` when there is one.
"""

from __future__ import annotations

from typing import Any

from reasoning.server.schemas import DetokenizeRequest, TokenizeRequest, parse
from reasoning.server.errors import bad_request
from reasoning.server.service import Service


def tokenize(service: Service, raw: bytes) -> dict[str, Any]:
    req, _ = parse(raw, TokenizeRequest)
    service.model_name(req.model)
    if (req.prompt is None) == (req.messages is None):
        raise bad_request("give either prompt (a string) or messages", "prompt", "missing_required_parameter")
    if req.prompt is not None:
        ids = service.prompts.encode(req.prompt, bos=req.add_special_tokens is not False, check=False).ids
    else:
        ids = service.prompts.chat(req.messages or [], check=False).ids
    strs = service.tokenizer.convert_ids_to_tokens(list(ids)) if req.return_token_strs else None
    return {"count": len(ids), "max_model_len": service.context, "tokens": list(ids), "token_strs": strs}


def detokenize(service: Service, raw: bytes) -> dict[str, Any]:
    req, _ = parse(raw, DetokenizeRequest)
    service.model_name(req.model)
    return {"prompt": service.prompts.from_ids(req.tokens, "tokens", check=False).text}


def tokenizer_info(service: Service) -> dict[str, Any]:
    tok = service.tokenizer
    info = {k: _plain(v) for k, v in (getattr(tok, "init_kwargs", None) or {}).items()}
    for k in ("vocab_file", "merges_file", "name_or_path", "tokenizer_file"):
        info.pop(k, None)
    for k in ("bos_token", "eos_token", "pad_token", "unk_token"):
        info[k] = getattr(tok, k, None)
    if service.context is not None:
        info["model_max_length"] = service.context
    info["tokenizer_class"] = type(tok).__name__
    template = getattr(tok, "chat_template", None)
    if template:
        info["chat_template"] = template
    return info


def _plain(v: Any) -> Any:
    """JSON-able: AddedToken objects become their text (as vLLM does)."""
    if hasattr(v, "content"):
        return v.content
    if isinstance(v, dict):
        return {str(k): _plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    if v is None or isinstance(v, (str, int, float, bool)):
        return v
    return str(v)
