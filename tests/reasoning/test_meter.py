from reasoning.meter import Meter
from reasoning.types import Budget, SamplingParams
from tests.fakes import ScriptedModel


def test_meter_charges_calls_and_tokens():
    model = ScriptedModel(reply=lambda prompt, i: "abcd")
    meter = Meter(model, Budget(calls=2))
    out = meter.generate(["xy", "z"], SamplingParams(), n=3)
    assert [len(row) for row in out] == [3, 3]
    usage = meter.usage()
    assert (usage.calls, usage.generated_tokens, usage.prompt_tokens) == (1, 24, 3)
    assert not meter.exhausted()
    meter.score(["a"], ["bc"])
    assert meter.exhausted() and meter.stop_reason() == "calls"


def test_meter_caps_generation_at_the_token_budget():
    model = ScriptedModel(reply=lambda prompt, i: "x" * 100)
    meter = Meter(model, Budget(tokens=30))
    out = meter.generate(["p"], SamplingParams(max_new_tokens=100), n=2)
    assert all(c.tokens == 15 for c in out[0])
    assert meter.stop_reason() == "tokens"


def test_meter_stops_on_seconds():
    ticks = iter([0.0, 5.0, 11.0])
    meter = Meter(ScriptedModel(), Budget(seconds=10), clock=lambda: next(ticks))
    assert not meter.exhausted()
    assert meter.stop_reason() == "seconds"


def test_meter_passes_the_seconds_left_to_the_model():
    ticks = iter([0.0, 4.0, 12.0, 12.0])
    model = ScriptedModel()
    meter = Meter(model, Budget(seconds=10), clock=lambda: next(ticks))
    meter.generate(["p"], SamplingParams(max_seconds=30))  # 4 s used: 6 s left
    meter.generate(["p"], SamplingParams())  # past the budget: nothing left
    assert [params.max_seconds for _, (_, params, _, _) in model.calls] == [6.0, 0.0]
