"""网格员考评 Grid workers (SPEC §6.1, §7 page 8): per township the month's league of grid workers
(total, grade, rank, change since last month), a worker's items and points and history, and the
张榜公示 sheet per village (PDF and XLSX). The gateway scopes every row: a village account sees its
own grids' workers only."""

import pandas as pd
import streamlit as st

from dashboard.export import rows_height, show
from dashboard.i18n import lang, t
from dashboard.state import current, guard, run
from pipelines import warehouse as wh
from pipelines.report import text as rt

c = current()
st.title(t("workers_title", unit=c.unit.name, period=c.period))
en = lang() == "en"

with guard():
    league = run(wh.worker_league, c.period, c.unit.code)
    sheet = wh.catalogue().workers

if league.empty:
    st.info(t("workers_empty", period=c.period))
    st.stop()

cuts = [g.min for g in sheet.grades if g.min is not None]
st.caption(t("workers_rule", base=sheet.base, g1=cuts[0], g2=cuts[1], g3=cuts[2]))
grade_en = {g.grade: g.name_en for g in sheet.grades}


def grade_text(g: str) -> str:
    return f"{g} {grade_en.get(g, '')}".strip() if en else g


def change_text(change, prev_rank) -> str:
    text = rt.fmt_change(change, prev_rank)
    return t("worker_new") if text == "新" else text


def league_view(rows: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({
        t("worker_rank"): rows["rank_in_township"].astype(int),
        t("worker_rank_change"): [change_text(ch, p) for ch, p in zip(rows["rank_change"], rows["prev_rank"],
                                                                        strict=True)],
        t("village"): rows["village_name"],
        t("grid_name"): rows["grid_name"],
        t("worker"): rows["worker_name"],
        t("worker_total"): rows["total"].round(4),
        t("worker_grade"): rows["grade"].map(grade_text),
        t("worker_total_change"): rows["total_change"].map(lambda v: "—" if pd.isna(v) else f"{v:+g}"),
    })


for code, rows in league.groupby("township_code", sort=True):
    st.subheader(t("workers_league", township=rows["township_name"].iloc[0] or code))
    view = league_view(rows)
    show(view, f"网格员考评_{c.period}_{code}", key=f"workers_{code}", height=rows_height(len(view), 560))

st.subheader(t("worker_detail"))
labels = {i: f"{r.worker_name} · {r.grid_name or r.grid_code} · {r.village_name}" for i, r in league.iterrows()}
pick = st.selectbox(t("pick_worker"), list(labels), format_func=labels.get, key="worker_pick")
w = league.loc[pick]
left, right = st.columns([3, 2])
with left:
    items = pd.DataFrame({
        t("worker_item"): [i.name_en if en else i.name_zh for i in sheet.items],
        t("worker_count"): [int(w[i.item]) for i in sheet.items],
        t("worker_per_unit"): [i.points for i in sheet.items],
        t("worker_cap"): [i.cap for i in sheet.items],
        t("worker_points"): [float(w[i.item + "_points"]) for i in sheet.items],
    })
    show(items, f"网格员考评明细_{c.period}_{w['grid_code']}", key="worker_items")
    item_sum = float(items[t("worker_points")].sum())
    st.markdown("**" + t("worker_sum", total=round(float(w["total"]), 4), base=sheet.base, items=item_sum,
                         grade=grade_text(w["grade"])) + "**")
with right:
    with guard():
        history = run(wh.worker_history, w["grid_code"], w["worker_name"])
    st.markdown(f"**{t('worker_history')}**")
    st.line_chart(history.set_index("period")["total"], height=220)
    show(pd.DataFrame({
        t("period"): history["period"], t("worker_total"): history["total"].round(4),
        t("worker_grade"): history["grade"].map(grade_text), t("worker_rank"): history["rank_in_township"],
    }), f"网格员考评历史_{w['grid_code']}", key="worker_history")

st.subheader(t("workers_sheet"))
with guard():
    vs = run(wh.worker_villages, c.period, c.unit.code)
names = dict(zip(vs["village_code"], vs["name"], strict=True))
village = st.selectbox(t("workers_sheet_village"), list(names), format_func=names.get, key="workers_sheet_village")


@st.cache_data(max_entries=16, ttl=3600, show_spinner=False)
def sheet_files(stamp: tuple, scope: wh.Scope, period: str, village_code: str) -> dict:
    # `stamp` (the published file's identity) is only part of the key: a new copy misses the cache.
    from pipelines.report.workers import render_sheets

    s = render_sheets(scope, period, village_code)
    return {"pdf": s.pdf, "xlsx": s.xlsx, "stem": s.stem}


stamp = wh.stamp()
stem = f"网格员考评公示_{c.period}_{village}_{names[village]}"
a, b, _ = st.columns([1, 1, 2])
# Deferred: the files are built only when a button is clicked (and cached per published copy).
a.download_button(t("workers_sheet_pdf"), data=lambda: sheet_files(stamp, c.scope, c.period, village)["pdf"],
                  file_name=stem + ".pdf", mime="application/pdf", type="primary", key="workers_pdf")
b.download_button(t("workers_sheet_xlsx"), data=lambda: sheet_files(stamp, c.scope, c.period, village)["xlsx"],
                  file_name=stem + ".xlsx", key="workers_xlsx",
                  mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
