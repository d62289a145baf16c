"""The participant registry: one place that `sbl run -p`, `sbl simulate --model`, `sbl score
--model` and the API resolve a participant spec, open to types other packages install."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

import sbl
from sbl.cli import main
from sbl.participants import Options, make, registry
from sbl.participants.random import RandomResponder
from sbl.participants.scripted import Scripted
from sbl.source import SblError

from conftest import ROOT

BANDIT = str(ROOT / "examples" / "bandit.sbl")

# A participant type another package adds: one module and one entry point, nothing in sbl.
PLUGIN = '''
from sbl.participants import ParticipantType
from sbl.protocol import Answer, ResponseLogprobs


class Last:
    """Always the last valid option; scores each response at -0.5 nats per character."""

    name = "last"

    def answer(self, asks):
        return [Answer(ask.options[-1] if ask.options else "none") for ask in asks]

    def finish(self, participant, transcript):
        pass

    def response_logprobs(self, text, spans):
        return ResponseLogprobs(tuple(e - s for s, e in spans),
                                tuple(-0.5 * (e - s) for s, e in spans), len(text.split()))


PARTICIPANT = ParticipantType("last", lambda argument, options: Last(),
                              "always the last valid option", scores=True)
'''


@pytest.fixture
def plugin(tmp_path: Path) -> Path:
    """A folder holding the plugin's module and its installed metadata (an entry point in
    the group ``sbl.participants``), as ``pip install`` would leave them."""
    folder = tmp_path / "site"
    (folder / "last_participant-0.1.dist-info").mkdir(parents=True)
    (folder / "last_participant.py").write_text(PLUGIN)
    (folder / "last_participant-0.1.dist-info" / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: last-participant\nVersion: 0.1\n")
    (folder / "last_participant-0.1.dist-info" / "entry_points.txt").write_text(
        "[sbl.participants]\nlast = last_participant:PARTICIPANT\n")
    return folder


def sbl_cli(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": f"{folder}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    return subprocess.run([sys.executable, "-m", "sbl", *args], capture_output=True, text=True,
                          env=env, timeout=120, check=False)


def test_a_participant_from_an_installed_module_runs_and_simulates(plugin, tmp_path):
    run = sbl_cli(plugin, "run", BANDIT, "-p", "last", "-o", str(tmp_path / "run.csv"))
    assert run.returncode == 0, run.stderr
    sim = sbl_cli(plugin, "simulate", BANDIT, "--model", "last", "-n", "2",
                  "-o", str(tmp_path / "sim.csv"))
    assert sim.returncode == 0, sim.stderr
    rows = sbl.read_data(tmp_path / "sim.csv")
    assert rows.participants == ["1", "2"] and len(rows) > 2
    assert {r["source"] for r in rows} == {"last"}
    helped = sbl_cli(plugin, "run", "--help")
    assert "installed: last" in helped.stdout


def test_an_installed_scorer_scores_through_the_protocol(plugin, tmp_path):
    data = tmp_path / "run.csv"
    assert sbl_cli(plugin, "run", BANDIT, "-p", "random", "-o", str(data)).returncode == 0
    scored = sbl_cli(plugin, "score", str(data), "-e", BANDIT, "--model", "last")
    assert scored.returncode == 0, scored.stderr
    assert "under last" in scored.stdout and "pseudo-R²" in scored.stdout


@pytest.mark.parametrize(("command", "option", "value", "message"), [
    ("run", "-p", "rnadom", "unknown participant 'rnadom' (did you mean 'random'?)"),
    ("simulate", "--model", "centuar", "unknown participant 'centuar' (did you mean 'centaur'?)"),
    ("run", "-p", "terminal:x", "participant 'terminal' takes no argument"),
    ("run", "-p", "scripted", "participant 'scripted' needs an argument (write "
                              "scripted:RESPONSES)"),
    ("score", "--model", "random", "participant 'random' cannot score: it gives no "
                                   "log-probabilities"),
])
def test_a_bad_participant_is_a_usage_error(tmp_path, command, option, value, message):
    data = tmp_path / "d.csv"
    data.write_text("participant,trial\n")
    first = str(data) if command == "score" else BANDIT
    result = CliRunner().invoke(main, [command, first, option, value])
    assert result.exit_code == 2, result.output
    assert message in " ".join(result.output.split())


def test_help_lists_every_registered_participant():
    for command in ("run", "simulate", "score"):
        text = " ".join(CliRunner().invoke(main, [command, "--help"]).output.split())
        for name in ("terminal", "random[:SEED]", "scripted:RESPONSES", "hf:MODEL",
                     "openai:URL#MODEL"):
            assert name in text, (command, name)


def test_specs_resolve_to_types():
    assert registry.resolve("random:7") == (registry.get("random"), "7")
    assert registry.resolve("smollm2")[0].name == "hf"
    assert registry.resolve("owner/model")[0].name == "hf"
    assert registry.resolve("hf:centaur") == (registry.get("hf"), "centaur")
    assert registry.resolve("openai:http://h:8000/v1#m") == (registry.get("openai"),
                                                            "http://h:8000/v1#m")
    assert registry.resolve(str(ROOT))[0].name == "hf"  # an existing directory
    assert isinstance(make("random:5"), RandomResponder) and make("random:5").seed == 5
    assert make("random", Options(seed=9)).seed == 9
    assert isinstance(make("scripted:C,A"), Scripted)
    with pytest.raises(SblError, match="whole number"):
        make("random:x")


def test_the_api_takes_the_same_specs(tmp_path):
    exp = sbl.load(BANDIT)
    by_spec = exp.run("random:3", seed=2)
    by_object = exp.run(RandomResponder(3), seed=2)
    assert list(by_spec) == list(by_object)
    simulated = exp.simulate("random:3", participants=2, seed=2)
    assert simulated.participants == ["1", "2"]
    with pytest.raises(SblError, match="participant 'random' cannot score"):
        sbl.score(by_spec, "random", exp)
    with pytest.raises(SblError, match="participant 'scripted' cannot score"):
        sbl.score(by_spec, Scripted(["C"]), exp)


def test_a_broken_entry_point_is_named(tmp_path, monkeypatch):
    (tmp_path / "bad_participant.py").write_text("PARTICIPANT = 42\n")
    info = tmp_path / "bad_participant-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: bad-participant\n"
                                   "Version: 0.1\n")
    (info / "entry_points.txt").write_text(textwrap.dedent("""\
        [sbl.participants]
        bad = bad_participant:PARTICIPANT
        """))
    monkeypatch.syspath_prepend(str(tmp_path))
    registry._installed.cache_clear()
    try:
        assert "bad" in registry.names()
        with pytest.raises(SblError, match="is not a ParticipantType called 'bad'"):
            make("bad")
    finally:
        registry._installed.cache_clear()
