"""The monthly pack as a workbook (xlsxwriter): one sheet per table, values unrounded with real number
formats (shares as percentages), frozen headers, column widths that fit Chinese (a CJK character
counts as two: xlsxwriter's autofit makes Chinese columns too narrow)."""

from __future__ import annotations

import io

import pandas as pd
import xlsxwriter

from pipelines.report.data import PackData
from pipelines.report.text import (
    BOARDS,
    LIGHTS,
    REASONS,
    TITLE,
    fmt_delta,
    fmt_target,
    fmt_value,
    is_share,
    missing,
    period_zh,
    snapshot_text,
    source_label,
    text_or_dash,
    text_width,
)

NUM_FORMATS = {"share": "0.0%", "hours": "0.0", "count": "#,##0", "decimal": "0.00", "score": "0.0", "int": "0",
               "text": "@", "datetime": "yyyy-mm-dd hh:mm", "general": "General"}
FILLS = {"green": "#E8F5E9", "amber": "#FFF3E0", "red": "#FFE1E1", "head": "#E8ECF3", "town": "#F4F6FA",
         "black": "#DEDEDE"}
LEVELS = {"county": "县", "township": "乡镇", "village": "村（社区）"}


def num_kind(ind) -> str:
    if is_share(ind):
        return "share"
    if ind.unit == "小时":
        return "hours"
    return "count" if ind.kind == "count" else "decimal"


class _Book:
    def __init__(self, buf: io.BytesIO):
        self.wb = xlsxwriter.Workbook(buf, {"in_memory": True, "nan_inf_to_errors": False,
                                           "default_date_format": NUM_FORMATS["datetime"]})
        self._fmt: dict[tuple, object] = {}
        self.base = {"font_name": "等线", "font_size": 10.5, "valign": "vcenter"}

    def fmt(self, kind: str = "text", fill: str | None = None, bold: bool = False, grey: bool = False,
            wrap: bool = False):
        key = (kind, fill, bold, grey, wrap)
        if key not in self._fmt:
            props = dict(self.base, num_format=NUM_FORMATS[kind])
            if fill:
                props["bg_color"] = FILLS[fill]
            if bold:
                props["bold"] = True
            if grey:
                props["font_color"] = "#9E9E9E"
                props["italic"] = True
            if wrap:
                props["text_wrap"] = True
            self._fmt[key] = self.wb.add_format(props)
        return self._fmt[key]

    def sheet(self, name: str, header: list[str], rows: list[list], kinds: list[str], *,
              styles: list[list[dict]] | None = None, extra_header: list | None = None, extra_kinds=None,
              wrap_cols: dict[int, int] | None = None):
        """One table: header (and an optional second header row, e.g. targets), frozen; typed cells."""
        ws = self.wb.add_worksheet(name)
        head = self.wb.add_format(dict(self.base, bold=True, bg_color=FILLS["head"], border=1, text_wrap=True,
                                       align="center"))
        ws.write_row(0, 0, header, head)
        widths = [text_width(h) for h in header]
        r0 = 1
        if extra_header is not None:
            for c, v in enumerate(extra_header):
                self.write(ws, 1, c, v, (extra_kinds or kinds)[c], {"bold": True, "fill": "head"})
                widths[c] = max(widths[c], _shown_width(v, (extra_kinds or kinds)[c]))
            r0 = 2
        for i, row in enumerate(rows):
            for c, v in enumerate(row):
                st = styles[i][c] if styles else {}
                kind = st.get("kind", kinds[c])  # a row may carry its own unit (the indicators sheet)
                self.write(ws, r0 + i, c, v, kind, st)
                widths[c] = max(widths[c], _shown_width(v, kind))
        for c, w in enumerate(widths):
            cap = (wrap_cols or {}).get(c, 60)
            ws.set_column(c, c, min(max(w + 2, 6), cap),
                          self.fmt("text", wrap=True) if wrap_cols and c in wrap_cols else None)
        # Wrapped cells get their height here: xlsxwriter cannot measure text, and Excel does not
        # grow rows written by a program.
        for i, row in enumerate(rows):
            lines = max([_lines(row[c], cap) for c, cap in (wrap_cols or {}).items()] + [1])
            if lines > 1:
                ws.set_row(r0 + i, 15 * lines)
        ws.freeze_panes(r0, 0)
        if rows:
            ws.autofilter(r0 - 1, 0, r0 - 1 + len(rows), len(header) - 1)
        _print_setup(ws, r0)
        return ws

    def write(self, ws, r: int, c: int, v, kind: str, st: dict) -> None:
        f = self.fmt(kind, st.get("fill"), st.get("bold", False), st.get("grey", False), st.get("wrap", False))
        if v is None or (not isinstance(v, str) and missing(v)):
            ws.write_blank(r, c, None, f)
        elif isinstance(v, bool):
            ws.write_boolean(r, c, v, f)
        elif kind == "datetime":
            ws.write_datetime(r, c, pd.Timestamp(v).to_pydatetime(), f)
        elif kind != "text" and isinstance(v, int | float):
            ws.write_number(r, c, float(v), f)
        else:
            ws.write_string(r, c, str(v), f)


