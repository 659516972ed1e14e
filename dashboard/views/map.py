"""地图 Map: grids coloured by an indicator, village/township outlines, events, disputes — offline,
no basemap (our own outlines are the map)."""

import streamlit as st

from dashboard import charts
from dashboard.i18n import ind_name, t
from dashboard.state import current, guard, run
from pipelines import warehouse as wh

c = current()
st.title(t("map_title", unit=c.unit.name, period=c.period))

inds = [i for i in wh.indicators() if i.kind != "count" or i.id == "events_reported"]
by_id = {i.id: i for i in inds}
left, right = st.columns([2, 3])
ind_id = left.selectbox(t("map_indicator"), list(by_id), format_func=lambda i: ind_name(by_id[i]), key="map_indicator")
layer_keys = ["events", "density", "disputes", "labels"]
st.session_state.setdefault("map_layers", ["density", "disputes", "labels"])  # not default=: see app.py
chosen = right.multiselect(t("map_layers"), layer_keys, format_func=lambda k: t("layer_" + k), key="map_layers")
ind = by_id[ind_id]

with guard():
    grids = run(wh.grid_values, c.period, ind_id, c.unit.code)
    if grids["geometry"].notna().sum() == 0:
        st.warning(t("no_geometry"))
        st.stop()
    villages = run(wh.boundaries, "village", c.unit.code)
    townships = run(wh.boundaries, "township", c.unit.code) if c.unit.level == "county" else villages.iloc[0:0]
    events = run(wh.event_points, c.period, c.unit.code)
    disputes = run(wh.dispute_sites, c.period, c.unit.code)

deck, legend = charts.map_deck(grids, ind, villages, townships, events, disputes, {k: True for k in chosen})
st.pydeck_chart(deck, height=620, key="grid_map")
st.markdown(legend, unsafe_allow_html=True)
if "density" in chosen or "disputes" in chosen:
    st.caption(t("density_note"))
if (grids["value_level"] == "village").all():
    st.caption(t("village_value_note"))
if events.empty:
    st.info(t("no_events_month"))
st.caption(t("map_note"))
