"""What every reader shares: the result types, header finding, export times and the row accounting.

A reader turns its file into a "grid" of text cells (rows × columns, all String); `build_sheet`
then finds what is data and what is not, and maps header cells to canonical field names.
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import polars as pl

from pipelines import sources
from pipelines.sheets import SheetData  # noqa: F401  (the readers' result type; re-exported)
from pipelines.sources import Source

# The header is looked for in this many rows from the top of a sheet (title rows sit above it).
HEADER_SEARCH_ROWS = 30


@dataclass
class ReadResult:
    path: Path
    source: Source | None
    sheets: list[SheetData] = field(default_factory=list)
    skipped_sheets: list[str] = field(default_factory=list)
    error: str | None = None
    encoding: str | None = None
    notes: list[str] = field(default_factory=list)
    profile: str | None = None

    @property
    def rows_read(self) -> int:
        return sum(s.rows_read for s in self.sheets)

    @property
    def non_data(self) -> int:
        return sum(s.non_data for s in self.sheets)


def reject(path: Path, reason: str, *, encoding: str | None = None, notes: list[str] | None = None) -> ReadResult:
    """A whole-file rejection: one line, no sheets. Ids and phones are scrubbed from the text as a
    backstop: a reason must never quote raw data (SPEC §3.7), but a library message might."""
    from pipelines.privacy import scrub_text

    return ReadResult(path=path, source=None, error=scrub_text(" ".join(reason.split())), encoding=encoding,
                      notes=[scrub_text(n) for n in (notes or [])])


def no_header_reason(sheets: list[str] | None = None) -> str:
    where_zh = f"（工作表：{'、'.join(sheets)}）" if sheets else ""
    where_en = f" (sheets: {', '.join(sheets)})" if sheets else ""
    return (
        f"表头不符合任何已知数据源{where_zh}（应包含如 事件编号、网格编码、上报时间、状态，或 记录编号、户编号、分值 等已知表头）"
        f"/ header matches no known source{where_en} (expected headers such as 事件编号, 网格编码, 上报时间, 状态)"
    )


# --- header finding -------------------------------------------------------------------------------


def find_header(rows: list[list[str | None]], limit: int = HEADER_SEARCH_ROWS):
    """(index, profile) of the first row, among the first `limit`, that an import profile recognises
    (the built-in profiles of SPEC §3.1–3.4 among them, SPEC §3.8)."""
    from pipelines.profiles.recognise import recognise

    for i, cells in enumerate(rows[:limit]):
        present = [c for c in cells if c is not None and str(c).strip()]
        if len(present) < 2:
            continue
        prof = recognise(present)
        if prof is not None:
            return i, prof
    return None


def unrecognised_reason(rows: list[list[str | None]], path: Path, sheets: list[str] | None = None) -> str:
    """no_header_reason plus the diagnosis: closest kinds and profiles, matched and missing captions,
    and the command that drafts a profile (SPEC §3.8)."""
    from pipelines.profiles.matching import diagnosis

    return no_header_reason(sheets) + "。" + diagnosis(rows, Path(path).name)


def raw_keys(header: list[str], width: int) -> list[str]:
    """Unique JSON keys for the `_raw` object: the header text, '_colN' for unnamed columns, '_2' for repeats."""
    keys: list[str] = []
    seen: set[str] = set()
    for i in range(width):
        text = header[i].strip() if i < len(header) and header[i] is not None else ""
        key = text or f"_col{i + 1}"
        if key in seen:
            n = 2
            while f"{key}_{n}" in seen:
                n += 1
            key = f"{key}_{n}"
        seen.add(key)
        keys.append(key)
    return keys


def field_columns(source: Source, header: list[str]) -> dict[str, int]:
    """Canonical field name → index of the first header cell naming it."""
    index = sources.header_index(source)
    out: dict[str, int] = {}
    for i, cell in enumerate(header):
        name = index.get(sources.header_key(cell)) if cell else None
        if name is not None and name not in out:
            out[name] = i
    return out


# --- export time (SPEC §3.6) ------------------------------------------------------------------------

_DATE_TIME = re.compile(
    r"(?P<y>\d{4})\s*[-/.年]\s*(?P<m>\d{1,2})\s*[-/.月]\s*(?P<d>\d{1,2})\s*日?"
    r"(?:\s*T?\s*(?P<H>\d{1,2})\s*[:时点]\s*(?P<M>\d{1,2})(?:\s*[:分]\s*(?P<S>\d{1,2}))?)?"
)
_COMPACT = re.compile(r"(?<!\d)(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})(?!\d)(?:\s*T?\s*(?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2}))?)?")
_YEAR_MONTH = re.compile(r"(?P<y>\d{4})\s*[-/.年]\s*(?P<m>\d{1,2})(?!\d)")
_NAME_DATE = re.compile(r"(?<!\d)(20\d{2})[-_.]?(\d{2})(?:[-_.]?(\d{2}))?(?!\d)")


def _end_of_day(y: int, m: int, d: int) -> datetime | None:
    try:
        return datetime(y, m, d, 23, 59, 59)
    except ValueError:
        return None


def _end_of_month(y: int, m: int) -> datetime | None:
    if not (1 <= m <= 12 and 1900 <= y <= 2200):
        return None
    return datetime(y, m, calendar.monthrange(y, m)[1], 23, 59, 59)


def parse_stated_time(text: str) -> datetime | None:
    """The first date (and time) in a title line; a date alone is the end of that day, a month its end."""
    t = unicodedata.normalize("NFKC", text)
    for rx in (_DATE_TIME, _COMPACT):
        m = rx.search(t)
        if not m:
            continue
        y, mo, d = int(m["y"]), int(m["m"]), int(m["d"])
        if m["H"] is None:
            found = _end_of_day(y, mo, d)
        else:
            try:
                found = datetime(y, mo, d, int(m["H"]), int(m["M"]), int(m["S"] or 0))
            except ValueError:
                found = None
        return found  # a stated date that does not exist is no export time at all
    m = _YEAR_MONTH.search(t)
    if m:
        return _end_of_month(int(m["y"]), int(m["m"]))
    return None


def export_time_from_titles(title_rows: list[list[str | None]]) -> datetime | None:
    """Time stated after an export-time marker (导出时间：…, 填报日期：…, 截至…) in a row above the header."""
    for cells in title_rows:
        line = unicodedata.normalize("NFKC", " ".join(str(c) for c in cells if c is not None))
        for marker in sources.EXPORT_TIME_MARKERS:
            pos = line.find(marker)
            if pos >= 0:
                found = parse_stated_time(line[pos + len(marker):])
                if found is not None:
                    return found
    return None


def export_time_from_name(path: Path) -> datetime | None:
    """…_20250801 → 2025-08-01 23:59:59; …_202508 → 2025-08-31 23:59:59; the last date in the name wins."""
    for m in reversed(list(_NAME_DATE.finditer(Path(path).stem))):
        y, mo = int(m.group(1)), int(m.group(2))
        found = _end_of_day(y, mo, int(m.group(3))) if m.group(3) else _end_of_month(y, mo)
        if found is not None:
            return found
    return None


def resolve_export_time(path: Path, title_rows: list[list[str | None]]) -> tuple[datetime | None, str | None]:
    stated = export_time_from_titles(title_rows)
    if stated is not None:
        return stated, "title"
    named = export_time_from_name(path)
    if named is not None:
        return named, "file_name"
    return None, None


# --- rows -------------------------------------------------------------------------------------------

_TOTAL_RX = "^[\\s\u200b]*(?:" + "|".join(
    "[\\s\u200b]*".join(re.escape(ch) for ch in m.replace(" ", "")) for m in sources.TOTAL_ROW_MARKERS
) + ")"


def cell_names(width: int) -> list[str]:
    return [f"c{i}" for i in range(width)]


_VISIBLE = "[^\\s\u200b\ufeff]"


def row_flags(body: pl.DataFrame) -> tuple[pl.Series, pl.Series]:
    """(blank, total) per row: blank rows, and 合计/总计/小计 rows judged by the first non-empty cell.

    Cheap on millions of rows: the first non-null cell decides, and only the rare rows whose first
    non-null cell is whitespace are looked at cell by cell.
    """
    cols = body.columns
    if not cols:
        return (pl.repeat(True, body.height, dtype=pl.Boolean, eager=True),
                pl.repeat(False, body.height, dtype=pl.Boolean, eager=True))
    first = body.select(pl.coalesce(cols).alias("f")).to_series()
    flags = pl.DataFrame({"f": first}).select(
        blank=pl.col("f").is_null(),
        spaces=pl.col("f").is_not_null() & ~pl.col("f").str.contains(_VISIBLE),
        total=pl.col("f").str.contains(_TOTAL_RX).fill_null(False),
    )
    blank, total, spaces = flags.get_column("blank"), flags.get_column("total"), flags.get_column("spaces")
    if spaces.any():
        joined = pl.concat_str([pl.col(c) for c in cols], separator="", ignore_nulls=True)
        sub = body.filter(spaces).select(
            b=~joined.str.contains(_VISIBLE).fill_null(False), t=joined.str.contains(_TOTAL_RX).fill_null(False)
        )
        idx = spaces.arg_true()
        blank = blank.clone().scatter(idx, sub.get_column("b"))
        total = total.clone().scatter(idx, sub.get_column("t"))
    return blank, total


def non_data_flags(body: pl.DataFrame) -> pl.Series:
    blank, total = row_flags(body)
    return (blank | total).alias("_non_data")


def build_sheet(
    *,
    name: str | None,
    source: Source,
    header: list[str],
    body: pl.DataFrame,
    row_numbers: pl.Series,
    title_count: int,
    export_time: datetime | None,
    export_time_from: str | None,
    raw_override: pl.Series | None = None,
    profile=None,
    titles: list[list[str | None]] | None = None,
) -> SheetData:
    """Split `body` (every row below the header, columns c0…, String) into data and non-data rows.

    `title_count` rows above the header were already judged non-data. `raw_override` (String,
    null where unused) replaces `_raw` for rows that could not be split into cells (bad JSON lines);
    such rows are data rows whatever their cells say.
    """
    from pipelines.profiles import builtin_profile
    from pipelines.profiles.apply import apply, column_map, is_subcaption_row, merge_two_row_header

    if profile is None:
        profile = builtin_profile(source.kind)
    header = [h if h is not None else "" for h in header]
    # A two-row header (group captions merged over sub-captions) reads as one; the sub-caption row
    # is not data (SPEC §3.8).
    if body.height and (profile.header_rows == 2 or is_subcaption_row(header, list(body.row(0)))):
        header = merge_two_row_header(header, list(body.row(0)))
        body, row_numbers, title_count = body.slice(1), row_numbers.slice(1), title_count + 1
        if raw_override is not None:
            raw_override = raw_override.slice(1)
    cols = list(body.columns)
    keys = raw_keys(header, len(cols))
    mapped = {keys[i]: name for name, i in column_map(profile, header).items() if i < len(keys)}
    non_data = non_data_flags(body)
    frame = body.with_columns(row_numbers.cast(pl.Int64).alias("_row"))
    if raw_override is not None:
        frame = frame.with_columns(raw_override.cast(pl.String).alias("_override"))
        non_data = non_data & raw_override.is_null()
    n_non_data = int(non_data.sum())
    data = frame.filter(~non_data) if n_non_data else frame
    raw = (
        pl.struct([pl.col(c).alias(k) for c, k in zip(cols, keys, strict=True)]).struct.json_encode()
        if cols
        else pl.lit("{}")
    )
    if raw_override is not None:
        raw = pl.coalesce(pl.col("_override"), raw)
    if profile.builtin:
        fmap = field_columns(source, header)
        exprs = [pl.col(cols[fmap[f.name]]).alias(f.name) if f.name in fmap
                 else pl.lit(None, dtype=pl.String).alias(f.name) for f in source.fields]
        rows = data.select(*exprs, pl.col("_row"), raw.alias("_raw"))
    else:
        rows = apply(profile, header, data.with_columns(raw.alias("_raw")), titles or [])
    return SheetData(
        name=name,
        export_time=export_time,
        header=[h if h is not None else "" for h in header],
        rows=rows,
        rows_read=title_count + body.height,
        non_data=title_count + n_non_data,
        export_time_from=export_time_from,
        raw_keys=keys,
        profile=profile.name,
        mapped_keys=mapped,
        entry_unknown=profile.entry_unknown,
    )


def empty_body(width: int) -> pl.DataFrame:
    return pl.DataFrame(schema={c: pl.String for c in cell_names(width)})
