"""Frames → plotly figures, pydeck decks and display tables. No data access here, no Streamlit calls.

Everything renders offline: plotly.js and deck.gl are bundled with Streamlit; the map has no basemap
(``map_provider=None``): our own grid, village and township outlines are the map.
"""

from __future__ import annotations

import html
import json
import math

import pandas as pd
import plotly.graph_objects as go
import pydeck as pdk

from dashboard.i18n import LIGHT_HEX, colon, fmt_count, fmt_value, ind_name, ind_short, is_share, paren, t

FONT = "Noto Sans CJK SC, Noto Sans SC, Microsoft YaHei, PingFang SC, sans-serif"
PALETTE = ["#1565c0", "#ef6c00", "#2e7d32", "#c62828", "#6a1b9a", "#00838f", "#8d6e63", "#546e7a", "#f9a825"]


LEGEND_ROOM = 96  # px under the plot for the x labels (slanted when crowded) and a legend of two lines


def _layout(fig: go.Figure, title: str | None = None, height: int = 360) -> go.Figure:
    fig.update_layout(
        title={"text": title, "x": 0, "xanchor": "left"}, height=height, font={"family": FONT, "size": 13},
        # legend under the plot: above it, it collides with the title. It sits at the figure's foot
        # (container coordinates), below the room kept for the x labels and axis title: placed
        # relative to the plot, it was drawn over "月份" and slanted month labels (#14 defect 9)
        margin={"l": 10, "r": 10, "t": 50, "b": LEGEND_ROOM},
        legend={"orientation": "h", "yref": "container", "yanchor": "bottom", "y": 0, "x": 0},
        hovermode="x unified",
    )
    fig.update_xaxes(automargin=True)
    fig.update_yaxes(automargin=True)
    return fig


# ---------------------------------------------------------------------------------------------
# plotly


def trend_figure(df: pd.DataFrame, ind) -> go.Figure:
    """Indicator over months with its target line (catalogue target)."""
    share = is_share(ind.unit)
    fig = go.Figure()
    fig.add_trace(go.Scatter(
        x=df["period"], y=df["value"], mode="lines+markers", name=ind_name(ind),
        line={"color": PALETTE[0], "width": 3},
        hovertemplate="%{x}: %{y" + (":.1%" if share else ":,.2f") + "}<extra></extra>",
    ))
    if ind.target is not None:
        fig.add_trace(go.Scatter(
            x=df["period"], y=[ind.target] * len(df), mode="lines", name=f"{t('target')} {fmt_value(ind.target, ind.unit)}",
            line={"color": LIGHT_HEX["red"], "dash": "dash", "width": 2}, hoverinfo="skip",
        ))
    fig.update_yaxes(tickformat=".0%" if share else ",", rangemode="tozero")
    fig.update_xaxes(type="category")
    return _layout(fig, ind_name(ind))


def change_figure(df: pd.DataFrame, ind) -> go.Figure:
    """环比 and 同比 changes per month as grouped bars (percentage points for shares)."""
    share = is_share(ind.unit)
    k = 100 if share else 1
    fig = go.Figure()
    fig.add_trace(go.Bar(x=df["period"], y=df["mom"] * k, name=t("mom"), marker_color=PALETTE[0]))
    fig.add_trace(go.Bar(x=df["period"], y=df["yoy"] * k, name=t("yoy"), marker_color=PALETTE[1]))
    fig.update_xaxes(type="category")
    fig.update_yaxes(ticksuffix=t("pp") if share else "", zeroline=True)
    return _layout(fig, f"{t('mom')} / {t('yoy')}", height=300)


def stacked_bars(df: pd.DataFrame, x: str, y: str, colour: str, title: str, colour_label: str) -> go.Figure:
    fig = go.Figure()
    for i, (key, grp) in enumerate(df.groupby(colour, sort=True)):
        fig.add_trace(go.Bar(x=grp[x], y=grp[y], name=str(key), marker_color=PALETTE[i % len(PALETTE)],
                             hovertemplate=f"{colour_label} {key}: " + "%{y}<extra></extra>"))
    fig.update_layout(barmode="stack")
    # months in calendar order: plotly orders categories by first appearance across traces, so a
    # type missing in May put May after June (#14 defect 7)
    fig.update_xaxes(type="category", title=t("month"), categoryorder="array",
                     categoryarray=sorted(df[x].dropna().astype(str).unique()))
    fig.update_yaxes(title=t("count"))
    return _layout(fig, title)


