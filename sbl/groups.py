"""Between-participant groups: which group a participant is in, and Latin-square orders.

An experiment's ``group NAME in GROUPS by SOURCE`` declaration names a list of groups; each
participant is assigned one of them from a *key* the source gives (``docs/language.md``,
"Groups"). Both runtimes assign the same way: ``sbl/backends/web/expr.js`` has the twin of
every function here, and ``tests/test_groups.py`` holds the two to each other.

- A key of decimal digits only is a number ``k``: the participant gets group
  ``(k - 1) mod N + 1`` of ``N`` (groups and participants counted from 1), so any ``N``
  consecutive numbers fill every group once: the groups are balanced.
- Any other key (a Prolific id, the page's anonymous id) gets group
  ``fnv1a32(utf8(key)) mod N + 1``: the same group every time, but not balanced.

``latin(xs)`` is a balanced Latin square (Williams, 1949) of the items: for an even count
``n``, ``n`` orders in which every item is in every position once and follows every other
item once; for an odd count no square of ``n`` rows can do that, so it gives ``2n`` orders,
the square and each of its rows reversed, which balance both.
"""

from __future__ import annotations

import re
from typing import TypeVar

T = TypeVar("T")

COLUMN = "group"  # the column that records the participant's group, by number
_FNV_OFFSET = 0x811C9DC5
_FNV_PRIME = 0x01000193
_NUMBER = re.compile(r"[0-9]+\Z")


def fnv1a32(text: str) -> int:
    """The 32-bit FNV-1a hash of the UTF-8 bytes of ``text``."""
    h = _FNV_OFFSET
    for byte in text.encode("utf-8"):
        h = ((h ^ byte) * _FNV_PRIME) & 0xFFFFFFFF
    return h


def is_number(key: str) -> bool:
    """Whether a key is a participant number (decimal digits only), so groups balance."""
    return bool(_NUMBER.match(key))


def group_number(key: str, count: int) -> int:
    """The group (1 to ``count``) of the participant whose key is ``key``."""
    if count < 1:
        raise ValueError("there are no groups to assign")
    if is_number(key):
        return (int(key) - 1) % count + 1
    return fnv1a32(key) % count + 1


def latin(items: list[T]) -> list[list[T]]:
    """The orders of a balanced Latin square of ``items`` (see the module docstring)."""
    n = len(items)
    if n == 0:
        return []
    # the first row is 0, 1, n-1, 2, n-2, ...; row r adds r to each (mod n)
    first = [0] + [(j + 1) // 2 if j % 2 else n - j // 2 for j in range(1, n)]
    rows = [[items[(c + r) % n] for c in first] for r in range(n)]
    if n % 2:
        rows += [row[::-1] for row in rows]
    return rows
