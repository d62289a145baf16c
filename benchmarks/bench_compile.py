"""Benchmark the web backend on the bandit: compile time, page size, time to the first trial.

    python benchmarks/bench_compile.py [--runs 5] [--sweetbean-python /path/to/venv/bin/python]

* compile: the whole process, as a user runs it: ``sbl compile examples/bandit.sbl -o …``
  when the ``sbl`` command works, else ``python -c`` (import, load, compile, write). Python
  caches bytecode by default (pip compiles it at install), so the target applies to runs with
  the cache warm (kept in a temporary PYTHONPYCACHEPREFIX, even where PYTHONDONTWRITEBYTECODE
  is set); the time with no cache, every module compiled from source, is shown below it;
* where the time goes: interpreter start (``python -c pass``), then stages inside one process;
* page size of the self-contained page;
* first trial visible: from navigation start to the first trial in the DOM, opening the page
  from disk in headless Chromium (a fresh browser context per run);
* SweetBean's ``Experiment.to_html`` on the tutorial's bandit, when ``--sweetbean-python``
  (default: this interpreter) has ``sweetbean`` installed, and the ratio;
* media: an experiment of 200 images of 20 KB each (made by scripts/make_media.py, named in a
  CSV table), compiled with the images inlined and beside the page (``--media beside``):
  the whole ``sbl compile``, the page size, and from disk in Chromium the time until the
  preload screen shows its progress and until the first image trial, every file loaded.

Each measure is printed beside its target; the exit status is 0 either way.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "bandit.sbl"
TARGETS = {"compile_s": 0.3, "size_kb": 700.0, "first_trial_ms": 500.0,
           "media_compile_s": 1.0, "media_first_trial_ms": 1000.0}
MEDIA_IMAGES, MEDIA_SIDE = 200, 82  # 82 x 82 noise pixels: a 20 KB PNG

COMPILE_EXAMPLE = """
import sys
from sbl.experiment import load
from sbl.backends.web import write_page
write_page(load(sys.argv[1]).ir, sys.argv[2])
"""
COMPILE_BY_HAND = """
import sys
sys.path.insert(0, sys.argv[3])
from tests.test_web import bandit_experiment
from sbl.backends.web import write_page
write_page(bandit_experiment(), sys.argv[2])
"""
# Where a compile's time goes, measured inside one fresh process, along the CLI's path.
BREAKDOWN = """
import json, sys, time
t0 = time.perf_counter()
import sbl.cli
t1 = time.perf_counter()
from sbl.experiment import load
t2 = time.perf_counter()
exp = load(sys.argv[1])
t3 = time.perf_counter()
from sbl.backends.web import write_page
t4 = time.perf_counter()
write_page(exp.ir, sys.argv[2])
t5 = time.perf_counter()
print(json.dumps({"import cli (click)": t1 - t0, "import parser, passes (lark)": t2 - t1,
                  "parse + check": t3 - t2, "import web backend": t4 - t3,
                  "compile + write": t5 - t4}))
"""
# The seed tutorial's SweetBean bandit, as written there; prints to_html's seconds.
SWEETBEAN_TUTORIAL = """
import sys, time
from sweetbean import Block, Experiment
from sweetbean.stimulus import Bandit, Text
from sweetbean.variable import (DataVariable, FunctionVariable, SharedVariable, SideEffect,
                                TimelineVariable)
timeline = [{"bandit_1": {"color": "orange", "value": 10 - i},
             "bandit_2": {"color": "blue", "value": i}} for i in range(11)]
bandit_1, bandit_2 = TimelineVariable("bandit_1"), TimelineVariable("bandit_2")
score, value = SharedVariable("score", 0), DataVariable("value", 0)
update_score = FunctionVariable("update_score", lambda sc, val: sc + val, [score, value])
bandit_task = Bandit(bandits=[bandit_1, bandit_2],
                     side_effects=[SideEffect(score, update_score)])
