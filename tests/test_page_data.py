"""What the page guarantees about a participant's data, in real Chromium: no faked
participation, no silent loss (issue 12).

Sinks are real HTTP servers on loopback (tests/sinks.py), started and stopped here; storage
that is disabled or full is made so by an init script, as a browser policy or quota would.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sbl.backends import web
from tests.browser import file_url, launch, needs_chromium, session
from tests.sinks import sink
from tests.test_web import bandit_experiment, load, play_bandit, sbl_rows, write

# localStorage throws as with cookies blocked ("SecurityError"), or once an entry would pass
# 3,000 characters, as a full quota does (Chromium: DOMException QuotaExceededError).
NO_STORAGE = """Object.defineProperty(window, 'localStorage', {get() {
  throw new DOMException('The operation is insecure.', 'SecurityError'); }});"""
FULL_STORAGE = """(() => { const set = Storage.prototype.setItem;
Storage.prototype.setItem = function (k, v) {
  if (String(v).length > 3000) throw new DOMException('quota', 'QuotaExceededError');
  return set.call(this, k, v); }; })();"""


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless Chromium for the module."""
    with launch() as b:
        yield b


def stored(s: Any) -> dict[str, Any]:
    """The page's localStorage entries, parsed."""
    return {k: json.loads(v) for k, v in s.page.evaluate(
        "Object.entries(localStorage)")}  # type: ignore[misc]


# ---------------------------------------------------------------- 1. no faked participation


@needs_chromium
def test_simulate_is_ignored_on_a_page_that_collects(browser: Any, tmp_path: Path) -> None:
    exp = bandit_experiment(post_url="https://sbl.invalid/collect")
    page = write(tmp_path, exp, "bandit.html")
    with session(browser, tmp_path) as s:
        s.context.route("https://sbl.invalid/**", lambda r: r.fulfill(status=200, body="ok"))
        s.goto(file_url(page, participant="p", simulate="data-only"))
        s.page.wait_for_selector("button.sbl-bandit")
        s.run_for(5000)  # a simulated run would be over; this one waits for a person
        assert s.page.evaluate("window.sblRun.st.rows.length") == 0 and s.state() is None
        assert any("simulate is ignored" in c for c in s.console)
        play_bandit(s, [0])
        assert s.page.evaluate("window.sblRun.st.rows[0].source") == "browser"


