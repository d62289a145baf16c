"""Playwright helpers for the browser tests: Debian's Chromium, a page with a fake clock,
caught downloads, and logs of requests, dialogs, console messages and page errors.

Never ``playwright install``: the tests drive ``/usr/bin/chromium`` and skip without it.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]


def have_chromium() -> bool:
    """Whether the browser tests can run here."""
    if not Path(CHROMIUM).exists() and shutil.which("chromium") is None:
        return False
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return False
    return True


CLOCK_START = 1_700_000_000_000  # ms since the epoch: a fixed, deterministic start

needs_chromium = pytest.mark.skipif(not have_chromium(),
                                    reason="needs /usr/bin/chromium and playwright")


@contextmanager
def launch() -> Iterator[Any]:
    """A headless Chromium, closed on exit."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class Session:
    """One page in its own browser context, and everything it did."""

    context: Any
    page: Any
    folder: Path
    requests: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    console: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    downloads: dict[str, Path] = field(default_factory=dict)

    def goto(self, url: str) -> None:
        """Open ``url`` and wait for its load event."""
        self.page.goto(url, wait_until="load")

    def run_for(self, ms: int) -> None:
        """Advance the installed fake clock by ``ms`` milliseconds."""
        self.page.clock.run_for(ms)

    def wait_downloads(self, *names: str, timeout_ms: int = 10_000) -> None:
        """Wait until every file in ``names`` has been downloaded."""
        waited = 0
        while not all(n in self.downloads for n in names):
            if waited > timeout_ms:
                seen = sorted(self.downloads)
                raise AssertionError(f"downloads {names} not all seen; got {seen}")
            self.page.wait_for_timeout(50)
            waited += 50

    def json_download(self, name: str) -> Any:
        """A downloaded JSON file, parsed."""
        return json.loads(self.downloads[name].read_text(encoding="utf-8"))

    def text_download(self, name: str) -> str:
        """A downloaded text file."""
        return self.downloads[name].read_text(encoding="utf-8")

    def state(self) -> str | None:
        """``done`` once the run finished and saved its data, ``stopped`` after an error."""
        return self.page.evaluate("document.documentElement.dataset.sblState || null")

    def wait_state(self, timeout_ms: int = 15_000) -> str:
        """Wait for the run to end; returns its final state."""
        self.page.wait_for_function("document.documentElement.dataset.sblState",
                                    timeout=timeout_ms)
        state = self.state()
        assert state is not None
        return state


@contextmanager
def session(browser: Any, folder: Path, *, clock: bool = True,
            init_script: str | None = None, context: Any = None) -> Iterator[Session]:
    """A fresh context and page with logs attached; ``clock`` installs Playwright's fake clock,
    paused, before any page script runs, so a test skips trial durations with ``run_for``.
    Pass ``context`` to reuse one (same localStorage), e.g. to reopen a page."""
    own = context is None
    ctx = browser.new_context(accept_downloads=True) if own else context
    page = ctx.new_page()
    s = Session(ctx, page, folder)
    page.on("request", lambda r: s.requests.append(r.url))
    page.on("console", lambda m: s.console.append(f"{m.type}: {m.text}"))
    page.on("pageerror", lambda e: s.errors.append(str(e)))

    def on_dialog(dialog: Any) -> None:
        s.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    def on_download(download: Any) -> None:
        target = folder / download.suggested_filename
        download.save_as(target)
        s.downloads[download.suggested_filename] = target

    page.on("dialog", on_dialog)
    page.on("download", on_download)
    if init_script:
        page.add_init_script(init_script)
    if clock:
        # Paused: timers fire only when a test advances the clock, never while it looks.
        page.clock.install(time=CLOCK_START)
        page.clock.pause_at(CLOCK_START + 1000)
    try:
        yield s
    finally:
        page.close()
        if own:
            ctx.close()


def file_url(path: Path, **query: object) -> str:
    """The file:// URL of ``path`` with URL parameters."""
    from urllib.parse import urlencode

    url = path.resolve().as_uri()
    return url + ("?" + urlencode({k: str(v) for k, v in query.items()}) if query else "")


@contextmanager
def served(folder: Path) -> Iterator[str]:
    """``folder`` served over http on loopback; yields its base URL. Tests that close a page
    and reopen it use this: under load, Chromium (156) can lose localStorage written by a
    ``file://`` page before another page of that origin reads it (0 of 50 reopens lost it
    over http, 1 to 5 in 25 over ``file://``), as participants get their pages over http."""
    import functools
    import threading
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0),
                                 functools.partial(Quiet, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def http_url(base: str, path: Path, **query: object) -> str:
    """The URL of ``path`` (a file in the served folder) under ``base``, with URL parameters."""
    from urllib.parse import urlencode

    url = f"{base}/{path.name}"
    return url + ("?" + urlencode({k: str(v) for k, v in query.items()}) if query else "")
