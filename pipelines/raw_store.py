"""raw/<batch>/: the immutable copies of the exports as they were dropped (the audit trail).

They hold personal data in clear, so they are kept private (0600) and only as long as an office
decides: `xiangzhi raw prune` removes batches older than the retention. Re-judging never reads them
(every row is staged, typed and pseudonymised, in the warehouse), so pruning loses no disposition.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import datetime, timedelta

from pipelines import config


@dataclass
class PruneResult:
    removed: list[str]
    kept: int
    freed_bytes: int


def _batch_time(name: str) -> datetime | None:
    try:
        return datetime.strptime(name.split("-", 1)[0], "%Y%m%dT%H%M%S")
    except ValueError:
        return None


def prune(older_than_days: float, now: datetime | None = None, dry_run: bool = False) -> PruneResult:
    """Remove raw/<batch>/ folders whose batch started more than `older_than_days` ago."""
    root = config.paths().raw
    cutoff = (now or datetime.now()) - timedelta(days=older_than_days)
    removed, kept, freed = [], 0, 0
    for d in sorted(root.iterdir()) if root.exists() else ():
        started = _batch_time(d.name) if d.is_dir() else None
        if started is None or started >= cutoff:
            kept += started is not None
            continue
        freed += sum(f.stat().st_size for f in d.rglob("*") if f.is_file())
        removed.append(d.name)
        if not dry_run:
            shutil.rmtree(d)
    return PruneResult(removed, kept, freed)


def _days(text: str | None) -> float:
    from pipelines.errors import UserError

    try:
        days = float(text) if text is not None else None
    except ValueError:
        days = None
    if days is None or days < 0:
        raise UserError(f"保留天数应为非负数字，而不是 {text!r}（--older-than 或 XIANGZHI_RAW_RETENTION_DAYS）"
                        f" / retention must be a number of days ≥ 0")
    return days


def retention_days(cli_value: str | None) -> float:
    import os

    return _days(cli_value if cli_value is not None else os.environ.get("XIANGZHI_RAW_RETENTION_DAYS", "365"))
