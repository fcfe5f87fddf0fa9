"""A task users write themselves: the README's own example, named by import path or entry point,
through `reason solve`, `reason bench` and `reason report` with the shipped model."""

import json
import re

import pytest

from tests.conftest import ROOT, reason


@pytest.fixture(scope="module")
def user_dir(tmp_path_factory):
    """A directory holding mytasks.py (the README's code, verbatim) and an installed-looking
    distribution that registers it in the reason.tasks entry-point group."""
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("### Your own task") :]
    code = re.search(r"```python\n(# mytasks\.py\n.*?)```", section, re.S).group(1)
    out = tmp_path_factory.mktemp("user")
    (out / "mytasks.py").write_text(code + "\nNOT_A_TASK = 'hello'\n")
    dist = out / "reason_sum_task-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: reason-sum-task\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[reason.tasks]\nsum = mytasks:Sum\n")
    return out


@pytest.mark.parametrize("task", [pytest.param("mytasks:Sum", marks=pytest.mark.slow), "sum"])  # by import path, by entry point
def test_solve_a_user_task_with_the_shipped_model(user_dir, task):
    done = reason("solve", "3 40 5", "--task", task, "--strategy", "cot", "--json", cwd=user_dir, path=(user_dir,), check=True)
    record = json.loads(done.stdout)
    assert record["task"] == "sum" and record["problem"] == "3 40 5" and record["strategy"] == "cot"
    assert record["calls"] == 1 and record["generated_tokens"] > 0
    assert record["correct"] == (record["answer"] is not None and record["answer"].strip() == "48")


def test_bench_and_report_on_a_user_task(user_dir, tmp_path):
    out = tmp_path / "bench"
    done = reason("bench", "--task", "mytasks:Sum", "--split", "test", "--limit", "3", "--strategy", "io,sc",
                  "--budget", "2calls", "--out", str(out), cwd=user_dir, path=(user_dir,))
    assert done.returncode == 0, done.stderr
    records = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert len(records) == 6 and {r["strategy"] for r in records} == {"io", "sc"} and {r["task"] for r in records} == {"sum"}
    for r in records:
        total = sum(map(int, r["problem"].split()))
        assert r["correct"] == (r["answer"] is not None and r["answer"].strip() == str(total))
        assert 1 <= r["calls"] <= 2
    again = reason("report", str(out), check=True)
    assert "accuracy" in again.stdout
    md = (out / "report.md").read_text()
    assert "mytasks:Sum" in md and "Humans" not in md  # this task carries no human baseline
    assert (out / "accuracy_vs_time.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.slow
def test_tot_on_a_user_task_names_the_missing_role(user_dir):
    done = reason("solve", "3 40 5", "--task", "mytasks:Sum", "--strategy", "tot", cwd=user_dir, path=(user_dir,))
    assert done.returncode == 2 and "Traceback" not in done.stderr
    (line,) = done.stderr.strip().splitlines()
    assert "tot needs the search role, which task 'sum' lacks" in line


@pytest.mark.parametrize(
    "task, message",
    [
        ("no_such_module_xyz:Task", "cannot import task module 'no_such_module_xyz'"),
        ("mytasks:Missing", "task module 'mytasks' has no attribute 'Missing'"),
        ("mytasks:NOT_A_TASK", "'mytasks:NOT_A_TASK' is not a task: it lacks name, problems"),
        ("mytasks:", "a task import path is module:attribute"),
    ],
)
def test_bad_task_paths_are_one_line_and_exit_2(user_dir, task, message):
    done = reason("solve", "3 40 5", "--task", task, cwd=user_dir, path=(user_dir,))
    assert done.returncode == 2 and "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], done.stderr
