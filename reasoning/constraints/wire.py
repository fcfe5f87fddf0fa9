"""Constraints on the wire: the fields OpenAI-compatible servers take (OpenAI's `response_format`,
vLLM's `guided_regex`, `guided_json`, `guided_choice`), read into output types and written back."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from reasoning.constraints.types import Choice, JsonSchema, OutputType, Regex
from reasoning.errors import BadInput

_SCALARS: list[dict[str, Any]] = [{"type": "string"}, {"type": "number"}, {"type": "boolean"}, {"type": "null"}]
# response_format {"type": "json_object"}: an object of scalars and arrays of scalars. outlines_core
# can express any JSON object three levels deep, but its automaton takes some 11 s to compile over a
# 16k vocabulary; this one takes 0.09 s.
ANY_OBJECT: dict[str, Any] = {
    "type": "object",
    "additionalProperties": {"anyOf": [*_SCALARS, {"type": "array", "items": {"anyOf": _SCALARS}}]},
}


def from_request(body: Mapping[str, Any]) -> OutputType | None:
    """The output type a request body asks for, or None; BadInput if the fields are malformed or
    more than one constraint is given."""
    found = []
    fmt = body.get("response_format")
    if fmt is not None:
        found.append(_response_format(fmt))
    if body.get("guided_regex") is not None:
        pattern = body["guided_regex"]
        if not isinstance(pattern, str):
            raise BadInput("guided_regex must be a string")
        found.append(Regex(pattern))
    if body.get("guided_json") is not None:
        schema = body["guided_json"]
        if not isinstance(schema, (dict, str)):
            raise BadInput("guided_json must be a JSON schema object or its JSON text")
        found.append(JsonSchema(schema if isinstance(schema, dict) else _json_text(schema, "guided_json")))
    if body.get("guided_choice") is not None:
        options = body["guided_choice"]
        if not isinstance(options, list):
            raise BadInput("guided_choice must be a list of strings")
        found.append(Choice(options))
    found = [f for f in found if f is not None]
    if len(found) > 1:
        raise BadInput("give one constraint: response_format, guided_regex, guided_json or guided_choice")
    return found[0] if found else None


def to_request(constraint: Any) -> dict[str, Any]:
    """The vLLM request fields that ask a server for `constraint`; BadInput for a task line
    grammar, which has no wire form."""
    if isinstance(constraint, Regex):
        return {"guided_regex": constraint.pattern}
    if isinstance(constraint, JsonSchema):
        return {"guided_json": constraint.as_dict()}
    if isinstance(constraint, Choice):
        return {"guided_choice": list(constraint.options)}
    raise BadInput(
        f"a {type(constraint).__name__} constraint cannot be sent to a server: only regex, JSON schema and choice have a wire form"
    )


def _response_format(fmt: Any) -> OutputType | None:
    if not isinstance(fmt, Mapping) or not isinstance(fmt.get("type"), str):
        raise BadInput('response_format must be an object with a "type"')
    kind = fmt["type"]
    if kind == "text":
        return None
    if kind == "json_object":
        return JsonSchema(ANY_OBJECT)
    if kind == "json_schema":
        spec = fmt.get("json_schema")
        if not isinstance(spec, Mapping):
            raise BadInput('response_format of type "json_schema" needs a "json_schema" object')
        schema = spec.get("schema")
        if isinstance(schema, str):
            schema = _json_text(schema, "response_format.json_schema.schema")
        if not isinstance(schema, Mapping):
            raise BadInput('response_format.json_schema needs a "schema" object')
        return JsonSchema(schema)
    raise BadInput(f"unknown response_format type {kind!r}: use text, json_object or json_schema")


def _json_text(text: str, where: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as e:
        raise BadInput(f"{where} is not valid JSON: {e.msg}") from e
    if not isinstance(value, dict):
        raise BadInput(f"{where} must be a JSON object")
    return value