def test_only_allow_simulate_lets_a_collecting_page_play_itself(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from sbl.cli import main
    from tests.test_web import ir_json

    source = tmp_path / "s.sbl"
    for settings, flag, allowed in (("", [], True), ('post_url: "https://x.org/"', [], False),
                                    ('redirect: "https://x.org/"', [], False),
                                    ("jatos: true", [], False),
                                    ('post_url: "https://x.org/"', ["--allow-simulate"], True)):
        source.write_text(f'experiment "S" {{ {settings} }}\ntext {{ text: "hi" }}\n',
                          encoding="utf-8")
        result = CliRunner().invoke(main, ["compile", str(source), *flag])
        assert result.exit_code == 0, result.output
        assert ir_json(result.output)["page"]["simulate"] is allowed, (settings, flag)


@needs_chromium
def test_allowed_simulation_says_so_in_every_row(browser: Any, tmp_path: Path) -> None:
    exp = bandit_experiment(post_url="https://sbl.invalid/collect")
    page = write(tmp_path, exp, "bandit.html", allow_simulate=True)
    posted: list[Any] = []

    def take(route: Any) -> None:
        posted.append(json.loads(route.request.post_data))
        route.fulfill(status=200, body="ok")

    with session(browser, tmp_path, clock=False) as s:
        s.context.route("https://sbl.invalid/**", take)
        s.goto(file_url(page, participant="p", simulate="data-only"))
        assert s.wait_state() == "done"
    rows = sbl_rows(posted[0])
    assert len(rows) == 22 and {r["source"] for r in rows} == {"browser-simulated"}
    from click.testing import CliRunner

    from sbl.cli import main

    (tmp_path / "posted.json").write_text(json.dumps(posted[0]), encoding="utf-8")
    result = CliRunner().invoke(main, ["data", str(tmp_path / "posted.json"), "-o",
                                       str(tmp_path / "rows.csv")])
    assert result.exit_code == 0, result.output
    assert "participant p: 22 trials, 11 responses (simulated by the page" in result.output


# ---------------------------------------------------------------- 3. delivery


def sink_page(folder: Path, base: str, **settings: Any) -> str:
    """The bandit page posting to the sink at ``base``, served by it; its URL."""
    exp = bandit_experiment(post_url=f"{base}/collect", redirect=f"{base}/done.html",
                            **settings)
    web.write_page(exp, folder / "bandit.html", allow_simulate=True)
    (folder / "done.html").write_text("<p id=done>done</p>", encoding="utf-8")
    return f"{base}/bandit.html?participant=p&seed=3&simulate=data-only"


@needs_chromium
def test_a_failing_sink_is_retried_then_saved_and_resent(browser: Any, tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    with sink(site) as server:
        server.mode = "fail"
        url = sink_page(site, server.url)
        context = browser.new_context(accept_downloads=True)
        try:
            with session(browser, tmp_path, clock=False, context=context) as s:
                s.goto(url)
                assert s.wait_state(timeout_ms=20_000) == "done"
                assert server.answered == [500] * 4  # tried 4 times, with waits between
                s.wait_downloads("bandit.json", "bandit.csv")
                text = s.page.inner_text("#sbl-end")
                assert "could not be sent" in text and "bandit.json" in text
                assert s.page.url == url  # not redirected: the participant reads the message
                assert len(sbl_rows(s.json_download("bandit.json"))) == 22
                s.page.click("#sbl-continue")  # having seen it, they go on
                s.page.wait_for_url(f"{server.url}/done.html")
            server.mode = "ok"
            with session(browser, tmp_path, clock=False, context=context) as s:
                s.goto(url)  # reopened after the end: the data are sent now
                s.page.wait_for_url(f"{server.url}/done.html")
                assert len(sbl_rows(server.posts[0])) == 22
                entries = stored(s)
            assert [e["data"] for e in entries.values() if "delivered" in e] == [None]
        finally:
            context.close()


@needs_chromium
def test_a_slow_sink_is_waited_for_before_the_redirect(browser: Any, tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    with sink(site) as server:
        server.mode, server.delay_s = "slow", 2.0
        url = sink_page(site, server.url)
        with session(browser, tmp_path, clock=False) as s:
            s.goto(url)
            s.page.wait_for_selector("#sbl-end")
            assert "Sending your answers" in s.page.inner_text("#sbl-end")
            s.page.wait_for_url(f"{server.url}/done.html", timeout=10_000)
            assert not s.downloads
        assert server.answered == [200] and len(sbl_rows(server.posts[0])) == 22


@needs_chromium
def test_a_tab_closed_while_sending_sends_again(browser: Any, tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    with sink(site) as server:
        server.mode, server.delay_s = "slow", 3.0
        url = sink_page(site, server.url)
        context = browser.new_context(accept_downloads=True)
        try:
            with session(browser, tmp_path, clock=False, context=context) as s:
                s.goto(url)
                s.page.wait_for_selector("text=Sending your answers")
            server.mode = "ok"  # the tab is closed while the first POST is unanswered
            with session(browser, tmp_path, clock=False, context=context) as s:
                s.goto(url)
                s.page.wait_for_url(f"{server.url}/done.html", timeout=10_000)
        finally:
            context.close()
        # at least once: the server may also get the first POST, answered after the close
        assert server.posts and len(sbl_rows(server.posts[-1])) == 22


# ---------------------------------------------------------------- 2. storage


@needs_chromium
@pytest.mark.parametrize(("script", "state"), [(NO_STORAGE, "unavailable"),
                                               (FULL_STORAGE, "full")])
def test_unstorable_progress_is_told_and_recorded(browser: Any, tmp_path: Path, script: str,
                                                  state: str) -> None:
    page = write(tmp_path, bandit_experiment(), "bandit.html")
    with session(browser, tmp_path, init_script=script) as s:
        s.goto(file_url(page, participant="p", seed=5))
        play_bandit(s, [0, 1, 1, 0])
        assert "cannot save your progress" in s.page.inner_text("#sbl-storage-notice")
        flags = s.page.evaluate("window.sblRun.st.data.map((r) => r.sbl_storage)")
    assert flags[-1] == state and set(flags) <= {"ok", state}
    if state == "full":
        assert flags[0] == "ok"  # the first rows fitted


@needs_chromium
def test_delivered_runs_shrink_to_markers(browser: Any, tmp_path: Path) -> None:
    page = write(tmp_path, bandit_experiment(), "bandit.html")
    context = browser.new_context(accept_downloads=True)
    try:
        for who in ("a", "b", "c"):  # one lab machine, three participants in turn
            with session(browser, tmp_path, clock=False, context=context) as s:
                s.goto(file_url(page, participant=who, simulate="data-only"))
                assert s.wait_state() == "done"
                entries = stored(s)
        sizes = {json.loads(k[4:])[4]: len(json.dumps(v)) for k, v in entries.items()}
        assert sizes["c"] > 5_000  # the last run's data stay, to be downloaded again
        assert sizes["a"] < 200 and sizes["b"] < 200  # earlier runs: markers only
        with session(browser, tmp_path, context=context) as s:
            # reopened, a finished run stays finished (simulated runs are stored apart)
            s.goto(file_url(page, participant="a", simulate="data-only"))
            assert "complete" in s.page.inner_text("#sbl-end")
    finally:
        context.close()


# ---------------------------------------------------------------- 4. identity and versions


VERSION = 'experiment "V"\nblock b over for i in range(0, 6) {{ i: i }} {{\n' \
          '  text {{ text: "{word} {{i}}" duration: 100 }}\n}}\n'


@needs_chromium
def test_a_new_version_delivers_the_old_rows_and_says_so(browser: Any, tmp_path: Path) -> None:
    path = tmp_path / "v.html"
    web.write_page(load(VERSION.format(word="one"), "v.sbl"), path)
    old_key = json.loads(path.read_text().split('id="sbl-ir">')[1].split("</script>")[0]
                         .replace("\\u003c", "<").replace("\\u003e", ">")
                         .replace("\\u0026", "&"))["page"]["key"]
    url = file_url(path, participant="p", seed=1)
    context = browser.new_context(accept_downloads=True)
    try:
        with session(browser, tmp_path, context=context) as s:
            s.goto(url)
            s.page.wait_for_selector(".sbl-text")
            s.run_for(300)
            assert s.page.evaluate("window.sblRun.st.rows.length") == 3
        web.write_page(load(VERSION.format(word="two"), "v.sbl"), path)  # the edit
        with session(browser, tmp_path, context=context) as s:
            s.goto(url)
            s.page.wait_for_selector(".sbl-text")
            assert s.page.inner_text(".sbl-text") == "two 0"  # starts again
            old = f"v-{old_key}.json"
            s.wait_downloads(old)
            assert "updated since your last visit" in s.page.inner_text("#sbl-version-notice")
            rows = sbl_rows(s.json_download(old))
            assert len(stored(s)) == 1  # the old entry is gone once delivered
    finally:
        context.close()
    assert [r["text"] for r in rows] == ["one 0", "one 1", "one 2"]
    assert {r["sbl_version"] for r in rows} == {old_key}


@needs_chromium
def test_no_participant_id_names_another_run(browser: Any, tmp_path: Path) -> None:
    page = write(tmp_path, load(VERSION.format(word="w"), "v.sbl"), "v.html")
    state = "[window.sblRun.st.participant, window.sblRun.st.rows.length]"
    context = browser.new_context(accept_downloads=True)
    try:
        for who, trials in (("@anonymous", 2), (None, 3), ('["x"]', 1)):
            with session(browser, tmp_path, context=context) as s:
                s.goto(file_url(page, **({"participant": who} if who else {})))
                s.page.wait_for_selector(".sbl-text")
                s.run_for(100 * trials)
        with session(browser, tmp_path, context=context) as s:
            s.goto(file_url(page, participant="@anonymous"))
            s.page.wait_for_selector(".sbl-text")
            assert s.page.evaluate(state) == ["@anonymous", 2]
        with session(browser, tmp_path, context=context) as s:
            s.goto(file_url(page))
            s.page.wait_for_selector(".sbl-text")
            who, done = s.page.evaluate(state)
            assert who.startswith("anon-") and done == 3
    finally:
        context.close()


# ---------------------------------------------------------------- 5. inputs begun before a trial


CHOICES = '''experiment "Double"
choice { stimulus: "first" choices: ["a", "b"] }
choice { stimulus: "second" choices: ["a", "b"] }
text { text: "press f" choices: ["f"] }
text { text: "press f again" choices: ["f"] }
'''


@needs_chromium
def test_a_double_click_or_held_key_does_not_answer_the_next_trial(browser: Any,
                                                                    tmp_path: Path) -> None:
    page = write(tmp_path, load(CHOICES, "double.sbl"), "double.html")
    with session(browser, tmp_path) as s:
        s.goto(file_url(page, participant="p"))
        s.page.wait_for_selector("text=first")
        s.page.locator("button.jspsych-btn").first.dblclick()
        s.page.wait_for_selector("text=second")
        assert s.page.evaluate("window.sblRun.st.rows.length") == 1  # 2nd click ignored
        s.run_for(700)  # past the double-click interval
        s.page.locator("button.jspsych-btn").nth(1).click()
        s.page.wait_for_selector("text=press f")
        s.page.keyboard.down("f")  # answers "press f", and stays down
        s.page.wait_for_selector("text=press f again")
        s.page.keyboard.down("f")  # auto-repeat of the held key: ignored
        assert s.page.evaluate("window.sblRun.st.rows.length") == 3
        s.page.keyboard.up("f")
        s.page.keyboard.press("f")
        assert s.wait_state() == "done"
        rows = s.page.evaluate("window.sblRun.st.rows")
    assert [r["response"] for r in rows] == [0, 1, "f", "f"]


# ---------------------------------------------------------------- 6. escaping by value type


# Script through markup: tags, event handlers, javascript: URLs, entities, a closing tag, the
# parser's odd corners (svg, math, noscript), and braces that look like sbl holes.
PAYLOADS = [
    "<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "<svg onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>", '<iframe src="javascript:alert(1)"></iframe>',
    "<body onload=alert(1)>", "<details open ontoggle=alert(1)>",
    "<input autofocus onfocus=alert(1)>", "<video><source onerror=alert(1)></video>",
    "<audio src=x onerror=alert(1)>", "<marquee onstart=alert(1)>x</marquee>",
    '"><img src=x onerror=alert(1)>', "'><svg onload=alert(1)>",
    "</p><script>alert(1)</script>", '<object data="javascript:alert(1)"></object>',
    '<embed src="javascript:alert(1)">',
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "<img src=x onerror=&#97;lert(1)>", "&lt;img src=x onerror=alert(1)&gt;",
    "<noscript><p title=\"</noscript><img src=x onerror=alert(1)>\">",
    "{<img src=x onerror=alert(1)>}", "<form><button formaction=javascript:alert(1)>x</button>",
    "<select autofocus onfocus=alert(1)></select>", "<style>*{display:none}</style>",
]
ECHO = '''experiment "Echo"
block b over for i in range(0, 24) { i: i } {
  text_survey { questions: [{ prompt: "Type something" }] }
  html_keyboard echo {
    stimulus: "<p id=\\"echo\\">You <b>wrote</b>: {prev.response.Q0}</p>"
    choices: ["x"]
  }
}
'''


@needs_chromium
def test_typed_answers_show_as_text_in_markup(browser: Any, tmp_path: Path) -> None:
    assert len(PAYLOADS) == 24
    exp = load(ECHO, "echo.sbl")
    page = write(tmp_path, exp, "echo.html")
    shown = []
    with session(browser, tmp_path, clock=False) as s:
        s.goto(file_url(page, participant="p"))
        for payload in PAYLOADS:
            s.page.fill("input", payload)
            s.page.click("#jspsych-survey-text-next")
            s.page.wait_for_selector("#echo b")  # the author's markup is markup
            shown.append(s.page.inner_text("#echo"))
            s.page.keyboard.press("x")
        assert s.wait_state() == "done"
        assert not s.dialogs and not s.errors  # no payload ran
        echoes = [r["stimulus"] for r in s.page.evaluate("window.sblRun.st.rows")[1::2]]
    assert shown == [f"You wrote: {p}" for p in PAYLOADS]
    # The recorded value is the plain text; the text backend shows what the page showed.
    assert echoes == [f'<p id="echo">You <b>wrote</b>: {p}</p>' for p in PAYLOADS]
    from sbl.backends.text import transcript
    from sbl.participants import Scripted

    text = transcript(exp, Scripted(PAYLOADS))  # one key to press: the text run presses it
    for payload in PAYLOADS:
        assert f"You wrote: {payload}" in text, payload


def test_check_warns_where_participant_data_meets_markup(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from sbl.cli import main

    echo = tmp_path / "echo.sbl"
    echo.write_text(ECHO, encoding="utf-8")
    result = CliRunner().invoke(main, ["check", str(echo)])
    assert result.exit_code == 0, result.output
    assert f"{echo}:5:50: warning: participant data in html parameter 'stimulus' is " \
           "escaped" in result.output and "checked: 2 warnings" in result.output
    assert f"{echo}:1:1: warning: this experiment has no instructions" in result.output
    flanker = Path(__file__).resolve().parent.parent / "examples" / "flanker.sbl"
    result = CliRunner().invoke(main, ["check", str(flanker)])  # literal markup, str holes
    assert result.exit_code == 0 and "warning" not in result.output


MARKED = '''experiment "Marked"
table cues = [{cue: "<b id=\\"bold\\">left</b>"}]
block b over cues {
  html_keyboard { stimulus: markup(cue), choices: ["x"] }
  html_keyboard { stimulus: "<p id=\\"held\\">{markup(cue)} / {cue}</p>", choices: ["x"] }
}
'''


@needs_chromium
def test_markup_marks_html_the_author_wrote_in_a_table(browser: Any, tmp_path: Path) -> None:
    exp = load(MARKED, "marked.sbl")
    page = write(tmp_path, exp, "marked.html")
    with session(browser, tmp_path, clock=False) as s:
        s.goto(file_url(page, participant="p"))
        assert s.page.inner_text("#bold") == "left"  # markup(column): the column's HTML
        s.page.keyboard.press("x")
        s.page.wait_for_selector("#held")
        # in a template: the marked hole is HTML, the plain one is text
        assert s.page.inner_text("#held") == 'left / <b id="bold">left</b>'
        s.page.keyboard.press("x")
        assert s.wait_state() == "done"
    from sbl.backends.text import transcript
    from sbl.participants import Scripted

    text = transcript(exp, Scripted(["x", "x"]))
    assert 'left / <b id="bold">left</b>' in text  # the text run reads what the page shows


def test_check_warns_where_participant_data_is_marked_as_markup(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from sbl.cli import main

    marked = tmp_path / "marked.sbl"
    marked.write_text(ECHO.replace("{prev.response.Q0}", "{markup(prev.response.Q0)}"),
                      encoding="utf-8")
    result = CliRunner().invoke(main, ["check", str(marked)])
    assert result.exit_code == 0, result.output
    assert "warning: participant data marked as markup in html parameter 'stimulus': it " \
           "runs as HTML" in result.output
