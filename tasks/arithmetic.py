"""Arithmetic: the GPT-3 paper's arithmetic problems (Brown et al. 2020, section 3.9.1), answered
with a written-out scratchpad the task checks line by line.

Categories, drawn as the paper draws them: nD+ and nD- for n = 2..5 (two integers uniform in
[0, 10^n); a difference may be negative), 2Dx (two integers uniform in [0, 100)) and 1DC (three
one-digit numbers, two operations from + - *, parentheses around two of the numbers). A problem is
typed as an expression ('98 + 45', '45 - 98', '12 * 34', '(2 * 3) + 4') or as the paper asks it
('What is 98 plus 45?', 'Q: What is 12 times 34? A:').

The scratchpad (the cot response) has one line per column, read right to left, each a small fact
about one-digit numbers with the carry or borrow of the line before; the other lines are
bookkeeping:

    Input: 98 + 45            Input: 45 - 98              Input: (2 * 3) + 4
    Steps:                    Steps:                      Steps:
    8 + 5 + 0 = 13            45 - 98 = -(98 - 45)        2 * 3 + 0 = 6 + 0 = 6
    9 + 4 + 1 = 14            8 - 5 - 0 = 3               2 * 3 = 6
    Answer: 143               9 - 4 - 0 = 5               (2 * 3) + 4 = 6 + 4
                              Answer: -53                 6 + 4 + 0 = 10
                                                          Answer: 10
    Input: 12 * 34
    Steps:
    2 * 4 + 0 = 8 + 0 = 8
    1 * 4 + 0 = 4 + 0 = 4
    12 * 4 = 48
    2 * 3 + 0 = 6 + 0 = 6
    1 * 3 + 0 = 3 + 0 = 3
    12 * 30 = 360
    8 + 0 + 0 = 8
    4 + 6 + 0 = 10
    0 + 3 + 1 = 4
    Answer: 408

An addition column adds the two digits and the carry (the tens digit of the line before says it);
a subtraction column subtracts the digit and the borrow from the digit on top, and a negative result
(`3 - 8 - 1 = -6`) borrows: the column's digit is 4 and the next column subtracts 1. A product
multiplies one digit of the first number by one of the second, then adds the carry (`7 * 8 + 5 =
56 + 5 = 61`), then a line says the partial product those lines make, shifted to its place, and the
partials are added in columns. A composite works its parentheses first, says the expression that
is left (`(2 - 9) * 3 = -7 * 3`) and a sign rule when a number is negative (`-7 * 3 = -(7 * 3)`),
then works that. The model never decides a borrow or a carry before it has written what it
depends on. Splits are generated with a fixed seed, per category: test, val, then train from one
stream, no problem twice (in any split or category).
"""

from __future__ import annotations

import random
import re
from collections.abc import Generator, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Any, Union

from reasoning.errors import BadInput
from reasoning.protocols import Problem

