"""A small, fast, deterministic XLSX writer for the generator's big workbooks.

xlsxwriter writes about 10^5 cells a second from Python; the province scale needs millions. Here each
sheet's XML is built column-wise by polars expressions (inline strings, numbers, date cells or bare
Excel serials) and streamed into the zip in chunks, so memory stays bounded by the chunk size. Zip
entries carry a fixed timestamp and the core properties a fixed creation date, so the same input gives
the same bytes. Excel, LibreOffice, openpyxl and calamine read inline strings.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape

import polars as pl

NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
NS_R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
ZIP_TIME = (1980, 1, 1, 0, 0, 0)
CREATED = "2025-01-01T08:00:00Z"
CHUNK = 50_000
STYLE_TITLE, STYLE_HEAD, STYLE_DT, STYLE_D = 1, 2, 3, 4
_NUM_RX = r"^-?\d+(\.\d+)?$"

STYLES = f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<styleSheet xmlns="{NS}"><numFmts count="2"><numFmt numFmtId="164" formatCode="yyyy-mm-dd hh:mm"/><numFmt numFmtId="165" formatCode="yyyy/m/d"/></numFmts><fonts count="3"><font><sz val="11"/><name val="宋体"/><family val="3"/><charset val="134"/></font><font><b/><sz val="14"/><name val="宋体"/><family val="3"/><charset val="134"/></font><font><b/><sz val="11"/><name val="宋体"/><family val="3"/><charset val="134"/></font></fonts><fills count="3"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill><fill><patternFill patternType="solid"><fgColor rgb="FFD9E1F2"/><bgColor indexed="64"/></patternFill></fill></fills><borders count="2"><border><left/><right/><top/><bottom/><diagonal/></border><border><left style="thin"/><right style="thin"/><top style="thin"/><bottom style="thin"/><diagonal/></border></borders><cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs><cellXfs count="5"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/><xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1" applyAlignment="1"><alignment horizontal="center"/></xf><xf numFmtId="0" fontId="2" fillId="2" borderId="1" xfId="0" applyFont="1" applyFill="1" applyBorder="1"/><xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/><xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs><cellStyles count="1"><cellStyle name="常规" xfId="0" builtinId="0"/></cellStyles></styleSheet>"""


@dataclass
class SheetSpec:
    name: str
    titles: list[str]  # rows above the header; the first is merged across the columns
    headers: list[str] | None  # None: a sheet of notes, no header
    frame: pl.DataFrame | None  # all text; None values are empty cells
    date_cols: dict[str, str] = field(default_factory=dict)  # column → "dt" | "d"
    num_cols: set[str] = field(default_factory=set)
    dates: str = "text"  # "text" | "cell" | "serial"


def col_letter(i: int) -> str:
    s = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        s = chr(65 + r) + s
    return s


def _esc(e: pl.Expr) -> pl.Expr:
    return e.str.replace_all("&", "&amp;", literal=True).str.replace_all("<", "&lt;", literal=True) \
        .str.replace_all(">", "&gt;", literal=True)


def _text_cell(ref: pl.Expr, v: pl.Expr, style: int = 0) -> pl.Expr:
    s = f' s="{style}"' if style else ""
    return pl.concat_str([pl.lit('<c r="'), ref, pl.lit(f'"{s} t="inlineStr"><is><t xml:space="preserve">'), _esc(v),
                          pl.lit("</t></is></c>")])


def _num_cell(ref: pl.Expr, v: pl.Expr, style: int = 0) -> pl.Expr:
    s = f' s="{style}"' if style else ""
    return pl.concat_str([pl.lit('<c r="'), ref, pl.lit(f'"{s}><v>'), v, pl.lit("</v></c>")])


def _cell_expr(spec: SheetSpec, j: int, c: str, rn: pl.Expr) -> pl.Expr:
    ref = pl.concat_str([pl.lit(col_letter(j)), rn])
    v = pl.col(c)
    cell = _text_cell(ref, v)
    kind = spec.date_cols.get(c)
    if kind and spec.dates != "text":
        fmt = "%Y-%m-%d" if kind == "d" else "%Y-%m-%d %H:%M:%S"
        pattern = r"^\d{4}-\d{2}-\d{2}$" if kind == "d" else r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$"
        t = pl.when(v.str.contains(pattern)).then(v).str.strptime(pl.Datetime("ms"), fmt, strict=False)
        # A hair above the true instant, so a reader that truncates instead of rounding still gets 14:05:00.
        serial = (t.dt.epoch("s").cast(pl.Float64) / 86400.0 + 25569.0 + 5e-9)
        serial_txt = serial.cast(pl.Int64).cast(pl.Utf8) if kind == "d" else serial.round(8).cast(pl.Utf8)
        style = 0 if spec.dates == "serial" else (STYLE_D if kind == "d" else STYLE_DT)
        cell = pl.when(t.is_not_null()).then(_num_cell(ref, serial_txt, style)).otherwise(cell)
    elif c in spec.num_cols:
        cell = pl.when(v.str.contains(_NUM_RX)).then(_num_cell(ref, v)).otherwise(cell)
    return pl.when(v.is_null() | (v == "")).then(None).otherwise(cell)


def _static_row(r: int, values: list[str], style: int) -> str:
    cells = "".join(
        f'<c r="{col_letter(j)}{r}"{f" s={chr(34)}{style}{chr(34)}" if style else ""} t="inlineStr">'
        f'<is><t xml:space="preserve">{escape(v)}</t></is></c>'
        for j, v in enumerate(values) if v not in (None, ""))
    return f'<row r="{r}">{cells}</row>'


