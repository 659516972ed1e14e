"""Accounts: the users file (bcrypt hashes, each user scoped by a division-code prefix), sign-in with
lockout, and the sign-in audit. No Streamlit here: the dashboard and `xiangzhi users` both use it.

File: ``config.paths().users_file`` ($XIANGZHI_HOME/users.yaml, mode 0600)::

    users:
      - username: county
        display_name: 示例县 县级账号
        role: county            # county | township | village | clerk
        scope: "360726"         # county 6 / township 9 / village 12 digits; a clerk 6 or 9
        password_hash: "$2b$12$..."

Passwords are never stored in clear: an entry with a ``password`` field is refused. The scope is
read from this file on every page run, never from the browser, and enforced in
``pipelines.warehouse`` (every query takes the user's Scope; a clerk's is its township's or county's).

Sign-in state lives in the data home so that it survives a server restart:
``$XIANGZHI_HOME/auth/signin_state.json`` (recent failures, locks, last sign-in per name) and
``$XIANGZHI_HOME/auth/signin_audit.log`` (one tab-separated line per attempt: time, user, outcome).
Failures are counted per name typed, whether or not it exists, so a lock tells nothing about which
names are real.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import hashlib
import hmac
import json
import os
import secrets
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import bcrypt
import yaml

from pipelines import config
from pipelines.errors import UserError
from pipelines.warehouse import CLERK, USER_ROLES, Scope, scope_for

DEMO_PASSWORD = "xiangzhi-demo"
# SPEC §7: "repeated wrong passwords lock an account for a while".
MAX_FAILURES = 5
FAILURE_WINDOW = timedelta(minutes=15)
LOCK_TIME = timedelta(minutes=15)
_DUMMY_HASH = "$2b$12$" + "." * 53


class UsersFileError(UserError):
    """The users file is missing, unreadable or has a bad entry."""


@dataclass(frozen=True)
class User:
    username: str
    display_name: str
    role: str
    scope_code: str
    password_hash: str

    @property
    def scope(self) -> Scope:
        """The data scope: a clerk sees what a township or county account of its code sees."""
        return scope_for(self.role, self.scope_code)

    @property
    def is_clerk(self) -> bool:
        return self.role == CLERK


def hash_password(password: str, rounds: int = 12) -> str:
    if not password:
        raise ValueError("empty password")
    return bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt(rounds)).decode("ascii")


def verify(password: str, password_hash: str) -> bool:
    try:
        return bcrypt.checkpw(password.encode("utf-8"), password_hash.encode("ascii"))
    except (ValueError, TypeError):
        return False


def users_path() -> Path:
    return config.paths().users_file


def role_scope_problem(role: str, scope: str) -> str | None:
    """Why a role/scope pair is not valid (None when it is): the one check for file and command."""
    if role not in USER_ROLES:
        return (f"未知角色 {role!r}（应为 {'、'.join(USER_ROLES)}）"
                f"/ unknown role {role!r} ({', '.join(USER_ROLES)})")
    try:
        scope_for(role, scope)
    except ValueError:
        need = "6或9" if role == CLERK else str(USER_ROLES[role][0])
        need_en = "6- or 9" if role == CLERK else str(USER_ROLES[role][0])
        return (f"角色 {role} 需要{need}位数字的权限代码，而不是 {scope!r}"
                f"/ role {role!r} needs a {need_en}-digit scope code, not {scope!r}")
    return None


def load_users(path: Path | str | None = None) -> dict[str, User]:
    """username → User. Raises UsersFileError naming the entry at fault."""
    p = Path(path) if path else users_path()
    if not p.exists():
        raise UsersFileError(f"{p}: 没有账号文件 / no users file (run `xiangzhi users add` or `xiangzhi demo`)")
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as e:
        raise UsersFileError(f"{p}: YAML语法错误 / YAML syntax error: {e}") from None
    users: dict[str, User] = {}
    for i, u in enumerate(data.get("users") or [], start=1):
        where = f"{p}: 第{i}个账号 / user #{i}"
        if not isinstance(u, dict):
            raise UsersFileError(f"{where}: 应为映射 / must be a mapping")
        if "password" in u:
            raise UsersFileError(f"{where}: 不允许明文密码 / plain-text passwords are not allowed; use password_hash")
        missing = [k for k in ("username", "role", "scope", "password_hash") if not u.get(k)]
        if missing:
            raise UsersFileError(f"{where}: 缺少 / missing {', '.join(missing)}")
        role, scope = str(u["role"]), str(u["scope"])
        problem = role_scope_problem(role, scope)
        if problem:
            raise UsersFileError(f"{where}: {problem}")
        h = str(u["password_hash"])
        if not h.startswith("$2"):
            raise UsersFileError(f"{where}: password_hash 不是bcrypt哈希 / is not a bcrypt hash")
        name = str(u["username"])
        users[name] = User(name, str(u.get("display_name") or name), role, scope, h)
    return users


def write_users(path: Path | str, users: list[User]) -> Path:
    """Write the file atomically (temp file in the same folder, 0600 before any byte, rename)."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    body = {
        "users": [
            {"username": u.username, "display_name": u.display_name, "role": u.role, "scope": u.scope_code,
             "password_hash": u.password_hash}
            for u in users
        ]
    }
    header = "# 乡治 仪表盘账号 / dashboard accounts. Managed with `xiangzhi users`; passwords are bcrypt hashes.\n"
    _atomic_write(p, header + yaml.safe_dump(body, allow_unicode=True, sort_keys=False))
    return p


