"""`xiangzhi profile suggest FILE`: a draft import profile for a file no profile recognises (SPEC §3.8).

Captions are matched to canonical fields by the synonym table and every installed profile's captions
(exact, after caption normalisation), then by similarity (shared characters, 时间/日期/编号 alike);
a match is kept only where the column's values read as the field's type (a 走访时间 of "2小时0分钟"
is no date). The kind is the one whose fields the captions cover best, required fields counting
double. Enum columns get value maps drafted from their distinct values (canonical where a synonym
matches, TODO where not); required fields left unmapped are TODO lines saying what the spec needs.
Filling in the TODO lines — and nothing else — should be enough for the file to load.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import polars as pl

from pipelines import sources
from pipelines.errors import UserError
from pipelines.profiles import ENTRY_FIELDS
from pipelines.profiles.matching import Column, columns_of, header_of, rank_kinds
from pipelines.sources import BOOL, DATE, DATETIME, ENUM, POINTS, SOURCES

_SIGN_VALUES = {"加分", "扣分", "加", "扣", "奖励", "扣除", "1", "2"}


def read_grid(path: Path) -> list[list[str | None]]:
    """Every row of the first sheet with cells (or of a CSV file) as text."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm", ".xls"):
        import fastexcel

        reader = fastexcel.read_excel(str(path))
        for i in range(len(reader.sheet_names)):
            df = reader.load_sheet(i, header_row=None, skip_rows=0, dtypes="string").to_polars()
            rows = [[(c.removesuffix(" 00:00:00") if isinstance(c, str) else c) for c in r] for r in df.rows()]
            if any(any(c for c in r) for r in rows):
                return rows
        return []
    if suffix in (".csv", ".txt"):
        from pipelines.readers.delimited import decode_to_utf8

        text = decode_to_utf8(path.read_bytes())[0].decode("utf-8", errors="replace")
        first = text.split("\n", 1)[0]
        delim = max((",", "\t", ";", "|"), key=first.count)
        return [[c if c.strip() else None for c in r] for r in csv.reader(io.StringIO(text), delimiter=delim)]
    raise UserError(f"无法为 {path.suffix} 文件起草方案（应为 CSV、XLSX 或 XLS）/ cannot draft a profile for "
                    f"{path.suffix} files (expected CSV, XLSX or XLS)")


def _q(text: str) -> str:
    """A YAML scalar: quoted when it could be read as something else."""
    if re.fullmatch(r"[\w\u4e00-\u9fff（）()/、·\-]+", text) and not re.fullmatch(r"[\d.]+|true|false|null|yes|no|~",
                                                                                 text, re.I):
        return text
    return "'" + text.replace("'", "''") + "'"


