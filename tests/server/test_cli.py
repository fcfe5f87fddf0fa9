"""`reason serve` as a user runs it: a subprocess on a free port, then a client; bad options."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys

import httpx

from tests.conftest import reason
from tests.server.support import PROMPT


def test_reason_serve_answers_and_stops_on_ctrl_c():
    cmd = [sys.executable, "-m", "reasoning.cli", "serve", "--port", "0", "--served-model-name", "tiny"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()  # "reason serve: tiny (...) on http://127.0.0.1:PORT/v1"
        assert line.startswith("reason serve: tiny") and "http://127.0.0.1:" in line, proc.stderr.read()
        base = line.split(" on ")[-1].strip()
        with httpx.Client(base_url=base, timeout=60) as c:
            assert [m["id"] for m in c.get("/models").json()["data"]] == ["tiny"]
            r = c.post("/completions", json={"model": "tiny", "prompt": PROMPT, "max_tokens": 8, "temperature": 0})
            assert r.status_code == 200 and r.json()["choices"][0]["text"]
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0


def test_a_taken_port_is_one_line_and_exit_2():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        done = reason("serve", "--port", str(taken.getsockname()[1]))
    assert done.returncode == 2 and done.stderr.startswith("reason: error: cannot listen on 127.0.0.1:")
    assert len(done.stderr.strip().splitlines()) == 1
    done = reason("serve", "--backend", "openai", "--base-url", "http://127.0.0.1:9/v1")
    assert done.returncode == 2 and "serves a local model" in done.stderr
