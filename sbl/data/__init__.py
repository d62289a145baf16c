"""Data in the one schema: read the page's jsPsych data and sbl's rows, write rows as they
are produced, cut a recording before a response. ``docs/data.md`` documents the columns."""

from sbl.data.read import read_data, rows_from_records
from sbl.data.rows import Rows
from sbl.data.schema import CORE, columns_for
from sbl.data.write import RowWriter, write_rows

__all__ = ["CORE", "RowWriter", "Rows", "columns_for", "read_data", "rows_from_records",
           "write_rows"]