def suggest(path: Path, exclude: set[str] | None = None) -> str:
    """The draft profile's YAML text for `path`."""
    exclude = exclude or set()
    path = Path(path)
    rows = read_grid(path)
    if not rows:
        raise UserError(f"文件为空，无法起草方案 / the file is empty: {path.name}")
    h, header, header_rows = header_of(rows, exclude)
    body = rows[h + header_rows:]
    cols = columns_of(header, body)
    ranked = rank_kinds(cols, exclude)
    kind, _, m = ranked[0]
    src = SOURCES[kind]
    mapped = {f for f, _ in m.values()}
    by_index = {c.index: c for c in cols}

    stem = re.sub(r"[^a-z0-9_]", "", re.sub(r"\W+", "_", path.stem.lower())) or "file"
    name = f"draft_{kind}_{stem}"[:60].rstrip("_") if not stem.startswith("draft") else stem
    if len(name) < 2 or not re.fullmatch(r"[a-z0-9_]{2,60}", name):
        name = f"draft_{kind}"
    out = [
        f"# 导入方案草稿 draft import profile — xiangzhi profile suggest {path.name}",
        "# 请检查每一行；把 TODO 换成正确的内容（或删去该行），然后运行 xiangzhi profile check 本文件 数据文件。",
        "# Check every line; replace each TODO (or delete the line), then run: xiangzhi profile check THIS FILE",
        f"name: {name}",
        f"label: {_q(path.stem)}",
        f"kind: {kind}   # {src.label_zh}（{src.label_en}）",
    ]
    sig = [by_index[i].caption.strip() for i, (f, _) in m.items() if src.field(f).required or f == "grid_name"]
    if len(sig) < 2:
        sig = [by_index[i].caption.strip() for i in list(m)[:3]]
    out.append("signature: [" + ", ".join(_q(s) for s in sig) + "]")
    out.append("columns:")
    for c in cols:
        if c.index in m:
            fname, how = m[c.index]
            out.append(f"  {_q(c.caption.strip())}: {fname}   # {src.field(fname).header}; {how}")
        else:
            out.append(f"  {_q(c.caption.strip())}:    # 未对应，不载入 not mapped, not loaded")

    # Value maps for enum columns, from their distinct values.
    from pipelines import normalise

    values_lines: list[str] = []
    for i, (fname, _) in m.items():
        f = src.field(fname)
        if f.type not in (ENUM, BOOL) or not f.enum:
            continue
        distinct = sorted(set(by_index[i].values))[:40]
        if not distinct:
            continue
        canon = normalise.enum_values(pl.Series(distinct, dtype=pl.String), f.enum).to_list()
        if all(c is not None for c in canon):
            continue
        values_lines.append(f"  {fname}:   # 可选值 allowed: {'、'.join(sources.ENUMS[f.enum])}")
        for raw, c in zip(distinct, canon, strict=True):
            values_lines.append(f"    {_q(raw)}: {c if c is not None else 'TODO'}")
    if values_lines:
        out.append("values:")
        out += values_lines

    split = _split_line(kind, m, by_index)
    derive: list[str] = []
    sign_col = next((c for c in cols if c.values and set(c.values) <= _SIGN_VALUES
                     and len(set(c.values)) == 2), None)
    if sign_col is not None and any(src.field(f).type == POINTS for f in mapped):
        pf = next(f for f in mapped if src.field(f).type == POINTS)
        neg = "扣分" if "扣分" in sign_col.values else ("扣" if "扣" in sign_col.values else "2")
        derive.append(f"  {pf}: {{sign: {_q(sign_col.caption.strip())}, negative: [{_q(neg)}]}}"
                      f"   # 正负取自{sign_col.caption.strip()} sign from a 加分/扣分 column")
    entry = ENTRY_FIELDS.get(kind)
    for f in src.fields:
        if f.name in mapped or f.name == entry:
            continue
        if f.name == "grid_code" and "grid_name" in mapped:
            continue
        if f.required:
            hint = _hint(f)
            if f.name == src.id_field and split:
                hint += "；一格多户拆分后，列表中加上 _part（每一户）/ add _part to the list: one id per household"
            derive.append(f"  {f.name}: TODO   # 必填 required: {f.header}。{hint}")
        elif f.name in ("township_name", "village_name") and "grid_name" in mapped:
            label = "乡镇/街道" if f.name == "township_name" else "社区/村"
            derive.append(f"  {f.name}: TODO   # 可选 optional: 网格名称所在的{f.header[2:]}（如 {{title: {label}}}"
                          f" 取自表头上方），不需要就删去此行 / scope of the grid names; delete if not needed")
        elif f.required_when:
            derive.append(f"  {f.name}: TODO   # 条件必填 required when {f.required_when}: {f.header}。"
                          f"{_hint(f)} 不需要就删去此行 / delete if not needed")
    if derive:
        out.append("derive:")
        out += derive
    if entry and entry not in mapped:
        out.append(f"# 没有录入时间列（{src.field(entry).header}）：录入时间记为未知，不计入录入及时率"
                   f" / no entry-time column: entry time unknown, left out of entry_timeliness_rate")
    shape: list[str] = []
    if header_rows == 2:
        shape.append("  header_rows: 2   # 两行表头 two-row header")
    rel = next((c for c in cols if "户主" in c.caption and "关系" in c.caption and "户主" in c.values), None)
    if rel is not None and kind == "households":
        by = "household_id"
        shape.append(f"  group: {{by: {by}, head: {{column: {_q(rel.caption.strip())}, value: 户主}}, count: members}}"
                     "   # 每人一行，按户合并 one row per person")
    if split:
        shape.append(split)
    if shape:
        out.append("rows:")
        out += shape
    return "\n".join(out) + "\n"


def _split_line(kind: str, m: dict[int, tuple[str, str]], by_index: dict[int, Column]) -> str | None:
    """rows.split for a household column that names several households per cell ("12号杨红霞、18号张光荣"):
    one record per household named. Proposed when most filled cells hold more than one part; a house
    number (门牌) before each name becomes the label, cut from the name."""
    import unicodedata

    from pipelines.profiles import SPLIT_SEPARATOR

    if kind not in sources.HEAD_NAME_KINDS:
        return None
    col = next((by_index[i] for i, (f, _) in m.items() if f == "head_name"), None)
    if col is None or not col.values:
        return None
    cells = [[p for p in re.split(SPLIT_SEPARATOR, unicodedata.normalize("NFKC", v)) if p] for v in col.values]
    if sum(len(c) > 1 for c in cells) < 0.3 * len(cells):
        return None
    parts = [p for c in cells for p in c]
    label = sum(bool(re.match(r"[0-9]+号", p)) for p in parts) >= 0.8 * len(parts)
    opts = f"column: {_q(col.caption.strip())}, into: head_name" + (", label: '[0-9]+号'" if label else "")
    return (f"  split: {{{opts}}}   # 一格写了多户：每户一条记录，按户主姓名在本村找到该户"
            f" / several households per cell: one record each" + ("（门牌号不载入 house number not loaded）" if label else ""))


def _hint(f: sources.Field) -> str:
    if f.name.endswith("_id"):
        return "导出没有编号时可用 {hash: [列1, 列2, 列3]} 由不变的列生成 / e.g. {hash: [caption, caption]}"
    if f.type in (DATE, DATETIME):
        return "可用 {copy: 另一时间列} 或 {deadline: 时间列, days: 7} / e.g. {copy: caption}"
    if f.enum:
        return f"可用 {{const: 取值}}，取值之一：{'、'.join(sources.ENUMS[f.enum])} / e.g. {{const: value}}"
    if f.name == "level":
        return "可按代码推导：{cases: {'^\\d{6}$': 县, '^\\d{9}$': 乡镇, '^\\d{12}$': 村}, from: 代码列}"
    return "可用 {copy: 列}、{const: 值} 或 {extract: 正则, from: 列} / e.g. {copy: caption}"
