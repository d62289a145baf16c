"""The OpenAI participant against stand-ins of vLLM and llama-server that compute real log-probs
with the tiny model (tests/servers.py says which source each follows): options are aligned by
tokens, the same seed gives the transformers participant's choices, options sharing a prefix
are scored with their ">>", and llama-server's top log-probs are enough for one-token options."""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import pytest  # noqa: E402

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from sbl.participants import models  # noqa: E402
from sbl.participants.base import Ask  # noqa: E402
from sbl.participants.hf import HFResponder  # noqa: E402
from sbl.participants.openai import OpenAIResponder  # noqa: E402
from sbl.source import SblError  # noqa: E402

try:
    from tests.servers import Model, StandIn, llama_server_reply, vllm_reply
    from tests.tinymodel import BOS, build_tiny_model
except ImportError:  # tests/ itself on sys.path
    from servers import Model, StandIn, llama_server_reply, vllm_reply  # type: ignore[no-redef]

    from tinymodel import BOS, build_tiny_model  # type: ignore[no-redef]

PROMPT = ("You are participating in multiple games involving two slot machines, labeled C and A."
          "\nMachine C is orange and machine A is blue. You press <<")


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    path = build_tiny_model(tmp_path_factory.getbasetemp() / "tiny-model-shared")
    return models.load(str(path), device="cpu")


@pytest.fixture(scope="module")
def vllm(tiny):
    server = StandIn(lambda body: vllm_reply(Model(tiny), body), "tiny")
    yield server
    server.close()


@pytest.fixture(scope="module")
def llama_server(tiny):
    server = StandIn(lambda body: llama_server_reply(Model(tiny), body), "tiny")
    yield server
    server.close()


def _both(tiny, url: str, ask: Ask):
    served = OpenAIResponder(f"openai:{url}").answer([ask])[0]
    local = HFResponder(tiny).answer([ask])[0]
    return served, local


def test_vllm_echo_counts_the_bos_and_options_are_aligned_by_tokens(tiny, vllm):
    responder = OpenAIResponder(f"openai:{vllm.url}")
    assert responder.echo == "right"  # the BOS's 17 characters do not fool the probe
    echo = next(b for b in vllm.seen if b.get("echo"))
    assert echo["logprobs"] == 1
    ask = Ask("p", PROMPT, ("left", "right", "C"))
    served = responder.answer([ask])[0]
    local = HFResponder(tiny).answer([ask])[0]
    for option in ask.options:
        assert served.meta["option_logprobs"][option] == pytest.approx(
            local.meta["option_logprobs"][option], abs=1e-4)
    assert all(b["logprobs"] <= 20 for b in vllm.seen)  # within vLLM's default --max-logprobs


def test_the_stand_in_replies_as_vllm_does(tiny, vllm):
    status, reply = vllm_reply(Model(tiny), {"model": "tiny", "prompt": "You press <<",
                                             "echo": True, "logprobs": 3, "max_tokens": 1})
    logprobs = reply["choices"][0]["logprobs"]
    assert status == 200 and logprobs["tokens"][0] == BOS and logprobs["token_logprobs"][0] is None
    assert logprobs["text_offset"][1] == len(BOS) == 17
    assert all(len(top) <= 4 for top in logprobs["top_logprobs"][1:])
    assert vllm_reply(Model(tiny), {"model": "tiny", "prompt": "x", "logprobs": 21})[0] == 400


def test_same_seed_same_choices_on_both_paths(tiny, vllm):
    from sbl.experiment import load
    from sbl.simulate import simulate

    experiment = load("examples/bandit.sbl")
    served = experiment.simulate(f"openai:{vllm.url}", participants=3, batch=3, seed=11,
                                 timeout=5)
    local = simulate(experiment.ir, HFResponder(tiny, seed=11), participants=3, batch=3,
                     seed=11)
    picks = [[row["response"] for row in rows] for rows in (served, local)]
    assert picks[0] == picks[1]
    assert len(set(picks[0])) > 1  # really sampled, not one answer throughout
    other = simulate(experiment.ir, OpenAIResponder(f"openai:{vllm.url}", seed=12),
                     participants=3, batch=3, seed=11)
    assert [row["response"] for row in other] != picks[0]


