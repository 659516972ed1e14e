"""积分 Points: per-household distribution, participation by village, star households, redemptions."""

import pandas as pd
import streamlit as st

from dashboard import charts
from dashboard.export import show
from dashboard.i18n import fmt_count, fmt_pct, t
from dashboard.state import current, guard, run
from pipelines import warehouse as wh

c = current()
st.title(t("points_title", unit=c.unit.name, period=c.period))

with guard():
    dist = run(wh.points_distribution, c.period, c.unit.code)
    cats = run(wh.points_by_category, c.period, c.unit.code)
    part = run(wh.village_participation, c.period, c.unit.code)
    stars = run(wh.star_households, c.year, c.unit.code)
    red = run(wh.redemptions, c.unit.code)
    target = wh.catalogue()["points_participation_rate"].target

if dist.empty:
    st.info(t("no_rows"))
    st.stop()
# one value per registry household, rebuilt from the counts (the gateway returns no household rows)
hh = pd.DataFrame({"points": dist["points"].repeat(dist["households"]).reset_index(drop=True)})

a, b, d = st.columns(3)
a.metric(t("households"), fmt_count(len(hh)))
a.caption(t("zero_share", share=fmt_pct((hh["points"] == 0).mean())))
b.metric(t("points"), fmt_count(hh["points"].sum()))
d.metric(t("redeemed_month"), fmt_count(red.loc[red["period"] == c.period, "redemptions"].sum()))

left, right = st.columns(2)
with left:
    st.plotly_chart(charts.histogram(hh["points"], t("points_distribution"), t("points")), width="stretch",
                    config={"displaylogo": False})
with right:
    st.markdown(f"**{t('by_category')}**")
    if len(cats):
        show(cats.rename(columns={"category": t("category"), "gained": t("gained"), "deducted": t("deducted"),
                                  "records": t("count")})[[t("category"), t("gained"), t("deducted"), t("count")]],
             f"积分类别_{c.period}", key="points_categories",
             reasons={t("gained"): t("why_none"), t("deducted"): t("why_none")})
    else:
        st.info(t("no_rows"))

st.plotly_chart(charts.bar_by_village(part, "name", "participation", t("participation"), share=True, target=target),
                width="stretch", config={"displaylogo": False})

left, right = st.columns(2)
with left:
    if stars.empty:
        st.info(t("no_rows"))
    else:
        st.plotly_chart(charts.stars_figure(stars, t("stars", year=c.year)), width="stretch",
                        config={"displaylogo": False})
with right:
    if red.empty:
        st.info(t("no_rows"))
    else:
        st.plotly_chart(charts.stacked_bars(red, "period", "redemptions", "item", t("redemptions"), t("item")),
                        width="stretch", config={"displaylogo": False})
        month = red[red["period"] == c.period]
        if len(month):
            show(pd.DataFrame({t("item"): month["item"], t("count"): month["redemptions"],
                               t("points_spent"): month["points_spent"]}), f"积分兑换_{c.period}", key="points_redemptions")
