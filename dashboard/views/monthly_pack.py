"""月度考评 Monthly pack: a preview of the meeting pack for the sidebar's month and area (headline
figures, league table with boards, risers and fallers) and the PDF and XLSX downloads (SPEC §8).

The pack's area is the chosen township, else the account's own area (county, township or village):
the signed-in scope goes to pipelines.report, which reads through the scoped gateway, so an account
can never download more than it may see. The files are built when a download is clicked.
"""

import pandas as pd
import streamlit as st

from dashboard.i18n import LIGHT_HEX, colon, ind_name, lang, paren, t
from dashboard.state import current, guard
from pipelines import report
from pipelines import warehouse as wh
from pipelines.errors import UserError
from pipelines.report import text as rt


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

st.title(t("pack_title", unit=d.unit.name, period=c.period))
st.caption(colon(t("pack_snapshot"), rt.snapshot_text(d.snapshot)))
st.markdown(t("pack_intro"))

stem = report.file_stem(d)
left, right, _ = st.columns([1, 1, 2])
# Deferred: the files are built (and cached per published copy) only when a button is clicked.
left.download_button(t("pack_pdf"), data=lambda: pack_files(stamp, c.scope, c.period, unit_code)["pdf"],
                     file_name=stem + ".pdf", mime="application/pdf", type="primary", key="pack_pdf")
right.download_button(t("pack_xlsx"), data=lambda: pack_files(stamp, c.scope, c.period, unit_code)["xlsx"],
                      file_name=stem + ".xlsx", key="pack_xlsx",
                      mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")

b = d.boards
m1, m2, m3, m4 = st.columns(4)
m1.metric(t("pack_ranked"), b["ranked"])
m2.metric(t("board_red"), b["red"])
m3.metric(t("board_black"), b["black"])
m4.metric(t("veto"), b["veto"])

cat = wh.catalogue()
if not d.has_prev:
    st.info(t("pack_first_month"))
else:
    for key, mark, colour in (("improved", "▲", "green"), ("slipped", "▼", "red")):
        r = getattr(d, key)
        if r is None:
            line = t("pack_none")
        else:
            ind = cat[r["indicator_id"]]
            line = (f"{ind_name(ind)} {rt.fmt_value(r['prev_value'], ind)} → {rt.fmt_value(r['value'], ind)}"
                    + paren(rt.fmt_delta(r['delta'], ind)))
        st.markdown(colon(f":{colour}[{mark} **{t('pack_' + key)}**]", line))

st.subheader(t("pack_headline"))
rows = []
for r in d.headline.itertuples(index=False):
    ind = cat[r.indicator_id]
    delta = None if rt.missing(r.value) or rt.missing(r.prev_value) else float(r.value) - float(r.prev_value)
    rows.append({
        t("indicator"): ind.name_en if lang() == "en" else ind.name_zh,
        t("pack_this_month"): rt.fmt_value(r.value, ind),
        t("target"): rt.fmt_target(ind, c.period),
        t("pack_last_month"): rt.fmt_value(r.prev_value, ind),
        t("mom"): rt.fmt_delta(delta, ind),
        t("pack_status"): f"● {t('light_' + r.light)}",
        "_light": r.light,
    })
head = pd.DataFrame(rows)
if len(head):
    lights = head.pop("_light")
    st.dataframe(
        head.style.apply(lambda col: [f"color: {LIGHT_HEX[x]}" for x in lights] if col.name == t("pack_status")
                         else [""] * len(col), axis=0),
        hide_index=True, width="stretch", height=35 * (len(head) + 1) + 3,
    )

st.subheader(t("pack_league"))
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
        t("pack_prev_score"): lg["prev_score"],
        t("board"): lg["board"].map({"red": t("board_red"), "black": t("board_black")}).fillna(""),
        t("veto"): lg["veto"].map(lambda v: t("yes") if v is True or v == 1 else ""),
    })
    fills = lg["board"].map({"red": "background-color: #ffe1e1", "black": "background-color: #dedede"}).fillna("")
    st.dataframe(
        show.style.apply(lambda _row: [fills.iloc[_row.name]] * len(_row), axis=1)
        .format({t("score"): "{:.1f}", t("pack_prev_score"): "{:.1f}"}, na_rep="—"),
        hide_index=True, width="stretch", height=min(35 * (len(show) + 1) + 3, 560),
    )
    st.caption(t("ranks_note_scores"))

if d.has_prev:
    cols = st.columns(2)
    for col, key, df in ((cols[0], "risers", d.risers), (cols[1], "fallers", d.fallers)):
        with col:
            st.markdown(f"**{t('pack_' + key)}**")
            if df.empty:
                st.caption(t("pack_none"))
                continue
            st.dataframe(pd.DataFrame({
                t("name"): df["name"],
                t("pack_rank_move"): [f"{int(p)} → {int(r)}" for p, r in zip(df["prev_rank"], df["rank"], strict=True)],
                t("pack_score_change"): df["score_change"].map(lambda v: "—" if pd.isna(v) else f"{v:+.1f}"),
                t("pack_driver"): df["driver"].replace("", "—"),
            }), hide_index=True, width="stretch")
st.caption(t("pack_more"))
