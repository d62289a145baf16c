"""A trial's side effects (``after { ... }``): ``if`` statements, the trial's parameters in
scope, and the list builtins ``index`` and ``set`` (docs/language.md, "Side effects")."""

from __future__ import annotations

import pytest

import sbl
from sbl import ir
from sbl.backends.text.transcript import open_transcript
from sbl.evaluate import Scope, evaluate
from sbl.parse import parse, parse_expr
from sbl.participants.scripted import Scripted
from sbl.passes.rows import rt_columns
from sbl.source import SblError

HEAD = 'experiment "x" { instructions: "Press F, J or K." }\n'


def trial(after: str, shared: str = "shared a = 0\nshared b = 0\n", params: str = "") -> str:
    """A program of three text trials (F, J, K) whose after is ``after``."""
    return (f'{HEAD}{shared}block main repeat 3 {{\n  text {{\n    text: "A"\n'
            f'    choices: ["f", "j", "k"]\n{params}    after {{\n{after}\n    }}\n  }}\n}}\n')


def run(text: str, answers: list[str]) -> list[dict]:
    """The rows of the text trials, answered ``answers``."""
    rows = sbl.loads(text, "t.sbl").run(Scripted(answers), seed=1)
    return [r for r in rows if r["kind"] == "text"]


def test_if_else_if_else_is_a_branch_whose_else_holds_the_next_if() -> None:
    after = parse(trial('if response == "f" { a = 1 } else if response == "j" { b = 1 } '
                        'else { a = 2 b = 2 }')).body[0].body[0].after
    f, j = (ir.Binary(ir.BinaryOp.EQ, ir.Name("response"), ir.Literal(k)) for k in "fj")
    one, two = ir.Literal(1), ir.Literal(2)
    assert after == (ir.Branch(f, (ir.Assign("a", one),), (ir.Branch(
        j, (ir.Assign("b", one),), (ir.Assign("a", two), ir.Assign("b", two))),)),)
    assert [a.target for a in ir.assigns(after)] == ["a", "b", "a", "b"]


def test_an_if_runs_the_first_true_arm_and_later_statements_see_it() -> None:
    text = trial('if response == "f" { a = a + 1 } else if response == "j" { b = b + 1 } '
                 'else { a = 0 }\nb = b + a * 10')
    rows = run(text, ["F", "J", "K"])
    assert [(r["a"], r["b"]) for r in rows] == [(1, 10), (1, 21), (0, 21)]


def test_an_if_without_else_and_nested_ifs() -> None:
    text = trial('if response != "k" { if response == "f" { a = a + 1 } b = b + 1 }')
    assert [(r["a"], r["b"]) for r in run(text, ["F", "K", "J"])] == [(1, 1), (1, 1), (1, 2)]


def test_an_after_sees_the_parameters_as_shown_defaults_included() -> None:
    text = (f'{HEAD}shared seq = []\nblock main repeat 3 {{\n  text {{\n'
            f'    text: choice(["B", "C", "D"])\n    choices: ["f", "j"]\n'
            f'    after {{ seq = seq + [text + str(duration)] }}\n  }}\n}}\n')
    rows = run(text, ["F", "J", "F"])
    assert rows[-1]["seq"] == [r["text"] + "none" for r in rows]


def test_the_trials_own_names_come_before_its_parameters_and_columns() -> None:
    # a column named like the parameter is its value: the trial passes the column itself
    text = (f'{HEAD}shared seq = []\nblock main over [{{text: "P"}}, {{text: "Q"}}] {{\n'
            f'  text {{\n    text: text\n    choices: ["f", "j"]\n'
            f'    data {{ rt_shown: response }}\n'
            f'    after {{ seq = seq + [text + rt_shown] }}\n  }}\n}}\n')
    assert run(text, ["F", "J"])[-1]["seq"] == ["Pf", "Qj"]


def test_a_parameter_named_like_a_declaration_is_an_error_only_where_read() -> None:
    shared = "shared duration = 500\nlet choices = 1\n"
    params = "    duration: duration\n"
    assert run(trial("duration = 400", shared, params), ["F", "J", "K"])[-1]["duration"] == 400
    ok = trial("duration = sum([duration for duration in [1, 2]])", shared, params)
    # the comprehension's variable decides; the last trial shows what the first set
    assert run(ok, ["F", "J", "K"])[-1]["duration"] == 3
    with pytest.raises(SblError) as caught:
        sbl.loads(trial("if len(choices) > 1 { duration = duration - 50 }", shared, params),
                  "t.sbl")
    messages = [d.message for d in caught.value.diagnostics]
    assert messages == [
        "'choices' in the 'after' of this text could be its parameter 'choices' or the "
        "constant 'choices'",
        "'duration' in the 'after' of this text could be its parameter 'duration' or the "
        "shared variable 'duration'"]


def test_shared_variables_set_under_an_if_on_rt_are_computed_from_rt() -> None:
    text = trial("if rt != none and rt < 300 { a = 1 } else { b = 2 }\nif response == 'f' "
                 "{ b = 3 }")
    assert rt_columns(sbl.loads(text, "t.sbl").ir)["main/text"] == {"a", "b"}


def test_an_open_transcript_leaves_open_what_an_open_if_sets() -> None:
    text = (f'{HEAD}shared streak = 0\nshared total = 0\nblock main repeat 2 {{\n  text {{\n'
            f'    text: "Streak {{streak}}, total {{total}}"\n    choices: ["f", "j"]\n'
            f'    after {{\n      if response == "f" {{ streak = streak + 1 }}\n'
            f'      if total >= 0 {{ total = total + 1 }}\n    }}\n  }}\n}}\n')
    shown = open_transcript(sbl.loads(text, "t.sbl").ir)
    assert 'You see "Streak 0, total 0"' in shown
    assert 'You see "Streak …, total 1"' in shown


@pytest.mark.parametrize(("expr", "value"), [
    ('index(["a", "b", "a"], "a")', 0), ("index([1, 2], 2.0)", 1), ("index([], 1)", None),
    ("index([{a: 1}, {a: 2}], {a: 2})", 1), ('index([1], "1")', None),
    ("set([1, 2, 3], 0, 9)", [9, 2, 3]), ("set([1, 2, 3], -1, [0])", [1, 2, [0]]),
    ("set(set([0, 0], 0, 1), 1, 2)", [1, 2]),
])
def test_index_and_set(expr: str, value: object) -> None:
    assert evaluate(parse_expr(expr), Scope({}, lambda _: None, None)) == value


@pytest.mark.parametrize(("expr", "message"), [
    ('index("abc", "b")', "index needs a list; got string"),
    ("set([1, 2, 3], 3, 0)", "set cannot replace item 3 of a list of 3"),
    ("set([1, 2, 3], -4, 0)", "set cannot replace item -4 of a list of 3"),
    ("set([1], 0.5, 0)", "set needs a whole number as index; got 0.5"),
    ("set({a: 1}, 0, 0)", "set needs a list; got record"),
])
def test_index_and_set_errors(expr: str, message: str) -> None:
    with pytest.raises(Exception, match=message):
        evaluate(parse_expr(expr), Scope({}, lambda _: None, None))


def test_set_keeps_the_list_the_original_is() -> None:
    xs = [1, 2]
    evaluate(parse_expr("set(xs, 0, 5)"), Scope({"xs": xs}, lambda _: None, None))
    assert xs == [1, 2]
