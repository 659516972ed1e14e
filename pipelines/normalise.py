"""Normalisation (SPEC §3.5): raw text of one sheet → typed, cleaned values, with the offending text kept.

Pure functions of frames: no files, no database. For every field `f` of the source the result has
`f` (typed) and `f__bad` (the raw text when a non-empty value could not be read, else null), so the
loader can give BAD_DATE / BAD_NUMBER / BAD_ENUM with the text that caused it. Everything is
vectorised polars except the few per-value steps that need Python (HMAC, masking, geometry).
Personal fields (SPEC §3.7) are hashed or masked here, in their column and inside `_raw`.
"""

from __future__ import annotations

import json
import re
import unicodedata

import numpy as np
import polars as pl

from pipelines import privacy, sources
from pipelines.readers.common import SheetData
from pipelines.sources import (
    BOOL,
    DATE,
    DATETIME,
    ENUM,
    FLOAT,
    GEOMETRY,
    INT,
    MASK,
    POINTS,
    STR,
    Field,
    Source,
)

# Zero-width characters that survive NFKC and are not whitespace to regex \s.
_ZERO_WIDTH = "[\u200b\u200c\u200d\u2060\ufeff]"
# NFKC maps the full-width minus; the mathematical minus (U+2212) and the dash-like signs stay.
_MINUS = "[\u2212\u2013\u2014\ufe63]"
# The 1900 date system's day 0 as Excel counts (it believes 1900 was a leap year, so the epoch is the 30th).
_EXCEL_EPOCH = pl.datetime(1899, 12, 30)
SERIAL_MIN, SERIAL_MAX = 20000, 80000  # 1954-10-03 … 2119-01-10: any plausible date written as a serial

_DATE_RX = (
    r"^(?P<y>\d{4})\s*[-/.年]\s*(?P<m>\d{1,2})\s*[-/.月]\s*(?P<d>\d{1,2})\s*日?"
    r"(?:\s*T?\s*(?P<H>\d{1,2})\s*[:时点]\s*(?P<M>\d{1,2})"
    r"(?:\s*[:分]\s*(?P<S>\d{1,2})(?:\.\d+)?\s*秒?)?\s*分?)?$"
)
_COMPACT_RX = r"^(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})(?:\s*T?\s*(?P<H>\d{2}):?(?P<M>\d{2})(?::?(?P<S>\d{2}))?)?$"
_SERIAL_RX = r"^\d{5}(?:\.\d+)?$"
_NUMBER_RX = r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$"
_THOUSANDS_RX = r"^[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?$"
# Units and currency signs that may stand around a number: 5分, 1200元, ¥1,200, 4人, 35户.
_UNIT_SUFFIX_RX = r"(?:元|分|人|户|个|块)$"
_CURRENCY_RX = r"^([+-]?)[¥$]"


def _is_code(f: Field) -> bool:
    """Identifier and code fields: compacted (no spaces anywhere), Excel float damage undone."""
    return f.type == STR and f.personal is None and (
        f.name == "code" or f.name.endswith("_code") or f.name.endswith("_id")
    )


# --- cleaning -------------------------------------------------------------------------------------


def nfkc(e: pl.Expr) -> pl.Expr:
    return e.str.normalize("NFKC").str.replace_all(_ZERO_WIDTH, "")


def compact(e: pl.Expr) -> pl.Expr:
    """NFKC, every kind of space removed (codes, ids, numbers, enums)."""
    return nfkc(e).str.replace_all(r"\s+", "")


def trimmed(e: pl.Expr) -> pl.Expr:
    """NFKC, runs of spaces made one, ends trimmed (names and free text)."""
    return nfkc(e).str.replace_all(r"\s+", " ").str.strip_chars()


def _null_if_empty(e: pl.Expr) -> pl.Expr:
    return pl.when(e.str.len_bytes() > 0).then(e)


def code_text(e: pl.Expr) -> pl.Expr:
    """A code as text: '360726101001.0' and '3.60726101001E+11' (Excel turned it into a number) → digits.

    The scientific form is recovered only where it is exact: at most 15 significant digits and
    integral, so that a float holds it exactly.
    """
    c = compact(e)
    no_point = c.str.replace(r"^(\d+)\.0+$", "$1")
    sci = c.str.contains(r"^\d(?:\.\d{1,14})?[eE]\+?\d{1,2}$").fill_null(False)
    f = pl.when(sci).then(c).cast(pl.Float64, strict=False)
    exact = sci & (f == f.floor()) & (f < 9e15)
    return _null_if_empty(pl.when(exact).then(f.cast(pl.Int64, strict=False).cast(pl.String)).otherwise(no_point))


