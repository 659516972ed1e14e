"""Sessions that cannot be taken over (#19 item 14): the sign-in is a signed, expiring token in an
HttpOnly cookie, verified on every run; a websocket that presents a signed-in session's id without
the cookie gets the sign-in page. Driven by a raw websocket client (benchmarks/load_sessions.py)
against a real `xiangzhi dashboard` on a published copy."""

from __future__ import annotations

import json
import time

import pytest

from benchmarks.load_sessions import Session, cookie_from, grant_url, http_get, sign_in, submit_sign_in
from dashboard import auth
from pipelines import config
from pipelines import users as users_mod
from pipelines import warehouse as wh
from pipelines.errors import UserError
from tests.test_e2e_browser import dashboard_server
from tests.test_warehouse_scope import build_published

SIGN_IN_TITLE = "请登录"
HOURS = 2  # the server's XIANGZHI_SESSION_HOURS here, so Max-Age is checked against a setting


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    h = tmp_path_factory.mktemp("session") / "home"
    build_published(h)
    auth.write_demo_users(h / "users.yaml", h / "published" / "xiangzhi.duckdb", rounds=4)
    return h


@pytest.fixture(scope="module")
def server(home):
    con = wh.connect(home / "published" / "xiangzhi.duckdb")
    units = wh.first_units(con)
    con.close()
    with dashboard_server(home, XIANGZHI_SESSION_HOURS=str(HOURS)) as url:
        yield {"url": url, "units": units, "home": home}


@pytest.fixture
def in_home(home, monkeypatch):
    """This process pointed at the server's home (to mint tokens with its key, as a forger can't)."""
    monkeypatch.setenv("XIANGZHI_HOME", str(home))
    return home


def shows_data(run, server, role="county") -> bool:
    return server["units"][role]["name"] in run.text and "总览" in run.text


# ---------------------------------------------------------------------------------------------
# against the server


def test_replayed_session_id_without_the_cookie_gets_the_sign_in_page(server):
    cookie, _ = sign_in(server["url"], "county", auth.DEMO_PASSWORD)
    with Session(server["url"], cookie=cookie) as victim:
        seen = victim.run()
        assert shows_data(seen, server) and not seen.exception
        victim_id = victim.session_id
        with Session(server["url"], session_id=victim_id) as attacker:
            got = attacker.run()
            # the replay did reach the victim's session (same id, same session state) ...
            assert attacker.session_id == victim_id
            # ... and still shows only the sign-in form: no unit name, no page of the signed-in user
            assert SIGN_IN_TITLE in got.text
            assert server["units"]["county"]["name"] not in got.text
            assert set(got.pages) == {""}
            # asking for a data page by its name changes nothing
            assert server["units"]["county"]["name"] not in attacker.run("map").text


def test_an_id_taken_before_sign_in_does_not_resume_the_signed_in_session(server):
    """The village case of the red team: the attacker notes the id of a session before the user
    signs in on it; the user signs in (form → route → reconnect with the cookie, same id)."""
    url = server["url"]
    with Session(url) as before:
        form = before.run()
        taken_id = before.session_id
        submitted = submit_sign_in(before, form, "village", auth.DEMO_PASSWORD)
    status, headers, _ = http_get(url + grant_url(submitted))
    cookie = cookie_from(headers)
    assert status == 303 and cookie
    with Session(url, cookie=cookie, session_id=taken_id) as user:
        assert shows_data(user.run(), server, "village")
        assert user.session_id == taken_id  # the browser resumed the very session the attacker noted
    with Session(url, session_id=taken_id) as attacker:
        got = attacker.run()
        assert attacker.session_id == taken_id
        assert SIGN_IN_TITLE in got.text and server["units"]["village"]["name"] not in got.text


def test_cookie_is_httponly_strict_and_lives_the_setting(server):
    with Session(server["url"]) as s:
        submitted = submit_sign_in(s, s.run(), "township", auth.DEMO_PASSWORD)
    path = grant_url(submitted)
    status, headers, location = http_get(server["url"] + path)
    assert status == 303 and location == "/"
    [line] = [c for c in headers["set-cookie"] if c.startswith(auth.SESSION_COOKIE + "=")]
    flags = {f.strip().split("=")[0].lower(): f.strip() for f in line.split(";")[1:]}
    assert "httponly" in flags
    assert flags["samesite"].lower() == "samesite=strict"
    assert flags["path"] == "Path=/"
    assert flags["max-age"] == f"Max-Age={HOURS * 3600}"
    assert "secure" not in flags  # plain http on the office network; https would add it
    # the grant was spent: the same link signs in nobody
    status, headers, location = http_get(server["url"] + path)
    assert status == 303 and cookie_from(headers) is None and location == "/"


