"""Independent check of arithmetic answers: the problem evaluated by Python (ast), compared with the answer."""
import ast, json, re, sys
from collections import defaultdict
WORDS = {"plus": "+", "minus": "-", "times": "*"}
def truth(text):
    t = text.strip()
    m = re.search(r"What is (.*)\?", t)
    if m:
        t = m.group(1)
        for w, s in WORDS.items(): t = t.replace(f" {w} ", f" {s} ")
    node = ast.parse(t, mode="eval")
    assert all(isinstance(n, (ast.Expression, ast.BinOp, ast.Constant, ast.Add, ast.Sub, ast.Mult, ast.UnaryOp, ast.USub)) for n in ast.walk(node)), t
    return eval(compile(node, "<p>", "eval"))
for path in sys.argv[1:]:
    tally = defaultdict(lambda: [0, 0, 0])
    for line in open(path):
        r = json.loads(line)
        try: ok = r.get("answer") is not None and int(str(r["answer"]).strip()) == truth(r["problem"])
        except ValueError: ok = False
        cat = r.get("problem_category") or r.get("problem_meta", {}).get("category") or "?"
        for k in (cat, "all"):
            t = tally[k]; t[0] += 1; t[1] += bool(r["correct"]); t[2] += ok
        if bool(r["correct"]) != ok: print("DISAGREE", r["problem"], r.get("answer"), r["correct"])
    for k, (n, c, v) in sorted(tally.items()): print(path, k, f"n={n} harness={c} independent={v}")