def histogram(values: pd.Series, title: str, x_title: str) -> go.Figure:
    fig = go.Figure(go.Histogram(x=values, marker_color=PALETTE[0], nbinsx=min(30, max(5, values.nunique()))))
    fig.update_xaxes(title=x_title)
    fig.update_yaxes(title=t("households"))
    fig.update_layout(hovermode="closest", bargap=0.05)
    return _layout(fig, title)


def bar_by_village(df: pd.DataFrame, x: str, y: str, title: str, share: bool = False, target: float | None = None,
                   colour: str = PALETTE[0]) -> go.Figure:
    fig = go.Figure(go.Bar(x=df[x], y=df[y], marker_color=colour,
                           text=[("—" if pd.isna(v) else (f"{v:.0%}" if share else f"{v:,.0f}")) for v in df[y]],
                           textposition="outside"))
    if target is not None:
        fig.add_hline(y=target, line_dash="dash", line_color=LIGHT_HEX["red"], annotation_position="top left",
                      annotation_text=f"{t('target')} {target:.0%}" if share else f"{t('target')} {target}")
    fig.update_yaxes(tickformat=".0%" if share else ",", rangemode="tozero")
    fig.update_layout(hovermode="closest")
    return _layout(fig, title)


def stars_figure(df: pd.DataFrame, title: str) -> go.Figure:
    fig = go.Figure()
    for col, colour in (("stars5", "#c62828"), ("stars4", "#ef6c00"), ("stars3", "#f9a825")):
        fig.add_trace(go.Bar(x=df["name"], y=df[col], name=t(col), marker_color=colour))
    fig.update_layout(barmode="stack", hovermode="closest")
    fig.update_yaxes(title=t("households"))
    return _layout(fig, title)


