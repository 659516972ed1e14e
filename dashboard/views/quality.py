"""数据质量 Data quality: batches, per-file counts, quarantined rows by reason, validation results
(county accounts), and reporting completeness and timeliness by grid (every account, scoped)."""

import streamlit as st

from dashboard.i18n import dash_missing, fmt_pct, label_codes, relabel, t
from dashboard.state import current, guard, run
from pipelines import warehouse as wh


def _show(df, reasons: dict[str, str] | None = None) -> None:
    shown = relabel(label_codes(df))
    table, config = dash_missing(shown, {relabel(df[[k]]).columns[0]: v for k, v in (reasons or {}).items() if k in df})
    st.dataframe(table, hide_index=True, width="stretch", column_config=config)


c = current()
st.title(t("quality_title", unit=c.unit.name))

with guard():
    grid = run(wh.reporting_by_grid, c.period, c.unit.code)
    if c.scope.role == "county":
        batches = run(wh.load_batches)
        files = run(wh.load_files)
        reasons = run(wh.quarantine_by_reason)
        checks = run(wh.validation_results)

st.subheader(t("reporting", period=c.period))
inactive = int((~grid["active"].astype(bool)).sum()) if len(grid) else 0
a, b, d = st.columns(3)
a.metric(t("grids_active", n=len(grid) - inactive, total=len(grid)),
         fmt_pct(1 - inactive / len(grid)) if len(grid) else "—")
total = grid["visits"].sum() + grid["events"].sum()
timely = (grid["timely_rate"].fillna(0) * (grid["visits"] + grid["events"])).sum()
b.metric(t("timely"), fmt_pct(timely / total) if total else "—")
d.metric(t("visits") + " / " + t("events"), f"{int(grid['visits'].sum())} / {int(grid['events'].sum())}")
key_name = wh.catalogue()["key_visit_rate"].name_zh
table, config = dash_missing(
    grid.assign(active=grid["active"].map(lambda v: t("yes") if v else "✗"),
                key_visit_rate=grid["key_visit_rate"].map(fmt_pct), timely_rate=grid["timely_rate"].map(fmt_pct))[
        ["grid_code", "grid_name", "village_name", "grid_head", "visits", "events", "active", "key_visit_rate",
         "timely_rate"]
    ].rename(columns={"grid_code": "网格编码", "grid_name": t("grid_name"), "village_name": t("tip_village"),
                      "grid_head": t("tip_head"), "visits": t("visits"), "events": t("events"),
                      "active": t("active"), "key_visit_rate": key_name, "timely_rate": t("timely")}))
for col in (key_name, t("timely")):  # fmt_pct already wrote "—": say why on hover
    config[col] = st.column_config.TextColumn(help=t("missing_help", reason=t("why_no_records")))
st.dataframe(table, hide_index=True, width="stretch", height=min(35 * (len(grid) + 1) + 3, 420), column_config=config)

if c.scope.role != "county":
    st.info(t("county_only"))
    st.stop()

st.subheader(t("batches"))
_show(batches)
st.subheader(t("files"))
_show(files, {"source_kind": t("why_rejected")})
left, right = st.columns(2)
with left:
    st.subheader(t("quarantine"))
    _show(reasons)
with right:
    st.subheader(t("validation"))
    failed = int((~checks["success"].astype(bool)).sum()) if len(checks) else 0
    st.caption(t("failed_checks", n=failed))
    _show(checks)

# --- dashboard-glance (#14 defect 10): the quarantined rows themselves -------------------------
st.subheader(t("quarantine_rows"))
latest = st.toggle(t("latest_batch_only"), value=True, key="quarantine_latest")
with guard():
    rows = run(wh.quarantine_rows, latest)
if rows.empty:
    st.info(t("no_quarantine_rows"))
else:
    st.caption(t("quarantine_rows_note", n=len(rows)))
    _show(rows.rename(columns={"sheet": "_sheet", "row_number": "_row"}).rename(
        columns={"_sheet": t("sheet"), "_row": t("row_number")}))
