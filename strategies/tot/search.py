"""What every tree search shares: a tree over task states, thought generation (expand) and
state evaluation (evaluate), both batched over many nodes, all charged to one Meter.

Two regimes (SearchSettings.rules): with rules, a thought becomes a child only if the task checks
it (`task.expand`); model only (the ToT paper's setting), the child is the state the thought says
it reaches (`task.stated`: the model's own arithmetic and `left:` list, unchecked), and only the
final answer is verified, by the harness. Rollouts follow the same regime."""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Sequence

import networkx as nx

from reasoning.judgment import probability, state_input
from reasoning.meter import Meter
from reasoning.protocols import Task, grammars_for
from reasoning.tree import add_child, new_tree
from reasoning.types import SamplingParams
from strategies.tot.settings import SearchSettings


def distinct_prefixes(labels: Sequence[str]) -> list[str]:
    """The shortest equal-length prefixes that still tell the labels apart."""
    for n in range(1, max(map(len, labels)) + 1):
        prefixes = [label[:n] for label in labels]
        if len(set(prefixes)) == len(labels):
            return prefixes
    return list(labels)


def label_reads(labels: Sequence[str], count_tokens: Callable[[str], int]) -> list[str] | None:
    """The label prefixes a value prompt may read instead of whole labels, or None when it
    must read whole labels. A prefix stands for its label only where the tokenizer spells every
    label one token per character (as ours does): then each prefix is the label's own first
    tokens, and for a model trained to write nothing but these labels it carries the decision.
    With merged tokens (BPE, bytes) a character prefix is not what the model writes."""
    if any(count_tokens(label) != len(label) for label in labels):
        return None
    return distinct_prefixes(labels)


