"""省级总览 Province overview (SPEC §4.1): the counties of a lake ranked by their villages' scores,
their indicators side by side with lights, and one county's village league; read-only, scoped
(a county account sees its own county, with its province-wide rank)."""

import pandas as pd
import streamlit as st

from dashboard import export
from dashboard.i18n import LIGHT_HEX, dash_missing, fmt_value, ind_name, paren, t
from dashboard.lake_state import lake_path, run
from dashboard.state import current, guard
from pipelines import warehouse as wh

c = current()
st.title(t("province_title", unit=c.unit.name, period=c.period))
st.caption(t("province_note", lake=lake_path()))

with guard():
    league = run(wh.county_league, c.scope, c.period)
    ind = run(wh.county_indicators, c.scope, c.period)

if league.empty:
    st.info(t("no_county_scores"))
    st.stop()

m1, m2, m3, m4 = st.columns(4)
m1.metric(t("counties_n"), f"{len(league):,}")
m2.metric(t("villages_scored_n"), f"{int(league['villages_scored'].fillna(0).sum()):,}")
m3.metric(t("red_n"), f"{int(league['red'].fillna(0).sum()):,}")
m4.metric(t("black_n"), f"{int(league['black'].fillna(0).sum()):,}")

# --- the county league ---
st.subheader(t("county_league"))
show = pd.DataFrame({
    t("rank"): league["rank"].astype("Int64"),
    t("county"): league["name"],
    t("county_code"): league["county_code"],
    t("villages_scored_n"): league["villages_scored"].astype("Int64"),
    t("mean_score"): league["mean_score"].round(2),
    t("red_n"): league["red"].astype("Int64"),
    t("black_n"): league["black"].astype("Int64"),
    t("veto_n"): league["vetoed"].astype("Int64"),
})
view, config = dash_missing(show)  # a county with no scored village: "—" with the reason on hover
st.dataframe(view, hide_index=True, width="stretch", height=35 * (len(show) + 1) + 3, column_config=config,
             key="county_league")
export.download_buttons(show, t("county_league"), key="county_league")
st.caption(t("county_league_note"))

# --- indicators across counties: one row per county, one column per indicator, lit as elsewhere ---
st.subheader(t("county_indicators"))
if len(ind):
    inds = [i for i in wh.indicators() if i.id in set(ind["indicator_id"])]
    cells = ind.set_index(["county_code", "indicator_id"])
    order = league["county_code"].tolist()
    names = dict(zip(league["county_code"], league["name"], strict=True))
    wide = pd.DataFrame({t("county"): [names[k] for k in order], t("county_code"): order})
    colours = pd.DataFrame("", index=wide.index, columns=wide.columns)
    raw = wide.copy()  # the download: numbers, not formatted text
    for i in inds:
        col = ind_name(i)
        vals, cols, nums = [], [], []
        for k in order:
            if (k, i.id) in cells.index:
                row = cells.loc[(k, i.id)]
                vals.append("● " + fmt_value(row["value"], i.unit) + (f" ({t('low_n_note')})" if row["low_n"] else ""))
                cols.append(f"color: {LIGHT_HEX.get(row['light'], LIGHT_HEX['grey'])}")
                nums.append(row["value"])
            else:
                vals.append("—")
                cols.append(f"color: {LIGHT_HEX['grey']}")
                nums.append(None)
        wide[col], colours[col], raw[col] = vals, cols, nums
    st.dataframe(wide.style.apply(lambda _df: colours, axis=None), hide_index=True, width="stretch",
                 height=35 * (len(wide) + 1) + 3, key="county_indicators")
    export.download_buttons(raw, t("county_indicators"), key="county_indicators")

# --- drill-down: one county's villages as its own marts rank them ---
st.subheader(t("county_drill"))
names = dict(zip(league["county_code"], league["name"], strict=True))
if st.session_state.get("drill_county") not in names:
    st.session_state["drill_county"] = next(iter(names))
county = st.selectbox(t("pick_county"), list(names), format_func=lambda k: names[k] + paren(k), key="drill_county")
with guard():
    villages = run(wh.county_villages, c.scope, c.period, county)
vshow = pd.DataFrame({
    t("rank"): villages["rank"].astype("Int64"),
    t("name"): villages["name"],
    t("township"): villages["township_name"],
    t("score"): villages["score"].round(1),
    t("board"): villages["board"].map({"red": t("board_red"), "black": t("board_black")}).fillna(""),
    t("veto"): villages["veto"].map(lambda v: t("yes") if bool(v) else ""),
})
view, config = dash_missing(vshow, {t("score"): t("why_not_scored")})
st.dataframe(view, hide_index=True, width="stretch", column_config=config, key="county_villages")
export.download_buttons(vshow, f"{names[county]}_{c.period}", key="county_villages")
