"""The web backend: the compiled page, and real runs of it in headless Chromium.

The browser tests open pages from disk with Playwright's fake clock (durations are skipped
with ``run_for``), click and type like a person, and check the downloaded data.
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest

import sbl
from sbl import ir, kinds, prng
from sbl.backends import web
from sbl.backends.web import assets, payload
from sbl.data import schema
from tests import parity
from tests.browser import file_url, http_url, launch, needs_chromium, served, session

ROOT = Path(__file__).resolve().parent.parent
RUNTIME = ROOT / "sbl" / "backends" / "web" / "runtime.js"
XSS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "</script><script>alert(1)</script>",
    "javascript:alert(1)",
    '"><svg onload=alert(1)>',
]


# ---------------------------------------------------------------- experiments built by hand


def lit(value: Any) -> ir.Expr:
    """A literal, or a list/record display of literals."""
    if isinstance(value, list):
        return ir.ListExpr(tuple(lit(v) for v in value))
    if isinstance(value, dict):
        return ir.RecordExpr(tuple(ir.Field(k, lit(v)) for k, v in value.items()))
    return ir.Literal(value)


def stim(id_: str, kind: str, after: tuple[ir.Assign, ...] = (), **params: Any) -> ir.Stimulus:
    """A stimulus; parameter values that are not IR nodes become literals."""
    ps = tuple(ir.Param(k, v if isinstance(v, ir.EXPR_CLASSES) else lit(v))  # type: ignore[arg-type]
               for k, v in params.items())
    return ir.Stimulus(id_, kind, ps, after)


def bandit_experiment(**settings: Any) -> ir.Experiment:
    """The tutorial's two-armed bandit, as the brief describes it, built with IR constructors."""
    i = ir.Name("i")
    row = ir.RecordExpr((
        ir.Field("bandit_1", ir.RecordExpr((ir.Field("color", lit("orange")),
                                            ir.Field("value", ir.Binary(ir.BinaryOp.SUB,
                                                                        lit(10), i))))),
        ir.Field("bandit_2", ir.RecordExpr((ir.Field("color", lit("blue")),
                                            ir.Field("value", i)))),
    ))
    table = ir.Table("arms", ir.Comprehension(row, "i", ir.Range(lit(0), lit(10))),
                     ("bandit_1", "bandit_2"))
    score = ir.Name("score")
    bandit = stim("main/bandit", "bandit",
                  after=(ir.Assign("score", ir.Binary(ir.BinaryOp.ADD, score, ir.Name("value"))),),
                  arms=ir.ListExpr((ir.Name("bandit_1"), ir.Name("bandit_2"))))
    text = stim("main/text", "text", text=ir.Template(("Score: ", score)), duration=2000)
    block = ir.Block("main", (bandit, text), over=ir.Name("arms"))
    return ir.Experiment(
        "Two-armed bandit",
        settings=tuple(ir.Param(k, lit(v)) for k, v in settings.items()),
        decls=(ir.Shared("score", lit(0)), table), body=(block,),
        span=ir.Span("examples/bandit.sbl", 1, 1, 1, 1))


def arm_values(trial: int) -> tuple[int, int]:
    """The points of arm 0 (orange) and arm 1 (blue) on bandit trial ``trial``."""
    return 10 - trial, trial


def load(text: str, path: str = "test.sbl") -> ir.Experiment:
    """A checked experiment from .sbl text (needs the parser and checker)."""
    from sbl.experiment import loads

    return loads(text, path).ir


