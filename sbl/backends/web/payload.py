"""The data a compiled page carries: the IR, the declarations of the kinds it uses, page facts.

Everything the browser needs travels as one JSON document inside
``<script type="application/json" id="sbl-ir">``; :func:`script_json` makes that text safe to
sit in HTML (no ``<``, ``>`` or ``&`` survive, so no user string can close the element).
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from pathlib import PurePath
from typing import Any

from sbl import ir, kinds, types
from sbl.backends import encoded
from sbl.source import SblError

# Kinds declared in stdlib that runtime.js cannot run yet, with the reason shown to the user.
UNSUPPORTED: dict[str, str] = {}

_JSON_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026",
                 "\u2028": "\\u2028", "\u2029": "\\u2029"}


def script_json(data: Any) -> str:
    """JSON text that can sit inside a ``<script>`` element: ``<``, ``>``, ``&`` escaped."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return re.sub("[<>&\u2028\u2029]", lambda m: _JSON_ESCAPES[m.group()], text)


def used_kinds(experiment: ir.Experiment) -> dict[str, kinds.Kind]:
    """The kinds of the experiment's stimuli, by name, in order of first use."""
    used: dict[str, kinds.Kind] = {}
    for stim in ir.stimuli(experiment.body):
        kind = kinds.get(stim.kind)
        if kind is None:
            raise SblError.at(stim.span, f"unknown stimulus kind {stim.kind!r}")
        if stim.kind in UNSUPPORTED:
            raise SblError.at(stim.span, f"the web backend cannot run kind {stim.kind!r}: "
                                         f"{UNSUPPORTED[stim.kind]}")
        used.setdefault(stim.kind, kind)
    return used


@functools.cache
def kind_data(name: str) -> dict[str, Any]:
    """What runtime.js needs of a kind's declaration: plugin, answer, params, data fields."""
    kind = kinds.get(name)
    assert kind is not None, name  # used_kinds refused unknown kinds
    params = [{"name": p.name, "default": p.default,
               "html": types.strip_optional(p.type) == types.HTML}
              for p in kind.params if p.name not in kinds.TEXT_ONLY]
    data = [{"name": d.name, "expr": ir.to_data(d.expr)} for d in kind.data]
    answer: dict[str, object] = {"type": kind.answer.type.value, "source": kind.answer.source,
                                 "options": kind.answer.options, "bounds": kind.answer.bounds}
    if kind.answer.count is not None:  # only same_different's: every page stays small
        answer["count"] = kind.answer.count
    return {"plugin": kind.plugin, "answer": answer, "params": params, "data": data,
            "gesture": kind.gesture}


# The plugin of the "click to start" screen the page shows before a trial of a kind that
# needs a user gesture (sound), when none came yet (runtime.js, queue).
GESTURE_PLUGIN = "html-button-response"


def plugins(experiment: ir.Experiment, used: dict[str, kinds.Kind]) -> list[str]:
    """The jsPsych plugins the page needs, sorted."""
    names = {name for k in used.values() for name in (k.plugin, *k.extra_plugins)}
    if any(k.media_params for k in used.values()) or any(
            isinstance(n, ir.Call) and n.func == "image" for n in ir.walk(experiment.body)):
        names.add("preload")  # the page loads every media file before the first trial
    fullscreen = experiment.setting("fullscreen")
    if fullscreen is not None and not (isinstance(fullscreen, ir.Literal) and not fullscreen.value):
        names.add("fullscreen")  # an expression: decided in the page, so the plugin must be there
    if any(k.gesture for k in used.values()):
        names.add(GESTURE_PLUGIN)
    return sorted(names)


def flag(experiment: ir.Experiment, name: str) -> bool:
    """Whether setting ``name`` is the literal ``true``."""
    value = experiment.setting(name)
    return isinstance(value, ir.Literal) and value.value is True


def page_name(experiment: ir.Experiment) -> str:
    """The stem of the data files: the .sbl file's stem, else a slug of the title."""
    if experiment.span is not None and experiment.span.path.endswith(".sbl"):
        return PurePath(experiment.span.path).stem
    slug = re.sub(r"[^a-z0-9]+", "-", experiment.title.lower()).strip("-")
    return slug or "experiment"


# Settings that send a participant's data away from their machine: a page with any of them
# collects data, and plays itself (``?simulate=``) only when compiled with allow_simulate.
SINK_SETTINGS = ("post_url", "redirect", "jatos")


def collects(experiment: ir.Experiment) -> bool:
    """Whether the page sends its data somewhere (a POST, JATOS, a redirect such as
    Prolific's), rather than only to the downloads of the person at the keyboard."""
    return any(experiment.setting(name) is not None for name in SINK_SETTINGS)


def document(experiment: ir.Experiment, plugin_globals: dict[str, str], *,
             allow_simulate: bool = False, media: dict[str, Any] | None = None) -> list[str]:
    """The whole JSON document embedded in the page, as script-safe text (see
    :func:`script_json`) in pieces to be written in turn; ``allow_simulate`` lets a page that
    collects data honour the ``simulate`` URL parameter (for piloting); ``media`` is the
    media entry of :func:`sbl.backends.web.media.document` (none: no media).

    A table's cells are written a column at a time, and the text both hashed and embedded:
    a table of millions of cells is never serialised twice, nor held whole twice."""
    used = used_kinds(experiment)
    pieces = ir.dumps_cells_apart(ir.to_data(experiment), script_json, script_json)
    pieces[0] = f'{{"sbl-ir":{ir.IR_VERSION},"experiment":{pieces[0]}'
    # The storage key changes with the program, so a reopened tab never resumes a run of
    # another version of the experiment.
    digest = hashlib.sha256()
    for chunk in encoded(*pieces):
        digest.update(chunk)
    rest = script_json({
        "kinds": {name: kind_data(name) for name in used},
        "page": {"name": page_name(experiment), "key": digest.hexdigest()[:16],
                 "plugins": plugin_globals, "gesture_plugin": GESTURE_PLUGIN,
                 "simulate": allow_simulate or not collects(experiment)},
        "media": media or {"urls": {}, "preload": {}},
    })
    return [*pieces, "," + rest[1:]]


def build(experiment: ir.Experiment, plugin_globals: dict[str, str], *,
          allow_simulate: bool = False, media: dict[str, Any] | None = None) -> dict[str, Any]:
    """The document of :func:`document` as data."""
    return json.loads("".join(  # type: ignore[no-any-return]
        document(experiment, plugin_globals, allow_simulate=allow_simulate, media=media)))
