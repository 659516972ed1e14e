"""事件与案件 Cases (page 9): the records behind the numbers. Drill-through from a KPI card or a
league-table cell (query parameters ind, unit, period), events with their lifecycle, open events
past their deadline by age, dispute cases; every table downloads (XLSX, CSV)."""

import streamlit as st

from dashboard.export import table
from dashboard.i18n import fmt_count, fmt_value, ind_name, t
from dashboard.state import current, guard, run, run_in
from pipelines import warehouse as wh

c = current()
st.title(t("cases_title", unit=c.unit.name))

EVENT_COLS = ["event_id", "village_name", "grid_name", "category", "source", "handling_level", "status", "reporter",
              "reported_at", "accepted_at", "deadline", "closed_at", "satisfaction", "hours_to_accept",
              "hours_to_close", "closed_late", "overdue_open", "days_overdue"]
# On screen (#14 defect 8: the full list scrolled sideways at 1440 px); the downloads keep EVENT_COLS.
# The grid's name carries its village's (向阳社区第1网格), so the village column is download-only.
EVENT_SCREEN = ["event_id", "grid_name", "category", "status", "reported_at", "deadline", "closed_at", "closed_late"]
OVERDUE_SCREEN = ["age_band", "event_id", "grid_name", "category", "reported_at", "deadline", "days_overdue"]
DISPUTE_COLS = ["case_id", "village_name", "registered_on", "dispute_type", "parties_masked", "party_count", "amount",
                "mediation_org", "mediator", "result", "concluded_on", "days_to_conclude", "is_petition",
                "related_event_id"]
DISPUTE_SCREEN = ["case_id", "village_name", "registered_on", "dispute_type", "parties_masked", "mediation_org",
                  "result", "concluded_on"]
DRILL_COLS = {
    "event": ["in_numerator", "record_id", "grid_name", "category", "handling_level", "status", "reported_at",
              "deadline", "closed_at", "handle_hours", "satisfaction"],
    "dispute": ["in_numerator", "record_id", "village_code", "registered_on", "dispute_type", "parties_masked",
                "party_count", "amount", "mediation_org", "result", "concluded_on", "is_petition"],
    "household": ["in_numerator", "record_id", "grid_code", "grid_name", "head_name_masked", "key_type", "is_key",
                  "last_visit", "points_records", "confirmed_points", "positive_points", "redeemed_points"],
    "grid": ["in_numerator", "record_id", "grid_name", "grid_head", "visits", "events"],
    "visit": ["in_numerator", "record_kind", "record_id", "grid_code", "village_code", "record_type", "occurred_at",
              "entered_at", "lag_days"],
}

# the drill's lists on screen (the full DRILL_COLS scrolled sideways at 1440 px; #14 defect 8): a
# household's keyed id, codes a name already gives, and the rarer fields are in the download only
DRILL_SCREEN = {
    "event": ["in_numerator", "record_id", "grid_name", "status", "reported_at", "deadline", "closed_at", "handle_hours"],
    "dispute": ["in_numerator", "record_id", "registered_on", "dispute_type", "parties_masked", "result",
                "concluded_on", "is_petition"],
    "household": ["in_numerator", "grid_name", "head_name_masked", "key_type", "is_key", "last_visit",
                  "confirmed_points", "redeemed_points"],
    "visit": ["in_numerator", "record_id", "grid_code", "record_type", "occurred_at", "entered_at", "lag_days"],
}


def unit_name(code: str) -> str:
    """Name of a linked unit (county, township, village or grid), checked against the scope."""
    if len(code) == 15:
        c.scope.check(code)
        names = run(wh.unit_names)
        return dict(zip(names["unit_code"], names["name"], strict=True)).get(code, code)
    if code == c.scope.code:
        return wh.resolve_unit(c.scope).name
    return wh.resolve_unit(c.scope, code if len(code) == 9 else None, code if len(code) == 12 else None).name


