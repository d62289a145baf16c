"""benchmarks/bench_gpu.py runs end to end; without CUDA, on its tiny config (CI has no GPU)."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from conftest import ROOT

pytest.importorskip("torch")
pytest.importorskip("transformers")


def test_bench_gpu_runs_the_real_participant_path_on_cpu():
    env = dict(os.environ, HF_HUB_OFFLINE="1", OMP_NUM_THREADS="1", CUDA_VISIBLE_DEVICES="")
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_gpu.py"), "--participants", "6",
         "--trials", "8", "--alone", "2"],
        capture_output=True, text=True, env=env, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "model: random tiny Llama on cpu" in out
    assert "tokenizer: the tests' byte-level BPE" in out
    batched = re.search(r"6 participants x 8 trials, batched: ([\d.]+) s wall, ([\d,]+) tokens/s "
                        r"\(([\d,]+) tokens processed\)", out)
    assert batched and float(batched.group(1)) > 0
    assert int(batched.group(3).replace(",", "")) > 6 * 8 * 10  # every trial's text was fed
    assert re.search(r"speed-up of the batch: [\d.]+x", out)
