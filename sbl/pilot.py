"""Pilot a compiled page in headless Chromium: jsPsych's simulation mode plays the
experiment as simulated people would (random keys and clicks, plausible response times)
through the very page people get, and the page's own JSON download is kept.

This is DESIGN's ``simulate=data-only|visual`` URL parameter, driven for N participants by
Playwright with Debian's Chromium (``SBL_CHROMIUM`` names another executable).
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from sbl import ir
from sbl.source import SblError

if TYPE_CHECKING:
    from sbl.experiment import Experiment

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run",
                 # A simulated participant's clicks are not user gestures, so without this
                 # a browser refuses the sounds that --mode visual plays (people click Start
                 # first: runtime.js, queue; tests/test_av.py runs without it).
                 "--autoplay-policy=no-user-gesture-required"]


# How runtime.js says on the console that the run stopped (fail) or could not start
# (showError): a page that cannot start never downloads its data.
STOPPED = ("sbl: the experiment stopped: ", "sbl: the experiment cannot start: ")


def chromium() -> str:
    """The Chromium executable to drive."""
    path = os.environ.get("SBL_CHROMIUM", "/usr/bin/chromium")
    if not Path(path).exists():
        raise SblError.at(None, f"cannot find Chromium at {path}",
                          help="apt-get install chromium, or set SBL_CHROMIUM")
    return path


def pilot(experiment: Experiment, participants: int = 1, *, seed: int = 0,
          mode: str = "data-only", timeout_s: float = 120.0) -> list[dict[str, Any]]:
    """Run the page ``participants`` times in simulation mode; the jsPsych rows of all."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        raise SblError.at(None, "piloting needs playwright",
                          help="pip install playwright (no browser download: it drives "
                               "Debian's chromium)") from None
    records: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as folder:
        page_path = Path(folder) / f"{experiment.name}.html"
        experiment.compile(page_path, allow_simulate=True)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium(), headless=True,
                                        args=CHROMIUM_ARGS)
            try:
                for i in range(participants):
                    query = {"simulate": mode, "participant": str(i + 1),
                             "seed": str((seed + i) & 0xFFFFFFFF)}
                    group = experiment.ir.group
                    if group is not None and group.source is ir.GroupSource.URL:
                        query[str(group.param)] = str(i + 1)  # as in text runs: group k
                    records += _one(browser, page_path, query, timeout_s)
            finally:
                browser.close()
    return records


def _one(browser: Any, page_path: Path, query: dict[str, str],
         timeout_s: float) -> list[dict[str, Any]]:
    """The jsPsych rows the page at ``page_path?query`` downloads; an error naming what the
    page said when it stops before its download, or does not finish in ``timeout_s``."""
    context = browser.new_context(accept_downloads=True)
    try:
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on("console", lambda m: errors.append(m.text.split(": ", 2)[2])
                if m.text.startswith(STOPPED) else None)
        wanted = f"{page_path.stem}.json"
        downloads: list[Any] = []
        page.on("download", lambda d: downloads.append(d)
                if d.suggested_filename == wanted else None)
        page.goto(f"{page_path.as_uri()}?{urlencode(query)}")
        deadline = time.monotonic() + timeout_s
        # polled rather than awaited: a page that stops before its download (a missing URL
        # parameter) must not hold the pilot until the timeout
        while not downloads and not errors and time.monotonic() < deadline:
            page.wait_for_timeout(100)
        if errors:
            raise SblError.at(None, f"the page failed while piloting: {errors[0]}")
        if not downloads:
            raise SblError.at(None, f"the page did not finish within {timeout_s:g} s while "
                                    f"piloting")
        data = json.loads(Path(downloads[0].path()).read_text(encoding="utf-8"))
        return data if isinstance(data, list) else []
    finally:
        context.close()
