"""``image(path, description)`` in html parameters: the page shows the file's pixels (inlined
or beside, as media kinds do) and preloads it, a text participant reads the description in
its place, and both runtimes record the same rows; the checker lists and checks its paths as
a media kind's ``src`` (errors: tests/errors/image_*)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

import sbl
from tests import parity
from tests.browser import file_url, launch, needs_chromium, session
from tests.test_media_page import RED, pixels

REPO = Path(__file__).resolve().parents[1]
SOURCE = """experiment "Pictures" { instructions: "Press F for red, J for green." }
table shapes = [{colour: "red", key: "f"}, {colour: "green", key: "j"}]
html_keyboard intro {
  stimulus: markup("<p>{image('media/red_square.png', 'a red square')} is F</p>")
  choices: ["f"]
}
block trials over shapes {
  html_keyboard pick {
    stimulus: "<p>Press {key} for {image('media/{colour}_square.png', 'a {colour} square')}</p>"
    choices: ["f", "j"]
    correct_key: key
  }
}
"""
SEED = 3


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    shutil.copytree(REPO / "examples" / "media", tmp_path / "media")
    (tmp_path / "pictures.sbl").write_text(SOURCE)
    return tmp_path


def text_rows(folder: Path) -> Any:
    return sbl.load(folder / "pictures.sbl").run("scripted:f,j", seed=SEED)


def test_a_text_participant_reads_the_description_in_place_of_the_image(folder: Path) -> None:
    rows = text_rows(folder)
    assert [r["stimulus"] for r in rows if r["kind"] == "html_keyboard"] == [
        "<p>a red square is F</p>", "<p>Press f for a red square</p>",
        "<p>Press j for a green square</p>"]


def test_the_page_lists_and_preloads_every_image_it_can_show(folder: Path) -> None:
    page = folder / "out" / "pictures.html"
    page.parent.mkdir()
    sbl.load(folder / "pictures.sbl").compile(page, media="beside")
    copied = sorted(p.name for p in (page.parent / "pictures_media" / "media").iterdir())
    assert copied == ["green_square.png", "red_square.png"]
    html = page.read_text()
    assert '"preload"' in html and "plugin-preload" in html


@pytest.fixture(scope="module")
def browser() -> Any:
    with launch() as b:
        yield b


@needs_chromium
@pytest.mark.parametrize("mode", ["inline", "beside"])
def test_the_images_pixels_are_on_the_page(browser: Any, folder: Path, mode: str) -> None:
    page = folder / "out" / f"{mode}.html"
    page.parent.mkdir()
    sbl.load(folder / "pictures.sbl").compile(page, media=mode)
    with session(browser, folder, clock=False) as s:
        s.goto(file_url(page, participant="p", seed=SEED))
        s.page.click("#jspsych-instructions-next")  # the experiment's instructions first
        image = s.page.locator("img.sbl-image")
        image.wait_for()
        s.page.wait_for_function("document.querySelector('img.sbl-image').complete")
        src = image.get_attribute("src") or ""
        alt = image.get_attribute("alt")
        shot = pixels(image.screenshot())
        s.page.keyboard.press("f")  # on to the first row's trial: a template's hole
        s.page.wait_for_selector("text=Press f for")
        row_alt = s.page.locator("img.sbl-image").get_attribute("alt")
        assert not s.errors
    assert row_alt == "a red square"
    assert src.startswith("data:image/png;base64," if mode == "inline" else f"{mode}_media/")
    assert alt == "a red square"
    # examples/media/red_square.png: 64 px, the square from 10 to 53, white around (the
    # element's box may round to a pixel more, as in tests/test_media_page.py)
    assert shot.size[0] in (64, 65) and shot.size[1] in (64, 65)
    assert shot.getpixel((32, 32)) == RED and shot.getpixel((2, 2)) == (255, 255, 255)


@needs_chromium
def test_page_and_text_record_the_same_rows(browser: Any, folder: Path) -> None:
    text = text_rows(folder)
    page = parity.write_page(sbl.load(folder / "pictures.sbl"), folder / "page")
    played = parity.play(browser, page, folder / "play", SEED, text)
    result = parity.compare_rows(played, text)
    assert result.rows == 4 and not result.diffs, result.diffs


@needs_chromium
def test_the_simple_rt_ports_instruction_screen_shows_both_circles(
        browser: Any, tmp_path: Path) -> None:
    """jsPsych's tutorial shows the blue and the orange circle on its instruction screen
    (tests/ports/simple_rt.sbl): both images' pixels are there, blue left, orange right."""
    page = tmp_path / "simple_rt.html"
    sbl.load(REPO / "tests" / "ports" / "simple_rt.sbl").compile(page)
    with session(browser, tmp_path, clock=False) as s:
        s.goto(file_url(page, participant="p", seed=SEED))
        s.page.click("#jspsych-instructions-next")
        s.page.wait_for_selector("#jspsych-html-keyboard-response-stimulus")
        s.page.keyboard.press("a")  # the welcome screen: any key
        s.page.wait_for_function("document.querySelectorAll('img.sbl-image').length == 2 && "
                                 "[...document.querySelectorAll('img.sbl-image')]"
                                 ".every((i) => i.complete && i.naturalWidth == 300)")
        images = s.page.locator("img.sbl-image")
        alts = [images.nth(i).get_attribute("alt") for i in range(2)]
        centres = [pixels(images.nth(i).screenshot()).getpixel((150, 150)) for i in range(2)]
        assert not s.errors
    assert alts == ["a blue circle", "an orange circle"]
    # tests/ports/media/blue.png and orange.png: the circles' colours at their centres
    assert centres == [(33, 63, 154), (242, 101, 34)]
