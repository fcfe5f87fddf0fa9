"""What the reward model learns from: outcomes, never a prompt's say-so.

Four sources, all from each task's `train` problems (or a user's file, checked against every
task's val and test), for every task of the mixture: the train problems (and the search states
per problem) are the ones its part of the corpus mixture samples (`CorpusConfig.problems`,
`states_per_problem`), and the sizes below are per task.

- **solvable** (points): search states reached from train problems (`task.training_states`, for
  a task with the search role), labelled 1 / 0 by exact solvability (`task.solvable`, where the
  task has it);
- **rollout** (points): states labelled by how often the policy's own chains of thought from
  them (the `step` prompt, sampled) reach the goal, each step checked by the task: the value of
  the state *for this policy*, as AlphaZero-style value targets are;
- **verifier** (pairs): responses the policy samples for a train problem, ranked by the task's
  verifier (`task.reward`): each (better, worse) pair is a Bradley-Terry comparison, the
  InstructGPT recipe with the verifier as the labeler;
- **human** (pairs): a JSONL file, one comparison a line:
  `{"prompt": "Input: 4 9 10 13\\nSteps:\\n", "chosen": "...", "rejected": "..."}`
  (the texts scored are prompt + chosen and prompt + rejected; `prompt` may be "").

A point is (text, target in [0, 1]); a pair is (chosen text, rejected text). Texts are what
`reasoning.judgment` says stands for a state or a response. Any text that shows a val or test
problem of its task (a human pair: of any task) is refused (`held_out`).
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Hashable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from reasoning.errors import BadInput
from reasoning.judgment import response_input, state_input
from reasoning.protocols import LanguageModel, Problem, Task, has_role, require
from reasoning.types import SamplingParams
from training.corpus import CorpusConfig, Mixture


Report = Callable[[str, int, int], None]  # (source, items done, items in all): progress of the sampled sources


@dataclass(frozen=True)
class JudgmentConfig:
    """Sizes of each source, per task. The defaults feed the default rm stage."""

    solvable_states: int | None = None  # states labelled by exact solvability (a seeded sample); None = all
    min_label_share: float = 0.3  # the rarer solvability label is repeated up to this share of those points
    rollout_states: int = 2_000  # states labelled by the policy's rollout success rate
    rollouts: int = 4  # sampled chains of thought per state
    rollout_temperature: float = 1.0
    max_rollout_tokens: int = 160
    pair_problems: int | None = 600  # train problems whose sampled responses make verifier-ranked pairs
    pair_samples: int = 8  # responses sampled per problem
    pairs_per_problem: int = 4  # at most this many (better, worse) pairs per problem
    pair_style: str = "cot"  # the prompt style the responses answer
    pair_temperature: float = 1.0
    max_response_tokens: int = 160
    human_pairs: str | None = None  # a JSONL file of human comparisons (see the module doc)
    generate_batch: int = 64  # prompts per generate call

    def __post_init__(self) -> None:
        if min(self.rollouts, self.pair_samples, self.generate_batch, self.max_rollout_tokens, self.max_response_tokens) < 1:
            raise BadInput(f"rollouts, pair_samples, generate_batch and token limits must be >= 1: {self}")
        if self.rollout_states < 0 or self.pairs_per_problem < 0 or not 0 <= self.min_label_share < 1:
            raise BadInput(f"need rollout_states and pairs_per_problem >= 0 and 0 <= min_label_share < 1: {self}")

    @classmethod
    def quick(cls) -> JudgmentConfig:
        """Seconds with the tiny model: for tests and `--quick` runs."""
        return cls(solvable_states=300, rollout_states=24, rollouts=2, pair_problems=8,
                   pair_samples=4, max_rollout_tokens=48, max_response_tokens=48)  # fmt: skip


@dataclass(frozen=True)
class Point:
    text: str
    target: float  # in [0, 1]
    source: str


@dataclass(frozen=True)
class Pair:
    chosen: str
    rejected: str
    source: str


@dataclass(frozen=True)
class Judgments:
    points: tuple[Point, ...]
    pairs: tuple[Pair, ...]

    def sources(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for item in (*self.points, *self.pairs):
            out[item.source] = out.get(item.source, 0) + 1
        return out

    def texts(self) -> list[str]:
        return [p.text for p in self.points] + [t for p in self.pairs for t in (p.chosen, p.rejected)]

    def to_json(self) -> dict[str, Any]:
        return {"points": [asdict(p) for p in self.points], "pairs": [asdict(p) for p in self.pairs]}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Judgments:
        return cls(tuple(Point(**p) for p in data["points"]), tuple(Pair(**p) for p in data["pairs"]))


# -- the sources -------------------------------------------------------------------------------
def train_problems(task: Task, part: CorpusConfig, seed: int) -> list[Problem]:
    """The task's train problems its corpus part uses (all, or a seeded sample of `part.problems`)."""
    problems = task.problems("train")
    if part.problems is not None and part.problems < len(problems):
        problems = random.Random(f"{seed}-rm-problems").sample(problems, part.problems)
    return problems