score_text = FunctionVariable("score_text", lambda sc: f"Score: {sc}", [score])
show_score = Text(duration=2000, text=score_text)
experiment = Experiment([Block([bandit_task, show_score], timeline=timeline)])
start = time.perf_counter()
experiment.to_html(sys.argv[1], path_local_download="bandit.json")
print("seconds", time.perf_counter() - start)  # SweetBean prints too: mark the line
"""
# Records when the first trial appears, measured in the page from navigation start; and
# when an element matching each of SELECTORS first appears (the media benchmark).
FIRST_TRIAL = """
new MutationObserver((_, observer) => {
  const content = document.getElementById("jspsych-content");
  if (content && content.children.length) {
    window.__sblFirstTrial = performance.now();
    observer.disconnect();
  }
}).observe(document, {childList: true, subtree: true});
"""
FIRST_SEEN = """
window.__sblSeen = {};
new MutationObserver(() => {
  for (const selector of SELECTORS) {
    if (!(selector in window.__sblSeen) && document.querySelector(selector)) {
      window.__sblSeen[selector] = performance.now();
    }
  }
}).observe(document, {childList: true, subtree: true, attributes: true});
"""
PRELOAD_SHOWN = "#jspsych-loading-progress-bar-container"
IMAGE_SHOWN = "#jspsych-image-keyboard-response-stimulus"


def compile_command(out: Path) -> tuple[str, list[str]]:
    """What to time: the CLI if it works, else python -c on the example or the IR by hand."""
    sbl = shutil.which("sbl")
    if sbl and EXAMPLE.exists():
        probe = subprocess.run([sbl, "compile", "--help"], capture_output=True, cwd=ROOT)
        if probe.returncode == 0:
            return "sbl compile", [sbl, "compile", str(EXAMPLE), "-o", str(out)]
    if EXAMPLE.exists():
        probe = subprocess.run([sys.executable, "-c", COMPILE_EXAMPLE, str(EXAMPLE), str(out)],
                               capture_output=True, cwd=ROOT)
        if probe.returncode == 0:
            return "python -c (load + compile)", [sys.executable, "-c", COMPILE_EXAMPLE,
                                                   str(EXAMPLE), str(out)]
    return "python -c (IR built by hand)", [sys.executable, "-c", COMPILE_BY_HAND, "",
                                            str(out), str(ROOT)]


def python_env(bytecode: bool, cache: Path) -> dict[str, str]:
    """The environment of a timed run: Python's default bytecode cache (in ``cache``), or
    none, so that every module is compiled from source."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.pop("PYTHONPYCACHEPREFIX", None)
    if bytecode:
        env["PYTHONPYCACHEPREFIX"] = str(cache)
    else:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def time_compile(cmd: list[str], runs: int, env: dict[str, str]) -> list[float]:
    """Wall time of each whole process run, in seconds, after one untimed run (which fills
    the bytecode cache and Lark's parser cache)."""
    subprocess.run(cmd, check=True, capture_output=True, cwd=ROOT, env=env)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True, cwd=ROOT, env=env)
        times.append(time.perf_counter() - start)
    return times


def breakdown(out: Path, runs: int, env: dict[str, str]) -> dict[str, list[float]]:
    """Seconds of interpreter start and of each stage of a compile, one fresh process per run."""
    if not EXAMPLE.exists():
        return {}
    stages: dict[str, list[float]] = {
        "interpreter start": time_compile([sys.executable, "-c", "pass"], runs, env)}
    for _ in range(runs):
        done = subprocess.run([sys.executable, "-c", BREAKDOWN, str(EXAMPLE), str(out)],
                              capture_output=True, text=True, cwd=ROOT, env=env)
        if done.returncode != 0:
            return {}
        for stage, seconds in json.loads(done.stdout).items():
            stages.setdefault(stage, []).append(seconds)
    return stages


