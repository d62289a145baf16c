"""Media parameters: listing every file an expression can name (sbl/listing.py), checking the
files (sbl/media.py), where the page puts them (sbl/backends/web/media.py), and the text a
model reads instead. The browser side is tests/test_media_page.py."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import sbl
from sbl import kinds, listing, media
from sbl.backends.web import media as web_media
from sbl.cli import main
from sbl.parse import parse_expr
from sbl.source import SblError

REPO = Path(__file__).resolve().parents[1]
MEDIA = REPO / "examples" / "media"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A folder holding a copy of examples/media/ as media/."""
    shutil.copytree(MEDIA, tmp_path / "media")
    return tmp_path


def write(folder: Path, body: str, name: str = "exp.sbl") -> Path:
    path = folder / name
    path.write_text('experiment "m"\n' + body, encoding="utf-8")
    return path


def values(text: str, **env: list[object]) -> list[object]:
    return listing.possible(parse_expr(text, "<t>"), env)  # type: ignore[arg-type]


# ---------------------------------------------------------------- the listing rule


def test_literals_columns_and_templates_list_their_values() -> None:
    assert values('"a.png"') == ["a.png"]
    assert values('"{x}.png"', x=["a", "b"]) == ["a.png", "b.png"]
    assert values('if x == "a" then "1.png" else "2.png"', x=["a"]) == ["1.png"]


def test_a_name_used_twice_takes_one_value_at_a_time() -> None:
    assert values('"{x}/{x}.png"', x=["a", "b"]) == ["a/a.png", "b/b.png"]


def test_random_draws_give_every_value_they_can_draw() -> None:
    assert values('choice(["a", "b", "c"])') == ["a", "b", "c"]
    assert values("shuffle(xs)[0]", xs=[["a", "b", "c"]]) == ["a", "b", "c"]
    assert values("sample(xs, 2)[1]", xs=[["a", "b"]]) == ["b", "a"]
    assert values('"{randint(1, 3)}.png"') == ["1.png", "2.png", "3.png"]


def test_a_value_known_only_as_the_run_goes_chooses_between_listed_branches() -> None:
    found = values('if prev.correct then "yes.png" else "no.png"')
    assert found == ["yes.png", "no.png"]


@pytest.mark.parametrize(("text", "reason"), [
    ('"{prev.choice}.png"', "earlier trial (prev)"),
    ('"{random()}.png"', "infinitely many"),
    ('"{randint(0, 100000)}.png"', "more than 10,000"),
    ('"{trials[0].response}.png"', "'trials' is known only as the experiment runs"),
])
def test_what_cannot_be_listed_says_why(text: str, reason: str) -> None:
    with pytest.raises(listing.Unlistable) as caught:
        values(text)
    assert reason in caught.value.reason


def test_uses_follow_rows_lets_and_nested_blocks(folder: Path) -> None:
    (folder / "t.csv").write_text("c,s\nred,circle\nblue,square\n")
    path = write(folder, '''let other = choice(["green"])
table t from "t.csv"
block outer over t {
  block inner over [{n: 1}] {
    image_keyboard { src: "media/{c}_{s}.png" description: "x" }
    image_keyboard { src: "media/{other}_square.png" description: "y" }
  }
}
''')
    found = [(u.path, u.media) for u in media.uses(sbl.load(path).ir)]
    # c and s come from the same row: red_square and blue_circle are never named
    assert found == [("media/red_circle.png", "image"), ("media/blue_square.png", "image"),
                     ("media/green_square.png", "image")]


MIXED = '''table mixed = [{type: "image", item: "media/red_circle.png"},
                   {type: "word", item: "Evil"}]
block both over mixed {
  block face if type == "image" {
    image_keyboard { src: item description: "x" choices: ["e"] }
  }
  block word if type == "word" and true {
    text { text: item choices: ["e"] }
  }
  block nested if type != "word" {
    block inner over [{n: 1}] if not (type == "word") {
      image_keyboard { src: item description: "y" }
    }
  }
}
'''


