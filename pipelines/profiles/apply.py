"""A profile applied to one sheet's raw text (SPEC §3.8): columns mapped, value maps, derived fields,
merged cells filled down and persons grouped into households. Text in, text out: normalisation
types the result as it types any export, so the same rules and reasons apply.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

import polars as pl

from pipelines.profiles import PART_TOKEN, Profile, caption_key


def merge_two_row_header(header: list[str], sub: list[str | None]) -> list[str]:
    """Group captions merged over sub-captions → one caption per column ("户籍地/省")."""
    out, group = [], ""
    for j, top in enumerate(header):
        top = top or ""
        s = sub[j] if j < len(sub) and sub[j] is not None and str(sub[j]).strip() else None
        if top.strip():
            group = top.strip()
        elif s is None:
            group = ""
        out.append(f"{group}/{str(s).strip()}" if s is not None and group else (str(s).strip() if s else top))
    return out


def is_subcaption_row(header: list[str], row: list[str | None]) -> bool:
    """The row under a two-row header: cells only under blank header cells or group captions, and at
    least one under a blank header cell (the merged group's other columns)."""
    cells = [(j, c) for j, c in enumerate(row) if c is not None and str(c).strip()]
    if not cells:
        return False
    blank = [not (header[j] if j < len(header) else "").strip() for j in range(len(row))]
    under_blank = False
    for j, _ in cells:
        if j < len(blank) and blank[j]:
            under_blank = True
            continue
        nxt = j + 1 < len(blank) and blank[j + 1]
        if not nxt:
            return False
    return under_blank


def column_map(profile: Profile, header: list[str]) -> dict[str, int]:
    """Canonical field → index of the first header cell the profile maps to it."""
    out: dict[str, int] = {}
    for i, cell in enumerate(header):
        name = profile.captions.get(caption_key(cell)) if cell else None
        if name is not None and name not in out:
            out[name] = i
    return out


def _key_expr(e: pl.Expr) -> pl.Expr:
    return e.str.normalize("NFKC").str.replace_all(r"\s+", "").str.to_lowercase()


def title_value(titles: list[list[str | None]], label: str) -> str | None:
    """The value beside `label` in the lines above the header: the nearest non-empty cell before it
    ("清河镇 | 乡镇/街道*"), or the text after "label：" in the same cell ("填报单位：清河镇")."""
    want = caption_key(label).rstrip(":：")
    for cells in titles:
        cells = [str(c) if c is not None else "" for c in cells]
        for j, c in enumerate(cells):
            k = caption_key(c).replace("：", ":")
            if k.rstrip(":") == want:
                for prev in reversed(cells[:j]):
                    if prev.strip() and caption_key(prev).rstrip(":") not in ("", want):
                        return prev.strip()
            m = re.match(r"^\s*" + re.escape(label.rstrip(":：")) + r"\s*[:：]\s*(\S.*)$",
                         unicodedata.normalize("NFKC", c))
            if m:
                return m.group(1).strip()
    return None


def stable_hash(values: list[str | None]) -> str | None:
    """A record id from named columns: the same record exported again gets the same id (SPEC §3.8)."""
    parts = [re.sub(r"\s+", "", unicodedata.normalize("NFKC", v)) if v else "" for v in values]
    if not any(parts):
        return None
    return "H" + hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:15].upper()


