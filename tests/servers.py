"""Stand-ins for vLLM's and llama.cpp's OpenAI-compatible servers, computing real log-probs
with a transformers model (the tests' tiny one) and laying out replies as those servers do.

vLLM: ``vllm/entrypoints/openai/completion/serving.py`` at vllm-project/vllm commit
030ea52effcb05071543c8c42b8f0145e94cee43 (``request_output_to_completion_response`` and
``_create_completion_logprobs``; earlier releases had the same code in
``serving_completion.py``):

* with ``echo`` the token ids are the prompt's (BOS first) then the generated ones, and the
  log-probs are the prompt log-probs (``prompt_logprobs = logprobs``) then the generated ones;
* the first prompt position has no log-prob: its token is ``tokenizer.decode(id)``
  (``"<|begin_of_text|>"``), its log-prob and top log-probs ``None``;
* every other position has one dict: the actual token and then the top ``logprobs`` by rank,
  cut to ``logprobs + 1`` entries (``num_output_top_logprobs >= i``); -inf becomes -9999.0;
* ``text_offset`` starts at 0 and adds each decoded token's length, the BOS's included, while
  ``text`` is the prompt text (no BOS) plus the generated text;
* ``logprobs`` above the server's ``--max-logprobs`` (20 by default) is a 400:
  "Requested sample logprobs of N, which is greater than max allowed: 20".

llama.cpp's ``llama-server``: ``tools/server/server-task.cpp`` at ggml-org/llama.cpp commit
00efb3e184262872916bf136b3df63c1822a19bd (``to_json_oaicompat``, ``probs_vector_to_json``):
``logprobs = {"content": [{id, token, bytes, logprob, top_logprobs: [{id, token, bytes,
logprob}]}]}`` for the generated tokens only (``echo`` is not read), ``n_probs`` taken from
``logprobs``; ``usage`` counts the prompt's tokens with its BOS.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import torch


class Model:
    """Teacher-forced log-probs and greedy next tokens from a LoadedModel, one call at a time."""

    def __init__(self, loaded) -> None:
        self.lm, self.tok = loaded, loaded.tokenizer
        self._lock = threading.Lock()

    def encode(self, prompt: str) -> list[int]:
        return list(self.tok(prompt)["input_ids"])  # with the BOS, as servers tokenise

    def logprobs(self, ids: list[int]) -> torch.Tensor:
        """(len(ids), vocab): row t is log p(· | ids[:t+1])."""
        with self._lock, torch.inference_mode():
            logits = self.lm.model(input_ids=torch.tensor([ids]), use_cache=False).logits[0]
        return torch.log_softmax(logits.float(), dim=-1)

    def piece(self, token: int) -> str:
        return self.tok.decode([token])


def _ranked(row: torch.Tensor, k: int) -> list[tuple[int, float]]:
    values, ids = row.topk(min(k, row.numel()))
    return [(int(i), max(float(v), -9999.0)) for i, v in zip(ids, values, strict=True)]


def vllm_reply(model: Model, body: dict[str, Any], max_logprobs: int = 20) -> tuple[int, dict]:
    """(status, JSON) of vLLM's /v1/completions for a prompt, greedy, max_tokens 1."""
    k = body.get("logprobs")
    if k is not None and k > max_logprobs:
        message = (f"Requested sample logprobs of {k}, which is greater than max allowed: "
                   f"{max_logprobs}")
        return 400, {"error": {"message": message, "type": "BadRequestError",
                               "param": "logprobs", "code": 400}}
    prompt = body["prompt"]
    ids = model.encode(prompt)
    lps = model.logprobs(ids)
    new = int(lps[-1].argmax())
    steps: list[tuple[int, dict[int, float] | None]] = []
    if body.get("echo"):
        steps.append((ids[0], None))
        steps += [(t, _step(lps[i - 1], t, k or 0)) for i, t in enumerate(ids) if i > 0]
    steps.append((new, _step(lps[-1], new, k or 0)))
    choice: dict[str, Any] = {"index": 0, "text": (prompt if body.get("echo") else "")
                              + model.piece(new), "finish_reason": "length"}
    if k is not None:
        choice["logprobs"] = _completion_logprobs(model, steps)
    usage = {"prompt_tokens": len(ids), "completion_tokens": 1, "total_tokens": len(ids) + 1}
    return 200, {"id": "cmpl-standin", "object": "text_completion", "model": body["model"],
                 "choices": [choice], "usage": usage}