def sbl_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The jsPsych rows that are sbl trials, in order."""
    return [r for r in rows if "trial" in r]


# ---------------------------------------------------------------- the page as text


def ir_json(html: str) -> dict[str, Any]:
    """The JSON document embedded in a page."""
    m = re.search(r'<script type="application/json" id="sbl-ir">(.*?)</script>', html, re.S)
    assert m, "no #sbl-ir element"
    return json.loads(m.group(1))  # type: ignore[no-any-return]


def test_every_kind_has_a_runtime_mapping() -> None:
    source = RUNTIME.read_text(encoding="utf-8")
    start = source.index("const KINDS = {")
    table = source[start:source.index("\n  };", start)]
    mapped = set(re.findall(r"^    (\w+): \{$", table, re.M))
    declared = set(kinds.all_kinds())
    missing = declared - mapped - set(payload.UNSUPPORTED)
    assert not missing, f"kinds without a mapping in runtime.js: {sorted(missing)}"
    assert not mapped - declared, f"runtime.js maps undeclared kinds: {sorted(mapped - declared)}"
    for name in declared - set(payload.UNSUPPORTED):
        kind = kinds.all_kinds()[name]
        assert {kind.plugin, *kind.extra_plugins} <= set(assets.plugin_names()), name


def test_page_carries_the_ir_as_escaped_json() -> None:
    exp = bandit_experiment()
    html = web.compile_page(exp)
    doc = ir_json(html)
    assert ir.from_data(doc["experiment"]) == exp
    assert doc["sbl-ir"] == ir.IR_VERSION
    assert set(doc["kinds"]) == {"bandit", "text"}
    assert doc["page"]["name"] == "bandit"
    assert '<meta charset="utf-8">' in html and "<title>Two-armed bandit</title>" in html


def test_user_strings_cannot_close_the_script_element() -> None:
    exp = ir.Experiment(XSS[0], decls=(ir.Let("x", lit(XSS)),),
                        body=(stim("t", "text", text=XSS[2]),))
    html = web.compile_page(exp)
    start = html.index('id="sbl-ir">')
    element = html[start:html.index("</script>", start)]
    assert "<" not in element[len('id="sbl-ir">'):] and "&" not in element
    opened = re.findall(r"^<script[ >]", html, re.M)
    assert html.count("</script") == len(opened) and "<!--" not in html  # none closed early
    assert "<title>&lt;script&gt;alert(1)&lt;/script&gt;</title>" in html
    assert ir_json(html)["experiment"]["decls"][0]["value"]["items"][2]["value"] == XSS[2]


def test_page_inlines_exactly_the_plugins_used() -> None:
    html = web.compile_page(bandit_experiment())
    for name in ("html-button-response", "html-keyboard-response"):
        assert f"@jspsych/plugin-{name}@{assets.plugin(name).version} */" in html
    for name in set(assets.plugin_names()) - {"html-button-response", "html-keyboard-response"}:
        assert f"plugin-{name}@" not in html
    assert "<script src=" not in html and "<link" not in html  # everything is inline
    assert "sourceMappingURL" not in html


def test_cdn_page_loads_pinned_versions() -> None:
    html = web.compile_page(bandit_experiment(fullscreen=True), cdn=True)
    srcs = re.findall(r'<script src="([^"]+)" integrity="(sha384-[^"]+)"', html)
    used = ("fullscreen", "html-button-response", "html-keyboard-response")
    expected = [assets.jspsych()] + [assets.plugin(n) for n in used]
    assert srcs == [(a.url, a.sri) for a in expected]
    assert f'href="https://unpkg.com/jspsych@{assets.jspsych().version}/css/jspsych.css"' in html
    assert "initJsPsych=jsPsychModule" not in html  # jsPsych itself is not inlined
    assert "SblExpr" in html and "SblOrder" in html and "SblRuntime" in html  # inlined


def test_unsupported_kind_is_an_sbl_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from sbl.source import SblError

    monkeypatch.setitem(payload.UNSUPPORTED, "blank", "not yet")
    exp = ir.Experiment("x", body=(stim("b", "blank"),))
    with pytest.raises(SblError, match="cannot run kind 'blank': not yet"):
        web.compile_page(exp)


def test_runtime_evaluates_no_code() -> None:
    for name in ("runtime.js", "expr.js", "order.js"):
        source = (RUNTIME.parent / name).read_text(encoding="utf-8")
        code = re.sub(r"/\*.*?\*/|//[^\n]*", "", source, flags=re.S)  # comments may say it
        for banned in ("eval(", "new Function", "Function(", "document.write", "setTimeout(\"",
                       "setInterval("):
            assert banned not in code, f"{name} uses {banned}"


def test_page_name_falls_back_to_a_slug_of_the_title() -> None:
    assert web.page_name(ir.Experiment("Two-armed bandit!")) == "two-armed-bandit"
    assert web.page_name(ir.Experiment("x", span=ir.Span("a/b/stroop.sbl", 1, 1, 1, 1))) == "stroop"


# ---------------------------------------------------------------- in the browser

@pytest.fixture(scope="module")
def browser() -> Any:
    """One headless Chromium for the module's browser tests."""
    with launch() as b:
        yield b


def write(tmp_path: Path, exp: ir.Experiment, name: str = "page.html", **kw: Any) -> Path:
    path = tmp_path / name
    web.write_page(exp, path, **kw)
    return path


def play_bandit(s: Any, choices: list[int], first_trial: int = 0, score: int = 0) -> int:
    """Click the bandit arms in ``choices``, checking the payout and score screens."""
    for n, arm in enumerate(choices):
        trial = first_trial + n
        s.page.wait_for_selector("button.sbl-bandit")
        s.page.locator("button.sbl-bandit").nth(arm).click()
        value = arm_values(trial)[arm]
        assert s.page.inner_text(".sbl-bandits .sbl-bandit:not(.sbl-other)").strip() == str(value)
        score += value
        s.run_for(1000)
        assert s.page.inner_text(".sbl-text") == f"Score: {score}"
        s.run_for(2000)
    return score


CHOICES = [0, 1, 1, 0, 1, 0, 0, 1, 1, 1, 0]


@needs_chromium
def test_bandit_played_with_clicks_from_disk(browser: Any, tmp_path: Path) -> None:
    page = write(tmp_path, bandit_experiment(), "bandit.html")
    url = file_url(page, participant="p1", seed=5)
    with session(browser, tmp_path) as s:
        s.goto(url)
        final = play_bandit(s, CHOICES)
        assert s.wait_state() == "done"
        s.wait_downloads("bandit.json", "bandit.csv")
        rows = sbl_rows(s.json_download("bandit.json"))
        assert s.requests == [url]  # the page fetched nothing: no network, no CDN
        assert not s.errors and not s.dialogs
    bandits = [r for r in rows if r["kind"] == "bandit"]
    texts = [r for r in rows if r["kind"] == "text"]
    assert len(bandits) == 11 and len(texts) == 11
    running = 0
    for trial, (b, t, arm) in enumerate(zip(bandits, texts, CHOICES, strict=True)):
        running += arm_values(trial)[arm]
        assert (b["response"], b["value"], b["score"]) == (arm, arm_values(trial)[arm], running)
        assert isinstance(b["rt"], (int, float)) and b["rt"] >= 0
        assert b["arms"] == [{"color": "orange", "value": 10 - trial},
                             {"color": "blue", "value": trial}]
        assert (t["text"], t["score"], t["response"], t["rt"]) == (f"Score: {running}", running,
                                                                  None, None)
        assert b["participant"] == "p1" and b["source"] == "browser" and b["block"] == "main"
    assert [r["sbl_trial_index"] for r in rows] == list(range(22))
    assert [r["trial"] for r in rows[:2]] == ["main/bandit", "main/text"]
    assert running == final
    table = list(csv.DictReader(io.StringIO(s.text_download("bandit.csv"))))
    scores = [r["text"] for r in table if r.get("kind") == "text"]
    assert scores == [t["text"] for t in texts]


FORCED_BANDIT = """
experiment "Forced"
table t = [{f: 1}, {f: none}]
block b over t {
  bandit { arms: [{color: "red", value: 3}, {color: "blue", value: 7}], forced: f,
           feedback_duration: 0 }
}
"""


