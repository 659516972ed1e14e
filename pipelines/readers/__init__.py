"""Readers: turn one export file into frames of raw text, one per sheet, with the rows a user sees.

No parsing of values and no database here (ARCHITECTURE): every cell stays the text found in the
file, mapped to the canonical field names of its source (sources.py). Normalisation types them.
A bad user file never raises: `read_file` returns a `ReadResult` with a one-line `error`.
"""

from __future__ import annotations

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
        detail = " ".join(str(exc).split())[:200]
        return reject(path, f"读取文件出错 / failed to read file: {type(exc).__name__}: {detail}")