def _step(row: torch.Tensor, token: int, k: int) -> dict[int, float]:
    """vLLM's Logprob dict of one position: the actual token first, then the top k."""
    out = {token: max(float(row[token]), -9999.0)}
    for i, v in _ranked(row, k):
        out.setdefault(i, v)
    return out


def _completion_logprobs(model: Model, steps: list) -> dict[str, Any]:
    """``_create_completion_logprobs``: tokens, token_logprobs, top_logprobs, text_offset."""
    out: dict[str, list] = {"text_offset": [], "token_logprobs": [], "tokens": [],
                            "top_logprobs": []}
    offset = 0
    for token, step in steps:
        text = model.piece(token)
        out["tokens"].append(text)
        out["text_offset"].append(offset)
        offset += len(text)
        if step is None:
            out["token_logprobs"].append(None)
            out["top_logprobs"].append(None)
            continue
        out["token_logprobs"].append(step[token])
        out["top_logprobs"].append({model.piece(i): v for i, v in step.items()})
    return out


def llama_server_reply(model: Model, body: dict[str, Any]) -> tuple[int, dict]:
    """(status, JSON) of llama-server's /v1/completions: greedy, no echo."""
    ids = model.encode(body["prompt"])
    row = model.logprobs(ids)[-1]
    new = int(row.argmax())
    n_probs = int(body.get("n_probs", body.get("logprobs") or 0))
    logprobs: Any = None
    if n_probs:
        logprobs = {"content": [{
            "id": new, "token": model.piece(new), "bytes": list(model.piece(new).encode()),
            "logprob": float(row[new]),
            "top_logprobs": [{"id": i, "token": model.piece(i),
                              "bytes": list(model.piece(i).encode()), "logprob": v}
                             for i, v in _ranked(row, n_probs)]}]}
    return 200, {"choices": [{"text": model.piece(new), "index": 0, "logprobs": logprobs,
                              "finish_reason": "length"}],
                 "created": 0, "model": body.get("model", "smollm2"), "object": "text_completion",
                 "usage": {"completion_tokens": 1, "prompt_tokens": len(ids),
                           "total_tokens": len(ids) + 1},
                 "id": "chatcmpl-standin"}


class StandIn:
    """A local HTTP server answering /v1/models and /v1/completions with ``reply``.

    ``seen`` keeps every request body; ``faults`` is a list of callables run (and removed)
    one per request before the reply: each may write a broken reply itself and return True.
    """

    def __init__(self, reply: Callable[[dict], tuple[int, dict]], model_id: str) -> None:
        self.reply, self.model_id = reply, model_id
        self.seen: list[dict] = []
        self.faults: list[Callable[[BaseHTTPRequestHandler], bool]] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                self._send(200, {"object": "list", "data": [{"id": owner.model_id}]})

            def do_POST(self):  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                owner.seen.append(body)
                if owner.faults and owner.faults.pop(0)(self):
                    return
                self._send(*owner.reply(body))

            def _send(self, status: int, obj: dict) -> None:
                send_json(self, status, json.dumps(obj).encode())

            def log_message(self, *args) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def send_json(handler: BaseHTTPRequestHandler, status: int, data: bytes,
              length: int | None = None) -> None:
    """Write an HTTP reply; ``length`` may claim more bytes than are sent (a cut body)."""
    try:
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data) if length is None else length))
        handler.end_headers()
        handler.wfile.write(data)
    except (BrokenPipeError, ConnectionResetError):
        pass