@needs_chromium
def test_an_instructed_bandit_trial_allows_only_its_machine(browser: Any,
                                                            tmp_path: Path) -> None:
    page = write(tmp_path, load(FORCED_BANDIT, "forced.sbl"), "forced.html")
    with session(browser, tmp_path) as s:
        s.goto(file_url(page, participant="p", seed=1))
        s.page.wait_for_selector("button.sbl-bandit")
        arms = s.page.locator("button.sbl-bandit")
        assert [arms.nth(i).is_disabled() for i in range(2)] == [True, False]
        arms.nth(1).click()
        s.run_for(10)
        s.page.wait_for_selector("button.sbl-bandit:not([disabled]) >> nth=1")
        s.page.locator("button.sbl-bandit").nth(0).click()
        assert s.wait_state() == "done"
        s.wait_downloads("forced.json")
        rows = sbl_rows(s.json_download("forced.json"))
    assert [(r["response"], r["value"], r["forced"]) for r in rows] == [(1, 7, 1), (0, 3, None)]
    with session(browser, tmp_path, clock=False) as s:  # a simulation may click any arm
        s.goto(file_url(page, participant="q", seed=3, simulate="data-only",
                        simulation_options=json.dumps([{"data": {"response": 0}}])))
        assert s.wait_state() == "done"
        s.wait_downloads("forced.json")
        assert sbl_rows(s.json_download("forced.json"))[0]["response"] == 1


@needs_chromium
def test_marked_arms_show_their_label_and_are_named_by_the_noun(browser: Any,
                                                                tmp_path: Path) -> None:
    exp = load('experiment "Decks"\nbandit { arms: [{color: "grey", value: 3, label: "A"}, '
               '{color: "grey", value: 7}], noun: "deck", feedback_duration: 500 }\n', "d.sbl")
    page = write(tmp_path, exp, "decks.html")
    with session(browser, tmp_path) as s:
        s.goto(file_url(page, participant="p", seed=1))
        s.page.wait_for_selector("button.sbl-bandit")
        arms = s.page.locator("button.sbl-bandit")
        assert [arms.nth(i).get_attribute("aria-label") for i in range(2)] == ["deck A",
                                                                              "deck 2"]
        assert s.page.locator(".sbl-bandit-label").all_inner_texts() == ["A"]  # unmarked: none
        arms.nth(0).click()  # the payout screen keeps the mark under the window
        assert s.page.inner_text(".sbl-bandits .sbl-bandit:not(.sbl-other)").split() == ["3", "A"]
        s.run_for(600)
        assert s.wait_state() == "done"
        s.wait_downloads("d.json")
        rows = sbl_rows(s.json_download("d.json"))
    assert [(r["noun"], r["nouns"], r["arms"][0]["label"]) for r in rows] == [("deck", None, "A")]


@needs_chromium
def test_reload_keeps_finished_trials_and_continues(browser: Any, tmp_path: Path) -> None:
    page = write(tmp_path, bandit_experiment(), "bandit.html")
    url = file_url(page, participant="p2", seed=9)
    context = browser.new_context(accept_downloads=True)
    try:
        with session(browser, tmp_path, context=context) as s:
            s.goto(url)
            score = play_bandit(s, CHOICES[:4])
            s.page.wait_for_selector("button.sbl-bandit")  # trial 8 is showing: close the tab
        with session(browser, tmp_path, context=context) as s:
            s.goto(url)
            score = play_bandit(s, CHOICES[4:], first_trial=4, score=score)
            assert s.wait_state() == "done"
            s.wait_downloads("bandit.json")
            rows = s.json_download("bandit.json")
        with session(browser, tmp_path, context=context) as s:  # reopened after the end
            s.goto(url)
            s.page.wait_for_selector("#sbl-end")
            assert "complete" in s.page.inner_text("#sbl-end")
    finally:
        context.close()
    rows = sbl_rows(rows)
    assert [r["sbl_trial_index"] for r in rows] == list(range(22))
    bandits = [r for r in rows if r["kind"] == "bandit"]
    assert [b["response"] for b in bandits] == CHOICES
    assert bandits[-1]["score"] == score == rows[-1]["score"]


@needs_chromium
def test_simulate_data_only_runs_to_the_end(browser: Any, tmp_path: Path) -> None:
    page = write(tmp_path, bandit_experiment(), "bandit.html")
    runs = []
    for _ in range(2):
        with session(browser, tmp_path, clock=False) as s:
            url = file_url(page, participant="sim", seed=11, simulate="data-only")
            s.goto(url)
            assert s.wait_state() == "done"
            s.wait_downloads("bandit.json", "bandit.csv")
            runs.append(sbl_rows(s.json_download("bandit.json")))
            assert s.requests == [url]
            s.downloads.clear()
    rows = runs[0]
    assert len(rows) == 22
    running = 0
    for trial, b in enumerate(r for r in rows if r["kind"] == "bandit"):
        assert b["response"] in (0, 1)
        running += arm_values(trial)[b["response"]]
        assert b["score"] == running
    # jsPsych's simulated answers are drawn from the seed: the same seed, the same run.
    assert [r["response"] for r in runs[1]] == [r["response"] for r in rows]


@needs_chromium
@pytest.mark.parametrize("via", ["hook", "url"])
def test_simulation_replays_given_responses(browser: Any, tmp_path: Path, via: str) -> None:
    page = write(tmp_path, bandit_experiment(), "bandit.html")
    options = [{"data": {"response": arm, "rt": 300 + i}} if i % 2 == 0 else {}
               for i, arm in enumerate(x for c in CHOICES for x in (c, None))]
    hook = f"window.sblSimulationOptions = {json.dumps(options)};"
    query: dict[str, Any] = {"seed": 1, "simulate": "data-only"}
    if via == "url":
        query["simulation_options"] = json.dumps(options)
    with session(browser, tmp_path, clock=False, init_script=hook if via == "hook" else None) as s:
        s.goto(file_url(page, **query))
        assert s.wait_state() == "done"
        s.wait_downloads("bandit.json")
        rows = sbl_rows(s.json_download("bandit.json"))
    bandits = [r for r in rows if r["kind"] == "bandit"]
    assert [b["response"] for b in bandits] == CHOICES
    assert [b["rt"] for b in bandits] == [300 + 2 * i for i in range(11)]
    assert rows[0]["participant"].startswith("anon-") and rows[0]["seed"] == 1


