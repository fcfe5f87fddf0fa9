"""Output types: what a user may force a completion to be. Frozen and hashable, so a compiled
constraint can be cached per (output type, tokenizer). Each one is a regular expression in the
end (`Regex.pattern`, `JsonSchema.regex()`, `Choice.regex()`); the task line grammars
(reasoning.protocols.Grammar) are the fourth kind and compile separately (line_guide.py)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reasoning.errors import BadInput

_RUST_META = set("\\.+*?()|[]{}^$#&-~")  # what regex_syntax::escape escapes (outlines_core's regex engine)

# JSON Schema keywords that restrict valid values but that outlines_core ignores: a schema using
# one would give outputs that do not validate, so it is refused up front.
_IGNORED_KEYWORDS = (
    "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf", "uniqueItems", "not",
    "if", "then", "else", "dependentRequired", "dependentSchemas", "dependencies", "patternProperties",
    "propertyNames", "contains", "minContains", "maxContains", "unevaluatedProperties", "unevaluatedItems",
)  # fmt: skip


def escape(text: str) -> str:
    """A regex matching exactly `text` (for outlines_core, whose syntax is Rust's regex crate)."""
    return "".join("\\" + c if c in _RUST_META else c for c in text)


@dataclass(frozen=True)
class Regex:
    """The whole completion must match `pattern` (anchored at both ends)."""

    pattern: str

    def __post_init__(self) -> None:
        if not isinstance(self.pattern, str) or not self.pattern:
            raise BadInput("a regex constraint needs a non-empty pattern")

    def regex(self) -> str:
        return self.pattern


@dataclass(frozen=True)
class Choice:
    """The completion is exactly one of `options`."""

    options: tuple[str, ...]

    def __init__(self, options: Sequence[str]) -> None:
        if isinstance(options, str) or not all(isinstance(o, str) for o in options):
            raise BadInput("a choice constraint needs a list of strings")
        if not options or not all(options):
            raise BadInput("a choice constraint needs at least one option, none of them empty")
        object.__setattr__(self, "options", tuple(dict.fromkeys(options)))

    def regex(self) -> str:
        return "(" + "|".join(escape(o) for o in self.options) + ")"


@dataclass(frozen=True)
class JsonSchema:
    """The completion is JSON valid under `schema`: a dict, a JSON string, the path of a JSON file
    or a pydantic model class. Kept as JSON text in its own key order (properties are written in
    that order), so equal schemas hash equal. Keywords outlines_core cannot enforce (minimum,
    uniqueItems, ...) are refused. `\\d` in the regexes of string formats means ASCII digits."""

    schema: str

    def __init__(self, schema: Mapping[str, Any] | str | Path | type) -> None:
        value = _load_schema(schema)
        if not isinstance(value, dict):
            raise BadInput(f"a JSON schema must be an object, got {type(value).__name__}")
        found = _find_keyword(value, _IGNORED_KEYWORDS)
        if found is not None:
            raise BadInput(f"JSON schema keyword {found!r} is not supported by constrained decoding (outlines_core)")
        object.__setattr__(self, "schema", json.dumps(value))

    def as_dict(self) -> dict[str, Any]:
        return json.loads(self.schema)

    def regex(self) -> str:
        """The regex outlines_core builds from the schema; BadInput names what it cannot build."""
        from outlines_core.json_schema import build_regex_from_schema

        try:
            return strict_formats(ascii_digits(build_regex_from_schema(self.schema)))
        except (ValueError, TypeError) as e:
            first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise BadInput(f"cannot compile the JSON schema: {first}") from e


_YEAR = "([0-9]{3}[1-9]|[0-9]{2}[1-9][0-9]|[0-9][1-9][0-9]{2}|[1-9][0-9]{3})"  # 0001-9999
_MONTH_DAY = "((0[13578]|1[02])-(0[1-9]|[12][0-9]|3[01])|(0[469]|11)-(0[1-9]|[12][0-9]|30)|02-(0[1-9]|1[0-9]|2[0-8]))"
_LEAP_DAY = "(([0-9]{2}(0[48]|[2468][048]|[13579][26])|(0[48]|[2468][048]|[13579][26])00)-02-29)"
_DATE = f"({_YEAR}-{_MONTH_DAY}|{_LEAP_DAY})"
_TIME = "([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\\.[0-9]{1,6})?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])"


def strict_formats(pattern: str) -> str:
    """`pattern` with outlines_core's date, time and date-time regexes replaced by RFC 3339 ones:
    outlines' allow February 31, year 0 and a time without its offset, which validators refuse."""
    from outlines_core import json_schema as oc

    for loose, strict in ((oc.DATE_TIME, f'"{_DATE}T{_TIME}"'), (oc.DATE, f'"{_DATE}"'), (oc.TIME, f'"{_TIME}"')):
        pattern = pattern.replace(ascii_digits(loose), strict)
    return pattern


def ascii_digits(pattern: str) -> str:
    """`pattern` with `\\d` (any Unicode digit in outlines_core's regex engine) as ASCII 0-9, the
    digits JSON Schema's formats (date, time, uuid) mean."""
    out, i, in_class = [], 0, False
    while i < len(pattern):
        c = pattern[i]
        if c == "\\" and i + 1 < len(pattern):
            pair = pattern[i : i + 2]
            out.append(("0-9" if in_class else "[0-9]") if pair == "\\d" else pair)
            i += 2
            continue
        if c == "[" and not in_class:
            in_class = True
        elif c == "]" and in_class and pattern[i - 1] != "[":
            in_class = False
        out.append(c)
        i += 1
    return "".join(out)


def _load_schema(schema: Mapping[str, Any] | str | Path | type) -> Any:
    if isinstance(schema, type):
        if not hasattr(schema, "model_json_schema"):
            raise BadInput(f"{schema.__name__} is not a pydantic model class")
        return schema.model_json_schema()
    if isinstance(schema, Mapping):
        return dict(schema)
    if isinstance(schema, Path) or (isinstance(schema, str) and not schema.lstrip().startswith(("{", "["))):
        path = Path(schema).expanduser()
        if not path.is_file():
            raise BadInput(f"JSON schema file {path} does not exist")
        text = path.read_text()
        where = str(path)
    elif isinstance(schema, str):
        text, where = schema, "the JSON schema"
    else:
        raise BadInput(f"a JSON schema is a dict, JSON text, a file path or a pydantic model, not {type(schema).__name__}")
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise BadInput(f"{where} is not valid JSON: {e.msg} (line {e.lineno}, column {e.colno})") from e


def _find_keyword(node: Any, keywords: tuple[str, ...]) -> str | None:
    """The first of `keywords` used as a schema keyword anywhere in node (not as a property name)."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in keywords:
                return key
            if key in ("properties", "$defs", "definitions"):  # maps of names to subschemas
                children = value.values() if isinstance(value, dict) else ()
                found = next((f for f in (_find_keyword(c, keywords) for c in children) if f), None)
            elif key in ("enum", "const", "examples", "default", "required"):
                continue  # values, not schemas
            else:
                found = _find_keyword(value, keywords)
            if found:
                return found
    elif isinstance(node, list):
        return next((f for f in (_find_keyword(c, keywords) for c in node) if f), None)
    return None


OutputType = Regex | JsonSchema | Choice