def _write_sheet(zf: zipfile.ZipFile, arcname: str, spec: SheetSpec) -> None:
    ncol = max(1, len(spec.headers or []))
    n = spec.frame.height if spec.frame is not None else 0
    last_row = len(spec.titles) + (1 if spec.headers else 0) + n
    info = zipfile.ZipInfo(arcname, date_time=ZIP_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    with zf.open(info, "w") as fh:
        fh.write((f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="{NS}" '
                  f'xmlns:r="{NS_R}"><dimension ref="A1:{col_letter(ncol - 1)}{max(1, last_row)}"/>'
                  '<sheetViews><sheetView workbookViewId="0"/></sheetViews><sheetFormatPr defaultRowHeight="15"/>'
                  f'<cols><col min="1" max="{ncol}" width="18" customWidth="1"/></cols><sheetData>').encode())
        r = 1
        for i, t in enumerate(spec.titles):
            fh.write(_static_row(r, [t], STYLE_TITLE if i == 0 and spec.headers else 0).encode())
            r += 1
        if spec.headers:
            fh.write(_static_row(r, spec.headers, STYLE_HEAD).encode())
            r += 1
        if n:
            cols = spec.frame.columns
            for start in range(0, n, CHUNK):
                part = spec.frame.slice(start, CHUNK)
                rn = pl.int_range(r + start, r + start + part.height, eager=False).cast(pl.Utf8)
                cells = [_cell_expr(spec, j, c, rn) for j, c in enumerate(cols)]
                rows = part.select(
                    pl.when(pl.all_horizontal([pl.col(c).is_null() | (pl.col(c) == "") for c in cols]))
                    .then(None)  # Excel does not store empty rows; they are still counted between data rows
                    .otherwise(pl.concat_str([pl.lit('<row r="'), rn, pl.lit('">'),
                                              pl.concat_str(cells, ignore_nulls=True), pl.lit("</row>")]))
                    .alias("x"))["x"].drop_nulls()
                fh.write("".join(rows.to_list()).encode())
        fh.write(b"</sheetData>")
        if spec.titles and spec.headers and ncol > 1:
            fh.write(f'<mergeCells count="1"><mergeCell ref="A1:{col_letter(ncol - 1)}1"/></mergeCells>'.encode())
        fh.write(b'<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/></worksheet>')


def write_workbook(path: Path, sheets: list[SheetSpec], author: str = "乡治 xiangzhi") -> None:
    n = len(sheets)
    ct = "".join(f'<Override PartName="/xl/worksheets/sheet{i + 1}.xml" ContentType="application/vnd.openxmlformats-'
                 'officedocument.spreadsheetml.worksheet+xml"/>' for i in range(n))
    parts = {
        "[Content_Types].xml":
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Types xmlns="http://schemas.openxmlformats.org/'
            'package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-'
            'package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override '
            'PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.'
            f'sheet.main+xml"/>{ct}<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-'
            'officedocument.spreadsheetml.styles+xml"/><Override PartName="/docProps/core.xml" ContentType="'
            'application/vnd.openxmlformats-package.core-properties+xml"/><Override PartName="/docProps/app.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.extended-properties+xml"/></Types>',
        "_rels/.rels":
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns="http://schemas.'
            'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.'
            'openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
            '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/'
            'core-properties" Target="docProps/core.xml"/><Relationship Id="rId3" Type="http://schemas.'
            'openxmlformats.org/officeDocument/2006/relationships/extended-properties" Target="docProps/app.xml"/>'
            '</Relationships>',
        "docProps/app.xml":
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Properties xmlns="http://schemas.'
            'openxmlformats.org/officeDocument/2006/extended-properties"><Application>Microsoft Excel</Application>'
            '</Properties>',
        "docProps/core.xml":
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<cp:coreProperties xmlns:cp="http://schemas.'
            'openxmlformats.org/package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" '
            'xmlns:dcterms="http://purl.org/dc/terms/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
            f'<dc:creator>{escape(author)}</dc:creator><dcterms:created xsi:type="dcterms:W3CDTF">{CREATED}'
            f'</dcterms:created><dcterms:modified xsi:type="dcterms:W3CDTF">{CREATED}</dcterms:modified>'
            '</cp:coreProperties>',
        "xl/workbook.xml":
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<workbook xmlns="{NS}" xmlns:r="{NS_R}">'
            '<bookViews><workbookView activeTab="0"/></bookViews><sheets>'
            + "".join(f'<sheet name="{escape(s.name)}" sheetId="{i + 1}" r:id="rId{i + 1}"/>' for i, s in enumerate(sheets))
            + "</sheets></workbook>",
        "xl/_rels/workbook.xml.rels":
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns="http://schemas.'
            'openxmlformats.org/package/2006/relationships">'
            + "".join(f'<Relationship Id="rId{i + 1}" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
                      f'relationships/worksheet" Target="worksheets/sheet{i + 1}.xml"/>' for i in range(n))
            + f'<Relationship Id="rId{n + 1}" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
              'relationships/styles" Target="styles.xml"/></Relationships>',
        "xl/styles.xml": STYLES,
    }
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name in ("[Content_Types].xml", "_rels/.rels", "docProps/app.xml", "docProps/core.xml",
                     "xl/workbook.xml", "xl/_rels/workbook.xml.rels", "xl/styles.xml"):
            info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, parts[name])
        for i, s in enumerate(sheets):
            _write_sheet(zf, f"xl/worksheets/sheet{i + 1}.xml", s)
