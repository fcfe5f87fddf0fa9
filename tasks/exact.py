"""Exact rational arithmetic for number games: a strict expression parser and solvers.

No eval: expressions are tokenized and parsed by a small recursive-descent parser that knows
only non-negative integer literals, + - * / and parentheses.
"""

from __future__ import annotations

import re
from fractions import Fraction
from functools import lru_cache

_TOKEN = re.compile(r"\s*(?:(\d+)|(.))")

OPS = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": lambda a, b: a / b,
}


class ExprError(ValueError):
    """The text is not a well-formed expression over + - * / and parentheses."""


def tokenize(text: str) -> list[str]:
    tokens = []
    for number, other in _TOKEN.findall(text.strip()):
        if number:
            tokens.append(number)
        elif other in "+-*/()":
            tokens.append(other)
        elif not other.isspace():
            raise ExprError(f"unexpected character {other!r}")
    return tokens


def evaluate(text: str) -> tuple[Fraction, list[int]]:
    """Value of an expression and the integer literals it uses. Raises ExprError
    (also for division by zero)."""
    tokens = tokenize(text)
    pos = 0
    literals: list[int] = []

    def peek() -> str | None:
        return tokens[pos] if pos < len(tokens) else None

    def take() -> str:
        nonlocal pos
        if pos >= len(tokens):
            raise ExprError("expression ends too early")
        pos += 1
        return tokens[pos - 1]

    def expr() -> Fraction:
        value = term()
        while peek() in ("+", "-"):
            value = OPS[take()](value, term())
        return value

    def term() -> Fraction:
        value = atom()
        while peek() in ("*", "/"):
            op = take()
            right = atom()
            if op == "/" and right == 0:
                raise ExprError("division by zero")
            value = OPS[op](value, right)
        return value

    def atom() -> Fraction:
        token = take()
        if token == "(":
            value = expr()
            if take() != ")":
                raise ExprError("missing )")
            return value
        if token.isdigit():
            literals.append(int(token))
            return Fraction(int(token))
        raise ExprError(f"unexpected {token!r}")

    if not tokens:
        raise ExprError("empty expression")
    value = expr()
    if pos != len(tokens):
        raise ExprError(f"unexpected {tokens[pos]!r}")
    return value, literals


def fmt(x: Fraction) -> str:
    return str(x.numerator) if x.denominator == 1 else f"{x.numerator}/{x.denominator}"


@lru_cache(maxsize=1 << 16)  # corpora and searches meet the same few thousand multisets again and again
def steps(numbers: tuple[Fraction, ...]) -> tuple[tuple[Fraction, str, Fraction, Fraction], ...]:
    """Every distinct step (a, op, b, result) on a multiset of numbers. Subtraction keeps
    results non-negative and division never divides by zero; that loses no solution of a
    non-negative target (a negative intermediate can always be traded for its opposite)."""
    out = []
    seen = set()
    for i in range(len(numbers)):
        for j in range(len(numbers)):
            if i == j:
                continue
            a, b = numbers[i], numbers[j]
            for op in "+-*/":
                if op in "+*" and i > j:
                    continue
                if (op == "-" and a < b) or (op == "/" and b == 0):
                    continue
                key = (a, op, b)
                if key in seen:
                    continue
                seen.add(key)
                out.append((a, op, b, OPS[op](a, b)))
    return tuple(out)


def remove_pair(numbers: tuple[Fraction, ...], a: Fraction, b: Fraction) -> tuple[Fraction, ...] | None:
    """numbers without one a and one b, or None if they are not both there."""
    rest = list(numbers)
    for x in (a, b):
        if x not in rest:
            return None
        rest.remove(x)
    return tuple(rest)


@lru_cache(maxsize=None)
def solvable(numbers: tuple[Fraction, ...], target: Fraction = Fraction(24)) -> bool:
    """Whether the sorted multiset `numbers` can reach `target` using each number once."""
    if len(numbers) == 1:
        return numbers[0] == target
    for a, _, b, result in steps(numbers):
        rest = remove_pair(numbers, a, b)
        assert rest is not None
        if solvable(tuple(sorted(rest + (result,))), target):
            return True
    return False


def _exact_div(a: int | Fraction, b: int | Fraction) -> int | Fraction:
    if isinstance(a, int) and isinstance(b, int) and a % b == 0:
        return a // b
    q = Fraction(a) / b
    return q.numerator if q.denominator == 1 else q


def reachable(numbers: tuple[int, ...]) -> set[int | Fraction]:
    """Every value an expression using each of `numbers` once can take (any sign on the way).
    Dynamic programming over subsets, in ints where exact: fast enough to generate problems."""
    n = len(numbers)
    values: dict[int, set[int | Fraction]] = {1 << i: {numbers[i]} for i in range(n)}
    for mask in range(1, 1 << n):
        if mask in values:
            continue
        out: set[int | Fraction] = set()
        sub = (mask - 1) & mask
        while sub:
            other = mask ^ sub
            if sub < other:  # each split once
                for a in values[sub]:
                    for b in values[other]:
                        out.update((a + b, a * b, a - b, b - a))
                        if b:
                            out.add(_exact_div(a, b))
                        if a:
                            out.add(_exact_div(b, a))
            sub = (sub - 1) & mask
        values[mask] = out
    return values[(1 << n) - 1]
