"""``Rows``: trial rows in the one schema, as a sequence that turns into a DataFrame in one call."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, overload

from sbl.data import schema
from sbl.source import SblError, counted

if TYPE_CHECKING:
    import pandas


class Rows(Sequence[dict[str, Any]]):
    """Trial rows, in order, with where each came from.

    ``origin`` names the file the rows were read from (None when a run produced them);
    ``numbers`` gives each row's 1-based position among the records of that file, so errors
    can name it; ``seeds`` holds participants' seeds where the data recorded them;
    ``transcripts`` the text each participant read, when a text run produced the rows;
    ``summary`` what the run cost (a :class:`sbl.backends.text.driver.RunSummary`).
    """

    def __init__(self, rows: Iterable[Mapping[str, Any]] = (), *, origin: str | None = None,
                 numbers: Sequence[int] | None = None, seeds: Mapping[str, int] | None = None,
                 transcripts: Mapping[str, str] | None = None, summary: Any = None) -> None:
        self._rows = [dict(r) for r in rows]
        self.origin = origin
        self.numbers = list(numbers) if numbers is not None else list(
            range(1, len(self._rows) + 1))
        # the recorded seed of each participant: given, else from the rows' seed column
        self.seeds = dict(seeds) if seeds is not None else {
            str(r.get("participant")): r["seed"] for r in self._rows
            if isinstance(r.get("seed"), int) and not isinstance(r.get("seed"), bool)}
        self.transcripts = dict(transcripts or {})
        self.summary = summary

    # -- sequence --------------------------------------------------------------------------

    @overload
    def __getitem__(self, i: int) -> dict[str, Any]: ...

    @overload
    def __getitem__(self, i: slice) -> Rows: ...

    def __getitem__(self, i: int | slice) -> dict[str, Any] | Rows:
        if isinstance(i, slice):
            return self._keep(range(len(self._rows))[i])
        return self._rows[i]

    def __len__(self) -> int:
        return len(self._rows)

    def __repr__(self) -> str:
        return (f"<Rows: {len(self)} rows, {len(self.participants)} participants, "
                f"{self.n_responses} responses>")

    def _keep(self, indices: Iterable[int]) -> Rows:
        """The rows at ``indices``, keeping their numbers and the metadata."""
        picked = list(indices)
        return Rows([self._rows[i] for i in picked], origin=self.origin,
                     numbers=[self.numbers[i] for i in picked], seeds=self.seeds,
                     transcripts=self.transcripts, summary=self.summary)

    # -- what is in it ---------------------------------------------------------------------

    @property
    def participants(self) -> list[str]:
        """The participant ids, in order of first appearance."""
        return list(dict.fromkeys(str(r.get("participant", "")) for r in self._rows))

    @property
    def n_responses(self) -> int:
        """How many free responses the rows hold (see :func:`schema.free_response`)."""
        return sum(schema.free_response(r) for r in self._rows)

    @property
    def columns(self) -> list[str]:
        """Every column of the rows: the core ones first, the others in order of appearance."""
        return schema.union_columns(self._rows)

    def by_participant(self) -> dict[str, Rows]:
        """The rows of each participant, in order."""
        return {p: self._keep(idx) for p, idx in self._groups().items()}

    def _groups(self) -> dict[str, list[int]]:
        groups: dict[str, list[int]] = {}
        for i, row in enumerate(self._rows):
            groups.setdefault(str(row.get("participant", "")), []).append(i)
        return groups

    def where(self, i: int) -> str:
        """Where row ``i`` came from, for messages: ``bandit.json, row 5``."""
        number = self.numbers[i] if 0 <= i < len(self.numbers) else i + 1
        return f"{self.origin}, row {number}" if self.origin else f"row {number}"

    # -- cutting ---------------------------------------------------------------------------

    def until_response(self, n: int) -> Rows:
        """Each participant's rows before their ``n``-th free response (so n - 1 responses).

        Asking for a response a participant does not have is an SblError, never a silent
        full run.
        """
        if n < 1:
            raise SblError.at(None, f"until_response needs a response number of at least 1; "
                                    f"got {n}")
        keep: list[int] = []
        for participant, indices in self._groups().items():
            rows = [self._rows[i] for i in indices]
            cut = _nth_response(rows, n)
            if cut is None:
                have = sum(schema.free_response(r) for r in rows)
                raise SblError.at(None, f"participant '{participant}' has only "
                                        f"{counted(have, 'response')} in "
                                        f"{self.origin or 'the data'}, so there "
                                        f"is no response {n} to stop before")
            keep += indices[:cut]
        return self._keep(sorted(keep))

    # -- out -------------------------------------------------------------------------------

    def to_pandas(self) -> pandas.DataFrame:
        """The rows as a DataFrame, one column per schema column (lists and records kept);
        ``pass`` is a whole-number column that can be empty (pandas' ``Int64``), not floats."""
        import pandas

        frame = pandas.DataFrame(self._rows, columns=self.columns)
        if "pass" in frame:
            frame["pass"] = frame["pass"].astype("Int64")
        return frame

    def to_csv(self, path: str | Path) -> None:
        """Write the rows as CSV (``docs/data.md`` says how cells are written)."""
        from sbl.data.write import write_rows

        write_rows(self, path, fmt="csv")

    def to_json(self, path: str | Path) -> None:
        """Write the rows as a JSON array of objects."""
        from sbl.data.write import write_rows

        write_rows(self, path, fmt="json")

    def save(self, path: str | Path) -> None:
        """Write the rows in the format the suffix names: .csv, .json or .jsonl."""
        from sbl.data.write import write_rows

        write_rows(self, path)


def _nth_response(rows: Sequence[Mapping[str, Any]], n: int) -> int | None:
    """The index of the ``n``-th free response in ``rows``, or None."""
    seen = 0
    for i, row in enumerate(rows):
        if schema.free_response(row):
            seen += 1
            if seen == n:
                return i
    return None
