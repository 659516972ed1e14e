"""Source-specific rules: references, temporal order, future dates, id conflicts, plausible ranges.

The checked view chk_<kind> (built by the loader) adds helper columns these rules read:
`_grid_known`, `_village_known`, `_parent_known`, `_household_known`, `_village_matches`.
The GX factories' argument (`refs`) is always empty: the reference checks read those helper columns.
"""

from __future__ import annotations

from pipelines.expectations.rules import Rule, _gx, _q, load_gx


def _not_null(column: str):
    load_gx()
    from great_expectations.expectations.row_conditions import Column

    return Column(column).is_not_null()


def _unknown(reason: str, column: str, helper: str, header: str) -> Rule:
    """A code must exist in the reference. The checked view looks it up once (helper column);
    the suite expects the lookup to succeed wherever a code is given. (Passing the reference as a
    GX value_set costs seconds per batch in pydantic copies of a 60,000-element list.)"""
    return Rule(
        reason, f"{header} 存在于参考数据",
        f'"{column}" is not null and not {helper}',
        f"{_q(header + '不在参考数据中: ')} || \"{column}\"",
        lambda refs: _gx().ExpectColumnValuesToBeInSet(
            column=helper, value_set=[True], row_condition=_not_null(column)),
    )


def _order(later: str, earlier: str, text: str) -> Rule:
    return Rule(
        "TIME_ORDER", text,
        f'"{later}" < "{earlier}"',
        _q(text + ": ") + f" || cast(\"{later}\" as varchar) || ' < ' || cast(\"{earlier}\" as varchar)",
        lambda refs: _gx().ExpectColumnPairValuesAToBeGreaterThanB(
            column_A=later, column_B=earlier, or_equal=True, ignore_row_if="either_value_is_missing"),
    )


def _future(column: str, header: str) -> Rule:
    # An occurrence date without a time compares as 00:00 (SPEC §3.6 export time).
    return Rule(
        "FUTURE_DATE", f"{header} 不晚于导出时间",
        f'cast("{column}" as timestamp) > "_export_time"',
        _q(header + "晚于导出时间: ") + f" || cast(\"{column}\" as varchar) || ' > ' || cast(\"_export_time\" as varchar)",
        lambda refs: _gx().ExpectColumnPairValuesAToBeGreaterThanB(
            column_A="_export_time", column_B=column, or_equal=True, ignore_row_if="either_value_is_missing"),
    )


def _range(column: str, lo: float | None, hi: float | None, header: str) -> Rule:
    """Plausibility check with no reason code: reported in validation_results, never quarantines."""
    return Rule(
        None, f"{header} 在合理范围 [{lo}, {hi}]", None, None,
        lambda refs: _gx().ExpectColumnValuesToBeBetween(column=column, min_value=lo, max_value=hi, mostly=0.99),
    )


# Cross-row, cross-batch: decided in SQL by the loader in export-time order (SPEC §3.6), no GX form.
ID_CONFLICT = Rule("ID_CONFLICT", "同一编号的不变字段一致", None, None, None)

SPECIFIC: dict[str, list[Rule]] = {
    "admin_units": [
        _unknown("UNKNOWN_VILLAGE", "parent_code", "_parent_known", "上级代码"),
        _range("lon", 73, 136, "经度"), _range("lat", 3, 54, "纬度"),
        _range("population", 0, 5_000_000, "人口"),
    ],
    "grids": [
        _unknown("UNKNOWN_VILLAGE", "village_code", "_village_known", "所属村代码"),
        _range("households", 0, 2000, "户数"),
    ],
    "households": [
        _unknown("UNKNOWN_GRID", "grid_code", "_grid_known", "网格编码"),
        _range("members", 1, 30, "家庭人口"),
    ],
    "visits": [
        _unknown("UNKNOWN_GRID", "grid_code", "_grid_known", "网格编码"),
        _unknown("UNKNOWN_HOUSEHOLD", "household_id", "_household_known", "户编号"),
        _future("visited_at", "日期时间"), _future("entered_at", "录入时间"),
        ID_CONFLICT,
    ],
    "events": [
        _unknown("UNKNOWN_GRID", "grid_code", "_grid_known", "网格编码"),
        _order("accepted_at", "reported_at", "受理时间早于上报时间"),
        _order("closed_at", "reported_at", "办结时间早于上报时间"),
        _order("closed_at", "accepted_at", "办结时间早于受理时间"),
        _future("reported_at", "上报时间"), _future("accepted_at", "受理时间"),
        _future("closed_at", "办结时间"), _future("entered_at", "录入时间"),
        ID_CONFLICT,
    ],
    "disputes": [
        Rule("UNKNOWN_VILLAGE", "村名可在区划中找到",
             '"village_name" is not null and "_village_matches" = 0',
             "'村名不在区划中: ' || coalesce(\"township_name\" || ' ', '') || \"village_name\"",
             lambda refs: _gx().ExpectColumnValuesToNotBeInSet(
                 column="_village_matches", value_set=[0],
                 row_condition=_not_null("village_name"))),
        Rule("AMBIGUOUS_VILLAGE", "村名在范围内唯一",
             '"_village_matches" > 1',
             "'村名对应多个村: ' || \"village_name\" || '（' || cast(\"_village_matches\" as varchar) || ' 个）'",
             lambda refs: _gx().ExpectColumnValuesToBeBetween(column="_village_matches", max_value=1)),
        _order("concluded_on", "registered_on", "办结日期早于登记日期"),
        _future("registered_on", "登记日期"), _future("concluded_on", "办结日期"),
        _range("amount", 0, 100_000_000, "涉及金额"), _range("party_count", 1, 500, "当事人数"),
        ID_CONFLICT,
    ],
    "points": [
        _unknown("UNKNOWN_VILLAGE", "village_code", "_village_known", "村代码"),
        _unknown("UNKNOWN_HOUSEHOLD", "household_id", "_household_known", "户编号"),
        _future("occurred_on", "发生日期"), _future("entered_on", "录入日期"),
        _range("points", -1000, 1000, "分值"),
        ID_CONFLICT,
    ],
    "redemptions": [
        _unknown("UNKNOWN_VILLAGE", "village_code", "_village_known", "村代码"),
        _unknown("UNKNOWN_HOUSEHOLD", "household_id", "_household_known", "户编号"),
        _future("redeemed_on", "兑换日期"),
        _range("points_spent", 0, 100_000, "消耗积分"),
        ID_CONFLICT,
    ],
}
