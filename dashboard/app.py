"""乡治 dashboard entry point: sign-in, the one sidebar (period, township, village, language) and
st.navigation over dashboard/views/ (SPEC §7). Started by `xiangzhi dashboard` (dashboard.launch)."""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE.parent) not in sys.path:  # `streamlit run dashboard/app.py` puts only dashboard/ on the path
    sys.path.insert(0, str(HERE.parent))

import streamlit as st  # noqa: E402

from dashboard import auth  # noqa: E402
from dashboard.i18n import LANGS, t  # noqa: E402
from dashboard.state import Ctx, guard  # noqa: E402
from pipelines import warehouse as wh  # noqa: E402

# no page_icon: a material-icon favicon is fetched from fonts.gstatic.com (an external request)
st.set_page_config(page_title="乡治 xiangzhi", layout="wide")
st.session_state.setdefault("lang", "zh")


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
        user = auth.authenticate(username, password)
        if user is None:
            st.error(t("bad_login"))
        else:
            st.session_state["username"] = user.username
            st.session_state.pop("login_password", None)
            st.rerun()


def signed_in_user() -> auth.User | None:
    """The user named in the session, re-read from the users file every run: the scope always comes
    from the file, never from anything the browser can send."""
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
        st.rerun()
    language_picker(sb)

    with guard():
        periods = wh.periods(scope)
        if not periods:
            raise wh.NoData("no periods in scope")
        # Whatever the session holds (a widget value, an edited state) is checked by the query
        # module before anything is shown.
        try:
            wh.resolve_unit(scope, st.session_state.get("township"), st.session_state.get("village"))
        except wh.ScopeError:
            _reset_unit_choice()
            st.error(t("forbidden"))
        if st.session_state.get("period") not in periods:
            st.session_state["period"] = periods[-1]
        period = sb.selectbox(t("period"), periods, key="period")

        if scope.role == "county":
            towns = wh.townships(scope)
            names = dict(zip(towns["township_code"], towns["name"], strict=True))
            township = sb.selectbox(
                t("township"), [None, *names], key="township",
                format_func=lambda c: t("all") if c is None else names[c],
            )
        else:
            own = scope.code[:9]
            vs = wh.villages(scope)
            tname = vs["township_name"].iloc[0] if len(vs) else own
            sb.selectbox(t("township"), [own], format_func=lambda _c: tname, disabled=True, key="township_fixed")
            township = own if scope.role == "township" else None

        if scope.role == "village":
            vs = wh.villages(scope)
            sb.selectbox(t("village"), [scope.code], format_func=lambda _c: vs["name"].iloc[0], disabled=True,
                         key="village_fixed")
            village = None
        else:
            vs = wh.villages(scope, township) if township else wh.villages(scope)
            vnames = dict(zip(vs["village_code"], vs["name"], strict=True))
            if st.session_state.get("village") not in (None, *vnames):
                st.session_state["village"] = None
            village = sb.selectbox(
                t("village"), [None, *vnames], key="village",
                format_func=lambda c: t("all") if c is None else vnames[c],
            )
        unit = wh.resolve_unit(scope, township, village)
    return Ctx(user.username, user.display_name, scope, tuple(periods), period, township, village, unit)


def pack_missing() -> None:
    st.info(t("pack_missing"))


def pages() -> list:
    views = HERE / "views"
    # No page icons: Streamlit turns a page's icon into the tab's favicon, fetched from
    # fonts.gstatic.com — an external request the offline rule forbids.
    spec = [
        ("overview", "page_overview"),
        ("map", "page_map"),
        ("trends", "page_trends"),
        ("rankings", "page_rankings"),
        ("points", "page_points"),
        ("quality", "page_quality"),
        ("monthly_pack", "page_pack"),
        # --- cases, what-if, compare (pages 9, 10; issue #15) ---
        ("cases", "page_cases"),
        ("whatif", "page_whatif"),
        ("compare", "page_compare"),
    ]
    out = []
    for i, (name, key) in enumerate(spec):
        if name == "whatif" and st.session_state["_ctx"].scope.role != "county":
            continue  # page 10 is for county accounts (the page itself refuses others too)
        if (views / f"{name}.py").exists():
            target = f"views/{name}.py"
        else:  # page 7 belongs to another module: tolerate its absence
            target = pack_missing
        out.append(st.Page(target, title=t(key), url_path=name, default=i == 0))
    return out


user = signed_in_user()
if user is None:
    st.session_state.pop("username", None)
    st.navigation([st.Page(sign_in_page, title=t("sign_in"))], position="hidden").run()
else:
    if wh.stamp() is None:
        language_picker(st.sidebar)
        st.info(t("no_data"))
        st.stop()
    st.session_state["_ctx"] = sidebar(user)
    st.navigation(pages()).run()
