"""torch's CPU threads: the default (every available core with OpenMP waiting passively, one
if it spins, OMP_NUM_THREADS if set) and --threads / threads= in the CLI and the Python API."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from click.testing import CliRunner  # noqa: E402

import sbl  # noqa: E402
from sbl.cli import main  # noqa: E402
from sbl.participants import threads  # noqa: E402

from conftest import ROOT  # noqa: E402

BANDIT = str(ROOT / "examples" / "bandit.sbl")


@pytest.fixture(autouse=True)
def restore_threads():
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


def test_the_default_follows_omp_num_threads_then_the_wait_policy(monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    assert threads.default_threads() == 3
    monkeypatch.delenv("OMP_NUM_THREADS")
    monkeypatch.setenv("OMP_WAIT_POLICY", "PASSIVE")
    assert threads.default_threads() == threads.available_cpus() == len(os.sched_getaffinity(0))
    monkeypatch.setenv("OMP_WAIT_POLICY", "ACTIVE")  # spinning threads: one is safe
    assert threads.default_threads() == 1


def test_loading_a_model_asks_for_passive_waiting_before_torch_starts(tiny_model_dir):
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_NUM_THREADS", "OMP_WAIT_POLICY")}
    probe = ("import json, os, sys; from sbl.participants import models; "
             "assert 'torch' not in sys.modules; models.load(sys.argv[1], device='cpu'); "
             "import torch; from sbl.participants.threads import available_cpus; "
             "print(json.dumps([os.environ.get('OMP_WAIT_POLICY'), torch.get_num_threads(), "
             "available_cpus()]))")
    done = subprocess.run([sys.executable, "-c", probe, str(tiny_model_dir)], env=env,
                          capture_output=True, text=True, check=True, cwd=ROOT)
    policy, count, cpus = json.loads(done.stdout.splitlines()[-1])
    assert policy == "PASSIVE" and count == cpus


@pytest.mark.parametrize("count", [1, 2])
def test_threads_on_the_command_line(tiny_model_dir, tmp_path, count):
    torch.set_num_threads(3)
    rows = tmp_path / "sim.csv"
    result = CliRunner().invoke(main, ["simulate", BANDIT, "--model", str(tiny_model_dir),
                                       "-n", "1", "--threads", str(count), "-o", str(rows)])
    assert result.exit_code == 0, result.output
    assert torch.get_num_threads() == count
    torch.set_num_threads(3)
    scored = CliRunner().invoke(main, ["score", str(rows), "--experiment", BANDIT,
                                       "--model", str(tiny_model_dir), "--threads", str(count)])
    assert scored.exit_code == 0, scored.output
    assert torch.get_num_threads() == count


def test_threads_must_be_positive(tiny_model_dir):
    result = CliRunner().invoke(main, ["simulate", BANDIT, "--model", str(tiny_model_dir),
                                       "--threads", "0"])
    assert result.exit_code == 2 and "--threads" in result.output


def test_threads_in_the_python_api(tiny_model_dir):
    exp = sbl.load(BANDIT)
    torch.set_num_threads(3)
    rows = exp.simulate(str(tiny_model_dir), participants=1, threads=1)
    assert torch.get_num_threads() == 1
    torch.set_num_threads(3)
    sbl.score(rows, str(tiny_model_dir), exp, threads=2)
    assert torch.get_num_threads() == 2
