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

from pipelines import config, privacy, sources
from pipelines.sheets import SheetData
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
# Work is done on Series in small materialised steps: a polars expression that uses an intermediate
# twice computes it twice, and on millions of rows that dominated the cost. Only the rows that need
# the slow path (non-ASCII text, unusual date formats) take it: they are filtered out, treated and
# scattered back.


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


def _apply(s: pl.Series, expr: pl.Expr) -> pl.Series:
    """Evaluate an expression over `s` (referred to as pl.col('s'))."""
    return pl.DataFrame({"s": s}).select(expr.alias(s.name)).to_series()


def _constant(value, n: int, dtype: pl.DataType) -> pl.Series:
    return pl.repeat(value, n, dtype=dtype, eager=True)


def _patch(base: pl.Series, mask: pl.Series, values: pl.Series) -> pl.Series:
    """`base` with the rows where `mask` holds replaced by `values` (one value per such row)."""
    idx = mask.fill_null(False).arg_true()
    if idx.len() == 0:
        return base
    return base.clone().scatter(idx, values.cast(base.dtype))


def _matches(s: pl.Series, rx: str) -> pl.Series:
    return _apply(s, pl.col("s").str.contains(rx)).fill_null(False)


# Text that the ASCII fast path leaves as it is: printable ASCII without spaces (compact) or with
# single inner spaces only (trimmed). Anything else takes the full NFKC path.
_NEEDS_COMPACT = r"[^\x21-\x7e]"
_NEEDS_TRIM = r"[^\x20-\x7e]|^ | $|  "
_VISIBLE = "[^\\s\u200b\u200c\u200d\u2060\ufeff]"


def present(raw: pl.Series) -> pl.Series:
    """Whether a raw cell holds anything visible (whitespace and zero-width characters are empty)."""
    return _matches(raw, _VISIBLE)


def clean_compact(s: pl.Series) -> pl.Series:
    """Cleaned code/number/enum text (empty → null): NFKC, every space removed."""
    slow = _matches(s, _NEEDS_COMPACT)
    base = _patch(s, slow, _apply(s.filter(slow), compact(pl.col("s")))) if slow.any() else s
    return _apply(base, _null_if_empty(pl.col("s")))


def clean_trimmed(s: pl.Series) -> pl.Series:
    """Cleaned name/free text/date text (empty → null): NFKC, runs of spaces made one, trimmed."""
    slow = _matches(s, _NEEDS_TRIM)
    base = _patch(s, slow, _apply(s.filter(slow), trimmed(pl.col("s")))) if slow.any() else s
    return _apply(base, _null_if_empty(pl.col("s")))


def _by_unique(s: pl.Series, fn, dtype: pl.DataType) -> pl.Series:
    """fn applied to the distinct values only, when they are few (enums, names), else to all."""
    uniq = s.drop_nulls().unique()
    if uniq.len() * 4 > s.len():
        return fn(s).cast(dtype)
    mapped = fn(uniq).cast(dtype)
    return s.replace_strict(uniq, mapped, default=None, return_dtype=dtype)


def code_values(raw: pl.Series) -> pl.Series:
    """A code as text: '360726101001.0' and '3.60726101001E+11' (Excel turned it into a number) → digits.

    The scientific form is recovered only where it is exact: at most 15 significant digits and
    integral, so that a float holds it exactly.
    """
    c = clean_compact(raw)
    dot0 = _matches(c, r"^\d+\.0+$")
    out = _patch(c, dot0, _apply(c.filter(dot0), pl.col("s").str.replace(r"\.0+$", ""))) if dot0.any() else c
    sci = _matches(c, r"^\d(?:\.\d{1,14})?[eE]\+?\d{1,2}$")
    if sci.any():
        f = c.filter(sci).cast(pl.Float64, strict=False)
        exact = (f == f.floor()) & (f < 9e15)
        fixed = pl.Series([str(int(v)) if ok else t for v, ok, t in zip(f, exact, c.filter(sci), strict=True)],
                          dtype=pl.String)
        out = _patch(out, sci, fixed)
    return out


def _enum_key(text: str) -> str:
    t = unicodedata.normalize("NFKC", text)
    return re.sub(r"\s+", "", re.sub(_ZERO_WIDTH, "", t)).lower()


# --- typed values ---------------------------------------------------------------------------------

