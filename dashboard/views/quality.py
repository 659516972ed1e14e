"""数据质量 Data quality: batches, per-file counts, quarantined rows by reason, validation results
(county accounts), and reporting completeness and timeliness by grid (every account, scoped)."""

import streamlit as st

from dashboard.export import download_buttons, rows_height, show, static
from dashboard.i18n import REASONS, dash_missing, fmt_pct, ind_name, label_codes, lang, relabel, t
from dashboard.state import current, guard, run
from pipelines import warehouse as wh


def _one_language(text, keep_code: bool = False):
    """A stored reason ("CODE: 中文 / English") in the user's language, its code prefix dropped
    where the code's label is shown beside it: the bilingual text ran past the table's edge
    (#14 defect 8). Downloads keep the stored text."""
    if not isinstance(text, str):
        return text
    zh, _, en = text.partition(" / ")
    code, sep, rest = zh.partition(": ")
    if not (sep and code in REASONS):
        code = ""
    elif not keep_code:
        zh = rest
    if en and lang() == "en":
        return f"{code}: {en}" if code and keep_code else en
    return zh


def _with_code(text):
    return _one_language(text, keep_code=True)


def _show(df, name: str, reasons: dict[str, str] | None = None, hide: tuple[str, ...] = (),
          texts: tuple[str, ...] = (), wrap: bool = False, short=_one_language, **kw) -> None:
    """A warehouse frame with translated codes and headers, and its XLSX/CSV downloads (every
    column). On screen the ``hide`` columns are left out and the ``texts`` columns shortened to the
    user's language, so the table fits the page."""
    full = relabel(label_codes(df))
    screen = df.drop(columns=[c for c in hide if c in df]).assign(
        **{c: df[c].map(short) for c in texts if c in df})
    if wrap:  # sentences in cells: a page table wraps them
        static(relabel(label_codes(screen)), name, key=f"quality_{name}", download=full)
        return
    show(relabel(label_codes(screen)), name, key=f"quality_{name}", download=full,
         reasons={relabel(df[[k]]).columns[0]: v for k, v in (reasons or {}).items() if k in df}, **kw)


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
key_name = ind_name(wh.catalogue()["key_visit_rate"])
grid_cols = ["grid_code", "grid_name", "village_name", "grid_head", "visits", "events", "active", "key_visit_rate",
             "timely_rate"]
grid_names = {"visits": t("visits"), "events": t("events"), "active": t("active"), "key_visit_rate": key_name,
              "timely_rate": t("timely")}
table, config = dash_missing(relabel(
    grid.assign(active=grid["active"].map(lambda v: t("yes") if v else "✗"),
                key_visit_rate=grid["key_visit_rate"].map(fmt_pct), timely_rate=grid["timely_rate"].map(fmt_pct))[
        grid_cols].rename(columns=grid_names)))
for col in (key_name, t("timely")):  # fmt_pct already wrote "—": say why on hover
    config[col] = st.column_config.TextColumn(help=t("missing_help", reason=t("why_no_records")))
st.dataframe(table, hide_index=True, width="stretch", height=rows_height(len(grid), 420), column_config=config)
# the download keeps the rates as numbers (fractions) and 是/否 for active
download_buttons(relabel(grid[grid_cols].assign(active=grid["active"].astype(bool)).rename(columns=grid_names)),
                 f"网格上报_{c.period}", key="quality_grids")

if c.scope.role != "county":
    st.info(t("county_only"))
    st.stop()

st.subheader(t("batches"))
_show(batches, "导入批次")
st.subheader(t("files"))
# the reason column last but one (it was off-screen at the far right), the batch in the download only
# the import profile a file was read with stays on screen (#11: which format a file was taken for)
files_cols = ["file_name", "source_kind", "profile", "status", "reason", "rows_read", "rows_loaded",
              "rows_quarantined", "rows_duplicate", "rows_non_data", "batch_id"]
_show(files[[c for c in files_cols if c in files]], "文件明细", {"source_kind": t("why_rejected")},
      hide=("batch_id",), texts=("reason",), wrap=True)
# one above the other, full width: side by side the example and the check's name were cut ("MISS…")
st.subheader(t("quarantine"))
_show(reasons, "隔离原因", texts=("example",))
st.subheader(t("validation"))
failed = int((~checks["success"].astype(bool)).sum()) if len(checks) else 0
st.caption(t("failed_checks", n=failed))
_show(checks, "校验结果", hide=("batch_id",))

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
        columns={"_sheet": t("sheet"), "_row": t("row_number")}), "隔离行",
        # the reason keeps its code (the code's label column and the file's kind stay in the download)
        hide=("batch_id", "source_kind", "reason_code") if latest else ("source_kind", "reason_code"),
        texts=("reason",), short=_with_code)
