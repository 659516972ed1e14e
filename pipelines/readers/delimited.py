"""CSV (and tab-separated .txt) exports: encoding sniffed, title lines above the header, polars parsing.

Row numbers are physical line numbers, as a user sees them in a text editor or Excel's row count.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import polars as pl

from pipelines.readers.common import (
    ReadResult,
    build_sheet,
    cell_names,
    find_header,
    no_header_reason,
    reject,
    resolve_export_time,
)

# GB18030 is decoded in chunks of about this size, cut at newlines (FIELD_NOTES: a newline byte
# never occurs inside a GB18030 multibyte character, so cutting there is safe).
CHUNK_BYTES = 16 * 1024 * 1024
# A file is rejected as undecodable when more than this share of its non-ASCII characters are bad.
MAX_BAD_SHARE = 0.10
# The encoding of a file that is not valid UTF-8 is judged on its first few megabytes.
SAMPLE_BYTES = 4 * 1024 * 1024
_DELIMITERS = (",", "\t", ";", "|")
_ASCII = bytes(range(128))


def _count_bad(text: str) -> int:
    return text.count("\ufffd")


def _gb18030_to_utf8(data: bytes) -> tuple[bytes, int]:
    parts: list[bytes] = []
    bad = 0
    pos = 0
    while pos < len(data):
        end = data.find(b"\n", min(pos + CHUNK_BYTES, len(data)))
        end = len(data) if end < 0 else end + 1
        text = data[pos:end].decode("gb18030", errors="replace")
        bad += _count_bad(text)
        parts.append(text.encode("utf-8"))
        pos = end
    return b"".join(parts), bad


def decode_to_utf8(data: bytes) -> tuple[bytes, str, int]:
    """(UTF-8 bytes without BOM, detected encoding, number of undecodable sequences).

    UTF-8 with BOM by its BOM; else strict UTF-8; else, judged on a sample, UTF-8 when under 1 % of
    its non-ASCII characters are broken (a UTF-8 file with a corrupt byte stays UTF-8), otherwise
    GB18030 (GBK exports; GB18030 is a superset and also reads 䶮 and 4-byte characters).
    """
    if data.startswith(b"\xef\xbb\xbf"):
        body = data[3:]
        try:
            body.decode("utf-8")
            return body, "utf-8-sig", 0
        except UnicodeDecodeError:
            text = body.decode("utf-8", errors="replace")
            return text.encode("utf-8"), "utf-8-sig", _count_bad(text)
    try:
        data.decode("utf-8")
        return data, "utf-8", 0
    except UnicodeDecodeError:
        pass
    cut = data.rfind(b"\n", 0, SAMPLE_BYTES) + 1 if len(data) > SAMPLE_BYTES else len(data)
    sample = data[: cut or SAMPLE_BYTES]
    utf8_bad = _count_bad(sample.decode("utf-8", errors="replace"))
    non_ascii_chars = max(1, len(sample.translate(None, _ASCII)) // 3)
    if utf8_bad <= 0.01 * non_ascii_chars:
        text = data.decode("utf-8", errors="replace")
        return text.encode("utf-8"), "utf-8", _count_bad(text)
    if _mixed_encodings(sample):
        return _line_by_line(data)
    u8, bad = _gb18030_to_utf8(data)
    return u8, "gb18030", bad


def _mixed_encodings(sample: bytes) -> bool:
    """Some non-ASCII lines are valid UTF-8 and others are not: a file pasted together from two
    exports. (A GBK line of Chinese text is almost never valid UTF-8 by accident.)"""
    utf8 = other = 0
    for line in sample.split(b"\n")[:5000]:
        if line.isascii():
            continue
        try:
            line.decode("utf-8")
            utf8 += 1
        except UnicodeDecodeError:
            other += 1
        if utf8 >= 2 and other >= 2:
            return True
    return False


def _line_by_line(data: bytes) -> tuple[bytes, str, int]:
    """Each line decoded as UTF-8 if it is valid UTF-8, else as GB18030; lines neither can read
    count as bad (their undecodable bytes replaced)."""
    out: list[bytes] = []
    bad = 0
    for line in data.split(b"\n"):
        try:
            out.append(line.decode("utf-8").encode("utf-8"))
        except UnicodeDecodeError:
            text = line.decode("gb18030", errors="replace")
            bad += _count_bad(text)
            out.append(text.encode("utf-8"))
    return b"\n".join(out), "utf-8+gb18030", bad


def _top_lines(data: bytes, n: int) -> list[bytes]:
    """The first n lines (without their newline), without copying the rest of the file."""
    lines = []
    pos = 0
    while len(lines) < n and pos < len(data):
        end = data.find(b"\n", pos)
        if end < 0:
            lines.append(data[pos:])
            break
        lines.append(data[pos:end])
        pos = end + 1
    return lines


def _split_line(line: str, delimiter: str) -> list[str | None]:
    try:
        cells = next(csv.reader([line], delimiter=delimiter), [])
    except csv.Error:
        cells = line.split(delimiter)
    return [c if c != "" else None for c in cells]


def _head_is_utf8(data: bytes) -> bool:
    """The first 64 KB decode as UTF-8 (a cut multibyte character at the end is allowed)."""
    try:
        data[:65536].decode("utf-8")
        return True
    except UnicodeDecodeError as exc:
        return len(data) > 65536 and exc.start >= 65536 - 4


def read_csv(path: Path) -> ReadResult:
    data = path.read_bytes()
    if b"\r" in data and b"\n" not in data:
        data = data.replace(b"\r", b"\n")  # old Mac exports end their lines with CR alone
    if b"\x00" in data:
        return reject(
            path,
            "文件含二进制内容或为 UTF-16 编码，不能作为 CSV 读取（应为 UTF-8 或 GBK/GB18030 文本）"
            "/ binary or UTF-16 content, not a CSV (expected UTF-8 or GBK/GB18030 text)",
        )
    if not data.startswith(b"\xef\xbb\xbf") and _head_is_utf8(data):
        # Most exports are plain UTF-8: polars validates the bytes while parsing, so the full
        # decode is only paid when that fails (then the file is judged as a whole).
        try:
            return _read_csv(path, data, (data, "utf-8", 0))
        except pl.exceptions.ComputeError as exc:
            if "utf-8" not in str(exc).lower():
                raise
    return _read_csv(path, data, decode_to_utf8(data))


def _read_csv(path: Path, data: bytes, decoded: tuple[bytes, str, int]) -> ReadResult:
    u8, encoding, bad = decoded
    notes: list[str] = []
    if bad:
        non_ascii = len(data.translate(None, _ASCII))
        if bad > MAX_BAD_SHARE * max(1, non_ascii // 2):
            return reject(
                path,
                f"文件大部分内容无法解码（{bad} 处无法识别的字节；应为 UTF-8 或 GBK/GB18030 编码的文本）"
                f"/ mostly undecodable ({bad} bad byte sequences; expected UTF-8 or GBK/GB18030 text)",
                encoding=encoding,
            )
        notes.append(f"{bad} 处字节无法按 {encoding} 解码，已替换为 � / {bad} undecodable byte sequence(s) replaced")
    if not u8 or u8.isspace():
        return reject(path, "文件为空 / empty file", encoding=encoding)

    # Header: the first of the top lines in which a known source is recognised.
    top = _top_lines(u8, 30)
    lines = [t.decode("utf-8", errors="replace").rstrip("\r") for t in top]
    found = None
    delimiter = ","
    for d in _DELIMITERS:
        split = [_split_line(line, d) for line in lines]
        hit = find_header(split)
        if hit is not None and (found is None or hit[0] < found[0]):
            found, delimiter, cells = hit, d, split
    if found is None:
        return reject(path, no_header_reason(), encoding=encoding, notes=notes)
    h, source = found
    header = [c if c is not None else "" for c in cells[h]]
    offset = min(len(u8), sum(len(t) + 1 for t in top[: h + 1]))
    body_bytes = memoryview(u8)[offset:]

    # Width: the header's, or wider when data lines near the top carry more cells.
    width = max([len(header)] + [len(c) for c in cells[h + 1:]])
    names = cell_names(width)
    synthetic = (delimiter.join(names) + "\n").encode("utf-8")
    override = None
    try:
        body = pl.read_csv(
            b"".join((synthetic, body_bytes)),
            separator=delimiter,
            infer_schema=False,
            truncate_ragged_lines=True,
            raise_if_empty=False,
            quote_char='"',
        )
    except pl.exceptions.ComputeError as exc:
        if "utf-8" in str(exc).lower():
            raise  # not valid UTF-8 after all: read_csv decodes the whole file and tries again
        # The fast reader refuses the whole file over one bad line (a stray quote): read it line by
        # line instead, and keep each line it cannot split as a row to quarantine (SPEC §3.6).
        body, override, bad_lines = _lines_one_by_one(bytes(body_bytes), names, delimiter)
        notes.append(f"{bad_lines} 行无法解析（引号不成对），已逐行读取并隔离这些行 / {bad_lines} line(s) could "
                     "not be parsed (unmatched quote): read line by line, those lines quarantined")
    # Physical line of each record: header line + 1 + index, plus newlines inside quoted cells above it.
    newlines = u8.count(b"\n", offset)
    physical = newlines + (0 if offset == len(u8) or u8.endswith(b"\n") else 1)
    del body_bytes, u8
    start = h + 2
    if body.height == physical or override is not None:
        row_numbers = pl.int_range(start, start + body.height, dtype=pl.Int64, eager=True)
    else:
        inner = body.select(
            pl.sum_horizontal([pl.col(c).str.count_matches("\n").fill_null(0) for c in names]).alias("n")
        ).get_column("n")
        before = inner.cum_sum().shift(1, fill_value=0)
        row_numbers = pl.int_range(start, start + body.height, dtype=pl.Int64, eager=True) + before
        notes.append("部分单元格内含换行 / some quoted cells contain line breaks")
    export_time, export_from = resolve_export_time(path, cells[:h])
    sheet = build_sheet(
        name=None,
        source=source,
        header=header,
        body=body,
        row_numbers=row_numbers,
        title_count=h,
        export_time=export_time,
        export_time_from=export_from,
        raw_override=override,
    )
    return ReadResult(path=path, source=source, sheets=[sheet], encoding=encoding, notes=notes)


def _lines_one_by_one(body: bytes, names: list[str], delimiter: str) -> tuple[pl.DataFrame, pl.Series, int]:
    """Every physical line as one record (a quote never spans lines here), for files the fast reader
    refuses. A line that cannot be split stays a row whose `_raw` is the withheld line marker."""
    lines = body.decode("utf-8", errors="replace").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    columns: dict[str, list[str | None]] = {c: [] for c in names}
    override: list[str | None] = []
    for line in lines:
        line = line.rstrip("\r")
        cells = None
        if line.count('"') % 2 == 0:
            try:
                cells = next(csv.reader([line], delimiter=delimiter, strict=True), [])
            except csv.Error:
                cells = None
        if cells is None:
            for c in names:
                columns[c].append(None)
            # Not the text: the line may hold personal data (normalise withholds `_line` rows).
            override.append(json.dumps({"_line": "unparsable"}, ensure_ascii=False))
            continue
        for i, c in enumerate(names):
            v = cells[i] if i < len(cells) else None
            columns[c].append(v if v != "" else None)
        override.append(None)
    frame = pl.DataFrame(columns, schema={c: pl.String for c in names})
    return frame, pl.Series(override, dtype=pl.String), sum(o is not None for o in override)
