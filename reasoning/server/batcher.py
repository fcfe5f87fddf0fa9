"""The batcher: one worker thread owns the model; requests that arrive together share its calls.

HTTP handlers submit jobs to a queue and await their futures. The worker takes the first job,
waits `window` seconds for companions (jobs that arrive while it is busy simply queue up), and
groups what it has by settings: generation jobs with the same key (temperature, top_p, top_k,
stop strings, and n unless greedy) go into one `Engine.generate_ids` call, with `max_new_tokens`
and `top_logprobs` the largest of the group and each job's completions cut back to its own
(a completion cut at k tokens is exactly what a k-token request would have sampled: the engine
stops a row at EOS or a stop string, so the first k tokens never depend on the limit). Prompt
scoring jobs (`echo`) share one `Engine.sequence_logprobs` pass.

Never merged: a sampled job with a seed (its samples must not depend on who else is in the
batch: same seed, same samples) and a job with a constraint (a logits processor keeps per-row
state). If a merged call fails, each of its jobs is run again alone, so only the faulty one fails.
"""

from __future__ import annotations

import queue
import random
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass, field, replace
from typing import Any

from reasoning.types import Completion, SamplingParams

Scored = tuple[list[float | None], list[tuple[tuple[int, float], ...] | None]]


@dataclass(frozen=True)
class BatchConfig:
    window: float = 0.002  # seconds the worker waits for companions of a job that found it idle
    max_rows: int = 64  # rows (prompts x samples) one merged generate call may hold; 1 = no merging
    max_score_tokens: int = 32768  # padded tokens (rows x longest) one merged scoring pass may hold


@dataclass(eq=False)
class Generate:
    """n completions for each token-id prompt; the result is [prompt][sample] Completions."""

    seqs: list[list[int]]
    params: SamplingParams
    n: int = 1
    seed: int | None = None
    top_logprobs: int = 0
    constraint: Any = None
    future: Future = field(default_factory=Future)

    @property
    def greedy(self) -> bool:
        return self.params.temperature == 0

    def rows(self) -> int:
        return len(self.seqs) * (1 if self.greedy else self.n)

    def key(self) -> tuple:
        """Jobs with equal keys share one generate_ids call."""
        if self.constraint is not None or (self.seed is not None and not self.greedy):
            return ("alone", id(self))
        p = self.params
        return ("generate", p.temperature, p.top_p, p.top_k, p.stop, p.max_seconds, 1 if self.greedy else self.n)


@dataclass(eq=False)
class Score:
    """Per-token log-probabilities of each token-id sequence (Engine.sequence_logprobs)."""

    seqs: list[list[int]]
    top_logprobs: int = 0
    future: Future = field(default_factory=Future)

    def rows(self) -> int:
        return len(self.seqs)

    def key(self) -> tuple:
        return ("score",)


Job = Generate | Score


@dataclass
class BatchStats:
    jobs: int = 0  # jobs run
    calls: int = 0  # engine calls made for them (a failed merged call and its retries included)