def _atomic_write(p: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=p.parent, prefix=f".{p.name}.", suffix=".tmp")  # created 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, p)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def write_demo_users(path: Path | str, con_or_published_path, password: str = DEMO_PASSWORD,
                     rounds: int = 12) -> list[dict]:
    """Create the demo accounts from the data: ``county`` (the first county), ``township`` (its first
    township), ``village`` (that township's first village) and ``clerk`` (信息员 of the county), all
    with ``password``. Other accounts
    already in the file are kept. Returns the accounts (with the clear password) for the demo to print."""
    from pipelines import warehouse as wh

    if isinstance(con_or_published_path, str | Path):
        con = wh.connect(con_or_published_path)
        try:
            units = wh.first_units(con)
        finally:
            con.close()
    else:
        units = wh.first_units(con_or_published_path)
    labels = {"county": "县级账号", "township": "乡镇账号", "village": "村级账号"}
    demo = [
        User(role, f"{units[role]['name']} {labels[role]}", role, units[role]["code"],
             hash_password(password, rounds))
        for role in ("county", "township", "village")
    ]
    # the clerk (信息员) who imports the county's files on 数据导入 and follows 数据质量
    demo.append(User(CLERK, f"{units['county']['name']} 信息员", CLERK, units["county"]["code"],
                     hash_password(password, rounds)))
    keep: list[User] = []
    if Path(path).exists():
        try:
            keep = [u for u in load_users(path).values() if u.username not in {d.username for d in demo}]
        except UsersFileError:
            keep = []
    write_users(path, demo + keep)
    return [
        {"username": u.username, "password": password, "role": u.role, "scope": u.scope_code,
         "display_name": u.display_name}
        for u in demo
    ]


# ---------------------------------------------------------------------------------------------
# Sign-in: lockout and audit

@dataclass(frozen=True)
class SignIn:
    """The outcome of one attempt: ``user`` when it succeeded; ``locked_until`` when the name is locked
    (the same answer whether or not the name exists)."""

    user: User | None
    locked_until: datetime | None = None


_state_lock = threading.Lock()  # threads of one Streamlit server; flock covers other processes


def auth_dir() -> Path:
    return config.paths().home / "auth"


def state_path() -> Path:
    return auth_dir() / "signin_state.json"


def audit_path() -> Path:
    return auth_dir() / "signin_audit.log"