@needs_chromium
def test_simulate_visual_clicks_through_the_page(browser: Any, tmp_path: Path) -> None:
    page = write(tmp_path, bandit_experiment(), "bandit.html")
    with session(browser, tmp_path) as s:
        s.goto(file_url(page, seed=2, simulate="visual"))
        for _ in range(60):  # simulated clicks and durations all run on the fake clock
            s.run_for(1000)
            if s.state():
                break
        assert s.state() == "done"
        s.wait_downloads("bandit.json", "bandit.csv")
        rows = sbl_rows(s.json_download("bandit.json"))
    bandits = [r for r in rows if r["kind"] == "bandit"]
    assert len(rows) == 22 and all(b["response"] in (0, 1) and b["rt"] > 0 for b in bandits)


def xss_experiment() -> ir.Experiment:
    table = ir.Table("t", lit([{"s": p} for p in XSS]), ("s",))
    body: tuple[ir.Item, ...] = (
        ir.Block("cells", (stim("cells/text", "text", text=ir.Name("s"), duration=100),),
                 over=ir.Name("t")),
        *[stim(f"param{i}", "text", text=p, duration=100, color=p) for i, p in enumerate(XSS)],
        stim("choice", "choice", stimulus=XSS[1], choices=XSS),
        stim("bandit", "bandit", arms=[{"color": p, "value": p} for p in XSS[:2]]),
    )
    return ir.Experiment(XSS[0], settings=(ir.Param("redirect", lit(XSS[3])),),
                         decls=(table,), body=body)


@needs_chromium
def test_xss_payloads_are_shown_as_text_and_never_run(browser: Any, tmp_path: Path) -> None:
    page = write(tmp_path, xss_experiment(), "xss.html")
    watch = "window.__sblAlerts = []; window.alert = (m) => window.__sblAlerts.push(String(m));"
    with session(browser, tmp_path, init_script=watch) as s:
        s.goto(file_url(page, participant="x"))
        assert s.page.title() == XSS[0]
        for payload_text in XSS + XSS:  # the table cells, then the text parameters
            s.page.wait_for_selector(".sbl-text")
            assert s.page.inner_text(".sbl-text") == payload_text
            s.run_for(100)
        assert s.page.inner_text(".sbl-text") == XSS[1]
        labels = s.page.locator("#jspsych-html-button-response-btngroup button").all_inner_texts()
        assert labels == XSS
        s.page.locator("#jspsych-html-button-response-btngroup button").nth(4).click()
        s.page.wait_for_selector("button.sbl-bandit")
        s.page.locator("button.sbl-bandit").nth(1).click()
        assert s.page.inner_text(".sbl-bandit:not(.sbl-other)").strip() == XSS[1]
        s.run_for(1000)
        assert s.wait_state() == "done"
        s.wait_downloads("script-alert-1-script.json")
        injected = s.page.evaluate(
            "document.querySelectorAll('img, svg, script:not([type]), [onerror], [onload]').length")
        own = re.findall(r"^<script>", page.read_text(encoding="utf-8"), re.M)
        assert injected == len(own)  # the page's own scripts, nothing injected
        assert s.page.evaluate("window.__sblAlerts") == []
        assert s.page.url.startswith("file://")  # the javascript: redirect was refused
        assert not s.dialogs and not s.errors
        assert not [c for c in s.console if "alert" in c or c.startswith("error")]
    rows = sbl_rows(s.json_download("script-alert-1-script.json"))
    assert [r["text"] for r in rows[:10]] == XSS + XSS
    assert isinstance(rows[0]["seed"], int) and 0 <= rows[0]["seed"] < 2**32  # drawn: no ?seed=
    assert rows[10]["choice"] == XSS[4] and rows[10]["response"] == 4


BLOCKS = '''
experiment "Blocks"

shared count = 0
let letters = ["a", "b", "c", "d", "e"]
table words = for w in (letters + ["z"])[:-1] { word: w }

block outer over [{x: 1}, {x: 2}] {
  block inner over words shuffle sample 3 {
    text { text: "{x}-{word}" duration: 100 after { count = count + 1 } }
  }
  fixation { duration: 50 }
}
block skipped if not (count < 100) {
  blank { duration: 10 }
}
block twice over [{y: "p"}, {y: "q"}] repeat 2 shuffle {
  text { text: "{y}{count}" duration: 10 }
}
loop practice until count >= 9 max 5 {
  text { text: "again {count}" duration: 10 after { count = count + 1 } }
}
loop capped until len(trials) > 5 max 2 {
  text { text: "capped {prev.text}" duration: 10 }
  feedback { correct: prev.correct == none }
}
'''


def expected_blocks(seed: int) -> list[tuple[str, str, str | None]]:
    """(block, trial, text) of every row of BLOCKS, with the shuffles drawn in Python."""
    rng = prng.Prng(seed)
    letters = ["a", "b", "c", "d", "e"]
    out: list[tuple[str, str, str | None]] = []
    for x in (1, 2):
        out += [("outer/inner", "outer/inner/text", f"{x}-{w}")
                for w in prng.shuffle(rng, letters)[:3]]
        out.append(("outer", "outer/fixation", None))
    for _ in range(2):
        out += [("twice", "twice/text", f"{y}6") for y in prng.shuffle(rng, ["p", "q"])]
    out += [("practice", "practice/text", f"again {n}") for n in (6, 7, 8)]
    out += [("capped", "capped/text", "capped again 8"), ("capped", "capped/feedback", "Correct!"),
            ("capped", "capped/text", "capped Correct!"), ("capped", "capped/feedback", "Correct!")]
    return out


