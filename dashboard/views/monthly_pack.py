"""月度考评 Monthly pack: a preview of the meeting pack for the sidebar's month and area (headline
figures, league table with boards, risers and fallers) and the PDF and XLSX downloads (SPEC §8).

The pack's area is the chosen township, else the account's own area (county, township or village):
the signed-in scope goes to pipelines.report, which reads through the scoped gateway, so an account
can never download more than it may see. The files are built when a download is clicked.
"""

import pandas as pd
import streamlit as st

from dashboard.i18n import LIGHT_HEX, lang, t
from dashboard.state import current, guard
from pipelines import report
from pipelines import warehouse as wh
from pipelines.errors import UserError
from pipelines.report import text as rt

# Page-specific words (the shared ones come from dashboard.i18n).
WORDS = {
    "title": {"zh": "{unit} · {period} 月度考评", "en": "{unit} · {period} monthly assessment pack"},
    "intro": {"zh": "下载的 PDF 与 XLSX 包含：封面概况、村（社区）排名与红黑榜、名次进退、分项指标对标、趋势图和数据质量。",
              "en": "The PDF and XLSX hold: headline figures, the village league table with boards, risers and "
                    "fallers, indicator tables against target, charts and data quality."},
    "pdf": {"zh": "下载 PDF（打印版）", "en": "Download PDF (print)"},
    "xlsx": {"zh": "下载 XLSX（数据表）", "en": "Download XLSX (tables)"},
    "snapshot": {"zh": "数据快照", "en": "Data snapshot"},
    "ranked": {"zh": "参评村（社区）", "en": "Villages ranked"},
    "improved": {"zh": "进步最大", "en": "Improved most"},
    "slipped": {"zh": "下滑最大", "en": "Slipped most"},
    "first_month": {"zh": "本月为数据首月，无上月对比。", "en": "First month of data: no comparison with last month."},
    "none": {"zh": "无", "en": "none"},
    "headline": {"zh": "主要指标对标", "en": "Headline indicators vs target"},
    "this_month": {"zh": "本月", "en": "This month"},
    "last_month": {"zh": "上月", "en": "Last month"},
    "status": {"zh": "状态", "en": "Status"},
    "league": {"zh": "村（社区）排名与红黑榜", "en": "League table and boards"},
    "prev_score": {"zh": "上月得分", "en": "Last month's score"},
    "risers": {"zh": "进步最快", "en": "Biggest risers"},
    "fallers": {"zh": "退步最快", "en": "Biggest fallers"},
    "rank_move": {"zh": "名次（上月→本月）", "en": "Rank (last → this month)"},
    "score_change": {"zh": "得分变化", "en": "Score change"},
    "driver": {"zh": "主要拉动/拖累指标", "en": "Main driver"},
    "more": {"zh": "分项指标、趋势图与数据质量见下载文件。", "en": "Indicator tables, charts and data quality are in the files."},
    "building": {"zh": "正在生成考评材料……", "en": "Building the pack…"},
}


def w(key: str, **kw) -> str:
    entry = WORDS[key]
    text = entry.get(lang()) or entry["zh"]
    return text.format(**kw) if kw else text


@st.cache_data(max_entries=16, ttl=3600, show_spinner=False)
def preview(stamp: tuple, scope: wh.Scope, period: str, unit_code: str) -> report.PackData:
    # `stamp` (the published file's identity) is only part of the key: a new copy misses the cache.
    return report.collect(scope, period, unit_code)


@st.cache_data(max_entries=8, ttl=3600, show_spinner=False)
def pack_files(stamp: tuple, scope: wh.Scope, period: str, unit_code: str) -> dict:
    p = report.render_pack(scope, period, unit_code)
    return {"pdf": p.pdf, "xlsx": p.xlsx, "pdf_name": p.pdf_name, "xlsx_name": p.xlsx_name}


c = current()
unit_code = c.township_code or c.scope.code
with guard():
    stamp = wh.stamp()
    if stamp is None:
        raise wh.NoData(str(wh.published_path()))
    try:
        d = preview(stamp, c.scope, c.period, unit_code)
    except UserError as e:
        st.error(str(e))
        st.stop()

st.title(w("title", unit=d.unit.name, period=c.period))
st.caption(f"{w('snapshot')}：{rt.snapshot_text(d.snapshot)}")
st.markdown(w("intro"))

