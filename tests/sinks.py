"""A data sink on loopback for the browser tests: serves a folder's pages and takes POSTs.

``mode`` decides how a POST is answered: ``ok`` (200), ``fail`` (500, as a server that is down
behind a proxy answers) or ``slow`` (200 after ``delay_s``). Pages are served from the same
origin as the sink, so the page's ``fetch`` needs no CORS; every POST body is kept.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


@dataclass
class Sink:
    """The running sink: its base URL, how it answers, and what it was sent."""

    url: str
    mode: str = "ok"
    delay_s: float = 2.0
    posts: list[Any] = field(default_factory=list)
    answered: list[int] = field(default_factory=list)


@contextmanager
def sink(folder: Path) -> Iterator[Sink]:
    """A sink serving ``folder`` on 127.0.0.1, stopped (and its thread joined) on exit."""
    state = Sink(url="")

    class Handler(SimpleHTTPRequestHandler):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, directory=str(folder), **kwargs)

        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            if state.mode == "slow":
                time.sleep(state.delay_s)
            status = 500 if state.mode == "fail" else 200
            if status == 200:
                state.posts.append(json.loads(body))
            state.answered.append(status)
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok" if status == 200 else b"no")

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