@contextlib.contextmanager
def _locked_state():
    """Read-modify-write of the sign-in state under a lock; yields the dict, written back on exit."""
    d = auth_dir()
    d.mkdir(parents=True, exist_ok=True)
    with _state_lock, open(d / ".signin.lock", "a") as lockf:
        fcntl.flock(lockf, fcntl.LOCK_EX)
        try:
            p = state_path()
            try:
                state = json.loads(p.read_text(encoding="utf-8"))
            except (FileNotFoundError, ValueError):
                state = {}
            state.setdefault("failures", {})
            state.setdefault("locked_until", {})
            state.setdefault("last_sign_in", {})
            yield state
            _atomic_write(p, json.dumps(state, ensure_ascii=False, indent=1))
        finally:
            fcntl.flock(lockf, fcntl.LOCK_UN)


def read_state() -> dict:
    try:
        return json.loads(state_path().read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return {}


def _audit(now: datetime, name: str, outcome: str) -> None:
    clean = "".join(ch if ch.isprintable() and ch != "\t" else "?" for ch in name)[:64]
    auth_dir().mkdir(parents=True, exist_ok=True)
    with open(audit_path(), "a", encoding="utf-8") as fh:
        fh.write(f"{now.isoformat(timespec='seconds')}\t{clean}\t{outcome}\n")


_checking: dict[str, int] = {}  # name → password checks in progress (this process)
_checking_done = threading.Condition(threading.Lock())


def _reserve_check(name: str, now: datetime) -> None:
    """Wait for a check slot of this name: checks in progress plus recent failures stay under
    MAX_FAILURES, so parallel guesses cannot outrun the lock, while sign-ins of other names (and
    of this one, when it has no failures) are not held up by each other's bcrypt (#19 item 8)."""
    with _checking_done:
        while True:
            state = read_state()
            state.setdefault("failures", {})
            if _checking.get(name, 0) < max(1, MAX_FAILURES - len(_recent(state, name, now))):
                break
            _checking_done.wait(timeout=1.0)
        _checking[name] = _checking.get(name, 0) + 1


def _release_check(name: str) -> None:
    with _checking_done:
        _checking[name] -= 1
        if not _checking[name]:
            del _checking[name]
        _checking_done.notify_all()


def _recent(state: dict, name: str, now: datetime) -> list[str]:
    return [t for t in state["failures"].get(name, []) if datetime.fromisoformat(t) > now - FAILURE_WINDOW]


def sign_in(username: str, password: str, path: Path | str | None = None,
            now: datetime | None = None) -> SignIn:
    """Check a password, counting failures per name: MAX_FAILURES wrong within FAILURE_WINDOW lock
    the name for LOCK_TIME. While locked, no password is checked. Every attempt is audited.

    The bcrypt check (about a second on a busy office PC) runs outside the state lock: under that
    lock every sign-in of the server waited for every other one."""
    now = (now or datetime.now()).replace(microsecond=0)
    name = (username or "").strip()
    users = load_users(path)
    with _locked_state() as state:
        until = state["locked_until"].get(name)
        if until and datetime.fromisoformat(until) > now:
            _audit(now, name, "locked")
            return SignIn(None, datetime.fromisoformat(until))
    _reserve_check(name, now)
    try:
        # a lock set while this attempt waited for its slot holds: no password is checked then
        until = read_state().get("locked_until", {}).get(name)
        if until and datetime.fromisoformat(until) > now:
            with _locked_state():
                _audit(now, name, "locked")
            return SignIn(None, datetime.fromisoformat(until))
        user = users.get(name)
        # a name that does not exist spends the same time as a real check, so timing tells nothing
        ok = verify(password or "", user.password_hash if user else _DUMMY_HASH) and user is not None
        with _locked_state() as state:
            if ok:
                state["failures"].pop(name, None)
                state["locked_until"].pop(name, None)
                state["last_sign_in"][name] = now.isoformat(timespec="seconds")
                _audit(now, name, "ok")
                return SignIn(user)
            recent = _recent(state, name, now) + [now.isoformat(timespec="seconds")]
            if len(recent) >= MAX_FAILURES:
                until_dt = now + LOCK_TIME
                state["locked_until"][name] = until_dt.isoformat(timespec="seconds")
                state["failures"].pop(name, None)
                _audit(now, name, "failed; locked")
                return SignIn(None, until_dt)
            state["failures"][name] = recent
            _audit(now, name, "failed")
            return SignIn(None)
    finally:
        _release_check(name)


def authenticate(username: str, password: str, path: Path | str | None = None) -> User | None:
    return sign_in(username, password, path).user


# ---------------------------------------------------------------------------------------------
# `xiangzhi users add|passwd|list|remove`

def _known_units() -> dict[str, str] | None:
    """code → level of every county, township and village in the published warehouse; None when
    there is none yet (then codes are checked for shape only)."""
    from pipelines import warehouse as wh

    if wh.stamp() is None:
        return None
    con = wh.connect()
    try:
        rows = con.execute("""select county_code, 'county' from dim_county
                              union all select township_code, 'township' from dim_township
                              union all select village_code, 'village' from dim_village""").fetchall()
    finally:
        con.close()
    return dict(rows)


def check_role_scope(role: str, scope: str) -> str:
    """Return the display name for an account, or raise UsersFileError in Chinese then English."""
    problem = role_scope_problem(role, scope)
    if problem:
        raise UsersFileError(problem)
    units = _known_units()
    if role == "province":
        # A province is no unit of a county warehouse: the lake it reads decides what it sees. A home
        # that has published counties must hold one of the province's.
        if units and not any(level == "county" and code.startswith(scope) for code, level in units.items()):
            raise UsersFileError(f"省级代码 {scope} 与已发布数据中的县不符 / province code {scope} matches no "
                                 "county of the published warehouse")
        return scope
    if units is not None and scope not in units:
        raise UsersFileError(f"权限代码 {scope} 不是已发布数据中的区划（县6位、乡镇9位、村12位）"
                             f"/ scope code {scope} is not a unit of the published warehouse")
    return scope


def _ask_password(getpass) -> str:
    first = getpass("新密码 / new password: ")
    if len(first) < 8:
        raise UsersFileError("密码至少8个字符 / the password needs at least 8 characters")
    if getpass("再输入一次 / repeat it: ") != first:
        raise UsersFileError("两次输入的密码不一致 / the two passwords differ")
    return first


def _read_or_empty(path: Path) -> dict[str, User]:
    return load_users(path) if path.exists() else {}


def add_user(name: str, role: str, scope: str, display_name: str | None = None, getpass=None,
             path: Path | None = None) -> User:
    import getpass as gp

    path = path or users_path()
    name = (name or "").strip()
    if not name or any(ch.isspace() for ch in name):
        raise UsersFileError(f"用户名不能为空或含空格 / the user name must be non-empty without spaces: {name!r}")
    users = _read_or_empty(path)
    if name in users:
        raise UsersFileError(f"账号 {name} 已存在（改密码用 `xiangzhi users passwd {name}`）/ user {name} exists")
    check_role_scope(role, scope)
    password = _ask_password(getpass or gp.getpass)
    user = User(name, display_name or name, role, scope, hash_password(password))
    write_users(path, [*users.values(), user])
    return user


def change_password(name: str, getpass=None, path: Path | None = None) -> User:
    import getpass as gp

    path = path or users_path()
    users = load_users(path)
    if name not in users:
        raise UsersFileError(f"没有账号 {name} / no user {name}")
    password = _ask_password(getpass or gp.getpass)
    old = users[name]
    users[name] = User(old.username, old.display_name, old.role, old.scope_code, hash_password(password))
    write_users(path, list(users.values()))
    # a new password lifts a lock: the office has just vouched for the account
    with _locked_state() as state:
        state["locked_until"].pop(name, None)
        state["failures"].pop(name, None)
    return users[name]


def remove_user(name: str, path: Path | None = None) -> None:
    path = path or users_path()
    users = load_users(path)
    if name not in users:
        raise UsersFileError(f"没有账号 {name} / no user {name}")
    del users[name]
    write_users(path, list(users.values()))


def list_users(path: Path | None = None) -> list[dict]:
    users = load_users(path or users_path())
    state = read_state()
    last = state.get("last_sign_in", {})
    locked = state.get("locked_until", {})
    now = datetime.now()
    return [
        {"username": u.username, "role": u.role, "scope": u.scope_code, "display_name": u.display_name,
         "last_sign_in": last.get(u.username),
         "locked_until": locked[u.username] if locked.get(u.username)
         and datetime.fromisoformat(locked[u.username]) > now else None}
        for u in users.values()
    ]


# ---------------------------------------------------------------------------------------------
# Dashboard sessions (#19 item 14). Streamlit keeps st.session_state per session id, and a websocket
# that presents a victim's session id resumes that session: so a sign-in is never kept in session
# state. It is a signed, expiring token in an HttpOnly cookie, which the browser sends with every
# websocket handshake and no script can read; the app verifies it on every run.
#
# The script proves the password, then hands the browser a one-time grant; the browser takes the
# grant to the server's /xiangzhi/signin route, which sets the cookie (only a response can set an
# HttpOnly cookie) and redirects back. Sign-out revokes the token's nonce and clears the cookie.

SESSION_COOKIE = "xiangzhi_session"
SIGN_IN_ROUTE = "/xiangzhi/signin"  # served by dashboard/launch.py
SIGN_OUT_ROUTE = "/xiangzhi/signout"
GRANT_SECONDS = 60  # a grant is used by the redirect that follows at once
_grants: dict[str, tuple[str, str, float]] = {}  # grant → (username, binding, expiry); one process
_grants_lock = threading.Lock()


def session_key_path() -> Path:
    return auth_dir() / "session.key"


def session_key() -> bytes:
    """The key that signs session tokens: its own random file (0600), not config.secret(): the demo's
    pseudonymisation key is public, and rotating one must not touch the other."""
    p = session_key_path()
    try:
        return bytes.fromhex(p.read_text(encoding="ascii").strip())
    except (FileNotFoundError, ValueError):
        pass
    auth_dir().mkdir(parents=True, exist_ok=True)
    key = secrets.token_bytes(32)
    tmp = p.with_name(f".{p.name}.{os.getpid()}.tmp")
    config.write_private(tmp, key.hex() + "\n")
    try:
        os.link(tmp, p)  # first writer wins when two processes start at once
    except FileExistsError:
        pass
    finally:
        tmp.unlink(missing_ok=True)
    return bytes.fromhex(p.read_text(encoding="ascii").strip())


def _password_mark(user: User) -> str:
    # a new password (or a removed account) ends every session signed with the old one
    return hashlib.sha256(user.password_hash.encode("ascii")).hexdigest()[:16]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _sign(body: str) -> str:
    return hmac.new(session_key(), body.encode("ascii"), hashlib.sha256).hexdigest()


def issue_token(user: User, now: float | None = None, hours: float | None = None) -> str:
    """A fresh token (new nonce: a sign-in never reuses an old one) over user, role, scope, times."""
    iat = int(now if now is not None else time.time())
    exp = iat + int((hours if hours is not None else config.session_hours()) * 3600)
    payload = {"u": user.username, "r": user.role, "s": user.scope_code, "p": _password_mark(user),
               "iat": iat, "exp": exp, "n": secrets.token_urlsafe(16)}
    body = _b64(json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))
    return f"{body}.{_sign(body)}"


