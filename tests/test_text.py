"""The text interpreter: rows, Psych-101 transcripts, labels, blocks, batching, the row file."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest

import sbl
from sbl import kinds
from sbl.backends.text import render, run_experiment, transcript
from sbl.backends.text.answers import label_order
from sbl.experiment import Experiment
from sbl.parse import parse
from sbl.participants.base import Answer
from sbl.participants.random import RandomResponder
from sbl.participants.scripted import Scripted
from sbl.passes import resolve
from sbl.prng import Prng, shuffle
from sbl.source import SblError
from tests import parity

ROOT = Path(__file__).resolve().parent.parent
BANDIT = ROOT / "examples" / "bandit.sbl"


def loads(text: str, check: bool = True) -> Experiment:
    """An experiment from text; without ``check`` only parsed and resolved (for features the
    checker does not know yet)."""
    if check:
        return sbl.loads(text, "test.sbl")
    return Experiment(resolve(parse(text, "test.sbl")), Path("test.sbl"))


class Recorder:
    """A responder that answers from a script and keeps every ask it was given."""

    name = "recorder"

    def __init__(self, responses, tokens=0, invalid_mass=None, inner=None) -> None:
        self.inner = inner or Scripted(responses)
        self.asks, self.batches = [], []
        self.tokens, self.invalid_mass = tokens, invalid_mass
        self.finished = {}

    def answer(self, asks):
        self.asks += asks
        self.batches.append(len(asks))
        return [Answer(a.response, tokens=self.tokens, invalid_mass=self.invalid_mass)
                for a in self.inner.answer(asks)]

    def finish(self, participant, text):
        self.finished[participant] = text


@pytest.fixture(scope="module")
def bandit():
    return sbl.load(BANDIT)


def letters_of(seed: int) -> tuple[str, str]:
    order = label_order(seed)
    return order[0], order[1]


# ---------------------------------------------------------------- the bandit, scripted


def test_scripted_bandit_rows_and_running_score(bandit):
    first, second = letters_of(0)
    rows = run_experiment(bandit.ir, Scripted([first, second, second] * 4))
    arms = [r for r in rows if r["kind"] == "bandit"]
    scores = [r for r in rows if r["kind"] == "text"]
    assert len(arms) == 11 and len(scores) == 11
    assert [r["response"] for r in arms] == [0, 1, 1] * 3 + [0, 1]
    values = [r["value"] for r in arms]
    assert values == [10 if r["response"] == 0 else 0 for r in arms[:1]] + values[1:]
    for i, (arm, score) in enumerate(zip(arms, scores, strict=True)):
        expected = sum(values[:i + 1])
        assert arm["score"] == expected and score["score"] == expected
        assert score["text"] == f"Score: {expected}"
        assert arm["arms"][arm["response"]]["value"] == arm["value"]
    assert rows[0]["kind"] == "instructions" and rows[0]["trial"] == "instructions"
    assert [r["trial_index"] for r in rows] == list(range(23))
    assert {r["source"] for r in rows} == {"scripted"} and {r["rt"] for r in rows} == {None}
    assert list(rows[1])[:11] == ["participant", "seed", "source", "block", "pass", "pass_path",
                                  "trial_index", "trial", "kind", "response", "rt"]
    assert rows[1]["block"] == "main" and rows[1]["trial"] == "main/bandit"
    assert (rows[0]["pass"], rows[0]["pass_path"]) == (None, "")  # the top level
    assert {(r["pass"], r["pass_path"]) for r in rows[1:]} == {(1, "1")}


def test_transcript_follows_psych101(bandit):
    first, second = letters_of(0)
    responder = Recorder([first, second] * 6)
    rows = run_experiment(bandit.ir, responder)
    text = rows.transcripts["1"]
    assert responder.finished["1"] == text
    lines = text.split("\n")
    assert lines[4] == "" and lines[3].startswith("Your goal")  # instructions, blank line
    # the labels introduced once, with the machines, before the first choice
    assert lines[5] == (f"There are two slot machines, labeled {first} and {second}. "
                        f"Machine {first} is orange and machine {second} is blue.")
    assert lines[6] == f"You press <<{first}>> and get 10 points."  # only what changed
    assert lines[7] == 'You see "Score: 10".'  # a screen without response, no duration
    assert lines[8] == f"You press <<{second}>> and get 1 point."
    assert len(lines) == 5 + 1 + 2 * 11 and "Machine" not in "".join(lines[6:])
    assert not text.endswith("\n")
    assert len(re.findall(r" <<[A-Z]>>", text)) == 11
    assert text.count("<<") == text.count(">>") == 11  # markers only around answers
    for ask in responder.asks:
        assert ask.transcript.endswith(" <<") and ask.options == (first, second)
    # Each ask extends the one before it with the answer: the text only ever grows.
    for before, after in zip(responder.asks, responder.asks[1:], strict=False):
        assert after.transcript.startswith(before.transcript)
    assert text.startswith(responder.asks[-1].transcript)


def test_labels_are_per_participant_and_leave_the_main_stream_alone():
    exp = loads("""
