"""乡治 dashboard entry point: sign-in, the one sidebar (period, township, village, language) and
st.navigation over dashboard/views/ (SPEC §7). Started by `xiangzhi dashboard` (pipelines.serve)."""

from __future__ import annotations

import json
import sys
import urllib.parse
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE.parent) not in sys.path:  # `streamlit run dashboard/app.py` puts only dashboard/ on the path
    sys.path.insert(0, str(HERE.parent))

import streamlit as st  # noqa: E402

from dashboard import auth  # noqa: E402
from dashboard.i18n import LANGS, t  # noqa: E402
from dashboard.state import Ctx, default_period, guard, incomplete_notice, run_in, url_choices, url_write  # noqa: E402
from pipelines import config  # noqa: E402  (XIANGZHI_LAKE: the province view, SPEC §4.1)
from pipelines import warehouse as wh  # noqa: E402

# no page_icon: a material-icon favicon is fetched from fonts.gstatic.com (an external request)
st.set_page_config(page_title="乡治 xiangzhi", layout="wide")
st.session_state.setdefault("lang", "zh")
# print CSS (dashboard-glance): a style-only st.html takes no room on the page
st.html(f"<style>{(HERE / 'assets' / 'print.css').read_text(encoding='utf-8')}</style>")
# dashboard-tables (#14 defect 8): narrower side margins (Streamlit's wide layout keeps 5rem each
# side), so a 15-column league table fits a 1440 px window beside the sidebar. Style-only HTML
# takes no space on the page.
st.html("<style>[data-testid='stMainBlockContainer']{padding-left:2.5rem;padding-right:2.5rem}</style>")


# Widgets whose option labels change with the language (dashboard-glance, #14 defect 1). The browser
# keeps a selectbox's value as its *label*; after a language switch it would send the old label
# ("全部" where the options now say "All"), which no option matches. Re-assigning the value through
# session state once after a switch makes Streamlit push the new label to the browser.
LABELLED_WIDGETS = ("period", "township", "village", "map_indicator", "map_layers", "trend_indicator",
                    "drill_village")


def _resync_after_language_switch() -> None:
    lang = st.session_state.get("lang", "zh")
    if st.session_state.get("_lang_seen", lang) != lang:
        for k in LABELLED_WIDGETS:
            if k in st.session_state:
                st.session_state[k] = st.session_state[k]
    st.session_state["_lang_seen"] = lang


_resync_after_language_switch()


def language_picker(container) -> None:
    container.radio(
        t("language"), list(LANGS), format_func=LANGS.get, key="lang", horizontal=True,
    )


def sign_in_page() -> None:
    language_picker(st)
    st.title(t("sign_in_title"))
    try:
        auth.load_users()
    except auth.UsersFileError as e:
        st.error(t("no_users", detail=str(e)))
        st.stop()
    with st.form("sign_in", clear_on_submit=False):
        username = st.text_input(t("username"), key="login_user")
        password = st.text_input(t("password"), type="password", key="login_password")
        ok = st.form_submit_button(t("sign_in"), type="primary")
    if ok:
        res = auth.sign_in(username, password)
        if res.locked_until is not None:  # the same words whether or not the name exists
            st.error(t("locked", until=res.locked_until.strftime("%H:%M")))
        elif res.user is None:
            st.error(t("bad_login"))
        else:
            st.session_state.pop("login_password", None)
            if not auth.served():  # AppTest: no server, no cookie (see signed_in_user)
                st.session_state["username"] = res.user.username
                st.rerun()
            # The browser takes a one-time grant to the server's route, which sets the HttpOnly
            # cookie and sends it back here: a fresh token, never one from before the sign-in.
            grant = auth.issue_grant(res.user, auth.grant_binding(st.context.cookies))
            _go_to(f"{auth.SIGN_IN_ROUTE}?grant={grant}&next={urllib.parse.quote(_here(), safe='')}")


def _go_to(url: str) -> None:
    """Send the browser to one of the session routes (a full page load, so its cookie is used)."""
    st.html(f"<script>window.location.replace({json.dumps(url)});</script>", unsafe_allow_javascript=True)
    st.markdown(f"[{t('continue_sign_in')}]({url})")
    st.stop()


def _here() -> str:
    """This page's path and query (a deep link with month and unit survives the sign-in)."""
    u = urllib.parse.urlsplit(st.context.url or "/")
    # st.context.url carries no query string in this Streamlit: the query comes from st.query_params
    query = urllib.parse.urlencode(st.query_params.to_dict()) or u.query
    return (u.path or "/") + (f"?{query}" if query else "")


def signed_in_user() -> auth.User | None:
    """The user the session cookie signs in, verified on every run (#19 item 14): st.session_state
    belongs to a session id, which another connection can present; the HttpOnly cookie comes with
    this run's own websocket. The account is re-read from the users file: the scope always comes
    from the file, never from anything the browser can send."""
    if auth.served():
        return auth.verify_token(st.context.cookies.get(auth.SESSION_COOKIE))
    name = st.session_state.get("username")
    if not name:
        return None
    try:
        return auth.load_users().get(name)
    except auth.UsersFileError:
        return None


def _reset_unit_choice() -> None:
    for k in ("township", "village"):
        st.session_state.pop(k, None)


