"""Guided decoding for a request: THE one place a request's constraint is read.

The fields are vLLM's and OpenAI's: `response_format` (json_object / json_schema), `guided_regex`,
`guided_json`, `guided_choice` (read by reasoning.constraints.from_request). The output type found
is compiled by the Service once per constraint (cached) and applied to that request alone: a
constrained request is never merged into another request's batch, since its logits processor keeps
per-row state. `guided_grammar` (vLLM's EBNF grammars) is refused with a 400.
"""

from __future__ import annotations

from typing import Any

from reasoning.constraints import OutputType, from_request
from reasoning.errors import ReasonError
from reasoning.server.errors import bad_request

GUIDED_FIELDS = ("response_format", "guided_regex", "guided_json", "guided_choice", "guided_grammar")


def requested(body: dict[str, Any]) -> list[str]:
    """The guided-decoding fields a request sets (`response_format: {"type": "text"}` is none)."""
    fields = [f for f in GUIDED_FIELDS if body.get(f) is not None]
    rf = body.get("response_format")
    if isinstance(rf, dict) and rf.get("type") == "text":
        fields.remove("response_format")
    return fields


def request_constraint(body: dict[str, Any]) -> OutputType | None:
    """The output type a request asks for, or None; a 400 naming the field if it is malformed,
    asks for more than one, or asks for a grammar."""
    fields = requested(body)
    if not fields:
        return None
    if "guided_grammar" in fields:
        raise bad_request("guided_grammar: grammars are not supported; use guided_regex, guided_json or guided_choice",
                          "guided_grammar", "unsupported_parameter")  # fmt: skip
    try:
        return from_request(body)
    except ReasonError as e:
        raise bad_request(str(e), fields[0]) from None