stem = report.file_stem(d)
left, right, _ = st.columns([1, 1, 2])
# Deferred: the files are built (and cached per published copy) only when a button is clicked.
left.download_button(w("pdf"), data=lambda: pack_files(stamp, c.scope, c.period, unit_code)["pdf"],
                     file_name=stem + ".pdf", mime="application/pdf", type="primary", key="pack_pdf")
right.download_button(w("xlsx"), data=lambda: pack_files(stamp, c.scope, c.period, unit_code)["xlsx"],
                      file_name=stem + ".xlsx", key="pack_xlsx",
                      mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")

b = d.boards
m1, m2, m3, m4 = st.columns(4)
m1.metric(w("ranked"), b["ranked"])
m2.metric(t("board_red"), b["red"])
m3.metric(t("board_black"), b["black"])
m4.metric(t("veto"), b["veto"])

cat = wh.catalogue()
if not d.has_prev:
    st.info(w("first_month"))
else:
    for key, mark, colour in (("improved", "▲", "green"), ("slipped", "▼", "red")):
        r = getattr(d, key)
        if r is None:
            line = w("none")
        else:
            ind = cat[r["indicator_id"]]
            line = (f"{ind.name_zh} {rt.fmt_value(r['prev_value'], ind)} → {rt.fmt_value(r['value'], ind)}"
                    f"（{rt.fmt_delta(r['delta'], ind)}）")
        st.markdown(f":{colour}[{mark} **{w(key)}**]：{line}")

st.subheader(w("headline"))
rows = []
for r in d.headline.itertuples(index=False):
    ind = cat[r.indicator_id]
    delta = None if rt.missing(r.value) or rt.missing(r.prev_value) else float(r.value) - float(r.prev_value)
    rows.append({
        t("indicator"): ind.name_en if lang() == "en" else ind.name_zh,
        w("this_month"): rt.fmt_value(r.value, ind),
        t("target"): rt.fmt_target(ind, c.period),
        w("last_month"): rt.fmt_value(r.prev_value, ind),
        t("mom"): rt.fmt_delta(delta, ind),
        w("status"): f"● {t('light_' + r.light)}",
        "_light": r.light,
    })
head = pd.DataFrame(rows)
if len(head):
    lights = head.pop("_light")
    st.dataframe(
        head.style.apply(lambda col: [f"color: {LIGHT_HEX[x]}" for x in lights] if col.name == w("status")
                         else [""] * len(col), axis=0),
        hide_index=True, width="stretch", height=35 * (len(head) + 1) + 3,
    )

st.subheader(w("league"))
lg = d.league
if lg.empty:
    st.info(t("no_scores"))
else:
    show = pd.DataFrame({
        t("rank"): lg["rank"].astype("Int64"),
        t("change"): [rt.fmt_change(ch, p) for ch, p in zip(lg["rank_change"], lg["prev_rank"], strict=True)],
        t("name"): lg["name"],
        t("township"): lg["township_name"],
        t("score"): lg["score"],
        w("prev_score"): lg["prev_score"],
        t("board"): lg["board"].map({"red": t("board_red"), "black": t("board_black")}).fillna(""),
        t("veto"): lg["veto"].map(lambda v: t("yes") if v is True or v == 1 else ""),
    })
    fills = lg["board"].map({"red": "background-color: #ffe1e1", "black": "background-color: #dedede"}).fillna("")
    st.dataframe(
        show.style.apply(lambda _row: [fills.iloc[_row.name]] * len(_row), axis=1)
        .format({t("score"): "{:.1f}", w("prev_score"): "{:.1f}"}, na_rep="—"),
        hide_index=True, width="stretch", height=min(35 * (len(show) + 1) + 3, 560),
    )
    st.caption(t("ranks_note"))

if d.has_prev:
    cols = st.columns(2)
    for col, key, df in ((cols[0], "risers", d.risers), (cols[1], "fallers", d.fallers)):
        with col:
            st.markdown(f"**{w(key)}**")
            if df.empty:
                st.caption(w("none"))
                continue
            st.dataframe(pd.DataFrame({
                t("name"): df["name"],
                w("rank_move"): [f"{int(p)} → {int(r)}" for p, r in zip(df["prev_rank"], df["rank"], strict=True)],
                w("score_change"): df["score_change"].map(lambda v: "—" if pd.isna(v) else f"{v:+.1f}"),
                w("driver"): df["driver"].replace("", "—"),
            }), hide_index=True, width="stretch")
st.caption(w("more"))
