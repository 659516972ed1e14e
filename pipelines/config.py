"""Every path and setting, derived from the data home (XIANGZHI_HOME, default ./data).

Settings are declared once with a default and a help text; the secret for keyed hashing comes from
the environment (XIANGZHI_SECRET) or an ignored file `$XIANGZHI_HOME/secret.key`; the demo writes
its own.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

# DuckDB's memory limit for an ingest: 1 GB keeps the county's full history in one batch under 2 GB
# of RSS (issue #12; DuckDB spills beyond it, and the process holds more than it accounts for).
DEFAULT_MEMORY_LIMIT = "1GB"
# While an ingest reads and stages its files, DuckDB only appends them to the scratch file; what it
# would cache of that file up to the full limit sat on top of polars' working set for the file being
# read (province batches peaked at 2.1-2.5 GiB there). The limit is restored before the batch's SQL.
STAGING_MEMORY_LIMIT_BYTES = 256 * 2**20

SETTINGS_HELP = {
    "XIANGZHI_HOME": "data home holding inbox/, raw/, warehouse/, published/ (default ./data)",
    "XIANGZHI_SECRET": "HMAC key for pseudonymising ids and phones (SPEC §3.7); else $XIANGZHI_HOME/secret.key",
    "XIANGZHI_MEMORY_LIMIT": f"DuckDB memory limit for ingest and publish (default {DEFAULT_MEMORY_LIMIT}; "
                             f"files are read and staged under at most {STAGING_MEMORY_LIMIT_BYTES // 2**20} MiB of it)",
    "XIANGZHI_INDICATORS": "indicator catalogue YAML (default pipelines/indicators.yaml); offices edit a copy",
    "XIANGZHI_THREADS": "DuckDB threads (default: all cores)",
    "XIANGZHI_PAUSE_BEFORE_COMMIT": "testing only: seconds to wait before an ingest commits",
    "XIANGZHI_KILL_AT": "testing only: an ingest kills itself (SIGKILL) at this phase (kill.KILL_PHASES)",
    "XIANGZHI_EARLIEST_DATE": "dates before this are BAD_DATE (default 2000-01-01; Excel's 0 and 1900-02-29 too)",
    "XIANGZHI_MAX_POINTS": "largest plausible 分值 / 消耗积分 of one record, either sign (default 10000)",
    "XIANGZHI_MAX_HOUSEHOLD_SIZE": "largest plausible 家庭人口 (default 50)",
    "XIANGZHI_MAX_AMOUNT": "largest plausible 涉及金额 in yuan (default 100000000)",
    "XIANGZHI_MAX_FILE_MB": "largest input file read, in MB (default 2048)",
    "XIANGZHI_MAX_INFLATED_MB": "largest unpacked size of one workbook, in MB (default 1024)",
    "XIANGZHI_MAX_INFLATION": "largest unpacked/packed ratio of a workbook bigger than 100 MB unpacked (default 200)",
    "XIANGZHI_MAX_COLUMNS": "most columns in one row of a file (default 1000)",
    "XIANGZHI_RAW_RETENTION_DAYS": "days `xiangzhi raw prune` keeps raw copies of the exports (default 365)",
    "XIANGZHI_SESSION_HOURS": "hours a dashboard sign-in lasts (its HttpOnly cookie; a reload keeps it) (default 8)",
    "XIANGZHI_LAKE": "a Parquet lake (`xiangzhi lake export`): the dashboard shows its province view (SPEC §4.1)",
}


def input_limits() -> dict[str, float]:
    """Limits checked before a file is read (SPEC §3.6: a bomb is rejected with a reason, not run)."""
    return {
        "file_mb": _float_setting("XIANGZHI_MAX_FILE_MB", 2048),
        "inflated_mb": _float_setting("XIANGZHI_MAX_INFLATED_MB", 1024),
        "inflation": _float_setting("XIANGZHI_MAX_INFLATION", 200),
        "columns": _float_setting("XIANGZHI_MAX_COLUMNS", 1000),
    }


def earliest_date():
    """The earliest plausible occurrence, entry or deadline date (SPEC §3.6 BAD_DATE)."""
    import datetime as dt

    from pipelines.errors import UserError

    text = os.environ.get("XIANGZHI_EARLIEST_DATE", "2000-01-01")
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise UserError(f"XIANGZHI_EARLIEST_DATE 应为 YYYY-MM-DD，而不是 {text!r} / must be YYYY-MM-DD") from None


def _float_setting(name: str, default: float) -> float:
    from pipelines.errors import UserError

    text = os.environ.get(name)
    if not text:
        return default
    try:
        return float(text)
    except ValueError:
        raise UserError(f"{name} 应为数字，而不是 {text!r} / must be a number") from None


# Any number beyond this is unreadable whatever its field: it keeps BIGINT and DECIMAL(18,6) casts safe.
ABSOLUTE_NUMBER_LIMIT = 1e12


def number_range(field_name: str) -> tuple[float, float]:
    """Plausible (low, high) for a numeric field; values outside are BAD_NUMBER (SPEC §3.6)."""
    points = _float_setting("XIANGZHI_MAX_POINTS", 10000)
    fixed = {
        "points": (-points, points), "points_spent": (-points, points),
        "members": (0, _float_setting("XIANGZHI_MAX_HOUSEHOLD_SIZE", 50)),
        "amount": (0, _float_setting("XIANGZHI_MAX_AMOUNT", 1e8)),
        "lon": (-180, 180), "lat": (-90, 90),
    }
    return fixed.get(field_name, (-ABSOLUTE_NUMBER_LIMIT, ABSOLUTE_NUMBER_LIMIT))


@dataclass(frozen=True)
class Paths:
    home: Path

    @property
    def inbox(self) -> Path:
        return self.home / "inbox"

    @property
    def raw(self) -> Path:
        return self.home / "raw"

    @property
    def warehouse_dir(self) -> Path:
        return self.home / "warehouse"

    @property
    def warehouse(self) -> Path:
        return self.warehouse_dir / "xiangzhi.duckdb"

    @property
    def published_dir(self) -> Path:
        return self.home / "published"

    @property
    def published(self) -> Path:
        return self.published_dir / "xiangzhi.duckdb"

    @property
    def secret_file(self) -> Path:
        return self.home / "secret.key"

    @property
    def users_file(self) -> Path:
        return self.home / "users.yaml"

    @property
    def reports(self) -> Path:
        return self.home / "reports"

    def ensure(self) -> Paths:
        """Create the data home, private to its owner (0700): raw/ holds the original exports with
        their personal data, and the key sits beside it. A home that cannot be written is a UserError."""
        from pipelines.errors import UserError

        try:
            self.home.mkdir(parents=True, exist_ok=True, mode=0o700)
            self.home.chmod(0o700)
            for d in (self.inbox, self.raw, self.warehouse_dir, self.published_dir):
                d.mkdir(parents=True, exist_ok=True, mode=0o700)
            self.raw.chmod(0o700)
        except OSError as exc:  # read-only, permission denied, or a file where a folder should be
            raise UserError(f"数据目录不可写：{exc.filename or self.home}（请检查权限或设置 XIANGZHI_HOME）"
                            f" / the data home is not writable: {exc.filename or self.home}") from None
        return self


def home() -> Path:
    return Path(os.environ.get("XIANGZHI_HOME", "data")).resolve()


def lake() -> Path | None:
    """The lake the dashboard reads instead of the published copy (`xiangzhi dashboard --lake DIR`)."""
    v = os.environ.get("XIANGZHI_LAKE", "").strip()
    return Path(v).resolve() if v else None


def paths() -> Paths:
    return Paths(home())


def session_hours() -> float:
    """Lifetime of a dashboard sign-in: the signed cookie expires after this many hours."""
    hours = _float_setting("XIANGZHI_SESSION_HOURS", 8)
    if not 0 < hours <= 24 * 31:
        from pipelines.errors import UserError

        raise UserError(f"XIANGZHI_SESSION_HOURS 应在 0 到 744 之间，而不是 {hours} / must be in (0, 744]")
    return hours


def memory_limit() -> str:
    return os.environ.get("XIANGZHI_MEMORY_LIMIT", DEFAULT_MEMORY_LIMIT)


_SIZE_UNITS = {"b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12,
               "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}


def staging_memory_limit() -> str:
    """DuckDB's limit while an ingest stages its files: the smaller of memory_limit() and
    STAGING_MEMORY_LIMIT_BYTES (a limit DuckDB reads but we cannot, e.g. a percentage, is kept)."""
    import re

    limit = memory_limit()
    m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*([kmgt]i?b|b)?\s*", limit.lower())
    if m is None:
        return limit
    size = float(m.group(1)) * _SIZE_UNITS[m.group(2) or "b"]
    return limit if size <= STAGING_MEMORY_LIMIT_BYTES else f"{STAGING_MEMORY_LIMIT_BYTES // 2**20}MiB"


def apply_engine_settings(con, limit: str | None = None) -> None:
    """The DuckDB settings every writing connection of ours runs under: memory limit (default
    memory_limit()), thread budget (XIANGZHI_THREADS), no progress bar (it garbles our summary)."""
    from pipelines.sql_literals import sql_string

    con.execute(f"set memory_limit = {sql_string(limit or memory_limit())}")
    con.execute("set enable_progress_bar = false")
    if threads():
        con.execute(f"set threads = {int(threads())}")


def threads() -> int | None:
    v = os.environ.get("XIANGZHI_THREADS")
    return int(v) if v else None


# The demo's pseudonymisation key is published in this repository, so hashes made with it can be
# reversed (ids have little entropy): it is accepted only in a data home that `xiangzhi demo` marked.
DEMO_SECRET = "xiangzhi-demo-secret-not-for-production"
DEMO_MARKER = ".xiangzhi-demo-home"


def is_demo_home(home_dir: Path | None = None) -> bool:
    return ((home_dir or home()) / DEMO_MARKER).exists()


def write_private(path: Path, text: str) -> None:
    """Write a small secret file readable by its owner only (0600 from the start, not after)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    path.chmod(0o600)


