"""`sbl simulate` and `sbl score` end to end on a tiny model built by the test: rows in the
browser's schema, determinism, resuming after kill -9, the cost summary, and scoring."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

import sbl
from sbl.cli import main
from sbl.data import read_data
from sbl.source import SblError

from conftest import ROOT

BANDIT = str(ROOT / "examples" / "bandit.sbl")


def simulate(*args: str) -> object:
    result = CliRunner().invoke(main, ["simulate", BANDIT, *args])
    assert result.exit_code == 0, result.output + str(result.exception)
    return result


def test_simulate_writes_rows_and_summary(tiny_model_dir: Path, tmp_path: Path) -> None:
    out, summary = tmp_path / "sim.csv", tmp_path / "run.json"
    simulate("--model", str(tiny_model_dir), "-n", "3", "--batch", "2", "-o", str(out),
             "--summary", str(summary))
    rows = read_data(out)
    assert rows.participants == ["1", "2", "3"]
    bandit = [r for r in rows if r["kind"] == "bandit"]
    assert len(bandit) == 33 and all(r["response"] in (0, 1) for r in bandit)
    for p in rows.participants:  # the score carries the running sum of the chosen values
        own = [r for r in rows if r["participant"] == p and r["kind"] == "bandit"]
        assert own[-1]["score"] == sum(r["value"] for r in own)
    cost = json.loads(summary.read_text())
    assert {"participants", "trials", "tokens_processed", "transcript_tokens", "invalid_mass",
            "seconds"} <= set(cost)
    assert cost["participants"] == 3 and cost["trials"] == len(rows)
    # each token of the transcripts is processed once, not once per trial
    assert cost["tokens_processed"] <= 1.05 * cost["transcript_tokens"]
    assert not Path(str(out) + ".progress").exists()


def test_same_seed_same_rows(tiny_model_dir: Path, tmp_path: Path) -> None:
    exp = sbl.load(BANDIT)
    a = exp.simulate(str(tiny_model_dir), participants=2, seed=7, output=tmp_path / "a.csv")
    b = exp.simulate(str(tiny_model_dir), participants=2, seed=7, batch=1)
    assert [r["response"] for r in a] == [r["response"] for r in b]
    assert (tmp_path / "a.csv").read_text().count("\n") == len(a) + 1


def test_prefix_is_replayed_then_the_model_continues(tiny_model_dir: Path,
                                                      tmp_path: Path) -> None:
    exp = sbl.load(BANDIT)
    human = exp.run(sbl.participants.Random(seed=3), seed=3)
    prefix = human.until_response(4)
    rows = exp.simulate(str(tiny_model_dir), prefix=prefix)
    assert [dict(r) for r in rows][:len(prefix)] == [dict(r) for r in prefix]
    assert len(rows) == len(human)
    assert rows[len(prefix)]["source"] != "random"


def test_resume_after_kill_9_gives_the_same_file(tiny_model_dir: Path, tmp_path: Path) -> None:
    args = [sys.executable, "-m", "sbl", "simulate", BANDIT, "--model", str(tiny_model_dir),
            "-n", "6", "--batch", "1", "--seed", "11"]
    whole = tmp_path / "whole.csv"
    subprocess.run(args + ["-o", str(whole)], check=True, capture_output=True)
    cut = tmp_path / "cut.csv"
    progress = Path(str(cut) + ".progress")
    proc = subprocess.Popen(args + ["-o", str(cut)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    # the progress file: the run's settings, then one line per finished participant
    while time.time() < deadline and (not progress.exists() or
                                      len(progress.read_text().splitlines()) < 3):
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert progress.exists(), "the run ended before it could be killed"
    finished = progress.read_text().splitlines()[1:]
    assert 2 <= len(finished) < 6
    refused = subprocess.run(args + ["-o", str(cut)], capture_output=True, text=True)
    assert refused.returncode == 1 and "--resume" in refused.stderr
    subprocess.run(args + ["-o", str(cut), "--resume"], check=True, capture_output=True)
    assert cut.read_text() == whole.read_text()
    assert not progress.exists()


def test_score_human_rows_and_psych101(tiny_model_dir: Path, tmp_path: Path) -> None:
    exp = sbl.load(BANDIT)
    human = exp.run(sbl.participants.Random(seed=5), seed=5, output=tmp_path / "human.csv")
    scores = sbl.score(tmp_path / "human.csv", str(tiny_model_dir), exp)
    result = scores.participants["1"]
    assert len(result.choices) == human.n_responses == 11
    assert all(c.options == 2 and c.nll > 0 for c in result.choices)
    assert scores.pseudo_r2 == pytest.approx(1 - scores.nll / (11 * 0.6931471805599453))
    out = tmp_path / "nll.csv"
    cli = CliRunner().invoke(main, ["score", str(tmp_path / "human.csv"), "--experiment",
                                    BANDIT, "--model", str(tiny_model_dir), "-o", str(out)])
    assert cli.exit_code == 0, cli.output
    assert "11 choices" in cli.output and out.read_text().count("\n") == 12
    psych101 = tmp_path / "p.jsonl"
    psych101.write_text(json.dumps({"text": human.transcripts["1"], "experiment": "bandit",
                                    "participant": "1"}) + "\n")
    again = sbl.score(psych101, str(tiny_model_dir))
    assert again.nll == pytest.approx(scores.nll, rel=1e-5)


def test_score_needs_the_experiment_for_rows(tmp_path: Path) -> None:
    (tmp_path / "r.csv").write_text("participant,trial\n1,x\n")
    result = CliRunner().invoke(main, ["score", str(tmp_path / "r.csv"), "--model", "smollm2"])
    assert result.exit_code == 1


# ---------------------------------------------------------------- issue 13, item 2


class Killed(Exception):
    """Stands in for kill -9: the run stops in the middle of a participant."""


class DiesAt:
    """The random participant, killed when participant ``at`` first asks for an answer."""

    name = "random"

    def __init__(self, at: str | None) -> None:
        from sbl.participants.random import RandomResponder

        self.inner, self.at = RandomResponder(), at

    def answer(self, asks):  # type: ignore[no-untyped-def]
        if any(ask.participant == self.at for ask in asks):
            raise Killed
        return self.inner.answer(asks)

    def finish(self, participant: str, transcript: str) -> None:
        self.inner.finish(participant, transcript)


def interrupted(tmp_path: Path, at: str | None = "3", **kwargs: object) -> Path:
    """sim.csv of a 5-participant run killed when participant ``at`` started."""
    exp, out = sbl.load(BANDIT), tmp_path / "sim.csv"
    with pytest.raises(Killed):
        exp.simulate(DiesAt(at), participants=5, batch=1, seed=3, output=out, **kwargs)
    return out


def resume(out: Path, **kwargs: object) -> sbl.Rows:
    settings = {"participants": 5, "batch": 1, "seed": 3, **kwargs}
    return sbl.load(BANDIT).simulate(DiesAt(None), output=out, resume=True, **settings)


def test_resume_refuses_another_command(tmp_path: Path) -> None:
    out = interrupted(tmp_path)
    for change, message in [({"seed": 4}, "--seed: 3 in the interrupted run, 4 now"),
                            ({"participants": 6}, "-n: 5 in the interrupted run, 6 now"),
                            ({"batch": 2}, "--batch: 1 in the interrupted run, 2 now")]:
        with pytest.raises(SblError, match=message):
            resume(out, **change)
    whole = sbl.load(BANDIT).simulate(DiesAt(None), participants=5, batch=1, seed=3,
                                      output=tmp_path / "whole.csv")
    assert len(resume(out)) == len(whole)
    assert out.read_bytes() == (tmp_path / "whole.csv").read_bytes()


def test_resume_refuses_edited_rows(tmp_path: Path) -> None:
    out = interrupted(tmp_path)
    lines = out.read_text().splitlines(keepends=True)
    lines[30] = lines[30].replace(",main,", ",mian,", 1)  # participant 2's rows
    out.write_text("".join(lines))
    with pytest.raises(SblError, match="the rows of participant 2 in sim.csv"):
        resume(out)


def test_resume_refuses_a_damaged_progress_file(tmp_path: Path) -> None:
    out = interrupted(tmp_path)
    progress = Path(str(out) + ".progress")
    progress.write_text(progress.read_text()[:-30] + "\n")
    with pytest.raises(SblError, match="sim.csv.progress, line 3: the progress file is "
                                       "damaged"):
        resume(out)


def test_killed_before_anyone_finished_starts_over(tmp_path: Path) -> None:
    out = interrupted(tmp_path, at="1")
    assert len(Path(str(out) + ".progress").read_text().splitlines()) == 1
    assert resume(out).participants == ["1", "2", "3", "4", "5"]


def test_resume_is_checked_before_the_model_loads(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from sbl.participants import models

    def load(*args: object, **kwargs: object) -> None:
        raise AssertionError("the model was loaded first")
    monkeypatch.setattr(models, "load", load)
    out = interrupted(tmp_path)
    progress = Path(str(out) + ".progress")
    progress.write_text(progress.read_text().replace('"model": "random"', '"model": "x"'))
    result = CliRunner().invoke(main, ["simulate", BANDIT, "--model", "smollm2", "-n", "5",
                                       "--batch", "1", "--seed", "3", "-o", str(out),
                                       "--resume"])
    assert result.exit_code == 1 and "--model: x in the interrupted run, smollm2 now" in (
        result.output), result.output