SEED = 3
CATEGORIES = ("2D+", "3D+", "4D+", "5D+", "2D-", "3D-", "4D-", "5D-", "2Dx", "1DC")
SIZES = {"test": 200, "val": 50, "train": 3000}  # per category, generated in this order
MAX_DIGITS = 10  # of an operand of + and - (the paper goes to 5)
OPS = {"+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b}
_WORDS = {"plus": "+", "minus": "-", "times": "*"}
_TOKEN = re.compile(r"\s*(\d+|[-+*()]|\S)")
_ANSWER = re.compile(r"\s*-?\d+\s*")

Expr = Union[int, tuple[str, "Expr", "Expr"]]  # a number, or (op, left, right)


def value(expr: Expr) -> int:
    if isinstance(expr, int):
        return expr
    op, left, right = expr
    return OPS[op](value(left), value(right))


def show(expr: Expr, top: bool = True) -> str:
    """Canonical text: '98 + 45', '(2 * 3) + 4'."""
    if isinstance(expr, int):
        return str(expr)
    text = f"{show(expr[1], False)} {expr[0]} {show(expr[2], False)}"
    return text if top else f"({text})"


def category(expr: Expr) -> str:
    op, left, right = expr  # type: ignore[misc]
    if not isinstance(left, int) or not isinstance(right, int):
        return "1DC"
    return "2Dx" if op == "*" else f"{max(len(str(left)), len(str(right)))}D{op}"


def _question(text: str) -> str:
    """The expression in 'Q: What is 98 plus 45? A:' (or the text itself)."""
    text = re.sub(r"^\s*(?:q|question)\s*:\s*", "", text, flags=re.I)
    text = re.sub(r"\s*(?:a|answer)\s*:\s*$", "", text, flags=re.I)
    text = re.sub(r"^\s*what\s+is\s+", "", text, flags=re.I)
    text = re.sub(r"\s*[?=]\s*$", "", text)
    return re.sub(r"\b(plus|minus|times)\b", lambda m: _WORDS[m.group(1).lower()], text, flags=re.I)


def parse_expr(text: str) -> Expr:
    """The problem in user text (an expression or the paper's question); BadInput if it is not one
    of the categories' shapes: `a op b`, or three one-digit numbers with one pair in parentheses."""
    example = "such as '98 + 45', '12 * 34', '(2 * 3) + 4' or 'What is 98 plus 45?'"
    tokens = _TOKEN.findall(_question(text))
    pos = 0

    def take(kind: str) -> str:
        nonlocal pos
        if pos >= len(tokens) or not (tokens[pos].isdigit() if kind == "number" else tokens[pos] == kind):
            got = repr(tokens[pos]) if pos < len(tokens) else "the end"
            raise BadInput(f"an arithmetic problem is an expression {example}; expected {kind}, got {got} in {text!r}")
        pos += 1
        return tokens[pos - 1]

    def op_() -> str:
        nonlocal pos
        if pos < len(tokens) and tokens[pos] in OPS:
            pos += 1
            return tokens[pos - 1]
        got = repr(tokens[pos]) if pos < len(tokens) else "the end"
        raise BadInput(f"an arithmetic problem is an expression {example}; expected + - or *, got {got} in {text!r}")

    def atom() -> Expr:
        if pos < len(tokens) and tokens[pos] == "(":
            take("(")
            left = int(take("number"))
            op = op_()
            right = int(take("number"))
            take(")")
            return (op, left, right)
        return int(take("number"))

    if not tokens:
        raise BadInput(f"an arithmetic problem is an expression {example}; got {text!r}")
    left = atom()
    op = op_()
    right = atom()
    if pos != len(tokens):
        raise BadInput(f"an arithmetic problem has two numbers, or three one-digit numbers, {example}; got {text!r}")
    expr: Expr = (op, left, right)
    numbers = _numbers(expr)
    if isinstance(left, tuple) and isinstance(right, tuple):
        raise BadInput(f"a composite problem has three one-digit numbers, {example}; got {text!r}")
    if len(numbers) == 3 and max(numbers) > 9:
        raise BadInput(f"a composite problem (1DC) takes one-digit numbers, {example}; got {text!r}")
    if len(numbers) == 2 and op == "*" and max(numbers) > 99:
        raise BadInput(f"multiplication (2Dx) takes numbers of at most two digits; got {text!r}")
    if len(numbers) == 2 and max(len(str(n)) for n in numbers) > MAX_DIGITS:
        raise BadInput(f"addition and subtraction take numbers of at most {MAX_DIGITS} digits; got {text!r}")
    return expr


def _numbers(expr: Expr) -> list[int]:
    return [expr] if isinstance(expr, int) else [*_numbers(expr[1]), *_numbers(expr[2])]


# -- the scratchpad: each line's options, replayed over what was written ----------------------------
# A walk yields, for each line, (options, correct): every line the scratchpad allows there (line ->
# the value it states) and the right one given the lines written before; it is sent the value of
# the line chosen and returns the answer those lines give.
Walk = Generator[tuple[Mapping[str, Any], str], Any, int]


def _digits(n: int, width: int) -> list[int]:
    """The digits of n from the right, padded with zeros to width."""
    return [int(d) for d in str(n).zfill(width)[::-1]]


def _number(carry: int, digits: list[int]) -> int:
    """The number column lines make: the last carry, then their digits (written right to left)."""
    return int(f"{carry or ''}{''.join(map(str, reversed(digits)))}")


def _add(a: int, b: int) -> Walk:
    width = max(len(str(a)), len(str(b)))
    carry, out = 0, []
    for x, y in zip(_digits(a, width), _digits(b, width)):
        options = {f"{x} + {y} + {carry} = {s}": s for s in range(20)}
        s = yield options, f"{x} + {y} + {carry} = {x + y + carry}"
        out.append(s % 10)
        carry = s // 10
    return _number(carry, out)


def _said(line: str) -> Walk:
    """A line of bookkeeping: the only line allowed at its place."""
    yield {line: None}, line
    return 0


def _sub(a: int, b: int) -> Walk:
    sign = 1
    if a < b:
        yield from _said(f"{a} - {b} = -({b} - {a})")
        a, b, sign = b, a, -1
    width = len(str(a))
    borrow, out = 0, []
    for x, y in zip(_digits(a, width), _digits(b, width)):
        options = {f"{x} - {y} - {borrow} = {r}": r for r in range(-10, 10)}
        r = yield options, f"{x} - {y} - {borrow} = {x - y - borrow}"
        out.append(r % 10)
        borrow = int(r < 0)
    return sign * int("".join(map(str, reversed(out))))


@dataclass(frozen=True)
class _Products(Mapping[str, int]):
    """The lines `x * d + c = q + c = p` for any product q (0-81) and sum p (0-89), each line to the
    p it says: 7,380 lines, so a lookup reads the line and only iterating writes them all."""

    x: int
    d: int
    carry: int

    def __getitem__(self, line: str) -> int:
        head, mid = f"{self.x} * {self.d} + {self.carry} = ", f" + {self.carry} = "
        q, _, p = line[len(head) :].partition(mid) if line.startswith(head) else ("", "", "")
        if not (_whole(q, 82) and _whole(p, 90)):
            raise KeyError(line)
        return int(p)

    def __iter__(self) -> Iterator[str]:
        return (f"{self.x} * {self.d} + {self.carry} = {q} + {self.carry} = {p}" for q in range(82) for p in range(90))

    def __len__(self) -> int:
        return 82 * 90


def _whole(text: str, below: int) -> bool:
    """text is a whole number written plainly (no sign, no leading zero) and under `below`."""
    return text.isdigit() and str(int(text)) == text and int(text) < below


def _times_digit(a: int, d: int) -> Walk:
    carry, out = 0, []
    for x in _digits(a, len(str(a))):  # the product, then the carry added: two facts, not one
        p = yield _Products(x, d, carry), f"{x} * {d} + {carry} = {x * d} + {carry} = {x * d + carry}"
        out.append(p % 10)
        carry = p // 10
    return _number(carry, out)


def _mul(a: int, b: int) -> Walk:
    partials = []
    for j, d in enumerate(_digits(b, len(str(b)))):
        p = (yield from _times_digit(a, d)) * 10**j
        yield from _said(f"{a} * {d * 10**j} = {p}")
        partials.append(p)
    if len(partials) == 1:
        return partials[0]
    return (yield from _add(*partials))


def _signed(n: int) -> str:
    return f"({n})" if n < 0 else str(n)


def _apply(op: str, a: int, b: int) -> Walk:
    """a op b for whole numbers of either sign, by the column walks on their sizes; a line first
    says the sign rule when one is negative (at most one is: a composite's other side is a digit)."""
    if a >= 0 and b >= 0:
        return (yield from {"+": _add, "-": _sub, "*": _mul}[op](a, b))
    text, m = f"{a} {op} {_signed(b)}", abs(a if a < 0 else b)
    if op == "*":
        yield from _said(f"{text} = -({abs(a)} * {abs(b)})")
        return -(yield from _mul(abs(a), abs(b)))
    if op == "+":
        x = b if a < 0 else a
        yield from _said(f"{text} = {x} - {m}")
        return (yield from _sub(x, m))
    if a < 0:  # -m - b = -(m + b)
        yield from _said(f"{text} = -({m} + {b})")
        return -(yield from _add(m, b))
    yield from _said(f"{text} = {a} + {m}")  # a - (-m) = a + m
    return (yield from _add(a, m))


def _composite(expr: tuple) -> Walk:
    op, left, right = expr
    inner, outer_left = (left, True) if isinstance(left, tuple) else (right, False)
    v = yield from _apply(*inner)
    a, b = (v, right) if outer_left else (left, v)
    yield from _said(f"{show(expr)} = {a} {op} {_signed(b)}")
    return (yield from _apply(op, a, b))


def walk(expr: Expr) -> Walk:
    op, left, right = expr  # type: ignore[misc]
    if isinstance(left, tuple) or isinstance(right, tuple):
        return _composite(expr)  # type: ignore[arg-type]
    return _apply(op, left, right)


def scratchpad(expr: Expr) -> list[str]:
    """The reference scratchpad's lines, up to and with the answer line."""
    steps = walk(expr)
    options, correct = next(steps)
    lines = [correct]
    while True:
        try:
            options, correct = steps.send(options[correct])
        except StopIteration as done:
            return lines + [f"Answer: {done.value}"]
        lines.append(correct)


@dataclass(frozen=True)
class Scratchpad:
    """Grammar of a cot response: each line is one of the scratchpad's lines for its place (the
    right digits, the carry or borrow the line before says, any result), then the answer line those
    lines give, then the blank line that ends it. The bookkeeping is held; every digit sum, borrow,
    partial product and result is still the model's choice."""

    expr: Expr

    def lines(self, done: Sequence[str]) -> Sequence[str] | None:
        steps = walk(self.expr)
        options, _ = next(steps)
        for i, line in enumerate(done):
            if line not in options:
                return None  # written without this grammar: nothing to hold to
            try:
                options, _ = steps.send(options[line])
            except StopIteration as end:
                tail, answer = list(done[i + 1 :]), f"Answer: {end.value}"
                return [answer] if not tail else [""] if tail == [answer] else None
        return list(options)


@dataclass(frozen=True)
class Arithmetic:
    """The arithmetic task. `shots` is the number of fixed worked examples per category for k-shot prompts."""

    name: str = "arithmetic"
    shots: int = 8
    grammar_styles: tuple[str, ...] = ("cot",)

    # -- data --------------------------------------------------------------------------------
    @staticmethod
    def _draw(cat: str, rng: random.Random) -> Expr:
        if cat == "1DC":
            x, y, z = (rng.randrange(10) for _ in range(3))
            op, iop = rng.choice("+-*"), rng.choice("+-*")
            return (op, (iop, x, y), z) if rng.random() < 0.5 else (op, x, (iop, y, z))
        if cat == "2Dx":
            return ("*", rng.randrange(100), rng.randrange(100))
        top = 10 ** int(cat[0])
        return (cat[2], rng.randrange(top), rng.randrange(top))

    @cached_property
    def _splits(self) -> dict[str, list[Problem]]:
        out: dict[str, list[Problem]] = {split: [] for split in SIZES}
        taken: set[str] = set()  # across categories too: 3D+ may draw a 2D+ problem
        for cat in CATEGORIES:
            rng = random.Random(f"{SEED}-{cat}")
            for split, size in SIZES.items():
                got = 0
                while got < size:
                    text = show(self._draw(cat, rng))
                    if text in taken:
                        continue
                    taken.add(text)
                    out[split].append(Problem(id=f"arithmetic-{cat}-{split}-{got}", text=text, meta={"category": cat}))
                    got += 1
        return out

    def problems(self, split: str) -> list[Problem]:
        if split not in ("train", "val", "test", "all"):
            raise BadInput(f"unknown split {split!r}: use train, val, test or all")
        if split == "all":
            return [p for s in ("train", "val", "test") for p in self._splits[s]]
        return list(self._splits[split])

    def parse_problem(self, text: str) -> Problem:
        expr = parse_expr(text)
        canonical = show(expr)
        return Problem(id=f"arithmetic-{canonical.replace(' ', '')}", text=canonical, meta={"category": category(expr)})

    @staticmethod
    @lru_cache(maxsize=4096)
    def expr(text: str) -> Expr:
        return parse_expr(text)

    # -- prompts -----------------------------------------------------------------------------
    @cached_property
    def _shot_problems(self) -> dict[str, list[Problem]]:
        by_cat: dict[str, list[Problem]] = {}
        for p in self._splits["train"]:
            by_cat.setdefault(p.meta["category"], []).append(p)
        return {cat: random.Random(f"{SEED}-shots-{cat}").sample(ps, self.shots) for cat, ps in by_cat.items()}

    @lru_cache(maxsize=256)
    def _shots(self, style: str, k: int, text: str) -> str:
        if k > self.shots:
            raise BadInput(f"at most {self.shots} examples are available, asked for {k}")
        if k == 0:
            return ""
        cat = category(self.expr(text))
        pool = self._shot_problems.get(cat) or self._shot_problems[f"2D{cat[-1]}"]  # e.g. 7D+ takes 2D+ examples
        shots = [p for p in pool if p.text != text][:k]
        return "".join(self._prompt(style, p.text) + self.response(style, p, None) for p in shots)

    @staticmethod
    def _prompt(style: str, text: str) -> str:
        if style == "io":
            return f"Input: {text}\nAnswer: "
        if style == "cot":
            return f"Input: {text}\nSteps:\n"
        raise BadInput(f"the arithmetic task has io and cot prompts, not {style!r}")

    def prompt(self, style: str, problem: Problem, k: int = 0) -> str:
        """io / cot prompt for a problem, after k worked examples of its category."""
        return self._shots(style, k, problem.text) + self._prompt(style, problem.text)

    def stop(self, style: str) -> tuple[str, ...]:
        return ("\n",) if style == "io" else ("\n\n",)

    # -- reference responses (training corpora) ----------------------------------------------
    def response(self, style: str, subject: Problem, rng: Any) -> str:
        """The scratchpad and answer (cot) or the answer alone (io); one per problem."""
        expr = self.expr(subject.text)
        if style == "io":
            return f"{value(expr)}\n"
        if style == "cot":
            return "".join(line + "\n" for line in scratchpad(expr)) + "\n"
        raise BadInput(f"the arithmetic task has io and cot responses, not {style!r}")

    def training_states(self, problem: Problem) -> list:
        return []  # no search role: the corpus has io and cot only

    def grammar(self, style: str, subject: Problem) -> Scratchpad:
        if style != "cot":
            raise BadInput(f"the arithmetic task has a grammar for cot only, not {style!r}")
        return Scratchpad(self.expr(subject.text))

    # -- answers -----------------------------------------------------------------------------
    def answer_pattern(self, problem: Problem) -> str:
        return r"-?[0-9]+"  # every whole number answers the question

    def parse(self, text: str) -> str | None:
        """The number on the 'Answer:' line (or the first line, for io)."""
        for line in text.splitlines():
            if line.startswith("Answer:"):
                return line[len("Answer:") :].strip() or None
        first = text.strip().splitlines()[0].strip() if text.strip() else ""
        return first if _ANSWER.fullmatch(first) else None

    def verify(self, problem: Problem, answer: str | None) -> bool:
        """Exact: the answer is a whole number (digits, an optional minus) equal to the value."""
        return bool(answer) and _ANSWER.fullmatch(answer) is not None and int(answer) == value(self.expr(problem.text))

    def reward(self, problem: Problem, text: str) -> float:
        return 1.0 if self.verify(problem, self.parse(text)) else 0.0

    def mistakes(self, problem: Problem, text: str) -> list[str]:
        """The scratchpad lines of a response that are wrong, each judged given the lines before it
        (a wrong carry is one mistake, not one per later column); [] when every line is right."""
        steps, out = walk(self.expr(problem.text)), []
        options, correct = next(steps)
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        for i, line in enumerate(lines):
            if line not in options:
                return out + [line]  # not a line of this scratchpad: the rest cannot be followed
            if line != correct:
                out.append(line)
            try:
                options, correct = steps.send(options[line])
            except StopIteration as end:
                answer = f"Answer: {end.value}"
                tail = lines[i + 1 :]
                if not tail:
                    return out + ["(no answer line)"]
                return out + ([] if tail[0] == answer else [tail[0]]) + tail[1:]
        return out + ["(unfinished)"]
