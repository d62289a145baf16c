"""Sound and video: the kinds audio_keyboard, audio_button, video_keyboard and video_button.

- the clips ``scripts/make_av.py`` makes (VP8 WebM) and the tones the oddball example plays;
- the text a model reads: each stimulus's description, the keys or the button labels;
- real Chromium, launched as the browser tests launch it, with no autoplay flag: it refuses
  sound before a user gesture (checked here, so the rest means something), the page asks for
  a click first, then the sound and the video play to their end (the trials end on jsPsych's
  ``ended`` events, with no key and no time limit);
- both examples played by hand, converted by ``sbl data`` and replayed through the text
  runtime: 0 differing cells with the text run that gave the answers.
"""

from __future__ import annotations

import base64
import importlib.util
import re
import shutil
import sys
import wave
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import sbl
from sbl.cli import main
from sbl.participants.random import RandomResponder
from sbl.participants.scripted import Scripted
from tests import parity
from tests.browser import Session, file_url, http_url, launch, needs_chromium, served, session

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
MEDIA = EXAMPLES / "media"
sys.path.insert(0, str(ROOT / "scripts"))
import make_av  # noqa: E402  (a script, not a package)

needs_av = pytest.mark.skipif(importlib.util.find_spec("av") is None,
                              reason="making or decoding video needs PyAV (pip install av)")


@pytest.fixture(scope="module")
def browser() -> Any:
    """One headless Chromium for the module, with the tests' usual flags (none on autoplay)."""
    with launch() as b:
        yield b


# ---------------------------------------------------------------- the media files


def _zero_crossings(path: Path) -> int:
    with wave.open(str(path)) as w:
        data = w.readframes(w.getnframes())
    samples = [int.from_bytes(data[i:i + 2], "little", signed=True)
               for i in range(0, len(data), 2)]
    return sum(a < 0 <= b for a, b in zip(samples, samples[1:], strict=False))


def test_the_oddballs_high_tone_is_an_octave_above_its_low_tone() -> None:
    # 300 ms at 440 Hz rises through zero 132 times, at 880 Hz 264 times
    low = _zero_crossings(MEDIA / "low_tone.wav")
    high = _zero_crossings(MEDIA / "high_tone.wav")
    assert abs(low - 132) <= 1 and abs(high - 264) <= 1


def _dot_columns(path: Path) -> list[float]:
    """The mean column of the dot's bright pixels in each decoded frame."""
    import av
    import numpy as np

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "vp8"
        out = []
        for frame in container.decode(stream):
            gray = frame.to_ndarray(format="gray")
            out.append(float(np.nonzero(gray > 200)[1].mean()))
        return out


@needs_av
def test_the_clips_are_small_vp8_webms_of_a_dot_moving_their_way(tmp_path: Path) -> None:
    for name, direction in make_av.CLIPS.items():
        committed = MEDIA / name
        assert committed.stat().st_size < 4096
        made = make_av.clip(tmp_path / name, direction)
        for path in (committed, made):
            xs = _dot_columns(path)
            assert len(xs) == 5
            steps = [b - a for a, b in zip(xs, xs[1:], strict=False)]
            assert all(s * direction > 5 for s in steps), (name, xs)


# ---------------------------------------------------------------- what a model reads

AV = """
experiment "Sound and video"
audio_keyboard { src: "media/high_tone.wav" description: "a high tone"
                 ends_after_audio: true }
audio_button { src: "media/low_tone.wav" description: "a low tone"
               choices: ["Low", "High"] }
video_keyboard { src: "media/dot_left.webm" description: "a dot moving to the left"
                 ends_after_video: true }
video_button { src: "media/dot_right.webm" description: "a dot moving to the right"
               choices: ["Left", "Right"] correct_choice: "Right" }
audio_keyboard { src: "media/low_tone.wav" description: "a low tone"
                 choices: ["f", "j"] correct_key: "f" }
"""


def av_experiment(folder: Path) -> sbl.Experiment:
    """AV, written in ``folder`` beside a copy of the examples' media."""
    shutil.copytree(MEDIA, folder / "media", dirs_exist_ok=True)
    path = folder / "av.sbl"
    path.write_text(AV, encoding="utf-8")
    return sbl.load(path)


