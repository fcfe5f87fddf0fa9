"""The batcher over a scripted engine: which jobs share an engine call, and what each gets back.

Jobs are submitted before the worker starts, so they are all waiting when it takes the first:
"arriving together" without any timing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from reasoning.server.batcher import BatchConfig, Batcher, Generate, Score
from reasoning.types import Completion, SamplingParams

FAIL = 99  # a prompt holding this id makes the scripted engine raise


class Tok:
    def decode(self, ids: list[int]) -> str:
        return " ".join(map(str, ids))


@dataclass
class ScriptedEngine:
    """Completion j of a prompt is the ids last+1+j, last+2+j, ... (max_new_tokens of them), each
    with log-probability -id/100 and top alternatives (id, -id/100), (id+1, -1.0), ..."""

    calls: list[tuple] = field(default_factory=list)
    tok: Tok = field(default_factory=Tok)

    def generate_ids(self, seqs, params, n=1, seed=0, constraint=None, top_logprobs=0):
        self.calls.append(("generate", [list(s) for s in seqs], params, n, seed, top_logprobs))
        if any(FAIL in s for s in seqs):
            raise RuntimeError("scripted failure")
        out = []
        for s in seqs:
            row = []
            for j in range(n):
                ids = tuple(range(s[-1] + 1 + j, s[-1] + 1 + j + params.max_new_tokens))
                lps = tuple(-i / 100 for i in ids)
                tops = tuple(tuple((i + a, -i / 100 - a) for a in range(top_logprobs)) for i in ids)
                row.append(Completion(self.tok.decode(list(ids)), len(ids), sum(lps), "length", ids, lps, tops))
            out.append(row)
        return out

    def sequence_logprobs(self, seqs, top_logprobs=0):
        self.calls.append(("score", [list(s) for s in seqs], top_logprobs))
        return [
            ([None] + [-t / 10 for t in s[1:]], [None] + [tuple((t, -t / 10) for _ in range(top_logprobs)) for t in s[1:]])
            for s in seqs
        ]


def run(jobs, config=BatchConfig()):
    """Submit every job, then start the worker; return (engine, results or exceptions)."""
    engine = ScriptedEngine()
    batcher = Batcher(engine, config)
    futures = [batcher.submit(j) for j in jobs]
    batcher.start()
    try:
        results = [None if f.cancelled() else (f.exception(timeout=10) or f.result()) for f in futures]
    finally:
        batcher.stop()
    return engine, results


def sampled(max_new=4, **kw) -> SamplingParams:
    return SamplingParams(temperature=kw.pop("temperature", 0.7), max_new_tokens=max_new, **kw)


def test_jobs_with_the_same_settings_share_one_call():
    jobs = [Generate([[1, 2]], sampled(), n=2), Generate([[5], [7]], sampled(), n=2), Generate([[9]], sampled(), n=2)]
    engine, results = run(jobs)
    assert len(engine.calls) == 1
    assert engine.calls[0][1] == [[1, 2], [5], [7], [9]]
    assert [len(r) for r in results] == [1, 2, 1]  # each job gets its own prompts back
    assert results[1][1][0].token_ids == (8, 9, 10, 11)  # prompt [7], sample 0
    assert results[1][1][1].token_ids == (9, 10, 11, 12)  # prompt [7], sample 1


def test_different_settings_do_not_share_a_call():
    jobs = [Generate([[1]], sampled()), Generate([[1]], sampled(temperature=1.0)), Generate([[1]], sampled(stop=("x",)))]
    engine, _ = run(jobs)
    assert len(engine.calls) == 3


def test_a_sampled_job_with_a_seed_runs_alone_with_its_seed():
    jobs = [Generate([[1]], sampled(), seed=5), Generate([[2]], sampled(), seed=5), Generate([[3]], sampled())]
    engine, _ = run(jobs)
    assert len(engine.calls) == 3
    assert [c[4] for c in engine.calls[:2]] == [5, 5]


def test_greedy_jobs_merge_across_n_and_seed_and_decode_once():
    greedy = SamplingParams(temperature=0, max_new_tokens=3)
    jobs = [Generate([[1]], greedy, n=1, seed=1), Generate([[4]], greedy, n=3, seed=2)]
    engine, results = run(jobs)
    assert len(engine.calls) == 1 and engine.calls[0][3] == 1  # n=1: greedy samples are identical
    assert [c.token_ids for c in results[1][0]] == [(5, 6, 7)] * 3


def test_a_shorter_request_gets_exactly_its_own_length():
    jobs = [Generate([[1]], sampled(max_new=2), top_logprobs=1), Generate([[1]], sampled(max_new=5), top_logprobs=3)]
    engine, results = run(jobs)
    assert len(engine.calls) == 1
    assert engine.calls[0][2].max_new_tokens == 5 and engine.calls[0][5] == 3
    short, long_ = results[0][0][0], results[1][0][0]
    assert short.token_ids == (2, 3) and short.text == "2 3" and short.tokens == 2
    assert short.finish_reason == "length" and short.logprob == pytest.approx(-0.05)
    assert [len(t) for t in short.top_logprobs] == [1, 1]
    assert long_.token_ids == (2, 3, 4, 5, 6) and [len(t) for t in long_.top_logprobs] == [3] * 5


def test_one_failing_job_does_not_fail_the_jobs_batched_with_it():
    jobs = [Generate([[1]], sampled()), Generate([[FAIL]], sampled()), Generate([[3]], sampled())]
    engine, results = run(jobs)
    assert isinstance(results[1], RuntimeError)
    assert results[0][0][0].token_ids == (2, 3, 4, 5) and results[2][0][0].token_ids == (4, 5, 6, 7)
    assert len(engine.calls) == 4  # the merged call, then each job alone


def test_max_rows_caps_what_one_call_holds():
    engine, _ = run([Generate([[i]], sampled(), n=2) for i in range(3)], BatchConfig(max_rows=4))
    assert [len(c[1]) for c in engine.calls] == [2, 1]
    engine, _ = run([Generate([[i]], sampled(), n=2) for i in range(3)], BatchConfig(window=0, max_rows=1))
    assert len(engine.calls) == 3  # no merging at all


def test_scoring_jobs_share_one_pass_and_get_their_own_alternatives():
    jobs = [Score([[1, 2, 3]], top_logprobs=1), Score([[4, 5]], top_logprobs=2), Score([[6, 7]])]
    engine, results = run(jobs)
    assert engine.calls == [("score", [[1, 2, 3], [4, 5], [6, 7]], 2)]
    lps, tops = results[0][0]
    assert lps == [None, -0.2, -0.3] and tops == [None, ((2, -0.2),), ((3, -0.3),)]
    assert results[1][0][1][1] == ((5, -0.5), (5, -0.5))
    assert results[2][0][1] == [None, None]


def test_a_job_whose_client_left_is_not_run():
    gone = Generate([[1]], sampled())
    gone.future.cancel()
    engine, results = run([gone, Generate([[2]], sampled())])
    assert engine.calls[0][1] == [[2]] and len(engine.calls) == 1
    assert results[1][0][0].token_ids == (3, 4, 5, 6)
