"""Talking to an OpenAI-compatible ``/v1/completions`` server, and reading its log-probs.

:class:`Server` sends one JSON request at a time (from any thread) and retries what a busy or
broken server does: timeouts, refused or dropped connections, overloaded statuses (429, 503...),
a bad status line, a body cut short, a body that is not JSON, a reply without choices, and
log-probs that are not finite numbers (a NaN would silently make every choice the first). Each
retry is counted and said on stderr; when the tries run out the error names the server, what
it did, and which participant's response was being scored.

Servers report log-probs in one of two shapes, both read here:

* the completions API's own (vLLM, llama-cpp-python): ``logprobs = {tokens, token_logprobs,
  top_logprobs: [{text: logprob}, ...], text_offset}``, one entry per token, the echoed prompt's
  first; vLLM puts the decoded BOS first with a ``None`` log-prob;
* llama.cpp's ``llama-server``: ``logprobs = {content: [{token, logprob, top_logprobs: [{token,
  logprob}, ...]}]}``, generated tokens only (it never echoes the prompt).
"""

from __future__ import annotations

import http.client
import json
import math
import os
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

from sbl.source import SblError

RETRY_STATUS = {408, 429, 500, 502, 503, 504}


class BadReply(Exception):
    """A reply that cannot be used (not JSON, no choices, log-probs that are not numbers)."""


class Server:
    """One OpenAI-compatible server: ``url`` ends in ``/v1``.

    A request is tried up to ``retries + 1`` times, ``backoff`` × 2^attempt seconds apart, each
    try waiting at most ``timeout`` seconds; ``retries`` counts the tries made again.
    ``report`` gets one line per retry (stderr by default).
    """

    def __init__(self, url: str, *, timeout: float = 30.0, retries: int = 4,
                 backoff: float = 0.5, report: Callable[[str], None] | None = None) -> None:
        self.url, self.timeout, self.max_retries, self.backoff = url, timeout, retries, backoff
        self.retries = 0
        self._report = report or _stderr
        self._lock = threading.Lock()

    def post(self, path: str, body: dict[str, Any], where: str) -> dict[str, Any]:
        """POST ``body`` and return a checked completion reply; ``where`` names the ask."""
        return self._request("POST", path, body, where)

    def get(self, path: str, where: str = "the model list") -> dict[str, Any]:
        """GET ``path`` (a JSON object)."""
        return self._request("GET", path, None, where)

    def _request(self, method: str, path: str, body: dict[str, Any] | None,
                 where: str) -> dict[str, Any]:
        for attempt in range(self.max_retries + 1):
            try:
                return self._once(method, path, body)
            except urllib.error.HTTPError as e:
                problem = f"answered {e.code}: {_detail(e)}"
                if e.code not in RETRY_STATUS:
                    raise SblError.at(None, f"the server at {self.url} {problem} ({where})") from e
            except (OSError, http.client.HTTPException) as e:  # timeouts, resets, bad lines
                problem = f"did not answer properly: {e!r}"
            except BadReply as e:
                problem = f"sent a reply sbl cannot use: {e}"
            if attempt == self.max_retries:
                raise SblError.at(None, f"the server at {self.url} {problem}; gave up after "
                                        f"{attempt + 1} tries ({where})",
                                  help="see that the server is up and serves the model; "
                                       "--timeout sets how long each try waits")
            wait = self.backoff * 2 ** attempt
            with self._lock:
                self.retries += 1
            self._report(f"sbl: the server at {self.url} {problem}; trying again in "
                         f"{wait:g} s ({where})")
            time.sleep(wait)
        raise AssertionError("unreachable")

    def _once(self, method: str, path: str, body: dict[str, Any] | None) -> dict[str, Any]:
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Content-Type": "application/json"}
        if os.environ.get("OPENAI_API_KEY"):
            headers["Authorization"] = f"Bearer {os.environ['OPENAI_API_KEY']}"
        request = urllib.request.Request(self.url + path, data, headers, method=method)
        with urllib.request.urlopen(request, timeout=self.timeout) as reply:
            raw = reply.read()
        try:
            parsed = json.loads(raw, parse_constant=_no_constant)
        except ValueError as e:
            raise BadReply(f"not JSON ({e}): {raw[:80]!r}") from None
        if not isinstance(parsed, dict):
            raise BadReply(f"a JSON {type(parsed).__name__}, not an object")
        if body is not None:
            check_completion(parsed)
        return parsed