def _fresh_tabs(page: Path, runs: int, script: str, ready: str, value: str) -> list[Any] | None:
    """``value`` evaluated in the page, once ``ready`` is true, with ``script`` run before
    the page's own, per fresh browser context; None without Chromium."""
    sys.path.insert(0, str(ROOT))
    from tests.browser import file_url, have_chromium, launch

    if not have_chromium():
        return None
    out = []
    with launch() as browser:
        for _ in range(runs):
            context = browser.new_context()
            tab = context.new_page()
            tab.add_init_script(script)
            tab.goto(file_url(page, participant="bench", seed=1))
            tab.wait_for_function(ready, timeout=60_000)
            out.append(tab.evaluate(value))
            context.close()
    return out


def time_first_trial(page: Path, runs: int) -> list[float] | None:
    """Milliseconds from navigation start to the first trial, per fresh browser context."""
    found = _fresh_tabs(page, runs, FIRST_TRIAL, "window.__sblFirstTrial !== undefined",
                        "window.__sblFirstTrial")
    return None if found is None else [float(ms) for ms in found]


def time_seen(page: Path, runs: int, selectors: list[str]) -> dict[str, list[float]]:
    """Milliseconds from navigation start until an element matching each selector is on the
    page, per fresh browser context; {} without Chromium."""
    script = FIRST_SEEN.replace("SELECTORS", json.dumps(selectors))
    found = _fresh_tabs(page, runs, script,
                        f"Object.keys(window.__sblSeen).length === {len(selectors)}",
                        "window.__sblSeen")
    out: dict[str, list[float]] = {s: [] for s in selectors}
    for seen in found or []:
        for selector, ms in seen.items():
            out[selector].append(float(ms))
    return out if found is not None else {}


def media_experiment(folder: Path) -> Path:
    """An experiment showing 200 images of 20 KB, listed in a CSV table; its .sbl file."""
    sys.path.insert(0, str(ROOT / "scripts"))
    from make_media import noise

    (folder / "images").mkdir()
    lines = ["file,n"]
    for i in range(MEDIA_IMAGES):
        (folder / "images" / f"img{i:03}.png").write_bytes(noise(i + 1, MEDIA_SIDE))
        lines.append(f"images/img{i:03}.png,{i}")
    (folder / "images.csv").write_text("\n".join(lines) + "\n")
    source = folder / "images.sbl"
    source.write_text('experiment "Images"\ntable images from "images.csv"\n'
                      'block show over images {\n  image_keyboard { src: file '
                      'description: "picture {n}" choices: ["f", "j"] }\n}\n')
    return source


def cpu_seconds(cmd: list[str], runs: int, env: dict[str, str]) -> list[float]:
    """CPU seconds (user + system) of each whole process run: what the machine's load
    does not inflate as much as it does wall time."""
    import resource

    out = []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run(cmd, check=True, capture_output=True, cwd=ROOT, env=env)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        out.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return out


def bench_media(runs: int, env: dict[str, str], folder: Path, plain: list[float]) -> None:
    """The media measures, printed beside their targets; ``plain``: the bandit's compile
    times, measured just before, for the ratio (both slow down alike on a loaded machine)."""
    source = media_experiment(folder)
    sizes = [f.stat().st_size for f in (folder / "images").iterdir()]
    print(f"\nload average {os.getloadavg()[0]:.1f}; media: {len(sizes)} images of "
          f"{statistics.median(sizes) / 1000:.1f} KB "
          f"(median), {sum(sizes) / 1e6:.1f} MB in all")
    sbl = shutil.which("sbl") or "sbl"
    for mode in ("inline", "beside"):
        page = folder / f"{mode}.html"
        cmd = [sbl, "compile", str(source), "--media", mode, "-o", str(page)]
        wall = time_compile(cmd, runs, env)
        report(f"compile, media {mode} (whole process)", wall, "s", TARGETS["media_compile_s"])
        report("  CPU time", cpu_seconds(cmd, runs, env), "s", None)
        print(f"  ratio to the bandit's compile: "
              f"{statistics.median(wall) / statistics.median(plain):.2f}x")
        report(f"  page size, media {mode}", [page.stat().st_size / 1000], "KB", None)
        seen = time_seen(page, runs, [PRELOAD_SHOWN, IMAGE_SHOWN])
        report("  preload progress shown", seen.get(PRELOAD_SHOWN), "ms", None)
        report("  first image trial, all preloaded", seen.get(IMAGE_SHOWN), "ms",
               TARGETS["media_first_trial_ms"])


