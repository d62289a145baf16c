"""The model cache: a GGUF file is dequantised once, then loaded from safetensors.

Transformers reads a ``.gguf`` file by dequantising every tensor in Python (34 s for the 135M
smollm2 on two cores); the same weights saved with ``save_pretrained`` load in about a
second. An entry is a directory ``<root>/models/<sha256 of the .gguf>-transformers-<version>``
holding what ``save_pretrained`` writes for the model and its tokenizer, and a
``manifest.json`` with the source's hash, the transformers version and the sha256 of every
file. An entry is written in a temporary directory and renamed into place, so a crash leaves
no half entry; one whose files no longer match its manifest is removed and rebuilt, never
used. The root is ``$SBL_CACHE_DIR``, else ``$XDG_CACHE_HOME/sbl``, else ``~/.cache/sbl``;
``sbl cache info`` lists it and ``sbl cache clear`` empties it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FORMAT = 1
MANIFEST = "manifest.json"
log = logging.getLogger(__name__)


def cache_root() -> Path:
    """Where sbl keeps what it can rebuild: ``$SBL_CACHE_DIR``, else the XDG cache."""
    if os.environ.get("SBL_CACHE_DIR"):
        return Path(os.environ["SBL_CACHE_DIR"]).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(xdg).expanduser() / "sbl"


def models_dir() -> Path:
    """The directory of converted models."""
    return cache_root() / "models"


def sha256(path: Path) -> str:
    """The sha256 of a file, hex (0.4 s for 540 MB here)."""
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def _transformers_version() -> str:
    """The installed transformers' version, read without importing it."""
    from importlib import metadata

    try:
        return metadata.version("transformers")
    except metadata.PackageNotFoundError:
        return "none"


@dataclass(frozen=True)
class Entry:
    """One converted model in the cache: its directory and what its manifest says."""

    path: Path
    manifest: dict[str, Any]

    @property
    def size(self) -> int:
        """Bytes on disk."""
        return sum(f.stat().st_size for f in self.path.iterdir() if f.is_file())

    def problem(self) -> str | None:
        """Why this entry must not be used (stale or corrupt), or None when it is sound."""
        m = self.manifest
        if m.get("format") != FORMAT:
            return f"it has cache format {m.get('format')}, this sbl writes {FORMAT}"
        if self.path.name != key(str(m.get("source_sha256"))):
            return "its manifest names another source file or transformers version"
        if m.get("transformers") != _transformers_version():
            return (f"it was converted by transformers {m.get('transformers')}, this is "
                    f"{_transformers_version()}")
        files = m.get("files") or {}
        if "config.json" not in files:
            return "its manifest lists no config.json"
        for name, digest in files.items():
            file = self.path / name
            if not file.is_file():
                return f"{name} is missing"
            if sha256(file) != digest:
                return f"{name} does not match its manifest"
        return None


def read_entry(path: Path) -> Entry | None:
    """The entry in ``path``, or None when it has no readable manifest."""
    try:
        manifest = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return Entry(path, manifest) if isinstance(manifest, dict) else None


def entries() -> list[Path]:
    """Every entry directory in the cache, sorted (temporary ones left out)."""
    where = models_dir()
    if not where.is_dir():
        return []
    return sorted(p for p in where.iterdir() if p.is_dir() and not p.name.startswith("."))


def key(source_sha256: str) -> str:
    """The directory name of a source's entry under the installed transformers."""
    return f"{source_sha256}-transformers-{_transformers_version()}"


@contextlib.contextmanager
def converted(source: Path, convert: Callable[[Path, Path], None]) -> Iterator[Path]:
    """A directory holding ``source`` as ``convert(source, directory)`` writes it: the
    cache's sound entry, made first if there is none, or, when the cache cannot be written,
    a temporary directory removed afterwards."""
    entry, digest = lookup(source)
    if entry is None:
        log.info("sbl: converting %s once (later loads read the model cache in %s)",
                 source.name, models_dir())
        entry = store(source, digest, lambda directory: convert(source, directory))
    if entry is not None:
        yield entry
        return
    with tempfile.TemporaryDirectory(prefix="sbl-model-") as temporary:
        convert(source, Path(temporary))
        yield Path(temporary)


def lookup(source: Path) -> tuple[Path | None, str]:
    """The sound cached conversion of ``source`` (or None) and the source's sha256.

    An entry that fails its checks is removed, with a warning saying why."""
    digest = sha256(source)
    path = models_dir() / key(digest)
    if not path.exists():
        return None, digest
    entry = read_entry(path)
    problem = "it has no readable manifest" if entry is None else entry.problem()
    if problem is None:
        return path, digest
    log.warning("sbl: the cached conversion of %s in %s is not used: %s; converting again",
                source, path, problem)
    _remove(path)
    return None, digest


def store(source: Path, digest: str, save: Callable[[Path], None]) -> Path | None:
    """Write a new entry for ``source`` whose files ``save(directory)`` writes; returns its
    directory, or None (with a warning) when it cannot be written. Atomic: the files are
    written and hashed in a temporary directory that is then renamed into place."""
    where = models_dir()
    final = where / key(digest)
    try:
        where.mkdir(parents=True, exist_ok=True)
        temporary = Path(tempfile.mkdtemp(prefix=f".tmp-{digest[:12]}-", dir=where))
    except OSError as e:
        log.warning("sbl: cannot write the model cache in %s (%s); the next load converts "
                    "%s again", where, e, source)
        return None
    try:
        save(temporary)
        files = {f.name: sha256(f) for f in sorted(temporary.iterdir()) if f.is_file()}
        manifest = {"format": FORMAT, "source": str(source), "source_sha256": digest,
                    "source_size": source.stat().st_size,
                    "transformers": _transformers_version(),
                    "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "files": files}
        (temporary / MANIFEST).write_text(json.dumps(manifest, indent=1), encoding="utf-8")
        return _publish(temporary, final)
    except OSError as e:
        log.warning("sbl: cannot write the model cache in %s (%s); the next load converts "
                    "%s again", where, e, source)
        _remove(temporary)
        return None
    except BaseException:  # the conversion failed (a corrupt file, ^C): leave nothing behind
        _remove(temporary)
        raise


def _publish(temporary: Path, final: Path) -> Path:
    """Rename ``temporary`` to ``final``; if another process got there first, keep theirs."""
    try:
        temporary.rename(final)
    except OSError:
        if not final.exists():
            raise
        _remove(temporary)
    return final


def _remove(path: Path) -> None:
    """Remove an entry: renamed aside first, so no reader sees it half deleted."""
    aside = path.with_name(f".old-{path.name}-{os.getpid()}")
    with contextlib.suppress(OSError):
        path.rename(aside)
    shutil.rmtree(aside, ignore_errors=True)
    shutil.rmtree(path, ignore_errors=True)


def clear() -> tuple[int, int]:
    """Remove every entry (and leftovers of interrupted writes); (entries, bytes) removed."""
    where = models_dir()
    if not where.is_dir():
        return 0, 0
    count = size = 0
    for path in where.iterdir():
        if path.is_dir():
            size += sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
            count += not path.name.startswith(".")
            _remove(path)
    return count, size
