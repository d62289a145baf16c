"""The web backend: a checked experiment becomes one HTML page that runs it with jsPsych 8.

The page is data plus a fixed interpreter (DESIGN decision 2): the IR and the declarations of
the kinds it uses travel as JSON (:mod:`sbl.backends.web.payload`); ``expr.js`` evaluates
expressions, ``order.js`` orders shuffled blocks under their constraints, ``runtime.js`` turns
blocks and stimuli into jsPsych trials and ``store.js`` keeps the participant's data in the
browser until they are delivered. Nothing about the
user's program is written as code. By default jsPsych, its CSS and exactly the plugins the
experiment uses are inlined from the pinned copies in ``assets/``, so the file runs from disk
with no network; ``cdn=True`` loads the same pinned versions from unpkg instead.
"""

from __future__ import annotations

import functools
import html
import re
import string
from importlib import resources
from pathlib import Path

from sbl import ir
from sbl.backends import write_output
from sbl.backends.web import assets, media, payload
from sbl.backends.web.payload import UNSUPPORTED, page_name

__all__ = ["NAME", "UNSUPPORTED", "compile_page", "emit", "page_name", "pieces", "write_page"]

NAME = "web"

# The tags of a pinned file, loaded from the CDN or inlined. page.html is laid out with
# string.Template (``${name}``); a template engine would cost more to import than the rest of
# a compile takes.
_CSS_URL = '<link rel="stylesheet" href="{url}" integrity="{sri}" crossorigin="anonymous">'
_CSS_INLINE = "<style>\n{text}</style>"
_SCRIPT_URL = '<script src="{url}" integrity="{sri}" crossorigin="anonymous"></script>'
_SCRIPT_INLINE = "<script>/* {label} */\n{text}</script>"
_JATOS = '<script src="jatos.js"></script>'


@functools.cache
def _template() -> string.Template:
    return string.Template(_read("page.html"))


# Whole-line comments of the page's scripts (a doc comment, a line of ``//``): the page
# runs the same without them, and every page is some 15 kB smaller (the bandit page has a
# size limit, tests/test_web.py). No script of sbl has a line inside a string that starts so.
_COMMENT_LINES = re.compile(r"^[ \t]*/\*\*(?:(?!\*/).)*\*/[ \t]*\n|^[ \t]*//[^\n]*\n",
                            re.M | re.S)


@functools.cache
def _read(name: str) -> str:
    text = resources.files("sbl.backends.web").joinpath(name).read_text(encoding="utf-8")
    if name.endswith(".html"):
        return text
    # Inlined into <script>/<style>: a closing tag inside would end the element early.
    closing = "</script" if name.endswith(".js") else "</style"
    if closing in text.lower() or "<!--" in text:
        raise ValueError(f"{name} contains {closing!r} or '<!--'; it cannot be inlined")
    return _COMMENT_LINES.sub("", text) if name.endswith(".js") else text


def compile_page(experiment: ir.Experiment, *, cdn: bool = False,
                 allow_simulate: bool = False) -> str:
    """The HTML page that runs ``experiment`` in a browser, its media inlined. A page that
    sends its data somewhere honours ``?simulate=`` only with ``allow_simulate`` (for
    piloting).

    Raises :class:`sbl.source.SblError` for a stimulus of a kind the page cannot run, or a
    media file that cannot be read.
    """
    return "".join(pieces(experiment, cdn=cdn, allow_simulate=allow_simulate,
                          media_mode="inline"))


# Where the JSON document goes: html.escape turns the title's '<' into '&lt;', and no asset
# holds a NUL, so the text appears nowhere else.
_HOLE = "<\0sbl-ir\0>"


def pieces(experiment: ir.Experiment, *, cdn: bool = False, allow_simulate: bool = False,
           media_mode: str = "auto", output: Path | None = None) -> list[str]:
    """The page of :func:`compile_page` as the text before the JSON document, the
    document, and the text after it: written in turn, a page with a large table is never
    held whole beside its document. ``media_mode`` (``sbl.backends.MEDIA_MODES``) says where media
    files go; ``beside`` copies them next to ``output``, the page's file."""
    used = payload.used_kinds(experiment)
    names = payload.plugins(experiment, used)
    plugins = [assets.plugin(n) for n in names]
    globals_ = {n: p.global_name for n, p in zip(names, plugins, strict=True)}
    files = media.document(experiment, media_mode, output)
    document = payload.document(experiment, globals_, allow_simulate=allow_simulate,
                                media=files)
    tags = [_tag(assets.css(), cdn, _CSS_URL, _CSS_INLINE)]
    tags += [_tag(a, cdn, _SCRIPT_URL, _SCRIPT_INLINE) for a in (assets.jspsych(), *plugins)]
    if payload.flag(experiment, "jatos"):
        tags.append(_JATOS)
    head, tail = _template().substitute(
        title=html.escape(experiment.title),
        assets="\n".join(tags),
        sbl_css=_read("sbl.css"),
        ir_json=_HOLE,
        expr_js=_read("expr.js"),
        order_js=_read("order.js"),
        store_js=_read("store.js"),
        runtime_js=_read("runtime.js"),
    ).split(_HOLE)
    return [head, *document, tail]


def _tag(asset: assets.Asset, cdn: bool, url_tag: str, inline_tag: str) -> str:
    """The tag that loads a pinned file from its URL, or that holds its text inline."""
    if cdn:
        return url_tag.format(url=html.escape(asset.url), sri=html.escape(asset.sri))
    label = html.escape(f"{asset.package}@{asset.version}")
    return inline_tag.format(label=label, text=asset.text())


def emit(experiment: ir.Experiment, *, cdn: bool = False, allow_simulate: bool = False,
         media_mode: str = "auto") -> str:
    """The registry's entry point (``sbl compile --emit html``): the page of a checked
    experiment (with no file to write beside, its media are inlined)."""
    return "".join(pieces(experiment, cdn=cdn, allow_simulate=allow_simulate,
                          media_mode=media_mode))


def write_page(experiment: ir.Experiment, path: str | Path, *, cdn: bool = False,
               allow_simulate: bool = False, media_mode: str = "auto") -> Path:
    """Compile ``experiment`` and write the page to ``path`` (UTF-8), its media inlined or
    beside it (``media_mode``); returns the path."""
    out = Path(path)
    write_output(out, *pieces(experiment, cdn=cdn, allow_simulate=allow_simulate,
                              media_mode=media_mode, output=out))
    return out
