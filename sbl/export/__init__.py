"""Export data in the formats others read: a Psych-DS dataset (data sharing) and Psych-101
jsonl (fine-tuning and evaluating language models such as Centaur); read Psych-101 back.

    import sbl
    rows = sbl.read_data("bandit.json")
    sbl.export_psych_ds(rows, "dataset/", experiment=sbl.load("bandit.sbl"))
    sbl.validate_psych_ds("dataset/")        # [] when valid
    sbl.export_psych101(rows, sbl.load("bandit.sbl"), "bandit.jsonl")
    sbl.read_psych101("bandit.jsonl")[0].responses
"""

from sbl.export.psych101 import (
    Psych101Record,
    export_psych101,
    marked_responses,
    psych101_records,
    read_psych101,
)
from sbl.export.psych_ds import export_psych_ds
from sbl.export.validate import validate_psych_ds

__all__ = ["Psych101Record", "export_psych101", "export_psych_ds", "marked_responses",
           "psych101_records", "read_psych101", "validate_psych_ds"]
