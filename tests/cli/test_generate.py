"""`reason generate`: raw generation held to a regex, a JSON schema or a choice, as a user runs it."""

import json
import re

import jsonschema
import pytest

from tests.conftest import reason_here


def completions(done):
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert set(out) == {"completions", "seconds"} and out["seconds"] >= 0
    for c in out["completions"]:
        assert set(c) == {"text", "tokens", "finish_reason"}
    return out["completions"]


def test_regex_on_the_shipped_model_gives_n_full_matches():
    rows = completions(reason_here("generate", "Answer:", "--regex", "[0-9]{1,3}", "-n", "8", "--json"))
    assert len(rows) == 8
    assert all(re.fullmatch("[0-9]{1,3}", c["text"]) and c["finish_reason"] == "stop" for c in rows)


SCHEMA = {
    "type": "object",
    "properties": {"kind": {"enum": ["a", "b"]}, "when": {"type": "string", "format": "date"}, "n": {"type": "integer"}},
    "required": ["kind", "when", "n"],
}


def test_json_schema_on_the_shipped_model_validates(tmp_path):
    path = tmp_path / "schema.json"
    path.write_text(json.dumps(SCHEMA))
    rows = completions(reason_here("generate", "Input:", "--json-schema", str(path), "-n", "3", "--max-tokens", "200", "--json"))
    assert len(rows) == 3
    for c in rows:
        assert c["finish_reason"] == "stop", c
        jsonschema.validate(json.loads(c["text"]), SCHEMA, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)


@pytest.mark.slow
def test_json_schema_and_choice_on_a_random_bpe_model(tmp_path, random_bpe_model):
    schema = {
        "type": "object",
        "properties": {"kind": {"enum": ["a", "b"]}, "when": {"type": "string", "format": "date"}, "n": {"type": "integer"}},
        "required": ["kind", "when", "n"],
    }
    path = tmp_path / "schema.json"
    path.write_text(json.dumps(schema))
    model = str(random_bpe_model)
    rows = completions(reason_here("generate", "Input:", "--json-schema", str(path), "-n", "3", "--max-tokens", "300", "--model", model, "--json"))
    for c in rows:
        assert c["finish_reason"] == "stop", c
        jsonschema.validate(json.loads(c["text"]), schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
    rows = completions(reason_here("generate", "Q:", "--choice", "red,green,blue", "-n", "4", "--model", model, "--json", "--seed", "3"))
    assert all(c["text"] in {"red", "green", "blue"} and c["finish_reason"] == "stop" for c in rows)


@pytest.mark.slow
def test_plain_output_shows_each_completion():
    done = reason_here("generate", "Answer:", "--choice", "yes,no", "-n", "2", "--temperature", "0")
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("(") >= 2 and ("yes" in done.stdout or "no" in done.stdout)


@pytest.mark.parametrize(
    "args, message",
    [
        (["--regex", "(?=a)b"], "look-ahead"),
        (["--regex", "(a"], "bad regex"),
        (["--json-schema", "/no/such/schema.json"], "does not exist"),
        (["--json-schema", "BADSCHEMA"], "'minimum'"),
        (["--regex", "a", "--choice", "a,b"], "at most one"),
        (["--choice", "a,,b"], "none of them empty"),
        (["--regex", "a", "--temperature", "-1"], "temperature"),
    ],
)
def test_what_cannot_be_compiled_is_one_line_and_exit_2(tmp_path, args, message):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"type": "integer", "minimum": 3}))
    args = [str(bad) if a == "BADSCHEMA" else a for a in args]
    done = reason_here("generate", "Answer:", *args)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], done.stderr
