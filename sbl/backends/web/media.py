"""The media files a page shows: inlined into it as ``data:`` URIs (the default), or written
into a folder beside it for large sets (``sbl compile --media beside``).

Either way the page carries a map from each path as written in the ``.sbl`` (what rows
record) to its URL, which ``runtime.js``'s ``media(path)`` reads, and the lists its preload
trial loads before the first trial.
"""

from __future__ import annotations

import base64
import enum
import re
import shutil
from pathlib import Path, PurePosixPath
from typing import Any

from sbl import ir, media
from sbl.backends import MEDIA_INLINE_LIMIT, MEDIA_MODES
from sbl.source import SblError


class Mode(enum.Enum):
    """Where a page's media go."""

    AUTO = "auto"      # inline up to MEDIA_INLINE_LIMIT bytes in all, else beside
    INLINE = "inline"  # data: URIs inside the page: one self-contained file
    BESIDE = "beside"  # files in <page stem>_media/ next to the page, linked relatively


assert tuple(m.value for m in Mode) == MEDIA_MODES


def folder_name(output: Path) -> str:
    """The folder beside page ``output`` that holds its media."""
    return f"{output.stem}_media"


def placed(files: list[media.MediaFile], mode: str, output: Path | None) -> Mode:
    """The mode a page gets: ``auto`` decided by the media's total size; a page with no file
    to write beside (stdout) is always inlined."""
    chosen = Mode(mode)
    if chosen is Mode.AUTO:
        total = sum(f.size for f in files)
        chosen = Mode.BESIDE if total > MEDIA_INLINE_LIMIT and output is not None else Mode.INLINE
    if chosen is Mode.BESIDE and output is None:
        raise SblError.at(None, "--media beside writes the media files next to the page, "
                                "so it needs an output file",
                          help="give one with -o page.html")
    return chosen


def document(experiment: ir.Experiment, mode: str, output: Path | None) -> dict[str, Any]:
    """The page's ``media`` entry: URLs by path, the paths to preload by class. Under
    ``beside`` the files are copied next to ``output`` as a side effect."""
    files = media.files(experiment)
    if not files:
        return {"urls": {}, "preload": {}}
    chosen = placed(files, mode, output)
    if chosen is Mode.BESIDE:
        assert output is not None
        urls = _write_beside(files, output)
    else:
        urls = {f.path: data_uri(f) for f in files}
    preload: dict[str, list[str]] = {"images": [], "audio": [], "video": []}
    for f in files:
        preload["images" if f.media == "image" else f.media].append(f.path)
    return {"urls": urls, "preload": preload}


def data_uri(file: media.MediaFile) -> str:
    """The file as a base64 ``data:`` URI."""
    encoded = base64.b64encode(file.file.read_bytes()).decode("ascii")
    return f"data:{file.mime};base64,{encoded}"


def _write_beside(files: list[media.MediaFile], output: Path) -> dict[str, str]:
    """Copy the files into the folder beside ``output``; their URLs relative to the page.
    A copy already there from an earlier compile (same size and modification time, which
    the copy keeps, as rsync's quick check) is left as it is: recompiling a large set then
    costs a stat per file, not a rewrite."""
    folder = folder_name(output)
    urls: dict[str, str] = {}
    made: set[Path] = set()
    taken: set[str] = set()
    for f in files:
        relative = _unique(f"{folder}/{_safe(f.path)}", taken)
        target = output.parent / relative
        if target.parent not in made:
            target.parent.mkdir(parents=True, exist_ok=True)
            made.add(target.parent)
        if not _same(f.file, target):
            shutil.copy2(f.file, target)
        urls[f.path] = relative
    return urls


def _unique(relative: str, taken: set[str]) -> str:
    """``relative``, or with ``-2``, ``-3``, ... before its ending when another file took it
    (``a b.png`` and ``a_b.png`` are both made ``a_b.png``)."""
    path, n = PurePosixPath(relative), 1
    while relative in taken:
        n += 1
        relative = str(path.with_stem(f"{path.stem}-{n}"))
    taken.add(relative)
    return relative


def _same(source: Path, copy: Path) -> bool:
    """Whether ``copy`` is a copy of ``source`` made by shutil.copy2 and unchanged since."""
    try:
        a, b = source.stat(), copy.stat()
    except FileNotFoundError:
        return False
    return a.st_size == b.st_size and a.st_mtime_ns == b.st_mtime_ns


def _safe(path: str) -> str:
    """A path as written, kept inside the media folder: ``..`` and ``.`` parts renamed."""
    parts = [{"..": "_up", ".": "_here"}.get(p, p) for p in PurePosixPath(path).parts]
    return "/".join(re.sub(r"[^\w.\-]", "_", p) for p in parts)
