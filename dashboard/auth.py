"""Dashboard accounts: a users file with bcrypt hashes, each user scoped by a division-code prefix.

File: ``config.paths().users_file`` ($XIANGZHI_HOME/users.yaml)::

    users:
      - username: county
        display_name: 示例县 县级账号
        role: county            # county | township | village
        scope: "360726"         # county 6 / township 9 / village 12 digits
        password_hash: "$2b$12$..."

Passwords are never stored in clear: an entry with a ``password`` field is refused. The scope is
read from this file on every page run, never from the browser, and enforced in
``pipelines.warehouse`` (every query takes the user's Scope).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import bcrypt
import yaml

from pipelines import config
from pipelines.errors import UserError
from pipelines.warehouse import ROLES, Scope

DEMO_PASSWORD = "xiangzhi-demo"


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
        return Scope(self.role, self.scope_code)


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


def load_users(path: Path | str | None = None) -> dict[str, User]:
    """username → User. Raises UsersFileError naming the entry at fault."""
    p = Path(path) if path else users_path()
    if not p.exists():
        raise UsersFileError(f"{p}: 没有账号文件 / no users file (run `xiangzhi demo` or write one)")
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
        if role not in ROLES or not scope.isdigit() or len(scope) != ROLES[role]:
            raise UsersFileError(f"{where}: 角色与权限代码不符 / role {role!r} needs a {ROLES.get(role, '?')}-digit scope code")
        h = str(u["password_hash"])
        if not h.startswith("$2"):
            raise UsersFileError(f"{where}: password_hash 不是bcrypt哈希 / is not a bcrypt hash")
        name = str(u["username"])
        users[name] = User(name, str(u.get("display_name") or name), role, scope, h)
    return users


def authenticate(username: str, password: str, path: Path | str | None = None) -> User | None:
    user = load_users(path).get((username or "").strip())
    if user is None:
        # spend the same time as a real check so a wrong name is not told apart by timing
        verify(password or "", "$2b$12$" + "." * 53)
        return None
    return user if verify(password or "", user.password_hash) else None


def write_users(path: Path | str, users: list[User]) -> Path:
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    body = {
        "users": [
            {"username": u.username, "display_name": u.display_name, "role": u.role, "scope": u.scope_code,
             "password_hash": u.password_hash}
            for u in users
        ]
    }
    header = "# 乡治 仪表盘账号 / dashboard accounts. Passwords are bcrypt hashes (dashboard.auth.hash_password).\n"
    tmp = p.with_suffix(".tmp")
    tmp.write_text(header + yaml.safe_dump(body, allow_unicode=True, sort_keys=False), encoding="utf-8")
    os.chmod(tmp, 0o600)
    tmp.replace(p)
    return p


def write_demo_users(path: Path | str, con_or_published_path, password: str = DEMO_PASSWORD,
                     rounds: int = 12) -> list[dict]:
    """Create the demo accounts from the data: ``county`` (the first county), ``township`` (its first
    township) and ``village`` (that township's first village), all with ``password``. Other accounts
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
