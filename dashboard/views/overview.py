"""总览 Overview: KPI cards against target and last month (traffic lights), and the month's alerts."""

import streamlit as st

from dashboard.export import show
from dashboard.i18n import LIGHT_COLOURS, fmt_count, fmt_delta, fmt_value, ind_name, relabel, t
from dashboard.state import current, guard, run
from pipelines import warehouse as wh

c = current()
st.title(t("overview_title", unit=c.unit.name, period=c.period))

with guard():
    kpis = run(wh.kpis, c.period, c.unit.code)
    counts = run(wh.month_counts, c.period, c.unit.code).iloc[0]
    black = run(wh.board_alerts, c.period, c.unit.code)
    inactive = run(wh.inactive_grids, c.period, c.unit.code)
    low_n = run(wh.low_n_alerts, c.period, c.unit.code)
    cat = wh.catalogue()

st.caption(t("month_counts", visits=fmt_count(counts["visits"]), events=fmt_count(counts["events"]),
             disputes=fmt_count(counts["disputes"]), points=fmt_count(counts["points_records"])))
if int(counts["events"]) == 0:
    st.info(t("no_events_month"))

by_id = {ind.id: ind for ind in cat.indicators}
for group in cat.groups:
    rows = kpis[kpis["group"] == group.id]
    if rows.empty:
        continue
    st.subheader(group.name_en if st.session_state.get("lang") == "en" else group.name_zh)
    cols = st.columns(4)
    for i, row in enumerate(rows.itertuples(index=False)):
        ind = by_id[row.indicator_id]
        with cols[i % 4].container(border=True):
            # the name above the figure, where it wraps: as the metric's own label a long English
            # name was cut ("Ordinary household visit rate (q…", #14 defect 9)
            st.markdown(f"**{ind_name(ind)}**",
                        help=ind.definition_en if st.session_state.get("lang") == "en" else ind.definition_zh)
            st.metric(
                ind_name(ind), label_visibility="collapsed",
                value=fmt_value(row.value, ind.unit),
                delta=fmt_delta(row.value - row.prev_value if row.prev_value == row.prev_value else None, ind.unit),
                # a move made by records still awaiting review is lag: grey, never red or green
                delta_color="off" if ind.direction == "none" or bool(row.lag) else (
                    "inverse" if ind.direction == "lower" else "normal"),
            )
            status = f":{LIGHT_COLOURS[row.light]}[●] {t('light_' + row.light)}"
            if ind.target is not None:
                status += f" · {t('target')} {fmt_value(ind.target, ind.unit)}"
            st.markdown(status)
            if row.prev_value == row.prev_value:  # not NaN
                since = t("vs_same_point_last_quarter") if row.compare == "quarter" else t("vs_last_month")
                st.caption(f"{since}：{fmt_value(row.prev_value, ind.unit)}")
            if row.pending == row.pending and row.pending:  # records awaiting review will change this rate
                st.caption(t("pending_beside", n=fmt_count(row.pending), of=fmt_count(row.pending_of)))
            # drill-through (page 9): the records this number counts
            st.page_link("views/cases.py", label=t("see_records"),
                         query_params={"ind": row.indicator_id, "unit": c.unit.code, "period": c.period})

st.subheader(t("alerts"))
if black.empty and inactive.empty and low_n.empty:
    st.success(t("no_alerts"))
if len(black):
    st.error(t("alert_black", n=len(black)) + "：" + "、".join(
        f"{n}（{t('veto')}）" if v else n for n, v in zip(black["name"], black["veto"], strict=True)))
if len(inactive):
    with st.expander(t("alert_inactive", n=len(inactive)), expanded=len(inactive) <= 10):
        show(relabel(inactive[["grid_code", "grid_name", "village_name", "grid_head"]]),
             f"无上报网格_{c.period}", key="overview_inactive")
if len(low_n):
    with st.expander(t("alert_low_n", n=len(low_n))):
        names = low_n["name_en"] if st.session_state.get("lang") == "en" else low_n["name_zh"]
        show(low_n.assign(indicator=names)[["name", "indicator", "numerator", "denominator"]].rename(
            columns={"name": t("name"), "indicator": t("indicator"), "numerator": t("numerator"),
                     "denominator": t("denominator")}), f"样本不足_{c.period}", key="overview_low_n")
