"""XLSX and XLS workbooks through calamine (fastexcel): every sheet, title rows, blank and 合计 rows.

Row numbers are the sheet's own row numbers (1-based), as Excel, WPS or LibreOffice show them.
"""

from __future__ import annotations

from pathlib import Path

import fastexcel
import polars as pl

from pipelines.readers.common import (
    HEADER_SEARCH_ROWS,
    ReadResult,
    SheetData,
    build_sheet,
    reject,
    resolve_export_time,
    row_flags,
    unrecognised_reason,
)
from pipelines.readers.common import find_header as _find_header


def _load_grid(reader, index: int) -> pl.DataFrame:
    """Every row of the sheet from row 1 (skip_rows=0 keeps leading empty rows), every cell as text.

    calamine's text for cells: strings as found, integral numbers without '.0' (codes, phones,
    serials stay whole), other numbers as float text, dates and datetimes as 'YYYY-MM-DD HH:MM:SS'.
    A date cell (time 00:00:00) is shown as the date alone, as the user sees it.
    """
    sheet = reader.load_sheet(index, header_row=None, skip_rows=0, dtypes="string")
    grid = sheet.to_polars()
    grid = grid.rename({old: f"c{i}" for i, old in enumerate(grid.columns)})
    return grid.with_columns(pl.col(c).str.strip_suffix(" 00:00:00") for c in grid.columns)


def _trim(grid: pl.DataFrame) -> tuple[pl.DataFrame, int]:
    """Cut rows after the last non-empty one and columns that are empty throughout; (grid, first row index)."""
    if grid.height == 0 or grid.width == 0:
        return grid.clear(), 0
    blank, _ = row_flags(grid)
    filled = ~blank
    idx = filled.arg_true()
    if idx.len() == 0:
        return grid.clear(), 0
    first, last = int(idx[0]), int(idx[-1])
    grid = grid.slice(0, last + 1)
    keep = [c for c in grid.columns if grid.get_column(c).null_count() < grid.height]
    return grid.select(keep), first


def read_excel(path: Path) -> ReadResult:
    try:
        reader = fastexcel.read_excel(str(path))
        names = reader.sheet_names
    except Exception:  # the library's message and class ("CalamineError … EOCD") are internals, not for a clerk
        return reject(
            path,
            "工作簿损坏或不是有效的 Excel 文件（应为 Excel/WPS/LibreOffice 保存的 .xlsx 或 .xls，"
            "可用 Excel/WPS 打开后另存一次）/ corrupt or not an Excel workbook (expected .xlsx or .xls; "
            "open it in Excel/WPS and save it again)",
        )
    source = None
    sheets: list[SheetData] = []
    skipped: list[str] = []
    notes: list[str] = []
    profile = None
    unrecognised: list[list] = []  # the top rows of sheets with no header: for the diagnosis
    for i, name in enumerate(names):
        try:
            grid, first = _trim(_load_grid(reader, i))
        except Exception:
            skipped.append(name)
            notes.append(f"工作表“{name}”无法读取（可能已损坏）/ sheet '{name}' unreadable (it may be damaged)")
            continue
        top = grid.slice(0, HEADER_SEARCH_ROWS).rows()
        hit = _find_header([list(r) for r in top])
        if hit is None:
            skipped.append(name)
            unrecognised += [list(r) for r in top]
            if grid.height:
                notes.append(f"工作表“{name}”未找到已知表头，整表跳过 / sheet '{name}' has no recognised header, skipped")
            else:
                notes.append(f"工作表“{name}”为空，跳过 / sheet '{name}' is empty, skipped")
            continue
        h, prof = hit
        kind = prof.source
        if source is not None and kind.kind != source.kind:
            skipped.append(name)
            notes.append(
                f"工作表“{name}”是{kind.label_zh}，与本文件的{source.label_zh}不同，整表跳过"
                f" / sheet '{name}' is {kind.kind}, not {source.kind}, skipped"
            )
            continue
        source, profile = kind, prof
        header = [c if c is not None else "" for c in top[h]]
        # Data columns: header width, plus any further column holding data below the header.
        body = grid.slice(h + 1)
        titles = [list(r) for r in top[first:h]]
        export_time, export_from = resolve_export_time(path, titles)
        sheets.append(
            build_sheet(
                name=name,
                source=kind,
                header=header,
                body=body,
                row_numbers=pl.int_range(h + 2, h + 2 + body.height, dtype=pl.Int64, eager=True),
                title_count=h - first,
                export_time=export_time,
                export_time_from=export_from,
                profile=prof,
                titles=titles,
            )
        )
    if not sheets:
        return reject(path, unrecognised_reason(unrecognised, path, skipped), notes=notes)
    return ReadResult(path=path, source=source, sheets=sheets, skipped_sheets=skipped, notes=notes,
                      profile=profile.name)
