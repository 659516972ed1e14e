"""排名 Rankings: the village league table with boards, veto and per-indicator lights; a village
drill-down with its scorecard (why it scores what it does) and its score/rank history."""

import duckdb
import pandas as pd
import streamlit as st

from dashboard import charts
from dashboard.export import download_buttons, rows_height
from dashboard.export import show as show_table
from dashboard.i18n import colon, fmt_value, ind_name, ind_short, t
from dashboard.state import current, guard, run
from pipelines import warehouse as wh

c = current()
st.title(t("rankings_title", unit=c.unit.name, period=c.period))

with guard():
    league = run(wh.league_table, c.period, c.unit.code)
    vi = run(wh.village_indicators, c.period, c.unit.code)
    inds = wh.indicators()

if league.empty:
    st.info(t("no_scores"))
    st.stop()

show, colours = charts.league_display(league, vi, inds)
lang_en = st.session_state.get("lang") == "en"
# a short header per indicator, its full name and definition on hover (#14 defect 8)
ind_help = {ind_short(i): st.column_config.Column(help=t(
    "league_ind_help", name=ind_name(i), definition=i.definition_en if lang_en else i.definition_zh))
    for i in inds if i.weight > 0}
picked = st.dataframe(charts.style(show, colours), hide_index=True, width="stretch",
                      height=rows_height(len(show)),  # every row, no inner scroll (#14 defect 8)
                      column_config=ind_help, on_select="rerun", selection_mode="single-cell", key="league_cells")
download_buttons(charts.league_export(league, vi, inds), f"村（社区）排名_{c.period}", key="league")
# drill-through (page 9): a selected indicator cell links to the records it counts
cell_ind = {ind_short(i): i.id for i in inds if i.weight > 0}
for row_pos, col_name in (picked.selection.cells if picked else [])[:1]:
    if col_name in cell_ind and 0 <= int(row_pos) < len(league):
        v = league.iloc[int(row_pos)]
        st.page_link("views/cases.py", label=colon(t("see_records"), f"{v['name']} · {col_name}"),
                     query_params={"ind": cell_ind[col_name], "unit": v["village_code"], "period": c.period})
st.caption(t("ranks_note"))

WHY_LOW_SHOWN = 3  # "why is this village low": the indicators that cost it most points


def why_low(card: pd.DataFrame, village_name: str, by_id: dict) -> None:
    """In words, from the scorecard above (explain.py, the marts' own breakdown): an indicator's full
    marks are its share of the counted weight, 100·w/Σw, so the points it loses are that minus its
    contribution, and the losses add up to 100 − score."""
    counted = card[card["counted"].fillna(False).astype(bool)]
    if counted.empty:
        return
    score = float(counted["contribution"].astype(float).sum())  # = village_scores.score (the mart sums these)
    full = 100.0 * counted["weight"] / counted["weight"].sum()
    lost = (full - counted["contribution"].astype(float)).round(1)
    # stable: equal losses keep the scorecard's (catalogue) order
    worst = counted.assign(lost=lost)[lost > 0].sort_values("lost", ascending=False, kind="stable").head(WHY_LOW_SHOWN)
    st.markdown(f"**{t('why_low')}**")
    if worst.empty:
        st.markdown(t("why_low_full", village=village_name))
        return
    lines = [t("why_low_intro", village=village_name, score=f"{score:.1f}", lost=f"{100 - score:.1f}")]
    for r in worst.itertuples(index=False):
        ind = by_id.get(r.indicator_id)
        unit = ind.unit if ind else None
        lines.append("- " + t("why_low_line", name=ind_name(ind) if ind else r.indicator_id,
                              value=fmt_value(r.value, unit), target=fmt_value(r.target, unit), lost=f"{r.lost:.1f}"))
    st.markdown("\n".join(lines))


st.subheader(t("drilldown"))
names = dict(zip(league["village_code"], league["name"], strict=True))
default = c.village_code if c.village_code in names else next(iter(names))
if st.session_state.get("drill_village") not in names:  # not index=: app.py re-assigns it after a language switch
    st.session_state["drill_village"] = default
village = st.selectbox(t("pick_village"), list(names), format_func=names.get, key="drill_village")
with guard():
    history = run(wh.village_history, village)
    try:
        card = run(wh.scorecard, village, c.period)
    except duckdb.CatalogException:  # a published copy from before the explain mart
        card = None
# the scorecard takes the full width, the history below it: side by side the scorecard lost its
# 权重/得分贡献 columns and the chart its month labels (#14 defects 8, 9)
if card is None or card.empty:
    st.info(t("scorecard_missing"))
else:
    by_id = {i.id: i for i in inds}
    typed = pd.DataFrame({  # the download: numbers stay numbers (a share as a fraction)
        t("indicator"): card["name_en" if lang_en else "name_zh"],
        t("numerator"): card["numerator"],
        t("denominator"): card["denominator"],
        t("value"): card["value"],
        t("target"): card["target"],
        t("attainment"): card["attainment"],
        t("weight"): card["weight"],
        t("contribution"): card["contribution"].round(2),
    })
    table = typed.assign(**{
        t("value"): [fmt_value(v, by_id[i].unit) if i in by_id else v
                     for v, i in zip(card["value"], card["indicator_id"], strict=True)],
        t("target"): [fmt_value(v, by_id[i].unit) if i in by_id else v
                      for v, i in zip(card["target"], card["indicator_id"], strict=True)],
        t("attainment"): card["attainment"].map(lambda a: "—" if pd.isna(a) else f"{a:.0%}"),
    })
    if "why_not_counted" in card:
        note = card["why_not_counted"].map({"low_n": t("low_n_note"), "no_value": "—"}).fillna("")
        table[t("low_n_note")] = note
        typed[t("low_n_note")] = note.replace("—", "")
    show_table(table, f"评分明细_{names[village]}_{c.period}", key="scorecard", download=typed,
               reasons={t("contribution"): t("why_not_scored"), t("weight"): t("why_not_scored")})
    score = league.set_index("village_code").loc[village, "score"]
    st.markdown(f"**{t('score_sum', score=f'{score:.1f}')}**")
    why_low(card, names[village], by_id)
if len(history):
    st.plotly_chart(charts.history_figure(history), width="stretch", config={"displaylogo": False})