def drill_section(ind_id: str, unit_code: str, period: str) -> None:
    by_id = {i.id: i for i in wh.indicators()}
    if ind_id not in by_id or period not in c.periods:
        st.warning(t("drill_bad"))
        return
    ind = by_id[ind_id]
    with guard():
        name = unit_name(unit_code)
        recs = run(wh.drill_records, period, ind_id, unit_code)
        kpi = run(wh.kpis, period, unit_code)
    st.subheader(t("drill_title", unit=name, period=period, indicator=ind_name(ind)))
    value = None
    if ind_id in set(kpi["indicator_id"]):
        value = kpi.set_index("indicator_id").loc[ind_id, "value"]
    num, den = recs["numerator_part"].sum(), recs["denominator_part"].sum()
    shown_value = fmt_value(value, ind.unit)
    if ind_id in ("points_per_household", "redemption_rate"):
        st.markdown(t("drill_sum", n=len(recs), num=f"{num:,.1f}", den=f"{den:,.1f}", value=shown_value))
    elif ind.kind == "rate" and ind_id != "disputes_per_1000":
        st.markdown(t("drill_rate", den=fmt_count(len(recs)), num=fmt_count(int(recs["in_numerator"].sum())),
                      value=shown_value))
    else:
        st.markdown(t("drill_count", n=fmt_count(len(recs)), value=shown_value))
    kind = "visit" if ind_id == "entry_timeliness_rate" else (recs["record_kind"].iloc[0] if len(recs) else "event")
    cols = DRILL_COLS.get(kind, list(recs.columns))
    if ind.kind != "rate":
        cols = [x for x in cols if x != "in_numerator"]
    screen = [x for x in DRILL_SCREEN[kind] if x in cols] if kind in DRILL_SCREEN else None
    table(recs, cols, f"{name}_{period}_{ind.name_zh}", key="drill", screen=screen)
    if screen is not None:
        st.caption(t("drill_more_in_download"))
    if st.button(t("drill_clear"), key="drill_clear"):
        st.query_params.clear()
        st.rerun()


# Filters live in the URL too (?ev_cat=…), so a reload or a shared link keeps them.
# "" = all (a None selection would show Streamlit's own "Choose an option" placeholder)
FILTERS = {"ev_month": True, "ev_cat": "", "ev_status": "", "ev_overdue": False,
           "dc_month": True, "dc_type": "", "dc_result": ""}


def restore_filter(key: str, options: list | None = None) -> None:
    """Before a filter widget: take its value from the URL on a fresh session, else keep the session's."""
    if key not in st.session_state:
        raw = st.query_params.get(key)
        default = FILTERS[key]
        if raw is None:
            value = default
        elif isinstance(default, bool):
            value = raw == "1"
        else:
            value = raw
        st.session_state[key] = value
    if options is not None and st.session_state[key] not in options:
        st.session_state[key] = ""


def persist_filters() -> None:
    for key, default in FILTERS.items():
        value = st.session_state.get(key, default)
        if value == default:
            st.query_params.pop(key, None)
        else:
            st.query_params[key] = ("1" if value else "0") if isinstance(default, bool) else str(value)


ALL = t("all")  # bound now: AppTest calls format_func outside the run, where the language is unknown
qp = st.query_params
if qp.get("ind"):
    drill_section(qp.get("ind"), qp.get("unit") or c.unit.code, qp.get("period") or c.period)
    st.divider()

tab_events, tab_overdue, tab_disputes = st.tabs([t("tab_events"), t("tab_overdue"), t("tab_disputes")])

