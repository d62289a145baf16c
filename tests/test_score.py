"""Scoring recorded responses: NLL of the response tokens from one teacher-forced pass."""

from __future__ import annotations

import math
import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import pytest  # noqa: E402

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from sbl.likelihood import pseudo_r2, response_spans, score_transcript  # noqa: E402
from sbl.participants import models  # noqa: E402
from sbl.participants.base import Ask  # noqa: E402
from sbl.participants.hf import HFResponder  # noqa: E402
from sbl.source import SblError  # noqa: E402

try:
    from tests.test_hf import Bandit, play
    from tests.tinymodel import INSTRUCTIONS, build_tiny_model
except ImportError:  # tests/ itself on sys.path
    from test_hf import Bandit, play  # type: ignore[no-redef]

    from tinymodel import INSTRUCTIONS, build_tiny_model  # type: ignore[no-redef]

TEXT = (INSTRUCTIONS.format(a="C", b="A")
        + "Machine C is orange and machine A is blue. You press <<C>> and get 7 points.\n"
        + "Machine C is red and machine A is blue. You press <<left>> and get 12 points.\n"
        + "You are instructed to press A and get 3 points.\n"
        + "Machine C is red and machine A is green. You press <<A>> and get 40 points.")


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    path = build_tiny_model(tmp_path_factory.getbasetemp() / "tiny-model-shared")
    return models.load(str(path), device="cpu")


def direct_nll(lm, text: str, start: int, end: int) -> tuple[float, int]:
    """NLL of text[start:end] given text[:start], from a forward pass over the prefix only."""
    prefix = lm.tokenizer(text[:start])["input_ids"]
    response = lm.tokenizer(text[start:end], add_special_tokens=False)["input_ids"]
    ids = torch.tensor([prefix + response])
    with torch.inference_mode():
        lp = torch.log_softmax(lm.model(input_ids=ids).logits[0].float(), dim=-1)
    n = len(prefix)
    return -float(sum(lp[n + j - 1, t] for j, t in enumerate(response))), len(response)


def test_response_spans_are_the_marked_text_only():
    spans = response_spans(TEXT)
    assert [TEXT[s:e] for s, e in spans] == ["C", "left", "A"]  # not the instructed press


def test_score_equals_a_direct_computation(tiny):
    result = score_transcript(tiny, TEXT)
    assert [c.response for c in result.choices] == ["C", "left", "A"]
    for choice, (start, end) in zip(result.choices, response_spans(TEXT), strict=True):
        nll, n = direct_nll(tiny, TEXT, start, end)
        assert choice.nll == pytest.approx(nll, abs=1e-4)
        assert choice.tokens == n
    assert result.choices[1].tokens > 1  # "left" is several tokens in the tiny vocabulary
    assert result.nll == pytest.approx(sum(c.nll for c in result.choices))
    assert result.transcript_tokens == len(tiny.tokenizer(TEXT)["input_ids"])


def test_pseudo_r2_uses_ln_k_per_choice(tiny):
    result = score_transcript(tiny, TEXT, option_counts=[2, 2, 4])
    assert result.nll_random == pytest.approx(2 * math.log(2) + math.log(4))
    assert result.pseudo_r2 == pytest.approx(1 - result.nll / result.nll_random)
    other = score_transcript(tiny, TEXT.replace("<<C>>", "<<A>>"), option_counts=[2, 2, 4])
    pooled = pseudo_r2([result, other])
    assert pooled == pytest.approx(1 - (result.nll + other.nll)
                                   / (result.nll_random + other.nll_random))
    assert score_transcript(tiny, TEXT).pseudo_r2 is None
    with pytest.raises(SblError, match="3 responses but 2 option counts"):
        score_transcript(tiny, TEXT, option_counts=[2, 2])


def test_score_matches_what_the_simulating_participant_saw(tiny):
    bandit = Bandit(2)
    log = play(HFResponder(tiny), bandit, 12)
    for i in range(2):
        result = score_transcript(tiny, bandit.text[i], option_counts=[2] * 12)
        assert [c.response for c in result.choices] == [step[i].response for step in log]
        for choice, step in zip(result.choices, log, strict=True):
            chosen = step[i].meta["option_logprobs"][choice.response]
            assert choice.nll == pytest.approx(-chosen, abs=1e-4)


