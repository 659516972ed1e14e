"""The pack's charts as PNG bytes, drawn offline with matplotlib's Agg backend and a CJK font.

Figures are built with the object API (no pyplot): no global figure state, so the dashboard may
render a pack on a worker thread. PNG at 200 dpi prints sharply at the sizes used on A4.
"""

from __future__ import annotations

import io

import pandas as pd
from matplotlib import rc_context
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from pipelines.report.fonts import cjk_fonts
from pipelines.report.text import period_zh

DPI = 200
MM = 1 / 25.4
PALETTE = ["#1565c0", "#ef6c00", "#2e7d32", "#c62828", "#6a1b9a", "#00838f", "#8d6e63", "#546e7a", "#f9a825"]


def _rc() -> dict:
    return {
        "font.family": [cjk_fonts().regular.family, "DejaVu Sans"],
        "font.size": 8,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.titlesize": 9,
        "axes.titleweight": "bold",
    }


def _png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    FigureCanvasAgg(fig)
    fig.savefig(buf, format="png", dpi=DPI)
    return buf.getvalue()


def _month_label(p: str) -> str:
    return f"{int(p[5:7])}月" if p[5:7] != "01" else f"{p[:4]}年\n1月"


def score_trend_png(area: pd.DataFrame, by_township: pd.DataFrame, area_name: str, show_townships: bool,
                    width_mm: float = 180, height_mm: float = 70) -> bytes:
    """Mean composite score of the area's villages per month, the min–max range shaded, and (county
    packs) each township's mean."""
    with rc_context(_rc()):
        fig = Figure(figsize=(width_mm * MM, height_mm * MM), layout="constrained")
        ax = fig.add_subplot()
        if area.empty:
            ax.text(0.5, 0.5, "暂无评分", ha="center", va="center", transform=ax.transAxes)
            ax.set_axis_off()
            return _png(fig)
        x = list(range(len(area)))
        ax.fill_between(x, area["score_min"], area["score_max"], color=PALETTE[0], alpha=0.12,
                        label="各村得分范围（最低—最高）")
        if show_townships:
            for i, (_code, g) in enumerate(by_township.groupby("township_code", sort=True)):
                pos = [area["period"].tolist().index(p) for p in g["period"]]
                ax.plot(pos, g["score_mean"], color=PALETTE[(i + 1) % len(PALETTE)], lw=1, marker=".",
                        label=f"{g['township_name'].iloc[0]} 平均")
        ax.plot(x, area["score_mean"], color=PALETTE[0], lw=2.2, marker="o", ms=3.5, label=f"{area_name} 平均")
        last = area.iloc[-1]
        ax.annotate(f"{last['score_mean']:.1f}", (x[-1], last["score_mean"]), textcoords="offset points",
                    xytext=(4, 4), fontsize=8, color=PALETTE[0], fontweight="bold")
        ax.set_xticks(x, [_month_label(p) for p in area["period"]])
        ax.set_ylim(0, 100)
        ax.set_ylabel("综合得分")
        ax.set_title(f"村（社区）综合得分走势（{period_zh(area['period'].iloc[0])}—{period_zh(area['period'].iloc[-1])}）",
                     loc="left")
        ax.grid(axis="y", color="#dddddd", lw=0.6)
        ax.legend(loc="lower left", fontsize=7, frameon=False, ncol=3)
        return _png(fig)


def disputes_png(df: pd.DataFrame, width_mm: float = 180, height_mm: float = 75) -> bytes:
    """Dispute cases registered per month, stacked by type."""
    with rc_context(_rc()):
        fig = Figure(figsize=(width_mm * MM, height_mm * MM), layout="constrained")
        ax = fig.add_subplot()
        if df.empty or df["disputes"].sum() == 0:
            ax.text(0.5, 0.5, "该范围内近期无矛盾纠纷登记", ha="center", va="center", transform=ax.transAxes)
            ax.set_axis_off()
            return _png(fig)
        wide = df.pivot_table(index="period", columns="dispute_type", values="disputes", aggfunc="sum", fill_value=0)
        wide = wide[wide.sum().sort_values(ascending=False).index]  # biggest type at the bottom
        x = list(range(len(wide)))
        bottom = [0.0] * len(wide)
        for i, col in enumerate(wide.columns):
            vals = wide[col].tolist()
            ax.bar(x, vals, bottom=bottom, color=PALETTE[i % len(PALETTE)], width=0.65, label=col)
            bottom = [b + v for b, v in zip(bottom, vals, strict=True)]
        for xi, total in zip(x, bottom, strict=True):
            ax.text(xi, total, f"{total:.0f}", ha="center", va="bottom", fontsize=7)
        ax.set_xticks(x, [_month_label(p) for p in wide.index])
        ax.set_ylabel("件")
        ax.set_ylim(0, max(bottom) * 1.15 + 0.5)
        ax.set_title("矛盾纠纷登记数（按类型、月份）", loc="left")
        ax.grid(axis="y", color="#dddddd", lw=0.6)
        ax.set_axisbelow(True)
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=7, frameon=False)
        return _png(fig)
