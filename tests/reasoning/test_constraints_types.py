"""Output types (Regex, JsonSchema, Choice) and their wire forms (from_request, to_request)."""

import json
import re

import pytest

from reasoning.constraints import Choice, JsonSchema, Regex, from_request, to_request
from reasoning.constraints.types import ascii_digits, escape
from reasoning.errors import BadInput

SCHEMA = {"type": "object", "properties": {"b": {"type": "integer"}, "a": {"enum": ["x", "y"]}}, "required": ["b", "a"]}


def test_output_types_are_frozen_and_hashable():
    assert Regex("[0-9]+") == Regex("[0-9]+") and len({Regex("a"), Regex("a"), Regex("b")}) == 2
    assert Choice(["a", "b", "a"]).options == ("a", "b") and hash(Choice(["a", "b"])) == hash(Choice(("a", "b")))
    assert JsonSchema(SCHEMA) == JsonSchema(json.dumps(SCHEMA)) and hash(JsonSchema(SCHEMA)) == hash(JsonSchema(SCHEMA))
    with pytest.raises(AttributeError):
        Regex("a").pattern = "b"  # type: ignore[misc]


def test_json_schema_from_file_and_pydantic_keeps_property_order(tmp_path):
    from pydantic import BaseModel

    class Person(BaseModel):
        name: str
        age: int

    path = tmp_path / "s.json"
    path.write_text(json.dumps(SCHEMA))
    assert JsonSchema(str(path)) == JsonSchema(path) == JsonSchema(SCHEMA)
    assert list(JsonSchema(SCHEMA).as_dict()["properties"]) == ["b", "a"]  # written in the schema's order
    regex = JsonSchema(Person).regex()
    assert regex.index('"name"') < regex.index('"age"')
    assert re.fullmatch(regex, '{"name": "Ann", "age": 41}')


@pytest.mark.parametrize(
    "schema, message",
    [
        ({"type": "integer", "minimum": 0}, "'minimum'"),
        ({"type": "object", "properties": {"xs": {"type": "array", "uniqueItems": True}}}, "'uniqueItems'"),
        ("{not json", "not valid JSON"),
        ("/no/such/schema.json", "does not exist"),
        ([1, 2], "JSON schema"),
    ],
)
def test_json_schema_refuses_what_it_cannot_enforce(schema, message):
    with pytest.raises(BadInput, match=message):
        JsonSchema(schema)


def test_a_property_named_like_a_keyword_is_not_a_keyword():
    schema = {"type": "object", "properties": {"minimum": {"type": "integer"}}, "required": ["minimum"]}
    assert re.fullmatch(JsonSchema(schema).regex(), '{"minimum": 3}')


def test_json_schema_formats_compile_and_unsupported_ones_say_which():
    date = JsonSchema({"type": "string", "format": "date"}).regex()
    assert re.fullmatch(date, '"2024-02-29"') and not re.fullmatch(date, '"2024-13-01"')
    assert not re.fullmatch(date, '"２０２４-02-29"')  # \d in outlines' format regexes made ASCII
    with pytest.raises(BadInput, match="hostname"):
        JsonSchema({"type": "string", "format": "hostname"}).regex()
    with pytest.raises(BadInput, match="reference"):
        JsonSchema({"$ref": "#/nowhere/x"}).regex()


def test_choice_and_escape_match_exactly_their_strings():
    options = ["a.b", "(c|d)", "e*", "f-g [h]", "x y"]
    pattern = Choice(options).regex()
    assert all(re.fullmatch(pattern, o) for o in options)
    assert not re.fullmatch(pattern, "aXb") and not re.fullmatch(pattern, "c")
    assert escape("1+1=2?") == r"1\+1=2\?"
    assert ascii_digits(r"\d{2}[\d.]\\d") == r"[0-9]{2}[0-9.]\\d"
    with pytest.raises(BadInput):
        Choice([])
    with pytest.raises(BadInput):
        Choice("abc")


@pytest.mark.parametrize(
    "body, expected",
    [
        ({"guided_regex": "[0-9]+"}, Regex("[0-9]+")),
        ({"guided_choice": ["yes", "no"]}, Choice(["yes", "no"])),
        ({"guided_json": SCHEMA}, JsonSchema(SCHEMA)),
        ({"guided_json": json.dumps(SCHEMA)}, JsonSchema(SCHEMA)),
        ({"response_format": {"type": "json_schema", "json_schema": {"name": "x", "schema": SCHEMA}}}, JsonSchema(SCHEMA)),
        ({"response_format": {"type": "text"}}, None),
        ({"messages": [], "guided_regex": None}, None),
    ],
)
def test_from_request_reads_openai_and_vllm_fields(body, expected):
    assert from_request(body) == expected


def test_json_object_is_any_object_of_scalars_and_arrays():
    c = from_request({"response_format": {"type": "json_object"}})
    assert isinstance(c, JsonSchema)
    regex = c.regex()
    assert re.fullmatch(regex, '{"a": 1, "b": [true, null, "x"]}') and not re.fullmatch(regex, "[1]")


@pytest.mark.parametrize(
    "body, message",
    [
        ({"guided_regex": 5}, "guided_regex"),
        ({"guided_choice": "yes"}, "guided_choice"),
        ({"guided_choice": []}, "at least one"),
        ({"guided_json": "{bad"}, "guided_json"),
        ({"guided_json": 3}, "guided_json"),
        ({"response_format": "json"}, "response_format"),
        ({"response_format": {"type": "yaml"}}, "yaml"),
        ({"response_format": {"type": "json_schema"}}, "json_schema"),
        ({"response_format": {"type": "json_schema", "json_schema": {"schema": 7}}}, "schema"),
        ({"guided_regex": "a", "guided_choice": ["a"]}, "one constraint"),
        ({"guided_json": "/etc/passwd"}, "guided_json"),  # never read as a file path
    ],
)
def test_from_request_refuses_malformed_fields(body, message):
    with pytest.raises(BadInput, match=message):
        from_request(body)


def test_to_request_round_trips_and_refuses_line_grammars():
    for c in (Regex("[a-z]+"), Choice(["a", "b"]), JsonSchema(SCHEMA)):
        assert from_request(json.loads(json.dumps(to_request(c)))) == c

    class Lines:
        def lines(self, done):
            return None

    with pytest.raises(BadInput, match="wire form"):
        to_request(Lines())
