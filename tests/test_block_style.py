"""``style:`` on a block: merged field by field into each trial's own style (the ``inherit``
pass), innermost first, the experiment's style filling the rest on the page; rows record the
merged style, the same in the page and in a text run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import sbl
from sbl.backends.text import run_experiment
from sbl.fmt import format_source
from sbl.participants.scripted import Scripted
from sbl.source import SblError
from tests import parity
from tests.browser import file_url, launch, needs_chromium, session

SOURCE = '''experiment "Block styles" {
  instructions: "Press F."
  style: {background: "white", color: "black", font_size: 20}
}

block dark {
  style: {background: "black", color: "white"}
  text plain {
    text: "A"
    choices: ["f"]
  }
  text red {
    text: "B"
    choices: ["f"]
    style: {color: "red", width: none}
  }
  block big {
    style: {font_size: choice([30, 40]), color: none}
    text nested {
      text: "C"
      choices: ["f"]
      style: {background: none}
    }
  }
}

text outside {
  text: "D"
  choices: ["f"]
}
'''

LOOK = """() => {
  const text = document.querySelector('.sbl-text'), s = getComputedStyle(text);
  return [text.innerText, getComputedStyle(document.body).backgroundColor, s.color, s.fontSize];
}"""


@pytest.fixture(scope="module")
def browser() -> Any:
    """One headless Chromium for the module's browser test."""
    with launch() as b:
        yield b


def styles(rows: Any) -> dict[str, Any]:
    return {r["trial"]: r.get("style") for r in rows if r["trial"] != "instructions"}


def test_rows_record_the_merged_style() -> None:
    exp = sbl.loads(SOURCE, "styles.sbl")
    rows = exp.run("scripted:f,f,f,f", seed=1)
    assert list(run_experiment(exp.ir, Scripted([]), prefix=rows, seed=1)) == list(rows)
    got = styles(rows)
    assert got["dark/plain"] == {"background": "black", "color": "white"}
    assert got["dark/red"] == {"background": "black", "color": "red", "width": None}
    nested = got["dark/big/nested"]
    assert nested["background"] == "black" and nested["color"] == "white"
    assert nested["font_size"] in (30, 40)
    assert got["outside"] is None  # no block style: the trial's own (none here), as before
    sizes = {styles(exp.run("scripted:f,f,f,f", seed=s))["dark/big/nested"]["font_size"]
             for s in range(1, 9)}
    assert sizes == {30, 40}  # the block's choice draws, once per trial


def test_the_format_keeps_a_block_style() -> None:
    assert format_source(SOURCE, "styles.sbl") == SOURCE


@pytest.mark.parametrize(("style", "message"), [
    ('"black"', "a block's style must be a record like {background: \"black\"} or none, "
                "not a str"),
    ('{backgrund: "black"}', "a style has no field 'backgrund'"),
])
def test_a_wrong_block_style_is_an_error(style: str, message: str) -> None:
    source = SOURCE.replace('style: {background: "black", color: "white"}', f"style: {style}")
    with pytest.raises(SblError) as caught:
        sbl.loads(source, "styles.sbl")
    assert message in str(caught.value)


@needs_chromium
def test_the_page_shows_and_records_the_merged_style(browser: Any, tmp_path: Path) -> None:
    exp = sbl.loads(SOURCE, "styles.sbl")
    text = exp.run("scripted:f,f,f,f", seed=3)
    page = parity.write_page(exp, tmp_path)
    with session(browser, tmp_path) as s:
        s.goto(file_url(page, participant="1", seed=3))
        s.page.click("#jspsych-instructions-next")  # past the instructions page
        s.run_for(10)
        seen = []
        for _ in range(4):
            s.page.wait_for_selector(".sbl-text")
            seen.append(s.page.evaluate(LOOK))
            s.page.keyboard.press("f")
            s.run_for(10)
        rows = parity.finish(s, page)
    white, black = "rgb(255, 255, 255)", "rgb(0, 0, 0)"
    size = styles(text)["dark/big/nested"]["font_size"]
    assert seen[0] == ["A", black, white, "30px"]  # .sbl-text is 1.5em of the font size
    assert seen[1] == ["B", black, "rgb(255, 0, 0)", "30px"]
    assert seen[2] == ["C", black, white, f"{1.5 * size:g}px"]
    assert seen[3] == ["D", white, black, "30px"]
    assert not parity.compare_rows(rows, text).diffs