def apply(profile: Profile, header: list[str], data: pl.DataFrame, titles: list[list[str | None]]) -> pl.DataFrame:
    """`data` (cells c0…, `_row`, `_raw`) → one column of raw text per field of the source, `_row`,
    `_raw`, and `_rows` (input rows each output row stands for) when persons are grouped, `_part`
    (the part of its input row, 0 = the row whole) when a column is split."""
    src = profile.source
    cmap = column_map(profile, header)
    caption_col = {}
    for i, cell in enumerate(header):
        caption_col.setdefault(caption_key(cell), f"c{i}")
    frame = data.with_columns([pl.col(f"c{i}").alias(f"f:{name}") for name, i in cmap.items()])
    if profile.fill_down:
        frame = frame.with_columns([pl.col(f"f:{n}").forward_fill() for n in profile.fill_down if n in cmap])
    if profile.split:
        frame = _split(profile.split, frame, caption_col)
    for fname, table in profile.values.items():
        if fname not in cmap:
            continue
        col = f"f:{fname}"
        known = {k: v for k, v in table.items()}
        frame = frame.with_columns(
            pl.when(_key_expr(pl.col(col)).is_in(list(known)))
            .then(_key_expr(pl.col(col)).replace_strict(known, default=None, return_dtype=pl.String))
            .otherwise(pl.col(col)).alias(col))

    def ref(name: str) -> pl.Expr:
        if name == PART_TOKEN and "_part_label" in frame.columns:
            return pl.col("_part_label")
        if f"f:{name}" in frame.columns:
            return pl.col(f"f:{name}")
        col = caption_col.get(caption_key(name))
        if col is None:
            return pl.lit(None, dtype=pl.String)
        return pl.col(col)

    for fname, d in profile.derive.items():
        how, out = d["how"], f"f:{fname}"
        if how == "const":
            expr = pl.lit(d["const"], dtype=pl.String)
        elif how == "copy":
            expr = ref(d["copy"])
        elif how == "title":
            expr = pl.lit(title_value(titles, d["title"]), dtype=pl.String)
        elif how == "hash":
            cols = [ref(c).alias(f"h{j}") for j, c in enumerate(d["hash"])]
            parts = frame.select(cols)
            frame = frame.with_columns(pl.Series(out, [stable_hash(list(r)) for r in parts.rows()], dtype=pl.String))
            continue
        elif how == "extract":
            groups = re.compile(d["extract"]).groups
            text = ref(d["from"]).str.strip_chars()  # as written: a pattern may name full-width （）
            expr = pl.coalesce([text.str.extract(d["extract"], g) for g in range(1, groups + 1)])
        elif how == "cases":
            text = ref(d["from"]).str.strip_chars()
            expr = pl.lit(d.get("default"), dtype=pl.String)
            for rx, value in reversed(d["cases"]):
                expr = pl.when(text.str.contains(rx)).then(pl.lit(value)).otherwise(expr)
        elif how == "sign":
            base = ref(fname).str.normalize("NFKC").str.strip_chars().str.replace(r"^[+\-−]", "")
            neg = _key_expr(ref(d["sign"])).is_in(d.get("negative") or ["扣分"])
            expr = pl.when(base.is_null()).then(None).when(neg).then(pl.lit("-") + base).otherwise(base)
        elif how == "deadline":
            frame = frame.with_columns(_deadline(frame, ref, d).alias(out))
            continue
        else:  # pragma: no cover - the loader rejects unknown derivations
            raise ValueError(how)
        frame = frame.with_columns(expr.cast(pl.String).alias(out))

    if profile.group:
        frame = _group(profile, frame, caption_col)
    exprs = [pl.col(f"f:{f.name}").alias(f.name) if f"f:{f.name}" in frame.columns
             else pl.lit(None, dtype=pl.String).alias(f.name) for f in src.fields]
    extra = [c for c in ("_rows", "_part") if c in frame.columns]
    return frame.select(*exprs, pl.col("_row"), pl.col("_raw"), *extra)


def _deadline(frame: pl.DataFrame, ref, d: dict) -> pl.Series:
    """Another time plus days (per category): a date, meaning the end of that day."""
    from pipelines.normalise import datetime_values

    base = datetime_values(frame.select(ref(d["deadline"]).alias("s")).to_series().cast(pl.String))
    days = d["days"]
    if isinstance(days, dict):
        cat = frame.select(_key_expr(ref(d.get("by") or "category")).alias("k")).to_series()
        default = d.get("default")
        n = cat.replace_strict({k: float(v) for k, v in days.items()}, default=default, return_dtype=pl.Float64)
    else:
        n = pl.repeat(float(days), frame.height, dtype=pl.Float64, eager=True)
    out = pl.DataFrame({"b": base, "n": n}).select(
        (pl.col("b") + pl.duration(seconds=(pl.col("n") * 86400).cast(pl.Int64))).dt.strftime("%Y-%m-%d")
    ).to_series()
    return out


