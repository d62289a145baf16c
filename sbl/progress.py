"""The output of a simulation and its progress file, so a killed run can be resumed safely.

``<output>.progress`` is JSON lines. The first holds the run's settings (the experiment's
hash, the model, seed, temperature, participants, batch, the replayed data's hash); each
further line records one finished participant: where its rows end in the output and the
SHA-256 of the output up to there (header and every earlier row included). It is written
before the output is opened, and a participant's line only after its rows are synced, so at
any moment of a ``kill -9`` it says which rows are whole.

Resuming checks everything it keeps: the settings must be those of the interrupted run (a
resume with another ``--seed`` would mix two runs in one file), and every kept participant's
bytes must still hash to what was recorded (hand-edited rows are refused, not kept). A run
killed before any participant finished starts over.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from sbl.data import RowWriter
from sbl.source import SblError

VERSION = 1
# The option each setting comes from, to say what differs in the user's words.
OPTIONS = {"experiment": "the experiment (FILE)", "model": "--model", "seed": "--seed",
           "temperature": "--temperature", "participants": "-n", "batch": "--batch",
           "prefix": "the replayed data (--from, --until)", "columns": "the experiment's columns"}


def progress_path(output: str | Path) -> Path:
    """Where the progress file of ``output`` is."""
    output = Path(output)
    return output.with_name(output.name + ".progress")


def check_resumable(output: str | Path, resume: bool) -> None:
    """Before any slow work: ``resume`` needs an unfinished run in ``output``, and a run
    without it must not overwrite one."""
    progress = progress_path(output)
    if resume and not progress.exists():
        raise SblError.at(None, f"there is nothing to resume in {output}",
                          help="the run finished, or never started: run without --resume")
    if not resume and progress.exists():
        raise SblError.at(None, f"{output} belongs to a run that did not finish",
                          help="add --resume to continue it, or remove "
                               f"{progress.name} to start again")


def fingerprint(text: str) -> str:
    """The SHA-256 of ``text`` (UTF-8), in hex."""
    return hashlib.sha256(text.encode()).hexdigest()


class Store:
    """The output file and its progress file: finished participants, appended safely."""

    def __init__(self, path: Path, columns: Sequence[str], resume: bool,
                 settings: Mapping[str, Any]) -> None:
        self.path, self.columns = path, list(columns)
        self.progress = progress_path(path)
        self.settings = dict(settings)
        self._hash, self._hashed = hashlib.sha256(), 0
        self.finished = recover(path, resume, settings)
        self._start_progress()
        self.writer = RowWriter(path, self.columns)
        for participant, rows in self.finished.items():
            self._append(participant, rows)

    def _start_progress(self) -> None:
        """Write the settings line (kept finished participants follow as they are rewritten)."""
        header = json.dumps({"sbl-progress": VERSION, "settings": self.settings},
                            sort_keys=True)
        with self.progress.open("w", encoding="utf-8") as f:
            f.write(header + "\n")
            f.flush()
            os.fsync(f.fileno())

    def add(self, participant: str, rows: list[dict[str, Any]]) -> None:
        """Append one finished participant's rows, then record that it finished."""
        self.finished[participant] = rows
        self._append(participant, rows)

    def _append(self, participant: str, rows: list[dict[str, Any]]) -> None:
        """Write rows, sync them, then record where they end and the hash of the file so far."""
        for row in rows:
            self.writer.write(row)
        end = self._synced_size()
        self._hash.update(_read_range(self.path, self._hashed, end))
        self._hashed = end
        entry = {"participant": participant, "end": end, "sha256": self._hash.hexdigest()}
        with self.progress.open("a", encoding="utf-8") as f:
            f.write(json.dumps(entry, sort_keys=True) + "\n")
            f.flush()
            os.fsync(f.fileno())

    def _synced_size(self) -> int:
        os.fsync(self.writer._file.fileno())  # noqa: SLF001 - the writer flushes, we sync
        return self.path.stat().st_size

    def finish(self, order: list[str]) -> None:
        """Rewrite the file in participant order and drop the progress file."""
        rows = [row for p in order for row in self.finished.get(p, [])]
        temporary = self.path.with_name(".tmp-" + self.path.name)
        with RowWriter(temporary, self.columns) as writer:
            for row in rows:
                writer.write(row)
        temporary.replace(self.path)
        self.progress.unlink(missing_ok=True)

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.writer.close()


