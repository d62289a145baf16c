"""Which pass of a repeated block a trial is in: the core columns ``pass`` and ``pass_path``.

A block's body runs once per row of its table in each *pass*; a block runs several passes
with ``repeat N`` (N passes), as a ``loop`` (a pass until ``until`` holds or ``max`` passes
have run; with ``repeat N`` too, each loop pass counts N), and again each time it is
entered (an enclosing block's next row or pass enters it anew). Passes are counted from 1 at
each entry of the block, as PsychoPy counts a nested loop's repetitions (``thisRepN``):

- ``pass_path`` (text): the pass of every block of the trial's ``block`` path, joined with
  ``/`` as the path is (block ``session/practice``, pass path ``2/3``: the third practice pass
  of the second session); empty at the top level.
- ``pass`` (a whole number): the pass of the innermost of those blocks that can run more than
  one pass per entry (:func:`repeats`); 1 when none of them can; none at the top level. It is
  the number a learning curve is drawn over: accuracy by ``block`` and ``pass``.

Both runtimes record them alike (``runtime.js`` ``passColumns`` is the twin of
:func:`columns`); docs/data.md says why they are written so.
"""

from __future__ import annotations

from collections.abc import Sequence

from sbl import ir
from sbl.values import Value

PASS = "pass"
PASS_PATH = "pass_path"
COLUMNS = (PASS, PASS_PATH)


def repeats(block: ir.Block) -> bool:
    """Whether ``block`` can run more than one pass each time it is entered."""
    loops = block.until is not None and block.max_loops != 1
    return block.repeat > 1 or (loops and block.repeat > 0)


def columns(open_blocks: Sequence[tuple[ir.Block, int]]) -> dict[str, Value]:
    """``pass`` and ``pass_path`` of a trial inside ``open_blocks``: each open block (outermost
    first) with its pass in the current entry."""
    if not open_blocks:
        return {PASS: None, PASS_PATH: ""}
    innermost = [n for block, n in open_blocks if repeats(block)]
    return {PASS: innermost[-1] if innermost else 1,
            PASS_PATH: "/".join(str(n) for _, n in open_blocks)}