def _enum_key(text: str) -> str:
    t = unicodedata.normalize("NFKC", text)
    return re.sub(r"\s+", "", re.sub(_ZERO_WIDTH, "", t)).lower()


# --- typed values ---------------------------------------------------------------------------------


def parse_datetime(e: pl.Expr) -> pl.Expr:
    """Text → Datetime('us'): 2025-06-03, 2025/6/3, 2025.6.3, 2025年6月3日, 20250603, Excel serials,
    each with an optional time (14:05, 14:05:00, 'T'); dates that do not exist → null."""
    s = trimmed(e)
    g = s.str.extract_groups(_DATE_RX)
    c = s.str.extract_groups(_COMPACT_RX)

    def part(name: str, default: str | None = None) -> pl.Expr:
        v = pl.coalesce(g.struct.field(name), c.struct.field(name))
        return (v.fill_null(default) if default is not None else v).str.zfill(2)

    text = pl.concat_str(
        [part("y"), pl.lit("-"), part("m"), pl.lit("-"), part("d"), pl.lit(" "),
         part("H", "0"), pl.lit(":"), part("M", "0"), pl.lit(":"), part("S", "0")]
    )
    parsed = text.str.strptime(pl.Datetime("us"), "%Y-%m-%d %H:%M:%S", strict=False)
    serial = pl.when(s.str.contains(_SERIAL_RX)).then(s).cast(pl.Float64, strict=False)
    from_serial = pl.when((serial >= SERIAL_MIN) & (serial <= SERIAL_MAX)).then(
        _EXCEL_EPOCH + pl.duration(seconds=(serial * 86400).round(0).cast(pl.Int64))
    )
    return pl.coalesce(parsed, from_serial.cast(pl.Datetime("us")))


def parse_number(e: pl.Expr) -> pl.Expr:
    """Text → Float64: '5', '5.0', '1,234', '+5', '－2分', '¥1,200', '1200元'; anything else → null."""
    s = compact(e).str.replace_all(_MINUS, "-")
    s = s.str.replace(_CURRENCY_RX, "$1").str.replace(_UNIT_SUFFIX_RX, "")
    s = pl.when(s.str.contains(_THOUSANDS_RX)).then(s.str.replace_all(",", "")).otherwise(s)
    return pl.when(s.str.contains(_NUMBER_RX)).then(s).cast(pl.Float64, strict=False)


