"""Laying rows out like real exports and writing them: CSV (any encoding), XLSX, JSON Lines, GeoJSON.

A `Table` collects one file's (or sheet's) rendered rows plus what is done to them: cells made bad,
exact duplicates, extra rows, blank rows, a 合计 row. `Table.build` fixes the final order, so the
writers can report, for every bad row, the row number a reader will see (SPEC §3.6 numbering).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl

DATA, DUP, BAD, BLANK, TOTAL = 0, 1, 2, 3, 4
FIXED_CREATED = dt.datetime(2025, 1, 1, 8, 0, 0)  # workbook metadata: fixed for byte-identical output
_EPOCH_1900 = dt.datetime(1899, 12, 30)
_NUM = re.compile(r"^-?\d+(\.\d+)?$")


class Table:
    """One sheet's rows (all text, canonical column names) and the edits that make it an export."""

    def __init__(self, rows: pl.DataFrame):
        self.rows = rows
        self.n = rows.height
        self.used = np.zeros(self.n, dtype=bool)  # rows already made bad or duplicated
        self._muts: dict[str, tuple[list[int], list[str | None]]] = {}
        self._bad: dict[int, tuple[str, str]] = {}
        self._dups: list[int] = []
        self._extra: list[tuple[dict, int, str | None, str | None]] = []

    def free(self, mask: np.ndarray | None = None) -> np.ndarray:
        m = ~self.used if mask is None else (mask & ~self.used)
        return np.flatnonzero(m)

    def mutate(self, i: int, changes: dict[str, str | None], reason: str, field_name: str) -> None:
        for col, val in changes.items():
            idx, vals = self._muts.setdefault(col, ([], []))
            idx.append(int(i))
            vals.append(val)
        self._bad[int(i)] = (reason, field_name)
        self.used[i] = True

    def duplicate(self, i: int) -> None:
        self._dups.append(int(i))
        self.used[i] = True

    def add(self, row: dict[str, str | None], kind: int, reason: str | None = None, field_name: str | None = None) -> None:
        """An extra row: a bad one, or a duplicate of a row accepted from an earlier file."""
        self._extra.append((row, kind, reason, field_name))

    def build(self, rng: np.random.Generator, blanks: int = 0, total: dict[str, str] | None = None) -> Built:
        rows = self.rows
        for col, (idx, vals) in self._muts.items():
            rows = rows.with_columns(rows[col].scatter(idx, pl.Series(vals, dtype=pl.Utf8)))
        cols = rows.columns
        parts = [rows]
        keys = [np.arange(self.n, dtype=float)]
        kinds = [np.full(self.n, DATA, dtype=np.int8)]
        reasons: list[list] = [[None] * self.n]
        for i, (r, f) in self._bad.items():
            kinds[0][i] = BAD
            reasons[0][i] = (r, f)
        if self._dups:
            d = np.array(self._dups)
            parts.append(rows[d])
            keys.append(d + rng.uniform(0.01, 6.0, len(d)))  # an exact copy shortly after the original
            kinds.append(np.full(len(d), DUP, dtype=np.int8))
            reasons.append([None] * len(d))
        if self._extra:
            parts.append(pl.DataFrame([{c: r.get(c) for c in cols} for r, _, _, _ in self._extra],
                                      schema={c: pl.Utf8 for c in cols}))
            keys.append(rng.uniform(0, max(self.n, 1), len(self._extra)))
            kinds.append(np.array([k for _, k, _, _ in self._extra], dtype=np.int8))
            reasons.append([(r, f) if k == BAD else None for _, k, r, f in self._extra])
        if blanks and self.n > 2:
            parts.append(pl.DataFrame({c: [None] * blanks for c in cols}, schema={c: pl.Utf8 for c in cols}))
            keys.append(rng.uniform(0.5, self.n - 0.5, blanks))
            kinds.append(np.full(blanks, BLANK, dtype=np.int8))
            reasons.append([None] * blanks)
        frame = pl.concat(parts, how="vertical") if len(parts) > 1 else parts[0]
        key = np.concatenate(keys)
        order = np.argsort(key, kind="stable")
        frame = frame[order]
        kind = np.concatenate(kinds)[order]
        src = np.concatenate([np.arange(self.n)] + ([np.array(self._dups)] if self._dups else [])
                             + [np.full(len(k), -1) for k in kinds[1 + bool(self._dups):]])[order]
        flat = [x for part in reasons for x in part]
        bad = [(int(p), *flat[o]) for p, o in enumerate(order.tolist()) if flat[o] is not None]
        if total is not None:
            frame = pl.concat([frame, pl.DataFrame([{c: total.get(c) for c in cols}], schema={c: pl.Utf8 for c in cols})])
            kind = np.r_[kind, TOTAL].astype(np.int8)
            src = np.r_[src, -1]
        return Built(frame=frame, kinds=kind, bad=bad, source=src)


