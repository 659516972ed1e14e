"""权重推演 What-if (page 10, county accounts): move the weights and the board share and see the
league recomputed beside the official one (the marts' own SQL, pipelines.warehouse.whatif_scores);
changed ranks and boards highlighted; nothing is saved; the table downloads."""

import pandas as pd
import streamlit as st

from dashboard.export import download_buttons
from dashboard.i18n import ind_name, t
from dashboard.state import current, guard, run
from pipelines import warehouse as wh

c = current()
st.title(t("whatif_title", unit=c.unit.name, period=c.period))
if c.scope.role != "county":
    st.info(t("whatif_county_only"))
    st.stop()

st.caption(t("whatif_note"))
cat = wh.catalogue()
weighted = [i for i in cat.indicators if i.weight > 0]
official_share = float(cat.settings.board_share)

if st.button(t("reset_weights"), key="wi_reset"):
    for ind in weighted:
        st.session_state[f"wi_w_{ind.id}"] = float(ind.weight)
    st.session_state["wi_share"] = official_share

cols = st.columns(4)
weights = {}
for n, ind in enumerate(weighted):
    weights[ind.id] = cols[n % 4].slider(ind_name(ind), 0.0, 50.0, float(ind.weight), 1.0, key=f"wi_w_{ind.id}")
share = st.slider(t("board_share"), 0.05, 0.5, official_share, 0.05, key="wi_share")
if sum(weights.values()) <= 0:
    st.warning(t("weights_zero"))
    st.stop()

with guard():
    wi = run(wh.whatif_scores, c.period, tuple(sorted(weights.items())), share, c.unit.code)
if wi.empty:
    st.info(t("no_scores"))
    st.stop()

boards = {"red": t("board_red"), "black": t("board_black")}
show = pd.DataFrame({
    t("name"): wi["name"],
    t("township"): wi["township_name"],
    f"{t('official')}·{t('score')}": wi["score"].round(2),
    f"{t('official')}·{t('rank')}": wi["rank"].astype("Int64"),
    f"{t('official')}·{t('board')}": wi["board"].map(boards).fillna(""),
    f"{t('whatif')}·{t('score')}": wi["wi_score"].round(2),
    f"{t('whatif')}·{t('rank')}": wi["wi_rank"].astype("Int64"),
    f"{t('whatif')}·{t('board')}": wi["wi_board"].map(boards).fillna(""),
    t("change"): (wi["rank"] - wi["wi_rank"]).astype("Int64"),
})
st.markdown(t("changed_n", ranks=int(wi["rank_changed"].sum()), boards=int(wi["board_changed"].sum())))
rank_col, board_col = f"{t('whatif')}·{t('rank')}", f"{t('whatif')}·{t('board')}"
flags = wi[["rank_changed", "board_changed"]].reset_index(drop=True)


def _highlight(df: pd.DataFrame) -> pd.DataFrame:
    css = pd.DataFrame("", index=df.index, columns=df.columns)
    css.loc[flags["rank_changed"], rank_col] = "background-color: #fff3cd; font-weight: bold"
    css.loc[flags["board_changed"], board_col] = "background-color: #f8d7da; font-weight: bold"
    return css


score_cols = {f"{t('official')}·{t('score')}": "{:.2f}", f"{t('whatif')}·{t('score')}": "{:.2f}"}
st.dataframe(show.style.apply(_highlight, axis=None).format(score_cols, na_rep="—"), hide_index=True, width="stretch",
             height=min(35 * (len(show) + 1) + 3, 700))
download_buttons(show, f"权重推演_{c.period}", key="whatif")