def _mapping(values: dict[str, tuple[str, ...]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for canonical, synonyms in values.items():
        for syn in (canonical, *synonyms):
            out.setdefault(_enum_key(syn), canonical)
    return out


def parse_enum(e: pl.Expr, enum: str) -> pl.Expr:
    key = compact(e).str.to_lowercase()
    return key.replace_strict(_mapping(sources.ENUMS[enum]), default=None, return_dtype=pl.String)


def parse_bool(e: pl.Expr) -> pl.Expr:
    table = {_enum_key(t): True for t in sources.BOOL_TRUE} | {_enum_key(t): False for t in sources.BOOL_FALSE}
    return compact(e).str.to_lowercase().replace_strict(table, default=None, return_dtype=pl.Boolean)


def geometry_text(values: pl.Series) -> pl.Series:
    """GeoJSON geometry text from GeoJSON or WKT text; unreadable → null."""
    import shapely

    arr = np.array([v.strip() if isinstance(v, str) else None for v in values.to_list()], dtype=object)
    is_json = np.array([isinstance(v, str) and v.startswith("{") for v in arr], dtype=bool)
    geoms = np.full(len(arr), None, dtype=object)
    if is_json.any():
        geoms[is_json] = shapely.from_geojson(arr[is_json], on_invalid="ignore")
    wkt = ~is_json & np.array([isinstance(v, str) and v != "" for v in arr], dtype=bool)
    if wkt.any():
        geoms[wkt] = shapely.from_wkt(arr[wkt], on_invalid="ignore")
    out = [shapely.to_geojson(g) if g is not None and not g.is_empty else None for g in geoms]
    return pl.Series(values.name, out, dtype=pl.String)


# --- personal data --------------------------------------------------------------------------------


def personal_value(f: Field, text: str | None, key: bytes) -> str | None:
    """The pseudonymised form of one raw personal value (the same in its column and inside `_raw`)."""
    if text is None:
        return None
    t = re.sub(_ZERO_WIDTH, "", unicodedata.normalize("NFKC", text)).strip()
    if not t:
        return None
    if f.personal == MASK:
        return privacy.mask_name(re.sub(r"\s+", " ", t))
    if f.name == "phone":
        t = re.sub(r"^(\d+)\.0+$", r"\1", re.sub(r"\s+", "", t))
        t = re.sub(r"\D", "", t)
    else:
        t = re.sub(r"\s+", "", t).upper()
    return privacy.keyed_hash(t, key) if t else None


def _personal_series(f: Field, values: pl.Series, key: bytes) -> pl.Series:
    cache: dict[str, str | None] = {}
    out = []
    for v in values.to_list():
        if v is None:
            out.append(None)
            continue
        if v not in cache:
            cache[v] = personal_value(f, v, key)
        out.append(cache[v])
    return pl.Series(values.name, out, dtype=pl.String)


_WITHHELD_LINE = json.dumps({"_line": "（整行无法解析，可能含个人信息，已隐去）/ (unparsable line withheld: may hold personal data)"},
                            ensure_ascii=False)


def _protect_raw(source: Source, sheet: SheetData, raw: pl.Series, key: bytes) -> pl.Series:
    """`_raw` with the personal values hashed/masked under their original header keys."""
    index = sources.header_index(source)
    keys = sheet.raw_keys or [h or f"_col{i + 1}" for i, h in enumerate(sheet.header)]
    personal = {}
    for i, k in enumerate(keys):
        name = index.get(sources.header_key(sheet.header[i])) if i < len(sheet.header) and sheet.header[i] else None
        if name is not None and source.field(name).personal:
            personal[k] = source.field(name)
    if not personal or raw.len() == 0:
        return raw
    frame = pl.DataFrame({"_raw": raw})
    is_line = frame.get_column("_raw").str.starts_with('{"_line"')
    decoded = frame.select(
        pl.col("_raw").str.json_decode(pl.Struct({k: pl.String for k in keys})).alias("s")
    ).get_column("s").struct.unnest()
    for k, f in personal.items():
        decoded = decoded.with_columns(_personal_series(f, decoded.get_column(k), key).alias(k))
    encoded = decoded.select(pl.struct(pl.all()).struct.json_encode().alias("_raw")).get_column("_raw")
    return pl.select(pl.when(is_line).then(pl.lit(_WITHHELD_LINE)).otherwise(encoded)).to_series().alias("_raw")


# --- the sheet ------------------------------------------------------------------------------------


def _typed(f: Field) -> tuple[pl.Expr, pl.Expr] | None:
    """(typed value, 'is this non-empty value unreadable') for a field, or None for Python-side types."""
    raw = pl.col(f.name)
    present = compact(raw).str.len_bytes().fill_null(0) > 0
    if f.type == STR:
        if f.personal:
            return None
        value = code_text(raw) if _is_code(f) else _null_if_empty(trimmed(raw))
        return value, pl.lit(False)
    if f.type in (DATE, DATETIME):
        dt = parse_datetime(raw)
        value = dt.dt.date() if f.type == DATE else dt
        return value, present & dt.is_null()
    if f.type in (INT, FLOAT, POINTS):
        num = parse_number(raw)
        if f.type == INT:
            integral = num == num.floor()
            value = pl.when(integral).then(num).cast(pl.Int64, strict=False)
            return value, present & value.is_null()
        return num, present & num.is_null()
    if f.type == ENUM:
        value = parse_enum(raw, f.enum)
        if f.enum == "key_type":
            # An ordinary household is written as empty or as 普通户: both mean "no key type".
            return pl.when(value != "普通户").then(value), present & value.is_null()
        return value, present & value.is_null()
    if f.type == BOOL:
        value = parse_bool(raw)
        return value, present & value.is_null()
    return None


_DTYPES = {
    STR: pl.String, INT: pl.Int64, FLOAT: pl.Float64, POINTS: pl.Float64, DATE: pl.Date,
    DATETIME: pl.Datetime("us"), ENUM: pl.String, BOOL: pl.Boolean, GEOMETRY: pl.String,
}


def normalise(source: Source, sheet: SheetData, key: bytes) -> pl.DataFrame:
    """One row per data row: _sheet, _row, _export_time, _raw (personal data protected), then for
    every field `f` of the source: `f` (typed, cleaned, null when empty or unreadable) and `f__bad`."""
    rows = sheet.rows
    for f in source.fields:
        if f.name not in rows.columns:
            rows = rows.with_columns(pl.lit(None, dtype=pl.String).alias(f.name))
    exprs: list[pl.Expr] = []
    later: list[Field] = []
    for f in source.fields:
        typed = _typed(f)
        if typed is None:
            later.append(f)
            continue
        value, bad = typed
        exprs.append(value.cast(_DTYPES[f.type]).alias(f.name))
        exprs.append(pl.when(bad).then(pl.col(f.name)).otherwise(None).cast(pl.String).alias(f.name + "__bad"))
    out = rows.select(
        pl.lit(sheet.name, dtype=pl.String).alias("_sheet"),
        pl.col("_row").cast(pl.Int64),
        pl.lit(sheet.export_time, dtype=pl.Datetime("us")).alias("_export_time"),
        *exprs,
    )
    for f in later:
        values = rows.get_column(f.name)
        if f.type == GEOMETRY:
            geo = geometry_text(values)
            present = values.is_not_null() & (values.str.strip_chars().str.len_bytes() > 0)
            bad = pl.select(pl.when(present & geo.is_null()).then(values)).to_series()
            out = out.with_columns(geo.alias(f.name), bad.cast(pl.String).alias(f.name + "__bad"))
        else:  # personal str fields
            out = out.with_columns(
                _personal_series(f, values, key).alias(f.name),
                pl.lit(None, dtype=pl.String).alias(f.name + "__bad"),
            )
    out = out.with_columns(_protect_raw(source, sheet, rows.get_column("_raw"), key).alias("_raw"))
    order = ["_sheet", "_row", "_export_time", "_raw"]
    for f in source.fields:
        order += [f.name, f.name + "__bad"]
    return out.select(order)


def normalise_result(result, key: bytes) -> pl.DataFrame:
    """All sheets of one ReadResult, normalised and stacked (convenience for the loader)."""
    frames = [normalise(result.source, s, key) for s in result.sheets]
    return pl.concat(frames, how="vertical") if frames else pl.DataFrame()


# --- names ----------------------------------------------------------------------------------------

_VILLAGE_SUFFIXES = ("社区居委会", "村民委员会", "村委会", "居委会", "社区", "村")
_TOWNSHIP_SUFFIXES = ("街道办事处", "人民政府", "街道", "乡", "镇")
# One key for both levels, so that one function serves name resolution on both sides (the loader
# keys townships and villages alike); levels are kept apart by the caller, not by the key.
_ALL_SUFFIXES = _VILLAGE_SUFFIXES + _TOWNSHIP_SUFFIXES


def _suffix_rx(suffixes: tuple[str, ...]) -> str:
    return "(?:" + "|".join(re.escape(s) for s in suffixes) + ")+$"


def _strip_suffixes(name: str | None, suffixes: tuple[str, ...]) -> str | None:
    """张家村村委会 → 张家: the whole run of suffixes goes, but a name is never stripped to nothing."""
    if name is None:
        return None
    t = re.sub(r"\s+", "", re.sub(_ZERO_WIDTH, "", unicodedata.normalize("NFKC", str(name))))
    return re.sub(_suffix_rx(suffixes), "", t) or t or None


def village_key(name: str | None) -> str | None:
    """Comparable village or township name: NFKC, no spaces, the run of suffixes 村民委员会/村委会/
    居委会/社区居委会/村/社区 and 人民政府/乡/镇/街道办事处/街道 stripped (张家村村委会 → 张家,
    东山乡人民政府 → 东山); a name that is nothing but suffixes is kept whole."""
    return _strip_suffixes(name, _ALL_SUFFIXES)


def township_key(name: str | None) -> str | None:
    """Same as village_key (one key serves both levels); named for readability at call sites."""
    return _strip_suffixes(name, _ALL_SUFFIXES)


def _suffix_expr(e: pl.Expr, suffixes: tuple[str, ...]) -> pl.Expr:
    c = compact(e)
    stripped = c.str.replace(_suffix_rx(suffixes), "")
    # Never strip a name down to nothing (a village literally called 村 keeps its name).
    return _null_if_empty(pl.when(stripped.str.len_chars() > 0).then(stripped).otherwise(c))


def village_key_expr(e: pl.Expr) -> pl.Expr:
    """Vectorised village_key (same result for the same text)."""
    return _suffix_expr(e, _ALL_SUFFIXES)


township_key_expr = village_key_expr