@dataclass
class Built:
    frame: pl.DataFrame
    kinds: np.ndarray
    bad: list[tuple[int, str, str]]  # (position in frame, reason, field)
    source: np.ndarray | None = None  # index into Table.rows of each frame row (-1: extra, blank, total)


@dataclass
class Sheet:
    name: str | None
    titles: list[str]
    headers: list[str]
    built: Built
    export_time: dt.datetime | None
    export_time_from: str | None
    date_cols: dict[str, str] = field(default_factory=dict)  # column → "dt" | "d" (workbook typed cells)
    num_cols: set[str] = field(default_factory=set)
    xlsx_dates: str = "text"
    title_commas: bool = False  # CSV: pad title lines with commas, as Excel's "save as CSV" does
    quirks: set[str] = field(default_factory=set)

    @property
    def first_data_row(self) -> int:
        """1-based row (line) number of the frame's first row (titles, then the header, then data)."""
        return len(self.titles) + 2

    def stats(self) -> dict:
        k = self.built.kinds
        return {
            "rows_read": len(self.titles) + len(k),
            "non_data": len(self.titles) + int(((k == BLANK) | (k == TOTAL)).sum()),
            "duplicates": int((k == DUP).sum()),
            "bad": int((k == BAD).sum()),
        }


def _csv_body(frame: pl.DataFrame, crlf: bool) -> str:
    return frame.write_csv(include_header=False, null_value="", line_terminator="\r\n" if crlf else "\n")


def write_csv(path: Path, sheet: Sheet, encoding: str, crlf: bool = False) -> None:
    """encoding: utf-8, utf-8-sig (BOM), gbk or gb18030 (gbk files are written with the gb18030 codec:
    identical bytes for GBK characters)."""
    nl = "\r\n" if crlf else "\n"
    ncol = len(sheet.headers)
    head = "".join(t + ("," * (ncol - 1) if sheet.title_commas else "") + nl for t in sheet.titles)
    head += ",".join(sheet.headers) + nl
    text = head + _csv_body(sheet.built.frame, crlf)
    codec = {"utf-8": "utf-8", "utf-8-sig": "utf-8-sig", "gbk": "gb18030", "gb18030": "gb18030"}[encoding]
    path.write_bytes(text.encode(codec))


def write_jsonl(path: Path, sheet: Sheet) -> None:
    frame = sheet.built.frame
    frame = frame.rename(dict(zip(frame.columns, sheet.headers, strict=True)))
    path.write_bytes(frame.write_ndjson().encode("utf-8"))


def _serial(t: dt.datetime) -> float:
    d = t - _EPOCH_1900
    return d.days + d.seconds / 86400.0


_ISO_D = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ISO_DT = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")


def _parse_iso(s: str, date_only: bool) -> dt.datetime | None:
    """Only the canonical ISO text becomes a typed cell; anything else (a bad date) stays text."""
    if not (_ISO_D if date_only else _ISO_DT).match(s):
        return None
    try:
        return dt.datetime.fromisoformat(s)
    except ValueError:
        return None


def write_xlsx(path: Path, sheets: list[Sheet], constant_memory: bool = True, notes: list[str] | None = None) -> None:
    """Workbook with one sheet per Sheet (titles, merged first title, header, rows); `notes` adds a first
    sheet of instructions without a header row."""
    from pipelines.generate.xlsx import SheetSpec, write_workbook

    specs = [SheetSpec(name="填表说明", titles=notes, headers=None, frame=None)] if notes else []
    specs += [SheetSpec(name=sh.name or "Sheet1", titles=sh.titles, headers=sh.headers, frame=sh.built.frame,
                        date_cols=sh.date_cols, num_cols=sh.num_cols, dates=sh.xlsx_dates) for sh in sheets]
    write_workbook(path, specs)


def write_json(path: Path, obj) -> None:
    path.write_text(json.dumps(obj, ensure_ascii=False, indent=1, sort_keys=False) + "\n", encoding="utf-8")
