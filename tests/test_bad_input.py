"""Any bytes in a .sbl file or a CSV give sbl's own error at file:line:col, never a traceback
or a hang."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sbl
from sbl import ir
from sbl.source import SblError


def load_bytes(tmp_path: Path, data: bytes, csv: bytes | None = None) -> SblError | None:
    path = tmp_path / "x.sbl"
    path.write_bytes(data)
    if csv is not None:
        (tmp_path / "t.csv").write_bytes(csv)
    try:
        sbl.load(path)
    except SblError as exc:
        return exc
    return None


@settings(max_examples=300, derandomize=True, deadline=None)
@given(st.binary(max_size=200))
def test_random_bytes(tmp_path_factory: pytest.TempPathFactory, data: bytes) -> None:
    error = load_bytes(tmp_path_factory.mktemp("b"), data)
    assert error is not None  # random bytes are never a valid experiment
    assert all(d.span is not None and d.span.line >= 1 for d in error.diagnostics)


@settings(max_examples=200, derandomize=True, deadline=None)
@given(st.binary(max_size=200))
def test_random_csv(tmp_path_factory: pytest.TempPathFactory, data: bytes) -> None:
    program = b'experiment "x"\ntable t from "t.csv"\nblock b over t {\n  fixation { }\n}\n'
    error = load_bytes(tmp_path_factory.mktemp("c"), program, data)
    if error is not None:
        assert all(d.span is not None for d in error.diagnostics)


@pytest.mark.parametrize("data, message", [
    (b"", "the file is empty"),
    (b'experiment "x"\xff', "not UTF-8"),
    (b'experiment "x"\nlet a = 1\x00', "NUL byte"),
    (b'experiment "x"\nlet a = ' + b"(" * 1000 + b"1" + b")" * 1000, "nested more than"),
    (b'experiment "x"\nlet a = ' + b"[" * 1000, "nested more than"),
])
def test_hostile_files(tmp_path: Path, data: bytes, message: str) -> None:
    error = load_bytes(tmp_path, data)
    assert error is not None and message in str(error.diagnostics[0].message)


def test_ten_megabytes(tmp_path: Path) -> None:
    line = b'let x = "' + b"a" * 98 + b'"\n'
    error = load_bytes(tmp_path, b'experiment "x"\n' + line * (10 * 1024 * 1024 // len(line)))
    assert error is not None and "already declared" in error.diagnostics[0].message


@pytest.mark.parametrize("csv, message, line", [
    (b"word,color\nRED,red\nGREEN\n", "this row has 1 cell but the header has 2", 3),
    (b"", "the CSV file is empty", 1),
    (b"word,word\nA,B\n", "appears twice", 1),
    (b"my word,color\nA,B\n", "not a name sbl can use", 1),
    (b"word\n\xff\n", "not UTF-8", 2),
])
def test_bad_csv_points_into_the_csv(tmp_path: Path, csv: bytes, message: str,
                                      line: int) -> None:
    program = b'experiment "x"\ntable t from "t.csv"\n'
    error = load_bytes(tmp_path, program, csv)
    assert error is not None
    diagnostic = error.diagnostics[0]
    assert message in diagnostic.message
    assert diagnostic.span is not None and diagnostic.span.path.endswith("t.csv")
    assert diagnostic.span.line == line


def test_csv_cells_are_typed(tmp_path: Path) -> None:
    (tmp_path / "t.csv").write_text("n,f,b,s\n1,2.5,true,hello\n")
    (tmp_path / "x.sbl").write_text('experiment "x"\ntable t from "t.csv"\n')
    table = sbl.load(tmp_path / "x.sbl").ir.tables[0]
    assert table.columns == ("n", "f", "b", "s")
    assert isinstance(table.rows, ir.TableData)
    assert table.rows.records() == [{"n": 1, "f": 2.5, "b": True, "s": "hello"}]