class Search:
    """One search run. Node values are on the task's label-weight scale (ToT: 0.001 to 20)."""

    def __init__(self, settings: SearchSettings, meter: Meter, task: Task, root_state: object, seed: int) -> None:
        self.settings = settings
        self.meter = meter
        self.task = task
        self.graph: nx.DiGraph = new_tree(root_state, task.state_text(root_state))
        self._seed = seed
        self._value_cache: dict[str, float] = {}
        self.invalid_thoughts = 0
        self.duplicate_thoughts = 0
        self.notes: list[str] = []  # changes of method made during the search (shown to the user)
        self._reads: list[str] | None = None  # what logprob values read of each label

    # -- helpers -----------------------------------------------------------------------------
    def node(self, node: int) -> dict:
        return self.graph.nodes[node]

    def next_seed(self) -> int:
        self._seed += 1
        return self._seed

    def answer(self) -> str | None:
        """The first complete answer found (anytime: valid whenever the search stops)."""
        for node, data in self.graph.nodes(data=True):
            if data["answer"] is not None:
                return data["answer"]
        return None

    def children(self, node: int) -> list[int]:
        return list(self.graph.successors(node))

    def step(self, state: Hashable, thought: str) -> Hashable | None:
        """The state a thought leads to: as the task computes it (with rules, None if the step
        is not valid) or as the thought states it (model only, None if it is not a step at all)."""
        if self.settings.rules:
            return self.task.expand(state, thought)
        return self.task.stated(state, thought)  # type: ignore[attr-defined]

    @property
    def top_weight(self) -> float:
        return max(self.task.value_weights)

    # -- expand: thoughts -> child states ----------------------------------------------------
    def thoughts(self, nodes: Sequence[int]) -> list[list[str]]:
        """The thought lines the model generates for each node, in one batched call (unchecked)."""
        cfg, task = self.settings, self.task
        states = [self.node(n)["state"] for n in nodes]
        if cfg.generate == "propose":  # each completion lists steps; several are merged in order
            prompts = [task.propose_prompt(s, cfg.k) for s in states]
            params = SamplingParams(
                temperature=cfg.temperature, max_new_tokens=cfg.max_propose_tokens, stop=task.stop("propose")
            )
            outs = self.meter.generate(prompts, params, n=cfg.propose_samples, seed=self.next_seed())
            return [[t for c in out for t in task.parse_thoughts(s, c.text)] for s, out in zip(states, outs)]
        # sample: the first line of each of `samples` chains of thought started from the state
        # (constrained: decoded inside the task's step grammar, so every sampled step is valid)
        prompts = [task.step_prompt(s, cfg.k) for s in states]
        params = SamplingParams(temperature=max(cfg.temperature, 0.7), max_new_tokens=cfg.max_propose_tokens, stop=("\n",))
        grammars = grammars_for(task, "step", states) if cfg.constrained else None
        outs = self.meter.generate(prompts, params, n=cfg.samples, seed=self.next_seed(), constraint=grammars)
        return [[line for c in out for line in task.parse_thoughts(s, c.text)[:1]] for s, out in zip(states, outs)]

    def expand(self, nodes: Sequence[int], seen: set[str] | None = None) -> list[int]:
        """Generate thoughts for every node in one batched call and add the valid, distinct
        children (at most `proposals` per node). `seen` dedupes across nodes too."""
        nodes = [n for n in nodes if not self.node(n)["terminal"]]
        if not nodes:
            return []
        task, added = self.task, []
        for node, thoughts in zip(nodes, self.thoughts(nodes)):
            state = self.node(node)["state"]
            siblings: set[str] = set()
            kept = 0
            for thought in thoughts:
                child = self.step(state, thought)
                if child is None:
                    self.invalid_thoughts += 1
                    continue
                text = task.state_text(child)
                if text in siblings or (seen is not None and text in seen):
                    self.duplicate_thoughts += 1
                    continue
                siblings.add(text)
                if seen is not None:
                    seen.add(text)
                terminal = task.is_terminal(child)
                added.append(add_child(self.graph, node, thought, child, text, terminal, task.answer(child) if terminal else None))
                kept += 1
                if kept == self.settings.proposals:
                    break
        return added

    # -- evaluate: value prompts -------------------------------------------------------------
    def evaluate(self, nodes: Sequence[int]) -> list[float]:
        """Value of each node, one batched model call for all that need one. Terminal nodes
        are judged by the task (answer: top weight; dead end: lowest weight), no model call."""
        weights = self.task.value_weights
        todo = []
        for n in nodes:
            data = self.node(n)
            if data["terminal"]:
                data["value"] = max(weights) if data["answer"] is not None else min(weights)
            elif data["text"] in self._value_cache:
                data["value"] = self._value_cache[data["text"]]
            else:
                todo.append(n)
        unique = list(dict.fromkeys(self.node(n)["text"] for n in todo))
        if unique:
            states = {self.node(n)["text"]: self.node(n)["state"] for n in todo}
            prompts = [self.task.value_prompt(states[t], self.settings.k) for t in unique]
            if self.settings.value == "rollout":
                firsts = {self.node(n)["text"]: n for n in reversed(todo)}  # the first node of each text
                values = self._rollout_values([firsts[t] for t in unique])
            elif self.settings.value == "learned":
                values = self._learned_values([states[t] for t in unique])
            elif self.settings.value == "uniform":
                values = [1.0] * len(unique)  # no model call: the searches keep the order thoughts came in
            else:
                values = self._logprob_values(prompts) if self.settings.value == "logprob" else self._vote_values(prompts)
            self._value_cache.update(zip(unique, values))
        for n in todo:
            self.node(n)["value"] = self._value_cache[self.node(n)["text"]]
        return [self.node(n)["value"] for n in nodes]

    def _logprob_values(self, prompts: list[str]) -> list[float]:
        """Expected label weight under the label distribution read in one forward pass."""
        weights = self.task.value_weights
        rows = self.meter.label_logprobs(prompts, self._label_reads())
        values = []
        for row in rows:
            probs = [math.exp(lp) for lp in row]
            total = sum(probs) or 1.0
            values.append(sum(w * p / total for w, p in zip(weights, probs)))
        return values

    def _learned_values(self, states: list[Hashable]) -> list[float]:
        """The reward model's judgment: one batched forward pass over the states, no rollout and
        no task check; P(solvable) = sigmoid(score), put on the label-weight scale."""
        scores = self.meter.reward([state_input(self.task, s) for s in states])
        return [probability(s) * self.top_weight for s in scores]

    def _label_reads(self) -> list[str]:
        """label_prefix: the shortest prefixes that tell the labels apart (one forward over the
        prompts instead of one over every prompt + label pair), where the tokenizer makes them
        exact (see label_reads); else the whole labels, and a note says so."""
        if self._reads is None:
            labels = list(self.task.value_labels)
            reads = label_reads(labels, self.meter.count_tokens) if self.settings.label_prefix else None
            if self.settings.label_prefix and reads is None:
                self.notes.append("label_prefix=true -> whole labels: the tokenizer merges characters")
            self._reads = reads if reads is not None else labels
        return self._reads

    def _rollout_values(self, nodes: list[int]) -> list[float]:
        """Lookahead, as the ToT paper's value prompt does in text: the model continues a chain
        of thought from each state (`rollouts` samples, one batched call) and the task checks
        every step (model only: the steps are taken as stated). A rollout that reaches the goal counts as the top label and its steps join
        the tree as a found answer. One that misses proves nothing (the model may have chosen
        badly), so it counts as the value prompt's estimate (one forward pass for all of them)."""
        cfg, task = self.settings, self.task
        prompts = [task.step_prompt(self.node(n)["state"], cfg.k) for n in nodes]
        params = SamplingParams(
            temperature=0.0 if cfg.rollouts == 1 else cfg.rollout_temperature,
            max_new_tokens=cfg.max_rollout_tokens, stop=task.stop("step"),
        )
        grammars = grammars_for(task, "step", [self.node(n)["state"] for n in nodes]) if cfg.constrained else None
        outs = self.meter.generate(prompts, params, n=cfg.rollouts, seed=self.next_seed(), constraint=grammars)
        hits = [sum(self._follow(node, c.text) for c in out) for node, out in zip(nodes, outs)]
        missed = [i for i, h in enumerate(hits) if h < cfg.rollouts]
        if self.answer() is not None or self.meter.exhausted():
            estimates = [min(task.value_weights)] * len(missed)  # the search is over: skip the call
        else:
            value_prompts = [task.value_prompt(self.node(nodes[i])["state"], cfg.k) for i in missed]
            estimate_by = self._logprob_values if cfg.rollout_estimate == "logprob" else self._vote_values
            estimates = estimate_by(value_prompts)
        estimate = dict(zip(missed, estimates))
        top = max(task.value_weights)
        return [(h * top + (cfg.rollouts - h) * estimate.get(i, 0.0)) / cfg.rollouts for i, h in enumerate(hits)]

    def _follow(self, node: int, text: str) -> bool:
        """Walk a rollout's steps from a node; if they reach an answer, add them to the tree."""
        state, path = self.node(node)["state"], []
        for thought in self.task.parse_thoughts(state, text):
            state = self.step(state, thought)
            if state is None:
                return False  # a wrong step (or the chain's closing answer line before a terminal state)
            path.append((thought, state))
            if self.task.is_terminal(state):
                break
        if not path or self.task.answer(path[-1][1]) is None:
            return False
        if self.answer() is None:  # keep the tree small: one found path is enough
            parent = node
            for thought, child in path:
                terminal = self.task.is_terminal(child)
                answer = self.task.answer(child) if terminal else None
                parent = add_child(self.graph, parent, thought, child, self.task.state_text(child), terminal, answer)
                self.node(parent)["rollout"] = True
        return True

    def _vote_values(self, prompts: list[str]) -> list[float]:
        """The ToT paper's sampled evaluation: each sampled label maps to its weight (20 / 1 /
        0.001) and the votes are summed; we divide by the number of votes so that both value
        modes share one scale (the ranking is the same)."""
        labels, weights = self.task.value_labels, self.task.value_weights
        params = SamplingParams(temperature=1.0, max_new_tokens=max(map(len, labels)) + 1, stop=("\n",))
        outs = self.meter.generate(prompts, params, n=self.settings.votes, seed=self.next_seed())
        values = []
        for out in outs:
            score = 0.0
            for c in out:
                word = c.text.strip()
                score += next((w for label, w in zip(labels, weights) if word == label), 0.0)
            values.append(score / len(out))
        return values

