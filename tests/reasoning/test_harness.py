import json

import pytest

from reasoning.errors import BadInput
from reasoning.types import Budget
from strategies import ChainOfThought, FewShot, SelfConsistency
from tasks.game24 import Game24
from reasoning.harness import Results, parse_budgets, read_problems, run_bench
from tests.fakes import ScriptedModel

TASK = Game24()
GOOD = "Answer: (10 - 4) * (13 - 9) = 24\n\n"


def fake():
    return ScriptedModel(reply=lambda prompt, i: GOOD if "4 9 10 13\nSteps" in prompt else "Answer: 1 + 1\n\n")


def test_run_bench_covers_every_cell_and_records_fields(tmp_path):
    problems = [TASK.parse_problem("4 9 10 13"), TASK.parse_problem("1 1 4 6")]
    grid = {"io": FewShot(k=0, constrained=False), "cot": ChainOfThought(k=0, constrained=False)}
    records = run_bench(TASK, grid, [Budget(calls=1), Budget(seconds=5)], problems, fake(), results=Results(tmp_path / "r.jsonl"))
    assert len(records) == 8
    assert {(r["strategy"], r["budget"], r["problem"]) for r in records} == {
        (s, b, p) for s in ("io", "cot") for b in ("1calls", "5s") for p in ("4 9 10 13", "1 1 4 6")
    }
    cot = [r for r in records if r["strategy"] == "cot" and r["problem"] == "4 9 10 13"]
    assert all(r["correct"] for r in cot)
    assert all(not r["correct"] for r in records if r["problem"] == "1 1 4 6")
    first = records[0]
    for key in ("problem", "task", "strategy", "answer", "correct", "seconds", "generated_tokens",
                "prompt_tokens", "calls", "stop_reason", "budget", "seed", "problem_human_seconds"):
        assert key in first
    assert len((tmp_path / "r.jsonl").read_text().splitlines()) == 8


def test_run_bench_resumes_and_ignores_a_torn_line(tmp_path):
    problems = [TASK.parse_problem("4 9 10 13"), TASK.parse_problem("1 1 4 6")]
    grid = {"cot": ChainOfThought(k=0)}
    path = tmp_path / "r.jsonl"
    run_bench(TASK, grid, [Budget(calls=1)], problems[:1], fake(), results=Results(path))
    with path.open("a") as f:
        f.write('{"problem": "1 1 4')  # a kill in the middle of a write
    model = fake()
    records = run_bench(TASK, grid, [Budget(calls=1)], problems, model, results=Results(path))
    assert len(model.calls) == 1  # only the unfinished cell ran
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [r["problem"] for r in lines] == ["4 9 10 13", "1 1 4 6"] and len(records) == 2


def test_a_second_bench_on_the_same_results_is_refused(tmp_path):
    results = Results(tmp_path / "r.jsonl")
    problems = [TASK.parse_problem("4 9 10 13")]
    with Results(results.path).exclusive():  # as if another bench were running
        with pytest.raises(BadInput, match="another bench"):
            run_bench(TASK, {"cot": ChainOfThought()}, [Budget(calls=1)], problems, fake(), results=results)
    assert not results.path.exists()  # the refused bench wrote nothing
    assert len(run_bench(TASK, {"cot": ChainOfThought()}, [Budget(calls=1)], problems, fake(), results=results)) == 1


def test_read_problems_reports_every_bad_line(tmp_path):
    good = tmp_path / "p.txt"
    good.write_text("4 9 10 13\n\n# a comment\n1 1 4 6\n")
    assert [p.text for p in read_problems(TASK, good)] == ["4 9 10 13", "1 1 4 6"]
    jsonl = tmp_path / "p.jsonl"
    jsonl.write_text('{"problem": "4 9 10 13"}\n{"problem": "2 3 4 5"}\n')
    assert len(read_problems(TASK, jsonl)) == 2
    bad = tmp_path / "bad.txt"
    bad.write_text("4 9 10 13\n4 9 x 13\n1 2 3\n")
    with pytest.raises(BadInput, match=r"2 invalid line\(s\): line 2: .*; line 3: "):
        read_problems(TASK, bad)
    badjson = tmp_path / "bad.jsonl"
    badjson.write_text('{"problem": "4 9 10 13"}\n{"question": "1 2 3 4"}\nnot json\n')
    with pytest.raises(BadInput, match="line 2: .*line 3: "):
        read_problems(TASK, badjson)
    with pytest.raises(BadInput):
        read_problems(TASK, tmp_path / "missing.txt")


def test_parse_budgets():
    assert parse_budgets("1s, 2000tok,50calls") == [Budget(seconds=1), Budget(tokens=2000), Budget(calls=50)]
    with pytest.raises(BadInput):
        parse_budgets("1s,3 parsecs")


class OtherModel(ScriptedModel):
    """The same replies from a model with another identity."""

    def identity(self) -> dict[str, str]:
        return {"backend": "scripted", "model": "other", "fingerprint": "0123"}


