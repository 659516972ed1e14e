"""How a value is written for a person: the one set of formatters the dashboard (dashboard/i18n.py),
the meeting pack (pipelines/report/text.py) and the notebooks share, so the page and the printed pack
show the same figure the same way (#18 item 3: they disagreed, 1.23万 on the page vs 12,345 in the
pack). Counts are written in full with thousands separators in both languages: an assessment table
is read for exact numbers, and an abbreviation would hide the difference between two villages.

Units are the catalogue's (pipelines/indicators.yaml): 比率 (a share), 小时, 件, 件/千人, 分/户.
Nothing here imports Streamlit; the language is an argument ("zh" or "en").
"""

from __future__ import annotations

import math

SHARE_UNIT = "比率"
_PLAIN_TWO_PLACES = ("件/千人", "分/户")  # the unit is in the indicator's name; two places, no suffix


def missing(v) -> bool:
    """None, NaN, NaT and pandas NA alike (nullable integer columns hold pd.NA); lists are not missing."""
    if v is None:
        return True
    if isinstance(v, float):
        return math.isnan(v)
    try:
        import pandas as pd

        return bool(pd.isna(v))
    except (TypeError, ValueError):  # lists, arrays: not a missing scalar
        return False


def is_share(unit: str | None) -> bool:
    return unit == SHARE_UNIT


def prev_period(period: str, months: int = 1) -> str:
    """'2025-06' minus `months` months: '2025-05' (months=3: '2025-03')."""
    y, m = int(period[:4]), int(period[5:7])
    idx = y * 12 + (m - 1) - months
    return f"{idx // 12:04d}-{idx % 12 + 1:02d}"


def period_zh(period: str) -> str:
    return f"{int(period[:4])}年{int(period[5:7])}月"


def fmt_count(v) -> str:
    """12,345 (whole numbers without decimals; others to one place); "—" when missing."""
    if missing(v):
        return "—"
    v = float(v)
    return f"{v:,.0f}" if v == int(v) else f"{v:,.1f}"


def fmt_pct(v) -> str:
    return "—" if missing(v) else f"{float(v) * 100:.1f}%"


def fmt_value(v, unit: str | None, lang: str = "zh") -> str:
    """A catalogue indicator's value in its unit: 93.5%, 34.5 小时 (34.5 h), 3 件 (3), 1.25, 259."""
    if missing(v):
        return "—"
    if is_share(unit):
        return fmt_pct(v)
    if unit == "小时":
        return f"{float(v):.1f} 小时" if lang == "zh" else f"{float(v):.1f} h"
    if unit == "件":
        return fmt_count(v) + (" 件" if lang == "zh" else "")
    if unit in _PLAIN_TWO_PLACES:
        return f"{float(v):,.2f}"
    return fmt_count(v)


def fmt_delta(d, unit: str | None, lang: str = "zh") -> str | None:
    """Change since last month: +1.2个百分点 (+1.2 pp) for shares, +3.0 小时, +3, +0.25; None when
    there is nothing to compare (callers show no change, or "—")."""
    if missing(d):
        return None
    d = float(d)
    if is_share(unit):
        return f"{d * 100:+.1f}" + ("个百分点" if lang == "zh" else " pp")
    if unit == "小时":
        return f"{d:+.1f}" + (" 小时" if lang == "zh" else " h")
    if unit in _PLAIN_TWO_PLACES:
        return f"{d:+,.2f}"
    return f"{d:+,.0f}" if d == int(d) else f"{d:+,.1f}"
