"""Words and number formats of the monthly pack (Chinese, with English subtitles where shown).

The pack is a printed document: every figure is formatted here once, so the PDF, the XLSX headers
and the dashboard preview say the same thing. Indicator names, units and targets come from the
catalogue, never from here.
"""

from __future__ import annotations

from pipelines import formats
from pipelines.formats import missing, period_zh, prev_period  # noqa: F401  (the pack's names for them)
from pipelines.sources import REASON_LABELS

TITLE = "月度考评通报"
TITLE_EN = "Monthly assessment pack"

SECTIONS: dict[str, tuple[str, str]] = {
    "cover": ("本月概况", "Headline figures"),
    "league": ("村（社区）综合排名与红黑榜", "Village league table and boards"),
    "movers": ("名次进退", "Biggest risers and fallers"),
    "groups": ("分项指标对标", "Indicators against target"),
    "charts": ("趋势图", "Charts"),
    "quality": ("数据质量", "Data quality"),
}

LIGHTS: dict[str, str] = {"green": "达标", "amber": "接近", "red": "未达标", "grey": "样本不足", "none": "—"}
LIGHT_RGB: dict[str, tuple[int, int, int]] = {
    "green": (46, 125, 50), "amber": (239, 143, 0), "red": (198, 40, 40), "grey": (158, 158, 158),
    "none": (120, 120, 120),
}
# Cell tints for printed tables: light enough for black text, distinct on a colour printer.
LIGHT_TINT: dict[str, tuple[int, int, int]] = {
    "green": (232, 245, 233), "amber": (255, 243, 224), "red": (255, 225, 225),
}
BOARDS: dict[str, str] = {"red": "红榜", "black": "黑榜"}

REASONS: dict[str, str] = {code: zh for code, (zh, _en) in REASON_LABELS.items()}  # sources.py owns them


def source_label(kind) -> str:
    """A file's data kind in Chinese; "—" when the file was rejected before its kind was known
    (#19 item 13: a NULL kind reached fpdf as NaN)."""
    from pipelines.sources import SOURCES

    if missing(kind):
        return "—"
    return SOURCES[kind].label_zh if kind in SOURCES else str(kind)


def incomplete_text(period: str, share, usual) -> str:
    """The pack's warning for a month fewer grids have reported in than usual (#14 defect 4)."""
    pct = formats.fmt_pct
    return (f"注意：{period_zh(period)}数据不完整，仅 {pct(share)} 的网格已上报（通常 {pct(usual)}），"
            "记录可能仍在录入或尚未导入，本通报中的数字会变化，请勿据此排名问责。")


def text_or_dash(v) -> str:
    return "—" if missing(v) or str(v) == "" else str(v)


def is_share(ind) -> bool:
    return formats.is_share(ind.unit)


def fmt_value(v, ind) -> str:
    """A value in its indicator's unit, as the dashboard writes it (pipelines/formats.py)."""
    return formats.fmt_value(v, ind.unit, "zh")


def fmt_target(ind, period: str | None = None) -> str:
    """The catalogue target with its direction: ≥95.0%, ≤72.0 小时, 0; '—' without one."""
    if ind.target is None or ind.direction == "none":
        return "—"
    t = float(ind.target)
    if is_share(ind):
        text = f"{t * 100:.1f}".removesuffix(".0") + "%"
    elif ind.unit == "小时":
        text = f"{t:g} 小时"
    else:
        text = f"{t:g}"
    if ind.direction == "lower" and ind.target == 0:
        text = "0"
    elif ind.direction == "higher" and not (is_share(ind) and ind.target >= 1):
        text = "≥" + text
    elif ind.direction == "lower":
        text = "≤" + text
    if ind.target_at == "quarter_end":
        text += "（季末）"
    return text


def fmt_delta(d, ind) -> str:
    """Change since last month, as the dashboard writes it; "—" when there is nothing to compare."""
    return formats.fmt_delta(d, ind.unit, "zh") or "—"


def fmt_score(v) -> str:
    return "—" if missing(v) else f"{float(v):.1f}"


def fmt_change(change, prev_rank) -> str:
    """Rank change for print: ↑3, ↓2, — (unchanged), 新 (no rank last month)."""
    if missing(prev_rank):
        return "新"
    if missing(change) or int(change) == 0:
        return "—"
    c = int(change)
    return f"↑{c}" if c > 0 else f"↓{-c}"


def text_width(s) -> int:
    """Display width with a CJK (or full-width) character counted as two: Excel column widths."""
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in str(s))


def snapshot_text(s: dict) -> str:
    """The data snapshot a pack was built from: '批次 <batch id> · 截至 <time>'."""
    parts = []
    if s.get("batch_id"):
        parts.append(f"批次 {s['batch_id']}")
    when = s.get("finished_at")
    if when is None or missing(when):
        when = s.get("published_at")
    if when is not None and not missing(when):
        parts.append(f"截至 {when:%Y-%m-%d %H:%M}")
    return " · ".join(parts) if parts else "未知"


# --- grid workers' posting sheet 张榜公示 (SPEC §6.1) ---
WORKER_SHEET_TITLE = "网格员月度考评结果公示"
WORKER_SHEET_TITLE_EN = "Grid workers' monthly assessment: public notice"
WORKER_POSTING_LINE = ("公示时间：______年____月____日 至 ______年____月____日          "
                       "监督电话：________________          （盖章）")
WORKER_NOTE = ("考核依据网格员走访巡查记录与上报事件自动计算（网格员姓名依规公示）。如有异议，请在公示期内向村"
               "（社区）党组织或乡镇（街道）反映。")


def fmt_points(v) -> str:
    """Item points for print: +15, +1.5, −4, 0."""
    if missing(v):
        return "—"
    v = float(v)
    return "0" if v == 0 else f"{v:+g}".replace("-", "−")


def fmt_total(v) -> str:
    """A worker's total: unrounded in the mart, multiples of 0.5 with the default sheet: 69.5, 100."""
    return "—" if missing(v) else f"{round(float(v), 4):g}"


def sheet_rule(sheet) -> str:
    """The scoring sheet in one line (printed under the table)."""
    parts = [f"基础分 {sheet.base:g} 分"]
    for i in sheet.items:
        cap = "最多" if i.points > 0 else "最多扣"
        parts.append(f"{i.name_zh}每{i.unit_zh} {fmt_points(i.points)}（{cap} {abs(i.cap):g} 分）")
    g = [x for x in sheet.grades if x.min is not None]
    grades = "，".join(f"{x.grade} ≥ {x.min:g}" for x in g) + f"，其余为{sheet.grades[-1].grade}"
    return "；".join(parts) + f"。总分限定在 0–100 分；等次：{grades}。"
