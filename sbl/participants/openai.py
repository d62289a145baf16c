"""Model participants behind an OpenAI-compatible server (vLLM, llama-cpp-python's server,
llama.cpp's ``llama-server``).

``--model openai:URL#MODEL``. Each valid option is scored through ``/v1/completions``: one
request with the top log-probs of the next token when every option is among them (single-token
options), otherwise one ``echo`` request per option that reads the log-probs of the option's
own prompt tokens. Options are found in the echo by tokens, counted back from the prompt's
end, never by character offsets (vLLM's offsets count the decoded BOS in front). Where options
share a prefix (``1`` and ``10``) each is scored with its closing ``">>"``
(:func:`~sbl.participants.base.scored_texts`). The choice is then sampled here, from the options
renormalised, with the participant's seeded RNG, exactly as the transformers participant does.

A probe at start finds how the server echoes: right (vLLM), one position late
(llama-cpp-python: options are then scored from next-token requests), or not at all
(``llama-server``: options must then each be one token among the top log-probs). Requests run
on a thread pool through :class:`~sbl.participants.openai_server.Server`, which retries and
checks every reply. Only the standard library is used.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from sbl.participants.base import (
    CLOSE,
    RESPONSE,
    Answer,
    Ask,
    ResponseLogprobs,
    Usage,
    scored_texts,
)
from sbl.participants.openai_server import (
    Server,
    echoed_prompt,
    generated_logprob,
    next_top,
)
from sbl.participants.sampling import participant_rng, sample_index
from sbl.source import SblError

TOP_K = 20  # vLLM's default cap on top log-probs (its --max-logprobs)
Pieces = list[tuple[str, float]]


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

    ``workers`` requests are in flight at once; each waits at most ``timeout`` seconds and is
    tried again up to ``retries`` times (see :class:`~sbl.participants.openai_server.Server`).
    Seeds work as in :class:`~sbl.participants.hf.HFResponder`: the same ``seed`` and the same
    log-probs give the same choices.
    """

    def __init__(self, spec: str, *, temperature: float = 1.0, seed: int = 0, workers: int = 8,
                 timeout: float = 60.0, retries: int = 4, backoff: float = 0.5) -> None:
        self.url, model = parse_spec(spec)
        self.server = Server(self.url, timeout=timeout, retries=retries, backoff=backoff)
        self.temperature, self.seed = temperature, seed
        self._pool = ThreadPoolExecutor(max_workers=workers)
        self._lock = threading.Lock()
        self._rngs: dict[str, np.random.Generator] = {}
        self._live: dict[str, Usage] = {}
        self._finished: dict[str, Usage] = {}
        self.top_k, self.echo = TOP_K, "right"
        self.model = model or self._only_model()
        self.name = f"openai:{self.model}"
        self._probe()

    @property
    def retries(self) -> int:
        """Requests tried again so far (timeouts, overloaded or broken replies)."""
        return self.server.retries

    # -- the protocol ------------------------------------------------------------------

    def answer(self, asks: Sequence[Ask]) -> list[Answer]:
        """Answer every ask; their requests are in flight together."""
        for ask in asks:
            if ask.participant not in self._rngs:
                self._rngs[ask.participant] = participant_rng(ask.seed, self.seed)
            self._live.setdefault(ask.participant, Usage(participants=1))
        first = list(self._pool.map(self._first_request, asks))
        # Options not all among the top log-probs are scored one request each; all of those,
        # from every ask, are in flight together too.
        tops = [next_top(reply) if ask.options else {}
                for ask, reply in zip(asks, first, strict=True)]
        jobs = [(k, text) for k, ask in enumerate(asks)
                if ask.options and not set(scored_texts(ask.options)) <= tops[k].keys()
                for text in scored_texts(ask.options)]
        scored = self._pool.map(lambda job: self._score_text(asks[job[0]], job[1],
                                                             tops[job[0]]), jobs)
        each: list[dict[str, tuple[Pieces, int]]] = [{} for _ in asks]
        for (k, text), result in zip(jobs, scored, strict=True):
            each[k][text] = result
        return [self._finish_ask(ask, reply, mine)
                for ask, reply, mine in zip(asks, first, each, strict=True)]

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
            return self._complete(ask, ask.transcript, max_tokens=ask.max_chars, stop=[CLOSE],
                                  logprobs=1, temperature=max(self.temperature, 0.0),
                                  seed=seed)
        return self._next_token(ask, ask.transcript)

    def _next_token(self, ask: Ask | str | None, prompt: str) -> dict[str, Any]:
        """A next-token request with the top log-probs; ``ask`` as for :meth:`_complete`."""
        return self._complete(ask, prompt, max_tokens=1, logprobs=self.top_k, temperature=0.0)

    def _finish_ask(self, ask: Ask, first: dict[str, Any],
                    scored: dict[str, tuple[Pieces, int]]) -> Answer:
        """The answer from the first reply, and for options scored one by one, ``scored``:
        each scored text's tokens with their log-probs, and the tokens that cost."""
        tokens = self._count(ask, first)
        if ask.options is None:
            text = first["choices"][0].get("text") or ""
            text = text[:text.index(CLOSE)] if CLOSE in text else text
            return Answer(text[:ask.max_chars], generated_logprob(first), None, tokens)
        texts = scored_texts(ask.options)
        if not scored:
            top = next_top(first)
            scores = {o: top[t] for o, t in zip(ask.options, texts, strict=True)}
            return self._choose(ask, scores, {t: top[t] for t in texts}, tokens)
        scores, heads = {}, {}
        for option, text in zip(ask.options, texts, strict=True):
            pieces, used = scored[text]
            tokens += used
            scores[option] = sum(lp for _, lp in pieces)
            heads[pieces[0][0]] = pieces[0][1]
        return self._choose(ask, scores, heads, tokens)

    def _score_text(self, ask: Ask, text: str, top: dict[str, float]) -> tuple[Pieces, int]:
        """``text``'s tokens after the transcript with their log-probs, and the tokens used."""
        if self.echo == "none":  # each piece must be one token, found among the top
            return self._chain(ask, [text[:-len(CLOSE)], CLOSE] if text.endswith(CLOSE)
                               and text != CLOSE else [text], top)
        reply = self._complete(ask, ask.transcript + text, max_tokens=1, logprobs=1,
                               echo=True, temperature=0.0)
        used = self._count(ask, reply)
        pieces = _trailing(echoed_prompt(reply, ask.transcript + text), text, self.url)
        if self.echo == "shifted":
            chained, more = self._chain(ask, [t for t, _ in pieces], top)
            return chained, used + more
        return [(t, _known(lp, t, self.url)) for t, lp in pieces], used

    def _chain(self, ask: Ask, texts: list[str], top: dict[str, float]) -> tuple[Pieces, int]:
        """Each token text in ``texts`` with its log-prob after the transcript and the texts
        before it, from plain next-token requests (and the tokens those cost).

        For servers whose echoed log-probs are one position off (llama-cpp-python) or absent
        (llama-server): the top log-probs of a next-token request are right.
        """
        pieces, used = [], 0
        for j, text in enumerate(texts):
            if j > 0:
                reply = self._next_token(ask, ask.transcript + "".join(texts[:j]))
                top = next_top(reply)
                used += self._count(ask, reply)
            pieces.append((text, self._listed(top, text, _where(ask))))
        return pieces, used

    def _listed(self, top: dict[str, float], token: str, where: str) -> float:
        """``token``'s log-prob among a next-token reply's top log-probs; an error naming
        ``where`` when the server does not list it (its echo cannot say either)."""
        if token not in top:
            raise SblError.at(None, f"{token!r} is not among the top {self.top_k} next tokens "
                                    f"the server at {self.url} lists, and "
                                    f"{_ECHO_PROBLEM[self.echo]}, so it cannot be scored "
                                    f"({where})",
                              help="serve the model with vLLM, whose echo is right")
        return top[token]

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
        with self._lock:  # one ask's option requests run on several threads
            live = self._live[ask.participant]
            live.tokens_processed += total
            live.transcript_tokens = max(live.transcript_tokens, prompt)
        return total

    # -- scoring (sbl score) -------------------------------------------------------------

    def response_logprobs(self, text: str, spans: Sequence[tuple[int, int]]
                          ) -> ResponseLogprobs:
        """The summed log-probability of the tokens inside each span of ``text``, from one
        echo request; tokens are placed by their lengths counted back from the echo's end, as
        options are. Where the echo is one position late, each response token's log-prob comes
        from a next-token request instead."""
        from sbl.likelihood import token_owners

        if self.echo == "none":
            raise SblError.at(None, f"the server at {self.url} cannot score text: "
                                    f"{_ECHO_PROBLEM['none']}",
                              help="score with vLLM or a transformers model")
        where = f"scoring a transcript of {len(text)} characters"
        reply = self._complete(where, text, max_tokens=1, logprobs=1, echo=True,
                               temperature=0.0)
        echoed = _trailing(echoed_prompt(reply, text), text, self.url, whole=True)
        offsets, at = [], len(text) - sum(len(t) for t, _ in echoed)
        for token, _ in echoed:  # what precedes the text (vLLM's BOS) gets an empty span
            offsets.append((max(at, 0), at + len(token)) if at + len(token) > 0 else (0, 0))
            at += len(token)
        owners = token_owners(text, offsets, spans)
        mine = [i for i, owner in enumerate(owners) if owner is not None]
        if self.echo == "shifted":
            values = list(self._pool.map(
                lambda i: self._chain_one(where, text[:offsets[i][0]], echoed[i][0]), mine))
        else:
            values = [_known(echoed[i][1], echoed[i][0], self.url) for i in mine]
        total, count = [0.0] * len(spans), [0] * len(spans)
        for i, value in zip(mine, values, strict=True):
            total[owners[i] or 0] += value
            count[owners[i] or 0] += 1
        used = int((reply.get("usage") or {}).get("prompt_tokens", len(echoed)))
        return ResponseLogprobs(tuple(count), tuple(total), used)

    def _chain_one(self, where: str, prompt: str, token: str) -> float:
        """``token``'s log-prob after ``prompt``, from a next-token request's top log-probs."""
        return self._listed(next_top(self._next_token(where, prompt)), token, where)

    # -- the server ----------------------------------------------------------------------

    def _complete(self, ask: Ask | str | None, prompt: str, **fields: Any) -> dict[str, Any]:
        """One completion request; ``ask`` (or a phrase) says what it is for, in errors."""
        body = {"model": self.model, "prompt": prompt, **fields}
        where = ask if isinstance(ask, str) else _where(ask) if ask else "probing the server"
        return self.server.post("/completions", body, where)

    def _only_model(self) -> str:
        """The model id when the name gave none: the server must serve exactly one."""
        ids = [m["id"] for m in self.server.get("/models").get("data", [])]
        if len(ids) != 1:
            raise SblError.at(None, f"the server at {self.url} serves {len(ids)} models; "
                                    "name one: openai:URL#MODEL", help=", ".join(ids[:4]))
        return ids[0]

    def _probe(self) -> None:
        """Find once whether the server gives log-probs, and how it echoes them.

        The echoed log-prob of a token must equal its log-prob as the next token. Where it
        does not (llama-cpp-python reports the one after it), options are scored from
        next-token requests instead, with as many top log-probs as the server allows; where
        the prompt is not echoed at all (llama-server), from the top log-probs alone.
        """
        prompt = "Machine A or machine B? You press <<"
        top = next_top(self._next_token(None, prompt))
        if not top:
            raise SblError.at(None, f"the server at {self.url} does not return log-probs for "
                                    "/v1/completions",
                              help="sbl needs them to score options; vLLM, llama.cpp's "
                                   "llama-server and llama-cpp-python's server provide them")
        token = max(top, key=lambda t: top[t])
        echo = self._complete(None, prompt + token, max_tokens=1, logprobs=1, echo=True,
                              temperature=0.0)
        echoed = echoed_prompt(echo, prompt + token)
        if echoed is None:  # llama-server: only the top log-probs, so as many as it gives
            self.echo, self.top_k = "none", self._widest_top_k(prompt)
            return
        pieces = _trailing(echoed, token, self.url)
        echoed_lp = sum(_known(lp, t, self.url) for t, lp in pieces)
        self.echo = "shifted" if abs(echoed_lp - top[token]) > 0.05 else "right"
        if self.echo == "shifted":
            self.top_k = self._widest_top_k(prompt)

    def _widest_top_k(self, prompt: str) -> int:
        """The most top log-probs the server returns (vLLM caps them at 20 by default)."""
        for k in (1000, 100):
            try:
                self._complete(None, prompt, max_tokens=1, logprobs=k, temperature=0.0)
                return k
            except SblError:
                continue
        return TOP_K


