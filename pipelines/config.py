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

SETTINGS_HELP = {
    "XIANGZHI_HOME": "data home holding inbox/, raw/, warehouse/, published/ (default ./data)",
    "XIANGZHI_SECRET": "HMAC key for pseudonymising ids and phones (SPEC §3.7); else $XIANGZHI_HOME/secret.key",
    "XIANGZHI_MEMORY_LIMIT": "DuckDB memory limit for ingest (default 4GB)",
    "XIANGZHI_INDICATORS": "indicator catalogue YAML (default pipelines/indicators.yaml); offices edit a copy",
    "XIANGZHI_THREADS": "DuckDB threads (default: all cores)",
    "XIANGZHI_PAUSE_BEFORE_COMMIT": "testing only: seconds to wait before an ingest commits",
}


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
        for d in (self.inbox, self.raw, self.warehouse_dir, self.published_dir):
            d.mkdir(parents=True, exist_ok=True)
        return self


def home() -> Path:
    return Path(os.environ.get("XIANGZHI_HOME", "data")).resolve()


def paths() -> Paths:
    return Paths(home())


def memory_limit() -> str:
    return os.environ.get("XIANGZHI_MEMORY_LIMIT", "4GB")


def threads() -> int | None:
    v = os.environ.get("XIANGZHI_THREADS")
    return int(v) if v else None


def secret(create: bool = False) -> bytes:
    """The HMAC key. With create=True (demo, first ingest) a random key is written to the data home."""
    env = os.environ.get("XIANGZHI_SECRET")
    if env:
        return env.encode("utf-8")
    f = paths().secret_file
    if f.exists():
        return f.read_text(encoding="utf-8").strip().encode("utf-8")
    if not create:
        raise RuntimeError(
            "没有设置脱敏密钥 / no pseudonymisation key: set XIANGZHI_SECRET or create "
            f"{f} (the first `xiangzhi ingest` creates one)"
        )
    f.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    f.write_text(key + "\n", encoding="utf-8")
    f.chmod(0o600)
    return key.encode("utf-8")
