"""Issue 13, item 3: limits instead of crashes. Deep expressions end in a positioned error
from every command (not RecursionError), the same depth limit holds in expr.js, and values
that double without end stop at the size limit with an error at the expression."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

import sbl
from sbl import ir
from sbl.cli import main
from sbl.limits import MAX_DEPTH, check_depth
from sbl.parse import parse_expr
from sbl.source import SblError

from conftest import ROOT

EXPR_JS = ROOT / "sbl" / "backends" / "web" / "expr.js"

DEEP = {  # the adversarial run's cases
    "600 chained +": "1" + " + 1" * 600,
    "5,000 unary -": "-" * 5000 + "1",
    "5,000 not": "not " * 5000 + "true",
    "3,000 ^": "2 ^ " * 3000 + "1",
    "3,000 nested if": "if true then " * 3000 + "1" + " else 2" * 3000,
    "101 nested calls": "abs(" * 101 + "1" + ")" * 101,
    "101 nested lists": "[" * 101 + "1" + "]" * 101,
}


@pytest.mark.parametrize("name", list(DEEP))
@pytest.mark.parametrize("command", [["check"], ["compile", "--emit", "ir"], ["fmt"]])
def test_deep_expressions_are_positioned_errors(tmp_path: Path, name: str,
                                                command: list[str]) -> None:
    path = tmp_path / "deep.sbl"
    path.write_text(f'experiment "x"\nlet a = {DEEP[name]}\n')
    result = CliRunner().invoke(main, [*command, str(path)])
    assert result.exit_code == 1, result.output
    assert "internal error" not in result.output
    assert "deep.sbl:2:" in result.output and "nest" in result.output, result.output


def nested(depth: int) -> str:
    return "-" * (depth - 1) + "x"


def test_the_limit_is_exact() -> None:
    check_depth(parse_expr(nested(MAX_DEPTH)))
    with pytest.raises(SblError, match=f"expressions nest at most {MAX_DEPTH} deep"):
        parse_expr(nested(MAX_DEPTH + 1))


def test_as_deep_as_allowed_runs_everywhere(tmp_path: Path) -> None:
    """Depth MAX_DEPTH passes check, compiles, formats and evaluates in a text run."""
    path = tmp_path / "ok.sbl"
    path.write_text(f'experiment "x"\nlet x = 1\nlet a = {"1 + " * (MAX_DEPTH - 1)}x\n'
                    'text { text: "{a}" choices: ["f"] }\n')
    for command in (["check"], ["compile", "-o", str(tmp_path / "ok.html")], ["fmt"]):
        result = CliRunner().invoke(main, [*command, str(path)])
        assert result.exit_code == 0, result.output
    rows = sbl.load(path).run(sbl.participants.Random())
    assert rows[0]["text"] == str(MAX_DEPTH)


def node() -> str:
    found = shutil.which("node")
    if found is None:
        pytest.skip("node is not installed")
    return found


def test_expr_js_checks_the_same_depth(tmp_path: Path) -> None:
    """IR made by hand, one level too deep, is refused by expr.js before it evaluates, with
    Python's message and the span of the node that is too deep."""
    ok = ir.to_data(parse_expr(nested(MAX_DEPTH), "e.sbl"))
    deep = ir.to_data(ir.Unary(ir.UnaryOp.NEG, parse_expr(nested(MAX_DEPTH), "e.sbl"),
                               span=ir.Span("e.sbl", 1, 1, 1, 2)))
    with pytest.raises(SblError) as python:
        check_depth(ir.from_data(deep))
    script = tmp_path / "depth.js"
    script.write_text(
        "const E = require(process.argv[2]);\n"
        "const out = {max: E.MAX_DEPTH};\n"
        "for (const [name, expr] of Object.entries(JSON.parse(process.argv[3]))) {\n"
        "  try { E.checkDepth(expr); out[name] = 'ok'; }\n"
        "  catch (e) { out[name] = {message: e.message, span: e.span, name: e.name}; }\n"
        "}\n"
        "console.log(JSON.stringify(out));\n")
    done = subprocess.run([node(), str(script), str(EXPR_JS),
                           json.dumps({"ok": ok, "deep": deep})],
                          capture_output=True, text=True, check=True)
    js = json.loads(done.stdout)
    assert js["max"] == MAX_DEPTH and js["ok"] == "ok"
    diagnostic = python.value.diagnostics[0]
    assert js["deep"]["name"] == "EvalError"
    assert js["deep"]["message"] == diagnostic.message
    span = diagnostic.span
    assert span is not None
    assert js["deep"]["span"] == [span.path, span.line, span.col, span.end_line, span.end_col]


def test_a_string_doubled_every_trial_stops_at_the_limit(tmp_path: Path) -> None:
    """The adversarial run's memory bomb: a shared string doubled 39 times."""
    path = tmp_path / "double.sbl"
    path.write_text('experiment "x"\nshared s = "ab"\n'
                    'loop l max 39 until false {\n'
                    '  text { text: "x" choices: ["f"] after { s = s + s } }\n}\n')
    result = CliRunner().invoke(main, ["run", str(path), "-p", "random"])
    assert result.exit_code == 1, result.output
    assert "double.sbl:4:" in result.output
    assert "'+' would make a string longer than 1000000 characters" in result.output
