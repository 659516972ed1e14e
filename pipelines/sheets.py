"""One sheet as a reader hands it on: header, typed-as-text rows and their accounting.

Its own module, below the readers and normalise, so that normalise (which takes a SheetData) does not
import the readers (which import the profiles, which use normalise).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import polars as pl


@dataclass
class SheetData:
    name: str | None
    export_time: datetime | None
    header: list[str]
    rows: pl.DataFrame
    rows_read: int
    non_data: int
    # Where export_time came from: 'title' (a line above the header), 'file_name' or None.
    export_time_from: str | None = None
    # The keys of the `_raw` JSON objects, in column order (the header made unique).
    raw_keys: list[str] = field(default_factory=list)
    # Import profile (SPEC §3.8): its name, raw key → canonical field it maps (privacy of `_raw`),
    # and whether the format carries no entry time at all.
    profile: str | None = None
    mapped_keys: dict[str, str] | None = None
    entry_unknown: bool = False