with tab_events:
    f1, f2, f3, f4 = st.columns([2, 2, 2, 3])
    restore_filter("ev_month")
    month_only = f1.checkbox(t("this_month_only", period=c.period), key="ev_month")
    with guard():
        # the unfiltered counts, in the argument form of the counts below: unfiltered (the default
        # view) the two are one cached query
        options = run(wh.event_case_counts, c.period if month_only else None, c.unit.code, None, None, False).iloc[0]
    cats = ["", *options["categories"]]
    restore_filter("ev_cat", cats)
    category = f2.selectbox(t("category"), cats, key="ev_cat",
                            format_func=lambda v: v or ALL)
    states = ["", *options["statuses"]]
    restore_filter("ev_status", states)
    status = f3.selectbox(t("status"), states, key="ev_status",
                          format_func=lambda v: v or ALL)
    restore_filter("ev_overdue")
    overdue = f4.checkbox(t("overdue_only"), key="ev_overdue")
    ev_args = (c.period if month_only else None, c.unit.code, category or None, status or None, overdue)
    with guard():
        n = run(wh.event_case_counts, *ev_args).iloc[0]
        ev = run(wh.event_cases, *ev_args, wh.CASE_LIST_ROWS)
    st.markdown(t("events_shown", n=fmt_count(int(n["n"])), closed=fmt_count(int(n["closed"])),
                  late=fmt_count(int(n["late"])), overdue=fmt_count(int(n["overdue"]))))
    if ev.empty:
        st.info(t("no_rows"))
    else:
        table(ev, EVENT_COLS, f"{c.unit.name}_事件", key="events", screen=EVENT_SCREEN,
              full=lambda scope=c.scope: run_in(scope, wh.event_cases, *ev_args))
        if n["n"] > len(ev):
            st.caption(t("cases_first_rows", shown=fmt_count(len(ev)), n=fmt_count(n["n"])))
        st.caption(t("cases_more_in_download"))

with tab_overdue:
    with guard():
        od = run(wh.overdue_events, c.unit.code, wh.CASE_LIST_ROWS)
        summary = run(wh.overdue_summary, c.unit.code)
    if od.empty:
        st.success(t("no_overdue"))
    else:
        n_overdue = int(summary["overdue"].sum())
        st.markdown(t("overdue_as_of", as_of=str(od["as_of"].iloc[0])[:16], n=fmt_count(n_overdue)))
        bands = ["1–7", "8–30", "31–90", ">90"]
        st.caption(t("by_age_band"))
        cols = st.columns(len(bands))
        for col, band in zip(cols, bands, strict=True):
            col.metric(t("days_band", band=band), fmt_count(int(summary[band].sum())))
        st.caption(t("by_grid"))
        table(summary, ["village_name", "grid_name", "grid_code", "overdue", *bands], f"{c.unit.name}_超期未办结_网格",
              key="overdue_grid")
        table(od, ["age_band", *EVENT_COLS], f"{c.unit.name}_超期未办结", key="overdue", screen=OVERDUE_SCREEN,
              full=lambda scope=c.scope: run_in(scope, wh.overdue_events, c.unit.code))
        if n_overdue > len(od):
            st.caption(t("cases_first_rows", shown=fmt_count(len(od)), n=fmt_count(n_overdue)))
        st.caption(t("cases_more_in_download"))

with tab_disputes:
    g1, g2, g3 = st.columns([2, 2, 2])
    restore_filter("dc_month")
    d_month = g1.checkbox(t("this_month_only", period=c.period), key="dc_month")
    with guard():
        all_cases = run(wh.dispute_cases, c.period if d_month else None, c.unit.code)
    dtypes = ["", *sorted(all_cases["dispute_type"].dropna().unique())]
    restore_filter("dc_type", dtypes)
    dtype = g2.selectbox(t("dispute_type"), dtypes,
                         key="dc_type", format_func=lambda v: v or ALL)
    results = ["", *sorted(all_cases["result"].dropna().unique())]
    restore_filter("dc_result", results)
    result = g3.selectbox(t("result"), results, key="dc_result",
                          format_func=lambda v: v or ALL)
    with guard():
        dc = run(wh.dispute_cases, c.period if d_month else None, c.unit.code, dtype or None, result or None)
    states = "，".join(f"{k} {v}" for k, v in dc["result"].fillna("—").value_counts().items())
    st.markdown(t("disputes_shown", n=fmt_count(len(dc)), states=states or "—"))
    if dc.empty:
        st.info(t("no_rows"))
    else:
        table(dc, DISPUTE_COLS, f"{c.unit.name}_纠纷案件", key="disputes", screen=DISPUTE_SCREEN)
        st.caption(t("disputes_more_in_download"))

persist_filters()
