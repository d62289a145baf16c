"""`sbl fmt`: canonical, idempotent, comments kept; and parse/format round trips on generated
programs. Invalid (mutated) programs raise only sbl's own error, positioned inside the file."""

from __future__ import annotations

import re
import string
from importlib import resources

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sbl import ir
from sbl.fmt import format_ir, format_source
from sbl.parse import parse
from sbl.source import SblError

from conftest import EXAMPLES

# Every word the grammar reserves (its `NAME.2: /word\b/` terminals), read from the grammar so a
# new keyword cannot slip into the generated names.
_GRAMMAR = resources.files("sbl.grammar").joinpath("sbl.lark").read_text("utf-8")
KEYWORDS = set(re.findall(r"^[A-Z_]+\.2: /(\w+)\\b/", _GRAMMAR, re.MULTILINE))
PROFILE = settings(max_examples=300, deadline=None, derandomize=True,
                   suppress_health_check=[HealthCheck.too_slow])

names = st.text(string.ascii_lowercase + "_", min_size=1, max_size=6).filter(
    lambda n: n not in KEYWORDS)
texts = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\x00"),
                max_size=12)
literals = st.one_of(
    st.integers(0, 10**6).map(ir.Literal),
    st.floats(0, 1e6, allow_nan=False, allow_infinity=False).map(ir.Literal),
    texts.map(ir.Literal), st.sampled_from([True, False, None]).map(ir.Literal))


def _template(parts: list[object]) -> ir.Expr:
    merged: list[object] = []
    for part in parts:  # adjacent text parts are one part after parsing
        if isinstance(part, str) and merged and isinstance(merged[-1], str):
            merged[-1] += part
        elif part != "":
            merged.append(part)
    if not any(not isinstance(p, str) for p in merged):
        return ir.Literal("".join(merged))  # type: ignore[arg-type]
    return ir.Template(tuple(merged))  # type: ignore[arg-type]


def _extend(inner: st.SearchStrategy[ir.Expr]) -> st.SearchStrategy[ir.Expr]:
    ops = st.sampled_from(list(ir.BinaryOp))
    return st.one_of(
        st.builds(ir.Binary, ops, inner, inner),
        st.builds(ir.Unary, st.sampled_from(list(ir.UnaryOp)), inner),
        st.builds(ir.Cond, inner, inner, inner),
        st.builds(ir.Attr, inner, names),
        st.builds(ir.Index, inner, inner),
        st.builds(ir.Slice, inner, st.none() | inner, st.none() | inner),
        st.builds(ir.Range, inner, inner),
        st.lists(inner, max_size=3).map(lambda xs: ir.ListExpr(tuple(xs))),
        st.dictionaries(names, inner, max_size=3).map(
            lambda d: ir.RecordExpr(tuple(ir.Field(k, v) for k, v in d.items()))),
        st.builds(lambda f, a: ir.Call(f, tuple(a)), names, st.lists(inner, max_size=2)),
        st.builds(ir.Comprehension, inner, names, inner, st.none() | inner),
        st.lists(st.one_of(texts, inner), max_size=3).map(_template),
    )


def _no_nested_templates(e: ir.Expr) -> bool:
    """Holes may hold strings and one template level (a second would need a third quote)."""
    for node in ir.walk(e):
        if isinstance(node, ir.Template):
            for part in node.parts:
                if not isinstance(part, str) and any(
                        isinstance(n, ir.Template) for n in ir.walk(part)):
                    inner = [n for n in ir.walk(part) if isinstance(n, ir.Template)]
                    if any(not isinstance(q, str) and any(isinstance(m, ir.Template | ir.Literal)
                           and (isinstance(m, ir.Template) or isinstance(m.value, str))
                           for m in ir.walk(q)) for t in inner for q in t.parts):
                        return False
    return True


exprs = st.recursive(st.one_of(literals, names.map(ir.Name),
                               st.integers(1, 3).map(ir.Prev)), _extend, max_leaves=8).filter(
    _no_nested_templates)


def _stimulus(kind: str, params: dict[str, ir.Expr], after: list[ir.Statement]) -> ir.Stimulus:
    return ir.Stimulus(kind, kind, tuple(ir.Param(k, v) for k, v in params.items()),
                       tuple(after))


