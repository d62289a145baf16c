"""Passes over the IR, run in the order of ``PASSES``; each returns a new experiment.
``lint`` runs after them and returns warnings instead (``sbl check`` prints them)."""

from sbl.passes.check import check
from sbl.passes.inherit import inherit
from sbl.passes.lint import lint
from sbl.passes.list_media import list_media
from sbl.passes.resolve import resolve

PASSES = (resolve, check, inherit, list_media)

__all__ = ["PASSES", "check", "inherit", "lint", "list_media", "resolve"]
