"""村庄对比 Compare two villages side by side (SPEC §7): scorecards, indicators with lights, and
the history of score and rank."""

import pandas as pd
import streamlit as st

from dashboard import charts
from dashboard.export import download_buttons
from dashboard.i18n import LIGHT_HEX, fmt_value, ind_name, t
from dashboard.state import current, guard, run
from pipelines import warehouse as wh

c = current()
st.title(t("compare_title", period=c.period))

with guard():
    vs = run(wh.villages, c.township_code)
    league = run(wh.league_table, c.period, c.unit.code if len(c.unit.code) < 12 else None)
if len(vs) < 2:
    st.info(t("compare_need_two"))
    st.stop()
names = dict(zip(vs["village_code"], vs["name"], strict=True))
codes = list(names)
left, right = st.columns(2)
a = left.selectbox(t("village_a"), codes, index=0, format_func=names.get, key="cmp_a")
b = right.selectbox(t("village_b"), codes, index=1, format_func=names.get, key="cmp_b")
scores = league.set_index("village_code") if len(league) else None
inds = {i.id: i for i in wh.indicators()}

rows = {}
for col, code in ((left, a), (right, b)):
    with guard():
        vi = run(wh.village_indicators, c.period, code)
        hist = run(wh.village_history, code)
    rows[code] = vi.set_index("indicator_id")
    with col:
        if scores is not None and code in scores.index:
            s = scores.loc[code]
            board = {"red": t("board_red"), "black": t("board_black")}.get(s["board"], "")
            st.metric(f"{names[code]} · {t('score')}", "—" if pd.isna(s["score"]) else f"{s['score']:.1f}",
                      help=f"{t('rank')} {s['rank']}")
            st.caption(f"{t('rank')} {'—' if pd.isna(s['rank']) else int(s['rank'])} {board}"
                       + (f" · {t('veto')}" if bool(s["veto"]) else ""))
        if len(hist):
            st.plotly_chart(charts.history_figure(hist), width="stretch", config={"displaylogo": False},
                            key=f"cmp_hist_{code}")


col_a, col_b = names[a], names[b] if b != a else names[b] + " "


def _cell(code: str, ind_id: str) -> str:
    r = rows[code]
    return "● " + fmt_value(r.loc[ind_id, "value"], inds[ind_id].unit) if ind_id in r.index else "—"


def _colour(code: str, ind_id: str) -> str:
    r = rows[code]
    return f"color: {LIGHT_HEX[r.loc[ind_id, 'light'] if ind_id in r.index else 'grey']}"


table = pd.DataFrame({
    t("indicator"): [ind_name(inds[i]) for i in inds],
    t("target"): [fmt_value(inds[i].target, inds[i].unit) for i in inds],
    t("weight"): [inds[i].weight for i in inds],
    col_a: [_cell(a, i) for i in inds],
    col_b: [_cell(b, i) for i in inds],
})
colours = pd.DataFrame("", index=table.index, columns=table.columns)
colours[col_a] = [_colour(a, i) for i in inds]
colours[col_b] = [_colour(b, i) for i in inds]
# weights as 15, not 15.000000 (a Styler shows floats to six places); the download keeps the numbers
st.dataframe(table.style.apply(lambda _df: colours, axis=None).format({t("weight"): "{:g}"}), hide_index=True,
             width="stretch",
             height=35 * (len(table) + 1) + 3)
st.caption(t("ranks_note_rows"))
download_buttons(table, f"村庄对比_{names[a]}_{names[b]}_{c.period}", key="compare")