def test_rows_a_blocks_if_surely_skips_are_not_listed(folder: Path) -> None:
    experiment = sbl.load(write(folder, MIXED))
    assert [u.path for u in media.uses(experiment.ir)] == ["media/red_circle.png"]
    shown = [(r["type"], r.get("src")) for r in experiment.run("random:1")]
    assert ("word", None) in shown and ("word", "Evil") not in shown


def test_a_blocks_if_the_run_decides_keeps_every_row(folder: Path) -> None:
    decided = MIXED.replace('if type != "word"', "if go").replace(' if not (type == "word")', "")
    path = write(folder, "shared go = true\n" + decided)
    with pytest.raises(SblError) as caught:
        sbl.load(path)
    assert [d.message for d in caught.value.diagnostics] == [
        "'Evil' is not a media file the page can show"]


def test_a_shared_variable_cannot_name_a_file(folder: Path) -> None:
    path = write(folder, 'shared k = "red"\nimage_keyboard { src: "media/{k}_circle.png" '
                         'description: "x" }\n')
    with pytest.raises(SblError) as caught:
        sbl.load(path)
    assert "'k' is a shared variable" in str(caught.value.diagnostics[0].message)


# ---------------------------------------------------------------- files


def test_check_finds_a_missing_file_and_run_does_not_need_it(folder: Path) -> None:
    path = write(folder, 'image_keyboard { src: "media/red_circle.png" description: "a red '
                         'circle" choices: ["f"] }\n')
    (folder / "media" / "red_circle.png").unlink()
    result = CliRunner().invoke(main, ["check", str(path)])
    assert result.exit_code == 1
    assert f"{path}:2:23: error: cannot find the image file 'media/red_circle.png'" in \
        result.stderr
    assert "did you mean 'media/green_circle.png'?" in result.stderr
    # a text run reads the description, never the file
    rows = sbl.load(path).run("random:1")
    assert [r["src"] for r in rows] == ["media/red_circle.png"]
    assert "You see a red circle." in sbl.load(path).transcript()
    assert CliRunner().invoke(main, ["run", str(path), "-p", "random"]).exit_code == 0
    assert CliRunner().invoke(main, ["compile", str(path), "-o",
                                     str(folder / "p.html")]).exit_code == 1


def test_a_csv_cell_naming_a_missing_file_is_reported_at_the_cell(folder: Path) -> None:
    (folder / "t.csv").write_text('what,file\nx,media/red_circle.png\n"y, z",media/nope.png\n')
    path = write(folder, 'table t from "t.csv"\nblock b over shuffle(t) {\n'
                         '  image_keyboard { src: file description: what }\n}\n')
    with pytest.raises(SblError) as caught:
        sbl.load(path).media_files()
    span = caught.value.diagnostics[0].span
    assert span is not None
    assert (Path(span.path).name, span.line, span.col, span.end_col) == ("t.csv", 3, 8, 22)


def test_an_unreadable_file_is_an_error(folder: Path) -> None:
    if sys.platform == "win32" or __import__("os").geteuid() == 0:
        pytest.skip("root reads any file")
    path = write(folder, 'image_keyboard { src: "media/red_circle.png" description: "x" }\n')
    (folder / "media" / "red_circle.png").chmod(0)
    with pytest.raises(SblError, match="cannot read the image file"):
        sbl.load(path).media_files()


# ---------------------------------------------------------------- the page


def _document(page: str) -> dict[str, object]:
    start = page.index('id="sbl-ir">') + len('id="sbl-ir">')
    return json.loads(page[start:page.index("</script>", start)])  # type: ignore[no-any-return]


def test_the_page_inlines_media_by_default(folder: Path) -> None:
    path = write(folder, 'image_keyboard { src: "media/red_circle.png" description: "x" }\n')
    page = sbl.load(path).compile(folder / "p.html")
    doc = _document(page)
    url = doc["media"]["urls"]["media/red_circle.png"]  # type: ignore[index]
    assert url == web_media.data_uri(media.files(sbl.load(path).ir)[0])
    assert url.startswith("data:image/png;base64,iVBOR")
    assert doc["media"]["preload"] == {"images": ["media/red_circle.png"], "audio": [],  # type: ignore[index]
                                       "video": []}
    assert "jsPsychPreload" in page and not (folder / "p_media").exists()
    # only the plugins this experiment uses
    assert "jsPsychImageKeyboardResponse" in page
    for other in ("ImageButton", "AudioKeyboard", "AudioButton", "VideoKeyboard",
                  "VideoButton", "HtmlSlider", "CategorizeImage", "CategorizeHtml",
                  "SurveyMultiSelect", "SameDifferentHtml", "SerialReactionTime"):
        assert f"var jsPsych{other}" not in page
    assert "var jsPsychImageKeyboardResponse=" in page