experiment "x"
table t = [{w: "a"}, {w: "b"}, {w: "c"}, {w: "d"}, {w: "e"}]
block b over t shuffle {
  choice { stimulus: w, choices: ["yes", "no", "maybe"] }
}
""")
    orders = set()
    for seed in range(6):
        order = label_order(seed)
        assert sorted(order) == [chr(c) for c in range(65, 91)]
        orders.add(order[:3])
        rows = run_experiment(exp.ir, RandomResponder(seed), seed=seed)
        expected = [r["w"] for r in shuffle(Prng(seed), [{"w": c} for c in "abcde"])]
        assert [r["stimulus"] for r in rows] == expected
        text = rows.transcripts["1"]
        assert f'Option {order[0]} is "yes", option {order[1]} is "no" and option ' \
               f'{order[2]} is "maybe".' in text
    assert len(orders) == 6


def test_keys_html_and_forced_answers():
    exp = loads("""
experiment "x"
html_keyboard { stimulus: "<p>Press <b>a key</b> &amp; go</p>", choices: [" ", "ArrowLeft"] }
text { text: "Press space.", choices: [" "] }
text { text: "Multi\\n  line", duration: 300 }
""")
    rows = run_experiment(exp.ir, Scripted(["left"]))
    text = rows.transcripts["1"]
    assert text.split("\n") == [
        "You can press SPACE or LEFT.",  # the keys of a free choice, stated when they change
        'You see "Press a key & go". You press <<LEFT>>.',
        'You see "Press space." You press SPACE.',  # a single key: nothing to choose
        'You see "Multi line".']
    assert [r["response"] for r in rows] == ["ArrowLeft", " ", None]
    assert rows.n_responses == 1  # the forced SPACE is not a free response


def test_prompt_replaces_the_template(tmp_path):
    exp = loads("""
experiment "x"
table t = [{word: "RED", ink: "green"}]
block b over t {
  text { text: word, color: ink, choices: ["f", "j"], correct_key: "j",
         prompt: "The word {word} in {ink} ink. Key {answer} ({correct})." }
  text { text: word, choices: ["f", "j"], prompt: "You read {text}." }
  bandit { arms: [{color: "red", value: 1}, {color: "blue", value: 2}],
           prompt: "Pick {labels[0]} or {labels[1]}: {answer}, worth {value}." }
}
""", check=False)
    a, b = letters_of(0)
    text = run_experiment(exp.ir, Scripted(["j", "F", b])).transcripts["1"]
    assert text.split("\n") == [
        "The word RED in green ink. Key <<J>> (true).",
        "You read RED. You press <<F>>.",
        f"Pick {a} or {b}: <<{b}>>, worth 2."]


def test_prompt_may_not_show_the_outcome_before_the_answer():
    exp = loads("""
experiment "x"
bandit { arms: [{color: "red", value: 1}, {color: "blue", value: 2}],
         prompt: "You get {value} points after pressing {answer}." }