def sidebar(user: auth.User) -> Ctx:
    scope = user.scope
    sb = st.sidebar
    sb.markdown(f"**{t('signed_in_as', name=user.display_name)}** · {t('role_' + user.role)}")
    if sb.button(t("sign_out"), key="sign_out"):
        for k in ("username", "_ctx", "township", "village", "period"):
            st.session_state.pop(k, None)
        if not auth.served():
            st.rerun()
        # revoked here at once (a copy of the cookie is dead too); the route clears the cookie
        auth.revoke_token(st.context.cookies.get(auth.SESSION_COOKIE))
        _go_to(auth.SIGN_OUT_ROUTE)
    language_picker(sb)

    with guard():
        periods = run_in(scope, wh.periods)
        if not periods:
            raise wh.NoData("no periods in scope")
        # Whatever the session holds (a widget value, an edited state) is checked by the query
        # module before anything is shown.
        try:
            run_in(scope, wh.resolve_unit, st.session_state.get("township"), st.session_state.get("village"))
        except wh.ScopeError:
            _reset_unit_choice()
            st.error(t("forbidden"))
        url_choices(scope, periods)  # a reloaded or shared URL's month/township/village, if in scope
        # the default month is the latest complete one, never a partly loaded month (#14 defect 4)
        comp = run_in(scope, wh.completeness)
        st.session_state["_completeness"] = comp
        incomplete = set(comp.loc[~comp["complete"].astype(bool), "period"])
        if st.session_state.get("period") not in periods:
            st.session_state["period"] = default_period(comp) or periods[-1]
        period = sb.selectbox(t("period"), periods, key="period",
                              format_func=lambda p: p + (t("period_incomplete_tag") if p in incomplete else ""))

        all_label = t("all")  # fixed per run: AppTest formats values outside the run's language
        if scope.role == "county":
            towns = run_in(scope, wh.townships)
            names = dict(zip(towns["township_code"], towns["name"], strict=True))
            # "" (not None) is 全部: a None value would show the empty placeholder after a resync
            township = sb.selectbox(
                t("township"), ["", *names], key="township",
                format_func=lambda c: all_label if c == "" else names.get(c, c),
            ) or None
        else:
            own = scope.code[:9]
            vs = run_in(scope, wh.villages)
            tname = vs["township_name"].iloc[0] if len(vs) else own
            sb.selectbox(t("township"), [own], format_func=lambda _c: tname, disabled=True, key="township_fixed")
            township = own if scope.role == "township" else None

        if scope.role == "village":
            vs = run_in(scope, wh.villages)
            sb.selectbox(t("village"), [scope.code], format_func=lambda _c: vs["name"].iloc[0], disabled=True,
                         key="village_fixed")
            village = None
        else:
            vs = run_in(scope, wh.villages, township) if township else run_in(scope, wh.villages)
            vnames = dict(zip(vs["village_code"], vs["name"], strict=True))
            if st.session_state.get("village") not in ("", *vnames):
                st.session_state["village"] = ""
            village = sb.selectbox(
                t("village"), ["", *vnames], key="village",
                format_func=lambda c: all_label if c == "" else vnames.get(c, c),
            ) or None
        unit = run_in(scope, wh.resolve_unit, township, village)
    return Ctx(user.username, user.display_name, scope, tuple(periods), period, township, village, unit)


def pages(user: auth.User) -> list:
    # No page icons: Streamlit turns a page's icon into the tab's favicon, fetched from
    # fonts.gstatic.com — an external request the offline rule forbids.
    if user.is_clerk:  # 信息员: the upload page and data quality of its scope, nothing else (SPEC §7)
        return [st.Page("views/upload.py", title=t("page_upload"), url_path="upload", default=True),
                st.Page("views/quality.py", title=t("page_quality"), url_path="quality")]
    spec = [
        ("overview", "page_overview"),
        ("map", "page_map"),
        ("trends", "page_trends"),
        ("rankings", "page_rankings"),
        ("points", "page_points"),
        ("quality", "page_quality"),
        ("monthly_pack", "page_pack"),
        ("workers", "page_workers"),  # grid workers (page 8)
        # --- cases, what-if, compare (pages 9, 10; issue #15) ---
        ("cases", "page_cases"),
        ("whatif", "page_whatif"),
        ("compare", "page_compare"),
    ]
    out = []
    for i, (name, key) in enumerate(spec):
        if name == "whatif" and st.session_state["_ctx"].scope.role != "county":
            continue  # page 10 is for county accounts (the page itself refuses others too)
        out.append(st.Page(f"views/{name}.py", title=t(key), url_path=name, default=i == 0))
    return out


user = signed_in_user()
if user is None:
    # a session whose cookie does not verify is signed out: nothing of a previous sign-in is kept
    for k in ("username", "_ctx", "_completeness", "township", "village", "period"):
        st.session_state.pop(k, None)
    st.navigation([st.Page(sign_in_page, title=t("sign_in"))], position="hidden").run()
elif config.lake() is not None:  # opened on a lake (`xiangzhi dashboard --lake DIR`): 省级总览 only
    from dashboard import lake_state

    lake_state.main(user, language_picker)
elif user.scope.role == "province":  # a province account reads a lake, never one county's copy
    language_picker(st.sidebar)
    st.info(t("province_needs_lake"))
    st.stop()
else:
    st.session_state["username"] = user.username  # for the views; never read to sign in
    if wh.stamp() is None:
        language_picker(st.sidebar)
        st.info(t("no_data"))
        st.stop()
    st.session_state["_ctx"] = ctx = sidebar(user)
    url_write(ctx)  # the URL keeps the month, township and village (reload or share keeps them)
    nav = st.navigation(pages(user))
    incomplete_notice(ctx.period)  # above every page's content
    nav.run()
