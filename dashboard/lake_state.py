"""The dashboard opened on a Parquet lake (SPEC §4.1, `xiangzhi dashboard --lake DIR`): the sidebar,
the one page 省级总览 / Province overview, and cached gateway reads on the lake.

Only province and county accounts have a lake view; the scope comes from the users file as for the
published copy, and every read goes through pipelines.warehouse with that scope (a county account
sees its own county only). One read-only DuckDB connection per lake identity (its manifest, which
every export and mart build replaces) is kept with st.cache_resource; small results are cached per
identity, so a re-exported county shows on the next run.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import streamlit as st

from dashboard.i18n import t
from dashboard.state import Ctx, guard
from pipelines import config
from pipelines import warehouse as wh
from pipelines.lake import layout

LAKE_ROLES = ("province", "county")


def lake_path() -> Path | None:
    return config.lake()


@st.cache_resource(max_entries=4, show_spinner=False)
def _connection(stamp: tuple):
    return wh.lake_connection(Path(stamp[0]).parent)


@st.cache_data(max_entries=256, ttl=3600, show_spinner=False)
def _cached(stamp: tuple, name: str, scope: wh.Scope, args: tuple, kwargs: tuple):
    return getattr(wh, name)(scope, *args, con=_connection(stamp), **dict(kwargs))


def run(fn: Callable, scope: wh.Scope, *args, **kwargs):
    """A gateway query on the lake with the signed-in scope, cached per lake identity."""
    if getattr(fn, "__module__", None) != wh.__name__:
        raise ValueError(f"{fn!r} is not a warehouse query")
    s = layout.stamp(lake_path())
    if s is None:
        raise wh.NoData(str(lake_path()))
    return _cached(s, fn.__name__, scope, tuple(args), tuple(sorted(kwargs.items())))


def main(user, language_picker) -> None:
    """Sidebar and navigation of the lake dashboard; stops the run when there is nothing to show."""
    lake = lake_path()
    sb = st.sidebar
    sb.markdown(f"**{t('signed_in_as', name=user.display_name)}** · {t('role_' + user.role)}")
    if sb.button(t("sign_out"), key="sign_out"):
        for k in ("username", "_ctx", "period"):
            st.session_state.pop(k, None)
        st.rerun()
    language_picker(sb)
    if user.is_clerk or user.scope.role not in LAKE_ROLES:
        st.info(t("lake_not_for_role"))
        st.stop()
    if layout.stamp(lake) is None:
        st.error(t("lake_missing", lake=lake))
        st.stop()
    scope = user.scope
    with guard():
        periods = run(wh.periods, scope)
        if not periods:
            st.info(t("lake_no_periods"))
            st.stop()
        if st.session_state.get("period") not in periods:
            st.session_state["period"] = periods[-1]
        period = sb.selectbox(t("period"), periods, key="period")
        if scope.role == "province":
            unit = wh.Unit("province", scope.code, t("province_unit", code=scope.code))
        else:
            own = run(wh.county_league, scope, period)
            unit = wh.Unit("county", scope.code, str(own["name"].iloc[0]) if len(own) else scope.code)
    st.session_state["_ctx"] = Ctx(user.username, user.display_name, scope, tuple(periods), period, None, None,
                                   unit)
    st.navigation([st.Page("views/province.py", title=t("page_province"), url_path="province",
                           default=True)]).run()