@needs_chromium
@pytest.mark.parametrize("seed", [1, 4242])
def test_blocks_follow_the_semantics(browser: Any, tmp_path: Path, seed: int) -> None:
    page = write(tmp_path, load(BLOCKS, "blocks.sbl"), "blocks.html")
    with session(browser, tmp_path, clock=False) as s:
        s.goto(file_url(page, seed=seed, simulate="data-only"))
        assert s.wait_state() == "done"
        s.wait_downloads("blocks.json")
        rows = sbl_rows(s.json_download("blocks.json"))
    assert [(r["block"], r["trial"], r.get("text")) for r in rows] == expected_blocks(seed)
    assert [r["count"] for r in rows][:8] == [1, 2, 3, 3, 4, 5, 6, 6]
    assert rows[-1]["count"] == 9 and all(r["seed"] == seed for r in rows)


ALL_KINDS = '''
experiment "All kinds"

block all {
  instructions { pages: ["Page <one>", "Page two"] }
  text { text: "Press f" choices: ["f", "j"] correct_key: "f" }
  feedback { correct: prev.correct }
  html_keyboard { stimulus: "<b id='bold'>bold</b>" choices: [" "] }
  fixation { duration: 100 }
  blank { duration: 100 }
  choice { stimulus: "Pick" choices: ["<a>", "b"] correct_choice: "b" }
  bandit { arms: [{color: "red", value: 1}, {color: "green", value: 2}] feedback_duration: 0 }
  likert { questions: [{prompt: "How?", labels: ["low", "mid", "high"]}] }
  multi_choice { questions: [{prompt: "Which?", options: ["<x>", "y"]}] preamble: "Answer" }
  multi_select { questions: [{prompt: "Which ones?", options: ["<p>", "q", "r"]}] }
  same_different { first: "<i id='one'>A</i>" second: "<i id='two'>a</i>" answer: "same"
                   keys: ["S", "d"] first_duration: 300 gap_duration: 200 }
  serial_reaction_time { choices: ["a", "s", "d", "f"] columns: 2 target: 2
                         pre_target_duration: 100 target_color: "red" }
  text_survey { questions: [{prompt: "Age?"}] }
  image_keyboard { src: "media/red_circle.png" description: "a red circle" choices: ["f"] }
  image_button { src: "media/blue_square.png" description: "a blue square" choices: ["a", "b"] }
  audio_keyboard { src: "media/high_tone.wav" description: "a high tone"
                   choices: ["f", "j"] correct_key: "j" }
  audio_button { src: "media/low_tone.wav" description: "a low tone"
                 choices: ["Low", "<High>"] }
  video_keyboard { src: "media/dot_left.webm" description: "a dot moving left"
                   choices: ["ArrowLeft", "ArrowRight"] }
  video_button { src: "media/dot_right.webm" description: "a dot moving right"
                 choices: ["Left", "Right"] correct_choice: "Right" }
  slider { stimulus: "Sure?" low: 1 high: 7 anchors: ["no", "<yes>"] require_movement: true }
  categorize_html { stimulus: "<i>A</i>" choices: ["f", "j"] correct_key: "F"
                    feedback_duration: 500 }
  categorize_image {
    src: "media/blue_circle.png" description: "a blue circle" choices: ["f", "j"]
    correct_key: "f" correct_text: "Right, a circle." feedback_duration: 500
  }
}
'''


