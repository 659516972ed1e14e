"""Readers: turn one export file into frames of raw text, one per sheet, with the rows a user sees.

No parsing of values and no database here (ARCHITECTURE): every cell stays the text found in the
file, mapped to the canonical field names of its source (sources.py). Normalisation types them.
A bad user file never raises: `read_file` returns a `ReadResult` with a one-line `error`.
"""

from __future__ import annotations

import re
import stat
import zipfile
from pathlib import Path

from pipelines.errors import UserError
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
        st = path.stat()  # follows a symlink: what matters is what would be read
    except OSError as exc:
        return reject(path, f"无法打开文件 / cannot open file: {exc.strerror or exc}")
    if not stat.S_ISREG(st.st_mode):
        # A FIFO or a device (/dev/zero) would be read forever; a folder named x.xlsx is not a file.
        return reject(path, "不是普通文件（文件夹、管道或设备），未读取 / not a regular file (folder, pipe or device): not read")
    if st.st_size == 0:
        return reject(path, f"文件为空（{_EXPECTED}）/ empty file")
    too_big = _over_limits(path, suffix, st.st_size)
    if too_big:
        return reject(path, too_big)
    try:
        return _note_missing_columns(_dispatch(path, suffix))
    except UserError:  # a broken import profile of the office: the whole ingest stops with its line
        raise
    except Exception as exc:  # a reader bug must not stop the batch: report it as this file's reason
        return reject(path, failure_reason(path, exc))


def _dispatch(path: Path, suffix: str) -> ReadResult:
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


def _note_missing_columns(res: ReadResult) -> ReadResult:
    """A required column absent from a sheet makes every row of it MISSING_REQUIRED; the clerk is told
    once, for the file, which column is missing (#14 defect 10), not only row by row. Only sheets read
    with the built-in profile: an office's own profile may derive a field from no column at all."""
    if res.error or res.source is None or not res.sheets:
        return res
    from pipelines.profiles import builtin_profile

    builtin = builtin_profile(res.source.kind).name
    several = len(res.sheets) > 1
    for sheet in res.sheets:
        if sheet.profile != builtin or sheet.mapped_keys is None:
            continue
        have = set(sheet.mapped_keys.values())
        missing = [f for f in res.source.fields if f.required and f.name not in have]
        if not missing:
            continue
        zh = "、".join(f"“{f.header}”" for f in missing)
        en = ", ".join(f"{f.header} ({f.name})" for f in missing)
        where_zh = f"工作表“{sheet.name}”" if several and sheet.name else "文件"
        where_en = f"sheet '{sheet.name}'" if several and sheet.name else "the file"
        res.notes.append(f"{where_zh}缺少必填列{zh}，其中每一行都因此隔离（MISSING_REQUIRED）/ {where_en} has no "
                         f"required column {en}: every row of it is quarantined")
    return res


def path_problem(path: Path, root: Path | None = None) -> str | None:
    """Why a path offered for ingest must not be opened at all, else None: it does not exist, is not a
    regular file (a FIFO or /dev/zero would be read forever), or is a symlink found in a folder that
    points outside it (a link to /etc/passwd must not be copied into raw/)."""
    path = Path(path)
    if path.is_symlink() and not path.exists():
        return "链接指向的文件不存在 / dangling symlink"
    if path.is_symlink() and root is not None:
        target = path.resolve()
        if not target.is_relative_to(Path(root).resolve()):
            return "链接指向导入文件夹之外，未读取 / a symlink leaving the folder: not followed"
    try:
        st = path.stat()
    except OSError:
        if path.is_symlink():
            return "链接指向的文件不存在 / dangling symlink"
        return "找不到文件或文件夹 / no such file or folder"
    if stat.S_ISDIR(st.st_mode):
        return "这是一个文件夹，不是文件 / a folder, not a file"
    if not stat.S_ISREG(st.st_mode):
        return "不是普通文件（管道或设备），未读取 / not a regular file (pipe or device): not read"
    return None


def _over_limits(path: Path, suffix: str, size: int) -> str | None:
    """Why a file is too big to read safely (config.input_limits), checked before reading it."""
    from pipelines.config import input_limits

    lim = input_limits()
    mb = size / 2**20
    if mb > lim["file_mb"]:
        return (f"文件过大（{mb:,.0f} MB，上限 {lim['file_mb']:,.0f} MB，可用 XIANGZHI_MAX_FILE_MB 调整）"
                f"/ file too large ({mb:,.0f} MB, limit {lim['file_mb']:,.0f} MB)")
    if suffix in (".xlsx", ".xlsm"):
        try:
            with zipfile.ZipFile(path) as z:
                inflated = sum(i.file_size for i in z.infolist())
        except (zipfile.BadZipFile, OSError, ValueError):
            return None  # the workbook reader gives the corrupt-file reason
        imb = inflated / 2**20
        ratio = inflated / max(size, 1)
        if imb > lim["inflated_mb"] or (imb > 100 and ratio > lim["inflation"]):
            return (f"工作簿解压后过大（{imb:,.0f} MB，压缩比 {ratio:,.0f} 倍；上限 {lim['inflated_mb']:,.0f} MB、"
                    f"{lim['inflation']:,.0f} 倍），疑似压缩炸弹，未读取 / workbook unpacks to {imb:,.0f} MB "
                    f"({ratio:,.0f}× its size; limits {lim['inflated_mb']:,.0f} MB, {lim['inflation']:,.0f}×): not read")
    if suffix in (".csv", ".txt"):
        with open(path, "rb") as fh:
            head = fh.read(4 << 20)  # bounded: the header is within the first lines
        widest = max((max(line.count(b","), line.count(b"\t"), line.count(b";")) for line in head.split(b"\n")[:30]),
                     default=0) + 1
        if widest > lim["columns"]:
            return (f"列数过多（至少 {widest:,} 列，上限 {lim['columns']:,.0f} 列，可用 XIANGZHI_MAX_COLUMNS 调整），未读取 "
                    f"/ too many columns (at least {widest:,}; limit {lim['columns']:,.0f}): not read")
    return None


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
            f"(often an unmatched quote or a wrong number of columns)")