class Batcher:
    """Owns `engine` (an Engine: generate_ids, sequence_logprobs, tok) on one worker thread."""

    def __init__(self, engine: Any, config: BatchConfig = BatchConfig()) -> None:
        self.engine = engine
        self.config = config
        self.stats = BatchStats()
        self._queue: queue.Queue[Job | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._seeds = random.Random()  # seeds for sampled jobs that gave none

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="reason-batcher", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join()
            self._thread = None

    def submit(self, job: Job) -> Future:
        self._queue.put(job)
        return job.future

    # -- worker --------------------------------------------------------------------------------
    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            jobs, stopping = [first], False
            deadline = time.monotonic() + self.config.window
            while True:
                left = deadline - time.monotonic()
                try:
                    job = self._queue.get(timeout=left) if left > 0 else self._queue.get_nowait()
                except queue.Empty:
                    break
                if job is None:
                    stopping = True
                    break
                jobs.append(job)
            live = [j for j in jobs if _claim(j)]
            try:
                for group in self._groups(live):
                    self._execute(group)
            except Exception as e:  # noqa: BLE001 - a bug here must not stop the worker
                for job in live:
                    if not job.future.done():
                        job.future.set_exception(e)
            if stopping:
                return

    def _groups(self, jobs: list[Job]) -> list[list[Job]]:
        """Jobs in arrival order, merged by key while the group stays within the caps."""
        groups: list[list[Job]] = []
        open_groups: dict[tuple, list[Job]] = {}
        for job in jobs:
            group = open_groups.get(job.key())
            if group is not None and self._fits(group, job):
                group.append(job)
            else:
                groups.append([job])
                open_groups[job.key()] = groups[-1]
        return groups

    def _fits(self, group: list[Job], job: Job) -> bool:
        rows = sum(j.rows() for j in group) + job.rows()
        if isinstance(job, Score):
            longest = max(len(s) for j in [*group, job] for s in j.seqs)
            return rows <= self.config.max_rows and rows * longest <= self.config.max_score_tokens
        return rows <= self.config.max_rows

    def _execute(self, group: list[Job]) -> None:
        try:
            self.stats.calls += 1
            results = self._call(group)
        except Exception as e:  # noqa: BLE001 - any failure belongs to a job, never to the worker
            if len(group) > 1:
                for job in group:  # isolate the faulty job: each runs alone
                    self._execute([job])
                return
            group[0].future.set_exception(e)
            return
        self.stats.jobs += len(group)
        for job, result in zip(group, results):
            job.future.set_result(result)

    def _call(self, group: list[Job]) -> list[Any]:
        seqs = [s for job in group for s in job.seqs]
        top = max(job.top_logprobs for job in group)
        if isinstance(group[0], Score):
            scored = self.engine.sequence_logprobs(seqs, top_logprobs=top)
            return [[self._cut_scored(s, job.top_logprobs) for s in part] for job, part in _split(group, scored)]
        first: Generate = group[0]  # type: ignore[assignment]
        params = replace(first.params, max_new_tokens=max(j.params.max_new_tokens for j in group))  # type: ignore[union-attr]
        seed = first.seed if first.seed is not None else self._seeds.randrange(2**63)
        n = 1 if first.greedy else first.n
        out = self.engine.generate_ids(seqs, params, n=n, seed=seed, constraint=first.constraint, top_logprobs=top)
        return [
            [[self._cut(c, job) for c in (row * job.n if job.greedy else row)] for row in part]  # type: ignore[union-attr]
            for job, part in _split(group, out)
        ]

    def _cut(self, c: Completion, job: Generate) -> Completion:
        """c as `job` asked for it: at most its max_new_tokens tokens and top_logprobs alternatives."""
        k = job.params.max_new_tokens
        if len(c.token_ids) > k:
            ids = c.token_ids[:k]
            lps = c.token_logprobs[:k]
            c = Completion(self.engine.tok.decode(list(ids)), k, sum(lps), "length", ids, lps, c.top_logprobs[:k])
        if c.top_logprobs and any(len(t) > job.top_logprobs for t in c.top_logprobs):
            c = replace(c, top_logprobs=tuple(t[: job.top_logprobs] for t in c.top_logprobs) if job.top_logprobs else ())
        return c

    @staticmethod
    def _cut_scored(scored: Scored, top: int) -> Scored:
        lps, tops = scored
        return lps, [t[:top] if (t is not None and top) else None for t in tops]


def _claim(job: Job) -> bool:
    """Mark a job running; False if its client went away (cancelled) or it was already run."""
    try:
        return job.future.set_running_or_notify_cancel()
    except RuntimeError:
        return False


def _split(group: list[Job], flat: list[Any]) -> list[tuple[Job, list[Any]]]:
    """flat (one entry per sequence of the group, in order) cut back into each job's share."""
    out, i = [], 0
    for job in group:
        out.append((job, flat[i : i + len(job.seqs)]))
        i += len(job.seqs)
    return out