def history_figure(df: pd.DataFrame) -> go.Figure:
    """Score (left axis) and county rank (right axis, 1 at the top) over months."""
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=df["period"], y=df["score"], name=t("score"), mode="lines+markers",
                             line={"color": PALETTE[0], "width": 3}))
    fig.add_trace(go.Scatter(x=df["period"], y=df["rank"], name=t("rank"), mode="lines+markers", yaxis="y2",
                             line={"color": PALETTE[1], "dash": "dot"}))
    fig.update_layout(
        yaxis={"title": t("score"), "range": [0, 100]},
        yaxis2={"title": t("rank"), "overlaying": "y", "side": "right", "showgrid": False, "tickformat": "d",
                "range": [float(df["rank"].max() or 1) + 0.5, 0.5], "dtick": max(1, int((df["rank"].max() or 1) // 8))},
    )
    # whole month labels, slanted, with room below for them and the legend (#14 defect 9: "202…")
    fig.update_xaxes(type="category", tickangle=-45)
    return _layout(fig, t("history"), height=380)


# ---------------------------------------------------------------------------------------------
# tables


def league_display(league: pd.DataFrame, vi: pd.DataFrame, indicators: list) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The league table for display (Chinese headers) and a same-shaped frame of cell colours for
    the per-indicator traffic lights."""
    show = pd.DataFrame({
        t("rank"): league["rank"].astype("Int64"),
        t("name"): league["name"],
        t("township"): league["township_name"],
        t("score"): league["score"].round(1),
        # "升降", not "名次变化": two characters less in a table that must fit the screen
        t("league_change"): [_change(c, p) for c, p in zip(league["rank_change"], league["prev_rank"], strict=True)],
        t("board"): league["board"].map({"red": t("board_red"), "black": t("board_black")}).fillna(""),
        t("veto"): league["veto"].map(lambda v: t("yes") if bool(v) else ""),
    })
    colours = pd.DataFrame("", index=show.index, columns=show.columns)
    colours[t("board")] = league["board"].map({"red": "color: #c62828; font-weight: bold",
                                               "black": "color: #212121; font-weight: bold"}).fillna("")
    weighted = [i for i in indicators if i.weight > 0]
    cells = vi.set_index(["village_code", "indicator_id"]) if len(vi) else None
    for ind in weighted:
        col = ind_short(ind)  # short headers: the full names pushed columns off the screen (#14 defect 8)
        vals, cols = [], []
        for v in league["village_code"]:
            if cells is not None and (v, ind.id) in cells.index:
                row = cells.loc[(v, ind.id)]
                # the light is the text colour; low n is grey with a "*" (explained under the
                # table), not words that widened every column past the screen (#14 defect 8)
                vals.append(fmt_value(row["value"], ind.unit) + ("*" if row["low_n"] else ""))
                cols.append(f"color: {LIGHT_HEX[row['light']]}")
            else:
                vals.append("—")
                cols.append(f"color: {LIGHT_HEX['grey']}")
        show[col] = vals
        colours[col] = cols
    return show, colours


def league_export(league: pd.DataFrame, vi: pd.DataFrame, indicators: list) -> pd.DataFrame:
    """The league table for download: the shown columns with every indicator as a number (a share
    as a fraction), headed with the full indicator names, so the XLSX cells are typed."""
    show, _ = league_display(league, vi, indicators)
    out = show.iloc[:, :7].copy()
    out[t("score")] = league["score"].to_numpy()
    cells = vi.set_index(["village_code", "indicator_id"])["value"] if len(vi) else pd.Series(dtype=float)
    for ind in (i for i in indicators if i.weight > 0):
        out[ind_name(ind)] = [cells.get((v, ind.id)) for v in league["village_code"]]
        out[ind_name(ind)] = pd.to_numeric(out[ind_name(ind)], errors="coerce")
    return out


def _change(change, prev) -> str:
    if pd.isna(prev) or pd.isna(change):
        return t("new_entry")
    c = int(change)
    return f"↑{c}" if c > 0 else (f"↓{-c}" if c < 0 else "—")


def style(show: pd.DataFrame, colours: pd.DataFrame):
    return (show.style.apply(lambda _df: colours, axis=None).format(na_rep="—")
            .format({t("score"): "{:.1f}"}, na_rep="—"))


# ---------------------------------------------------------------------------------------------
# pydeck


def _ramp(direction: str | None) -> list[tuple[int, int, int]]:
    """Bad → good colours: red to green for higher-better, reversed for lower-better, blues otherwise."""
    red_green = [(198, 40, 40), (239, 143, 0), (253, 216, 53), (139, 195, 74), (46, 125, 50)]
    if direction == "higher":
        return red_green
    if direction == "lower":
        return red_green[::-1]
    return [(227, 242, 253), (144, 202, 249), (66, 165, 245), (21, 101, 192), (13, 71, 161)]


def colour_bins(values: pd.Series, direction: str | None, n: int = 5) -> tuple[list[float], list[tuple]]:
    """Equal-width bins over the shown values: edges and one colour per bin."""
    v = values.dropna().astype(float)
    ramp = _ramp(direction)
    if v.empty:
        return [], ramp
    lo, hi = float(v.min()), float(v.max())
    if hi - lo < 1e-9:
        return [lo, hi], [ramp[-1] if direction == "higher" else ramp[len(ramp) // 2]]
    edges = [lo + (hi - lo) * i / n for i in range(n + 1)]
    return edges, ramp


def _bin_colour(v, edges, ramp) -> list[int]:
    if v is None or (isinstance(v, float) and math.isnan(v)) or not edges:
        return [189, 189, 189, 140]
    if len(ramp) == 1:
        return [*ramp[0], 190]
    i = min(len(ramp) - 1, max(0, int((float(v) - edges[0]) / (edges[-1] - edges[0]) * len(ramp))))
    return [*ramp[i], 190]


def legend_html(edges: list[float], ramp: list[tuple], ind) -> str:
    items = []
    if len(edges) >= 2 and len(ramp) > 1:
        for i, c in enumerate(ramp):
            items.append((c, f"{fmt_value(edges[i], ind.unit)} – {fmt_value(edges[i + 1], ind.unit)}"))
    elif edges:
        items.append((ramp[0], fmt_value(edges[0], ind.unit)))
    items.append(((189, 189, 189), t("legend_nodata")))
    spans = "".join(
        f'<span style="display:inline-block;margin-right:14px;white-space:nowrap">'
        f'<span style="display:inline-block;width:14px;height:14px;background:rgb{c};border:1px solid #888;'
        f'vertical-align:middle;margin-right:4px"></span>{html.escape(label)}</span>'
        for c, label in items
    )
    return f'<div style="font-size:13px;line-height:1.9"><b>{html.escape(t("legend") + paren(ind_name(ind)))}</b>{html.escape(t("glance_colon"))}{spans}</div>'


def _view(grids: pd.DataFrame) -> tuple[pdk.ViewState, float]:
    """A view fitting the grids, and the shown span in degrees (to size hexagons)."""
    lon0, lon1, lat0, lat1 = 180.0, -180.0, 90.0, -90.0
    for text in grids["geometry"].dropna():
        for x, y in _coords(json.loads(text)):
            lon0, lon1, lat0, lat1 = min(lon0, x), max(lon1, x), min(lat0, y), max(lat1, y)
    if lon0 > lon1:
        lon0 = lon1 = float(grids["centroid_lon"].mean())
        lat0 = lat1 = float(grids["centroid_lat"].mean())
    # fit both ways in a ~900 × 560 px map (deck.gl: the world is 512 px wide at zoom 0; Mercator: a
    # degree of latitude is taller than a degree of longitude by 1/cos(lat))
    dx, dy = max(lon1 - lon0, 1e-3), max(lat1 - lat0, 1e-3)
    coslat = math.cos(math.radians((lat0 + lat1) / 2))
    zoom = min(math.log2(900 * 360 / (512 * dx)), math.log2(560 * 360 * coslat / (512 * dy))) - 0.1
    zoom = max(3.0, min(16.0, zoom))
    span = max(dx, dy)
    view = pdk.ViewState(longitude=(lon0 + lon1) / 2, latitude=(lat0 + lat1) / 2, zoom=zoom, pitch=0)
    return view, span


def _coords(geom: dict):
    c = geom.get("coordinates", [])
    if geom.get("type") == "Polygon":
        rings = c
    elif geom.get("type") == "MultiPolygon":
        rings = [r for poly in c for r in poly]
    else:
        rings = []
    for ring in rings:
        yield from ring


def _features(df: pd.DataFrame, props, tolerance: float = 0.0) -> dict:
    """GeoJSON features, simplified to what the screen can show (thousands of detailed grid
    polygons make megabytes of JSON) and rounded to ~1 m."""
    from shapely import geometry as sg

    feats = []
    for row in df.itertuples(index=False):
        p = props(row)
        geom = json.loads(row.geometry)
        if tolerance > 0:
            try:
                geom = sg.mapping(sg.shape(geom).simplify(tolerance, preserve_topology=True))
            except (ValueError, TypeError, AttributeError):
                pass
        geom = {"type": geom["type"], "coordinates": _round(geom["coordinates"])}
        feats.append({"type": "Feature", "geometry": geom, "properties": p})
    return {"type": "FeatureCollection", "features": feats}


def _round(c):
    if isinstance(c, list | tuple) and c and isinstance(c[0], int | float):
        return [round(float(x), 5) for x in c]
    return [_round(x) for x in c]


# The tooltip (#14 defect 2, #19 item 7). Streamlit renders the template as HTML and puts each {field}
# in HTML-escaped, so the markup lives in the template and every value from data stays text: a grid
# named "<img src=x onerror=…>" shows as those characters. Every picked object carries all fields
# (a missing one is shown as "{tip2}"); empty lines collapse.
TIP_FIELDS = ("tip0", "tip1", "tip2", "tip3", "tip4")
TIP_HTML = ('<div style="font-weight:bold">{tip0}</div><div style="color:#ffd54f;font-weight:bold">{tip1}</div>'
            "<div>{tip2}</div><div>{tip3}</div><div>{tip4}</div>")


def _text(v) -> str:
    """A data value for display: "—" when missing (never "None"/"nan")."""
    return "—" if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA or str(v) == "" else str(v)


def _tip(*lines: str) -> dict[str, str]:
    """Tooltip fields: the title, the coloured value (highlighted), then up to three lines."""
    lines = [*lines, *[""] * len(TIP_FIELDS)][: len(TIP_FIELDS)]
    return dict(zip(TIP_FIELDS, lines, strict=True))


def map_deck(grids: pd.DataFrame, ind, villages: pd.DataFrame, townships: pd.DataFrame,
             events: pd.DataFrame, disputes: pd.DataFrame, show: dict[str, bool]) -> tuple[pdk.Deck, str]:
    """The offline map: grids coloured by ``ind``, village and township outlines, events (points and
    hexagon density), disputes by village, Chinese labels. Returns the deck and its legend HTML."""
    grids = grids[grids["geometry"].notna()].copy()
    view, span = _view(grids)
    edges, ramp = colour_bins(grids.loc[~grids["low_n"].astype(bool), "value"], ind.direction)

    def grid_props(r):
        shown = None if r.low_n else r.value
        value = fmt_value(shown, ind.unit) + (paren(t("low_n_note")) if r.low_n else "")
        return {"fill": _bin_colour(shown, edges, ramp), **_tip(
            colon(t('tip_grid'), _text(r.grid_name)), colon(ind_name(ind), value),
            colon(t('tip_village'), _text(r.village_name)), colon(t('tip_head'), _text(r.grid_head)),
            colon(t('tip_households'), fmt_count(r.households)))}

    layers = [
        pdk.Layer("GeoJsonLayer", _features(grids, grid_props, tolerance=span / 3000), id="grids", pickable=True, stroked=True, filled=True,
                  get_fill_color="properties.fill", get_line_color=[255, 255, 255, 230], line_width_min_pixels=1),
    ]
    if len(villages):
        layers.append(pdk.Layer("GeoJsonLayer", _features(villages, lambda r: {}), id="villages", stroked=True,
                                filled=False, get_line_color=[69, 90, 100, 255], line_width_min_pixels=2))
    if len(townships):
        layers.append(pdk.Layer("GeoJsonLayer", _features(townships, lambda r: {}), id="townships", stroked=True,
                                filled=False, get_line_color=[33, 33, 33, 255], line_width_min_pixels=4))
    if show.get("density") and len(events):
        layers.append(pdk.Layer("HexagonLayer", events[["lon", "lat"]], id="density", get_position=["lon", "lat"],
                                radius=max(50.0, span * 111_000 / 60), extruded=False, opacity=0.55, pickable=False, coverage=0.9,
                                # blues to purples: apart from the red–green ramp of the grid fill
                                color_range=[[222, 235, 247], [158, 202, 225], [107, 174, 214], [66, 146, 198],
                                             [33, 113, 181], [84, 39, 143]]))
    if show.get("events") and len(events):
        ev = events[["lon", "lat", "event_id", "category", "status", "grid_name"]].copy()
        tips = [_tip(f"{t('tip_event')} {_text(e)}", colon(t('tip_category'), _text(c)),
                     colon(t('tip_status'), _text(s)), colon(t('tip_grid'), _text(g)))
                for e, c, s, g in zip(ev["event_id"], ev["category"], ev["status"], ev["grid_name"], strict=True)]
        ev = pd.concat([ev.reset_index(drop=True), pd.DataFrame(tips)], axis=1)
        layers.append(pdk.Layer("ScatterplotLayer", ev, id="events", get_position=["lon", "lat"], get_radius=25,
                                radius_min_pixels=2, radius_max_pixels=6, get_fill_color=[21, 101, 192, 200],
                                pickable=True))
    if show.get("disputes") and len(disputes):
        d = disputes.dropna(subset=["lon", "lat"]).copy()
        tips = [_tip(_text(n), colon(t('tip_disputes'), fmt_count(k)), colon(t('tip_petitions'), fmt_count(p)),
                     colon(t('tip_top_type'), _text(ty)))
                for n, k, p, ty in zip(d["name"], d["disputes"], d["petitions"], d["top_type"], strict=True)]
        d = pd.concat([d.reset_index(drop=True), pd.DataFrame(tips)], axis=1)
        # in pixels, capped, so a circle never hides its village's label (drawn just above it)
        d["radius"] = d["disputes"].astype(float).map(lambda k: min(20.0, 5 + 4 * math.sqrt(k)))
        d["fill"] = [[198, 40, 40, 210] if p else [239, 108, 0, 190] for p in d["petitions"]]
        layers.append(pdk.Layer("ScatterplotLayer", d[["lon", "lat", "radius", "fill", *TIP_FIELDS]], id="disputes",
                                get_position=["lon", "lat"], get_radius="radius", get_fill_color="fill",
                                radius_units='"pixels"', stroked=True, get_line_color=[255, 255, 255], line_width_min_pixels=1,
                                pickable=True))
    if show.get("labels") and len(villages):
        layers.append(pdk.Layer("TextLayer", villages[["lon", "lat", "name"]], id="labels", get_position=["lon", "lat"],
                                get_text="name", get_size=16, get_color=[33, 33, 33, 255],
                                # quoted: pydeck reads bare strings as JavaScript expressions (an unquoted
                                # font list draws nothing); "auto" builds the atlas from the Chinese labels.
                                # A white box instead of an SDF outline: SDF blurs small CJK glyphs.
                                font_family=f'"{FONT}"', character_set='"auto"', get_text_anchor='"middle"',
                                get_alignment_baseline='"bottom"', get_pixel_offset=[0, -22], background=True,
                                get_background_color=[255, 255, 255, 215], background_padding=[4, 2, 4, 2]))
    # map_provider=None and pydeck's default map_style placeholder: Streamlit then draws no basemap.
    # (map_style=None would make Streamlit fetch a Carto style from the internet.)
    deck = pdk.Deck(
        layers=layers, initial_view_state=view, map_provider=None,
        tooltip={"html": TIP_HTML, "style": {"fontFamily": FONT, "fontSize": "13px", "backgroundColor": "#263238",
                                            "color": "white"}},
    )
    return deck, legend_html(edges, ramp, ind)