_FAST_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d")
# Separators of the common Chinese and slashed forms, rewritten to ISO before the fast parse.
_SEPARATORS = (["/", ".", "年", "月", "日", "T"], ["-", "-", "-", "-", "", " "])


def _slow_datetime(t: pl.Series) -> pl.Series:
    """Every accepted form, for the rows the ISO fast path did not read."""
    df = pl.DataFrame({"t": t}).with_columns(
        g=pl.col("t").str.extract_groups(_DATE_RX),
        k=pl.col("t").str.extract_groups(_COMPACT_RX),
        serial=pl.when(pl.col("t").str.contains(_SERIAL_RX)).then(pl.col("t")).cast(pl.Float64, strict=False),
    )

    def part(name: str, default: str | None = None) -> pl.Expr:
        v = pl.coalesce(pl.col("g").struct.field(name), pl.col("k").struct.field(name))
        return (v.fill_null(default) if default is not None else v).str.zfill(2)

    text = pl.concat_str(
        [part("y"), pl.lit("-"), part("m"), pl.lit("-"), part("d"), pl.lit(" "),
         part("H", "0"), pl.lit(":"), part("M", "0"), pl.lit(":"), part("S", "0")]
    )
    serial = pl.col("serial")
    from_serial = pl.when((serial >= SERIAL_MIN) & (serial <= SERIAL_MAX)).then(
        _EXCEL_EPOCH + pl.duration(seconds=(serial * 86400).round(0).cast(pl.Int64))
    )
    return df.select(
        pl.coalesce(text.str.strptime(pl.Datetime("us"), "%Y-%m-%d %H:%M:%S", strict=False),
                    from_serial.cast(pl.Datetime("us")))
    ).to_series()


def datetime_values(raw: pl.Series) -> pl.Series:
    """Datetime('us') from 2025-06-03, 2025/6/3, 2025.6.3, 2025年6月3日, 20250603, Excel serials,
    each with an optional time (14:05, 14:05:00, 'T'); dates that do not exist → null.

    Fast path: separators rewritten to ISO and three strptime formats (chrono takes 1-digit
    months/days); the rest (serials, 20250603, 14时05分, fractions of seconds) go through regexes.
    """
    t = clean_trimmed(raw)
    iso = _apply(t, pl.col("s").str.replace_many(*_SEPARATORS))
    fast = _apply(iso, pl.coalesce(
        [pl.col("s").str.strptime(pl.Datetime("us"), fmt, strict=False) for fmt in _FAST_FORMATS]
    ))
    need = fast.is_null() & t.is_not_null()
    if need.any():
        fast = _patch(fast, need, _slow_datetime(t.filter(need)))
    return fast


def number_values(raw: pl.Series) -> pl.Series:
    """Float64 from '5', '5.0', '1,234', '+5', '－2分', '¥1,200', '1200元'; anything else → null."""
    c = clean_compact(raw)
    simple = _matches(c, r"^[+-]?\d+(?:\.\d+)?$")
    num = _constant(None, c.len(), pl.Float64).alias(c.name)
    num = _patch(num, simple, c.filter(simple).cast(pl.Float64, strict=False))
    rest = ~simple & c.is_not_null()
    if rest.any():
        x = c.filter(rest)
        x = _apply(x, pl.col("s").str.replace_all(_MINUS, "-"))
        x = _apply(x, pl.col("s").str.replace(_CURRENCY_RX, "$1").str.replace(_UNIT_SUFFIX_RX, ""))
        x = _apply(x, pl.when(pl.col("s").str.contains(_THOUSANDS_RX))
                   .then(pl.col("s").str.replace_all(",", "")).otherwise(pl.col("s")))
        x = _apply(x, pl.when(pl.col("s").str.contains(_NUMBER_RX)).then(pl.col("s")).cast(pl.Float64, strict=False))
        num = _patch(num, rest, x)
    return num


