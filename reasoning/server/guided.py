"""Guided decoding for a request: THE one place a request's constraint is built.

The fields are vLLM's and OpenAI's: `response_format` (json_object / json_schema), `guided_regex`,
`guided_json`, `guided_choice`, `guided_grammar`. Whatever `request_constraint` returns is handed
to `Engine.generate_ids(..., constraint=...)` for that request alone (a constrained request is
never merged into another request's batch, since a logits processor keeps per-row state).

Until `reasoning.constraints.from_request(body)` lands, any of these fields is refused with a 400
that says so. Wiring it in: replace the `raise` below with the processor built from
`from_request(body)` for this tokenizer (and `reps` rows per prompt, as the Engine orders them).
"""

from __future__ import annotations

from typing import Any

from reasoning.server.errors import bad_request

GUIDED_FIELDS = ("response_format", "guided_regex", "guided_json", "guided_choice", "guided_grammar")


def requested(body: dict[str, Any]) -> list[str]:
    """The guided-decoding fields a request sets (`response_format: {"type": "text"}` is none)."""
    fields = [f for f in GUIDED_FIELDS if body.get(f) is not None]
    rf = body.get("response_format")
    if isinstance(rf, dict) and rf.get("type") == "text":
        fields.remove("response_format")
    return fields


def request_constraint(body: dict[str, Any], tokenizer: Any, reps: int) -> Any | None:
    """The logits processor a request asks for, or None when it asks for none."""
    fields = requested(body)
    if not fields:
        return None
    # --- guided decoding hook: build the constraint from reasoning.constraints.from_request(body) here ---
    raise bad_request(
        f"{', '.join(fields)}: guided decoding is not supported by this server yet", fields[0], "unsupported_parameter"
    )