def _read_range(path: Path, start: int, end: int) -> bytes:
    with path.open("rb") as f:
        f.seek(start)
        return f.read(end - start)


def recover(output: Path, resume: bool,
            settings: Mapping[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """The rows of each participant an interrupted run into ``output`` finished, checked
    against ``settings`` (the run's) and the progress file's hashes; none without ``resume``.
    Cheap, so callers run it before loading a model, and again when they open the store."""
    check_resumable(output, resume)
    return _Recovered(output, settings).rows() if resume else {}


class _Recovered:
    """What an interrupted run left: its settings and its finished participants, checked."""

    def __init__(self, path: Path, settings: Mapping[str, Any]) -> None:
        self.path, self.settings = path, settings
        self.name = progress_path(path).name
        lines = progress_path(path).read_bytes().split(b"\n")
        # The last line is whole only when a newline ends it: a kill can cut it short.
        self.entries = [self._decode(line, i + 1) for i, line in enumerate(lines[:-1])]

    def _decode(self, line: bytes, number: int) -> dict[str, Any]:
        try:
            entry = json.loads(line.decode("utf-8"))
        except ValueError:
            entry = None
        keys = {"sbl-progress", "settings"} if number == 1 else {"participant", "end",
                                                                 "sha256"}
        if not isinstance(entry, dict) or not keys <= set(entry):
            raise SblError.at(None, f"{self.name}, line {number}: the progress file is "
                                    "damaged, so what finished cannot be known",
                              help=f"remove {self.name} and {self.path.name} and run "
                                   "again without --resume")
        return entry

    def rows(self) -> dict[str, list[dict[str, Any]]]:
        """The finished participants' rows, after checking settings and bytes."""
        if not self.entries:  # killed before even the settings were synced
            return {}
        self._check_settings(self.entries[0])
        kept = self.entries[1:]
        if not kept:  # killed before any participant finished: start over
            return {}
        data = self.path.read_bytes() if self.path.exists() else b""
        running, end = hashlib.sha256(), 0
        for entry in kept:
            ok = isinstance(entry["end"], int) and end <= entry["end"] <= len(data)
            if ok:
                running.update(data[end:entry["end"]])
                end = entry["end"]
            if not ok or running.hexdigest() != entry["sha256"]:
                raise SblError.at(None, f"the rows of participant {entry['participant']} in "
                                        f"{self.path.name} (or the rows before them) are "
                                        f"not those the run wrote: changed, moved or cut "
                                        f"after it finished",
                                  help="an edited file cannot be resumed: restore it, or "
                                       f"remove {self.name} and run again without --resume")
        return self._parse(data[:end], [str(e["participant"]) for e in kept])

    def _check_settings(self, header: Mapping[str, Any]) -> None:
        before, now = header.get("settings") or {}, self.settings
        differ = [f"{OPTIONS.get(k, k)}: {_shown(before.get(k))} in the interrupted run, "
                  f"{_shown(now.get(k))} now" for k in sorted(set(before) | set(now))
                  if before.get(k) != now.get(k)]
        if differ:
            raise SblError.at(None, f"--resume continues the run in {self.path.name} "
                                    f"only with the same command, and this one differs: "
                                    + "; ".join(differ),
                              help="run the interrupted command again with --resume, or "
                                   f"remove {self.name} to start a new run")

    def _parse(self, data: bytes, order: list[str]) -> dict[str, list[dict[str, Any]]]:
        """The rows of ``data`` (whole rows only, all checked) by participant."""
        from sbl.data.read import read_text

        rows = read_text(data.decode("utf-8"), self.path).by_participant()
        return {p: [dict(r) for r in rows.get(p, [])] for p in order}


def _shown(value: Any) -> str:
    return "none" if value is None else json.dumps(value) if not isinstance(value, str) else (
        value if len(value) <= 24 else value[:12] + "…")