def _mapping(values: dict[str, tuple[str, ...]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for canonical, synonyms in values.items():
        for syn in (canonical, *synonyms):
            out.setdefault(_enum_key(syn), canonical)
    return out


def enum_values(raw: pl.Series, enum: str) -> pl.Series:
    table = _mapping(sources.ENUMS[enum])

    def fn(u: pl.Series) -> pl.Series:
        key = _apply(clean_compact(u), pl.col("s").str.to_lowercase())
        return key.replace_strict(table, default=None, return_dtype=pl.String)

    return _by_unique(raw, fn, pl.String)


def bool_values(raw: pl.Series) -> pl.Series:
    table = {_enum_key(t): True for t in sources.BOOL_TRUE} | {_enum_key(t): False for t in sources.BOOL_FALSE}

    def fn(u: pl.Series) -> pl.Series:
        key = _apply(clean_compact(u), pl.col("s").str.to_lowercase())
        return key.replace_strict(table, default=None, return_dtype=pl.Boolean)

    return _by_unique(raw, fn, pl.Boolean)


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


def _personal_text(f: Field, text: str) -> str | None:
    """The cleaned text of one raw personal value, before hashing (a name: already masked)."""
    t = re.sub(_ZERO_WIDTH, "", unicodedata.normalize("NFKC", text)).strip()
    if not t:
        return None
    if f.personal == MASK:
        return privacy.mask_name(re.sub(r"\s+", " ", t))
    if f.name == "phone":
        t = re.sub(r"^(\d+)\.0+$", r"\1", re.sub(r"\s+", "", t))
        t = re.sub(r"\D", "", t)
        if len(t) == 13 and t.startswith("86"):  # +86 country prefix: the same phone as without it
            t = t[2:]
    else:
        t = re.sub(r"\s+", "", t).upper()
    return t or None


def personal_value(f: Field, text: str | None, key: bytes) -> str | None:
    """The pseudonymised form of one raw personal value (the same in its column and inside `_raw`):
    the definition, one value at a time, that _personal_series is tested against."""
    t = None if text is None else _personal_text(f, text)
    return t if t is None or f.personal == MASK else privacy.keyed_hash(t, key)


# Text made only of these characters is its own NFKC form, has no zero-width characters, and its
# only whitespace is the ASCII space, on which Python's re/str and polars' Rust regex agree: polars
# cleans it exactly as _personal_text would. Anything else (full-width forms, tabs, rare scripts)
# takes _personal_text itself.
_PERSONAL_FAST = r"^[\x20-\x7e\u00b7\u3001\u3400-\u4dbf\u4e00-\u9fff]*$"
_NAME_PART = r"[^、,，;；/\s]+"  # privacy.mask_name's separators


def _personal_expr(f: Field, e: pl.Expr) -> pl.Expr:
    """_personal_text as one polars expression, for text matching _PERSONAL_FAST."""
    t = e.str.strip_chars(" ")
    if f.personal == MASK:
        part = pl.element()
        masked = part.str.slice(0, 1) + pl.when(part.str.len_chars() > 1).then(
            part.str.slice(1).str.replace_all(".", "*")).otherwise(pl.lit("*"))
        t = t.str.extract_all(_NAME_PART).list.eval(masked).list.join("、")
        return pl.when(e.str.strip_chars(" ") != "").then(t)
    # Hashed values: an empty result is left as "", which hash_series makes null.
    t = t.str.replace_all(" ", "", literal=True)
    if f.name == "phone":  # (+86 prefix: 13 digits starting 86)
        return t.str.replace(r"^([0-9]+)\.0+$", "${1}").str.replace_all(r"[^0-9]", "").str.replace(
            r"^86([0-9]{11})$", "${1}")
    return t.str.to_uppercase()


def _clean_distinct(uniq: pl.Series, expr: pl.Expr, text_fn) -> pl.Series:
    """text_fn over distinct texts: `expr` (the same cleaning as a polars expression on pl.col('s'))
    where the text matches _PERSONAL_FAST, text_fn itself for the rest."""
    slow = ~uniq.str.contains(_PERSONAL_FAST)
    return _patch(_apply(uniq, expr), slow,
                  pl.Series([text_fn(v) for v in uniq.filter(slow).to_list()], dtype=pl.String))


def hash_series(values: pl.Series, key: bytes) -> pl.Series:
    """privacy.keyed_hash of a text column, each distinct value hashed once (empty → null)."""
    uniq = values.drop_nulls().unique()
    uniq = uniq.filter(uniq != "")
    return values.replace_strict(uniq, pl.Series(privacy.keyed_hashes(uniq.to_list(), key), dtype=pl.String),
                                 default=None, return_dtype=pl.String)


def _personal_series(f: Field, values: pl.Series, key: bytes,
                     memo: dict[str, pl.DataFrame] | None = None) -> pl.Series:
    """personal_value over a column: each distinct value once, cleaned by polars where that is
    exact (_PERSONAL_FAST), hashed in one pass (a province household register: 2.8 M values).
    `memo` keeps each field's raw → protected map, so `_raw` reuses what its column computed."""
    values = values.cast(pl.String)
    uniq = values.drop_nulls().unique()
    known = memo.get(f.name) if memo is not None else None
    if known is not None:
        uniq = uniq.filter(~uniq.is_in(known.get_column("raw")))
    cleaned = _clean_distinct(uniq, _personal_expr(f, pl.col("s")), lambda v: _personal_text(f, v))
    if f.personal != MASK:
        cleaned = hash_series(cleaned, key)
    mapping = pl.DataFrame({"raw": uniq, "out": cleaned})
    if known is not None:
        mapping = pl.concat([known, mapping])
    if memo is not None:
        memo[f.name] = mapping
    return values.replace_strict(mapping.get_column("raw"), mapping.get_column("out"), default=None,
                                 return_dtype=pl.String).alias(values.name)


_WITHHELD_LINE = json.dumps({"_line": "（整行无法解析，可能含个人信息，已隐去）/ (unparsable line withheld: may hold personal data)"},
                            ensure_ascii=False)


def _personal_captions() -> dict[str, str]:
    """header_key → 'name' / 'hash' for every caption any source's synonym table marks personal."""
    out: dict[str, str] = {}
    for src in sources.SOURCES.values():
        for f in src.fields:
            if f.personal:
                for h in f.headers:
                    out[sources.header_key(h)] = "name" if f.personal == MASK else "id"
    return out


_PERSONAL_CAPTIONS = _personal_captions()


def raw_protection(source: Source, sheet: SheetData) -> tuple[dict[str, Field], dict[str, str | None]]:
    """How each `_raw` key is protected: (mapped personal fields, unmapped key → class).

    An unmapped column is masked when its caption is personal in any source's synonym table or by
    its words (公民身份号码, 联系方式 …); in a file that carries any personal column, every other
    unmapped column is withheld too (class None): it is not loaded and may hold anything."""
    index = sources.header_index(source)
    keys = sheet.raw_keys or [h or f"_col{i + 1}" for i, h in enumerate(sheet.header)]
    mapped: dict[str, Field] = {}
    unmapped: dict[str, str | None] = {}
    for i, k in enumerate(keys):
        caption = sheet.header[i] if i < len(sheet.header) else None
        if sheet.mapped_keys is not None:  # an import profile says what each column is (SPEC §3.8)
            name = sheet.mapped_keys.get(k)
        else:
            name = index.get(sources.header_key(caption)) if caption else None
        if name is not None:
            if source.field(name).personal:
                mapped[k] = source.field(name)
            continue
        cls = _PERSONAL_CAPTIONS.get(sources.header_key(caption)) if caption else None
        unmapped[k] = cls or privacy.caption_class(caption)
    # (a record naming its household by its head is personal when it does: a mapped column)
    personal_file = bool(mapped) or any(unmapped.values()) or any(
        f.personal for f in source.fields if not (f.name == "head_name" and source.kind in sources.HEAD_NAME_KINDS))
    if not personal_file:
        unmapped = {k: c for k, c in unmapped.items() if c}
    return mapped, unmapped


def scrub_series(values: pl.Series) -> pl.Series:
    """privacy.scrub_text over a text column, in Python only for rows that could hold an id or phone."""
    cand = values.str.contains(privacy.CANDIDATE_PATTERN).fill_null(False)
    if not cand.any():
        return values
    return _patch(values, cand, pl.Series([privacy.scrub_text(v) for v in values.filter(cand).to_list()],
                                          dtype=pl.String))


def _raw_keys_of(source: Source, sheet: SheetData, field_name: str) -> list[str]:
    """The `_raw` keys of the columns mapped to one field."""
    index = sources.header_index(source)
    keys = sheet.raw_keys or [h or f"_col{i + 1}" for i, h in enumerate(sheet.header)]
    out = []
    for i, k in enumerate(keys):
        if sheet.mapped_keys is not None:
            name = sheet.mapped_keys.get(k)
        else:
            caption = sheet.header[i] if i < len(sheet.header) else None
            name = index.get(sources.header_key(caption)) if caption else None
        if name == field_name:
            out.append(k)
    return out


# polars' json_decode holds about 1.5 kB per row while it parses (a province household register:
# +1 GiB at once); decoded a slice at a time, the peak follows the slice, not the file.
_DECODE_ROWS = 100_000


def _decode_raw(raw: pl.Series, keys: list[str]) -> pl.DataFrame:
    """`_raw` JSON objects → one String column per key."""
    dtype = pl.Struct({k: pl.String for k in keys})
    return pl.concat([raw.slice(i, _DECODE_ROWS).str.json_decode(dtype).struct.unnest()
                      for i in range(0, raw.len(), _DECODE_ROWS)])


def _protect_raw(source: Source, sheet: SheetData, raw: pl.Series, key: bytes,
                 citizen: pl.Series | None = None, memo: dict[str, pl.DataFrame] | None = None) -> pl.Series:
    """`_raw` with personal data protected (SPEC §3.7, §3.8): mapped personal values hashed/masked
    as in their column, unmapped personal or possibly personal columns masked or withheld, a
    citizen's name as reporter masked in the rows `citizen` marks, and any value shaped like an id
    number or phone replaced, whatever its column."""
    keys = sheet.raw_keys or [h or f"_col{i + 1}" for i, h in enumerate(sheet.header)]
    mapped, unmapped = raw_protection(source, sheet)
    if raw.len() == 0:
        return raw
    reporter_keys = _raw_keys_of(source, sheet, "reporter") if citizen is not None and citizen.any() else []
    if mapped or unmapped or reporter_keys:
        is_line = raw.str.starts_with('{"_line"')
        decoded = _decode_raw(raw, keys)
        for k, f in mapped.items():
            decoded = decoded.with_columns(_personal_series(f, decoded.get_column(k), key, memo).alias(k))
        for k, cls in unmapped.items():
            col = decoded.get_column(k)
            decoded = decoded.with_columns(
                pl.Series(k, [privacy.mask_unknown(cls, v, key) for v in col.to_list()], dtype=pl.String))
        for k in reporter_keys:
            col = decoded.get_column(k)
            decoded = decoded.with_columns(pl.Series(k, [
                privacy.mask_name(re.sub(r"\s+", " ", unicodedata.normalize("NFKC", v)).strip()) if c and v else v
                for v, c in zip(col.to_list(), citizen.to_list(), strict=True)], dtype=pl.String))
        encoded = decoded.select(pl.struct(pl.all()).struct.json_encode().alias("_raw")).get_column("_raw")
        raw = pl.select(pl.when(is_line).then(pl.lit(_WITHHELD_LINE)).otherwise(encoded)).to_series()
    return scrub_series(raw.cast(pl.String)).alias("_raw")


# --- the sheet ------------------------------------------------------------------------------------


def _bad(raw: pl.Series, value: pl.Series, present: pl.Series) -> pl.Series:
    """The raw text where a non-empty value could not be read, else null."""
    return pl.DataFrame({"r": raw, "v": value, "p": present}).select(
        pl.when(pl.col("p").fill_null(False) & pl.col("v").is_null()).then(pl.col("r"))
    ).to_series().cast(pl.String)


def typed_field(f: Field, raw: pl.Series, key: bytes,
                memo: dict[str, pl.DataFrame] | None = None) -> tuple[pl.Series, pl.Series]:
    """(typed value, __bad text) for one field's raw text column (`memo`: see _personal_series)."""
    raw = raw.cast(pl.String)
    none = _constant(None, raw.len(), pl.String)
    if raw.null_count() == raw.len():  # a column the file does not have: nothing to parse
        return _constant(None, raw.len(), _DTYPES[f.type]), none
    if f.personal:
        return _personal_series(f, raw, key, memo), none
    if f.type == STR:
        if _is_code(f):
            return code_values(raw), none
        return _by_unique(raw, clean_trimmed, pl.String), none
    if f.type in (DATE, DATETIME):
        dt = _by_unique(raw, datetime_values, pl.Datetime("us"))
        if f.end_of_day:
            # No time written (no ':'/'时', not a fractional Excel serial) → 23:59:59 of that day.
            clean = clean_compact(raw)
            dated_only = ~clean.str.contains(r"[:时]|^\d+\.\d*[1-9]\d*$").fill_null(True)
            dt = pl.select(pl.when(dated_only).then(dt + pl.duration(seconds=86399)).otherwise(dt)).to_series()
        # Ancient dates (Excel's serial 0 and its phantom 1900-02-29 included) are errors, not history:
        # accepted, they would stretch the month range of every indicator across centuries.
        dt = _apply(dt, pl.when(pl.col("s") >= pl.lit(config.earliest_date())).then(pl.col("s")))
        value = dt.dt.date() if f.type == DATE else dt
        return value, _bad(raw, dt, present(raw))
    if f.type in (INT, FLOAT, POINTS):
        num = _by_unique(raw, number_values, pl.Float64)
        lo, hi = config.number_range(f.name)  # inf, nan and 1e308 fall outside too
        num = _apply(num, pl.when(pl.col("s").is_between(lo, hi)).then(pl.col("s")))
        if f.type == INT:
            num = _apply(num, pl.when(pl.col("s") == pl.col("s").floor()).then(pl.col("s")).cast(pl.Int64))
        return num, _bad(raw, num, present(raw))
    if f.type in (ENUM, BOOL):
        value = enum_values(raw, f.enum) if f.type == ENUM else bool_values(raw)
        bad = _bad(raw, value, present(raw))
        if f.enum == "key_type":
            # An ordinary household is written as empty or as 普通户: both mean "no key type".
            value = _apply(value, pl.when(pl.col("s") != "普通户").then(pl.col("s")))
        return value, bad
    if f.type == GEOMETRY:
        geo = geometry_text(raw)
        return geo, _bad(raw, geo, present(raw))
    raise ValueError(f"unknown field type {f.type!r}")


_DTYPES = {
    STR: pl.String, INT: pl.Int64, FLOAT: pl.Float64, POINTS: pl.Float64, DATE: pl.Date,
    DATETIME: pl.Datetime("us"), ENUM: pl.String, BOOL: pl.Boolean, GEOMETRY: pl.String,
}


def normalise(source: Source, sheet: SheetData, key: bytes) -> pl.DataFrame:
    """One row per data row: _sheet, _row, _export_time, _raw (personal data protected), then for
    every field `f` of the source: `f` (typed, cleaned, null when empty or unreadable) and `f__bad`;
    then `_carried` (|field|…| the sheet carries, when the reader says) and, where a head's name is
    given, `_head_key` (its keyed hash, for matching)."""
    return normalise_sheets(source, [sheet], key)[0]


def normalise_sheets(source: Source, sheets: list[SheetData], key: bytes) -> list[pl.DataFrame]:
    """normalise of each sheet, the fields of all of them typed in one pass: every step is per row,
    and a workbook of many small sheets (a dispute ledger: a sheet a month, ~50 rows each) paid
    ~0.1 s of polars calls per sheet whatever its size."""
    if not sheets:
        return []
    names = [f.name for f in source.fields]
    parts = [s.rows.select([c for c in names if c in s.rows.columns]) for s in sheets]
    memo: dict[str, pl.DataFrame] = {}
    typed, citizen = _typed_columns(source, pl.concat(parts, how="diagonal_relaxed"), key, memo)
    out, offset = [], 0
    for sheet in sheets:  # (slices are views, not copies)
        n = sheet.rows.height
        mine = {k: v.slice(offset, n) for k, v in typed.items()}
        out.append(_sheet_frame(source, sheet, mine, None if citizen is None else citizen.slice(offset, n), key, memo))
        offset += n
    return out


def _typed_columns(source: Source, rows: pl.DataFrame, key: bytes,
                   memo: dict[str, pl.DataFrame]) -> tuple[dict[str, pl.Series], pl.Series | None]:
    """Every field typed (`f`, `f__bad`), a citizen reporter masked; and which rows' reporter is one."""
    n = rows.height
    typed: dict[str, pl.Series] = {}
    for f in source.fields:
        raw = rows.get_column(f.name) if f.name in rows.columns else _constant(None, n, pl.String)
        value, bad = typed_field(f, raw, key, memo)
        typed[f.name] = value.cast(_DTYPES[f.type]).alias(f.name)
        # The unreadable text is quoted in reason_detail: an id or phone in the wrong column is scrubbed.
        typed[f.name + "__bad"] = scrub_series(bad.cast(pl.String)).alias(f.name + "__bad")
    citizen = citizen_reporters(source, typed)
    if citizen is not None:
        typed["reporter"] = _patch(typed["reporter"], citizen,
                                   pl.Series([privacy.mask_name(v) for v in typed["reporter"].filter(citizen)],
                                             dtype=pl.String))
    return typed, citizen


def _sheet_frame(source: Source, sheet: SheetData, typed: dict[str, pl.Series], citizen: pl.Series | None,
                 key: bytes, memo: dict[str, pl.DataFrame]) -> pl.DataFrame:
    """normalise's frame for one sheet around its typed fields: the sheet's own columns and `_raw`."""
    rows = sheet.rows
    n = rows.height
    cols: list[pl.Series] = [
        _constant(sheet.name, n, pl.String).alias("_sheet"),
        rows.get_column("_row").cast(pl.Int64),
        _constant(sheet.export_time, n, pl.Datetime("us")).alias("_export_time"),
        _protect_raw(source, sheet, rows.get_column("_raw"), key, citizen, memo).alias("_raw"),
        *typed.values(),
    ]
    # Import profiles (SPEC §3.8): `_rows` = input rows a row stands for (persons grouped into one
    # household); `_entry_unknown` = the format carries no entry time (not MISSING_REQUIRED, and out
    # of entry_timeliness_rate). Only present when a profile makes them so.
    if "_rows" in rows.columns:
        cols.append(rows.get_column("_rows").cast(pl.Int64))
    if "_part" in rows.columns:  # the part of a split input row (ROW_KEY), 0 = the row whole
        cols.append(rows.get_column("_part").cast(pl.Int32))
    if sheet.entry_unknown:
        cols.append(_constant(True, n, pl.Boolean).alias("_entry_unknown"))
    if "head_name" in rows.columns:
        cols.append(_head_keys(rows.get_column("head_name"), key))
    have = carried_fields(source, sheet)
    if have is not None:
        cols.append(_constant("|" + "|".join(have) + "|", n, pl.String).alias("_carried"))
    return pl.DataFrame(cols)


def _head_keys(raw: pl.Series, key: bytes) -> pl.Series:
    """`_head_key`: the keyed hash of a head's name (privacy.name_key), what a row naming its
    household by its head is matched on against the registry's."""
    values = raw.cast(pl.String)
    uniq = values.drop_nulls().unique()
    cleaned = _clean_distinct(uniq, pl.col("s").str.replace_all(" ", "", literal=True), privacy.name_key_text)
    return values.replace_strict(uniq, hash_series(cleaned, key), default=None,
                                 return_dtype=pl.String).alias("_head_key")


def carried_fields(source: Source, sheet: SheetData) -> list[str] | None:
    """The fields this sheet carries (a column, or a profile's derivation), in field order; None when
    the reader does not say (every field then counts as carried). A field a file does not carry keeps,
    in the core tables, the value of the latest export that carried it (absent ≠ empty)."""
    if sheet.mapped_keys is None:
        return None
    from pipelines import profiles

    prof = profiles.by_name(sheet.profile)
    if prof is None:
        return None
    have = profiles.carried(prof, set(sheet.mapped_keys.values()))
    return [f.name for f in source.fields if f.name in have]


# Events whose source is a grid worker's patrol name that worker (public, SPEC §3.7, §6.1); any
# other reporter is a citizen (or a hotline caller) and is masked like any personal name.
GRID_WORKER_SOURCE = "网格员巡查"


def citizen_reporters(source: Source, typed: dict[str, pl.Series]) -> pl.Series | None:
    """Rows whose reporter is a citizen: an event with a reporter and a source other than 网格员巡查
    (or none: who reported is then unknown, so the name is protected)."""
    if source.kind != "events" or "reporter" not in typed:
        return None
    rep, src = typed["reporter"], typed["source"]
    return (rep.is_not_null() & (src.is_null() | (src != GRID_WORKER_SOURCE))).fill_null(False)


def normalise_result(result, key: bytes) -> pl.DataFrame:
    """All sheets of one ReadResult, normalised and stacked (convenience for the loader)."""
    frames = normalise_sheets(result.source, result.sheets, key)
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
