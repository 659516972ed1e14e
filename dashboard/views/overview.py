"""总览 Overview: KPI cards against target and last month (traffic lights), and the month's alerts."""

import streamlit as st

from dashboard.export import show
from dashboard.i18n import (
    LIGHT_COLOURS,
    colon,
    fmt_count,
    fmt_delta,
    fmt_value,
    ind_name,
    join_names,
    relabel,
    t,
)
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

# --- at a glance (dashboard-glance, #14): where the unit stands, who leads, who lags, what changed ---
GLANCE_TOP = 3  # villages named in each of top, bottom, risers and fallers
STEADY_MIN = wh.STEADY_MIN  # the gateway's rule, shared with the pack


def _names(df) -> str:
    return t("glance_sep").join(df["name"]) if len(df) else t("glance_none")


def _signed(x: float) -> str:
    return f"{x:+.1f}"


def _glance() -> None:
    with guard():
        pos = run(wh.league_position, c.period, c.unit.code)
        movers = run(wh.village_movers, c.period, c.unit.code) if len(c.periods) > 1 else None
    st.subheader(t("glance"))
    if c.unit.level == "village":
        me = pos[pos["village_code"] == c.unit.code]
        if me.empty or me["rank"].isna().all():
            st.markdown(f"**{t('glance_unranked')}**")
            return
        r = me.iloc[0]
        line = f"**{t('glance_rank', rank=int(r['rank']), n=int(r['n_ranked']))}** · {t('score')} {r['score']:.1f}"
        if r["board"] in ("red", "black"):
            line += f" · {t('board_' + r['board'])}"
        prev = movers[movers["village_code"] == c.unit.code] if movers is not None else None
        if prev is not None and len(prev) and prev["prev_rank"].notna().all():
            line += f" · {t('glance_prev_rank', rank=int(prev['prev_rank'].iloc[0]))}"
        st.markdown(line)
        return
    ranked = pos[pos["rank"].notna()]
    if ranked.empty:
        st.info(t("no_scores"))
        return
    red = ranked[ranked["board"] == "red"]
    black = ranked[(ranked["board"] == "black") | ranked["veto"].astype(bool)]
    black_names = [n + t("glance_veto_tag") if v else n for n, v in zip(black["name"], black["veto"], strict=True)]
    colon, sep = t("glance_colon"), t("glance_sep")
    st.markdown(f":green[●] **{t('glance_red', n=len(red))}**{colon}{_names(red)}  \n"
                f":red[●] **{t('glance_black', n=len(black))}**{colon}{sep.join(black_names) or t('glance_none')}")
    k = min(GLANCE_TOP, len(ranked) // 2)  # a village is named as top or as bottom, never both
    top, bottom = ranked.head(max(k, 1)), ranked.tail(k).iloc[::-1]
    fmt = lambda df: sep.join(f"{n} {s:.1f}" for n, s in zip(df["name"], df["score"], strict=True))  # noqa: E731
    line = f"**{t('glance_top')}**{colon}{fmt(top)}"
    if k:
        line += f"  \n**{t('glance_bottom')}**{colon}{fmt(bottom)}"
    st.markdown(line)
    if movers is not None and movers["prev_score"].notna().any():
        m = movers[movers["score_change"].notna() & movers["rank"].notna() & movers["prev_rank"].notna()]
        # a move is headlined only when the published change and the change without lag agree in sign
        up = m[(m["score_change"] > 0) & (m["steady_change"] > STEADY_MIN)].sort_values("steady_change",
                                                                                     ascending=False)
        down = m[(m["score_change"] < 0) & (m["steady_change"] < -STEADY_MIN)].sort_values("steady_change")
        lagged = m[(m["lag_pending"] | m["lag_quarter"]) & ~m["village_code"].isin(
            set(up["village_code"]) | set(down["village_code"]))
                   & (m["score_change"].abs() > STEADY_MIN)]

        def moves(df) -> str:
            return sep.join(t("glance_move", name=n, prev=int(p), rank=int(r), delta=_signed(d))
                            for n, p, r, d in zip(df["name"], df["prev_rank"], df["rank"], df["score_change"],
                                                  strict=True)) or t("glance_no_movers")

        st.markdown(f"**{t('glance_risers')}**{colon}{moves(up.head(GLANCE_TOP))}  \n"
                    f"**{t('glance_fallers')}**{colon}{moves(down.head(GLANCE_TOP))}")
        st.caption(t("glance_lag_note", names=sep.join(lagged["name"])) if len(lagged) else t("glance_lag_note_none"))
    if c.unit.level == "county":
        with guard():
            towns = run(wh.township_standings, c.period)
        if len(towns) > 1:
            st.markdown(f"**{t('glance_townships')}**")
            show(towns.assign(
                score_mean=towns["score_mean"].round(1), score_change=towns["score_change"].round(1),
            )[["rank", "name", "villages", "score_mean", "score_change", "red", "black"]].rename(columns={
                "rank": t("glance_town_rank"), "name": t("township"), "villages": t("glance_villages_scored"),
                "score_mean": t("glance_mean_score"), "score_change": t("glance_mean_change"),
                "red": t("glance_red_n"), "black": t("glance_black_n")}),
                f"{t('glance_townships')}_{c.period}", key="township_standings")


_glance()

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
                st.caption(colon(since, fmt_value(row.prev_value, ind.unit)))
            if row.pending == row.pending and row.pending:  # records awaiting review will change this rate
                st.caption(t("pending_beside", n=fmt_count(row.pending), of=fmt_count(row.pending_of)))
            # drill-through (page 9): the records this number counts
            st.page_link("views/cases.py", label=t("see_records"),
                         query_params={"ind": row.indicator_id, "unit": c.unit.code, "period": c.period})

st.subheader(t("alerts"))
if black.empty and inactive.empty and low_n.empty:
    st.success(t("no_alerts"))
if len(black):
    st.error(t("alert_black_names", n=len(black), names=join_names(
        n + t("glance_veto_tag") if v else n for n, v in zip(black["name"], black["veto"], strict=True))))
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