_ECHO_PROBLEM = {"shifted": "its echoed log-probs are one position off",
                 "none": "it does not echo the prompt's log-probs (llama.cpp's llama-server)",
                 "right": "it is needed as one token"}


def _trailing(echoed: list[tuple[str, float | None]] | None, text: str, url: str, *,
              whole: bool = False) -> list[tuple[str, float | None]]:
    """The last echoed prompt tokens, which together spell ``text`` (the scored option); with
    ``whole``, every echoed token, checked to end with ``text`` (a BOS may come before)."""
    if echoed is None:
        raise SblError.at(None, f"the server at {url} stopped echoing the prompt")
    got, pieces = "", list[tuple[str, float | None]]()
    for token, logprob in reversed(echoed):
        if len(got) >= len(text) and not whole:
            break
        got = token + got
        pieces.insert(0, (token, logprob))
    if whole and not got.endswith(text):
        raise SblError.at(None, f"the server at {url} echoed tokens that do not spell the text "
                                "it was sent, so they cannot be placed in it")
    if not whole and got != text:
        raise SblError.at(None, f"the server at {url} tokenised {text!r} together with what "
                                f"comes before it ({got!r}), so it cannot be scored on its own",
                          help="Psych-101 responses start with a letter, digit or space")
    return pieces


def _known(logprob: float | None, token: str, url: str) -> float:
    if logprob is None:
        raise SblError.at(None, f"the server at {url} gave no log-prob for {token!r}")
    return float(logprob)


def _where(ask: Ask) -> str:
    """Which response of which participant a request is for, for error messages."""
    return f"participant {ask.participant}, response {len(RESPONSE.findall(ask.transcript)) + 1}"