def secret(create: bool = False) -> bytes:
    """The HMAC key. With create=True (demo, first ingest) a random key is written to the data home.

    The demo's public key is refused outside a demo home (UserError): a production home that
    inherited it would publish hashes anyone can reverse."""
    from pipelines.errors import UserError

    env = os.environ.get("XIANGZHI_SECRET")
    f = paths().secret_file
    if env:
        key = env
    elif f.exists():
        key = f.read_text(encoding="utf-8").strip()
    elif not create:
        raise RuntimeError(
            "没有设置脱敏密钥 / no pseudonymisation key: set XIANGZHI_SECRET or create "
            f"{f} (the first `xiangzhi ingest` creates one)"
        )
    else:
        key = secrets.token_hex(32)
        write_private(f, key + "\n")
    if key == DEMO_SECRET and not is_demo_home():
        raise UserError(
            f"拒绝使用演示密钥：{home()} 不是演示数据目录，演示密钥是公开的，用它脱敏的身份证号可被还原。"
            f"请删除 {f} 或设置 XIANGZHI_SECRET 为新的随机密钥后重新导入。"
            f" / refusing the demo's public key outside a demo home: hashes made with it can be reversed; "
            f"remove {f} or set XIANGZHI_SECRET to a new random key and ingest again"
        )
    return key.encode("utf-8")
