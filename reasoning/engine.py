"""Engine: batched sampling, scoring and label log-probabilities over a transformers causal LM.

One prefill per prompt, n samples from it (the KV cache is repeated n times), token-by-token
decoding that drops finished rows from the batch; once one row is left, prompt lookup drafts the
tokens it will likely write and one forward pass reads the logits after all of them (lookup.py).
nanoGPT style: shapes in comments.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import torch
import torch.nn.functional as F

from reasoning.errors import BadInput
from reasoning.llama import LeanLlama
from reasoning.lookup import Drafter, PromptLookup
from reasoning.stepper import LeanStepper, PlainStepper
from reasoning.types import Completion, SamplingParams


class _Drafting:
    """The lone row of a call, decoding along prompt lookup drafts. After the sampler has taken
    token t, `next_logits(generated, limit)` gives the logits for token t + 1 from the last
    drafted pass while the row's samples agree with its draft, or from a new pass over
    [token t, new draft]; None when there is no draft (the caller steps one token)."""

    def __init__(self, lookup: PromptLookup, stepper: LeanStepper, prompt: list[int]) -> None:
        self.stepper = stepper
        self.prompt_len = len(prompt)
        self.drafter: Drafter = lookup.start(prompt)
        self.drafts: list[int] = []  # drafted tokens after the last sampled one, not yet sampled
        self.logits: torch.Tensor | None = None  # (len(drafts), V) the logits after each of them

    def next_logits(self, generated: torch.Tensor, limit: int) -> torch.Tensor | None:
        """generated (t,) the row's tokens so far; limit: the most it may have. -> (1, V) or None."""
        last, t = int(generated[-1]), generated.numel()
        if self.drafts:
            if last == self.drafts[0]:
                self.drafts.pop(0)
                assert self.logits is not None
                out, self.logits = self.logits[:1], self.logits[1:]
                return out
            self.stepper.rewind(len(self.drafts))  # it sampled another token: what was drafted after it is void
        self.drafter.extend(generated[len(self.drafter.seq) - self.prompt_len :].tolist())
        self.drafts = self.drafter.draft(limit - t - 1)  # the logits after the last drafted token still count
        if not self.drafts:
            return None
        out = self.stepper.verify(torch.tensor([last, *self.drafts], device=generated.device))  # (1 + k, V)
        self.logits = out[1:]
        return out[:1]


