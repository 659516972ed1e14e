"""`xiangzhi users add|passwd|list|remove` through the real command in a pseudo-terminal (getpass
reads /dev/tty, as for a person at the keyboard), and sign-in lockout and audit in the data home."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pexpect
import pytest
import yaml

from pipelines import users
from tests.test_warehouse_scope import build_published

ROOT = Path(__file__).resolve().parents[1]
XIANGZHI = str(Path(sys.executable).with_name("xiangzhi"))
PASSWORD = "correct horse 9"


@pytest.fixture
def whome(home):
    """A data home with a published warehouse (county 360726, townships 360726100 and 360726200)."""
    build_published(home)
    return home


def run_add(home: Path, *args: str, first: str = PASSWORD, second: str = PASSWORD) -> tuple[int, str]:
    env = {**os.environ, "XIANGZHI_HOME": str(home)}
    child = pexpect.spawn(XIANGZHI, ["users", "add", *args], env=env, encoding="utf-8", timeout=120)
    seen = []
    for prompt, answer in (("新密码 / new password: ", first), ("再输入一次 / repeat it: ", second)):
        if child.expect([prompt, pexpect.EOF]) == 1:  # refused before this prompt
            break
        seen.append(child.before + child.after)
        child.sendline(answer)
    else:
        child.expect(pexpect.EOF)
    seen.append(child.before)
    child.close()
    return child.exitstatus, "".join(seen)


def test_add_asks_twice_never_echoes_and_writes_0600(whome):
    code, screen = run_add(whome, "clerk1", "--role", "clerk", "--scope", "360726100",
                           "--display-name", "东山镇信息员")
    assert code == 0, screen
    assert "已添加账号 added user clerk1" in screen
    assert PASSWORD not in screen  # typed on the terminal, never echoed back
    f = whome / "users.yaml"
    assert stat.S_IMODE(f.stat().st_mode) == 0o600
    text = f.read_text(encoding="utf-8")
    assert PASSWORD not in text and "$2b$" in text
    [entry] = yaml.safe_load(text)["users"]
    assert (entry["username"], entry["role"], entry["scope"], entry["display_name"]) == (
        "clerk1", "clerk", "360726100", "东山镇信息员")
    assert users.sign_in("clerk1", PASSWORD, f).user.scope.role == "township"
    assert not list(whome.glob(".users.yaml.*"))  # the temp file was renamed, none left behind


def test_add_refuses_mismatch_and_short_password(whome):
    code, screen = run_add(whome, "a", "--role", "county", "--scope", "360726", second="something else")
    assert code == 2 and "两次输入的密码不一致" in screen and "the two passwords differ" in screen
    assert not (whome / "users.yaml").exists()
    code, screen = run_add(whome, "a", "--role", "county", "--scope", "360726", first="short")
    assert code == 2 and "密码至少8个字符" in screen


def test_password_is_never_an_argument(whome):
    r = subprocess.run([XIANGZHI, "users", "add", "a", "--role", "county", "--scope", "360726",
                        "--password", PASSWORD], capture_output=True, text=True,
                       env={**os.environ, "XIANGZHI_HOME": str(whome)}, stdin=subprocess.DEVNULL)
    assert r.returncode == 2 and "unrecognized arguments: --password" in r.stderr
    assert not (whome / "users.yaml").exists()


@pytest.mark.parametrize("role, scope, message", [
    ("township", "360726999", "权限代码 360726999 不是已发布数据中的区划"),  # right shape, not a unit
    ("township", "360726", "角色 township 需要9位数字的权限代码"),
    ("clerk", "360726100001", "角色 clerk 需要6或9位数字的权限代码"),
    ("village", "36072610000x", "角色 village 需要12位数字的权限代码"),
])
def test_role_and_scope_checked_against_the_warehouse(whome, role, scope, message):
    code, screen = run_add(whome, "b", "--role", role, "--scope", scope)
    assert code == 2, screen
    assert message in screen and "Traceback" not in screen
    assert "新密码" not in screen  # refused before the password is asked for


def test_an_unknown_role_is_refused_with_every_role_listed(whome):
    """Was argparse's "invalid choice: 'province' (choose from county, township, village, clerk)":
    the refusal names every role the users file accepts, province (the lake view) among them."""
    code, screen = run_add(whome, "d", "--role", "mayor", "--scope", "36")
    assert code == 2 and "Traceback" not in screen and "新密码" not in screen
    assert "未知角色 'mayor'" in screen and "unknown role 'mayor'" in screen
    for role in ("county", "township", "village", "province", "clerk"):
        assert role in screen, (role, screen)


def test_a_province_account_is_added_with_its_two_digit_code(whome):
    """A province account reads a lake (SPEC §4.1): its 2-digit code is no unit of a county warehouse,
    so it is checked against the published counties' codes, not refused as "not a unit"."""
    code, screen = run_add(whome, "jx", "--role", "province", "--scope", "36", "--display-name", "省级")
    assert code == 0, screen
    assert users.sign_in("jx", PASSWORD, whome / "users.yaml").user.scope.role == "province"
    code, screen = run_add(whome, "hn", "--role", "province", "--scope", "43")  # no county 43xxxx here
    assert code == 2 and "省级代码 43 与已发布数据中的县不符" in screen and "新密码" not in screen
    code, screen = run_add(whome, "p3", "--role", "province", "--scope", "360")
    assert code == 2 and "角色 province 需要2位数字的权限代码" in screen


