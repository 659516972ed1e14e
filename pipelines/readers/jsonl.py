"""JSON Lines exports: one object per line, keys are the Chinese headers.

Every line counts (rows_read); blank lines are non-data; a line that is not a JSON object stays a
data row with all fields empty and `_raw` = {"_line": text}, so that it is quarantined, not lost.
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl

from pipelines.readers.common import ReadResult, build_sheet, cell_names, reject, unrecognised_reason
from pipelines.readers.common import resolve_export_time as _export_time
from pipelines.readers.delimited import MAX_BAD_SHARE, decode_to_utf8

_ASCII = bytes(range(128))


def cell_text(value) -> str | None:
    """A JSON value as the text a user would have typed: numbers as written, null as empty."""
    if value is None:
        return None
    if isinstance(value, str):
        return value if value != "" else None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return json.dumps(value)
    return json.dumps(value, ensure_ascii=False)


def read_jsonl(path: Path) -> ReadResult:
    data = path.read_bytes()
    u8, encoding, bad = decode_to_utf8(data)
    notes: list[str] = []
    if bad:
        if bad > MAX_BAD_SHARE * max(1, len(data.translate(None, _ASCII)) // 2):
            return reject(
                path,
                f"文件大部分内容无法解码（{bad} 处）/ mostly undecodable ({bad} bad byte sequences; expected UTF-8 text)",
                encoding=encoding,
            )
        notes.append(f"{bad} 处字节无法解码 / {bad} undecodable byte sequence(s) replaced")
    text = u8.decode("utf-8")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if not any(line.strip() for line in lines):
        return reject(path, "文件为空 / empty file", encoding=encoding)

    keys: dict[str, None] = {}
    parsed: list[dict | None] = []
    for line in lines:
        s = line.strip()
        if not s:
            parsed.append({})
            continue
        try:
            obj = json.loads(s)
        except ValueError:
            obj = None
        if not isinstance(obj, dict):
            parsed.append(None)
            continue
        for k in obj:
            keys.setdefault(str(k), None)
        parsed.append(obj)

    header = list(keys)
    from pipelines.profiles.recognise import recognise

    profile = recognise(header) if header else None
    if profile is None:
        return reject(path, unrecognised_reason([header], path), encoding=encoding, notes=notes)
    source = profile.source
    names = cell_names(len(header))
    columns: dict[str, list[str | None]] = {c: [] for c in names}
    override: list[str | None] = []
    for line, obj in zip(lines, parsed, strict=True):
        if obj is None:
            for c in names:
                columns[c].append(None)
            override.append(json.dumps({"_line": line.rstrip("\r")}, ensure_ascii=False))
            continue
        for c, k in zip(names, header, strict=True):
            columns[c].append(cell_text(obj.get(k)))
        override.append(None)
    bad_lines = sum(o is not None for o in override)
    if bad_lines:
        notes.append(f"{bad_lines} 行不是有效的 JSON 对象 / {bad_lines} line(s) are not valid JSON objects")
    body = pl.DataFrame(columns, schema={c: pl.String for c in names})
    export_time, export_from = _export_time(path, [])
    sheet = build_sheet(
        name=None,
        source=source,
        header=header,
        body=body,
        row_numbers=pl.int_range(1, len(lines) + 1, dtype=pl.Int64, eager=True),
        title_count=0,
        export_time=export_time,
        export_time_from=export_from,
        raw_override=pl.Series(override, dtype=pl.String),
        profile=profile,
    )
    return ReadResult(path=path, source=source, sheets=[sheet], encoding=encoding, notes=notes,
                      profile=profile.name)
