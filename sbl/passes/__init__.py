"""Passes over the IR, run in the order of ``PASSES``; each returns a new experiment."""

from sbl.passes.check import check
from sbl.passes.resolve import resolve

PASSES = (resolve, check)

__all__ = ["PASSES", "check", "resolve"]
