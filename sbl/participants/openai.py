"""Model participants behind an OpenAI-compatible server (vLLM, llama-cpp-python's server).

``--model openai:URL#MODEL``. Each valid option is scored through ``/v1/completions``: one
request with the top log-probs of the next token when every option is among them (single-token
options), otherwise one ``echo`` request per option that reads the log-probs of the option's
own prompt tokens. The choice is then sampled here, from the options renormalised, with the
participant's seeded RNG, exactly as the transformers participant does. Requests run on a
thread pool; timeouts and overloaded answers are retried with backoff and counted. Only the
standard library is used.
"""

from __future__ import annotations

import json
import math
import os
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from sbl.participants.base import CLOSE, Answer, Ask, Usage
from sbl.participants.sampling import participant_rng, sample_index
from sbl.source import SblError

RETRY_STATUS = {408, 429, 500, 502, 503, 504}
TOP_K = 20  # vLLM's default cap on top log-probs


def parse_spec(spec: str) -> tuple[str, str | None]:
    """``openai:URL#MODEL`` -> (base URL ending in /v1, model or None)."""
    if not spec.startswith("openai:"):
        raise SblError.at(None, f"'{spec}' is not an openai:URL#MODEL name")
    url, _, model = spec[len("openai:"):].partition("#")
    if not url.startswith(("http://", "https://")):
        raise SblError.at(None, f"'{url}' is not an http(s) URL",
                          help="write --model openai:http://HOST:PORT/v1#MODEL")
    url = url.rstrip("/")
    return (url if url.endswith("/v1") else url + "/v1"), (model or None)


