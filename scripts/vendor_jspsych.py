"""Copy the pinned jsPsych bundle, its CSS and plugins from node_modules into the web backend.

Run after ``npm ci`` (``npm run vendor`` or ``python scripts/vendor_jspsych.py``). The copies
make ``pip install sbl`` enough to compile a self-contained page; ``tests/test_web_assets.py``
checks that they still equal the npm files named in ``package-lock.json``.

Each bundle loses its ``//# sourceMappingURL=`` line (the only URL it holds: a page opened
from disk must not try to fetch it). ``assets/manifest.json`` records, per package, its
version, the browser global it defines and the SRI hash of the *unmodified* npm file, which is
what ``--cdn`` pages load from unpkg.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NODE_MODULES = ROOT / "node_modules"
ASSETS = ROOT / "sbl" / "backends" / "web" / "assets"
BUNDLE = "dist/index.browser.min.js"
CSS = "css/jspsych.css"
_SOURCE_MAP = re.compile(r"\n?//# sourceMappingURL=\S*\s*$")
_GLOBAL = re.compile(r"^var (\w+)=")


def strip_source_map(text: str) -> str:
    """The bundle without its trailing ``//# sourceMappingURL=`` comment."""
    return _SOURCE_MAP.sub("\n", text)


def sri(data: bytes) -> str:
    """The Subresource Integrity value (sha384) of ``data``."""
    return "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode("ascii")


def pinned_packages(root: Path = ROOT) -> dict[str, str]:
    """The jsPsych packages of ``package.json``, name -> exact version."""
    deps = json.loads((root / "package.json").read_text(encoding="utf-8"))["dependencies"]
    return {n: v for n, v in deps.items() if n == "jspsych" or n.startswith("@jspsych/plugin-")}


def asset_name(package: str) -> str:
    """The file a package's bundle is copied to: ``jspsych.min.js``, ``plugin-x.min.js``."""
    return package.rsplit("/", 1)[-1] + ".min.js"


def _entry(package: str, version: str, node_modules: Path) -> tuple[dict[str, str], str]:
    folder = node_modules / package
    installed = json.loads((folder / "package.json").read_text(encoding="utf-8"))["version"]
    if installed != version:
        raise SystemExit(f"{package}: node_modules has {installed}, package.json pins {version}; "
                         "run `npm ci`")
    raw = (folder / BUNDLE).read_bytes()
    text = raw.decode("utf-8")
    found = _GLOBAL.match(text)
    if found is None:
        raise SystemExit(f"{package}: cannot find the global its bundle defines")
    entry = {"package": package, "version": version, "file": asset_name(package),
             "path": BUNDLE, "global": found.group(1), "sri": sri(raw)}
    return entry, strip_source_map(text)


def vendor(node_modules: Path = NODE_MODULES, assets: Path = ASSETS) -> dict[str, object]:
    """Copy every pinned bundle and the CSS into ``assets``; return the manifest written."""
    assets.mkdir(parents=True, exist_ok=True)
    manifest: dict[str, object] = {"plugins": {}}
    for package, version in sorted(pinned_packages(node_modules.parent).items()):
        entry, text = _entry(package, version, node_modules)
        (assets / entry["file"]).write_text(text, encoding="utf-8", newline="\n")
        if package == "jspsych":
            manifest["jspsych"] = entry
        else:
            plugins = manifest["plugins"]
            assert isinstance(plugins, dict)
            plugins[package.removeprefix("@jspsych/plugin-")] = entry
    css = (node_modules / "jspsych" / CSS).read_bytes()
    (assets / "jspsych.css").write_bytes(css)
    jspsych = manifest["jspsych"]
    assert isinstance(jspsych, dict)
    manifest["css"] = {"package": "jspsych", "version": jspsych["version"],
                       "file": "jspsych.css", "path": CSS, "sri": sri(css)}
    (assets / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n",
                                          encoding="utf-8")
    return manifest


if __name__ == "__main__":
    if not NODE_MODULES.is_dir():
        sys.exit("node_modules is missing: run `npm ci` first")
    written = vendor()
    plugins = written["plugins"]
    assert isinstance(plugins, dict)
    print(f"vendored jspsych and {len(plugins)} plugins into {ASSETS.relative_to(ROOT)}")
