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

Hashing every file at every load cost more than the load itself (600 MB for smollm2), so a
file is hashed again only when it may have changed. Once an entry's files have matched its
manifest, ``verified.json`` records each file's stat (size, inode, mtime and ctime in
nanoseconds); a load whose stat of every file is the recorded one trusts the check, any
difference hashes every file again. The source's sha256 is kept the same way, under
``<root>/sources/``. Anything that writes a file through the file system changes its ctime,
which no program can set back, so an edit, a truncation, a replacement or a copy is caught;
what a stat cannot see (the disk's own bit rot under an unchanged file, a write to the raw
device) is caught only by ``sbl cache verify``, which hashes every file.
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
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FORMAT = 1
MANIFEST = "manifest.json"
STAMP = "verified.json"
# A file changed less than this long before a stamp could change again within the same tick
# of the file system's clock without its stat showing it; such a file is hashed at the next
# load instead of being stamped (git's "racily clean" rule).
RACY_NS = 2_000_000_000
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


def file_stat(path: Path) -> list[int]:
    """What any write to ``path`` changes: its size, inode, mtime and ctime (ns)."""
    st = path.stat()
    return [st.st_size, st.st_ino, st.st_mtime_ns, st.st_ctime_ns]


def _settled(stats: Iterable[list[int]]) -> bool:
    """Whether every file of these stats last changed long enough ago to be stamped."""
    return all(stat[3] < time.time_ns() - RACY_NS for stat in stats)


def _write_json(path: Path, data: dict[str, Any]) -> None:
    """Write ``data`` to ``path`` atomically; a cache that cannot be written is left as it is
    (the next load checks by hashing again)."""
    temporary = None
    try:
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".tmp-{path.name}-")
        with os.fdopen(handle, "w", encoding="utf-8") as f:
            json.dump(data, f)
        os.replace(temporary, path)
    except OSError as e:
        log.debug("sbl: cannot write %s: %s", path, e)
        if temporary is not None:
            with contextlib.suppress(OSError):
                os.unlink(temporary)


def _read_json(path: Path) -> dict[str, Any] | None:
    """The JSON object in ``path``, or None when it is missing or not one."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def source_sha256(source: Path) -> str:
    """The sha256 of ``source``, hashed only when its stat differs from the one recorded with
    its last hash (see the module's docstring)."""
    path = source.resolve()
    record = cache_root() / "sources" / f"{hashlib.sha256(str(path).encode()).hexdigest()}.json"
    stat = file_stat(path)
    known = _read_json(record)
    if known and known.get("path") == str(path) and known.get("stat") == stat \
            and isinstance(known.get("sha256"), str):
        return str(known["sha256"])
    digest = sha256(path)
    if _settled([stat]) and file_stat(path) == stat:  # unchanged while it was hashed
        with contextlib.suppress(OSError):
            record.parent.mkdir(parents=True, exist_ok=True)
            _write_json(record, {"path": str(path), "stat": stat, "sha256": digest})
    return digest


def remembered(name: str, key: str, find: Callable[[], str]) -> str:
    """``find()``, remembered under ``key`` in ``<root>/remembered/NAME.json`` across runs:
    for facts about the installed libraries that cost a model run to find out (the key must
    name everything the answer depends on). A record that cannot be read is found again."""
    path = cache_root() / "remembered" / f"{name}.json"
    known = _read_json(path) or {}
    if isinstance(known.get(key), str):
        return str(known[key])
    value = find()
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        _write_json(path, {**known, key: value})
    return value


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

    def problem(self, *, rehash: bool = False) -> str | None:
        """Why this entry must not be used (stale or corrupt), or None when it is sound.

        Its files are hashed unless their stats are the ones ``verified.json`` recorded
        after the last full check (always with ``rehash``); a full check that passes records
        them."""
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
        missing = next((name for name in files if not (self.path / name).is_file()), None)
        if missing is not None:
            return f"{missing} is missing"
        stats = {name: file_stat(self.path / name) for name in [*files, MANIFEST]}
        if not rehash and (_read_json(self.path / STAMP) or {}).get("stats") == stats:
            return None
        for name, digest in files.items():
            if sha256(self.path / name) != digest:
                return f"{name} does not match its manifest"
        if _settled(stats.values()) and stats == {n: file_stat(self.path / n) for n in stats}:
            _write_json(self.path / STAMP, {"stats": stats})
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
    digest = source_sha256(source)
    path = models_dir() / key(digest)
    if not path.exists():
        return None, digest
    entry = read_entry(path)
    problem = "it has no readable manifest" if entry is None else entry.problem()
    if problem is None:
        return path, digest
    log.warning("sbl: the cached conversion of %s in %s is not used: %s; converting again",
                source, path, problem)
    remove(path)
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
        remove(temporary)
        return None
    except BaseException:  # the conversion failed (a corrupt file, ^C): leave nothing behind
        remove(temporary)
        raise


def _publish(temporary: Path, final: Path) -> Path:
    """Rename ``temporary`` to ``final``; if another process got there first, keep theirs."""
    try:
        temporary.rename(final)
    except OSError:
        if not final.exists():
            raise
        remove(temporary)
    return final


def remove(path: Path) -> None:
    """Remove an entry: renamed aside first, so no reader sees it half deleted."""
    aside = path.with_name(f".old-{path.name}-{os.getpid()}")
    with contextlib.suppress(OSError):
        path.rename(aside)
    shutil.rmtree(aside, ignore_errors=True)
    shutil.rmtree(path, ignore_errors=True)


def clear() -> tuple[int, int]:
    """Remove every entry (and leftovers of interrupted writes), the recorded hashes of
    source files and what :func:`remembered` keeps; (entries, bytes) removed."""
    for kept in ("sources", "remembered"):  # only sbl's own folders: the root may be shared
        shutil.rmtree(cache_root() / kept, ignore_errors=True)
    where = models_dir()
    if not where.is_dir():
        return 0, 0
    count = size = 0
    for path in where.iterdir():
        if path.is_dir():
            size += sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
            count += not path.name.startswith(".")
            remove(path)
    return count, size