def _lines(v, width: int) -> int:
    return 1 if not isinstance(v, str) else max(1, -(-text_width(v) // max(1, width - 2)))


def _print_setup(ws, head_rows: int) -> None:
    """A4 landscape, one page wide, header rows repeated, page numbers in the footer."""
    ws.set_paper(9)
    ws.set_landscape()
    ws.fit_to_pages(1, 0)
    ws.repeat_rows(0, head_rows - 1)
    ws.set_footer("&C第 &P 页 / 共 &N 页")


def _shown_width(v, kind: str) -> int:
    if v is None or (not isinstance(v, str) and missing(v)):
        return 0
    if kind == "share":
        return len(f"{float(v) * 100:.1f}%")
    if kind in ("hours", "score"):
        return len(f"{float(v):,.1f}")
    if kind == "decimal":
        return len(f"{float(v):,.2f}")
    if kind in ("count", "int"):
        return len(f"{float(v):,.0f}")
    if kind == "datetime":
        return 16
    return text_width(v)


def render_xlsx(d: PackData) -> bytes:
    buf = io.BytesIO()
    b = _Book(buf)
    cat = _cat()
    _about(b, d)

    # 主要指标: every catalogue indicator for the area
    rows, styles = [], []
    for r in d.kpis.itertuples(index=False):
        ind = cat[r.indicator_id]
        k = num_kind(ind)
        delta = None if missing(r.value) or missing(r.prev_value) else float(r.value) - float(r.prev_value)
        rows.append([r.indicator_id, ind.name_zh, ind.group and cat.group(ind.group).name_zh, r.value,
                     ind.target if ind.direction != "none" else None, r.prev_value, delta, LIGHTS[r.light],
                     r.numerator, r.denominator])
        fill = r.light if r.light in ("green", "amber", "red") else None
        styles.append([{}, {}, {}, {"fill": fill, "kind": k}, {"kind": k}, {"kind": k}, {"kind": k}, {"fill": fill},
                       {}, {}])
    b.sheet("主要指标", ["指标代码", "指标", "分组", "本月", "目标", "上月", "环比变化", "状态", "分子", "分母"], rows,
            ["text", "text", "text", "decimal", "decimal", "decimal", "decimal", "text", "general", "general"],
            styles=styles)

    # 排名
    lg = d.league
    rows, styles = [], []
    for r in lg.itertuples(index=False):
        board = BOARDS.get(r.board, "") if isinstance(r.board, str) else ""
        fill = "red" if r.board == "red" else "black" if r.board == "black" else None
        rows.append([r.rank, r.rank_change, r.prev_rank, r.village_code, r.name, r.township_name, r.score,
                     r.prev_score, r.score_change, board, "是" if (not missing(r.veto) and bool(r.veto)) else ""])
        styles.append([{"fill": fill, "bold": True}] + [{"fill": fill}] * 5 + [{"fill": fill, "bold": True}]
                      + [{"fill": fill}] * 4)
    b.sheet("排名", ["排名", "名次变化", "上月排名", "村代码", "村（社区）", "乡镇", "综合得分", "上月得分", "得分变化",
                    "红黑榜", "一票否决"], rows,
            ["int", "int", "int", "text", "text", "text", "score", "score", "score", "text", "text"], styles=styles)

    # 进退
    rows = []
    for label, df in (("进步", d.risers), ("退步", d.fallers)):
        for r in df.itertuples(index=False):
            rows.append([label, r.village_code, r.name, r.township_name, r.prev_rank, r.rank, r.rank_change,
                         r.score_change, r.driver])
    b.sheet("名次进退", ["类别", "村代码", "村（社区）", "乡镇", "上月排名", "本月排名", "名次变化", "得分变化",
                      "主要拉动/拖累指标"], rows,
            ["text", "text", "text", "text", "int", "int", "int", "score", "text"])

    # one sheet per indicator group
    for g in d.groups:
        header = ["层级", "代码", "名称", "乡镇"] + [ind.name_zh for ind in g.indicators]
        kinds = ["text"] * 4 + [num_kind(ind) for ind in g.indicators]
        targets = ["", "", "目标", ""] + [ind.target if ind.direction != "none" else fmt_target(ind)
                                         for ind in g.indicators]
        target_kinds = ["text"] * 4 + [num_kind(ind) if ind.direction != "none" and ind.target is not None
                                       else "text" for ind in g.indicators]
        rows, styles = [], []
        for idx, r in g.rows.iterrows():
            top = r["level"] != "village"
            base = {"fill": "town" if top else None, "bold": top}
            row = [LEVELS[r["level"]], r["code"], r["name"], r["township_name"]]
            st = [base] * 4
            for ind in g.indicators:
                light = g.lights.at[idx, ind.id]
                row.append(r[ind.id])
                st.append({"fill": light if light in ("green", "amber", "red") else base["fill"],
                           "bold": top or light == "red", "grey": bool(g.low_n.at[idx, ind.id])})
            rows.append(row)
            styles.append(st)
        b.sheet(g.group.name_zh, header, rows, kinds, styles=styles, extra_header=targets, extra_kinds=target_kinds)

    # 得分趋势, 纠纷类型
    st = d.score_trend
    b.sheet("得分趋势", ["月份", "参评村数", "平均分", "最低分", "最高分", "红榜", "黑榜", "一票否决"],
            st[["period", "villages", "score_mean", "score_min", "score_max", "red", "black", "vetoes"]].values.tolist(),
            ["text", "int", "score", "score", "score", "int", "int", "int"])
    if len(d.disputes):
        wide = d.disputes.pivot_table(index="period", columns="dispute_type", values="disputes", aggfunc="sum",
                                      fill_value=0)
        wide = wide[wide.sum().sort_values(ascending=False).index]
        rows = [[p, *map(float, vals), float(sum(vals))] for p, vals in zip(wide.index, wide.values.tolist(), strict=True)]
        b.sheet("纠纷类型", ["月份", *wide.columns, "合计"], rows, ["text"] + ["int"] * (len(wide.columns) + 1))
    else:
        b.sheet("纠纷类型", ["月份", "合计"], [], ["text", "int"])

    # data quality
    rep = d.reporting
    b.sheet("上报情况", ["村代码", "村（社区）", "网格数", "活跃网格", "走访巡查", "上报事件", "录入及时率"],
            rep[["village_code", "village_name", "grids", "active", "visits", "events", "timely_rate"]].values.tolist(),
            ["text", "text", "int", "int", "int", "int", "share"])
    if d.files is not None:
        f = d.files
        rows = [[r.file_name, source_label(r.source_kind),
                 r.rows_read, r.rows_loaded, r.rows_quarantined, r.rows_duplicate, r.rows_non_data,
                 "拒收" if r.status == "rejected" else "已入库", text_or_dash(r.reason), r.batch_id] for r in f.itertuples(index=False)]
        b.sheet("数据文件", ["文件名", "数据类型", "读取", "入库", "隔离", "重复", "非数据行", "状态", "原因", "批次"], rows,
                ["text", "text", "int", "int", "int", "int", "int", "text", "text", "text"], wrap_cols={8: 60})
        q = d.quarantine
        rows = [[source_label(r.source_kind), r.reason_code,
                 REASONS.get(r.reason_code, r.reason_code), r.rows, text_or_dash(r.example)] for r in q.itertuples(index=False)]
        b.sheet("隔离原因", ["数据类型", "原因代码", "原因", "行数", "示例"], rows,
                ["text", "text", "text", "int", "text"], wrap_cols={4: 80})
    if d.workers is not None and not d.workers.empty:
        from pipelines.report.workers import village_sheets, write_village_sheets

        write_village_sheets(b.wb, village_sheets(d.workers), d.period)  # 张榜公示, one sheet per village
    b.wb.close()
    return buf.getvalue()


def _about(b: _Book, d: PackData) -> None:
    bx = d.boards
    lines = [
        ("标题", f"{d.area_name} {period_zh(d.period)}{TITLE}"),
        ("考评范围", f"{d.area_name}（区划代码 {d.unit.code}）"),
        ("考评月份", d.period),
        ("生成时间", f"{d.generated_at:%Y-%m-%d %H:%M}"),
        ("数据快照", snapshot_text(d.snapshot)),
        ("参评村（社区）", f"{bx['ranked']} 个：红榜 {bx['red']}，黑榜 {bx['black']}（一票否决 {bx['veto']}）"),
    ]
    cat = _cat()
    for key, label in (("improved", "进步最大"), ("slipped", "下滑最大")):
        r = getattr(d, key)
        if r is not None:
            ind = cat[r["indicator_id"]]
            lines.append((label, f"{ind.name_zh} {fmt_value(r['prev_value'], ind)} → {fmt_value(r['value'], ind)}"
                                 f"（{fmt_delta(r['delta'], ind)}）"))
    lines += [
        ("说明", "数值未四舍五入，按单元格格式显示；率类指标为分子之和 / 分母之和。底色：绿 = 达标，橙 = 接近目标，"
                "红 = 未达标；灰色斜体 = 样本不足（分母小于 5），不计入综合得分。名次为全县排名。"),
    ]
    lines += [("备注", n) for n in d.notes]
    if d.incomplete:
        lines.insert(0, ("数据完整性", d.incomplete))
    ws = b.wb.add_worksheet("说明")
    head = b.wb.add_format(dict(b.base, bold=True, bg_color=FILLS["head"]))
    ws.write_row(0, 0, ["项目", "内容"], head)
    wrap = b.fmt("text", wrap=True)
    for i, (k, v) in enumerate(lines, start=1):
        ws.write_string(i, 0, k, b.fmt("text", bold=True))
        ws.write_string(i, 1, v, wrap)
        if _lines(v, 90) > 1:
            ws.set_row(i, 15 * _lines(v, 90))
    ws.set_column(0, 0, max(text_width(k) for k, _ in lines) + 2)
    ws.set_column(1, 1, 90)
    ws.freeze_panes(1, 0)
    _print_setup(ws, 1)


def _cat():
    from pipelines import warehouse as wh

    return wh.catalogue()