@needs_chromium
def test_every_kind_runs_by_hand(browser: Any, tmp_path: Path) -> None:
    # beside the examples, whose media/ folder holds the images
    page = write(tmp_path, load(ALL_KINDS, str(parity.EXAMPLES / "kinds.sbl")), "kinds.html")
    with session(browser, tmp_path) as s:
        s.goto(file_url(page, participant="k"))
        p = s.page
        assert p.inner_text(".sbl-page") == "Page <one>"
        p.click("#jspsych-instructions-next")
        p.click("#jspsych-instructions-next")
        assert p.inner_text(".sbl-text") == "Press f"
        p.keyboard.press("f")
        assert p.inner_text(".sbl-text") == "Correct!"
        s.run_for(1000)
        assert p.inner_text("#bold") == "bold"  # declared html: shown as HTML
        p.keyboard.press(" ")
        assert p.inner_text(".sbl-fixation") == "+"
        s.run_for(100)
        s.run_for(100)
        p.locator("#jspsych-html-button-response-btngroup button").nth(1).click()
        p.locator("button.sbl-bandit").nth(1).click()
        p.get_by_label("high").check()
        p.click("#jspsych-survey-likert-next")
        p.get_by_label("<x>").check()
        p.click("#jspsych-survey-multi-choice-next")
        p.get_by_label("r").check()
        p.get_by_label("<p>").check()
        p.click("#jspsych-survey-multi-select-next")
        assert p.inner_text("#one") == "A"
        s.run_for(300)
        assert p.locator("#one").count() == 0  # the gap: a blank screen
        p.keyboard.press("s")  # too early: the plugin listens from the second stimulus
        s.run_for(200)
        assert p.inner_text("#two") == "a"
        p.keyboard.press("s")
        cell = "#jspsych-serial-reaction-time-stimulus-cell-1-0"  # the third: row 2, column 1
        assert p.locator(".jspsych-serial-reaction-time-stimulus-row").count() == 2
        s.run_for(100)
        assert p.eval_on_selector(cell, "e => e.style.backgroundColor") == "red"
        p.keyboard.press("f")  # the fourth square's key: a wrong one
        p.fill("#input-0", "42")
        p.click("#jspsych-survey-text-next")
        p.keyboard.press("f")
        p.locator("#jspsych-image-button-response-btngroup button").nth(0).click()
        p.keyboard.press("j")  # the clicks before were gestures: no click-to-start screen
        assert p.inner_text("#jspsych-audio-button-response-btngroup") == "Low\n<High>"
        p.locator("#jspsych-audio-button-response-btngroup button").nth(1).click()
        assert p.locator("#jspsych-video-keyboard-response-stimulus").count() == 1
        p.keyboard.press("ArrowLeft")
        p.locator("#jspsych-video-button-response-btngroup button").nth(1).click()
        slider = p.locator("#jspsych-html-slider-response-response")
        assert slider.input_value() == "4"  # its middle position, unless `start` says
        assert "<yes>" in p.inner_text("#jspsych-html-slider-response-wrapper")
        assert p.is_disabled("#jspsych-html-slider-response-next")  # require_movement
        slider.press("End")
        p.click("#jspsych-html-slider-response-next")
        assert p.inner_text("i") == "A"
        p.keyboard.press("j")  # the wrong key: the feedback follows within the trial
        assert p.inner_text(".sbl-incorrect") == "Wrong."
        s.run_for(500)
        assert p.locator("img#jspsych-categorize-image-stimulus").count() == 1
        p.keyboard.press("f")
        assert p.inner_text(".sbl-correct") == "Right, a circle."
        assert p.locator("img#jspsych-categorize-image-stimulus").count() == 1  # shown too
        s.run_for(500)
        assert s.wait_state() == "done"
        s.wait_downloads("kinds.json")
        rows = sbl_rows(s.json_download("kinds.json"))
        assert not s.errors
    got = {r["kind"]: r for r in rows}
    assert list(got) == ["instructions", "text", "feedback", "html_keyboard", "fixation", "blank",
                         "choice", "bandit", "likert", "multi_choice", "multi_select",
                         "same_different", "serial_reaction_time", "text_survey", "image_keyboard",
                         "image_button", "audio_keyboard", "audio_button", "video_keyboard",
                         "video_button", "slider", "categorize_html", "categorize_image"]
    assert set(got) == set(kinds.all_kinds()) - set(payload.UNSUPPORTED)
    assert (got["instructions"]["response"], got["instructions"]["rt"]) == (None, None)
    assert (got["text"]["response"], got["text"]["correct"]) == ("f", True)
    assert (got["feedback"]["correct"], got["feedback"]["text"]) == (True, "Correct!")
    assert (got["html_keyboard"]["response"], got["html_keyboard"]["correct"]) == (" ", None)
    assert (got["choice"]["response"], got["choice"]["choice"], got["choice"]["correct"]) == \
        (1, "b", True)
    assert (got["bandit"]["response"], got["bandit"]["value"]) == (1, 2)
    assert got["likert"]["response"] == {"Q0": 2}
    assert got["multi_choice"]["response"] == {"Q0": "<x>"}
    assert got["multi_select"]["response"] == {"Q0": ["<p>", "r"]}  # as written, in order
    assert [got["same_different"][k] for k in ("response", "correct", "answer")] == \
        ["S", True, "same"]  # the key as written, matched ignoring case as jsPsych does
    assert [got["serial_reaction_time"][k] for k in ("response", "correct", "target")] == \
        ["f", False, 2]  # sbl's target (a position), not jsPsych's [row, column]
    converted = schema.from_jspsych(got["serial_reaction_time"])  # jsPsych's grid dropped
    assert converted is not None and "grid" not in converted and converted["target"] == 2
    assert got["text_survey"]["response"] == {"Q0": "42"}
    assert got["fixation"]["duration"] == 100 and got["blank"]["response"] is None
    assert (got["image_keyboard"]["response"], got["image_keyboard"]["src"]) == \
        ("f", "media/red_circle.png")  # the path as written, not the inlined data
    assert (got["image_button"]["choice"], got["image_button"]["src"]) == \
        ("a", "media/blue_square.png")
    assert (got["audio_keyboard"]["response"], got["audio_keyboard"]["correct"]) == ("j", True)
    assert (got["audio_button"]["choice"], got["audio_button"]["src"]) == \
        ("<High>", "media/low_tone.wav")  # the path as written, not the inlined data
    assert got["video_keyboard"]["response"] == "ArrowLeft"
    assert (got["video_button"]["choice"], got["video_button"]["correct"]) == ("Right", True)
    assert (got["slider"]["response"], got["slider"]["start"]) == (7, None)
    assert [got["categorize_html"][k] for k in ("response", "correct", "feedback")] == \
        ["j", False, "Wrong."]
    assert [got["categorize_image"][k] for k in ("src", "correct", "feedback")] == \
        ["media/blue_circle.png", True, "Right, a circle."]  # the path as written
    assert len(rows) == 23  # the feedback is part of its trial: one row


@needs_chromium
def test_every_kind_runs_in_simulation(browser: Any, tmp_path: Path) -> None:
    """Each kind's declared example, answered by jsPsych's simulated participant."""
    page = write(tmp_path, parity.every_kind().ir, "every_kind.html")
    with session(browser, tmp_path, clock=False) as s:
        s.goto(file_url(page, seed=3, simulate="data-only"))
        assert s.wait_state() == "done"
        s.wait_downloads("every_kind.json", "every_kind.csv")
        rows = sbl_rows(s.json_download("every_kind.json"))
    got = {r["kind"]: r for r in rows}
    declared = set(kinds.all_kinds()) - set(payload.UNSUPPORTED)
    assert len(rows) == len(declared) and set(got) == declared
    assert got["text"]["response"] in ("f", "j")
    assert got["choice"]["choice"] == ["<a>", "b"][got["choice"]["response"]]
    assert got["multi_choice"]["response"]["Q0"] in ("<x>", "y")  # as written, not escaped
    assert got["likert"]["response"]["Q0"] in (0, 1, 2)
    assert set(got["multi_select"]["response"]["Q0"]) <= {"<x>", "y", "z"}


@needs_chromium
def test_an_evaluation_error_stops_the_run_and_keeps_the_data(browser: Any,
                                                               tmp_path: Path) -> None:
    broken = load('experiment "Broken"\nlet xs = [1, 2]\ntext { text: "ok" duration: 10 }\n'
                  'text { text: "{xs[5]}" duration: 10 }\n', "broken.sbl")
    page = write(tmp_path, broken, "broken.html")
    with session(browser, tmp_path, clock=False) as s:
        s.goto(file_url(page, simulate="data-only"))
        assert s.wait_state() == "stopped"
        s.wait_downloads("broken.json")
        assert "out of range" in s.page.inner_text("body")
        assert any("broken.sbl:4" in c and "out of range" in c for c in s.console)
        rows = sbl_rows(s.json_download("broken.json"))
    assert [r["text"] for r in rows] == ["ok"]


