"""趋势 Trends: an indicator over the months with its target, 环比 and 同比; event categories and
dispute types by month."""

import streamlit as st

from dashboard import charts
from dashboard.i18n import fmt_delta, fmt_value, ind_name, paren, t
from dashboard.state import current, guard, run
from pipelines import warehouse as wh

c = current()
st.title(t("trends_title", unit=c.unit.name))

inds = wh.indicators()
by_id = {i.id: i for i in inds}
# the default goes through session state, not index=: app.py re-assigns it after a language switch
if st.session_state.get("trend_indicator") not in by_id:
    st.session_state["trend_indicator"] = "event_closure_rate" if "event_closure_rate" in by_id else next(iter(by_id))
ind_id = st.selectbox(t("trend_indicator"), list(by_id), format_func=lambda i: ind_name(by_id[i]),
                      key="trend_indicator")
ind = by_id[ind_id]

with guard():
    trend = run(wh.indicator_trend, ind_id, c.unit.code)
    cats = run(wh.event_categories, c.unit.code)
    disputes = run(wh.dispute_types, c.unit.code)

if trend.empty:
    st.info(t("no_rows"))
else:
    now = trend[trend["period"] == c.period]
    if len(now):
        r = now.iloc[0]
        a, b, cc = st.columns(3)
        a.metric(ind_name(ind) + paren(c.period), fmt_value(r["value"], ind.unit))
        b.metric(t("mom"), fmt_delta(r["mom"], ind.unit) or "—")
        cc.metric(t("yoy"), fmt_delta(r["yoy"], ind.unit) or t("no_yoy"))
    st.plotly_chart(charts.trend_figure(trend, ind), width="stretch", config={"displaylogo": False})
    st.plotly_chart(charts.change_figure(trend, ind), width="stretch", config={"displaylogo": False})

left, right = st.columns(2)
with left:
    if cats.empty:
        st.info(t("no_rows"))
    else:
        st.plotly_chart(charts.stacked_bars(cats, "period", "events", "category", t("events_by_category"),
                                            t("category")), width="stretch", config={"displaylogo": False})
with right:
    if disputes.empty:
        st.info(t("no_rows"))
    else:
        st.plotly_chart(charts.stacked_bars(disputes, "period", "disputes", "dispute_type", t("disputes_by_type"),
                                            t("dispute_type")), width="stretch", config={"displaylogo": False})
