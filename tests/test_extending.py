"""docs/extending.md, followed: a new stimulus kind is one declaration and one template (and a
runtime.js entry, which the page needs only to run it). A kind written in a temporary folder
laid out like stdlib/ goes through the checker, a text run and the page payload."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import sbl
from sbl import kinds
from sbl.backends.web import payload
from sbl.participants.scripted import Scripted
from sbl.source import SblError, render_all

DECLARATION = '''
doc = "A yes/no question answered with a key."
plugin = "html-keyboard-response"
answer = { type = "key", from = "keys" }
compare = "none"

[params.question]
type = "str"
required = true
doc = "The question."

[params.keys]
type = "list[str]"
default = ["y", "n"]
doc = "The key for yes, then the key for no."

[data.yes]
type = "bool?"
expr = "if response == none then none else response == keys[0]"
doc = "Whether the answer was yes."

[example]
stimulus = '{ question: "Ready?" }'
response = "y"
'''
TEMPLATE = 'You are asked "{{ question }}" and press {{ answer }}.'


@pytest.fixture
def yes_no(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The kind ``yes_no``, declared in a stdlib-like folder next to the standard library."""
    root = tmp_path / "stdlib"
    (root / "kinds").mkdir(parents=True)
    (root / "templates").mkdir()
    (root / "kinds" / "yes_no.toml").write_text(DECLARATION, encoding="utf-8")
    (root / "templates" / "yes_no.txt").write_text(TEMPLATE, encoding="utf-8")
    monkeypatch.setattr(kinds, "ROOTS", [*kinds.ROOTS, root])
    kinds.reread()
    yield root
    kinds.reread()


def program(body: str) -> str:
    return f'experiment "Yes or no"\n\nblock b {{\n{body}\n}}\n'


def test_a_new_kind_is_checked_run_as_text_and_carried_by_the_page(yes_no: Path) -> None:
    kind = kinds.get("yes_no")
    assert kind is not None and [d.name for d in kind.data] == ["yes"]
    assert kind.example is not None and kind.compare == "none"
    experiment = sbl.loads(program(f"  yes_no {kind.example.stimulus}\n"
                                   '  yes_no { question: "Sure?" keys: ["j", "k"] }'),
                           "yes_no.sbl")
    rows = experiment.run(Scripted(["y", "k"]))
    assert [(r["response"], r["yes"]) for r in rows] == [("y", True), ("k", False)]
    assert experiment.transcript(Scripted(["y", "k"])).splitlines()[0] == \
        'You are asked "Ready?" and press <<Y>>.'
    data = payload.kind_data("yes_no")
    assert data["plugin"] == "html-keyboard-response"
    assert [p["name"] for p in data["params"]] == ["question", "keys", "gap", "style"]
    assert data["data"][0]["expr"]["node"] == "Cond"
    page = payload.build(experiment.ir, {})
    assert set(page["kinds"]) == {"yes_no"}


def test_the_checker_knows_the_new_kind(yes_no: Path) -> None:
    with pytest.raises(SblError) as caught:
        sbl.loads(program('  yes_no { question: 3 }\n  yes_no { queston: "?" }'), "bad.sbl")
    assert render_all(caught.value) == """\
bad.sbl:4:22: error: parameter 'question' must be a str, not an int
  |
4 |   yes_no { question: 3 }
  |                      ^

bad.sbl:5:12: error: 'yes_no' has no parameter 'queston'
  |
5 |   yes_no { queston: "?" }
  |            ^^^^^^^
  = help: did you mean 'question'?

2 errors"""


def test_an_answered_kind_without_compare_is_refused(yes_no: Path) -> None:
    (yes_no / "kinds" / "yes_no.toml").write_text(
        DECLARATION.replace('compare = "none"\n', ""), encoding="utf-8")
    kinds.reread()
    with pytest.raises(ValueError, match="names its compare analysis"):
        kinds.get("yes_no")