def _payload(token: str | None) -> dict | None:
    """The token's claims when its signature holds (expiry not checked here), else None."""
    if not token or token.count(".") != 1 or len(token) > 2048:
        return None
    body, mac = token.split(".")
    try:
        if not hmac.compare_digest(_sign(body), mac):
            return None
        payload = json.loads(_unb64(body))
    except (ValueError, UnicodeError):
        return None
    return payload if isinstance(payload, dict) else None


def verify_token(token: str | None, now: float | None = None, path: Path | str | None = None) -> User | None:
    """The user a cookie's token signs in, or None: bad signature, expired, revoked (signed out), or
    the account no longer matches (removed, new password, other role or scope)."""
    p = _payload(token)
    if p is None:
        return None
    now = now if now is not None else time.time()
    try:
        if not (p["iat"] - 60 <= now < p["exp"]) or p["n"] in _revoked():
            return None
        user = load_users(path).get(p["u"])
    except (KeyError, TypeError, UsersFileError):
        return None
    if user is None or (user.role, user.scope_code, _password_mark(user)) != (p["r"], p["s"], p["p"]):
        return None
    return user


def token_expiry(token: str) -> int | None:
    p = _payload(token)
    return int(p["exp"]) if p and isinstance(p.get("exp"), int) else None


def revoked_path() -> Path:
    return auth_dir() / "revoked_sessions.json"


