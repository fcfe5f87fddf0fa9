"""`reason solve --show-steps`: the reasoning behind the answer, for a response and for a search."""

import re

from reasoning.cli.render import steps_of
from reasoning.tree import add_child, new_tree
from reasoning.types import Result, Usage
from tasks.game24 import Game24
from tests.conftest import reason_here


def test_steps_are_the_response_that_gives_the_answer():
    parse = Game24().parse
    texts = ("1 + 1 = 2 (left: 2)\nAnswer: 2\n", "6 * 4 = 24 (left: 24)\nAnswer: 6 * 4 = 24\n")
    assert steps_of(Result(answer="6 * 4 = 24", usage=Usage(), trace=texts), parse) == texts[1]
    assert steps_of(Result(answer=None, usage=Usage(), trace=texts), parse) == texts[0]  # none agrees: the first
    assert steps_of(Result(answer=None, usage=Usage()), parse) is None


def test_steps_of_a_search_are_its_path_to_the_answer():
    tree = new_tree("4 6", "4 6")
    add_child(tree, 0, "4 + 6 = 10 (left: 10)", "10", "10", terminal=True, answer=None)
    mid = add_child(tree, 0, "4 * 6 = 24 (left: 24)", "24", "24", terminal=True, answer="4 * 6 = 24")
    assert mid == 2
    result = Result(answer="4 * 6 = 24", usage=Usage(), tree=tree)
    assert steps_of(result, Game24().parse) == "4 * 6 = 24 (left: 24)"
    assert steps_of(Result(answer=None, usage=Usage(), tree=tree), Game24().parse) is None


def test_show_steps_prints_the_chain_of_the_shipped_model():
    done = reason_here("solve", "4 9 10 13", "--strategy", "cot", "--show-steps", check=True)
    steps = [line for line in done.stdout.splitlines() if re.match(r"^\d+ [-+*/] \d+ = [\d/]+ \(left: [\d/ ]+\)$", line)]
    assert len(steps) == 3, done.stdout  # four numbers: three steps, each printed as the model wrote it
    plain = reason_here("solve", "4 9 10 13", "--strategy", "cot", check=True)
    assert not any("(left:" in line for line in plain.stdout.splitlines())