class Engine:
    """Wraps `model` (a causal LM returning `.logits` and taking a cache, `cache` or
    `past_key_values`) and its tokenizer (a PreTrainedTokenizerFast with a BOS token). Every sequence starts with BOS.

    Tokens the tokenizer marks as BOS, pad or unk (and logit columns past the tokenizer's
    vocabulary) are never sampled; log-probabilities are always those of the raw model.

    `fast`: plain Llama checkpoints run through LeanLlama; `lookup`: how a lone row's next tokens
    are drafted (None: never; drafts need the lean path)."""

    def __init__(
        self, model: torch.nn.Module, tokenizer: Any, fast: bool = True, lookup: PromptLookup | None = PromptLookup()
    ) -> None:
        self.model = model
        self.lookup = lookup
        self.tok = tokenizer
        self.bos = tokenizer.bos_token_id
        self.eos = tokenizer.eos_token_id
        pad = tokenizer.pad_token_id
        self.pad = pad if pad is not None else (self.eos if self.eos is not None else 0)
        ctx = getattr(getattr(model, "config", None), "max_position_embeddings", None)
        self.max_context: int | None = int(ctx) if ctx else None
        self.vocab_size = len(tokenizer)
        self._banned = sorted(
            {t for t in (self.bos, tokenizer.pad_token_id, tokenizer.unk_token_id) if t is not None} - {self.eos}
        )
        self._keep_arg = "logits_to_keep" in inspect.signature(model.forward).parameters
        self._lean = LeanLlama(model) if fast and LeanLlama.supports(model) else None
        self._piece_cache: list[str | None] | None = None
        self._alone_cache: list[str] | None = None

    # -- helpers -------------------------------------------------------------------------------
    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    @contextmanager
    def _inference(self) -> Iterator[None]:
        """inference_mode + eval mode, restoring the model's train flag afterwards."""
        was_training = self.model.training
        self.model.eval()
        try:
            with torch.inference_mode():
                yield
        finally:
            self.model.train(was_training)

    def _encode(self, texts: Sequence[str]) -> list[list[int]]:
        if not texts:
            return []
        return [list(ids) for ids in self.tok(list(texts), add_special_tokens=False)["input_ids"]]

    def _with_bos(self, ids: list[int]) -> list[int]:
        return ([self.bos] if self.bos is not None else []) + ids

    def _check_length(self, n_tokens: int, what: str) -> None:
        if n_tokens == 0:
            raise BadInput(f"{what} is empty and the tokenizer has no BOS token")
        if self.max_context is not None and n_tokens > self.max_context:
            raise BadInput(
                f"{what} is {n_tokens} tokens (with BOS) but the model's context is {self.max_context} tokens"
            )

    def _forward(self, ids: torch.Tensor, mask: torch.Tensor, pos: torch.Tensor, **kw: Any) -> Any:
        # without padding the mask says nothing, and leaving it out keeps attention on its fast path
        attention_mask = None if bool(mask.all()) else mask
        return self.model(input_ids=ids, attention_mask=attention_mask, position_ids=pos, **kw)

    def _right_padded_logprobs(self, seqs: list[list[int]]) -> torch.Tensor:
        """Log-softmax of one forward pass over right-padded sequences. (B, T, V)"""
        B, T = len(seqs), max(len(s) for s in seqs)
        ids = torch.full((B, T), self.pad, dtype=torch.long)
        mask = torch.zeros((B, T), dtype=torch.long)
        for i, s in enumerate(seqs):
            ids[i, : len(s)] = torch.tensor(s)
            mask[i, : len(s)] = 1
        pos = torch.arange(T).expand(B, T)  # right padding: real tokens sit at 0..len-1
        dev = self.device
        logits = self._forward(ids.to(dev), mask.to(dev), pos.to(dev), use_cache=False).logits  # (B, T, V)
        return F.log_softmax(logits.float(), dim=-1)

    def _sum_logprobs(self, logp: torch.Tensor, seqs: list[list[int]], starts: list[int]) -> list[float]:
        """For row i, sum of log p(seq[j] | seq[:j]) over j >= starts[i]."""
        out = []
        for i, (s, start) in enumerate(zip(seqs, starts)):
            if start >= len(s):
                out.append(0.0)
                continue
            targets = torch.tensor(s[start:], device=logp.device)  # (t,)
            rows = logp[i, start - 1 : len(s) - 1]  # (t, V) position j-1 predicts token j
            out.append(rows.gather(1, targets[:, None]).sum().item())
        return out

    @staticmethod
    def _sample(logits: torch.Tensor, params: SamplingParams, g: torch.Generator) -> torch.Tensor:
        """Next token per row from processed logits. (B, V) -> (B,)"""
        if params.temperature == 0:
            return logits.argmax(dim=-1)
        logits = logits / params.temperature
        V = logits.size(-1)
        if 0 < params.top_k < V:
            kth = torch.topk(logits, params.top_k, dim=-1).values[:, -1:]  # (B, 1)
            logits = logits.masked_fill(logits < kth, float("-inf"))
        if params.top_p < 1.0:
            sorted_logits, order = torch.sort(logits, dim=-1, descending=True)  # (B, V)
            probs = sorted_logits.softmax(dim=-1)
            before = probs.cumsum(dim=-1) - probs  # mass of the tokens ranked above each token
            sorted_logits = sorted_logits.masked_fill(before >= params.top_p, float("-inf"))
            logits = torch.full_like(logits, float("-inf")).scatter(-1, order, sorted_logits)
        probs = logits.softmax(dim=-1)  # (B, V)
        # what torch.multinomial(probs, 1, generator=g) computes (the same draws), without its checks
        return (probs / torch.empty_like(probs).exponential_(1, generator=g)).argmax(dim=-1)  # (B,)

    # -- public API ----------------------------------------------------------------------------
    def count_tokens(self, text: str) -> int:
        """Tokens the tokenizer makes of text (BOS not counted)."""
        return len(self._encode([text])[0])

    def generate(
        self,
        prompts: Sequence[str],
        params: SamplingParams,
        n: int = 1,
        seed: int = 0,
        constraint: Any = None,
        top_logprobs: int = 0,
    ) -> list[list[Completion]]:
        """n completions per prompt, [prompt][sample]: each prompt is encoded after a BOS token
        (where the tokenizer has one) and decoded by `generate_ids`."""
        return self.generate_ids(
            [self._with_bos(ids) for ids in self._encode(list(prompts))], params, n, seed, constraint, top_logprobs
        )

    def generate_ids(
        self,
        seqs: Sequence[Sequence[int]],
        params: SamplingParams,
        n: int = 1,
        seed: int = 0,
        constraint: Any = None,
        top_logprobs: int = 0,
    ) -> list[list[Completion]]:
        """n completions per token-id prompt (used as given: no BOS is added), [prompt][sample].
        One prefill for the prompts, then the KV cache is repeated n times. temperature 0 is
        greedy: the seed is ignored and the n samples are identical (decoded once). Each
        Completion carries its sampled token ids and their log-probabilities, and the
        `top_logprobs` most likely (id, logprob) pairs at each step when asked.

        `constraint` (optional) has `reset()` and `process_logits(input_ids, logits)` (outlines 1.x
        OutlinesLogitsProcessor interface). reset() is called once per call; process_logits gets
        the ids generated so far (B_active, t) and the logits (B_active, V) of the active rows, in
        a stable order. Finished rows leave the batch; if the constraint has
        `batch_select_indices(indices: list[int])` it is told which rows stay (indices into the
        previous active batch), so per-row state can follow."""
        if n < 1:
            raise BadInput(f"n must be >= 1, got {n}")
        if top_logprobs < 0:
            raise BadInput(f"top_logprobs must be >= 0, got {top_logprobs}")
        seqs = [list(s) for s in seqs]
        if not seqs:
            return []
        for s in seqs:
            self._check_length(len(s), "prompt")
        reps = 1 if params.temperature == 0 else n
        with self._inference():
            flat = self._decode(seqs, reps, params, seed, constraint, top_logprobs)  # B * reps completions
        return [[flat[b * reps + (j if reps > 1 else 0)] for j in range(n)] for b in range(len(seqs))]

    def _stepper(self) -> LeanStepper | PlainStepper:
        return LeanStepper(self._lean) if self._lean is not None else PlainStepper(self.model, self._keep_arg)

    def _logit_mask(self, V: int, device: torch.device) -> torch.Tensor | None:
        """(V,) additive mask: -inf on banned tokens and on columns past the tokenizer's vocabulary."""
        cols = [t for t in self._banned if t < V] + list(range(self.vocab_size, V))
        if not cols:
            return None
        mask = torch.zeros(V, device=device)
        mask[cols] = float("-inf")
        return mask

    def _pieces(self) -> list[str | None]:
        """What each token id writes: its text after an ordinary token, or None when that is not a
        plain suffix of the decoded text (the tokenizer rewrites what came before)."""
        if self._piece_cache is None:
            n = len(self.tok)
            ctx = self._encode(["a"])[0]
            base = self.tok.decode(ctx)
            after = self.tok.batch_decode([ctx + [i] for i in range(n)])
            self._piece_cache = [a[len(base) :] if a.startswith(base) else None for a in after]
            self._alone_cache = self.tok.batch_decode([[i] for i in range(n)])
        return self._piece_cache

    def _stop_candidates(self, stops: Sequence[str], V: int, device: torch.device) -> torch.Tensor:
        """(V,) bool: the tokens after which a stop string may have just been completed, so only
        rows that sampled one decode their tail. Conservative: a token whose text contains the last
        character of a stop string (after another token or alone), whose text is empty, part of a
        multi-byte character (U+FFFD) or depends on its context, is always a candidate."""
        finals = {s[-1] for s in stops if s}
        flags = torch.zeros(V, dtype=torch.bool)
        if finals:
            pieces, alone = self._pieces(), self._alone_cache
            assert alone is not None
            for i in range(min(V, len(pieces))):
                p, q = pieces[i], alone[i]
                flags[i] = p is None or not p or any(c in p or c in q for c in finals | {"\ufffd"})
            flags[len(pieces) :] = True
        return flags.to(device)

    def _decode(
        self, seqs: list[list[int]], reps: int, params: SamplingParams, seed: int, constraint: Any, top: int
    ) -> list[Completion]:
        dev = self.device
        B, T = len(seqs), max(len(s) for s in seqs)
        R = B * reps  # output rows; row r is sample r % reps of prompt r // reps
        lengths = [len(s) for s in seqs for _ in range(reps)]
        limit = [
            min(params.max_new_tokens, self.max_context - L) if self.max_context else params.max_new_tokens
            for L in lengths
        ]
        done: list[Completion | None] = [None] * R
        for r in range(R):
            if limit[r] <= 0:
                done[r] = Completion("", 0, 0.0, "length")
        if all(d is not None for d in done):
            return done  # type: ignore[return-value]
        max_new = max(limit)

        # prefill the B prompts once, left-padded; each prompt's row is repeated reps times
        ids = torch.full((B, T), self.pad, dtype=torch.long)
        mask = torch.zeros((B, T), dtype=torch.long)
        for i, s in enumerate(seqs):
            ids[i, T - len(s) :] = torch.tensor(s)
            mask[i, T - len(s) :] = 1
        pos = (mask.cumsum(-1) - 1).clamp(min=0)  # (B, T)
        stepper = self._stepper()
        logits = stepper.prefill(ids.to(dev), mask.to(dev), pos.to(dev), reps, T + max_new)  # (R, V)
        V = logits.size(-1)

        # what the live rows have generated, live rows first (compacted when rows leave): (R, max_new)
        hist = torch.zeros((R, max_new), dtype=torch.long, device=dev)  # sampled ids
        lps = torch.zeros((R, max_new), dtype=logits.dtype, device=dev)  # their log p under the raw model
        k = min(top, V)
        top_ids = torch.zeros((R, max_new, k), dtype=torch.long, device=dev)
        top_lps = torch.zeros((R, max_new, k), dtype=logits.dtype, device=dev)
        rows = list(range(R))  # output row of each live row
        t = 0  # tokens generated so far by every live row

        def finish(a: int, reason: str, text: str | None = None) -> Completion:
            gen, lp = hist[a, :t].tolist(), lps[a, :t].tolist()
            tops = tuple(tuple(zip(i, v)) for i, v in zip(top_ids[a, :t].tolist(), top_lps[a, :t].tolist()))
            text = self.tok.decode(gen) if text is None else text
            return Completion(text, len(gen), sum(lp), reason, tuple(gen), tuple(lp), tops if top else ())

        def select(keep: list[int]) -> None:
            nonlocal rows, logits
            idx = torch.tensor(keep, dtype=torch.long, device=dev)
            stepper.select(idx)
            rows = [rows[a] for a in keep]
            logits = logits[idx]
            for buf in (hist, lps, top_ids, top_lps):
                buf[: len(keep), :t] = buf[idx, :t]
            if constraint is not None and hasattr(constraint, "batch_select_indices"):
                constraint.batch_select_indices(keep)

        if constraint is not None:  # before any row leaves, so the processor can follow them
            constraint.reset()
        keep0 = [a for a, r in enumerate(rows) if done[r] is None]
        if len(keep0) < len(rows):
            select(keep0)

        g = torch.Generator(device=dev).manual_seed(seed)
        logit_mask = self._logit_mask(V, dev)
        stops = [s for s in params.stop if s]
        stop_len = 2 * max((len(s) for s in stops), default=0)  # tokens are >= 1 character (2x: slack)
        candidates = self._stop_candidates(stops, V, dev) if stops else None  # (V,) bool
        row_limit = torch.tensor(limit, device=dev)[torch.tensor(rows, device=dev)]  # (A,)
        deadline = None if params.max_seconds is None else time.monotonic() + params.max_seconds
        drafting: _Drafting | None = None  # made when one row is left (lean path only)
        while rows:
            A = len(rows)
            logp = F.log_softmax(logits, dim=-1)  # (A, V) raw model distribution
            proc = logits
            if constraint is not None:
                proc = constraint.process_logits(hist[:A, :t], logits.clone())  # (A, t) ids so far
            if logit_mask is not None:
                proc = proc + logit_mask
            tok = self._sample(proc, params, g)  # (A,)
            hist[:A, t] = tok
            lps[:A, t] = logp.gather(1, tok[:, None]).squeeze(1)
            if top:
                top_lps[:A, t], top_ids[:A, t] = logp.topk(k, dim=-1)  # (A, k)
            t += 1
            # rows that may end here: EOS, the token limit, or a token that may complete a stop string
            ending = row_limit <= t  # (A,)
            if self.eos is not None:
                ending |= tok == self.eos
            if candidates is not None:
                ending |= candidates[tok]
            left = set()
            for a in ending.nonzero().flatten().tolist() if bool(ending.any()) else []:
                r = rows[a]
                last = int(hist[a, t - 1])
                if last == self.eos:
                    done[r] = finish(a, "stop", self.tok.decode(hist[a, : t - 1].tolist()))
                elif stops and any(s in self.tok.decode(hist[a, max(0, t - stop_len) : t].tolist()) for s in stops):
                    text = self.tok.decode(hist[a, :t].tolist())  # the first stop string just completed
                    done[r] = finish(a, "stop", text[: min(text.find(s) + len(s) for s in stops if s in text)])
                elif t >= limit[r]:
                    done[r] = finish(a, "length")
                else:
                    continue
                left.add(a)
            keep = [a for a in range(A) if a not in left]
            if deadline is not None and keep and time.monotonic() >= deadline:
                for a in keep:
                    done[rows[a]] = finish(a, "time")
                keep = []
            if not keep:
                break
            if left:
                select(keep)
                row_limit = row_limit[torch.tensor(keep, device=dev)]
            drafted = None
            if self.lookup is not None and len(keep) == 1 and isinstance(stepper, LeanStepper):
                drafting = drafting or _Drafting(self.lookup, stepper, seqs[rows[0] // reps])
                drafted = drafting.next_logits(hist[0, :t], int(row_limit[0]))
            logits = stepper.step(hist[: len(keep), t - 1]) if drafted is None else drafted  # (A, V)
        return done  # type: ignore[return-value]

    def score(self, prompts: Sequence[str], continuations: Sequence[str]) -> list[float]:
        """Sum of log p(continuation tokens | BOS + prompt), one batched forward pass."""
        if len(prompts) != len(continuations):
            raise BadInput(f"score got {len(prompts)} prompts but {len(continuations)} continuations")
        if not prompts:
            return []
        p_ids, c_ids = self._encode(list(prompts)), self._encode(list(continuations))
        seqs = [self._with_bos(p) + c for p, c in zip(p_ids, c_ids)]
        starts = [len(self._with_bos(p)) for p in p_ids]
        for s, start in zip(seqs, starts):
            self._check_length(start, "prompt")
            self._check_length(len(s), "prompt + continuation")
        with self._inference():
            return self._sum_logprobs(self._right_padded_logprobs(seqs), seqs, starts)

    def sequence_logprobs(
        self, seqs: Sequence[Sequence[int]], top_logprobs: int = 0
    ) -> list[tuple[list[float | None], list[tuple[tuple[int, float], ...] | None]]]:
        """For each token-id sequence (used as given), log p(token j | tokens before j) for every
        j (None for the first, which nothing predicts) and, when asked, the `top_logprobs` most
        likely (id, logprob) pairs at each position: what an OpenAI `echo` with `logprobs` returns."""
        seqs = [list(s) for s in seqs]
        for s in seqs:
            self._check_length(len(s), "prompt")
        out = []
        with self._inference():
            logp = self._right_padded_logprobs(seqs)  # (B, T, V)
            for i, s in enumerate(seqs):
                rows = logp[i, : len(s) - 1]  # (t-1, V): position j-1 predicts token j
                picked = rows.gather(1, torch.tensor(s[1:], device=logp.device)[:, None]).squeeze(1).tolist()
                tops: list[tuple[tuple[int, float], ...] | None] = [None]
                if top_logprobs:
                    values, ids = rows.topk(min(top_logprobs, rows.size(-1)), dim=-1)  # (t-1, k)
                    tops += [tuple(zip(i_, v_)) for i_, v_ in zip(ids.tolist(), values.tolist())]
                out.append(([None, *picked], tops if top_logprobs else [None] * len(s)))
        return out

    def label_logprobs(self, prompts: Sequence[str], labels: Sequence[str]) -> list[list[float]]:
        """(B, L) log p(label | BOS + prompt) of each full label string, in one forward pass:
        over the B prompts if every label is a single token, else over the B*L prompt+label
        concatenations."""
        if not prompts:
            return []
        if not labels:
            return [[] for _ in prompts]
        p_ids = [self._with_bos(p) for p in self._encode(list(prompts))]
        l_ids = self._encode(list(labels))
        for p in p_ids:
            self._check_length(len(p), "prompt")
        with self._inference():
            if all(len(lab) == 1 for lab in l_ids):
                logp = self._right_padded_logprobs(p_ids)  # (B, T, V)
                last = torch.tensor([len(p) - 1 for p in p_ids], device=logp.device)
                first = logp[torch.arange(len(p_ids), device=logp.device), last]  # (B, V)
                cols = torch.tensor([lab[0] for lab in l_ids], device=logp.device)
                return first[:, cols].tolist()  # (B, L)
            seqs = [p + lab for p in p_ids for lab in l_ids]  # (B*L) sequences
            for s in seqs:
                self._check_length(len(s), "prompt + label")
            starts = [len(p) for p in p_ids for _ in l_ids]
            flat = self._sum_logprobs(self._right_padded_logprobs(seqs), seqs, starts)
        L = len(l_ids)
        return [flat[b * L : (b + 1) * L] for b in range(len(p_ids))]