def train_states(task: Task, problems: Sequence[Problem], per_problem: int | None = None, seed: int = 0) -> list[Hashable]:
    """Every non-terminal state reached from the problems (at most `per_problem` of each, a
    seeded sample), once per state text, in a fixed order; [] for a task without the search and
    training roles."""
    if not (has_role(task, "search") and has_role(task, "training")):
        return []
    states: dict[str, Hashable] = {}
    rng = random.Random(f"{seed}-states-{task.name}")
    for problem in problems:
        reached = task.training_states(problem)  # type: ignore[attr-defined]
        if per_problem is not None and per_problem < len(reached):
            reached = rng.sample(reached, per_problem)
        for state in reached:
            states.setdefault(task.state_text(state), state)  # type: ignore[attr-defined]
    return list(states.values())


def solvable_points(task: Task, states: Sequence[Hashable], cfg: JudgmentConfig, seed: int) -> list[Point]:
    """States labelled by exact solvability; [] for a task that cannot tell."""
    if not callable(getattr(task, "solvable", None)):
        return []
    chosen = list(states)
    if cfg.solvable_states is not None and cfg.solvable_states < len(chosen):
        chosen = random.Random(f"{seed}-rm-solvable").sample(chosen, cfg.solvable_states)
    points = [Point(state_input(task, s), float(task.solvable(s)), "solvable") for s in chosen]  # type: ignore[attr-defined]
    return balanced(points, cfg.min_label_share, random.Random(f"{seed}-rm-balance"))


def balanced(points: list[Point], share: float, rng: random.Random) -> list[Point]:
    """Points of the rarer target repeated until they are about `share` of all (most states
    cannot be solved), shuffled."""
    by_target: dict[float, list[Point]] = {}
    for p in points:
        by_target.setdefault(p.target, []).append(p)
    out = []
    for group in by_target.values():
        out += group * max(1, round(share * len(points) / len(group)))
    rng.shuffle(out)
    return out


def reaches_goal(task: Task, state: Hashable, text: str) -> bool:
    """Whether a chain of thought from a state reaches an answer, each step checked by the task."""
    for thought in task.parse_thoughts(state, text):  # type: ignore[attr-defined]
        state = task.expand(state, thought)  # type: ignore[attr-defined]
        if state is None:
            return False
        if task.is_terminal(state):  # type: ignore[attr-defined]
            return task.answer(state) is not None  # type: ignore[attr-defined]
    return False


def _generate(
    policy: LanguageModel, prompts: list[str], params: SamplingParams, n: int, seed: int, batch: int,
    report: Report | None = None, source: str = "",
) -> list[list[str]]:
    """n samples per prompt, `batch` prompts per call; `report(source, done, len(prompts))` after each call."""
    out: list[list[str]] = []
    for i in range(0, len(prompts), batch):
        rows = policy.generate(prompts[i : i + batch], params, n=n, seed=seed + i)
        out += [[c.text for c in row] for row in rows]
        if report is not None:
            report(source, len(out), len(prompts))
    return out


def rollout_points(
    task: Task, policy: LanguageModel, states: Sequence[Hashable], cfg: JudgmentConfig, seed: int, report: Report | None = None
) -> list[Point]:
    """States labelled by the share of the policy's sampled chains from them that reach the goal."""
    if cfg.rollout_states == 0 or not states:
        return []
    chosen = random.Random(f"{seed}-rm-rollout").sample(list(states), min(cfg.rollout_states, len(states)))
    params = SamplingParams(temperature=cfg.rollout_temperature, max_new_tokens=cfg.max_rollout_tokens, stop=task.stop("step"))
    prompts = [task.step_prompt(s, 0) for s in chosen]  # type: ignore[attr-defined]
    outs = _generate(policy, prompts, params, cfg.rollouts, seed, cfg.generate_batch, report, f"{task.name} rollout states")
    return [
        Point(state_input(task, s), sum(reaches_goal(task, s, t) for t in texts) / len(texts), "rollout")
        for s, texts in zip(chosen, outs)
    ]


