"""`reason solve` on models that are not ours: random-weight Llamas with a trained 8k BPE
tokenizer and with a byte-level one without BOS (answers are wrong; nothing may crash), and a
model behind an OpenAI-compatible server (tests/fake_openai.py, a real HTTP server)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from reasoning.cli.app import app
from tests.conftest import reason
from tests.fake_openai import Behaviour, FakeOpenAIServer

GOOD = "13 - 9 = 4 (left: 4 4 10)\n10 - 4 = 6 (left: 4 6)\n4 * 6 = 24 (left: 24)\nAnswer: (10 - 4) * (13 - 9) = 24\n\n"


def solve(*args: str) -> dict:
    done = CliRunner().invoke(app, ["solve", "4 9 10 13", "--json", *args], catch_exceptions=False)
    assert done.exit_code == 0, done.output
    return json.loads(done.stdout)


@pytest.mark.parametrize("strategy", ["io", "cot", "sc", "tot"])
@pytest.mark.parametrize("kind", ["bpe_model", "byte_model"])
def test_every_strategy_runs_on_a_bpe_and_a_byte_level_model(kind, strategy, request):
    path = request.getfixturevalue(kind)
    record = solve("--strategy", strategy, "--model", str(path), "--budget", "3calls", "--device", "cpu")
    assert record["strategy"] == strategy and isinstance(record["correct"], bool)
    assert 1 <= record["calls"] <= 3 and record["generated_tokens"] > 0 and record["prompt_tokens"] > 0
    assert record["model"]["backend"] == "hf" and record["model"]["model"] == str(path.resolve())


def reply(prompt: str, i: int) -> str:
    return "sure\n" if prompt.endswith("Can reach 24: ") else GOOD


def test_solve_through_a_server_records_the_backend_and_model():
    with FakeOpenAIServer(Behaviour(reply=reply)) as server:
        record = solve("--backend", "openai", "--base-url", server.base_url, "--strategy", "cot", "--set", "constrained=false")
    assert record["model"] == {"backend": "openai", "model": "fake-model", "base_url": server.base_url, "api": "completions"}
    assert record["answer"] == "(10 - 4) * (13 - 9) = 24" and record["correct"]
    assert record["calls"] == 1 and record["prompt_tokens"] > 0 and record["fallbacks"] == []
    assert record["generated_tokens"] == len(GOOD) - 2  # the server's usage (one token per character; the stop cut)


def test_a_missing_capability_falls_back_visibly():
    with FakeOpenAIServer(Behaviour(reply=reply, echo=False)) as server:
        args = ["--backend", "openai", "--base-url", server.base_url, "--strategy", "tot", "--set", "value=logprob"]
        record = solve(*args)
        assert record["fallbacks"] == ["value=logprob -> vote (3 sampled labels per state): the model gives no label log-probabilities"]
        assert record["correct"]
        shown = CliRunner().invoke(app, ["solve", "4 9 10 13", *args], catch_exceptions=False)
    assert shown.exit_code == 0 and "fallback: value=logprob -> vote" in shown.stdout


def test_a_missing_capability_refuses_before_any_work():
    with FakeOpenAIServer(Behaviour(reply=reply)) as server:
        done = reason("solve", "4 9 10 13", "--backend", "openai", "--base-url", server.base_url, "--strategy", "sc")
        served = [p for p in server.paths() if p == "/v1/completions"]
        probes = len(served)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "base.constrained=true needs grammar-constrained decoding" in lines[0]
    assert "--set base.constrained=false" in lines[0]
    assert probes <= 5  # only connect's probes: no sampling was sent


def test_bench_keeps_several_cells_in_flight_against_a_server(tmp_path):
    with FakeOpenAIServer(Behaviour(reply=reply)) as server:
        args = ["bench", "--backend", "openai", "--base-url", server.base_url, "--concurrency", "4", "--limit", "8",
                "--strategy", "cot:constrained=false,tot:value=logprob", "--budget", "3calls", "--out", str(tmp_path / "b")]
        done = CliRunner().invoke(app, args, catch_exceptions=False)
    assert done.exit_code == 0, done.output
    records = [json.loads(line) for line in (tmp_path / "b" / "results.jsonl").read_text().splitlines()]
    assert len(records) == 16 and len({(r["strategy"], r["problem"]) for r in records}) == 16
    assert all(r["model"]["backend"] == "openai" and r["generated_tokens"] > 0 for r in records)
    assert all(r["fallbacks"] == [] for r in records)  # the server echoes: logprob values need no fallback