""", check=False)
    with pytest.raises(SblError, match="uses 'value' before {answer}"):
        run_experiment(exp.ir, Scripted(["A"]))


def test_a_template_that_shows_the_outcome_early_is_an_error():
    bad = render.environment().from_string("You get {{ value }} points. You press {{ answer }}.")
    tracker = render.Tracker(1)
    context = {"value": render.Pending("value", tracker), "answer": render.Slot(0, tracker)}
    with pytest.raises(SblError, match="template of 'bad' shows 'value' before the answer"):
        render.render("bad", context, 1, tracker, source=bad)
    good = render.environment().from_string("You press {{ answer }} and get {{ value }}.")
    tracker = render.Tracker(1)
    context = {"value": render.Pending("value", tracker), "answer": render.Slot(0, tracker)}
    assert render.render("good", context, 1, tracker, source=good).segments[0] == "You press "


def test_blocks_repeat_sample_condition_until_and_prev():
    exp = loads("""
experiment "x"
shared x = 0
shared y = 0
text start { text: "go" }
block rep over [{n: 1}, {n: 2}, {n: 3}] repeat 2 sample 2 {
  text { text: "{n} {prev.trial}", after { x = x + 1  y = x * 10 } }
}
block never if x > 100 { text { text: "never" } }
loop practice until len(trials) == 2 and y > 55 max 4 {
  text { text: "loop {x}", after { x = x + 1 } }
  text { text: "again", after { y = x * 10 } }
}
loop capped until false max 3 { text { text: "capped" } }
""")
    rows = run_experiment(exp.ir, Scripted([]))
    texts = [r["text"] for r in rows][1:]
    assert texts[:4] == ["1 start", "2 rep/text", "1 rep/text", "2 rep/text"]
    assert [r["y"] for r in rows[1:5]] == [10, 20, 30, 40]  # each assignment sees the last
    assert "never" not in texts
    # Two passes: `trials` holds one pass's rows; y is 50, then 60.
    assert texts[4:] == ["loop 4", "again", "loop 5", "again"] + ["capped"] * 3
    assert rows[-1]["x"] == 6 and rows[-1]["y"] == 60


def test_batched_lockstep_equals_one_at_a_time():
    exp = loads("""
experiment "x"
table t = [{w: "a"}, {w: "b"}, {w: "c"}]
block b over t shuffle {
  choice { stimulus: w, choices: ["yes", "no"] }
  text { text: "{w}?", choices: ["f", "j"] }
}
""")
    one = run_experiment(exp.ir, RandomResponder(3), participants=5, seed=10)
    responder = Recorder([])
    responder.inner, responder.name = RandomResponder(3), "random"
    many = run_experiment(exp.ir, responder, participants=5, seed=10, batch=2)
    assert list(one) == list(many) and one.transcripts == many.transcripts
    assert max(responder.batches) == 2 and one.participants == ["1", "2", "3", "4", "5"]
    assert [r["participant"] for r in one][:6] == ["1"] * 6  # rows grouped by participant


def test_summary_counts_tokens_and_invalid_mass(bandit):
    rows = run_experiment(bandit.ir, Recorder([], 7, 0.25, RandomResponder()), participants=2,
                          batch=2)
    s = rows.summary
    assert (s.participants, s.trials, s.asks) == (2, 46, 22)
    assert s.tokens_processed == 7 * 22 and s.invalid_mass == pytest.approx(0.25)
    assert s.per_participant["2"]["tokens"] == 7 * 11 and s.transcript_tokens is None
    assert '"tokens_processed": 154' in s.to_json()


def test_rows_file_grows_during_the_run(bandit, tmp_path):
    out = tmp_path / "rows.csv"
    seen = []

    class Watcher(Recorder):
        def answer(self, asks):
            with out.open(encoding="utf-8") as f:
                seen.append(len(list(csv.reader(f))) - 1)  # rows on disk, header excluded
            return super().answer(asks)

    a, b = letters_of(0)
    rows = run_experiment(bandit.ir, Watcher([a, b] * 6), output=out)
    assert seen == [1 + 2 * i for i in range(11)]  # every finished trial is already there
    with out.open(encoding="utf-8") as f:
        assert len(list(csv.DictReader(f))) == len(rows) == 23


def test_invalid_answers_and_running_out_are_errors(bandit):
    with pytest.raises(SblError, match="scripted response 1 is 'Z'"):
        run_experiment(bandit.ir, Scripted(["Z"]))
    a, _ = letters_of(0)
    with pytest.raises(SblError, match="the script has 2 responses"):
        run_experiment(bandit.ir, Scripted([a, a]))


def test_open_transcript_and_api(bandit):
    a, b = letters_of(0)
    text = transcript(bandit.ir)
    assert f"Machine {a} is orange and machine {b} is blue.\nYou press <<?>> and get … " \
           "points." in text
    assert 'You see "Score: …".' in text and "<<" not in text.replace(" <<?>>", "")
    scripted = transcript(bandit.ir, Scripted([a] * 11))
    assert scripted.count(f"<<{a}>>") == 11 and "Score: 55" in scripted


def test_evaluation_errors_name_the_trial():
    exp = loads("""
