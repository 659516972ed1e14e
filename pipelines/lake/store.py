"""Write beside, then swap: how a county's partitions in the lake are replaced.

Everything for one county is first written under `DIR/.staging/<token>/<table>/county=<code>/`
(Spark and DuckDB skip dot-folders, and readers glob table folders only). Then, holding the lake's
lock, each table's `county=<code>` folder is exchanged with the staged one by `renameat2(...,
RENAME_EXCHANGE)`: a reader of a table sees the old partition or the new one, never a half-written
one or none. Where the filesystem cannot exchange (EINVAL), two renames leave a gap of
microseconds without the partition. Tables are swapped one after the other, in one short loop after
all writing is done; the manifest is replaced last.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import os
import shutil
import uuid
from pathlib import Path

STAGING = ".staging"
_RENAME_EXCHANGE = 2
_AT_FDCWD = -100
_libc = ctypes.CDLL(None, use_errno=True)


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two existing paths; False where the kernel/filesystem cannot."""
    fn = getattr(_libc, "renameat2", None)
    if fn is None:
        return False
    rc = fn(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    if rc == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), str(a))


def new_staging(lake: Path) -> Path:
    path = Path(lake) / STAGING / uuid.uuid4().hex
    path.mkdir(parents=True)
    return path


@contextlib.contextmanager
def locked(lake: Path):
    """One writer at a time swaps partitions and rewrites the manifest (several exports may run)."""
    Path(lake).mkdir(parents=True, exist_ok=True)
    with open(Path(lake) / ".lock", "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def swap_in(lake: Path, staging: Path, table: str, county: str) -> None:
    """Make staging/<table>/county=<county> the lake's partition; a county with no staged rows loses it."""
    part = f"county={county}"
    new = staging / table / part
    target = Path(lake) / table / part
    if not new.exists():
        if target.exists():
            gone = staging / ".old" / table
            gone.mkdir(parents=True, exist_ok=True)
            os.rename(target, gone / part)
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists():
        if not _exchange(new, target):
            gone = staging / ".old" / table
            gone.mkdir(parents=True, exist_ok=True)
            os.rename(target, gone / part)
            os.rename(new, target)
    else:
        os.rename(new, target)


def discard(staging: Path) -> None:
    shutil.rmtree(staging, ignore_errors=True)
