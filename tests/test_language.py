"""The front end: golden IR for every example, JSON round trips, the grammar's corners."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

import sbl
from sbl import ir, kinds
from sbl.evaluate import Scope, evaluate
from sbl.parse import parse, parse_expr
from sbl.source import SblError

from conftest import EXAMPLES, ROOT


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_golden_ir(path: Path, golden, monkeypatch) -> None:
    monkeypatch.chdir(ROOT)
    experiment = sbl.load(path.relative_to(ROOT))
    golden(ROOT / "tests" / "golden" / "ir" / f"{path.stem}.json", experiment.to_json() + "\n")


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_json_round_trip(path: Path) -> None:
    experiment = sbl.load(path).ir
    back = ir.from_json(ir.to_json(experiment))
    assert back == experiment
    # spans survive too, so the browser can report file:line:col
    assert [n.span for n in ir.walk(back)] == [n.span for n in ir.walk(experiment)]


def test_ir_version_is_checked() -> None:
    with pytest.raises(ValueError, match="unsupported IR version 5; expected one of 1, 2, 3, 4"):
        ir.from_json('{"sbl-ir": 5, "experiment": {}}')


def test_version_1_ir_still_reads(monkeypatch) -> None:
    """IR written before custom data fields and condition columns (tests/data/stroop_ir_v1.json,
    the stroop golden of IR version 1) reads as the same experiment with neither."""
    monkeypatch.chdir(ROOT)
    old = ir.from_json((ROOT / "tests" / "data" / "stroop_ir_v1.json").read_text())
    now = sbl.load("examples/stroop.sbl").ir
    assert now.body[1].columns == ("word", "color")  # type: ignore[union-attr]
    cleared = [dataclasses.replace(b, columns=()) if isinstance(b, ir.Block) else b
               for b in now.body]
    # version 1 wrote a CSV table as a list of record expressions; version 2 as plain data
    (old_table,), (table,) = old.decls, now.decls
    assert isinstance(old_table, ir.Table) and isinstance(table, ir.Table)
    assert isinstance(table.rows, ir.TableData)
    assert evaluate(old_table.rows, Scope({})) == table.rows.records()
    assert old == dataclasses.replace(now, body=tuple(cleared),
                                      decls=(dataclasses.replace(table, rows=old_table.rows),))


def test_spans_are_not_part_of_equality() -> None:
    a = parse_expr("1 +   2")
    b = parse_expr("1 + 2")
    assert a == b and a.span != b.span
    assert hash(a) == hash(b) and "span" not in repr(a)


def test_bandit_ir_has_the_tutorials_shape() -> None:
    e = sbl.load(ROOT / "examples" / "bandit.sbl").ir
    assert e.title == "Two-armed bandit"
    assert [s.name for s in e.shared] == ["score"]
    assert [s.id for s in ir.stimuli(e.body)] == ["instructions", "main/bandit", "main/text"]
    bandit = next(s for s in ir.stimuli(e.body) if s.kind == "bandit")
    assert bandit.after == (ir.Assign("score", ir.Binary(ir.BinaryOp.ADD, ir.Name("score"),
                                                          ir.Name("value"))),)


@pytest.mark.parametrize("text", ["blockfoo { }", "sharedx { }", "tablet { }"])
def test_keywords_need_a_word_boundary(text: str) -> None:
    # `blockfoo {` is a stimulus of an unknown kind, never `block foo {`
    e = parse(f'experiment "x"\n{text}\n')
    assert isinstance(e.body[0], ir.Stimulus) and e.body[0].kind == text.split()[0]


def test_names_may_start_with_keywords() -> None:
    e = parse_expr("prevalence + iffy + notable + order_by")
    assert {n.name for n in ir.walk(e) if isinstance(n, ir.Name)} == {
        "prevalence", "iffy", "notable", "order_by"}


def test_precedence_and_associativity() -> None:
    assert parse_expr("1 + 2 * 3") == parse_expr("1 + (2 * 3)")
    assert parse_expr("2 ^ 3 ^ 2") == parse_expr("2 ^ (3 ^ 2)")
    assert parse_expr("-2 ^ 2") == parse_expr("-(2 ^ 2)")
    assert parse_expr("not a and b") == parse_expr("(not a) and b")
    assert parse_expr("a or b and c") == parse_expr("a or (b and c)")
    assert parse_expr("1..2 + 3") == parse_expr("1..(2 + 3)")


def test_interpolation_holes_are_parsed_at_their_place() -> None:
    e = parse('experiment "x"\nlet s = "a {1 + b} c"\n', "f.sbl")
    template = e.decls[0].value
    assert isinstance(template, ir.Template)
    assert template.parts[0] == "a " and template.parts[2] == " c"
    hole = template.parts[1]
    assert isinstance(hole, ir.Binary) and hole.span == ir.Span("f.sbl", 2, 13, 2, 18)


def test_braces_escape_and_long_strings_dedent() -> None:
    e = parse('experiment "x"\nlet s = "{{literal}}"\nlet t = """\n    one\n      two\n  """\n')
    assert e.decls[0].value == ir.Literal("{literal}")
    assert e.decls[1].value == ir.Literal("one\n  two")


def test_block_modifiers() -> None:
    e = parse('experiment "x"\ntable t = [{a: 1}]\n'
              'block b over t shuffle repeat 2 sample 1 if true { text { text: "x" } }\n'
              'loop l until len(trials) > 0 max 3 { text { text: "y" } }\n')
    b, loop = e.body
    assert (b.order, b.repeat, b.sample, b.condition) == (ir.Order.SHUFFLE, 2, 1,
                                                           ir.Literal(True))
    assert loop.max_loops == 3 and loop.until is not None


def test_modifier_given_twice_is_an_error() -> None:
    with pytest.raises(SblError, match="'repeat' is given twice"):
        parse('experiment "x"\nblock b repeat 2 repeat 3 { }\n')


@pytest.mark.parametrize("name", sorted(kinds.all_kinds()))
def test_kind_declarations_are_sound(name: str) -> None:
    kind = kinds.all_kinds()[name]
    assert kind.doc and kind.plugin
    assert kind.example is not None, "every kind declares an [example] for the every-kind tests"
    assert (kind.example.response is None) == (kind.answer.type is kinds.AnswerType.NONE)
    if kind.answer.source is not None:
        assert kind.param(kind.answer.source) is not None
    for field_name, expr in ((d.name, d.expr) for d in kind.data):
        used = {n.name for n in ir.walk(expr) if isinstance(n, ir.Name)}
        known = {p.name for p in kind.params} | {"response", "rt"}
        assert used <= known, (field_name, used - known)


def test_the_experiment_style_is_the_stimulus_style() -> None:
    """stdlib/experiment.toml declares `style` with the type every kind's `style` has."""
    setting = next(p for p in kinds.settings() if p.name == "style")
    kind_style = kinds.get("text").param("style")  # type: ignore[union-attr]
    assert kind_style is not None and setting.type == kind_style.type