experiment "x"
table t = [{n: 1}, {n: 0}]
block b over t { text { text: "{10 / n}" } }
""")
    with pytest.raises(SblError) as info:
        run_experiment(exp.ir, Scripted([]))
    d = info.value.diagnostics[0]
    assert "division by zero" in d.message and d.span.line == 4
    assert "trial 'b/text' (participant 1, trial_index 1)" in d.help


@pytest.mark.slow
def test_a_model_answers_batches_through_the_same_driver(tmp_path):
    """The batching hook end to end: a tiny transformers model, two participants in lockstep."""
    pytest.importorskip("transformers")
    from sbl.participants import models
    from sbl.participants.hf import HFResponder
    from tests.tinymodel import build_tiny_model

    lm = models.load(str(build_tiny_model(tmp_path / "tiny")), device="cpu")
    responder = HFResponder(lm, batch_size=2)
    rows = run_experiment(sbl.load(BANDIT).ir, responder, participants=2, batch=2, seed=4)
    s = rows.summary
    assert (s.participants, s.trials, s.asks) == (2, 46, 22) and 0 <= s.invalid_mass <= 1
    for participant, text in rows.transcripts.items():
        a, b = letters_of(int(participant) + 3)
        assert len(re.findall(rf" <<[{a}{b}]>>", text)) == 11
        # Every token up to the last ask is fed exactly once (BOS included); what follows the
        # last answer is never fed, as no ask follows it.
        last_ask = text[:text.rindex(" <<") + 3]
        assert s.per_participant[participant]["tokens"] == len(
            lm.tokenizer(last_ask)["input_ids"])
    assert s.transcript_tokens == sum(len(lm.tokenizer(t)["input_ids"])
                                      for t in rows.transcripts.values())


@pytest.mark.parametrize("seed", [0, 5])
def test_every_kind_records_the_response_its_example_declares(seed):
    rows = parity.example_rows(parity.every_kind(), seed)
    assert [r["kind"] for r in rows] == sorted(kinds.all_kinds())
    assert [r["response"] for r in rows] == [parity.declared_response(r) for r in rows]


def test_any_key_is_not_asked_and_is_no_free_response() -> None:
    """choices: ["any"]: the text participant presses SPACE unasked, the row records " ",
    and the row does not count as a free response (so --until skips it)."""
    experiment = sbl.loads('experiment "Any"\ntext { text: "Press any key" choices: ["any"] }\n'
                           'text { text: "F or J" choices: ["f", "j"] }\n'
                           'html_keyboard { stimulus: "<p>Go</p>" choices: ["any"] }\n',
                           "any.sbl")
    rows = experiment.run(Scripted(["j"]), seed=0)
    assert [r["response"] for r in rows] == [" ", "j", " "]
    assert rows.n_responses == 1
    text = experiment.transcript(Scripted(["j"]), seed=0)
    assert 'You see "Press any key". You press SPACE.\n' in text
    assert text.count("<<") == 1