def test_cells_carry_what_made_them_and_resume_only_when_all_of_it_matches(tmp_path):
    problems = [TASK.parse_problem("4 9 10 13")]
    path = tmp_path / "r.jsonl"
    run_bench(TASK, {"cot": ChainOfThought()}, [Budget(calls=1)], problems, fake(), results=Results(path))
    (rec,) = Results(path).read()
    assert rec["model"] == {"backend": "scripted", "model": "fake"} and rec["version"]
    assert rec["settings"]["class"].endswith("ChainOfThought") and rec["settings"]["constrained"] is True
    model = fake()
    run_bench(TASK, {"cot": ChainOfThought()}, [Budget(calls=1)], problems, model, results=Results(path))
    assert model.calls == []  # the very same cell: reused
    again = fake()  # a new strategy name is a new cell beside the old ones
    run_bench(TASK, {"cot-k1": ChainOfThought(k=1)}, [Budget(calls=1)], problems, again, results=Results(path))
    assert len(again.calls) == 1 and len(Results(path).read()) == 2


def test_another_model_on_the_same_results_is_refused_before_anything_runs(tmp_path):
    problems = [TASK.parse_problem("4 9 10 13")]
    path = tmp_path / "r.jsonl"
    run_bench(TASK, {"io": FewShot()}, [Budget(calls=1)], problems, fake(), results=Results(path))
    before = path.read_text()
    other = OtherModel(reply=fake().reply)
    with pytest.raises(BadInput, match=r"made differently \(model\.fingerprint: None -> '0123'; model\.model: 'fake' -> 'other'\)"):
        run_bench(TASK, {"io": FewShot()}, [Budget(calls=1)], problems, other, results=Results(path))
    assert other.calls == [] and path.read_text() == before
    with pytest.raises(BadInput, match="made differently .*seed: 0 -> 1"):
        run_bench(TASK, {"io": FewShot()}, [Budget(calls=1)], problems, fake(), seed=1, results=Results(path))


def test_a_strategy_name_with_other_settings_is_refused(tmp_path):
    problems = [TASK.parse_problem("4 9 10 13")]
    path = tmp_path / "r.jsonl"
    run_bench(TASK, {"sc": SelfConsistency()}, [Budget(calls=1)], problems, fake(), results=Results(path))
    model = fake()
    changed = SelfConsistency(base=ChainOfThought(k=2))  # what an upgrade that changed a default would do
    with pytest.raises(BadInput, match=r"'sc' cells made with other settings \(base\.k: 0 -> 2\)"):
        run_bench(TASK, {"sc": changed}, [Budget(calls=1)], problems, model, results=Results(path))
    assert model.calls == []


def test_results_from_before_cells_were_keyed_are_refused(tmp_path):
    path = tmp_path / "r.jsonl"
    old = {"problem": "4 9 10 13", "task": "game24", "strategy": "io", "budget": "1calls", "seed": 0,
           "correct": True, "seconds": 0.1, "generated_tokens": 1, "calls": 1}
    path.write_text(json.dumps(old) + "\n")
    with pytest.raises(BadInput, match="older version of reason"):
        run_bench(TASK, {"io": FewShot()}, [Budget(calls=1)], [TASK.parse_problem("4 9 10 13")], fake(),
                  results=Results(path))


def test_a_problem_listed_twice_is_refused(tmp_path):
    listed = tmp_path / "p.txt"
    listed.write_text("4 9 10 13\n1 1 4 6\n13 10 9 4\n")  # the same puzzle in another order
    with pytest.raises(BadInput, match=r"line 3: repeats line 1 \(4 9 10 13\)"):
        read_problems(TASK, listed)
    twice = [TASK.parse_problem("4 9 10 13")] * 2
    with pytest.raises(BadInput, match="listed more than once"):
        run_bench(TASK, {"io": FewShot()}, [Budget(calls=1)], twice, fake())


def test_concurrent_cells_are_each_recorded_once_in_grid_order(tmp_path):
    problems = [TASK.parse_problem(t) for t in ("4 9 10 13", "1 1 4 6", "2 3 4 5", "1 2 3 4", "5 5 5 5")]
    grid = {"io": FewShot(constrained=False), "cot": ChainOfThought(constrained=False)}
    path = tmp_path / "r.jsonl"
    records = run_bench(TASK, grid, [Budget(calls=1), Budget(calls=2)], problems, fake(), results=Results(path),
                        concurrency=4)
    expected = [(n, b, p.text) for b in ("1calls", "2calls") for n in grid for p in problems]
    assert [(r["strategy"], r["budget"], r["problem"]) for r in records] == expected
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert sorted((r["strategy"], r["budget"], r["problem"]) for r in lines) == sorted(expected)
    with pytest.raises(BadInput, match="concurrency"):
        run_bench(TASK, grid, [Budget(calls=1)], problems, fake(), concurrency=0)
