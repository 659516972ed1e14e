"""The monthly pack as an A4 PDF (fpdf2), Chinese text in an embedded, subset CJK font.

Layout: a cover with the headline figures; the village league table with the red and black boards
and the biggest risers and fallers; one table per indicator group against target; the charts; the
data-quality summary. Every page after the cover carries a running head (area, month, snapshot) and
every page a footer with the page number and the generation time. Colour marks are always doubled
by text (红榜/黑榜, ● 达标/未达标) so a black-and-white printout loses nothing.
"""

from __future__ import annotations

import math

from fpdf import FPDF
from fpdf.fonts import FontFace

from pipelines.report import charts
from pipelines.report.data import PackData
from pipelines.report.fonts import cjk_fonts
from pipelines.report.text import (
    BOARDS,
    LIGHT_RGB,
    LIGHT_TINT,
    LIGHTS,
    REASONS,
    SECTIONS,
    TITLE,
    TITLE_EN,
    fmt_change,
    fmt_delta,
    fmt_score,
    fmt_target,
    fmt_value,
    missing,
    period_zh,
    snapshot_text,
    source_label,
    text_or_dash,
)

FONT = "cjk"
GREY = (110, 110, 110)
RULE = (190, 190, 190)
HEAD_FILL = (232, 236, 243)
TOWN_FILL = (244, 246, 250)
RED_FILL = (255, 228, 228)
BLACK_FILL = (222, 222, 222)
MARGIN = 15


class PackPDF(FPDF):
    def __init__(self, data: PackData):
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.data = data
        fonts = cjk_fonts()
        self.add_font(FONT, "", str(fonts.regular.path), collection_font_number=fonts.regular.index)
        self.add_font(FONT, "B", str(fonts.bold.path), collection_font_number=fonts.bold.index)
        self.set_margins(MARGIN, 18, MARGIN)
        self.set_auto_page_break(True, margin=16)
        self.set_title(f"{data.area_name} {period_zh(data.period)} {TITLE}")
        self.set_author("乡治 xiangzhi")
        self.set_subject(f"{TITLE_EN} {data.period}")
        self.set_creator("xiangzhi report")
        self.set_lang("zh-CN")
        self.set_creation_date(data.generated_at.astimezone())

    # -- page furniture ------------------------------------------------------------------------
    def header(self) -> None:
        if self.page_no() == 1:
            return
        d = self.data
        self.set_font(FONT, "", 7.5)
        self.set_text_color(*GREY)
        self.set_y(8)
        self.cell(0, 4, f"{d.area_name} · {period_zh(d.period)} {TITLE}", align="L")
        self.set_x(MARGIN)
        self.cell(0, 4, _snapshot_text(d), align="R")
        self.set_draw_color(*RULE)
        self.line(MARGIN, 13, self.w - MARGIN, 13)
        self.set_text_color(0, 0, 0)
        self.set_y(18)

    def footer(self) -> None:
        self.set_y(-11)
        self.set_font(FONT, "", 7.5)
        self.set_text_color(*GREY)
        self.cell(0, 4, f"生成时间 {self.data.generated_at:%Y-%m-%d %H:%M}", align="L")
        self.set_x(MARGIN)
        self.cell(0, 4, f"第 {self.page_no()} 页 / 共 {{nb}} 页", align="R")
        self.set_text_color(0, 0, 0)

    # -- building blocks -----------------------------------------------------------------------
    @property
    def content_w(self) -> float:
        return self.w - 2 * MARGIN

    def section(self, key: str, new_page: bool = True) -> None:
        zh, en = SECTIONS[key]
        if new_page:
            self.add_page()
        self.set_font(FONT, "B", 14)
        self.cell(0, 8, zh, new_x="LMARGIN", new_y="NEXT")
        self.set_font(FONT, "", 8)
        self.set_text_color(*GREY)
        self.cell(0, 4, en, new_x="LMARGIN", new_y="NEXT")
        self.set_text_color(0, 0, 0)
        self.ln(2)

    def subtitle(self, zh: str, en: str = "", min_space: float = 40) -> None:
        if self.will_page_break(min_space):
            self.add_page()
        self.ln(2)
        self.set_font(FONT, "B", 11)
        self.cell(0, 6, zh, new_x="END")
        if en:
            self.set_font(FONT, "", 8)
            self.set_text_color(*GREY)
            self.cell(0, 6, "  " + en)
            self.set_text_color(0, 0, 0)
        self.ln(7)

    def note(self, text: str, size: float = 7.5) -> None:
        self.set_font(FONT, "", size)
        self.set_text_color(*GREY)
        self.multi_cell(0, 3.8, text, align="L", new_x="LMARGIN", new_y="NEXT")
        self.set_text_color(0, 0, 0)

    def para(self, text: str, size: float = 10, bold: bool = False, h: float = 5.5) -> None:
        self.set_font(FONT, "B" if bold else "", size)
        self.multi_cell(0, h, text, align="L", new_x="LMARGIN", new_y="NEXT")

    def table(self, widths, aligns, size: float = 8, **kw):
        self.set_font(FONT, "", size)
        self.set_draw_color(*RULE)
        return super().table(
            col_widths=widths, text_align=aligns, width=sum(widths), align="LEFT", line_height=size * 0.55,
            headings_style=FontFace(emphasis="BOLD", fill_color=HEAD_FILL), padding=(0.9, 1.2),
            v_align="MIDDLE", **kw,
        )