@needs_chromium
def test_a_declaration_error_says_where(browser: Any, tmp_path: Path) -> None:
    broken = load('experiment "Broken"\nlet xs = [1, 2]\nlet y = xs[7]\n'
                  'text { text: "ok" duration: 10 }\n', "start.sbl")
    page = write(tmp_path, broken, "start.html")
    with session(browser, tmp_path, clock=False) as s:
        s.goto(file_url(page))
        s.page.wait_for_selector(".sbl-error")
        message = s.page.inner_text(".sbl-error")
    assert message.startswith("The experiment cannot start: start.sbl:3:")
    assert "out of range" in message


@needs_chromium
def test_data_is_posted_then_the_page_redirects(browser: Any, tmp_path: Path) -> None:
    exp = bandit_experiment(fullscreen=True, post_url="https://sbl.invalid/collect",
                            redirect="https://sbl.invalid/done?cc=ABC")
    page = write(tmp_path, exp, "bandit.html", allow_simulate=True)
    posted: list[Any] = []

    def sink(route: Any) -> None:
        request = route.request
        if request.method == "POST":
            posted.append(json.loads(request.post_data))
        route.fulfill(status=200, body="ok")

    with session(browser, tmp_path, clock=False) as s:
        s.context.route("https://sbl.invalid/**", sink)
        s.goto(file_url(page, participant="prolific1", simulate="data-only"))
        s.page.wait_for_url("https://sbl.invalid/done?cc=ABC")
        assert not s.downloads  # sent, so nothing to download
    assert len(posted) == 1
    rows = posted[0]
    assert rows[0]["trial_type"] == "fullscreen" and "trial" not in rows[0]
    assert len(sbl_rows(rows)) == 22 and rows[-1]["participant"] == "prolific1"


@needs_chromium
def test_jatos_receives_the_data(browser: Any, tmp_path: Path) -> None:
    page = write(tmp_path, bandit_experiment(), "bandit.html")
    fake = ("window.jatos = {onLoad: (f) => setTimeout(f, 0), submitResultData: (d) => "
            "{ window.__jatos = d; return Promise.resolve(); }};")
    with session(browser, tmp_path, clock=False, init_script=fake) as s:
        s.goto(file_url(page, PROLIFIC_PID="pp", simulate="data-only"))
        assert s.wait_state() == "done"
        rows = json.loads(s.page.evaluate("window.__jatos"))
        assert not s.downloads
    assert len(sbl_rows(rows)) == 22 and rows[0]["participant"] == "pp"


def test_jatos_setting_loads_jatos_js() -> None:
    assert '<script src="jatos.js"></script>' in web.compile_page(bandit_experiment(jatos=True))
    assert "jatos.js" not in web.compile_page(bandit_experiment())


def test_example_bandit_compiles() -> None:
    example = ROOT / "examples" / "bandit.sbl"
    if not example.exists():
        pytest.skip("examples/bandit.sbl is not written yet")
    from sbl.experiment import load as load_file

    html = web.compile_page(load_file(example).ir)
    doc = ir_json(html)
    assert doc["page"]["name"] == "bandit" and "instructions" in doc["kinds"]
    assert len(html.encode("utf-8")) < 700_000
    # the scripts' whole-line comments are left out of the page, their code kept
    assert "/** `items`, if it holds answer.count" in RUNTIME.read_text(encoding="utf-8")
    assert "answer.count; else" not in html and "function counted(t, items)" in html


STREAM = '''
experiment "Stream"
table words = for w in ["a", "b", "c", "d", "e", "f"] { word: w }
block one over words shuffle sample 2 { text { text: word duration: 100 data { one: true } } }
block two over words shuffle {
  text {
    text: "{word}{randint(0, 1000)}"
    duration: 100
    data { ones: len([t for t in trials if t.one]) }
  }
}
'''


def expected_stream(seed: int) -> list[str]:
    """The texts of STREAM: every draw from one stream, in the order the page makes them."""
    rng = prng.Prng(seed)
    words = ["a", "b", "c", "d", "e", "f"]
    out = prng.shuffle(rng, words)[:2]
    return out + [f"{w}{int(prng.randint(rng, 0, 1000))}" for w in prng.shuffle(rng, words)]


@needs_chromium
def test_reload_restores_the_random_stream_and_position(browser: Any, tmp_path: Path) -> None:
    page = write(tmp_path, load(STREAM, "stream.sbl"), "stream.html")
    context = browser.new_context(accept_downloads=True)
    try:
        with served(tmp_path) as base:
            url = http_url(base, page, participant="r", seed=77)
            with session(browser, tmp_path, context=context) as s:
                s.goto(url)
                s.page.wait_for_selector(".sbl-text")
                for _ in range(3):  # block one, and the first trial of block two
                    s.run_for(100)
                assert s.page.evaluate("window.sblRun.st.rows.length") == 3
            with session(browser, tmp_path, context=context) as s:
                s.goto(url)
                s.page.wait_for_selector(".sbl-text")
                for _ in range(10):
                    s.run_for(100)
                    if s.state():
                        break
                assert s.state() == "done"
                s.wait_downloads("stream.json")
                rows = sbl_rows(s.json_download("stream.json"))
    finally:
        context.close()
    assert [r["text"] for r in rows] == expected_stream(77)
    assert [r["sbl_trial_index"] for r in rows] == list(range(8))
    # rows read back from storage are rows again: block two's lack 'one' and read it as none
    assert [r.get("ones") for r in rows] == [None, None] + [2] * 6