def test_a_reload_keeps_the_user_signed_in_and_each_sign_in_rotates_the_token(server):
    first, _ = sign_in(server["url"], "county", auth.DEMO_PASSWORD)
    second, _ = sign_in(server["url"], "county", auth.DEMO_PASSWORD)
    assert first != second  # a fresh nonce per sign-in: nothing from before it stays valid by it
    with Session(server["url"], cookie=first) as reloaded:  # a new connection, as after F5
        assert shows_data(reloaded.run(), server)


def test_forged_expired_and_foreign_tokens_are_signed_out(server, in_home):
    user = auth.load_users()["county"]
    expired = auth.issue_token(user, now=time.time() - HOURS * 3600 - 5, hours=HOURS)
    good = auth.issue_token(user)
    body, mac = good.split(".")
    claims = json.loads(users_mod._unb64(body))
    claims["s"] = claims["s"][:6]  # widen nothing: any edit breaks the signature
    forged = users_mod._b64(json.dumps(claims).encode()) + "." + mac
    minted = auth.issue_token(user)
    for bad in (expired, forged, "garbage", mac):
        with Session(server["url"], cookie=bad) as s:
            got = s.run()
            assert SIGN_IN_TITLE in got.text and server["units"]["county"]["name"] not in got.text, bad[:20]
    with Session(server["url"], cookie=minted) as s:  # signed with the server's own key: accepted
        assert shows_data(s.run(), server)


def test_sign_out_clears_the_cookie_and_kills_its_copies(server):
    cookie, _ = sign_in(server["url"], "county", auth.DEMO_PASSWORD)
    with Session(server["url"], cookie=cookie) as s:
        page = s.run()
        sign_out = next(el.button.id for el in page.elements
                        if el.WhichOneof("type") == "button" and el.button.id.endswith("-sign_out"))
        from streamlit.proto.WidgetStates_pb2 import WidgetState

        out = s.run(widgets=[WidgetState(id=sign_out, trigger_value=True)])
        assert auth.SIGN_OUT_ROUTE in out.text  # the browser is sent to the route that clears it
    status, headers, location = http_get(server["url"] + auth.SIGN_OUT_ROUTE, cookie=cookie)
    [line] = [c for c in headers["set-cookie"] if c.startswith(auth.SESSION_COOKIE + "=")]
    assert status == 303 and location == "/"
    assert "Max-Age=0" in line or "expires=Thu, 01 Jan 1970" in line
    # a copy of the cookie kept from before the sign-out no longer signs anyone in
    with Session(server["url"], cookie=cookie) as s:
        got = s.run()
        assert SIGN_IN_TITLE in got.text and server["units"]["county"]["name"] not in got.text


def test_the_sign_in_route_redirects_only_to_this_server(server):
    with Session(server["url"]) as s:
        submitted = submit_sign_in(s, s.run(), "county", auth.DEMO_PASSWORD)
    status, headers, location = http_get(server["url"] + grant_url(submitted) + "&next=//evil.example/x")
    assert status == 303 and location == "/" and cookie_from(headers)
    with Session(server["url"]) as s:
        submitted = submit_sign_in(s, s.run(), "county", auth.DEMO_PASSWORD)
    _, _, location = http_get(server["url"] + grant_url(submitted).split("&")[0] + "&next=/map%3Fperiod%3D2025-05")
    assert location == "/map?period=2025-05"  # a deep link survives the sign-in


def test_a_wrong_password_gives_no_grant(server):
    with Session(server["url"]) as s:
        got = submit_sign_in(s, s.run(), "county", "wrong password")
    assert grant_url(got) is None and "用户名或密码错误" in got.text


def test_load_script_times_sign_in_and_each_page(server):
    from benchmarks.load_sessions import load, summarise

    out = load(server["url"], 2, "township", auth.DEMO_PASSWORD, pages=["", "map"])
    assert len(out["records"]) == 2 and not [r for r in out["records"] if "_failed" in r or "_errors" in r]
    figures = summarise(out)
    assert set(figures) == {"sign_in", "overview", "map"}
    assert all(0 < p50 <= p95 for p50, p95 in figures.values())


# ---------------------------------------------------------------------------------------------
# the token and grant functions (no server)


def test_token_checks(in_home):
    users = auth.load_users()
    county = users["county"]
    now = 1_800_000_000.0
    tok = auth.issue_token(county, now=now, hours=8)
    assert auth.verify_token(tok, now=now + 1).username == "county"
    assert auth.verify_token(tok, now=now + 8 * 3600 - 1) is not None
    assert auth.verify_token(tok, now=now + 8 * 3600) is None  # expired
    assert auth.verify_token(tok, now=now - 3600) is None  # issued in the future
    assert auth.verify_token(tok[:-1] + ("0" if tok[-1] != "0" else "1"), now=now + 1) is None
    assert auth.verify_token(None) is None and auth.verify_token("a.b.c") is None
    # an account whose password, role or scope changed, or that was removed, is signed out
    path = in_home / "users.yaml"
    original = path.read_text(encoding="utf-8")
    try:
        new = auth.User(county.username, county.display_name, county.role, county.scope_code,
                        auth.hash_password("another password", rounds=4))
        auth.write_users(path, [new, *[u for u in users.values() if u.username != "county"]])
        assert auth.verify_token(tok, now=now + 1) is None
        auth.write_users(path, [u for u in users.values() if u.username != "county"])
        assert auth.verify_token(tok, now=now + 1) is None
    finally:
        path.write_text(original, encoding="utf-8")
    assert auth.verify_token(tok, now=now + 1) is not None
    auth.revoke_token(tok, now=now)
    assert auth.verify_token(tok, now=now + 1) is None


