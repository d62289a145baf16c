"""Media in a real page (headless Chromium): the image's pixels are on the screen, a page run
from disk asks for nothing over the network, every file is preloaded first with progress
shown, and a file that fails to load is named to the participant."""

from __future__ import annotations

import io
import shutil
from pathlib import Path
from typing import Any

import pytest

import sbl
from tests.browser import file_url, http_url, launch, needs_chromium, served, session

REPO = Path(__file__).resolve().parents[1]
SHAPES = REPO / "examples" / "shapes.sbl"
# examples/media/red_square.png (scripts/make_media.py): this colour inside, white around
RED = (220, 40, 40)

pytestmark = needs_chromium


@pytest.fixture(scope="module")
def browser() -> Any:
    """One headless Chromium for the module."""
    with launch() as b:
        yield b


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    shutil.copytree(REPO / "examples" / "media", tmp_path / "media")
    return tmp_path


def square_page(folder: Path, mode: str) -> Path:
    source = folder / "square.sbl"
    source.write_text('experiment "Square"\nimage_keyboard { src: "media/red_square.png" '
                      'description: "a red square" width: 128 choices: ["f"] }\n')
    out = folder / "out"
    out.mkdir(exist_ok=True)
    return sbl.load(source).compile(out / f"{mode}.html", media=mode) and out / f"{mode}.html"


def pixels(png: bytes) -> Any:
    from PIL import Image

    return Image.open(io.BytesIO(png)).convert("RGB")


@pytest.mark.parametrize("mode", ["inline", "beside"])
def test_the_images_pixels_are_on_the_page(browser: Any, folder: Path, mode: str) -> None:
    page = square_page(folder, mode)
    with session(browser, folder, clock=False) as s:
        s.goto(file_url(page, participant="p"))
        image = s.page.locator("#jspsych-image-keyboard-response-stimulus")
        image.wait_for()
        s.page.wait_for_function("document.querySelector('img').complete")
        shot = pixels(image.screenshot())
        assert not s.errors
    # drawn at 128 px for a 64 px file: the square covers 20..107, white outside (the
    # element's box may round to a pixel more)
    assert shot.size[0] == 128 and shot.size[1] in (128, 129)
    assert shot.getpixel((64, 64)) == RED and shot.getpixel((30, 100)) == RED
    assert shot.getpixel((4, 4)) == (255, 255, 255)
    assert shot.getpixel((124, 64)) == (255, 255, 255)


@pytest.mark.parametrize("mode", ["inline", "beside"])
def test_a_page_from_disk_asks_for_nothing_over_the_network(browser: Any, folder: Path,
                                                             mode: str) -> None:
    """Every request the page makes is intercepted (Playwright's routing), recorded, and
    let through only if it is for a file on disk; a run of the image example to its end
    asks only for the page, and beside it for the media files next to it."""
    out = folder / "out"
    out.mkdir()
    page = out / "shapes.html"
    sbl.load(SHAPES).compile(page, media=mode)
    routed: list[str] = []

    def intercept(route: Any) -> None:
        routed.append(route.request.url)
        if route.request.url.startswith("file://"):
            route.continue_()
        else:
            route.abort()  # nothing leaves the machine

    with session(browser, folder) as s:
        s.context.route("**/*", intercept)
        s.goto(file_url(page, participant="p", seed=2))
        play_through(s)
        s.wait_downloads("shapes.json")
        rows = sbl.read_data(s.downloads["shapes.json"])
        requests = list(s.requests)
    assert not s.errors
    assert [u for u in routed if not u.startswith("file://")] == []
    assert [u for u in requests if not u.startswith(("file://", "data:"))] == []
    assert routed[0] == file_url(page, participant="p", seed=2)
    files = sorted(u.split("/shapes_media/")[1] for u in routed if "/shapes_media/" in u)
    assert len(routed) == 1 + len(files)
    expected = sorted({r["src"] for r in rows if r["kind"] == "image_keyboard"}
                      | {"media/red_square.png", "media/green_square.png"}) \
        if mode == "beside" else []
    assert files == expected
    shown = {r["src"] for r in rows if r.get("src")}
    assert len(rows) == 38 and shown == {f"media/{c}_{s}.png" for c in ("red", "blue", "green")
                                         for s in ("circle", "square")}


def play_through(s: Any) -> None:
    """Answer every screen of the image example as a person would: next, F, a button, and
    the fake clock moved on over timed screens."""
    for _ in range(400):
        if s.state() == "done":
            return
        if s.page.locator("#jspsych-instructions-next").count():
            s.page.click("#jspsych-instructions-next")
        elif s.page.locator("#jspsych-image-button-response-btngroup button").count():
            s.page.locator("#jspsych-image-button-response-btngroup button").nth(1).click()
        elif s.page.locator("#jspsych-image-keyboard-response-stimulus").count():
            s.page.keyboard.press("f")
        else:
            s.run_for(250)
    raise AssertionError("the page did not finish")


def test_every_file_is_preloaded_first_with_progress_shown(browser: Any, folder: Path) -> None:
    """Served over http with one file held back: the preload screen shows its progress bar
    and no trial starts before every file has loaded."""
    page = folder / "out" / "shapes.html"
    page.parent.mkdir()
    sbl.load(SHAPES).compile(page, media="beside")
    held: list[Any] = []
    with served(page.parent) as base, session(browser, folder, clock=False) as s:
        s.context.route("**/blue_square.png", lambda route: held.append(route))
        s.goto(http_url(base, page, participant="p", seed=1))
        s.page.wait_for_selector("#jspsych-loading-progress-bar-container")
        assert "Loading 6 media files" in s.page.inner_text("body")
        s.page.wait_for_function("parseFloat(document.querySelector("
                                 "'#jspsych-loading-progress-bar').style.width) > 83")  # 5 of 6
        assert s.page.locator(".sbl-page").count() == 0  # the instructions wait
        held[0].continue_()
        s.page.wait_for_selector(".sbl-page")  # then the first trial starts


def test_a_file_that_fails_to_load_is_named(browser: Any, folder: Path) -> None:
    page = folder / "out" / "shapes.html"
    page.parent.mkdir()
    sbl.load(SHAPES).compile(page, media="beside")
    (page.parent / "shapes_media" / "media" / "green_circle.png").unlink()
    with session(browser, folder, clock=False) as s:
        s.goto(file_url(page, participant="p"))
        box = s.page.locator("#sbl-media-error")
        box.wait_for()
        s.page.wait_for_function("document.querySelector('#sbl-media-error').dataset.failed")
        text = box.inner_text()
        assert s.page.locator(".sbl-page").count() == 0
    assert "could not load all of its media files" in text
    assert text.endswith("Files: media/green_circle.png.")
    assert any("could not load the media file media/green_circle.png" in c for c in s.console)


def test_rows_and_the_pages_own_data_record_the_path(browser: Any, folder: Path) -> None:
    page = square_page(folder, "inline")
    with session(browser, folder) as s:
        s.goto(file_url(page, participant="p"))
        s.page.locator("img").wait_for()
        s.page.keyboard.press("f")
        assert s.wait_state() == "done"
        s.wait_downloads("square.json")
        raw = s.json_download("square.json")
        stored = s.page.evaluate("JSON.stringify(Object.assign({}, localStorage))")
    trial = next(r for r in raw if r.get("kind") == "image_keyboard")
    assert trial["src"] == trial["stimulus"] == "media/red_square.png"
    assert "media/red_square.png" in stored and "base64" not in stored