def _split(split: dict, frame: pl.DataFrame, caption_col: dict[str, str]) -> pl.DataFrame:
    """One row naming several records in a free-text cell ("12号杨红霞、18号张光荣") → one row per
    part, numbered 1…n in `_part` (the row key's sub-row), the part's value (its label cut off) in
    the field it feeds and the part's text in the column itself. `_part_label` (label#k, k-th part
    with that label) is what a derived id names as `_part`: a re-export of the same row gives the
    same labels. A row whose cell is empty stays one row, `_part` 0."""
    col = caption_col.get(split["column"])
    out = f"f:{split['into']}"
    if col is None:
        return frame.with_columns(pl.lit(0, dtype=pl.Int32).alias("_part"),
                                  pl.lit(None, dtype=pl.String).alias("_part_label"))
    text = pl.col(col).str.normalize("NFKC")
    if split["label"]:  # "12号 杨红霞": a space after the label does not separate parts
        text = text.str.replace_all(f"((?:{split['label']}))\\s+", "${1}")
    parts = (text.str.replace_all(split["separator"], "\x1f").str.split("\x1f")
             .list.eval(pl.element().str.strip_chars().filter(pl.element().str.strip_chars() != "")))
    # no part (an empty cell): one null part, so that the row stays, whole
    parts = pl.when(parts.list.len() > 0).then(parts)
    frame = frame.with_columns(pl.int_range(pl.len()).alias("_srow"), parts.alias("_p")).explode("_p")
    label = (pl.col("_p").str.extract(f"^((?:{split['label']}))", 1).str.strip_chars()
             if split["label"] else pl.lit(None, dtype=pl.String))
    value = (pl.col("_p").str.replace(f"^(?:{split['label']})", "") if split["label"] else pl.col("_p")).str.strip_chars()
    frame = frame.with_columns(label.fill_null("").alias("_lab"), value.alias("_v"))
    whole = pl.col("_p").is_null()
    nth = pl.int_range(pl.len()).over("_srow") + 1
    nth_label = pl.int_range(pl.len()).over(["_srow", "_lab"]) + 1
    return frame.with_columns(
        pl.when(whole).then(0).otherwise(nth).cast(pl.Int32).alias("_part"),
        pl.when(whole).then(None).otherwise(pl.col("_lab") + "#" + nth_label.cast(pl.String)).alias("_part_label"),
        pl.when(whole).then(pl.col(col)).otherwise(pl.col("_p")).alias(col),
        pl.when(whole).then(None).when(pl.col("_v") == "").then(None).otherwise(pl.col("_v")).alias(out),
    ).drop("_srow", "_p", "_lab", "_v")


def _group(profile: Profile, frame: pl.DataFrame, caption_col: dict[str, str]) -> pl.DataFrame:
    """One row per person → one row per household: the head's values (其余成员的个人信息不载入),
    the count of rows as the household size, the head's row number and raw row; `_rows` = persons."""
    g = profile.group
    by = f"f:{g['by']}"
    key = pl.col(by).str.normalize("NFKC").str.replace_all(r"\s+", "").str.replace(r"\.0+$", "")
    frame = frame.with_columns(key.alias("_gkey"), pl.int_range(pl.len()).alias("_order"))
    head = g.get("head")
    if head and head["column"] in caption_col:
        is_head = _key_expr(pl.col(caption_col[head["column"]])) == head["value"]
    else:
        is_head = pl.lit(False)
    frame = frame.with_columns(is_head.fill_null(False).alias("_is_head"))
    single = frame.filter(pl.col("_gkey").is_null()).with_columns(pl.lit(1, dtype=pl.Int64).alias("_rows"))
    grouped = frame.filter(pl.col("_gkey").is_not_null()).sort(["_gkey", "_is_head", "_order"],
                                                               descending=[False, True, False])
    fcols = [c for c in frame.columns if c.startswith("f:")]
    personal = {f"f:{f.name}" for f in profile.source.fields if f.personal}
    aggs = [(pl.col(c).first() if c in personal else pl.col(c).drop_nulls().first()).alias(c) for c in fcols]
    out = grouped.group_by("_gkey", maintain_order=True).agg(
        *aggs, pl.col("_row").first(), pl.col("_raw").first(), pl.len().cast(pl.Int64).alias("_rows"),
        pl.col("_order").min())
    if g.get("count"):
        out = out.with_columns(pl.col("_rows").cast(pl.String).alias(f"f:{g['count']}"))
        if f"f:{g['count']}" not in fcols:
            fcols.append(f"f:{g['count']}")
    cols = fcols + ["_row", "_raw", "_rows", "_order"]
    for c in cols:
        if c not in single.columns:
            single = single.with_columns(pl.lit(None, dtype=pl.String).alias(c))
    both = pl.concat([out.select(cols), single.select(cols).cast(out.select(cols).schema)], how="vertical")
    return both.sort("_order").drop("_order")