_revoked_cache: tuple[tuple[str, int, int], frozenset[str]] | None = None


def _revoked() -> frozenset[str]:
    """Nonces of signed-out tokens (re-read only when the file changes: this runs every page run)."""
    global _revoked_cache
    p = revoked_path()
    try:
        st_ = p.stat()
    except FileNotFoundError:
        return frozenset()
    mark = (str(p), st_.st_mtime_ns, st_.st_size)
    if _revoked_cache is None or _revoked_cache[0] != mark:
        try:
            nonces = frozenset(json.loads(p.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            nonces = frozenset()
        _revoked_cache = (mark, nonces)
    return _revoked_cache[1]


def revoke_token(token: str | None, now: float | None = None) -> None:
    """Sign-out: the token's nonce is refused from now on, even if a copy of the cookie survives."""
    p = _payload(token)
    if p is None or not isinstance(p.get("n"), str):
        return
    now = now if now is not None else time.time()
    d = auth_dir()
    d.mkdir(parents=True, exist_ok=True)
    with _state_lock, open(d / ".signin.lock", "a") as lockf:
        fcntl.flock(lockf, fcntl.LOCK_EX)
        try:
            try:
                kept = json.loads(revoked_path().read_text(encoding="utf-8"))
            except (FileNotFoundError, ValueError):
                kept = {}
            kept = {n: exp for n, exp in kept.items() if exp > now}  # expired tokens fail anyway
            kept[p["n"]] = p.get("exp", now)
            _atomic_write(revoked_path(), json.dumps(kept))
        finally:
            fcntl.flock(lockf, fcntl.LOCK_UN)


def grant_binding(cookies) -> str:
    """What ties a grant to the browser that signed in: a hash of its Streamlit XSRF cookie (another
    client replaying the session id does not hold it)."""
    return hashlib.sha256((cookies.get("_streamlit_xsrf") or "").encode("utf-8")).hexdigest()


def issue_grant(user: User, binding: str, now: float | None = None) -> str:
    now = now if now is not None else time.time()
    grant = secrets.token_urlsafe(32)
    with _grants_lock:
        for g in [g for g, (_u, _b, exp) in _grants.items() if exp <= now]:
            del _grants[g]
        _grants[grant] = (user.username, binding, now + GRANT_SECONDS)
    return grant


def redeem_grant(grant: str | None, binding: str, now: float | None = None) -> str | None:
    """A fresh token for the grant's user (the grant is spent whatever the outcome), or None."""
    now = now if now is not None else time.time()
    with _grants_lock:
        entry = _grants.pop(grant or "", None)
    if entry is None or entry[2] <= now or not hmac.compare_digest(entry[1], binding):
        return None
    user = load_users().get(entry[0])
    return issue_token(user) if user else None
