"""The vendored jsPsych files equal the pinned npm packages (``npm ci`` first; CI does).

Without node_modules only the checks that need no npm copy run.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from sbl.backends.web import assets

ROOT = Path(__file__).resolve().parent.parent
NODE_MODULES = ROOT / "node_modules"
ASSETS = ROOT / "sbl" / "backends" / "web" / "assets"
needs_npm = pytest.mark.skipif(not NODE_MODULES.is_dir(),
                               reason="node_modules is missing: run `npm ci`")


def _vendor_script():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("vendor_jspsych",
                                                  ROOT / "scripts" / "vendor_jspsych.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def all_assets() -> list[assets.Asset]:
    return [assets.jspsych(), assets.css(), *(assets.plugin(n) for n in assets.plugin_names())]


def test_versions_are_pinned_exactly() -> None:
    pinned = json.loads((ROOT / "package.json").read_text(encoding="utf-8"))["dependencies"]
    lock = json.loads((ROOT / "package-lock.json").read_text(encoding="utf-8"))["packages"]
    assert pinned["jspsych"].startswith("8.3.")
    for asset in all_assets():
        assert pinned[asset.package] == asset.version, asset.package  # exact, no ^ or ~
        assert lock[f"node_modules/{asset.package}"]["version"] == asset.version
    plugins = {n for n in pinned if n.startswith("@jspsych/plugin-")}
    assert plugins == {assets.plugin(n).package for n in assets.plugin_names()}


def test_vendored_scripts_are_safe_to_inline() -> None:
    for asset in all_assets():
        text = (ASSETS / asset.file).read_text(encoding="utf-8")
        assert "sourceMappingURL" not in text, asset.file
        assert "<!--" not in text, asset.file
        closing = "</style" if asset.file.endswith(".css") else "</script"
        assert closing not in text.lower(), asset.file
        assert asset.text() == text
    for name in assets.plugin_names():
        plugin = assets.plugin(name)
        assert (ASSETS / plugin.file).read_text(encoding="utf-8").startswith(
            f"var {plugin.global_name}=")


@needs_npm
def test_assets_equal_the_npm_copies() -> None:
    vendor = _vendor_script()
    for asset in all_assets():
        original = (NODE_MODULES / asset.package / asset.path).read_bytes()
        assert vendor.sri(original) == asset.sri, f"{asset.package}: SRI differs from npm"
        ours = (ASSETS / asset.file).read_text(encoding="utf-8")
        if asset.file.endswith(".css"):
            assert ours.encode("utf-8") == original, asset.file
        else:
            assert ours == vendor.strip_source_map(original.decode("utf-8")), asset.file
            assert "sourceMappingURL" in original.decode("utf-8")  # what was stripped


@needs_npm
def test_vendoring_again_changes_nothing(tmp_path: Path) -> None:
    vendor = _vendor_script()
    written = vendor.vendor(NODE_MODULES, tmp_path)
    assert written == assets.manifest()
    for path in ASSETS.iterdir():
        assert (tmp_path / path.name).read_bytes() == path.read_bytes(), path.name