def test_edge_cases(tiny):
    empty = score_transcript(tiny, INSTRUCTIONS.format(a="C", b="A"))
    assert empty.choices == () and empty.nll == 0.0
    assert empty.nll_random == 0 and empty.pseudo_r2 is None
    with pytest.raises(SblError, match="shares a token with the ' <<'"):
        score_transcript(tiny, INSTRUCTIONS + "You press <<-1>> and get 2 points.")


def test_options_that_begin_one_another_are_scored_with_their_marker(tiny):
    text = INSTRUCTIONS.format(a="C", b="A") + "Rate it from 1 to 10. You say <<1>> and go on."
    start, end = response_spans(text)[0]
    closed = score_transcript(tiny, text, options=[("1", "10", "2")]).choices[0]
    assert closed.nll == pytest.approx(direct_nll(tiny, text, start, end + 2)[0], abs=1e-4)
    assert closed.response == "1" and closed.options == 3
    plain = score_transcript(tiny, text, options=[("1", "2")]).choices[0]
    assert plain.nll == pytest.approx(direct_nll(tiny, text, start, end)[0], abs=1e-4)
    # and as the simulating participant scores it: the same number
    ask_text = text[:start]
    answer = HFResponder(tiny).answer([Ask("p", ask_text, ("1", "10", "2"))])[0]
    assert -answer.meta["option_logprobs"]["1"] == pytest.approx(closed.nll, abs=1e-4)


def one_pass_logprobs(lm, text: str) -> list[float]:
    """Each response's log-prob from one plain forward pass over all of ``text`` (no cache,
    every logit): how scoring worked before texts shared their first tokens."""
    from sbl.likelihood import token_owners

    enc = lm.tokenizer(text, return_offsets_mapping=True)
    owners = token_owners(text, enc["offset_mapping"], response_spans(text))
    with torch.inference_mode():
        lp = torch.log_softmax(lm.model(input_ids=torch.tensor([enc["input_ids"]]))
                               .logits[0].float(), dim=-1)
    totals = [0.0] * len(response_spans(text))
    for t, owner in enumerate(owners):
        if owner is not None:
            totals[owner] += float(lp[t - 1, enc["input_ids"][t]])
    return totals


def test_texts_scored_together_share_their_first_tokens_and_numbers(tiny):
    from sbl.likelihood import score_transcripts

    bandit = Bandit(4)
    play(HFResponder(tiny), bandit, 5)
    texts = {f"p{i}": text for i, text in enumerate(bandit.text)}
    texts["longer"] = texts["p1"] + "Machine C is red. You press <<C>> and get 1 point.\n"
    texts["same"] = texts["p2"]
    texts["none"] = INSTRUCTIONS.format(a="C", b="A")  # no response: nothing fed
    texts["other"] = "Nothing in common. You press <<A>> and then <<B>> twice."
    fed: list[int] = []
    hook = tiny.model.get_input_embeddings().register_forward_hook(
        lambda module, args, out: fed.append(args[0].shape[1]))
    try:
        together = score_transcripts(tiny, {k: (t, None, None) for k, t in texts.items()})
    finally:
        hook.remove()
    assert list(together) == list(texts)  # in the order given, whatever order they ran in
    for key, text in texts.items():
        alone = score_transcript(tiny, text)
        want = one_pass_logprobs(tiny, text)
        assert [-c.nll for c in together[key].choices] == pytest.approx(want, abs=1e-4)
        assert [c.nll for c in together[key].choices] == pytest.approx(
            [c.nll for c in alone.choices], abs=1e-4)
        assert together[key].transcript_tokens == len(tiny.tokenizer(text)["input_ids"])
    whole = sum(len(tiny.tokenizer(t)["input_ids"]) for t in texts.values())
    assert sum(fed) < whole * 0.7  # the instructions and the repeated texts were fed once
