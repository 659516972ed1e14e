"""Captions to fields: how a header that no profile fits is read (SPEC §3.8; docs/profiles.md).

Shared by the rejection diagnosis (readers, when no profile recognises a file) and by
`profile suggest` (the draft): synonyms from the built-in table and shipped profiles, similar
captions (shared characters such as 时间/日期/编号) and what the column's values parse as.
Below both, so neither imports the other.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import polars as pl

from pipelines import sources
from pipelines.profiles import active, caption_key, installed
from pipelines.profiles.apply import is_subcaption_row, merge_two_row_header
from pipelines.profiles.recognise import best_row, header_cells
from pipelines.profiles.recognise import score as profile_score
from pipelines.sources import BOOL, DATE, DATETIME, ENUM, FLOAT, INT, POINTS, SOURCES

SIMILARITY_MIN = 0.5
_TIME_WORDS = ("时间", "日期", "时限", "日")


def similarity(a: str, b: str) -> float:
    """Dice coefficient on characters, with time words (时间/日期/时限) counted as one another."""
    def norm(t: str) -> str:
        for w in ("日期", "时限", "时间"):
            t = t.replace(w, "时")
        return t
    a, b = norm(a), norm(b)
    if not a or not b:
        return 0.0
    common = sum(min(a.count(ch), b.count(ch)) for ch in set(a))
    return 2 * common / (len(a) + len(b))


@dataclass
class Column:
    index: int
    caption: str
    values: list[str]  # non-empty values of the sample

    @property
    def fill(self) -> float:
        return len(self.values)


def _parse_share(ftype: str, values: list[str], name: str) -> float:
    if not values:
        return 0.0
    from pipelines import normalise

    s = pl.Series("v", values[:500], dtype=pl.String)
    if ftype in (DATE, DATETIME):
        ok = normalise.datetime_values(s).is_not_null()
    elif ftype in (INT, FLOAT, POINTS):
        ok = normalise.number_values(s).is_not_null()
    elif name == "grid_code" or name.endswith("_code") or name == "code":
        ok = s.str.contains(r"^\s*\d{6,}\s*$")
    else:
        return 1.0
    return float(ok.mean())


def _caption_table(kind: str, exclude: set[str]) -> dict[str, str]:
    """caption key → field, from the synonym table and every installed profile of this kind."""
    out = {caption_key(h): f.name for f in SOURCES[kind].fields for h in f.headers}
    names = set(SOURCES[kind].names)
    for p in installed(exclude=exclude):
        if p.builtin:
            continue
        for k, f in p.captions.items():  # a caption another format uses for a field this kind has too
            if p.kind == kind or (f in names and f in _SHARED):
                out.setdefault(k, f)
    return out


# Fields that mean the same in every kind that has them (a caption for one serves the others).
_SHARED = {"grid_code", "grid_name", "township_name", "village_name", "household_id", "village_code"}
_ID_WORDS = ("编号", "编码", "代码", "号", "码", "id")
_NAME_WORDS = {"grid_name": ("网格", "辖区"), "township_name": ("乡", "镇", "街道"), "village_name": ("村", "社区")}


def _plausible(f: sources.Field, key: str, values: list[str], exact: bool) -> bool:
    """A similar (not synonymous) caption is taken only if its words and values fit the field."""
    if exact:
        return True
    if (f.name.endswith("_id") or f.name.endswith("_code") or f.name == "code") and not any(w in key for w in _ID_WORDS):
        return False
    if f.name in _NAME_WORDS and not any(w in key for w in _NAME_WORDS[f.name]):
        return False
    if f.type in (ENUM, BOOL) and f.enum and values:
        from pipelines import normalise

        distinct = sorted(set(values))[:40]
        ok = normalise.enum_values(pl.Series(distinct, dtype=pl.String), f.enum).is_not_null().mean()
        return bool(ok >= 0.5)
    return True


def _match(kind: str, cols: list[Column], exclude: set[str]) -> dict[int, tuple[str, str]]:
    """column index → (field, how) for one kind; each field taken by its best column."""
    src = SOURCES[kind]
    table = _caption_table(kind, exclude)
    cands: list[tuple[float, int, str, str]] = []
    for c in cols:
        key = caption_key(c.caption)
        options: list[tuple[float, str, str]] = []
        if key in table:
            options.append((2.0, table[key], "同义词 synonym"))
        for cap, fname in table.items():
            sim = similarity(key, cap)
            if sim >= SIMILARITY_MIN and cap != key:
                options.append((sim, fname, f"相似 similar to {cap} ({sim:.2f})"))
        for score, fname, how in options:
            f = src.field(fname)
            if not _plausible(f, key, c.values, score >= 2):
                continue
            share = _parse_share(f.type, c.values, fname)
            if fname == "grid_code" and share < 0.8 and "grid_name" in src.names:
                fname, f, share = "grid_name", src.field("grid_name"), 1.0
                how += "，值为名称 values are names"
                score -= 0.1
            if share < 0.8:
                continue
            if f.type in (DATE, DATETIME) and not any(w in key for w in _TIME_WORDS) and score < 2:
                continue
            cands.append((score + 0.01 * min(c.fill, 50) / 50, c.index, fname, how))
    cands.sort(reverse=True)
    out: dict[int, tuple[str, str]] = {}
    taken: set[str] = set()
    for _, i, fname, how in cands:
        if i in out or fname in taken:
            continue
        out[i] = (fname, how)
        taken.add(fname)
    return out


def columns_of(header: list[str], body: list[list]) -> list[Column]:
    cols = []
    for i, cap in enumerate(header):
        if not cap.strip():
            continue
        vals = [str(r[i]).strip() for r in body if i < len(r) and r[i] is not None and str(r[i]).strip()]
        cols.append(Column(i, cap, vals))
    return cols


def rank_kinds(cols: list[Column], exclude: set[str] | None = None) -> list[tuple[str, float, dict]]:
    """Kinds by how well the captions (and their values) cover their fields, best first."""
    exclude = exclude or set()
    out = []
    for k in sources.LOAD_ORDER:
        m = _match(k, cols, exclude)
        out.append((k, _kind_score(k, m), m))
    out.sort(key=lambda t: (-t[1], sources.LOAD_ORDER.index(t[0])))
    return out


def _kind_score(kind: str, m: dict[int, tuple[str, str]]) -> float:
    src = SOURCES[kind]
    return sum(2 if src.field(f).required else 1 for f, _ in m.values())


def header_of(rows: list[list[str | None]], exclude: set[str] | None = None) -> tuple[int, list[str], int]:
    """(header row index, captions, rows of header) — the row closest to any profile, else the first
    row of mostly text cells."""
    found = best_row(rows, profiles=installed(exclude=exclude or set()))
    if found is not None and found[1][0].closeness > 0:
        h = found[0]
    else:
        h = next((i for i, r in enumerate(rows[:30])
                  if sum(1 for c in r if c and not re.fullmatch(r"[\d.\-/: ]+", str(c))) >= 2), 0)
    header = [str(c) if c is not None else "" for c in rows[h]]
    if h + 1 < len(rows) and is_subcaption_row(header, rows[h + 1]):
        return h, merge_two_row_header(header, rows[h + 1]), 2
    return h, header, 1


def diagnosis(rows: list[list], file_name: str, limit: int = 30) -> str:
    """One line, Chinese first: the closest kinds (judged as `profile suggest` judges them: synonyms,
    similar captions and their values) with their closest profile, the captions that matched, the
    signature captions missing, and the command that drafts a profile."""
    cmd = f"xiangzhi profile suggest \"{file_name}\""
    rows = [list(r) for r in rows]
    if not any(len(header_cells(r)) >= 2 for r in rows[:limit]):
        return (f"未找到表头行（前{limit}行中没有可识别的表头）；可运行 {cmd} 生成导入方案草稿"
                f" / no header row found in the first {limit} rows; run {cmd} to draft an import profile")
    profiles = active()
    h, header, n = header_of(rows[:limit], {p.name for p in _excluded()})
    ranked = [t for t in rank_kinds(columns_of(header, rows[h + n:limit])) if t[1] > 0][:2]
    cells = header_cells(header)
    parts_zh, parts_en = [], []
    for kind, _, m in ranked:
        best = max((profile_score(p, cells) for p in profiles if p.kind == kind), key=lambda s: s.closeness)
        src = best.profile.source
        matched = [header[i].strip() for i in sorted(m)]
        missing = "、".join(best.missing) or "无"
        parts_zh.append(f"最接近{src.label_zh}（{kind}，方案 {best.profile.name}）：相符表头 "
                        f"{'、'.join(matched[:8]) or '无'}；缺少识别表头 {missing}")
        parts_en.append(f"closest kind {kind} (profile {best.profile.name}): matched {', '.join(matched[:8]) or 'none'}; "
                        f"missing signature captions {', '.join(best.missing) or 'none'}")
    if not ranked:
        parts_zh, parts_en = ["没有相符的表头"], ["no caption matches any kind"]
    return (f"第{h + 1}行表头不足以识别：" + "；".join(parts_zh)
            + f"。可运行 {cmd} 生成导入方案草稿，补全 TODO 后放入 $XIANGZHI_HOME/profiles/"
            + f" / header row {h + 1} not recognised: " + "; ".join(parts_en)
            + f". Run {cmd} to draft an import profile, fill in its TODO lines and put it in $XIANGZHI_HOME/profiles/")


def _excluded():
    from pipelines import profiles

    return [p for p in profiles.installed(include_user=False) if p.name in profiles._EXCLUDED]