def test_without_a_warehouse_only_the_shape_is_checked(home):
    code, screen = run_add(home, "c", "--role", "village", "--scope", "360726999001")
    assert code == 0, screen


def test_list_passwd_remove(whome):
    f = whome / "users.yaml"
    assert run_add(whome, "county1", "--role", "county", "--scope", "360726")[0] == 0
    assert run_add(whome, "vil", "--role", "village", "--scope", "360726200001")[0] == 0
    users.sign_in("county1", PASSWORD, f, now=datetime(2026, 3, 4, 9, 30, 5))
    r = subprocess.run([XIANGZHI, "users", "list"], capture_output=True, text=True,
                       env={**os.environ, "XIANGZHI_HOME": str(whome)})
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].split()[:2] == ["用户名", "name"]
    assert lines[1].split()[:4] == ["county1", "county", "360726", "2026-03-04T09:30:05"]
    assert lines[2].split()[:4] == ["vil", "village", "360726200001", "从未"]
    assert "$2b$" not in r.stdout

    old = users.load_users(f)["vil"].password_hash
    env = {**os.environ, "XIANGZHI_HOME": str(whome)}
    child = pexpect.spawn(XIANGZHI, ["users", "passwd", "vil"], env=env, encoding="utf-8", timeout=120)
    for _ in range(2):
        child.expect(["新密码", "再输入一次"])
        child.sendline("a new password")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert users.load_users(f)["vil"].password_hash != old
    assert users.sign_in("vil", "a new password", f).user is not None
    assert users.sign_in("vil", PASSWORD, f).user is None

    r = subprocess.run([XIANGZHI, "users", "remove", "vil"], capture_output=True, text=True, env=env)
    assert r.returncode == 0 and "已删除账号 removed user vil" in r.stdout
    assert set(users.load_users(f)) == {"county1"}
    r = subprocess.run([XIANGZHI, "users", "remove", "vil"], capture_output=True, text=True, env=env)
    assert r.returncode == 2 and "没有账号 vil" in r.stderr
    assert stat.S_IMODE(f.stat().st_mode) == 0o600


# ---------------------------------------------------------------------------------------------
# lockout and audit


@pytest.fixture
def ufile(home):
    f = home / "users.yaml"
    users.write_users(f, [users.User("t1", "T1", "township", "360726100", users.hash_password(PASSWORD, 4))])
    return f


