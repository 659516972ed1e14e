"""The grid workers' posting sheet 张榜公示 (SPEC §6.1, §7 page 8, §8): one A4 page per village with
its workers' items, points, totals and grades for a month, as a PDF (fpdf2, Chinese font embedded)
and an XLSX with the same table (one worksheet per village).

Rows come from pipelines.warehouse.worker_league (scoped), so an account only ever gets its own
villages. ``draw_village`` lays one village out on an FPDF page; the monthly pack (pdf.py) calls it
for its own pages, ``render_sheets`` writes the standalone files for posting.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import datetime

import pandas as pd
import xlsxwriter
from fpdf import FPDF
from fpdf.fonts import FontFace

from pipelines import warehouse as wh
from pipelines.report.fonts import cjk_fonts
from pipelines.report.text import (
    WORKER_NOTE,
    WORKER_POSTING_LINE,
    WORKER_SHEET_TITLE,
    WORKER_SHEET_TITLE_EN,
    fmt_change,
    fmt_points,
    fmt_total,
    period_zh,
    sheet_rule,
    text_width,
)

FONT = "cjk"
MARGIN = 12
GREY = (110, 110, 110)
HEAD_FILL = (232, 236, 243)
GRADE_FILL = {"优秀": (232, 245, 233), "不合格": (255, 225, 225)}


@dataclass(frozen=True)
class VillageSheet:
    village_code: str
    village_name: str
    township_name: str
    rows: pd.DataFrame  # worker_league rows of the village, by rank


@dataclass(frozen=True)
class Sheets:
    period: str
    area: wh.Unit
    villages: list[VillageSheet]
    generated_at: datetime
    pdf: bytes = b""
    xlsx: bytes = b""

    @property
    def stem(self) -> str:
        safe = re.sub(r'[\\/:*?"<>|\s]+', "_", self.area.name)
        return f"网格员考评公示_{self.period}_{self.area.code}_{safe}"


def village_sheets(league: pd.DataFrame) -> list[VillageSheet]:
    """worker_league rows split by village (village code order), each by rank within the township."""
    out = []
    for code, rows in league.groupby("village_code", sort=True):
        rows = rows.sort_values(["rank_in_township", "grid_code", "worker_name"]).reset_index(drop=True)
        out.append(VillageSheet(str(code), str(rows["village_name"].iloc[0] or code),
                                str(rows["township_name"].iloc[0] or ""), rows))
    return out


def collect_sheets(scope: wh.Scope, period: str, unit_code: str | None = None, *,
                   now: datetime | None = None) -> Sheets:
    area = _area(scope, unit_code)
    league = wh.worker_league(scope, period, area.code)
    return Sheets(period=period, area=area, villages=village_sheets(league),
                  generated_at=(now or datetime.now()).replace(microsecond=0))


def _area(scope: wh.Scope, unit_code: str | None) -> wh.Unit:
    """The county, a township or a village of the scope (ScopeError outside it)."""
    if unit_code and len(unit_code) == 12:
        return wh.resolve_unit(scope, None, unit_code)
    if unit_code and len(unit_code) == 9:
        return wh.resolve_unit(scope, unit_code)
    if unit_code:
        scope.check(unit_code)
    return wh.resolve_unit(scope)


def render_sheets(scope: wh.Scope, period: str, unit_code: str | None = None, *,
                  now: datetime | None = None) -> Sheets:
    """The posting sheets of every village of the unit with assessed workers: PDF and XLSX bytes."""
    s = collect_sheets(scope, period, unit_code, now=now)
    pdf = SheetPDF(s.generated_at)
    if not s.villages:
        pdf.add_page()
        pdf.set_font(FONT, "B", 14)
        pdf.cell(0, 10, f"{s.area.name} {period_zh(period)} 无网格员考评记录", new_x="LMARGIN", new_y="NEXT")
    for v in s.villages:
        pdf.add_page()
        draw_village(pdf, v, period)
    return Sheets(period=s.period, area=s.area, villages=s.villages, generated_at=s.generated_at,
                  pdf=bytes(pdf.output()), xlsx=render_xlsx(s))


# ---------------------------------------------------------------------------------------------
# PDF


def add_fonts(pdf: FPDF) -> None:
    fonts = cjk_fonts()
    if FONT not in pdf.fonts:
        pdf.add_font(FONT, "", str(fonts.regular.path), collection_font_number=fonts.regular.index)
        pdf.add_font(FONT, "B", str(fonts.bold.path), collection_font_number=fonts.bold.index)


class SheetPDF(FPDF):
    def __init__(self, generated_at: datetime):
        super().__init__(orientation="landscape", unit="mm", format="A4")
        self.generated_at = generated_at
        add_fonts(self)
        self.set_margins(MARGIN, 12, MARGIN)
        self.set_auto_page_break(True, margin=12)
        self.set_title(WORKER_SHEET_TITLE)
        self.set_author("乡治 xiangzhi")
        self.set_creator("xiangzhi report workers")
        self.set_lang("zh-CN")
        self.set_creation_date(generated_at.astimezone())

    def add_page(self, *args, **kwargs):  # every sheet is landscape A4
        kwargs.setdefault("orientation", "landscape")
        super().add_page(*args, **kwargs)

    def footer(self) -> None:
        self.set_y(-9)
        self.set_font(FONT, "", 7)
        self.set_text_color(*GREY)
        self.cell(0, 4, f"乡治 xiangzhi · 生成时间 {self.generated_at:%Y-%m-%d %H:%M}", align="R")
        self.set_text_color(0, 0, 0)


def draw_village(pdf: FPDF, v: VillageSheet, period: str) -> None:
    """One village's sheet on the current (landscape A4) page."""
    sheet = wh.catalogue().workers
    w = pdf.w - pdf.l_margin - pdf.r_margin
    pdf.set_font(FONT, "B", 18)
    pdf.cell(0, 10, f"{v.village_name}{WORKER_SHEET_TITLE}", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, "", 10)
    pdf.cell(0, 6, f"{v.township_name} · 考评月份：{period_zh(period)}", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, "", 7.5)
    pdf.set_text_color(*GREY)
    pdf.cell(0, 4, f"{WORKER_SHEET_TITLE_EN} · {v.village_code} · {period}", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(0, 0, 0)
    pdf.ln(2)

    n_items = len(sheet.items)
    fixed = [11, 38, 20]  # rank, grid, worker
    tail = [16, 14, 14]  # total, grade, change
    item_w = int((w - sum(fixed) - sum(tail)) / n_items * 10) / 10  # fpdf2 rejects a hair over the page
    widths = [*fixed, *([item_w] * n_items), *tail]
    aligns = ["CENTER", "LEFT", "LEFT", *(["CENTER"] * n_items), "RIGHT", "CENTER", "CENTER"]
    rows = len(v.rows)
    size = 8.5 if rows <= 16 else 7.5 if rows <= 22 else 6.5
    pdf.set_font(FONT, "", size)
    pdf.set_draw_color(190, 190, 190)
    # FPDF.table itself: the pack's PackPDF overrides table() with its own signature.
    with FPDF.table(pdf, col_widths=widths, text_align=aligns, width=sum(widths), align="LEFT",
                   line_height=size * 0.5, padding=(0.8, 1.0), v_align="MIDDLE",
                   headings_style=FontFace(emphasis="BOLD", fill_color=HEAD_FILL)) as t:
        head = t.row()
        for text in ("乡镇内\n排名", "网格", "网格员"):
            head.cell(text)
        for i in sheet.items:
            cap = f"≤{i.cap:g}" if i.points > 0 else f"≥{i.cap:g}".replace("-", "−")
            head.cell(f"{i.name_zh}\n{fmt_points(i.points)}/{i.unit_zh} {cap}")
        for text in ("总分", "等次", "名次\n变化"):
            head.cell(text)
        for r in v.rows.itertuples(index=False):
            row = t.row()
            row.cell(str(int(r.rank_in_township)))
            row.cell(str(r.grid_name or r.grid_code))
            row.cell(str(r.worker_name), style=FontFace(emphasis="BOLD"))
            for i in sheet.items:
                row.cell(f"{int(getattr(r, i.item))}\n{fmt_points(getattr(r, i.item + '_points'))}")
            row.cell(fmt_total(r.total), style=FontFace(emphasis="BOLD"))
            row.cell(str(r.grade), style=FontFace(emphasis="BOLD", fill_color=GRADE_FILL.get(r.grade)))
            row.cell(fmt_change(r.rank_change, r.prev_rank))
    pdf.ln(2)
    pdf.set_font(FONT, "", 7.5)
    pdf.set_text_color(*GREY)
    pdf.multi_cell(0, 3.8, "每格上为数量、下为得分。" + sheet_rule(sheet) + "名次变化：↑ 进步，↓ 退步，“新”为上月无记录。",
                   new_x="LMARGIN", new_y="NEXT")
    pdf.multi_cell(0, 3.8, WORKER_NOTE, new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(0, 0, 0)
    pdf.ln(4)
    pdf.set_font(FONT, "", 10)
    pdf.cell(0, 6, WORKER_POSTING_LINE, new_x="LMARGIN", new_y="NEXT")


# ---------------------------------------------------------------------------------------------
# XLSX


def _sheet_name(v: VillageSheet, used: set[str]) -> str:
    base = re.sub(r"[\[\]:*?/\\]", "", v.village_name)[:24] or v.village_code
    name = base if base not in used else f"{base[:20]}{v.village_code[-6:]}"
    used.add(name)
    return name


def xlsx_header() -> list[str]:
    sheet = wh.catalogue().workers
    head = ["乡镇内排名", "乡镇", "村（社区）", "网格编码", "网格", "网格员"]
    for i in sheet.items:
        head += [f"{i.name_zh}（{i.unit_zh}）", f"{i.name_zh}得分"]
    return head + ["总分", "等次", "上月总分", "名次变化"]


def xlsx_rows(rows: pd.DataFrame) -> list[list]:
    sheet = wh.catalogue().workers
    out = []
    for r in rows.itertuples(index=False):
        row = [int(r.rank_in_township), r.township_name, r.village_name, r.grid_code, r.grid_name, r.worker_name]
        for i in sheet.items:
            row += [int(getattr(r, i.item)), float(getattr(r, i.item + "_points"))]
        row += [float(r.total), r.grade, None if pd.isna(r.prev_total) else float(r.prev_total),
                None if pd.isna(r.rank_change) else int(r.rank_change)]
        out.append(row)
    return out


def write_village_sheets(wb: xlsxwriter.Workbook, villages: list[VillageSheet], period: str) -> None:
    """One worksheet per village: title, month, the table, the posting line (also used by the pack)."""
    title = wb.add_format({"bold": True, "font_size": 14, "font_name": "等线"})
    plain = wb.add_format({"font_name": "等线", "font_size": 10.5})
    head = wb.add_format({"bold": True, "bg_color": "#E8ECF3", "border": 1, "text_wrap": True, "align": "center",
                          "valign": "vcenter", "font_name": "等线", "font_size": 10.5})
    num = wb.add_format({"num_format": "0.0##", "font_name": "等线", "font_size": 10.5})
    header = xlsx_header()
    used: set[str] = set()
    for v in villages:
        ws = wb.add_worksheet(_sheet_name(v, used))
        ws.write_string(0, 0, f"{v.village_name}{WORKER_SHEET_TITLE}", title)
        ws.write_string(1, 0, f"{v.township_name} · 考评月份：{period_zh(period)}（{period}）", plain)
        ws.write_row(3, 0, header, head)
        data = xlsx_rows(v.rows)
        for n, row in enumerate(data, start=4):
            for c, value in enumerate(row):
                if value is None:
                    ws.write_blank(n, c, None, plain)
                elif isinstance(value, float):
                    ws.write_number(n, c, value, num)
                elif isinstance(value, int):
                    ws.write_number(n, c, value, plain)
                else:
                    ws.write_string(n, c, str(value), plain)
        end = 4 + len(data) + 1
        ws.write_string(end, 0, sheet_rule(wh.catalogue().workers), plain)
        ws.write_string(end + 1, 0, WORKER_NOTE, plain)
        ws.write_string(end + 2, 0, WORKER_POSTING_LINE, plain)
        for c, h in enumerate(header):
            width = max([text_width(h)] + [text_width(r[c]) for r in data if r[c] is not None])
            ws.set_column(c, c, min(max(width + 2, 6), 30))
        ws.freeze_panes(4, 6)
        ws.set_landscape()
        ws.set_paper(9)  # A4
        ws.fit_to_pages(1, 1)


def render_xlsx(s: Sheets) -> bytes:
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True})
    if s.villages:
        write_village_sheets(wb, s.villages, s.period)
    else:
        wb.add_worksheet("公示").write_string(0, 0, f"{s.area.name} {period_zh(s.period)} 无网格员考评记录")
    wb.close()
    return buf.getvalue()
