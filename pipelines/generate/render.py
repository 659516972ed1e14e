"""Turning typed values into the text real exports contain (SPEC §3.5), vectorised with polars.

Each file gets a `Style`: its main date format, how often cells deviate (other date formats,
full-width digits, stray or non-breaking spaces, enum synonyms), and for workbooks whether dates are
text, date cells or bare Excel serial numbers. Every deviation here still normalises to the same value:
the rendering is lossless, dirt is added elsewhere (dirt.py).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

import numpy as np
import polars as pl

from pipelines.sources import BOOL_FALSE, BOOL_TRUE, ENUMS, Source, detect_source

DATETIME_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y/%-m/%-d %H:%M",
    "%Y.%-m.%-d %H:%M",
    "%Y年%-m月%-d日 %H:%M",
    "%Y%m%d %H:%M:%S",
    "%Y/%m/%d %-H:%M:%S",
)
DATE_FORMATS = (
    "%Y-%m-%d",
    "%Y/%-m/%-d",
    "%Y.%-m.%-d",
    "%Y年%-m月%-d日",
    "%Y%m%d",
    "%Y-%m-%d 00:00:00",
    "%Y/%-m/%-d 0:00",
)
# Names of the formats for the manifest (what a reader must understand).
FORMAT_NAMES = {
    "%Y-%m-%d %H:%M:%S": "2025-06-03 14:05:00", "%Y-%m-%d %H:%M": "2025-06-03 14:05",
    "%Y/%-m/%-d %H:%M": "2025/6/3 14:05", "%Y.%-m.%-d %H:%M": "2025.6.3 14:05",
    "%Y年%-m月%-d日 %H:%M": "2025年6月3日 14:05", "%Y%m%d %H:%M:%S": "20250603 14:05:00",
    "%Y/%m/%d %-H:%M:%S": "2025/06/03 9:05:00", "%Y-%m-%d": "2025-06-03", "%Y/%-m/%-d": "2025/6/3",
    "%Y.%-m.%-d": "2025.6.3", "%Y年%-m月%-d日": "2025年6月3日", "%Y%m%d": "20250603",
    "%Y-%m-%d 00:00:00": "2025-06-03 00:00:00", "%Y/%-m/%-d 0:00": "2025/6/3 0:00",
}
# Workbook date cells: the writer turns these canonical texts into typed cells.
ISO_DT = "%Y-%m-%d %H:%M:%S"
ISO_D = "%Y-%m-%d"
FULLWIDTH_DIGITS = [chr(0xFF10 + i) for i in range(10)]
DIGITS = [str(i) for i in range(10)]
SPACES = (" ", "\u00a0", "\u3000", "  ")


@dataclass
class Style:
    """How one file (or sheet) writes its values."""

    fmt: str  # "csv" | "xlsx" | "jsonl"
    dt_format: int
    d_format: int
    xlsx_dates: str = "text"  # "text" | "cell" (date-formatted cells) | "serial" (bare numbers)
    deviate: float = 0.03  # share of date cells in another format
    fullwidth: float = 0.01
    spaces: float = 0.015
    synonyms: float = 0.12

    def used(self) -> dict:
        return {"datetime_format": FORMAT_NAMES[DATETIME_FORMATS[self.dt_format]],
                "date_format": FORMAT_NAMES[DATE_FORMATS[self.d_format]], "xlsx_dates": self.xlsx_dates}


def pick_style(rng: np.random.Generator, fmt: str) -> Style:
    return Style(
        fmt=fmt,
        dt_format=int(rng.integers(len(DATETIME_FORMATS))),
        d_format=int(rng.integers(len(DATE_FORMATS))),
        xlsx_dates=str(rng.choice(["text", "cell", "serial"])) if fmt == "xlsx" else "text",
    )


_FW = str.maketrans(dict(zip(DIGITS + ["-", "+", ":", "/", "."],
                             FULLWIDTH_DIGITS + ["－", "＋", "：", "／", "．"], strict=True)))


def _patch(s: pl.Series, mask: np.ndarray, fn) -> pl.Series:
    """Apply fn to the few cells under mask (a small share: cheaper in Python than on the whole column)."""
    idx = np.flatnonzero(mask)
    if len(idx) == 0:
        return s
    vals = s.gather(idx).to_list()
    new = [None if v is None else fn(v, k) for k, v in enumerate(vals)]
    return s.scatter(idx, pl.Series(new, dtype=pl.Utf8))


def _fullwidth(s: pl.Series, mask: np.ndarray) -> pl.Series:
    return _patch(s, mask, lambda v, _k: v.translate(_FW)).alias(s.name)


def _choose(s_list: list[pl.Series], choice: np.ndarray) -> pl.Series:
    expr = pl.when(pl.lit(pl.Series(choice == 0))).then(s_list[0])
    for k in range(1, len(s_list)):
        expr = expr.when(pl.lit(pl.Series(choice == k))).then(s_list[k])
    return pl.select(expr.otherwise(s_list[0])).to_series()


def datetimes(s: pl.Series, rng: np.random.Generator, st: Style, date_only: bool = False) -> pl.Series:
    """Render a Datetime series; nulls stay null."""
    n = len(s)
    formats = DATE_FORMATS if date_only else DATETIME_FORMATS
    main = st.d_format if date_only else st.dt_format
    if st.fmt == "xlsx" and st.xlsx_dates != "text":
        # Typed workbook cells; a few rows are still typed by hand as text, as in real sheets.
        main_s = s.dt.strftime(ISO_D if date_only else ISO_DT)
        alt = s.dt.strftime(formats[main])
        pick = rng.random(n) < st.deviate
        return pl.select(pl.when(pl.lit(pl.Series(pick))).then(alt).otherwise(main_s)).to_series().alias(s.name)
    choice = np.where(rng.random(n) < st.deviate, rng.integers(0, len(formats), n), main)
    used = sorted(set(choice.tolist()))
    rendered = [s.dt.strftime(formats[k]) if k in used else s.dt.strftime(formats[main]) for k in range(len(formats))]
    out = _choose(rendered, choice)
    out = _fullwidth(out, rng.random(n) < st.fullwidth)
    if not date_only:
        nb = rng.random(n) < st.spaces / 2  # NBSP between date and time
        out = _patch(out, nb, lambda v, _k: v.replace(" ", "\u00a0", 1))
    return out.alias(s.name)


def spaces(s: pl.Series, rng: np.random.Generator, share: float) -> pl.Series:
    """Stray leading/trailing spaces, NBSP and ideographic spaces on a few cells."""
    n = len(s)
    m = rng.random(n) < share
    k = int(m.sum())
    sp = rng.choice(np.array(SPACES), k).tolist()
    lead = (rng.random(k) < 0.5).tolist()
    return _patch(s, m, lambda v, i: v if v == "" else (sp[i] + v if lead[i] else v + sp[i])).alias(s.name)


def enum(s: pl.Series, rng: np.random.Generator, enum_key: str, share: float) -> pl.Series:
    """Canonical enum values, a share replaced by a random synonym of the same value."""
    n = len(s)
    m = rng.random(n) < share
    if not m.any():
        return s
    vals = s.to_numpy().astype(object)
    for canon, syns in ENUMS[enum_key].items():
        alts = [x for x in syns if x != canon]
        idx = np.flatnonzero(m & (vals == canon))
        if alts and len(idx):
            vals[idx] = rng.choice(np.array(alts, dtype=object), len(idx))
    return pl.Series(s.name, vals.tolist(), dtype=pl.Utf8)


def bools(b: np.ndarray, rng: np.random.Generator, share: float, name: str) -> pl.Series:
    """是/否 mostly; a share written as Y/N, √/×, 1/0."""
    true_alts = np.array([x.upper() if x in ("y",) else x for x in BOOL_TRUE if x in ("y", "√", "1", "有")])
    false_alts = np.array([x.upper() if x in ("n",) else x for x in BOOL_FALSE if x in ("n", "×", "0", "无")])
    out = np.where(b, "是", "否").astype(object)
    m = rng.random(len(b)) < share
    out[m & b] = rng.choice(true_alts, int((m & b).sum()))
    out[m & ~b] = rng.choice(false_alts, int((m & ~b).sum()))
    return pl.Series(name, out.tolist(), dtype=pl.Utf8)


def ints(v: np.ndarray, rng: np.random.Generator, st: Style, name: str) -> pl.Series:
    s = pl.Series(name, v).cast(pl.Utf8)
    return _fullwidth(s, rng.random(len(v)) < st.fullwidth).alias(name)


def points(v: np.ndarray, rng: np.random.Generator, st: Style, name: str) -> pl.Series:
    """Signed points as platforms print them: "+5", "5", "5分", "-2", "-2分" (and full-width)."""
    n = len(v)
    s = pl.Series(name, v).cast(pl.Utf8)
    plus = pl.select(pl.when(pl.lit(pl.Series(v > 0))).then(pl.lit("+") + s).otherwise(s)).to_series()
    fen = s + "分"
    form = rng.choice(3, n, p=[0.55, 0.3, 0.15])
    out = _choose([plus, s, fen], form)
    return _fullwidth(out, rng.random(n) < st.fullwidth).alias(name)


def codes(s: pl.Series, rng: np.random.Generator, st: Style) -> pl.Series:
    """Ids and codes: rare full-width digits, stray spaces."""
    out = _fullwidth(s, rng.random(len(s)) < st.fullwidth / 4)
    return spaces(out, rng, st.spaces)


def headers(src: Source, fields: list[str], rng: np.random.Generator, synonym_share: float = 0.25) -> list[str]:
    """Header texts: mostly the SPEC header, sometimes a synonym, sometimes with full-width brackets."""
    out = []
    for f in fields:
        fld = src.field(f)
        h = fld.header
        if len(fld.headers) > 1 and rng.random() < synonym_share:
            h = fld.headers[int(rng.integers(1, len(fld.headers)))]
        if "(" in h and rng.random() < 0.5:
            h = h.replace("(", "（").replace(")", "）")
        out.append(h)
    found = detect_source(out)
    if found is None or found.kind != src.kind:  # a synonym must never make the file look like another source
        return [src.field(f).header for f in fields]
    return out


def norm_text(x: str) -> str:
    return "".join(ch for ch in unicodedata.normalize("NFKC", x) if not ch.isspace()).lower()


def is_enum_value(enum_key: str, value: str) -> bool:
    v = norm_text(value)
    return any(norm_text(s) == v for syns in ENUMS[enum_key].values() for s in syns)