def test_a_model_reads_each_stimulus_by_its_description(tmp_path: Path) -> None:
    text = av_experiment(tmp_path).transcript(RandomResponder(0), seed=1)
    lines = text.splitlines()
    assert "You hear a high tone." in lines  # no keys: nothing to answer
    assert re.search(r'^You hear a low tone\. Option (\w) is "Low" and option (\w) is "High"\. '
                     r"You choose <<\w>>\.$", text, re.M)
    assert "You see a dot moving to the left." in lines
    assert re.search(r'^You see a dot moving to the right\. Option \w is "Left" and option \w '
                     r'is "Right"\. You choose <<\w>>\.$', text, re.M)
    assert "You can press F or J." in lines
    assert re.search(r"^You hear a low tone\. You press <<[FJ]>>\.$", text, re.M)
    assert "wav" not in text and "webm" not in text  # the files themselves are not read


def test_rows_record_the_paths_as_written(tmp_path: Path) -> None:
    rows = av_experiment(tmp_path).run(RandomResponder(0), seed=1)
    assert [r["src"] for r in rows] == [
        "media/high_tone.wav", "media/low_tone.wav", "media/dot_left.webm", "media/dot_right.webm",
        "media/low_tone.wav"]
    assert [r["description"] for r in rows][:2] == ["a high tone", "a low tone"]


# ---------------------------------------------------------------- Chromium, no autoplay flag

PROBE = """<!doctype html><html><body><button id="go">go</button><script>
function play(when) {
  const audio = new Audio("data:audio/wav;base64,%s");
  audio.addEventListener("ended", () => console.log(when + ": ended"));
  audio.play().then(() => console.log(when + ": playing"),
                    (err) => console.log(when + ": refused " + err.name));
}
play("before");
document.getElementById("go").addEventListener("click", () => play("after"));
</script></body></html>"""


@needs_chromium
def test_this_chromium_refuses_sound_before_a_gesture(browser: Any, tmp_path: Path) -> None:
    """The control: without the page's click-to-start screen a first sound would not play.
    Nothing may query the page before the sound is refused: every Playwright evaluation,
    even waiting for a selector, counts as a user gesture for the page."""
    wav = base64.b64encode((MEDIA / "high_tone.wav").read_bytes()).decode()
    page = tmp_path / "probe.html"
    page.write_text(PROBE % wav, encoding="utf-8")
    with session(browser, tmp_path, clock=False) as s:
        s.goto(file_url(page))
        s.page.wait_for_timeout(1000)  # a sleep on Playwright's side: no page query
        assert "log: before: refused NotAllowedError" in s.console, s.console
        s.page.click("#go")
        s.page.wait_for_timeout(1000)
        assert "log: after: playing" in s.console and "log: after: ended" in s.console


# Says on the console when the click-to-start screen appears, without being asked.
SHOWN = """new MutationObserver((_, observer) => {
  if (!document.getElementById("sbl-gesture")) return;
  observer.disconnect();
  console.log("sbl-gesture shown");
}).observe(document, {childList: true, subtree: true});"""


def open_at_the_click_to_start(s: Session, url: str) -> None:
    """Open ``url`` (a session with the init script SHOWN), wait for the click-to-start
    screen, and click Start. It waits for the page's own word: any query of ours, even
    waiting for a selector, would itself count as a gesture for the page."""
    with s.page.expect_console_message(lambda m: m.text == "sbl-gesture shown"):
        s.goto(url)
    assert parity.start_gesture(s)


@needs_chromium
@pytest.mark.parametrize("over", ["file", "http"])
def test_a_click_to_start_comes_first_then_sound_and_video_play_to_their_end(
        browser: Any, tmp_path: Path, over: str) -> None:
    """From disk jsPsych plays sound with an <audio> element; over http with Web Audio, whose
    context, made before any gesture, starts suspended until the click lets it resume."""
    experiment = av_experiment(tmp_path)
    page = parity.write_page(experiment, tmp_path / "page")
    with ExitStack() as stack:
        s = stack.enter_context(session(browser, tmp_path, clock=False, init_script=SHOWN))
        query = {"participant": parity.PARTICIPANT, "seed": 1}
        url = file_url(page, **query)
        if over == "http":
            url = http_url(stack.enter_context(served(page.parent)), page, **query)
        open_at_the_click_to_start(s, url)
        # No key, no time limit: only the sound's end can end the first trial.
        s.page.wait_for_function("sblRun.st.rows.length == 1", timeout=5_000)
        s.page.locator("#jspsych-audio-button-response-btngroup button").nth(0).click()
        # The video trial ends on the video's end, again with no key and no time limit.
        s.page.wait_for_function("sblRun.st.rows.length == 3", timeout=5_000)
        s.page.locator("#jspsych-video-button-response-btngroup button").nth(1).click()
        s.page.keyboard.press("f")
        rows = parity.finish(s, page)
        assert s.page.locator("#sbl-gesture").count() == 0
        assert s.page.evaluate("sblRun.jsPsych.pluginAPI.useWebaudio") == (over == "http")
        raw = [r for r in s.json_download(f"{page.stem}.json") if "trial" in r]
    # jsPsych's own data record the path as written, not the inlined data (nor the blob: URL
    # a video plays from)
    assert [r["stimulus"] for r in raw][:4] == [
        "media/high_tone.wav", "media/low_tone.wav", ["media/dot_left.webm"],
        ["media/dot_right.webm"]]
    assert [r["response"] for r in rows] == [None, 0, None, 1, "f"]
    assert [r["correct"] for r in rows] == [None, None, None, True, True]
    assert [r["src"] for r in rows][:3] == [
        "media/high_tone.wav", "media/low_tone.wav", "media/dot_left.webm"]
    replayed = experiment.run(Scripted([]), prefix=rows, seed=1)
    assert not parity.compare_rows(rows, replayed).diffs