@pytest.mark.parametrize("options", [("1", "10", "2"), ("car", "cart")])
def test_options_sharing_a_prefix_are_scored_with_their_marker(tiny, vllm, options):
    served, local = _both(tiny, vllm.url, Ask("p", PROMPT, options))
    lps = Model(tiny)
    for option in options:
        ids = lps.encode(PROMPT + option + ">>")
        n = len(ids) - len(lps.encode(PROMPT))
        rows = lps.logprobs(ids)
        want = sum(float(rows[t - 1, ids[t]]) for t in range(len(ids) - n, len(ids)))
        assert local.meta["option_logprobs"][option] == pytest.approx(want, abs=1e-4)
        assert served.meta["option_logprobs"][option] == pytest.approx(want, abs=1e-4)


def test_llama_server_scores_one_token_options_from_its_top_logprobs(tiny, llama_server):
    responder = OpenAIResponder(f"openai:{llama_server.url}")
    assert responder.echo == "none"
    ask = Ask("p", PROMPT, ("C", "A"))
    served = responder.answer([ask])[0]
    local = HFResponder(tiny).answer([ask])[0]
    for option in ask.options:
        assert served.meta["option_logprobs"][option] == pytest.approx(
            local.meta["option_logprobs"][option], abs=1e-4)
    with pytest.raises(SblError, match="does not echo the prompt's log-probs"):
        responder.answer([Ask("p", PROMPT, ("left", "right"))])


def test_simulate_on_a_server_says_retries_and_the_model(vllm, tmp_path):
    import json

    from click.testing import CliRunner

    from sbl.cli import main

    try:
        from tests.servers import send_json
    except ImportError:
        from servers import send_json  # type: ignore[no-redef]

    def busy(handler) -> bool:
        send_json(handler, 503, b'{"error": {"message": "busy", "code": 503}}')
        return True

    vllm.faults = [lambda h: False] * 2 + [busy]  # the probe's two requests go through
    summary = tmp_path / "run.json"
    result = CliRunner().invoke(main, ["simulate", "examples/bandit.sbl", "--model",
                                       f"openai:{vllm.url}", "--summary", str(summary),
                                       "--timeout", "5", "--seed", "3"])
    assert result.exit_code == 0, result.output
    assert "answered 503" in result.stderr and "trying again" in result.stderr
    assert "model: openai:tiny" in result.stderr
    cost = json.loads(summary.read_text())
    assert cost["retries"] == 1 and cost["model"] == "openai:tiny"


SCORED = (PROMPT + "C>> and get 7 points.\nMachine C is red and machine A is blue. You press "
          "<<left>> and get 12 points.\nRate it from 1 to 10. You say <<1>> and go on.")
SCORED_OPTIONS = [("C", "A"), ("left", "right"), ("1", "10", "2")]


def test_scoring_on_a_vllm_server_equals_transformers(tiny, vllm):
    from sbl.likelihood import score_transcript

    served = score_transcript(OpenAIResponder(f"openai:{vllm.url}"), SCORED,
                              options=SCORED_OPTIONS)
    local = score_transcript(tiny, SCORED, options=SCORED_OPTIONS)
    assert [c.response for c in served.choices] == ["C", "left", "1"]
    for got, want in zip(served.choices, local.choices, strict=True):
        assert got.nll == pytest.approx(want.nll, abs=1e-4)
        assert got.tokens == want.tokens
    assert served.choices[1].tokens > 1 and served.choices[2].tokens >= 2  # "1" and ">>"
    assert served.transcript_tokens == local.transcript_tokens


def test_sbl_score_takes_a_server(tiny, vllm, tmp_path):
    from click.testing import CliRunner

    from sbl.cli import main
    from sbl.experiment import load
    from sbl.scoring import score
    from sbl.simulate import simulate

    data = tmp_path / "sim.csv"
    simulate(load("examples/bandit.sbl").ir, HFResponder(tiny), participants=2, output=data)
    result = CliRunner().invoke(main, ["score", str(data), "--experiment", "examples/bandit.sbl",
                                       "--model", f"openai:{vllm.url}", "--timeout", "10",
                                       "-o", str(tmp_path / "nll.csv")])
    assert result.exit_code == 0, result.output
    local = score(data, tiny, "examples/bandit.sbl")
    assert f"NLL {local.nll:.3f}" in result.output
    assert local.choices == 22 and "22 choices" in result.output


def test_llama_server_cannot_score(llama_server):
    with pytest.raises(SblError, match="cannot score text"):
        OpenAIResponder(f"openai:{llama_server.url}").response_logprobs(SCORED, [(0, 1)])
