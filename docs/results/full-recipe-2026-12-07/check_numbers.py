"""Independent check of number-game answers (Game of 24 / Countdown): parse with ast, exact Fractions,
every problem number used exactly once, value = target. Usage: check_numbers.py results.jsonl..."""
import ast, json, sys
from collections import Counter, defaultdict
from fractions import Fraction

def value(node, used):
    if isinstance(node, ast.Expression): return value(node.body, used)
    if isinstance(node, ast.Constant) and isinstance(node.value, int):
        used.append(node.value); return Fraction(node.value)
    if isinstance(node, ast.BinOp) and type(node.op) in (ast.Add, ast.Sub, ast.Mult, ast.Div):
        a, b = value(node.left, used), value(node.right, used)
        if isinstance(node.op, ast.Add): return a + b
        if isinstance(node.op, ast.Sub): return a - b
        if isinstance(node.op, ast.Mult): return a * b
        if b == 0: raise ZeroDivisionError
        return a / b
    raise ValueError(ast.dump(node))

def ok(problem, answer):
    if "->" in problem:
        nums, target = problem.split("->"); target = Fraction(int(target))
    else:
        nums, target = problem, Fraction(24)
    nums = [int(x) for x in nums.split()]
    if not answer: return False
    lhs = answer.split("=")[0]
    try:
        used = []; v = value(ast.parse(lhs.strip(), mode="eval"), used)
    except Exception:
        return False
    return v == target and Counter(used) == Counter(nums)

for path in sys.argv[1:]:
    tally = defaultdict(lambda: [0, 0, 0])
    for line in open(path):
        r = json.loads(line)
        key = (r["strategy"], r.get("budget"))
        t = tally[key]; t[0] += 1; t[1] += bool(r["correct"])
        t[2] += ok(r["problem"], r.get("answer"))
        if r["correct"] and not ok(r["problem"], r.get("answer")):
            print("DISAGREE", r["problem"], r.get("answer"))
    for key, (n, c, v) in tally.items():
        print(path, key, f"n={n} harness={c} independent={v}")
