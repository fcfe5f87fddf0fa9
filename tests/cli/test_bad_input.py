"""Bad input ends in one clear line on stderr and exit code 2, never a traceback."""

import sys

import pytest

from reasoning.cli.app import main
from tests.conftest import reason
from tests.fake_openai import free_port

CASES = [
        (["solve", "4 9 x 13"], "four whole numbers"),
        (["solve", "4 9 10"], "four whole numbers"),
        (["solve", "4 9 10 13", "--strategy", "magic"], "unknown strategy 'magic'"),
        (["solve", "4 9 10 13", "--task", "chess"], "unknown task 'chess'"),
        (["solve", "4 9 10 13", "--budget", "10parsecs"], "bad budget '10parsecs'"),
        (["solve", "4 9 10 13", "--model", "/no/such/model"], "/no/such/model"),
        (["solve", "4 9 10 13", "--model", "ppo"], "no model 'ppo': not a directory, nor a shipped model (shipped: default, base, sft, mixed, rl, rm, game24)"),
        (["solve", "4 9 10 13", "--backend", "vllm"], "unknown backend 'vllm'; choose from hf, openai"),
        (["solve", "4 9 10 13", "--backend", "openai"], "--backend openai needs --base-url"),
        (["solve", "4 9 10 13", "--backend", "openai", "--base-url", "BADURL"], "cannot reach the server at http://127.0.0.1:"),
        (["solve", "4 9 10 13", "--device", "tpu"], "unknown device 'tpu'"),
        (["bench", "--out", "OUT", "--backend", "openai", "--base-url", "BADURL"], "cannot reach the server"),
        (["solve", "4 9 10 13", "--strategy", "tot", "--set", "width=3"], "unknown setting 'width'"),
        (["solve", "4 9 10 13", "--strategy", "tot", "--set", "breadth=many"], "breadth"),
        (["solve", "4 9 10 13", "--strategy", "tot", "--search", "astar"], "bfs, dfs, mcts"),
        (["solve", "4 9 10 13", "--seed", "abc"], "--seed"),
        (["solve", "4 9 10 13", "--bogus"], "No such option: --bogus"),
        (["solve"], "Missing argument"),
        (["bench", "--out", "OUT", "--budget", "1s,3 parsecs"], "bad budget"),
        (["bench", "--out", "OUT", "--split", "dev"], "unknown split 'dev'"),
        (["bench", "--out", "OUT", "--strategy", "io,nope"], "unknown strategy 'nope'"),
        (["report", "/no/such/dir"], "no results.jsonl"),
        (["train", "sft", "--init", "/no/such/pretrain", "--out", "OUT", "--quick"], "/no/such/pretrain"),
        (["train", "pretrain", "--init", "/no/such/base", "--out", "OUT", "--quick"], "/no/such/base"),
        (["train", "rl", "--init", "/no/such/sft", "--out", "OUT", "--quick"], "/no/such/sft"),
        # countdown: a missing arrow, a non-number, too many or too few numbers
        (["solve", "96 7 37 74 55", "--task", "countdown"], "an arrow '->' and a target"),
        (["solve", "96 7 x 74 -> 55", "--task", "countdown"], "whole numbers only"),
        (["solve", "96 7 37 74 -> fifty", "--task", "countdown"], "whole numbers only"),
        (["solve", "1 2 3 4 5 6 7 -> 10", "--task", "countdown"], "3 to 6 numbers, got 7"),
        (["solve", "1 2 -> 3", "--task", "countdown"], "3 to 6 numbers, got 2"),
        # arithmetic: malformed expressions, a non-number, too many numbers, out of the categories
        (["solve", "98 +", "--task", "arithmetic"], "expected number, got the end"),
        (["solve", "(2 * 3 + 4", "--task", "arithmetic"], "expected ), got '+'"),
        (["solve", "What is 98 plus forty?", "--task", "arithmetic"], "expected number"),
        (["solve", "1 + 2 + 3", "--task", "arithmetic"], "two numbers, or three one-digit numbers"),
        (["solve", "123 * 45", "--task", "arithmetic"], "at most two digits"),
        (["bench", "--out", "OUT", "--task", "arithmetic", "--strategy", "cot,tot"], "tot needs the search role"),
        (["solve", "4 9 10 13", "--task", "nosuchmodule:Task"], "cannot import task module 'nosuchmodule'"),
        # the reward model: where it has no use, and RL rewarded by one that is missing
        (["serve", "--reward-model", "/no/such/rm"], "--reward-model has no use here"),
        (["generate", "Answer:", "--reward-model", "/no/such/rm"], "--reward-model has no use here"),
        (["train", "rl", "--reward", "model", "--init", "/no/such/sft", "--out", "OUT", "--quick"], "reward='model' needs reward_model"),
        (["train", "rl", "--reward", "model", "--reward-model", "/no/such/rm", "--out", "OUT", "--quick"], "reward model directory /no/such/rm does not exist"),
        (["train", "rl", "--reward", "judge", "--out", "OUT", "--quick"], "--reward must be verifier, model or both"),
        # training on chosen parts of the mixture
        (["train", "pretrain", "--quick", "--tasks", "game24,nope", "--out", "OUT"], "no part for task 'nope'"),
        (["train", "rm", "--quick", "--tasks", ",", "--out", "OUT"], "names each task once, got []"),
]


def concrete(args, tmp_path):
    args = [str(tmp_path / "out") if a == "OUT" else a for a in args]
    return [f"http://127.0.0.1:{free_port()}/v1" if a == "BADURL" else a for a in args]  # nothing listens there


def assert_one_line(code, stderr, message):
    assert code == 2, stderr
    assert "Traceback" not in stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], stderr


@pytest.mark.parametrize("args, message", CASES)
def test_bad_input_is_one_line_and_exit_2(tmp_path, monkeypatch, capsys, args, message):
    """The console entry point, in this process (an exception it lets through fails the test)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", ["reason", *concrete(args, tmp_path)])
    with pytest.raises(SystemExit) as done:
        main()
    assert_one_line(done.value.code, capsys.readouterr().err, message)


@pytest.mark.parametrize("args, message", [CASES[0], CASES[7], CASES[16], CASES[22], CASES[24], CASES[29]])
def test_bad_input_from_a_real_process(tmp_path, args, message):
    """Some of the same cases as a user meets them: `reason` in its own process."""
    done = reason(*concrete(args, tmp_path), cwd=tmp_path)
    assert_one_line(done.returncode, done.stderr, message)


def test_bad_problems_file_names_lines_and_runs_nothing(tmp_path):
    problems = tmp_path / "p.txt"
    problems.write_text("4 9 10 13\n4 9 x 13\n")
    done = reason("bench", "--out", str(tmp_path / "o"), "--problems-file", str(problems), cwd=tmp_path)
    assert done.returncode == 2 and "line 2" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "o" / "results.jsonl").exists()


def test_bad_countdown_problems_file_names_lines(tmp_path):
    problems = tmp_path / "p.txt"
    problems.write_text("96 7 37 74 -> 55\n96 7 37 74\n1 2 3 -> x\n")
    done = reason("bench", "--task", "countdown", "--out", str(tmp_path / "o"), "--problems-file", str(problems), cwd=tmp_path)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "line 2" in done.stderr and "line 3" in done.stderr and "line 1:" not in done.stderr
    assert not (tmp_path / "o" / "results.jsonl").exists()