def verifier_pairs(
    task: Task, policy: LanguageModel, problems: Sequence[Problem], cfg: JudgmentConfig, seed: int, report: Report | None = None
) -> list[Pair]:
    """(better, worse) responses to train problems, ranked by the task's reward (its verifier)."""
    if cfg.pair_problems == 0 or cfg.pairs_per_problem == 0:
        return []
    rng = random.Random(f"{seed}-rm-pairs")
    chosen = list(problems) if cfg.pair_problems is None else rng.sample(list(problems), min(cfg.pair_problems, len(problems)))
    params = SamplingParams(temperature=cfg.pair_temperature, max_new_tokens=cfg.max_response_tokens, stop=task.stop(cfg.pair_style))
    prompts = [task.prompt(cfg.pair_style, p, 0) for p in chosen]
    outs = _generate(policy, prompts, params, cfg.pair_samples, seed + 1, cfg.generate_batch, report, f"{task.name} pair problems")
    pairs = []
    for problem, prompt, texts in zip(chosen, prompts, outs):
        scored = {t: task.reward(problem, t) for t in dict.fromkeys(texts)}  # distinct responses
        ranked = [(a, b) for a in scored for b in scored if scored[a] > scored[b]]
        for a, b in rng.sample(ranked, min(cfg.pairs_per_problem, len(ranked))):
            pairs.append(Pair(response_input(prompt, a), response_input(prompt, b), "verifier"))
    return pairs


def human_pairs(path: Path) -> list[Pair]:
    """Comparisons from a JSONL file (see the module doc); BadInput naming the line if one is malformed."""
    path = Path(path)
    if not path.is_file():
        raise BadInput(f"human pairs file {path} does not exist")
    pairs = []
    for n, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError:
            raise BadInput(f"{path}:{n}: not a JSON object") from None
        if not isinstance(row, dict) or not all(isinstance(row.get(k), str) for k in ("chosen", "rejected")):
            raise BadInput(f"{path}:{n}: needs string fields 'chosen' and 'rejected' (and optionally 'prompt')")
        prompt = row.get("prompt", "")
        if not isinstance(prompt, str):
            raise BadInput(f"{path}:{n}: 'prompt' must be a string")
        pairs.append(Pair(response_input(prompt, row["chosen"]), response_input(prompt, row["rejected"]), "human"))
    if not pairs:
        raise BadInput(f"human pairs file {path} holds no comparisons")
    return pairs


# -- split hygiene -------------------------------------------------------------------------------
def held_out(task: Task, texts: Sequence[str]) -> list[str]:
    """The lines of the texts that show a val or test problem: a line (or what follows its
    `Label: `) that the task reads as a held-out problem, by id or by its canonical text (a task
    such as arithmetic gives a parsed problem an id of its own)."""
    held = [p for split in ("val", "test") for p in task.problems(split)]
    ids, texts_of = {p.id for p in held}, {p.text for p in held}
    found = []
    for line in dict.fromkeys(line for text in texts for line in text.splitlines()):
        for candidate in {line.strip(), line.partition(": ")[2].strip()} - {""}:
            try:
                problem = task.parse_problem(candidate)
            except BadInput:
                continue
            if problem.id in ids or problem.text in texts_of:
                found.append(line)
                break
    return found


def task_judgments(
    task: Task, policy: LanguageModel | None, cfg: JudgmentConfig, seed: int, part: CorpusConfig, report: Report | None = None
) -> Judgments:
    """One task's points and pairs (the policy samples rollouts and responses, their progress
    going to `report`; None: no sampled sources). BadInput if any text shows a val or test
    problem of the task."""
    require(task, "reason train rm", "answering")
    problems = train_problems(task, part, seed)
    states = train_states(task, problems, part.states_per_problem, seed)
    points = solvable_points(task, states, cfg, seed)
    pairs: list[Pair] = []
    if policy is not None:
        points += rollout_points(task, policy, states, cfg, seed, report)
        pairs += verifier_pairs(task, policy, problems, cfg, seed, report)
    judgments = Judgments(tuple(points), tuple(pairs))
    refuse_held_out(task, judgments.texts())
    return judgments


def refuse_held_out(task: Task, texts: Sequence[str]) -> None:
    leaks = held_out(task, texts)
    if leaks:
        raise BadInput(
            f"{len(leaks)} reward-model text line(s) show a val or test problem of {task.name!r}, e.g. {leaks[0]!r}: refused"
        )


def build(
    tasks: Sequence[Task],
    policy: LanguageModel | None,
    cfg: JudgmentConfig,
    seed: int,
    mixture: Mixture | None = None,
    report: Report | None = None,
) -> Judgments:
    """Every task's items (each sized by its part of the mixture and by cfg), then the human
    pairs if any (checked against every task's val and test). The sampled sources report their
    progress to `report`. BadInput if nothing is left to learn from or any text shows a
    held-out problem."""
    mixture = mixture or Mixture()
    points: list[Point] = []
    pairs: list[Pair] = []
    for task in tasks:
        part = task_judgments(task, policy, cfg, seed, mixture.of(task.name), report)
        points += part.points
        pairs += part.pairs
    if cfg.human_pairs is not None:
        human = human_pairs(Path(cfg.human_pairs))
        for task in tasks:
            refuse_held_out(task, [t for p in human for t in (p.chosen, p.rejected)])
        pairs += human
    if not points and not pairs:
        raise BadInput(f"tasks {', '.join(repr(t.name) for t in tasks)} give the reward model nothing to learn from")
    return Judgments(tuple(points), tuple(pairs))
