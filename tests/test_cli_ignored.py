"""An option the chosen mode would ignore is a usage error (exit 2) naming it, never dropped
in silence: `sbl compile --emit ir --cdn`, `sbl simulate --model random --temperature 0.5`,
`sbl export --psych-ds DIR --seed 3`. The same options where they apply still work."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest
from click.testing import CliRunner

from sbl import backends
from sbl.cli import _PAGE_OPTIONS, main
from sbl.participants import registry

from conftest import ROOT

BANDIT = str(ROOT / "examples" / "bandit.sbl")
PEOPLE = str(ROOT / "tests" / "data" / "bandit_people.json")

IGNORED = [
    (["compile", BANDIT, "--emit", "ir", "--cdn"], "--emit ir ignores --cdn"),
    (["compile", BANDIT, "--emit", "ir", "--media", "inline"], "--emit ir ignores --media"),
    (["compile", BANDIT, "--emit", "transcript", "--allow-simulate", "--media", "auto"],
     "--emit transcript ignores --allow-simulate and --media: they apply to html pages"),
    (["simulate", BANDIT, "--model", "random", "--temperature", "0.5"],
     "--model 'random' (random) ignores --temperature"),
    (["simulate", BANDIT, "--model", "scripted:A", "--threads", "2", "--device", "cpu"],
     "ignores --device and --threads"),
    (["simulate", BANDIT, "--model", "openai:http://127.0.0.1:9/v1#m", "--threads", "2"],
     "(openai) ignores --threads"),
    (["simulate", BANDIT, "--model", "smollm2", "--timeout", "5"], "(hf) ignores --timeout"),
    (["score", PEOPLE, "-e", BANDIT, "--model", "smollm2", "--timeout", "5"],
     "(hf) ignores --timeout"),
    (["export", PEOPLE, "--psych-ds", "{tmp}/ds", "--seed", "3"],
     "--psych-ds alone ignores it"),
    (["score", "{tmp}/p101.jsonl", "--model", "smollm2", "-e", BANDIT, "--seed", "2"],
     "is Psych-101 text, which holds what each participant read: --experiment and --seed "
     "have no use with it"),
]


@pytest.mark.parametrize(("args", "said"), IGNORED, ids=lambda a: " ".join(a[:1] + a[2:])
                         if isinstance(a, list) else None)
def test_an_ignored_option_is_a_usage_error(args: list[str], said: str, tmp_path: Path) -> None:
    (tmp_path / "p101.jsonl").write_text('{"text": "You press <<C>>.", "experiment": "x"}\n',
                                         encoding="utf-8")
    result = CliRunner().invoke(main, [a.format(tmp=tmp_path) for a in args])
    assert result.exit_code == 2, result.output
    assert said in result.output
    assert not (tmp_path / "ds").exists()  # refused before anything was written


def test_the_options_still_work_where_they_apply(tmp_path: Path) -> None:
    page = tmp_path / "b.html"
    result = CliRunner().invoke(main, ["compile", BANDIT, "--cdn", "--media", "inline",
                                       "-o", str(page)])
    assert result.exit_code == 0, result.output
    assert "unpkg.com" in page.read_text(encoding="utf-8")
    result = CliRunner().invoke(main, ["compile", BANDIT, "--emit", "ir"])
    assert result.exit_code == 0 and result.output.startswith("{")
    result = CliRunner().invoke(main, ["simulate", BANDIT, "--model", "random", "--seed", "3"])
    assert result.exit_code == 0, result.output


def test_backends_declare_only_options_their_emit_takes() -> None:
    """What a backend declares it acts on is an option of `sbl compile` and of its emit."""
    for backend in backends.REGISTRY.values():
        assert set(backend.options) <= set(_PAGE_OPTIONS), backend.name
        module = __import__(backend.module, fromlist=["emit"])
        assert set(backend.options) <= set(inspect.signature(module.emit).parameters)
    assert backends.get("html").options == _PAGE_OPTIONS


def test_builtin_participants_declare_what_they_use() -> None:
    fields = set(inspect.signature(registry.Options).parameters)
    for kind in registry.BUILTIN:
        assert kind.uses is not None and kind.uses <= fields, kind.name
    assert registry.get_builtin("hf").ignores("timeout")  # type: ignore[union-attr]
    assert not registry.get_builtin("openai").ignores("timeout")  # type: ignore[union-attr]
