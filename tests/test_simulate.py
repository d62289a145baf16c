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
    while time.time() < deadline and (not progress.exists() or
                                      len(progress.read_text().split()) < 2):
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert progress.exists(), "the run ended before it could be killed"
    finished = progress.read_text().split()
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