def _snapshot_text(d: PackData) -> str:
    return "数据快照：" + snapshot_text(d.snapshot)


# ---------------------------------------------------------------------------------------------


def render_pdf(d: PackData) -> bytes:
    pdf = PackPDF(d)
    _cover(pdf, d)
    _league(pdf, d)
    _movers(pdf, d)
    _groups(pdf, d)
    _charts(pdf, d)
    _quality(pdf, d)
    _worker_sheets(pdf, d)
    return bytes(pdf.output())


def _worker_sheets(pdf: PackPDF, d: PackData) -> None:
    """The grid workers' 张榜公示 sheets (SPEC §6.1, §8): one landscape A4 page per village."""
    from pipelines.report.workers import draw_village, village_sheets

    if d.workers is None or d.workers.empty:
        return
    for v in village_sheets(d.workers):
        pdf.add_page(orientation="landscape")
        draw_village(pdf, v, d.period)


def _cover(pdf: PackPDF, d: PackData) -> None:
    pdf.add_page()
    pdf.set_y(22)
    pdf.set_font(FONT, "B", 22)
    pdf.multi_cell(0, 11, f"{d.area_name}\n{period_zh(d.period)}{TITLE}", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, "", 9)
    pdf.set_text_color(*GREY)
    pdf.cell(0, 5, f"{TITLE_EN} · {d.unit.code} · {d.period}", new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(0, 0, 0)
    pdf.set_draw_color(*LIGHT_RGB["red"])
    pdf.set_line_width(0.8)
    pdf.line(MARGIN, pdf.get_y() + 2, pdf.w - MARGIN, pdf.get_y() + 2)
    pdf.set_line_width(0.2)
    pdf.ln(6)

    level = {"county": "全县", "township": "全乡镇", "village": "本村"}[d.unit.level]
    pdf.set_font(FONT, "", 9)
    for label, value in (
        ("考评范围", f"{d.area_name}（{level}，区划代码 {d.unit.code}）"),
        ("考评月份", period_zh(d.period)),
        ("生成时间", f"{d.generated_at:%Y-%m-%d %H:%M}"),
        ("数据快照", snapshot_text(d.snapshot)),
    ):
        pdf.set_font(FONT, "B", 9)
        pdf.cell(22, 5, label)
        pdf.set_font(FONT, "", 9)
        pdf.cell(0, 5, value, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    if d.incomplete:
        pdf.set_text_color(*LIGHT_RGB["red"])
        pdf.para(d.incomplete, size=10, bold=True)
        pdf.set_text_color(0, 0, 0)

    b = d.boards
    c = d.counts
    pdf.para(
        f"参评村（社区）{b['ranked']} 个：红榜 {b['red']} 个，黑榜 {b['black']} 个"
        f"（其中一票否决 {b['veto']} 个）。", size=10.5, bold=True,
    )
    pdf.para(
        f"本月记录：走访巡查 {c['visits']:,} 条 · 上报事件 {c['events']:,} 件 · 纠纷登记 {c['disputes']:,} 件 · "
        f"积分记录 {c['points_records']:,} 条。", size=9.5,
    )
    pdf.ln(1)
    if not d.has_prev:
        pdf.para("本月为数据首月，无上月对比。", size=10)
    else:
        for mark, key, label, colour in (("▲", "improved", "进步最大", "green"), ("▼", "slipped", "下滑最大", "red")):
            r = getattr(d, key)
            pdf.set_font(FONT, "B", 10)
            pdf.set_text_color(*LIGHT_RGB[colour])
            pdf.cell(6, 6, mark)
            pdf.set_text_color(0, 0, 0)
            pdf.cell(20, 6, label + "：")
            pdf.set_font(FONT, "", 10)
            if r is None:
                text = "无指标较上月" + ("改善" if key == "improved" else "下滑")
            else:
                ind = _ind(r["indicator_id"])
                text = (f"{ind.name_zh} {fmt_value(r['prev_value'], ind)} → {fmt_value(r['value'], ind)}"
                        f"（{fmt_delta(r['delta'], ind)}）")
            pdf.cell(0, 6, text, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)

    pdf.subtitle("主要指标对标", "Headline indicators vs target", min_space=20)
    widths = (52, 24, 28, 24, 32, 20)
    with pdf.table(widths, ("LEFT", "RIGHT", "RIGHT", "RIGHT", "RIGHT", "LEFT"), size=8.5) as t:
        t.row(["指标", "本月", "目标", "上月", "环比", "状态"])
        for r in d.headline.itertuples(index=False):
            ind = _ind(r.indicator_id)
            row = t.row()
            row.cell(r.name_zh)
            row.cell(fmt_value(r.value, ind), style=FontFace(emphasis="BOLD"))
            row.cell(fmt_target(ind, d.period))
            row.cell(fmt_value(r.prev_value, ind))
            delta = None if missing(r.value) or missing(r.prev_value) else float(r.value) - float(r.prev_value)
            row.cell(fmt_delta(delta, ind))
            row.cell(f"● {LIGHTS[r.light]}", style=FontFace(color=LIGHT_RGB[r.light]))
    pdf.ln(2)
    pdf.set_font(FONT, "", 7.5)
    for light, text in (("green", "达标（达成度 100%）"), ("amber", "接近（达成度 ≥ 90%）"), ("red", "未达标")):
        pdf.set_text_color(*LIGHT_RGB[light])
        pdf.cell(pdf.get_string_width("● "), 3.8, "● ")
        pdf.set_text_color(*GREY)
        pdf.cell(pdf.get_string_width(text + "   "), 3.8, text + "   ")
    pdf.ln(4)
    pdf.note("达成度按指标目录的目标与容差计算；季末目标仅在季度末月评定。率类指标为各村分子之和 / 分母之和。")


def _league(pdf: PackPDF, d: PackData) -> None:
    pdf.section("league")
    lg = d.league
    if lg.empty:
        pdf.para("本月没有村级评分。")
        return
    county_pack = d.unit.level == "county"
    widths = [13, 13, 42, 26, 20, 20, 18, 18] if county_pack else [14, 14, 56, 22, 22, 22, 20]
    aligns = ["CENTER", "CENTER", "LEFT", "LEFT", "RIGHT", "RIGHT", "CENTER", "CENTER"]
    head = ["排名", "变化", "村（社区）", "乡镇", "综合得分", "上月得分", "红黑榜", "一票否决"]
    if not county_pack:
        del aligns[3], head[3]
    with pdf.table(widths, aligns, size=8.5) as t:
        t.row(head)
        for r in lg.itertuples(index=False):
            fill = RED_FILL if r.board == "red" else BLACK_FILL if r.board == "black" else None
            base = FontFace(fill_color=fill) if fill else None
            bold = FontFace(emphasis="BOLD", fill_color=fill)
            row = t.row()
            row.cell("—" if missing(r.rank) else str(int(r.rank)), style=bold)
            row.cell(fmt_change(r.rank_change, r.prev_rank), style=base)
            row.cell(r.name, style=base)
            if county_pack:
                row.cell(r.township_name or "", style=base)
            row.cell(fmt_score(r.score), style=bold)
            row.cell(fmt_score(r.prev_score), style=base)
            board = BOARDS.get(r.board, "") if isinstance(r.board, str) else ""
            colour = LIGHT_RGB["red"] if r.board == "red" else (0, 0, 0)
            row.cell(board, style=FontFace(emphasis="BOLD", color=colour, fill_color=fill))
            veto = bool(r.veto) if not missing(r.veto) else False
            row.cell("是" if veto else "", style=FontFace(emphasis="BOLD", color=LIGHT_RGB["red"], fill_color=fill))
    pdf.ln(2)
    share = f"{_cat().settings.board_share:.0%}"
    pdf.note(f"名次为全县排名（并列名次相同，下一名次顺延）；变化 = 上月名次 − 本月名次，↑ 为进步，“新”为上月无名次。"
             f"红黑榜：全县参评村前 {share}（向上取整，并列同进）为红榜（底色浅红），后 {share} 及一票否决"
             f"（本月有越级上访）为黑榜（底色灰）。")


def _movers(pdf: PackPDF, d: PackData) -> None:
    pdf.subtitle(SECTIONS["movers"][0], SECTIONS["movers"][1], min_space=60)
    if not d.has_prev:
        pdf.para("本月为数据首月，无名次变化。", size=9.5)
        return
    widths = (36, 22, 24, 16, 20, 62)
    for title, df in (("进步最快", d.risers), ("退步最快", d.fallers)):
        if pdf.will_page_break(16 + 7.5 * (len(df) + 1)):  # keep a short table on one page
            pdf.add_page()
        pdf.set_font(FONT, "B", 9.5)
        pdf.cell(0, 6, title, new_x="LMARGIN", new_y="NEXT")
        if df.empty:
            pdf.para("无。", size=9)
            continue
        with pdf.table(widths, ("LEFT", "LEFT", "CENTER", "CENTER", "RIGHT", "LEFT"), size=8.5) as t:
            t.row(["村（社区）", "乡镇", "名次（上月→本月）", "变化", "得分变化", "主要拉动/拖累指标（上月→本月）"])
            for r in df.itertuples(index=False):
                t.row([r.name, r.township_name or "", f"{int(r.prev_rank)} → {int(r.rank)}",
                       fmt_change(r.rank_change, r.prev_rank),
                       "—" if missing(r.score_change) else f"{r.score_change:+.1f}", r.driver or "—"])
        pdf.ln(1)
    pdf.note("主要拉动/拖累指标：两个月都计入得分的加权指标中，权重 × 达成度变化最大的一项。")


def _groups(pdf: PackPDF, d: PackData) -> None:
    pdf.section("groups")
    pdf.note("底色：绿 = 达标，橙 = 接近目标（达成度 ≥ 90%），红 = 未达标（数值加粗）；"
             "灰字带 * = 样本不足（分母小于 5），不计入综合得分；— = 本月无数据。")
    county_pack = d.unit.level == "county"
    for i, g in enumerate(d.groups):
        if i:
            pdf.ln(3)
        # A table that fits on one page starts on a fresh page rather than leaving an orphan row behind.
        height = 24 + 6.3 * len(g.rows)
        fits_a_page = height < pdf.h - 18 - 16
        pdf.subtitle(f"{g.group.name_zh}", g.group.name_en, min_space=height if fits_a_page else 50)
        n = len(g.indicators)
        name_w = 32 if county_pack else 40
        town_w = 18 if county_pack else 0
        ind_w = min(math.floor((pdf.content_w - name_w - town_w) / n * 10) / 10, 30)  # fpdf2 rejects > page width
        widths = [name_w] + ([town_w] if county_pack else []) + [ind_w] * n
        aligns = ["LEFT"] + (["LEFT"] if county_pack else []) + ["RIGHT"] * n
        size = 8 if n <= 5 else 7.5
        with pdf.table(widths, aligns, size=size, num_heading_rows=1) as t:
            head = t.row()
            head.cell("单位")
            if county_pack:
                head.cell("乡镇")
            for ind in g.indicators:
                head.cell(f"{ind.name_zh}\n目标 {fmt_target(ind, d.period)}", align="CENTER")
            for idx, r in g.rows.iterrows():
                top = r["level"] != "village"
                fill = TOWN_FILL if top else None
                row = t.row()
                row.cell(r["name"], style=FontFace(emphasis="BOLD" if top else None, fill_color=fill))
                if county_pack:
                    row.cell(r["township_name"], style=FontFace(fill_color=fill))
                for ind in g.indicators:
                    v = r[ind.id]
                    low = bool(g.low_n.at[idx, ind.id])
                    light = g.lights.at[idx, ind.id]
                    text = fmt_value(v, ind) + ("*" if low and not missing(v) else "")
                    style = FontFace(
                        emphasis="BOLD" if (light == "red" or top) else None,
                        color=LIGHT_RGB["grey"] if low else None,
                        fill_color=LIGHT_TINT.get(light, fill),
                    )
                    row.cell(text, style=style)


def _charts(pdf: PackPDF, d: PackData) -> None:
    pdf.section("charts")
    w = pdf.content_w
    county_pack = d.unit.level == "county"
    png = charts.score_trend_png(d.score_trend, d.township_trend, d.unit.name,
                                 show_townships=county_pack and d.township_trend["township_code"].nunique() <= 8,
                                 width_mm=w, height_mm=78)
    pdf.image(png, x=MARGIN, w=w, alt_text="村（社区）综合得分走势")
    pdf.ln(3)
    pdf.note("综合得分为各村加权达成度（0–100），曲线为范围内各村的平均分，浅色带为最低—最高分。")
    pdf.ln(4)
    png = charts.disputes_png(d.disputes, width_mm=w, height_mm=82)
    pdf.image(png, x=MARGIN, w=w, alt_text="矛盾纠纷登记数（按类型、月份）")
    pdf.ln(2)
    total = int(d.disputes.loc[d.disputes["period"] == d.period, "disputes"].sum()) if len(d.disputes) else 0
    pdf.note(f"按登记日期统计；本月登记 {total} 件。")


def _quality(pdf: PackPDF, d: PackData) -> None:
    pdf.section("quality")
    rep = d.reporting
    if len(rep):
        grids, active = int(rep["grids"].sum()), int(rep["active"].sum())
        recs = rep["visits"].sum() + rep["events"].sum()
        timely = (rep["timely_rate"].fillna(0) * (rep["visits"] + rep["events"])).sum() / recs if recs else None
        pdf.para(f"本月活跃网格 {active} / {grids} 个；走访巡查与事件记录 {int(recs):,} 条，"
                 f"录入及时率 {'—' if timely is None else f'{timely * 100:.1f}%'}。", size=9.5)
    pdf.subtitle("各村上报情况", "Reporting by village", min_space=30)
    with pdf.table((50, 24, 24, 26, 26, 30), ("LEFT", "RIGHT", "RIGHT", "RIGHT", "RIGHT", "RIGHT"), size=8) as t:
        t.row(["村（社区）", "网格数", "活跃网格", "走访巡查", "上报事件", "录入及时率"])
        for r in rep.itertuples(index=False):
            inactive = r.active < r.grids
            t.row([r.village_name, str(r.grids), str(int(r.active)), f"{int(r.visits):,}", f"{int(r.events):,}",
                   "—" if missing(r.timely_rate) else f"{r.timely_rate * 100:.1f}%"],
                  style=FontFace(fill_color=LIGHT_TINT["amber"]) if inactive else None)
    pdf.note("底色为橙：本月有网格无任何走访巡查或事件记录。录入及时：录入日期不晚于发生日期后 "
             f"{_cat().settings.entry_timeliness_days} 个自然日。")

    if d.files is None:
        for n in d.notes:
            pdf.ln(2)
            pdf.note(n)
        return
    f = d.files
    pdf.subtitle("本月数据文件", "Files behind this month's records", min_space=40)
    if f.empty:
        pdf.para("无。", size=9)
    else:
        tot = f[["rows_read", "rows_loaded", "rows_quarantined", "rows_duplicate", "rows_non_data"]].sum()
        pdf.para(f"文件 {len(f)} 个（拒收 {int((f['status'] == 'rejected').sum())} 个）；读取 {int(tot.rows_read):,} 行，"
                 f"入库 {int(tot.rows_loaded):,}，隔离 {int(tot.rows_quarantined):,}，重复 {int(tot.rows_duplicate):,}，"
                 f"非数据行 {int(tot.rows_non_data):,}。", size=9)
        widths = (70, 20, 16, 16, 16, 14, 14, 14)
        with pdf.table(widths, ("LEFT", "LEFT", "RIGHT", "RIGHT", "RIGHT", "RIGHT", "RIGHT", "CENTER"), size=7.5) as t:
            t.row(["文件名", "数据类型", "读取", "入库", "隔离", "重复", "非数据", "状态"])
            for r in f.itertuples(index=False):
                kind = source_label(r.source_kind)
                rejected = r.status == "rejected"
                t.row([text_or_dash(r.file_name), kind, *(f"{int(v):,}" if not missing(v) else "—" for v in (
                    r.rows_read, r.rows_loaded, r.rows_quarantined, r.rows_duplicate, r.rows_non_data)),
                    "拒收" if rejected else "已入库"],
                    style=FontFace(fill_color=RED_FILL) if rejected else None)
    q = d.quarantine
    pdf.subtitle("隔离记录（按原因）", "Quarantined rows by reason", min_space=40)
    if q is None or q.empty:
        pdf.para("本月相关文件无隔离记录。", size=9)
    else:
        with pdf.table((22, 40, 14, 104), ("LEFT", "LEFT", "RIGHT", "LEFT"), size=7.5) as t:
            t.row(["数据类型", "原因", "行数", "示例"])
            for r in q.itertuples(index=False):
                kind = source_label(r.source_kind)
                t.row([kind, f"{REASONS.get(r.reason_code, r.reason_code)}\n{r.reason_code}", f"{int(r.rows):,}",
                       text_or_dash(r.example)])
    pdf.note("本月数据文件：含有本月记录的文件（同一编号多次导出的，取保留其最新状态的那次导出），以及所有被拒收的文件。"
             "隔离记录保存原始行与原因，可在看板“数据质量”页查看。")


def _cat():
    from pipelines import warehouse as wh

    return wh.catalogue()


def _ind(indicator_id: str):
    return _cat()[indicator_id]