# The statements of an `after`: assignments and `if`s with else, else-if chains (an else
# holding one `if`) and empty arms, nested.
statements = st.recursive(
    st.builds(ir.Assign, names, exprs),
    lambda inner: st.builds(
        lambda test, then, otherwise: ir.Branch(test, tuple(then), tuple(otherwise)),
        exprs, st.lists(inner, max_size=2), st.lists(inner, max_size=2)),
    max_leaves=4)
stimuli = st.builds(_stimulus, names, st.dictionaries(names, exprs, max_size=3),
                    st.lists(statements, max_size=2))
constraints = st.lists(st.builds(
    lambda rule, column, count: ir.Constraint(rule, column,
                                              None if rule is ir.Rule.NO_REPEAT else count),
    st.sampled_from(list(ir.Rule)), st.none() | names, st.integers(2, 5)),
    max_size=3, unique_by=lambda c: (c.rule, c.column))
blocks = st.builds(
    lambda name, body, over, order, repeat, cs: ir.Block(name, tuple(body), over, order, repeat,
                                                         constraints=tuple(cs)),
    names, st.lists(stimuli, max_size=3), st.none() | exprs, st.sampled_from(list(ir.Order)),
    st.integers(1, 3), constraints)
decls = st.one_of(st.builds(ir.Shared, names, exprs), st.builds(ir.Let, names, exprs),
                  st.builds(ir.Table, names, exprs))
programs = st.builds(
    lambda title, settings, ds, body: ir.Experiment(title, tuple(settings), tuple(ds),
                                                    tuple(body)),
    texts, st.lists(st.builds(ir.Param, names, exprs), max_size=2), st.lists(decls, max_size=3),
    st.lists(st.one_of(blocks, stimuli), max_size=3))


@PROFILE
@given(programs)
def test_parse_of_format_is_the_program(program: ir.Experiment) -> None:
    text = format_ir(program)
    assert parse(text) == program


@PROFILE
@given(programs)
def test_format_is_idempotent(program: ir.Experiment) -> None:
    once = format_ir(program)
    assert format_source(once) == once


@PROFILE
@given(programs, st.data())
def test_mutated_programs_fail_only_with_sbl_errors(program: ir.Experiment,
                                                   data: st.DataObject) -> None:
    text = format_ir(program)
    cut = data.draw(st.integers(0, len(text)))
    noise = data.draw(st.text(max_size=3))
    drop = data.draw(st.integers(0, 3))
    mutated = text[:cut] + noise + text[cut + drop:]
    try:
        parse(mutated, "m.sbl")
    except SblError as exc:
        lines = mutated.splitlines() or [""]
        for d in exc.diagnostics:
            assert d.span is not None
            assert 1 <= d.span.line <= max(len(lines), 1) + 1, (d, mutated)


def test_examples_are_formatted() -> None:
    for path in EXAMPLES:
        text = path.read_text()
        assert format_source(text, str(path)) == text, f"run: sbl fmt {path}"


def test_comments_are_kept_in_place() -> None:
    source = ('# top\nexperiment "x"  # title\n\n# about score\nshared score = 0  # starts at 0'
              '\n\nblock main {\n  # the choice\n  text {\n    text: "a"  # shown\n  }\n}\n'
              '# the end\n')
    assert format_source(source) == source


def test_a_comment_inside_a_record_stays_on_its_field() -> None:
    source = ('experiment "x"\n\ntable t = for n in 0..2 {\n  a: n  # what a is\n  b: n\n}\n\n'
              'let colors = sample(["a", "b"], 1)  # after the closing bracket\n')
    assert format_source(source) == source


def test_layout_is_canonical() -> None:
    messy = 'experiment "x"\nshared  s=0 block b over [ {a:1} ]{text{text:"v {s}" ,duration:1}}'
    assert format_source(messy) == (
        'experiment "x"\n\nshared s = 0\n\nblock b over [{a: 1}] {\n  text {\n'
        '    text: "v {s}"\n    duration: 1\n  }\n}\n')


def test_strings_a_long_literal_would_change_are_printed_on_one_line() -> None:
    """The dedent of triple-quoted strings drops lines of only spaces, common indentation and
    a last blank line, and three quotes end one: such strings are printed on one line."""
    for title in (" \n", "\n a", "a\n", '\n"""', "one\n  two"):
        text = format_ir(ir.Experiment(title))
        assert parse(text).title == title, text
    assert '"""' in format_ir(ir.Experiment("one\n  two"))  # a long string when it survives