def test_five_failures_lock_for_fifteen_minutes(ufile):
    t0 = datetime(2026, 5, 1, 8, 0, 0)
    for i in range(4):
        r = users.sign_in("t1", "wrong", ufile, now=t0 + timedelta(minutes=i))
        assert r.user is None and r.locked_until is None
    r = users.sign_in("t1", "wrong", ufile, now=t0 + timedelta(minutes=4))
    assert r.locked_until == t0 + timedelta(minutes=19)
    # locked: even the right password is not checked
    r = users.sign_in("t1", PASSWORD, ufile, now=t0 + timedelta(minutes=18, seconds=59))
    assert r.user is None and r.locked_until == t0 + timedelta(minutes=19)
    assert users.sign_in("t1", PASSWORD, ufile, now=t0 + timedelta(minutes=19)).user.username == "t1"


def test_failures_outside_the_window_do_not_count(ufile):
    t0 = datetime(2026, 5, 1, 8, 0, 0)
    for i in range(4):
        users.sign_in("t1", "wrong", ufile, now=t0 + timedelta(minutes=i))
    # 16 minutes after the first failure only three are recent: the fifth wrong one does not lock
    r = users.sign_in("t1", "wrong", ufile, now=t0 + timedelta(minutes=16))
    assert r.locked_until is None
    # a success clears the count
    assert users.sign_in("t1", PASSWORD, ufile, now=t0 + timedelta(minutes=17)).user
    for i in range(4):
        assert users.sign_in("t1", "wrong", ufile, now=t0 + timedelta(minutes=18 + i)).locked_until is None


def test_unknown_names_lock_the_same_way(ufile):
    t0 = datetime(2026, 5, 1, 8, 0, 0)
    real = [users.sign_in("t1", "wrong", ufile, now=t0) for _ in range(5)]
    ghost = [users.sign_in("nobody", "wrong", ufile, now=t0) for _ in range(5)]
    assert [(r.user, r.locked_until) for r in real] == [(r.user, r.locked_until) for r in ghost]
    assert ghost[-1].locked_until == t0 + timedelta(minutes=15)


def test_lock_survives_a_restart_and_every_attempt_is_audited(ufile, home):
    now = datetime.now().replace(microsecond=0)
    for _ in range(5):
        users.sign_in("t1", "wrong", ufile, now=now)
    # a fresh process (a restarted server) reads the lock from the data home
    code = (f"from pipelines import users; r = users.sign_in('t1', {PASSWORD!r}); "
            "print('LOCKED' if r.locked_until else 'OPEN', r.user)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "XIANGZHI_HOME": str(home)}).stdout
    assert out.split() == ["LOCKED", "None"]
    lines = (home / "auth" / "signin_audit.log").read_text(encoding="utf-8").splitlines()
    assert [ln.split("\t")[1:] for ln in lines] == [["t1", "failed"]] * 4 + [["t1", "failed; locked"],
                                                                              ["t1", "locked"]]
    assert all(datetime.fromisoformat(ln.split("\t")[0]) >= now for ln in lines)
    assert stat.S_IMODE((home / "auth" / "signin_state.json").stat().st_mode) == 0o600


def test_new_password_lifts_the_lock(ufile):
    for _ in range(5):
        users.sign_in("t1", "wrong", ufile)
    assert users.sign_in("t1", PASSWORD, ufile).locked_until
    answers = iter(["another password", "another password"])
    users.change_password("t1", getpass=lambda _prompt: next(answers), path=ufile)
    assert users.sign_in("t1", "another password", ufile).user


def test_the_demo_has_a_county_clerk_account(whome):
    """`xiangzhi demo` prints the accounts write_demo_users returns: a 信息员 (clerk) of the county is
    among them, can sign in with the demo password and imports for the whole county."""
    f = whome / "users.yaml"
    accounts = users.write_demo_users(f, whome / "published" / "xiangzhi.duckdb", password=PASSWORD, rounds=4)
    by_name = {a["username"]: a for a in accounts}
    assert set(by_name) == {"county", "township", "village", "clerk"}
    assert (by_name["clerk"]["role"], by_name["clerk"]["scope"]) == ("clerk", by_name["county"]["scope"])
    assert "信息员" in by_name["clerk"]["display_name"]
    clerk = users.sign_in("clerk", PASSWORD, f).user
    assert clerk.is_clerk and clerk.scope.role == "county" and clerk.scope_code == "360726"
