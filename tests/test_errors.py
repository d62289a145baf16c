"""Error goldens: each tests/errors/<mistake>.sbl with the exact text `sbl check` prints."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from sbl.cli import main
from sbl.experiment import load
from sbl.source import SblError, render_all

ERRORS = Path(__file__).parent / "errors"
CASES = sorted(ERRORS.glob("*.sbl"))


def test_there_are_many_distinct_mistakes() -> None:
    assert len(CASES) >= 20


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.stem)
def test_error_golden(case: Path, golden, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ERRORS.parent.parent)
    relative = os.path.relpath(case, ERRORS.parent.parent)
    with pytest.raises(SblError) as caught:
        load(relative).media_files()  # a missing media file is an error of `sbl check` too
    golden(case.with_suffix(".err"), render_all(caught.value) + "\n")


WARNINGS = sorted((Path(__file__).parent / "warnings").glob("*.sbl"))


@pytest.mark.parametrize("case", WARNINGS, ids=lambda p: p.stem)
def test_warning_golden(case: Path, golden, monkeypatch: pytest.MonkeyPatch) -> None:
    """tests/warnings/<case>.sbl is valid; ``sbl check`` prints <case>.warn and exits 0."""
    monkeypatch.chdir(ERRORS.parent.parent)
    relative = os.path.relpath(case, ERRORS.parent.parent)
    result = CliRunner().invoke(main, ["check", relative])
    assert result.exit_code == 0, result.stderr
    golden(case.with_suffix(".warn"), result.stderr)


def test_check_prints_diagnostics_to_stderr_and_exits_1(monkeypatch) -> None:
    monkeypatch.chdir(ERRORS.parent.parent)
    result = CliRunner().invoke(main, ["check", "tests/errors/kind_typo.sbl"])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith("tests/errors/kind_typo.sbl:3:3: error: unknown stimulus "
                                    "kind 'txet'")
    assert "Traceback" not in result.stderr


def test_every_error_has_a_position_inside_its_file(monkeypatch) -> None:
    monkeypatch.chdir(ERRORS.parent.parent)
    for case in CASES:
        with pytest.raises(SblError) as caught:
            load(os.path.relpath(case, ERRORS.parent.parent)).media_files()
        for diagnostic in caught.value.diagnostics:
            span = diagnostic.span
            assert span is not None, case
            lines = Path(span.path).read_bytes().decode("utf-8", "replace").splitlines() or [""]
            assert 1 <= span.line <= len(lines), (case, span)


def test_an_error_quotes_the_text_it_came_from() -> None:
    """Each span carries its file's text: an error still quotes its own line after another
    text under the same name has been read, and no registry of sources is kept."""
    from sbl import source
    from sbl.experiment import loads

    with pytest.raises(SblError) as first:
        loads('experiment "A"\ntext { text: 1 }\n', "same.sbl")
    with pytest.raises(SblError) as second:
        loads('experiment "B"\n\nfixation { duration: "long" }\n', "same.sbl")
    assert render_all(first.value).splitlines()[2] == "2 | text { text: 1 }"
    assert render_all(second.value).splitlines()[2] == '3 | fixation { duration: "long" }'
    assert not hasattr(source, "SOURCES")