def check_completion(reply: dict[str, Any]) -> None:
    """Raise :class:`BadReply` unless ``reply`` has a choice whose log-probs are all finite
    and at most 0 (``None`` is allowed where the API uses it: a prompt's first token)."""
    choices = reply.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        raise BadReply("it has no choices")
    for value in _logprob_values(choices[0].get("logprobs") or {}):
        if value is None:
            continue
        if not isinstance(value, int | float) or not math.isfinite(value) or value > 1e-3:
            raise BadReply(f"a log-prob is {value!r}")


def _logprob_values(logprobs: dict[str, Any]) -> list[Any]:
    """Every log-prob number in either shape of ``logprobs``."""
    if not isinstance(logprobs, dict):
        raise BadReply("its logprobs is not an object")
    values = list(logprobs.get("token_logprobs") or [])
    for top in logprobs.get("top_logprobs") or []:
        values.extend((top or {}).values())
    for entry in logprobs.get("content") or []:
        values.append(entry.get("logprob"))
        values.extend(t.get("logprob") for t in entry.get("top_logprobs") or [])
    return values


def next_top(reply: dict[str, Any]) -> dict[str, float]:
    """The first generated token's top log-probs, by token text, in either shape."""
    logprobs = reply["choices"][0].get("logprobs") or {}
    if "content" in logprobs:  # llama-server
        content = logprobs.get("content") or [{}]
        return {t["token"]: float(t["logprob"]) for t in content[0].get("top_logprobs") or []}
    tops = logprobs.get("top_logprobs") or [{}]
    return {k: float(v) for k, v in (tops[0] or {}).items()}


def generated_logprob(reply: dict[str, Any]) -> float:
    """The summed log-prob of the generated tokens, in either shape."""
    logprobs = reply["choices"][0].get("logprobs") or {}
    if "content" in logprobs:
        return float(sum(t.get("logprob") or 0.0 for t in logprobs.get("content") or []))
    return float(sum(x for x in logprobs.get("token_logprobs") or [] if x is not None))


def echoed_prompt(reply: dict[str, Any], prompt: str) -> list[tuple[str, float | None]] | None:
    """The echoed ``prompt``'s tokens with their log-probs, or None if it was not echoed.

    What comes before the prompt (vLLM's decoded BOS) is kept. The generated tokens that
    follow it are left out: ``usage.completion_tokens`` of them where vLLM lists them, fewer
    where a server leaves them out (llama-cpp-python lists none), as the token texts show.
    """
    logprobs = reply["choices"][0].get("logprobs") or {}
    tokens, values = logprobs.get("tokens"), logprobs.get("token_logprobs")
    if not tokens or not values or len(tokens) != len(values):
        return None
    pairs = list(zip(tokens, values, strict=True))
    listed = int((reply.get("usage") or {}).get("completion_tokens", 0))
    for generated in (listed, *range(listed)):
        if "".join(t for t, _ in pairs[:len(pairs) - generated]).endswith(prompt):
            return pairs[:len(pairs) - generated]
    return pairs[:len(pairs) - listed]


def _no_constant(name: str) -> float:
    raise BadReply(f"it holds {name}, which is not a number")


def _detail(e: urllib.error.HTTPError) -> str:
    try:
        return e.read().decode(errors="replace")[:300]
    except (OSError, http.client.HTTPException):
        return e.reason or ""


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)