@needs_chromium
def test_a_reopened_page_asks_for_the_click_again(browser: Any, tmp_path: Path) -> None:
    """A participant who reloads mid-run resumes at a sound: the new page has had no gesture,
    so it asks again (served over http, as tests/test_web.py reopens pages)."""
    experiment = av_experiment(tmp_path)
    page = parity.write_page(experiment, tmp_path / "page")
    context = browser.new_context(accept_downloads=True)
    try:
        with served(page.parent) as base:
            url = http_url(base, page, participant="r", seed=1)
            with session(browser, tmp_path, context=context, clock=False,
                         init_script=SHOWN) as s:
                open_at_the_click_to_start(s, url)
                s.page.wait_for_function("sblRun.st.rows.length == 1", timeout=5_000)
            with session(browser, tmp_path, context=context, clock=False,
                         init_script=SHOWN) as s:
                open_at_the_click_to_start(s, url)  # resumes at the second sound
                s.page.locator("#jspsych-audio-button-response-btngroup button").nth(1).click()
                s.page.wait_for_function("sblRun.st.rows.length == 3", timeout=5_000)
                s.page.locator("#jspsych-video-button-response-btngroup button").nth(0).click()
                s.page.keyboard.press("j")
                rows = parity.finish(s, page)
    finally:
        context.close()
    assert [r["response"] for r in rows] == [None, 1, None, 0, "j"]


@needs_chromium
def test_simulations_skip_the_click_to_start(browser: Any, tmp_path: Path) -> None:
    """A simulated participant gives no gesture and plays no sound: no screen waits for one."""
    experiment = av_experiment(tmp_path)
    page = parity.write_page(experiment, tmp_path / "page")
    text = experiment.run(RandomResponder(0), seed=1)
    rows = parity.simulate(browser, page, tmp_path / "sim", 1, parity.simulation_options(text))
    assert not parity.compare_rows(rows, text).diffs


# ---------------------------------------------------------------- the examples, end to end


@needs_chromium
@pytest.mark.parametrize("name", ["oddball", "motion"])
def test_example_played_by_hand_through_sbl_data_replays_as_text(
        browser: Any, tmp_path: Path, name: str) -> None:
    experiment = sbl.load(EXAMPLES / f"{name}.sbl")
    seed = 7
    text = experiment.run(RandomResponder(0), seed=seed)
    page = parity.write_page(experiment, tmp_path / "page")
    played = parity.play(browser, page, tmp_path / "play", seed, text)
    download = tmp_path / "play" / f"{page.stem}.json"
    tidy = tmp_path / "tidy.csv"
    result = CliRunner().invoke(main, ["data", str(download), "-o", str(tidy)])
    assert result.exit_code == 0, result.output
    rows = sbl.read_data(tidy)
    assert len(rows) == len(text) == len(played)
    assert {r["source"] for r in rows} == {"browser"}
    compared = parity.compare_rows(rows, text)
    assert compared.cells > 10 * compared.rows and not compared.diffs, str(compared)
    replayed = experiment.run(Scripted([]), prefix=rows, seed=seed)
    again = parity.compare_rows(rows, replayed)
    assert not again.diffs, str(again)
    assert any(r["kind"].startswith(("audio", "video")) and r["response"] is not None
               for r in rows)



def test_every_kind_that_plays_sound_or_video_asks_for_a_gesture() -> None:
    """A kind whose media parameter is a sound or a video declares `gesture = true`, so the
    page asks for a click before its first trial (a new such kind cannot forget it)."""
    from sbl import kinds

    playing = {k.name for k in kinds.all_kinds().values()
               if any(p.media in ("audio", "video") for p in k.media_params)}
    assert {"audio_keyboard", "audio_button", "video_keyboard", "video_button"} <= playing
    assert {k.name for k in kinds.all_kinds().values() if k.gesture} == playing
