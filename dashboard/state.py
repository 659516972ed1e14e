"""What every page needs: the signed-in context (scope, period, unit) and cached warehouse calls.

Pages do ``c = current()`` and ``run(wh.some_query, c.period, c.unit.code)``: ``run`` adds the
signed-in scope and caches small results in ``st.cache_data`` keyed on the published file's identity
(inode, mtime), so a newly published copy is picked up on the next run. ``guard()`` turns the
warehouse's "no data" / "being swapped" / "outside scope" errors into a clear message.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import duckdb
import streamlit as st

from dashboard.i18n import t
from pipelines import warehouse as wh


@dataclass(frozen=True)
class Ctx:
    username: str
    display_name: str
    scope: wh.Scope
    periods: tuple[str, ...]
    period: str
    township_code: str | None
    village_code: str | None
    unit: wh.Unit

    @property
    def year(self) -> int:
        return int(self.period[:4])


def current() -> Ctx:
    ctx = st.session_state.get("_ctx")
    if ctx is None:  # a page run without app.py (should not happen through navigation)
        st.stop()
    return ctx


@st.cache_data(max_entries=512, ttl=3600, show_spinner=False)
def _cached(stamp: tuple, name: str, scope: wh.Scope, args: tuple, kwargs: tuple):
    # `stamp` is only part of the key: a new published file (new inode/mtime) misses the cache.
    fn = getattr(wh, name)
    return fn(scope, *args, **dict(kwargs))


def run(fn: Callable, *args, **kwargs):
    """Call a warehouse query with the signed-in scope, cached per published copy."""
    return run_in(current().scope, fn, *args, **kwargs)


def run_in(scope: wh.Scope, fn: Callable, *args, **kwargs):
    """run() with the scope given: the sidebar's queries run before the page context exists, and
    uncached they cost every run of every session (#19 item 8)."""
    if getattr(fn, "__module__", None) != wh.__name__:
        raise ValueError(f"{fn!r} is not a warehouse query")
    s = wh.stamp()
    if s is None:
        raise wh.NoData(str(wh.published_path()))
    return _cached(s, fn.__name__, scope, tuple(args), tuple(sorted(kwargs.items())))


def default_period(comp) -> str | None:
    """The month the dashboard opens on: the latest complete month (wh.completeness), else the latest."""
    if comp is None or comp.empty:
        return None
    done = comp.loc[comp["complete"].astype(bool), "period"]
    return str(done.iloc[-1]) if len(done) else str(comp["period"].iloc[-1])


def incomplete_notice(period: str) -> None:
    """On every page: say so when the month shown is incomplete (#14 defect 4)."""
    from dashboard.i18n import fmt_pct

    comp = st.session_state.get("_completeness")
    if comp is None or comp.empty:
        return
    row = comp[comp["period"] == period]
    if len(row) and not bool(row["complete"].iloc[0]):
        r = row.iloc[0]
        st.warning(t("incomplete_month", period=period, share=fmt_pct(r["share"]), usual=fmt_pct(r["usual"])))


@contextmanager
def guard() -> Iterator[None]:
    """Show a clear message instead of a traceback for the expected failures, then stop the page."""
    try:
        yield
    except wh.NoData:
        st.info(t("no_data"))
        st.stop()
    except (wh.Unavailable, duckdb.ConnectionException, duckdb.IOException):
        st.warning(t("swapping"))
        st.stop()
    except wh.ScopeError:
        st.error(t("forbidden"))
        st.stop()


# --- the page's URL keeps the month, township and village (dashboard-glance, #14 "At a glance") ---
# Codes, never labels: the URL reads the same in either language (see app.LABELLED_WIDGETS). A value
# the URL brings is used only when it is in the signed-in user's scope; anything else (another
# township, a month without data, junk) is ignored and the user's default stands — never an error.
URL_KEYS = ("period", "township", "village")


def url_choices(scope: wh.Scope, periods: list[str]) -> None:
    """Before the sidebar's widgets exist: the URL's choices (a reload, a shared link) become their values.
    Only when the URL differs from what this session last wrote there, so a widget change is not undone."""
    qp = {k: st.query_params.get(k) for k in URL_KEYS}
    qp = {k: str(v) for k, v in qp.items() if v}
    if not qp or qp == st.session_state.get("_url_written"):
        return
    if qp.get("period") in periods:
        st.session_state["period"] = qp["period"]
    town = qp.get("township")
    if scope.role == "county" and town and town in set(wh.townships(scope)["township_code"]):
        st.session_state["township"] = town
    village = qp.get("village")
    if village and scope.role != "village":
        within = st.session_state.get("township") or None if scope.role == "county" else None
        if village in set(wh.villages(scope, within)["village_code"]):
            st.session_state["village"] = village


def url_write(ctx: Ctx) -> None:
    """After the sidebar: the URL shows the choices in force (other parameters, e.g. a drill-through's, stay)."""
    want = {"period": ctx.period,
            "township": ctx.township_code if ctx.scope.role == "county" else None,
            "village": ctx.village_code}
    for k, v in want.items():
        if v and st.query_params.get(k) != v:
            st.query_params[k] = v
        elif not v and k in st.query_params:
            del st.query_params[k]
    st.session_state["_url_written"] = {k: v for k, v in want.items() if v}
