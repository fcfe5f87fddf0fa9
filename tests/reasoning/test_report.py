import pytest

from reasoning.report import _point_labels, by_category, declines, human_baseline, summarize, wilson, write_report


def rec(strategy, budget, correct, seconds=1.0, problem="p", **extra):
    return {"strategy": strategy, "budget": budget, "correct": correct, "seconds": seconds,
            "generated_tokens": 10, "calls": 2, "problem": problem, **extra}


def test_wilson_interval():
    lo, hi = wilson(5, 10)
    assert lo == pytest.approx(0.2366, abs=1e-3) and hi == pytest.approx(0.7634, abs=1e-3)
    assert wilson(0, 10)[0] == 0.0 and wilson(10, 10)[1] == 1.0
    assert wilson(0, 0) == (0.0, 1.0)
    for n in range(1, 400):  # the interval always holds the estimate (100/100 once rounded below 1)
        for k in (0, n // 3, n):
            lo, hi = wilson(k, n)
            assert 0.0 <= lo <= k / n <= hi <= 1.0


def test_a_strategy_that_solves_everything_is_plotted(tmp_path):
    records = [rec("sc", "4s", True, 0.5, problem=str(i)) for i in range(100)] + [rec("cot", "4s", i < 21, 0.2, problem=str(i)) for i in range(100)]
    write_report(tmp_path, records, {"commands": ["reason bench z"], "model": "m"})
    assert "| sc | 100.0% |" in (tmp_path / "report.md").read_text()
    assert (tmp_path / "accuracy_vs_time.png").read_bytes()[:4] == b"\x89PNG"


def test_summarize_orders_budgets_by_size_and_computes_quantiles():
    records = [rec("cot", "10s", True, s) for s in (1, 2, 3, 4)] + [rec("cot", "2s", False, 1)]
    rows = summarize(records)
    assert [r.budget for r in rows] == ["2s", "10s"]
    assert rows[1].accuracy == 1.0 and rows[1].median_seconds == 2.5 and rows[1].p90_seconds == 4


def test_declines_are_reported_not_hidden():
    records = [rec("sc", "1s", True), rec("sc", "1s", True), rec("sc", "3s", False), rec("sc", "3s", True)]
    (sentence,) = declines(summarize(records))
    assert "sc: accuracy falls from 100% at 1s to 50% at 3s" in sentence


def test_write_report_makes_png_and_markdown(tmp_path):
    records = [rec("io", b, i % 2 == 0, 0.1 * (i + 1), problem=str(i), problem_human_seconds=5.0, problem_human_solve_rate=0.9)
               for b in ("1s", "3s") for i in range(4)]
    write_report(tmp_path, records, {"commands": ["reason bench x", "reason bench y"], "model": "m"})
    md = (tmp_path / "report.md").read_text()
    assert "## Budget 1s" in md and "| io | 50.0% |" in md and "reason bench x" in md and "reason bench y" in md and "Humans" in md
    assert (tmp_path / "accuracy_vs_time.png").read_bytes()[:4] == b"\x89PNG"
    assert human_baseline(records) == (5.0, 0.9, 4)


def test_coinciding_points_share_one_label():
    xs, ys = [0.20, 0.21, 0.20, 1.0, 2.0], [0.25, 0.25, 0.25, 0.3, 0.3]
    labels = _point_labels(xs, ys, ["0.5s", "1s", "2s", "4s", "8s"])
    assert [text for _, _, text in labels] == ["0.5s-2s", "4s", "8s"]
    assert [text for _, _, text in _point_labels([0, 0], [0.1, 0.2], ["1s", "2s"])] == ["1s", "2s"]


def test_cells_of_two_models_never_share_a_row(tmp_path):
    a = {"backend": "hf", "model": "/m/a", "fingerprint": "aaaa"}
    b = {"backend": "hf", "model": "/m/b", "fingerprint": "bbbb"}
    records = [rec("io", "2s", True, problem=p, model=a) for p in "xyz"] + [
        rec("io", "2s", False, problem=p, model=b) for p in "xyz"
    ]
    rows = summarize(records)
    assert [(r.strategy, r.correct, r.n) for r in rows] == [("io @ model 1", 3, 3), ("io @ model 2", 0, 3)]
    write_report(tmp_path, records, {})
    text = (tmp_path / "report.md").read_text()
    assert "model 1: hf /m/a (aaaa)" in text and "model 2: hf /m/b (bbbb)" in text
    single = summarize([r for r in records if r["model"] == a])
    assert [r.strategy for r in single] == ["io"]


def test_human_baseline_only_where_the_task_has_one(tmp_path):
    plain = [rec("cot", "1s", True, problem=str(i)) for i in range(3)]
    assert human_baseline(plain) is None
    write_report(tmp_path, plain, {"task": "countdown"})
    md = (tmp_path / "report.md").read_text()
    assert "Humans" not in md and "24.csv" not in md and "`countdown`" in md
    half = [rec("cot", "1s", True, problem="p", problem_human_seconds=3.0)]  # no solve rate: no baseline
    assert human_baseline(half) is None
    timed = [rec("cot", "1s", True, problem="p", problem_human_seconds=3.0, problem_human_solve_rate=0.5)]
    write_report(tmp_path, timed, {"task": "mine"})
    assert "Humans (from the task's data, the same 1 problems)" in (tmp_path / "report.md").read_text()


def test_accuracy_by_category_where_problems_have_one(tmp_path):
    records = [rec("cot", "10s", ok, problem=f"{cat}{i}", problem_category=cat)
               for cat, oks in (("2D+", (True, True)), ("5D-", (True, False, False))) for i, ok in enumerate(oks)]
    assert by_category(records) == {("cot", "10s"): {"2D+": (2, 2), "5D-": (1, 3)}}
    write_report(tmp_path, records, {"task": "arithmetic"})
    md = (tmp_path / "report.md").read_text()
    assert "## By category" in md and "| cot | 10s | 100.0% (2) | 33.3% (3) |" in md
    plain = [rec("cot", "1s", True, problem=str(i)) for i in range(3)]
    assert by_category(plain) == {}
    write_report(tmp_path, plain, {"task": "countdown"})
    assert "By category" not in (tmp_path / "report.md").read_text()