class OpenAIResponder:
    """Answers asks through an OpenAI-compatible ``/v1/completions`` endpoint.

    ``workers`` requests are in flight at once; a request that times out (``timeout``
    seconds) or finds the server overloaded is tried again up to ``retries`` times, after
    ``backoff`` × 2^attempt seconds, and counted in ``retries``. Seeds work as in
    :class:`~sbl.participants.hf.HFResponder`.
    """

    def __init__(self, spec: str, *, temperature: float = 1.0, seed: int = 0, workers: int = 8,
                 timeout: float = 60.0, retries: int = 4, backoff: float = 0.5) -> None:
        self.url, model = parse_spec(spec)
        self.temperature, self.seed, self.timeout = temperature, seed, timeout
        self.max_retries, self.backoff = retries, backoff
        self.retries = 0  # requests tried again after a timeout or an overloaded server
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=workers)
        self._rngs: dict[str, np.random.Generator] = {}
        self._live: dict[str, Usage] = {}
        self._finished: dict[str, Usage] = {}
        self.top_k, self.echo_shifted = TOP_K, False
        self.model = model or self._only_model()
        self.name = f"openai:{self.model}"
        self._probe()

    # -- the protocol ------------------------------------------------------------------

    def answer(self, asks: Sequence[Ask]) -> list[Answer]:
        """Answer every ask; their requests are in flight together."""
        for ask in asks:
            if ask.participant not in self._rngs:
                self._rngs[ask.participant] = participant_rng(ask.seed, self.seed)
            self._live.setdefault(ask.participant, Usage(participants=1))
        first = list(self._pool.map(self._first_request, asks))
        # Options that are not all among the top log-probs are scored one request each; all
        # of those, from every ask, are in flight together too.
        tops = [_top_logprobs(reply) if ask.options else {}
                for ask, reply in zip(asks, first, strict=True)]
        echoes = [(k, option) for k, ask in enumerate(asks)
                  if ask.options and not set(ask.options) <= tops[k].keys()
                  for option in ask.options]
        scored = self._pool.map(lambda ko: self._score_option(asks[ko[0]], ko[1], tops[ko[0]]),
                                echoes)
        echoed: list[dict[str, tuple[list[tuple[str, float]], int]]] = [{} for _ in asks]
        for (k, option), result in zip(echoes, scored, strict=True):
            echoed[k][option] = result
        return [self._finish_ask(ask, reply, mine)
                for ask, reply, mine in zip(asks, first, echoed, strict=True)]

    def finish(self, participant: str, transcript: str) -> None:
        """Forget the participant's RNG; keep its totals."""
        self._rngs.pop(participant, None)
        self._finished[participant] = self._live.pop(participant, Usage(participants=1))

    def usage(self) -> Usage:
        """Tokens sent to the server (its prefix cache may have spared some of them).

        ``transcript_tokens`` is each finished participant's longest prompt, as the server
        counted it.
        """
        return sum([*self._finished.values(), *self._live.values()], Usage())

    def close(self) -> None:
        """Stop the request threads."""
        self._pool.shutdown(wait=False)

    # -- one ask -----------------------------------------------------------------------

    def _first_request(self, ask: Ask) -> dict[str, Any]:
        """The free-text completion, or the next-token top log-probs for a choice."""
        if ask.options is None:
            # Each participant's RNG seeds the server's sampler, so reruns repeat.
            seed = int(self._rngs[ask.participant].integers(2**31))
            return self._complete(ask.transcript, max_tokens=ask.max_chars, stop=[CLOSE],
                                  logprobs=1, temperature=max(self.temperature, 0.0),
                                  seed=seed)
        return self._next_token(ask.transcript)

    def _next_token(self, prompt: str) -> dict[str, Any]:
        return self._complete(prompt, max_tokens=1, logprobs=self.top_k, temperature=0.0)

    def _finish_ask(self, ask: Ask, first: dict[str, Any],
                    echoed: dict[str, tuple[list[tuple[str, float]], int]]) -> Answer:
        """The answer from the first reply, and for options scored one by one, ``echoed``:
        each option's tokens with their log-probs, and the tokens that cost."""
        tokens = self._count(ask, first)
        if ask.options is None:
            choice = first["choices"][0]
            text = choice.get("text", "")
            text = text[:text.index(CLOSE)] if CLOSE in text else text
            lps = (choice.get("logprobs") or {}).get("token_logprobs") or []
            return Answer(text[:ask.max_chars], float(sum(x for x in lps if x is not None)),
                          None, tokens)
        if not echoed:
            top = _top_logprobs(first)
            scores = {o: top[o] for o in ask.options}
            return self._choose(ask, scores, scores, tokens)
        scores, heads = {}, {}
        for option, (pieces, used) in echoed.items():
            tokens += used
            scores[option] = sum(lp for _, lp in pieces)
            heads[pieces[0][0]] = pieces[0][1]
        return self._choose(ask, scores, heads, tokens)

    def _score_option(self, ask: Ask, option: str,
                      top: dict[str, float]) -> tuple[list[tuple[str, float]], int]:
        """The option's tokens after the transcript with their log-probs, and the tokens used."""
        reply = self._complete(ask.transcript + option, max_tokens=1, logprobs=1,
                               echo=True, temperature=0.0)
        used = self._count(ask, reply)
        pieces = _option_tokens(reply, len(ask.transcript))
        if self.echo_shifted:
            pieces, more = self._chain(ask, [t for t, _ in pieces], top)
            used += more
        return pieces, used

    def _chain(self, ask: Ask, texts: list[str],
               top: dict[str, float]) -> tuple[list[tuple[str, float]], int]:
        """Each token text in ``texts`` with its log-prob after the transcript and the texts
        before it, from plain next-token requests (and the tokens those cost).

        For servers whose echoed log-probs are one position off (llama-cpp-python): the top
        log-probs of a next-token request are right.
        """
        pieces, used = [], 0
        for j, text in enumerate(texts):
            if j > 0:
                reply = self._next_token(ask.transcript + "".join(texts[:j]))
                top = _top_logprobs(reply)
                used += self._count(ask, reply)
            if text not in top:
                raise SblError.at(None, f"token {text!r} is not among the server's top "
                                        f"{self.top_k} log-probs, and its echoed log-probs "
                                        "are one position off, so it cannot be scored",
                                  help="serve the model with vLLM, whose echo is right")
            pieces.append((text, top[text]))
        return pieces, used

    def _choose(self, ask: Ask, scores: dict[str, float], heads: dict[str, float],
                tokens: int) -> Answer:
        """Sample among the options; ``heads`` maps their first tokens to log-probs."""
        assert ask.options
        raw = np.array([scores[o] for o in ask.options], dtype=np.float64)
        pick = sample_index(raw, self.temperature, self._rngs[ask.participant])
        valid = sum(math.exp(v) for v in heads.values())
        scored = dict(zip(ask.options, raw.tolist(), strict=True))
        meta: dict[str, object] = {"option_logprobs": scored}
        return Answer(ask.options[pick], float(raw[pick] - np.logaddexp.reduce(raw)),
                      max(0.0, 1.0 - valid), tokens, meta)

    def _count(self, ask: Ask, reply: dict[str, Any]) -> int:
        """Add a reply's token usage to the participant's totals; returns the tokens."""
        used = reply.get("usage") or {}
        prompt, total = int(used.get("prompt_tokens", 0)), int(used.get("total_tokens", 0))
        with self._lock:
            live = self._live[ask.participant]
            live.tokens_processed += total
            live.transcript_tokens = max(live.transcript_tokens, prompt)
        return total

    # -- HTTP ----------------------------------------------------------------------------

    def _complete(self, prompt: str, **fields: Any) -> dict[str, Any]:
        body = {"model": self.model, "prompt": prompt, **fields}
        return self._request("POST", "/completions", body)

    def _request(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """One JSON request, retried with exponential backoff on timeouts and overload."""
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Content-Type": "application/json"}
        if os.environ.get("OPENAI_API_KEY"):
            headers["Authorization"] = f"Bearer {os.environ['OPENAI_API_KEY']}"
        for attempt in range(self.max_retries + 1):
            request = urllib.request.Request(self.url + path, data, headers, method=method)
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as reply:
                    return json.loads(reply.read())
            except urllib.error.HTTPError as e:
                if e.code not in RETRY_STATUS or attempt == self.max_retries:
                    raise self._http_error(e) from e
            except (TimeoutError, ConnectionError, urllib.error.URLError) as e:
                if attempt == self.max_retries:
                    raise SblError.at(None, f"the server at {self.url} did not answer after "
                                            f"{attempt + 1} tries: {e}") from e
            with self._lock:
                self.retries += 1
            time.sleep(self.backoff * 2 ** attempt)
        raise AssertionError("unreachable")

    def _http_error(self, e: urllib.error.HTTPError) -> SblError:
        detail = e.read().decode(errors="replace")[:300]
        return SblError.at(None, f"the server at {self.url} answered {e.code}: {detail}")

    def _only_model(self) -> str:
        """The model id when the name gave none: the server must serve exactly one."""
        ids = [m["id"] for m in self._request("GET", "/models").get("data", [])]
        if len(ids) != 1:
            raise SblError.at(None, f"the server at {self.url} serves {len(ids)} models; "
                                    "name one: openai:URL#MODEL", help=", ".join(ids[:4]))
        return ids[0]

    def _probe(self) -> None:
        """Check once that the server gives log-probs, and how it echoes them.

        The echoed log-prob of a token must equal its log-prob as the next token. Where it
        does not (llama-cpp-python reports the one after it), options are scored from
        next-token requests instead, with as many top log-probs as the server allows.
        """
        prompt = "Machine A or machine B? You press <<"
        nxt = self._next_token(prompt)
        top = _top_logprobs(nxt)
        if not top:
            raise SblError.at(None, f"the server at {self.url} does not return log-probs for "
                                    "/v1/completions",
                              help="sbl needs them to score options; vLLM and "
                                   "llama-cpp-python's server provide them")
        token = max(top, key=lambda t: top[t])
        echo = self._complete(prompt + token, max_tokens=1, logprobs=1, echo=True,
                              temperature=0.0)
        logprobs = (echo.get("choices") or [{}])[0].get("logprobs") or {}
        if not logprobs.get("text_offset") or not logprobs.get("token_logprobs"):
            raise SblError.at(None, f"the server at {self.url} does not echo prompt log-probs",
                              help="sbl needs /v1/completions with echo and logprobs")
        echoed = _option_tokens(echo, len(prompt))[0][1]
        self.echo_shifted = abs(echoed - top[token]) > 0.05
        if self.echo_shifted:
            self.top_k = self._widest_top_k(prompt)

    def _widest_top_k(self, prompt: str) -> int:
        """The most top log-probs the server returns (vLLM caps them at 20 by default)."""
        for k in (1000, 100):
            try:
                self._complete(prompt, max_tokens=1, logprobs=k, temperature=0.0)
                return k
            except SblError:
                continue
        return TOP_K


def _top_logprobs(reply: dict[str, Any]) -> dict[str, float]:
    """The next token's top log-probs, keyed by token text."""
    logprobs = reply["choices"][0].get("logprobs") or {}
    tops = logprobs.get("top_logprobs") or [{}]
    return {k: float(v) for k, v in (tops[0] or {}).items()}


def _option_tokens(reply: dict[str, Any], start: int) -> list[tuple[str, float]]:
    """The echoed prompt tokens from character ``start`` on, with their log-probs.

    Some servers (vLLM) list the generated token after the prompt's: the usage count of
    prompt tokens leaves it out.
    """
    logprobs = reply["choices"][0]["logprobs"]
    n_prompt = int((reply.get("usage") or {}).get("prompt_tokens", len(logprobs["tokens"])))
    rows = list(zip(logprobs["text_offset"], logprobs["tokens"], logprobs["token_logprobs"],
                    strict=False))[:n_prompt]
    mine = [(tok, float(lp)) for offset, tok, lp in rows if offset >= start and lp is not None]
    if not mine:
        raise SblError.at(None, "the server's echo did not include the option's tokens")
    return mine