def time_sweetbean(python: str) -> float | str:
    """Seconds SweetBean's ``to_html`` takes for the tutorial's bandit (its code as written,
    in a file, since SweetBean reads its lambdas' source), run by ``python``; else why not."""
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "sweetbean_bandit.py"
        script.write_text(SWEETBEAN_TUTORIAL)
        done = subprocess.run([python, str(script), str(Path(tmp) / "sb.html")],
                              capture_output=True, text=True, cwd=tmp)
    if "No module named 'sweetbean'" in done.stderr:
        return f"no sweetbean in {python}; see --sweetbean-python"
    if done.returncode != 0:
        return "it failed: " + (done.stderr.strip().splitlines() or ["?"])[-1]
    return float(next(line.split()[1] for line in done.stdout.splitlines()
                      if line.startswith("seconds ")))


def report(name: str, values: list[float] | None, unit: str, target: float | None) -> None:
    """One line: median (min..max) beside the target."""
    if not values:
        print(f"{name:<40} not measured")
        return
    med = statistics.median(values)
    spread = f"(min {min(values):.3g}, max {max(values):.3g}, n={len(values)})"
    verdict = "" if target is None else ("  ok" if med <= target else "  OVER")
    goal = "" if target is None else f"target <= {target:g} {unit}"
    print(f"{name:<40} {med:8.3f} {unit:<3} {spread:<36} {goal}{verdict}")


def main() -> None:
    """Run every measure and print it beside its target."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="repetitions of each timing")
    parser.add_argument("--sweetbean-python", default=sys.executable, metavar="PYTHON",
                        help="an interpreter with sweetbean==1.3.17 installed (its pins clash "
                             "with sbl's, so a separate virtualenv); default: this one")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "bandit.html"
        cached, uncached = python_env(True, Path(tmp) / "pycache"), python_env(False, Path(tmp))
        how, cmd = compile_command(out)
        compile_times = time_compile(cmd, args.runs, cached)
        no_cache_times = time_compile(cmd, args.runs, uncached)
        size_kb = out.stat().st_size / 1000
        stages = breakdown(Path(tmp) / "stages.html", args.runs, cached)
        first = time_first_trial(out, args.runs)
    print(f"bandit, compiled with: {how}")
    report("compile (whole process)", compile_times, "s", TARGETS["compile_s"])
    report("  with no bytecode cache", no_cache_times, "s", None)
    for stage, seconds in stages.items():
        report(f"  of which {stage}", seconds, "s", None)
    report("page size", [size_kb], "KB", TARGETS["size_kb"])
    report("first trial visible", first, "ms", TARGETS["first_trial_ms"])
    sweetbean = time_sweetbean(args.sweetbean_python)
    if isinstance(sweetbean, str):
        print(f"{'SweetBean to_html':<40} not measured ({sweetbean})")
    else:
        report("SweetBean to_html", [sweetbean], "s", None)
        print(f"ratio: SweetBean to_html / sbl compile (whole process) = "
              f"{sweetbean / statistics.median(compile_times):.0f}x")
    with tempfile.TemporaryDirectory() as tmp:
        bench_media(args.runs, python_env(True, Path(tmp) / "pycache"), Path(tmp),
                    compile_times)

if __name__ == "__main__":
    main()