def test_beside_writes_the_files_next_to_the_page(folder: Path) -> None:
    (folder / "sub").mkdir()
    path = write(folder, 'image_keyboard { src: "../x/media/red_circle.png" description: '
                         '"x" }\n', "sub/exp.sbl")
    (folder / "x").mkdir()
    shutil.copytree(folder / "media", folder / "x" / "media")
    out = folder / "out"
    out.mkdir()
    result = CliRunner().invoke(main, ["compile", str(path), "--media", "beside", "-o",
                                       str(out / "page.html")])
    assert result.exit_code == 0, result.output
    copy = out / "page_media" / "_up" / "x" / "media" / "red_circle.png"
    assert copy.read_bytes() == (MEDIA / "red_circle.png").read_bytes()
    doc = _document((out / "page.html").read_text())
    assert doc["media"]["urls"] == {  # type: ignore[index]
        "../x/media/red_circle.png": "page_media/_up/x/media/red_circle.png"}
    # a file changed since is copied again; an unchanged one is left as it is
    source = folder / "x" / "media" / "red_circle.png"
    source.write_bytes((MEDIA / "blue_circle.png").read_bytes())
    sbl.load(path).compile(out / "page.html", media="beside")
    assert copy.read_bytes() == (MEDIA / "blue_circle.png").read_bytes()
    stdout = CliRunner().invoke(main, ["compile", str(path), "--media", "beside"])
    assert stdout.exit_code == 2 and "needs an output file" in stdout.stderr  # usage


def test_beside_keeps_files_whose_safe_names_clash_apart(folder: Path) -> None:
    shutil.copy(MEDIA / "red_circle.png", folder / "media" / "a b.png")
    shutil.copy(MEDIA / "blue_circle.png", folder / "media" / "a_b.png")
    path = write(folder, 'image_keyboard { src: "media/a b.png" description: "x" }\n'
                         'image_keyboard { src: "media/a_b.png" description: "y" }\n')
    page = sbl.load(path).compile(folder / "p.html", media="beside")
    urls = _document(page)["media"]["urls"]  # type: ignore[index]
    assert urls == {"media/a b.png": "p_media/media/a_b.png",
                    "media/a_b.png": "p_media/media/a_b-2.png"}
    assert (folder / "p_media/media/a_b-2.png").read_bytes() == \
        (MEDIA / "blue_circle.png").read_bytes()


