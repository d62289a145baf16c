"""The pinned jsPsych files the page is built from, as ``scripts/vendor_jspsych.py`` copied them.

``assets/manifest.json`` names each package, its exact version, the browser global it defines
and the SRI hash of the npm file; the page either inlines the vendored copies (the default: a
self-contained file that runs from disk) or points at the same versions on unpkg (``--cdn``).
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from importlib import resources
from typing import Any

CDN = "https://unpkg.com"


@dataclass(frozen=True, slots=True)
class Asset:
    """One vendored file: its npm package and version, the file name here and in the package."""

    package: str
    version: str
    file: str
    path: str
    sri: str
    global_name: str = ""

    @property
    def url(self) -> str:
        """The pinned unpkg URL of the unmodified npm file."""
        return f"{CDN}/{self.package}@{self.version}/{self.path}"

    def text(self) -> str:
        """The vendored copy (for scripts: without its source-map comment)."""
        return _read(self.file)


def _asset(raw: dict[str, Any]) -> Asset:
    return Asset(raw["package"], raw["version"], raw["file"], raw["path"], raw["sri"],
                 raw.get("global", ""))


@functools.cache
def manifest() -> dict[str, Any]:
    """The parsed ``assets/manifest.json``."""
    return json.loads(_read("manifest.json"))  # type: ignore[no-any-return]


@functools.cache
def _read(name: str) -> str:
    text = resources.files("sbl.backends.web").joinpath("assets", name).read_text("utf-8")
    # Inlined into <script>/<style>: a closing tag inside would end the element early, and
    # "<!--" would switch a script element into its escaped parsing state.
    closing = "</style" if name.endswith(".css") else "</script"
    if closing in text.lower() or "<!--" in text:
        raise ValueError(f"vendored asset {name} contains {closing!r} or '<!--'; "
                         "it cannot be inlined")
    return text


def jspsych() -> Asset:
    """The jsPsych core bundle."""
    return _asset(manifest()["jspsych"])


def css() -> Asset:
    """jsPsych's stylesheet (its fonts are data: URIs, so it needs no network)."""
    return _asset(manifest()["css"])


def plugin(name: str) -> Asset:
    """The bundle of plugin ``name`` (``html-button-response``); KeyError if not vendored."""
    return _asset(manifest()["plugins"][name])


def plugin_names() -> tuple[str, ...]:
    """Every vendored plugin."""
    return tuple(sorted(manifest()["plugins"]))
