"""The web backend: a checked experiment becomes one HTML page that runs it with jsPsych 8.

The page is data plus a fixed interpreter (DESIGN decision 2): the IR and the declarations of
the kinds it uses travel as JSON (:mod:`sbl.backends.web.payload`); ``expr.js`` evaluates
expressions and ``runtime.js`` turns blocks and stimuli into jsPsych trials. Nothing about the
user's program is written as code. By default jsPsych, its CSS and exactly the plugins the
experiment uses are inlined from the pinned copies in ``assets/``, so the file runs from disk
with no network; ``cdn=True`` loads the same pinned versions from unpkg instead.
"""

from __future__ import annotations

import functools
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2

from sbl import ir
from sbl.backends.web import assets, payload
from sbl.backends.web.payload import UNSUPPORTED, page_name

__all__ = ["NAME", "UNSUPPORTED", "compile_page", "emit", "page_name", "write_page"]

NAME = "web"


@functools.cache
def _template() -> jinja2.Template:
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined,
                             keep_trailing_newline=True)
    return env.from_string(_read("page.html"))


@functools.cache
def _read(name: str) -> str:
    text = resources.files("sbl.backends.web").joinpath(name).read_text(encoding="utf-8")
    if name.endswith(".html"):
        return text
    # Inlined into <script>/<style>: a closing tag inside would end the element early.
    closing = "</script" if name.endswith(".js") else "</style"
    if closing in text.lower() or "<!--" in text:
        raise ValueError(f"{name} contains {closing!r} or '<!--'; it cannot be inlined")
    return text


def compile_page(experiment: ir.Experiment, *, cdn: bool = False) -> str:
    """The HTML page that runs ``experiment`` in a browser.

    Raises :class:`sbl.source.SblError` for a stimulus of a kind the page cannot run.
    """
    used = payload.used_kinds(experiment)
    names = payload.plugins(experiment, used)
    plugins = [assets.plugin(n) for n in names]
    globals_ = {n: p.global_name for n, p in zip(names, plugins, strict=True)}
    data = payload.build(experiment, globals_)
    return _template().render(
        title=experiment.title,
        css=_file(assets.css(), cdn),
        scripts=[_file(a, cdn) for a in (assets.jspsych(), *plugins)],
        jatos=payload.flag(experiment, "jatos"),
        sbl_css=_read("sbl.css"),
        ir_json=payload.script_json(data),
        expr_js=_read("expr.js"),
        runtime_js=_read("runtime.js"),
    )


def _file(asset: assets.Asset, cdn: bool) -> dict[str, str | None]:
    """What the template needs of a pinned file: its URL, or its text to inline."""
    return {"label": f"{asset.package}@{asset.version}", "url": asset.url if cdn else None,
            "sri": asset.sri, "text": None if cdn else asset.text()}


def emit(experiment: Any, *, cdn: bool = False) -> str:
    """The registry's entry point (``sbl compile --emit html``): the page of a loaded
    :class:`sbl.experiment.Experiment` (or of a bare IR experiment)."""
    return compile_page(getattr(experiment, "ir", experiment), cdn=cdn)


def write_page(experiment: ir.Experiment, path: str | Path, *, cdn: bool = False) -> Path:
    """Compile ``experiment`` and write the page to ``path`` (UTF-8); returns the path."""
    out = Path(path)
    out.write_text(compile_page(experiment, cdn=cdn), encoding="utf-8", newline="\n")
    return out