def test_browser_tests_cover_every_ir_node() -> None:
    """The experiments the browser tests run use every IR node class at least once (the
    examples, a CSV table's TableData among them, run in the page in tests/test_parity.py;
    the groups of counterbalance.sbl in tests/test_groups.py, the `if` in digit_span.sbl's
    after in tests/test_parity.py)."""
    programs = [bandit_experiment(), xss_experiment(), load(BLOCKS), load(STREAM),
                load(ALL_KINDS), sbl.load(ROOT / "examples" / "stroop.sbl").ir,
                sbl.load(ROOT / "examples" / "counterbalance.sbl").ir,
                sbl.load(ROOT / "examples" / "constrained_order.sbl").ir,
                sbl.load(ROOT / "examples" / "digit_span.sbl").ir]
    seen = {type(n) for p in programs for n in ir.walk(p)}
    for name in kinds.all_kinds():
        seen |= {type(n) for d in payload.kind_data(name)["data"]
                 for n in ir.walk(ir.from_data(d["expr"]))}
    assert seen >= set(ir.NODE_CLASSES), sorted(c.__name__ for c in set(ir.NODE_CLASSES) - seen)


@needs_chromium
def test_an_anonymous_run_resumes_too(browser: Any, tmp_path: Path) -> None:
    page = write(tmp_path, load(STREAM, "stream.sbl"), "stream.html")
    context = browser.new_context(accept_downloads=True)
    state = "[window.sblRun.st.participant, window.sblRun.st.rows.length]"
    try:
        with served(tmp_path) as base:
            with session(browser, tmp_path, context=context) as s:
                s.goto(http_url(base, page))
                s.page.wait_for_selector(".sbl-text")
                s.run_for(300)
                who, done = s.page.evaluate(state)
            with session(browser, tmp_path, context=context) as s:
                s.goto(http_url(base, page))
                s.page.wait_for_selector(".sbl-text")
                assert s.page.evaluate(state) == [who, done] and done == 3
                assert who.startswith("anon-")
    finally:
        context.close()


GAPS = '''
experiment "Gaps" { gap: 300 }
text a { text: "A" choices: ["f"] }
block b {
  gap: 500
  text b1 { text: "B1" choices: ["f"] }
  text b2 { text: "B2" choices: ["f"] gap: 0 }
}
text d { text: "D" choices: ["f"] }
'''


@needs_chromium
def test_gaps_blank_the_page_between_trials_and_add_no_rows(browser: Any, tmp_path: Path) -> None:
    """A stimulus's gap, else its block's, else the experiment's: that long a blank page
    (jsPsych's post_trial_gap) after the trial, with no row of its own."""
    experiment = load(GAPS, "gaps.sbl")
    page = write(tmp_path, experiment, "gaps.html")

    def shown() -> str:
        texts = s.page.locator(".sbl-text")
        return texts.inner_text() if texts.count() else ""

    with session(browser, tmp_path) as s:
        s.goto(file_url(page, participant="p1", seed=1))
        for text, gap in (("A", 300), ("B1", 500), ("B2", 0)):
            s.page.wait_for_selector(".sbl-text")
            assert shown() == text
            s.page.keyboard.press("f")
            if gap:
                s.run_for(gap - 20)
                assert shown() == "", f"after {text}: the page is not blank during its gap"
            s.run_for(40)
        assert shown() == "D"
        s.page.keyboard.press("f")
        s.run_for(400)
        assert s.wait_state() == "done"
        s.wait_downloads("gaps.json")
        rows = sbl_rows(s.json_download("gaps.json"))
    assert [r["trial"] for r in rows] == ["a", "b/b1", "b/b2", "d"]
    assert [r["gap"] for r in rows] == [300, 500, 0, 300]
    text_rows = sbl.loads(GAPS, "gaps.sbl").run("scripted:F,F,F,F")
    assert [r["gap"] for r in text_rows] == [300, 500, 0, 300] and len(text_rows) == 4


STYLED = '''
experiment "Style" { style: {background: "black", color: "white", font_size: 20, width: 500} }
text a { text: "A" choices: ["f"] }
text b { text: "B" choices: ["f"] style: {background: "rgb(0, 0, 128)", font_size: 30} }
text c { text: "C" choices: ["f"] style: {color: "not a colour"} }
'''

LOOK = """() => {
  const text = document.querySelector('.sbl-text'), s = getComputedStyle(text);
  return [text.innerText, getComputedStyle(document.body).backgroundColor, s.color, s.fontSize,
          s.maxWidth];
}"""


@needs_chromium
def test_style_sets_colours_font_size_and_width_per_trial(browser: Any, tmp_path: Path) -> None:
    """The experiment's style, overridden field by field by a stimulus's, as computed styles;
    a colour CSS rejects keeps the page's own. A text participant reads the same text."""
    page = write(tmp_path, load(STYLED, "styled.sbl"), "styled.html")
    with session(browser, tmp_path) as s:
        s.goto(file_url(page, participant="p1", seed=1))
        seen = []
        for _ in range(3):
            s.page.wait_for_selector(".sbl-text")
            seen.append(s.page.evaluate(LOOK))
            s.page.keyboard.press("f")
            s.run_for(10)
    white, black = "rgb(255, 255, 255)", "rgb(0, 0, 0)"
    assert seen[0] == ["A", black, white, "30px", "500px"]  # .sbl-text is 1.5em of 20px
    assert seen[1] == ["B", "rgb(0, 0, 128)", white, "45px", "500px"]
    assert seen[2][:2] == ["C", black] and seen[2][2] != white and seen[2][3:] == ["30px", "500px"]
    plain = re.sub(r"style: \{[^}]*\}", "", STYLED.replace(" { style", " {} #"))
    styled = sbl.loads(STYLED, "styled.sbl")
    assert styled.transcript(seed=1) == sbl.loads(plain, "plain.sbl").transcript(seed=1)
    assert [r["style"] for r in styled.run("scripted:F,F,F")][1] == {
        "background": "rgb(0, 0, 128)", "font_size": 30}
