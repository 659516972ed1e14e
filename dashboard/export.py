"""Every table downloads as XLSX (Chinese headers, typed cells) and CSV (UTF-8 with BOM, so Excel
opens it) — SPEC §7. One helper for every page: ``download_buttons(df, "name")`` under a table.

The frame passed is the one shown (headers already in the user's language). Numbers stay numbers,
dates and times stay Excel dates (not text), booleans become 是/否 (yes/no), missing values empty cells.
"""

from __future__ import annotations

import io
import re
from datetime import date, datetime

import numpy as np
import pandas as pd

from pipelines import formats

_SHEET_BAD = re.compile(r"[\[\]:*?/\\]")


def _width(text: str) -> int:
    """Display width with a Chinese character counted as two (xlsxwriter's autofit undercounts)."""
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in str(text))


_missing = formats.missing  # the one rule for None/NaN/NaT/NA (pipelines/formats.py)


def _prepared(df: pd.DataFrame, lang: str = "zh") -> pd.DataFrame:
    yes, no = ("是", "否") if lang == "zh" else ("yes", "no")
    out = df.copy()
    out.columns = [str(c) for c in out.columns]
    for c in out.columns:
        s = out[c]
        if pd.api.types.is_bool_dtype(s) or (s.dtype == object and s.dropna().map(type).eq(bool).all()
                                             and s.notna().any()):
            out[c] = s.map(lambda v: None if v is None or v != v else (yes if v else no))
        elif isinstance(s.dtype, pd.DatetimeTZDtype):
            out[c] = s.dt.tz_localize(None)
    return out


def to_csv(df: pd.DataFrame, lang: str = "zh") -> bytes:
    """CSV in UTF-8 with a byte-order mark: Excel on Chinese Windows then reads it as UTF-8."""
    return _prepared(df, lang).to_csv(index=False).encode("utf-8-sig")


def to_xlsx(df: pd.DataFrame, sheet: str = "数据", lang: str = "zh") -> bytes:
    """One sheet, header row frozen and bold, typed cells (numbers, dates, datetimes), columns
    sized for Chinese text."""
    import xlsxwriter

    data = _prepared(df, lang)
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True, "remove_timezone": True})
    ws = wb.add_worksheet(_SHEET_BAD.sub("_", sheet)[:31] or "数据")
    head = wb.add_format({"bold": True, "bg_color": "#EEEEEE", "border": 1})
    fmt_dt = wb.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    fmt_d = wb.add_format({"num_format": "yyyy-mm-dd"})
    widths = [_width(c) for c in data.columns]
    # a datetime column whose times are all midnight holds dates (DuckDB DATE arrives as datetime64)
    date_only = [pd.api.types.is_datetime64_any_dtype(data[c])
                 and bool((data[c].dropna() == data[c].dropna().dt.normalize()).all()) for c in data.columns]
    for j, c in enumerate(data.columns):
        ws.write_string(0, j, c, head)
    for i, row in enumerate(data.itertuples(index=False), start=1):
        for j, v in enumerate(row):
            if _missing(v):
                continue
            if isinstance(v, datetime):  # pd.Timestamp too
                ws.write_datetime(i, j, pd.Timestamp(v).to_pydatetime(), fmt_d if date_only[j] else fmt_dt)
                text = "0000-00-00" if date_only[j] else "0000-00-00 00:00"
            elif isinstance(v, date):
                ws.write_datetime(i, j, datetime(v.year, v.month, v.day), fmt_d)
                text = "0000-00-00"
            elif isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_)):
                ws.write_number(i, j, float(v))
                text = f"{v}"
            else:
                text = str(v)
                ws.write_string(i, j, text)
            if i <= 500:
                widths[j] = max(widths[j], _width(text))
    for j, w in enumerate(widths):
        ws.set_column(j, j, min(max(w + 2, 6), 60))
    ws.freeze_panes(1, 0)
    if len(data):
        ws.autofilter(0, 0, len(data), max(len(data.columns) - 1, 0))
    wb.close()
    return buf.getvalue()