def test_session_key_is_private_and_signs_every_token(in_home):
    tok = auth.issue_token(auth.load_users()["county"])
    key = users_mod.session_key_path()
    assert key.stat().st_mode & 0o777 == 0o600
    assert len(bytes.fromhex(key.read_text().strip())) == 32
    old = key.read_text()
    try:
        key.unlink()  # a new key (as after a suspected leak) ends every session signed with the old
        assert auth.verify_token(tok) is None
        assert key.stat().st_mode & 0o777 == 0o600
    finally:
        key.write_text(old)
    assert auth.verify_token(tok).username == "county"


def test_grants_are_one_time_short_and_bound_to_the_browser(in_home):
    user = auth.load_users()["township"]
    mine = auth.grant_binding({"_streamlit_xsrf": "2|abc|def|1"})
    theirs = auth.grant_binding({})
    g = auth.issue_grant(user, mine, now=100.0)
    assert auth.redeem_grant(g, theirs, now=101.0) is None  # another browser: refused, and spent
    assert auth.redeem_grant(g, mine, now=101.0) is None
    g = auth.issue_grant(user, mine, now=100.0)
    assert auth.redeem_grant(g, mine, now=100.0 + users_mod.GRANT_SECONDS) is None  # too late
    g = auth.issue_grant(user, mine)
    tok = auth.redeem_grant(g, mine)
    assert auth.verify_token(tok).username == "township"
    assert auth.redeem_grant(g, mine) is None  # once only


def test_session_hours_setting(monkeypatch):
    assert "XIANGZHI_SESSION_HOURS" in config.SETTINGS_HELP
    monkeypatch.setenv("XIANGZHI_SESSION_HOURS", "3")
    assert config.session_hours() == 3
    for bad in ("0", "-1", "abc", "10000"):
        monkeypatch.setenv("XIANGZHI_SESSION_HOURS", bad)
        with pytest.raises(UserError) as e:
            config.session_hours()
        assert "XIANGZHI_SESSION_HOURS" in str(e.value)


# ---------------------------------------------------------------------------------------------
# sign-in under load (#19 item 8): the bcrypt check no longer runs under the state lock


@pytest.fixture
def own_home(home, tmp_path, monkeypatch):
    """A home of its own (locks set here must not reach the server tests' accounts)."""
    import shutil

    h = tmp_path / "home"
    h.mkdir()
    shutil.copy(home / "users.yaml", h / "users.yaml")
    monkeypatch.setenv("XIANGZHI_HOME", str(h))
    return h


def _parallel(fn, args_list):
    import threading

    results = [None] * len(args_list)

    def one(i, args):
        results[i] = fn(*args)

    threads = [threading.Thread(target=one, args=(i, a)) for i, a in enumerate(args_list)]
    t0 = time.perf_counter()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return results, time.perf_counter() - t0


def test_sign_ins_do_not_wait_for_each_others_password_check(own_home, monkeypatch):
    check = 1.0  # a slow bcrypt check (cost 12 takes about this on a busy office PC)

    def slow_verify(password, password_hash):
        time.sleep(check)
        return password == auth.DEMO_PASSWORD

    monkeypatch.setattr(users_mod, "verify", slow_verify)
    names = ["county", "township", "village"]
    results, wall = _parallel(users_mod.sign_in, [(n, auth.DEMO_PASSWORD) for n in names])
    assert [r.user.username for r in results] == names
    # under the old state lock the three checks ran one after another (≥ 3 s)
    assert wall < 2.2 * check, wall


def test_parallel_wrong_passwords_cannot_outrun_the_lock(own_home, monkeypatch):
    calls = []

    def slow_verify(password, password_hash):
        calls.append(password)
        time.sleep(0.3)
        return False

    monkeypatch.setattr(users_mod, "verify", slow_verify)
    results, _ = _parallel(users_mod.sign_in, [("county", f"guess {i}") for i in range(12)])
    assert len(calls) == users_mod.MAX_FAILURES  # no more guesses checked than the lock allows
    assert all(r.user is None for r in results)
    assert sum(r.locked_until is not None for r in results) == 12 - users_mod.MAX_FAILURES + 1
    assert users_mod.sign_in("county", auth.DEMO_PASSWORD).locked_until is not None
