"""The grid workers' 张榜公示 sheets (SPEC §6.1, §8): `xiangzhi report workers` writes one A4 page per
village whose every row reads back (pdfium text) as the grid_worker_scores row; the XLSX holds the
same table; the monthly pack carries the same pages and sheets; page 8 offers them for download."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import openpyxl
import pypdfium2 as pdfium
import pytest
from pypdf import PdfReader

from pipelines import cli
from pipelines.report import build_pack

ITEMS = ("households_visited", "key_households_visited", "patrols", "talks", "events_reported",
         "events_resolved_in_grid", "overdue_events", "late_entries")


def _pages(path: Path) -> list[str]:
    """Each page's text with every run of whitespace made one space (line breaks inside and between
    cells come out as either)."""
    doc = pdfium.PdfDocument(str(path))
    try:
        return [re.sub(r"\s+", " ", doc[i].get_textpage().get_text_range()) for i in range(len(doc))]
    finally:
        doc.close()


def _pts(v: float) -> str:
    return "0" if v == 0 else (f"+{v:g}" if v > 0 else f"−{-v:g}")


def _rows(home: Path, period: str) -> dict[str, list[tuple]]:
    """village name → its mart rows by rank, with the names the sheet prints."""
    con = duckdb.connect(str(home / "published" / "xiangzhi.duckdb"), read_only=True)
    try:
        cols = ", ".join(f"s.{i}, s.{i}_points" for i in ITEMS)
        rows = con.execute(
            f"""select v.name, s.village_code, s.rank_in_township, g.grid_name, s.worker_name, {cols},
                       s.total, s.grade, p.rank_in_township
                from grid_worker_scores s join dim_grid g using (grid_code) join dim_village v on v.village_code = s.village_code
                left join grid_worker_scores p on p.grid_code = s.grid_code and p.worker_name = s.worker_name
                  and p.period = strftime(strptime(s.period || '-01', '%Y-%m-%d') - interval 1 month, '%Y-%m')
                where s.period = ? order by s.village_code, s.rank_in_township, s.grid_code, s.worker_name""",
            [period]).fetchall()
    finally:
        con.close()
    out: dict[str, list[tuple]] = {}
    for r in rows:
        out.setdefault(r[1], []).append(r)
    return out


def _line(r) -> str:
    """The row as the PDF's text layer reads it: rank grid name, each item count and points, total grade change."""
    cells = [f"{r[5 + 2 * i]} {_pts(r[6 + 2 * i])}" for i in range(8)]
    prev, rank = r[-1], r[2]
    change = "新" if prev is None else "—" if prev == rank else (f"↑{prev - rank}" if prev > rank else f"↓{rank - prev}")
    return f"{r[2]} {r[3]} {r[4]} " + " ".join(cells) + f" {round(r[21], 4):g} {r[22]} {change}"


@pytest.fixture(scope="module")
def period(demo_home):
    con = duckdb.connect(str(demo_home / "published" / "xiangzhi.duckdb"), read_only=True)
    try:
        return con.execute("select max(period) from grid_worker_scores").fetchone()[0]
    finally:
        con.close()


@pytest.fixture(scope="module")
def sheets(demo_home, period, tmp_path_factory):
    out = tmp_path_factory.mktemp("sheets")
    assert cli.main(["report", "workers", "--period", period, "--out", str(out)]) == 0
    pdf = next(out.glob("*.pdf"))
    return {"pdf": pdf, "xlsx": next(out.glob("*.xlsx")), "pages": _pages(pdf)}


def test_one_page_per_village_every_row_as_in_the_mart(sheets, demo_home, period):
    villages = _rows(demo_home, period)
    pages = sheets["pages"]
    assert len(pages) == len(villages) > 3
    year, month = int(period[:4]), int(period[5:])
    for text, (code, rows) in zip(pages, sorted(villages.items()), strict=True):
        assert text.startswith(f"{rows[0][0]}网格员月度考评结果公示"), text[:80]
        assert f"考评月份：{year}年{month}月" in text and code in text
        assert "公示时间：" in text  # the line for the date of posting
        for r in rows:
            assert _line(r) in text, (_line(r), text)
    # at least one sheet shows a worker named in two grids of the village, and a lapse
    assert any(len({r[3] for r in rows if r[4] == n}) > 1 for rows in villages.values() for n in {r[4] for r in rows})
    assert any("−15" in p for p in pages)


def test_pdf_embeds_its_chinese_font_and_is_a4(sheets):
    reader = PdfReader(str(sheets["pdf"]))
    for page in reader.pages:
        w, h = float(page.mediabox.width), float(page.mediabox.height)
        assert (round(w), round(h)) == (842, 595)  # A4 landscape in points
    fonts = [f.get_object() for f in (reader.pages[0]["/Resources"].get("/Font") or {}).values()]
    descs = [d.get_object()["/FontDescriptor"].get_object() for f in fonts for d in f.get("/DescendantFonts", [])]
    assert descs and all(any(k in fd for k in ("/FontFile", "/FontFile2", "/FontFile3")) for fd in descs)


def test_xlsx_has_the_same_table(sheets, demo_home, period):
    villages = _rows(demo_home, period)
    wb = openpyxl.load_workbook(sheets["xlsx"], read_only=True)
    assert len(wb.sheetnames) == len(villages)
    for ws, (_code, rows) in zip(wb.worksheets, sorted(villages.items()), strict=True):
        values = list(ws.iter_rows(values_only=True))
        assert values[0][0] == f"{rows[0][0]}网格员月度考评结果公示"
        header = values[3]
        assert header[:6] == ("乡镇内排名", "乡镇", "村（社区）", "网格编码", "网格", "网格员")
        body = values[4:4 + len(rows)]
        for got, r in zip(body, rows, strict=True):
            assert (got[0], got[4], got[5]) == (r[2], r[3], r[4])
            assert list(got[6:22]) == [pytest.approx(x) for x in r[5:21]]
            assert got[22] == pytest.approx(r[21]) and got[23] == r[22]
        assert any(str(v[0]).startswith("公示时间") for v in values if v and v[0])


def test_pack_includes_the_sheets(demo_home, period, tmp_path):
    pdf, xlsx = build_pack(period, None, tmp_path)
    villages = _rows(demo_home, period)
    pages = _pages(pdf)
    sheet_pages = [p for p in pages if re.search(r"网格员月度考评结果公示", p)]
    assert len(sheet_pages) == len(villages)
    first = sorted(villages.items())[0][1]
    assert all(_line(r) in sheet_pages[0] for r in first)
    wb = openpyxl.load_workbook(xlsx, read_only=True)
    titles = [ws.cell(1, 1).value for ws in wb.worksheets]
    assert sum(1 for x in titles if x and str(x).endswith("网格员月度考评结果公示")) == len(villages)


def test_bad_period_is_one_line(demo_home, capsys):
    assert cli.main(["report", "--workers-only", "--period", "2025-13"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("错误 / error: ") and "\n" not in err and "YYYY-MM" in err