def test_auto_writes_large_sets_beside(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(folder, 'image_keyboard { src: "media/red_circle.png" description: "x" }\n')
    monkeypatch.setattr(web_media, "MEDIA_INLINE_LIMIT", 100)  # bytes: the file has 251
    sbl.load(path).compile(folder / "p.html")
    assert (folder / "p_media" / "media" / "red_circle.png").is_file()


def test_a_page_without_media_has_no_preload_plugin() -> None:
    page = sbl.load(REPO / "examples" / "bandit.sbl").compile()
    assert "jsPsychPreload" not in page and '"media":{"urls":{},"preload":{}}' in page


def test_compile_help_explains_the_media_option() -> None:
    text = CliRunner().invoke(main, ["compile", "--help"]).output
    assert "--media [auto|inline|beside]" in text and "16 MB" in text


# ---------------------------------------------------------------- declarations and the text


def test_a_media_kind_must_declare_a_description(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "kinds").mkdir()
    (tmp_path / "kinds" / "picture.toml").write_text(
        'plugin = "image-keyboard-response"\n[params.src]\ntype = "media"\nrequired = true\n')
    monkeypatch.setattr(kinds, "ROOTS", [*kinds.ROOTS, tmp_path])
    kinds.reread()
    try:
        with pytest.raises(ValueError, match="must declare a required 'description'"):
            kinds.get("picture")
    finally:
        kinds.reread()


MEDIA_KINDS = [k for k in kinds.all_kinds().values() if k.media_params and k.example]


@pytest.mark.parametrize("kind", MEDIA_KINDS, ids=lambda k: k.name)
def test_a_media_kinds_text_differs_with_its_description(kind: kinds.Kind) -> None:
    """The text a model reads tells two stimuli apart by their descriptions: a template
    that gives the same line for both does not count as one."""
    assert kind.example is not None
    lines = []
    for description in ("a black cat", "a white dog"):
        stimulus = kind.example.stimulus.replace(
            kind.example.stimulus[kind.example.stimulus.index('description: "'):].split('"')[1],
            description, 1)
        exp = sbl.loads(f'experiment "d"\n{kind.name} {stimulus}\n', str(REPO / "examples" /
                                                                         "d.sbl"))
        lines.append(exp.transcript())
    assert lines[0] != lines[1] and "a black cat" in lines[0] and "a white dog" in lines[1]


def test_make_media_writes_the_committed_files() -> None:
    sys.path.insert(0, str(REPO / "scripts"))
    try:
        import make_av
        import make_media
    finally:
        sys.path.pop(0)
    made = make_media.files()
    committed = {p.name: p.read_bytes() for p in MEDIA.iterdir()}
    assert made == {name: committed[name] for name in made}
    assert set(committed) - set(made) == set(make_av.CLIPS)  # tests/test_av.py checks those
    assert all(len(data) < 8192 for data in made.values())
    assert 19_000 < len(make_media.noise(1, 82)) < 21_000  # the benchmark's 20 KB images


def test_optional_and_list_media_parameters_are_listed(folder: Path, tmp_path_factory: Any,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path_factory.mktemp("root")
    (root / "kinds").mkdir()
    (root / "kinds" / "gallery.toml").write_text(
        'plugin = "html-keyboard-response"\n'
        '[params.images]\ntype = "list[media]"\nmedia = "image"\nrequired = true\n'
        '[params.sound]\ntype = "media?"\nmedia = "audio"\n'
        '[params.description]\ntype = "str"\nrequired = true\n')
    monkeypatch.setattr(kinds, "ROOTS", [*kinds.ROOTS, root])
    kinds.reread()
    try:
        path = write(folder, 'gallery { images: ["media/red_circle.png", "media/blue_circle.png"]'
                             ' description: "two circles" }\n'
                             'gallery { images: [] sound: "media/low_tone.wav" '
                             'description: "a tone" }\n')
        found = [(u.path, u.media) for u in media.uses(sbl.load(path).ir)]
    finally:
        kinds.reread()
    assert found == [("media/red_circle.png", "image"), ("media/blue_circle.png", "image"),
                     ("media/low_tone.wav", "audio")]


def test_a_participants_group_can_name_a_file(folder: Path) -> None:
    path = write(folder, 'group g in [{c: "red"}, {c: "blue"}]\n'
                         'image_keyboard { src: "media/{g.c}_square.png" description: "x" }\n')
    found = [u.path for u in media.uses(sbl.load(path).ir)]
    assert found == ["media/red_square.png", "media/blue_square.png"]


def test_a_column_that_fills_a_media_parameter_is_listed_and_checked(folder: Path) -> None:
    (folder / "t.csv").write_text("src,description\nmedia/red_circle.png,a red circle\n"
                                  "media/nope.png,nothing\n")
    path = write(folder, 'table t from "t.csv"\nblock b over t {\n'
                         '  image_keyboard { choices: ["f"] }\n}\n')
    experiment = sbl.load(path)
    assert [r["src"] for r in experiment.run("random:1")] == ["media/red_circle.png",
                                                               "media/nope.png"]
    with pytest.raises(SblError) as caught:
        experiment.media_files()
    span = caught.value.diagnostics[0].span
    assert span is not None and (Path(span.path).name, span.line, span.col) == ("t.csv", 3, 1)