def download_buttons(df, name: str, key: str | None = None) -> None:
    """XLSX and CSV download buttons for a shown table (file name: ``name``.xlsx / .csv); ``df`` is the
    frame, or a function returning it (built when a button is clicked)."""
    import streamlit as st

    from dashboard.auth import served
    from dashboard.i18n import lang, t

    lg = lang()
    key = key or name
    frame = df if callable(df) else (lambda: df)
    xlsx, csv = (lambda: to_xlsx(frame(), name, lg)), (lambda: to_csv(frame(), lg))
    if not served():  # AppTest has no server to defer to: build the files now
        xlsx, csv = xlsx(), csv()
    # Served, the files are built when clicked, not on every run of every page: cell-by-cell XLSX
    # writing holds the GIL and was the costliest part of the cases page under load (#19 item 8).
    # A row of buttons each as wide as its label: in fixed columns "Download XLSX" was cut to "Download X…".
    row = st.container(horizontal=True, gap="small")
    row.download_button(t("download_xlsx"), xlsx, file_name=f"{name}.xlsx",
                        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        key=f"dl_xlsx_{key}", on_click="ignore")
    row.download_button(t("download_csv"), csv, file_name=f"{name}.csv", mime="text/csv",
                        key=f"dl_csv_{key}", on_click="ignore")


def display_frame(df: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """The named columns of a gateway frame, headed in the user's language (i18n COLUMNS), booleans
    as ✓ / blank: the frame both shown and downloaded."""
    from dashboard.i18n import relabel

    out = df[[c for c in columns if c in df.columns]].copy()
    for c in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[c]):
            v = out[c].dropna()
            if len(v) and (v == v.dt.normalize()).all():  # DuckDB DATE arrives as midnight datetimes
                out[c] = out[c].dt.date
        elif pd.api.types.is_bool_dtype(out[c]):
            out[c] = out[c].map(lambda v: "✓" if v is True or v == 1 else "")
    return relabel(out)


def _to_minute(df: pd.DataFrame) -> pd.DataFrame:
    """Date-times as "2025-06-03 10:12" text (seconds cut: 3 of them made a list scroll sideways)."""
    out = df.copy()
    for c in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[c]):
            out[c] = out[c].map(lambda v: None if _missing(v) else v.strftime("%Y-%m-%d %H:%M"))
    return out


def table(df: pd.DataFrame, columns: list[str], name: str, key: str | None = None,
          screen: list[str] | None = None, full=None, **kw) -> pd.DataFrame:
    """Show a gateway frame (chosen columns, translated headers) with its XLSX/CSV downloads.

    ``screen``: the columns shown on the page when ``columns`` is too wide for a 1440 px window
    (#14 defect 8), date-times to the minute; the downloads keep every column of ``columns``, typed.
    ``full``: when ``df`` is the first rows of a longer list, a function returning the whole list: the
    downloads hold it all, fetched only when a button is clicked."""
    import streamlit as st

    from dashboard.i18n import dash_missing

    shown = display_frame(df, columns)
    on_screen = shown if screen is None else _to_minute(display_frame(df, screen))
    # On screen an empty cell is "—" with its reason on hover (never "None"); downloads keep it empty.
    view, config = dash_missing(on_screen)
    st.dataframe(view, hide_index=True, width="stretch", column_config=config | kw.pop("column_config", {}), **kw)
    download_buttons(shown if full is None else (lambda: display_frame(full(), columns)), name, key)
    return shown


def show(shown: pd.DataFrame, name: str, key: str | None = None, reasons: dict[str, str] | None = None,
         download: pd.DataFrame | None = None, **kw) -> pd.DataFrame:
    """Show a frame already headed in the user's language, with its XLSX/CSV downloads.

    ``download`` is the typed frame behind a shown one whose cells were formatted as text (e.g.
    "85.0%"); by default the shown frame itself is downloaded. On screen a missing cell is "—" with
    ``reasons[column]`` on hover; in the downloads it stays empty."""
    import streamlit as st

    from dashboard.i18n import dash_missing

    view, config = dash_missing(shown, reasons)
    st.dataframe(view, hide_index=True, width="stretch", column_config=config | kw.pop("column_config", {}), **kw)
    download_buttons(shown if download is None else download, name, key)
    return shown


def rows_height(n: int, cap: int | None = None) -> int:
    """A data grid height showing ``n`` rows with no inner scroll (35 px a row, header, border),
    optionally capped for long lists."""
    h = 35 * (n + 1) + 3
    return h if cap is None else min(h, cap)


def static(shown: pd.DataFrame, name: str, key: str | None = None, download: pd.DataFrame | None = None) -> None:
    """A short table drawn as a page table (every row, long text wrapped inside its cell, as wide as
    the page) with its XLSX/CSV downloads: for lists whose cells hold sentences (a file's reason)."""
    import streamlit as st

    from dashboard.i18n import fmt_cell

    st.table(shown.map(fmt_cell), hide_index=True)
    download_buttons(shown if download is None else download, name, key)
