"""Readers: turn one export file into frames of raw text, one per sheet, with the rows a user sees.

No parsing of values and no database here (ARCHITECTURE): every cell stays the text found in the
file, mapped to the canonical field names of its source (sources.py). Normalisation types them.
A bad user file never raises: `read_file` returns a `ReadResult` with a one-line `error`.
"""

from __future__ import annotations

import re
from pathlib import Path

from pipelines.readers.common import ReadResult, SheetData, reject

__all__ = ["ReadResult", "SheetData", "read_file", "supported", "SUPPORTED_SUFFIXES"]

SUPPORTED_SUFFIXES = (".csv", ".txt", ".xlsx", ".xlsm", ".xls", ".jsonl", ".ndjson", ".geojson")

_EXPECTED = "应为 CSV、XLSX、XLS、JSON Lines 或 GeoJSON / expected CSV, XLSX, XLS, JSONL or GeoJSON"


def supported(path: Path) -> bool:
    """Whether the file's extension is one the readers handle (the header decides the rest)."""
    return Path(path).suffix.lower() in SUPPORTED_SUFFIXES


def read_file(path: Path) -> ReadResult:
    """Read one export file: every sheet with a recognised header, rows counted as SPEC §3.6 says."""
    path = Path(path)
    suffix = path.suffix.lower()
    if not supported(path):
        shown = suffix or "（无扩展名）"
        return reject(
            path,
            f"无法识别的文件类型 {shown}（应为 CSV、XLSX、XLS、JSON Lines 或 GeoJSON）"
            f"/ unsupported file type {suffix or '(no extension)'} (expected CSV, XLSX, XLS, JSONL or GeoJSON)",
        )
    try:
        size = path.stat().st_size
    except OSError as exc:
        return reject(path, f"无法打开文件 / cannot open file: {exc.strerror or exc}")
    if size == 0:
        return reject(path, f"文件为空（{_EXPECTED}）/ empty file")
    try:
        if suffix in (".csv", ".txt"):
            from pipelines.readers.delimited import read_csv

            return read_csv(path)
        if suffix in (".xlsx", ".xlsm", ".xls"):
            from pipelines.readers.excel import read_excel

            return read_excel(path)
        if suffix in (".jsonl", ".ndjson"):
            from pipelines.readers.jsonl import read_jsonl

            return read_jsonl(path)
        from pipelines.readers.geojson import read_geojson

        return read_geojson(path)
    except Exception as exc:  # a reader bug must not stop the batch: report it as this file's reason
        return reject(path, failure_reason(path, exc))


def failure_reason(path: Path, exc: Exception) -> str:
    """Where a file failed to parse, never what it holds: parser messages quote whole raw lines
    (names, id numbers, phones), so only the line and column are taken from them (SPEC §3.7)."""
    text = str(exc)
    where_zh, where_en = [], []
    line = re.search(r"(?:line|row)\s*(?:number\s*)?[:#]?\s*(\d+)", text, re.I)
    quoted = re.search(r"`([^`]{4,})", text)  # polars quotes the text it could not parse
    n = int(line.group(1)) if line else None
    if n is None and quoted:
        needle = quoted.group(1).split(" ")[0][:60].encode("utf-8", "ignore")
        try:
            with open(path, "rb") as fh:  # bounded read; the text itself is never reported
                data = fh.read(256 << 20)
            at = data.find(needle) if needle else -1
            n = data.count(b"\n", 0, at) + 1 if at >= 0 else None
        except OSError:
            n = None
    if n is not None:
        where_zh.append(f"约第 {n} 行")
        where_en.append(f"near line {n}")
    col = re.search(r"column number (\d+)", text) or re.search(r"column (\d+)", text)
    if col:
        where_zh.append(f"第 {col.group(1)} 列")
        where_en.append(f"column {col.group(1)}")
    zh = ("，" + "、".join(where_zh)) if where_zh else ""
    en = (" " + ", ".join(where_en)) if where_en else ""
    return (f"文件无法解析{zh}（常见原因：某行引号不成对或列数不一致）/ the file could not be parsed{en} "
            f"(often an unmatched quote or a wrong number of columns) [{type(exc).__name__}]")
