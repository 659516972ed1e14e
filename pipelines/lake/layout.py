"""Which lake table is partitioned how, and the manifest that describes a lake (one source of truth)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from pipelines.errors import UserError

MANIFEST = "manifest.json"
FORMAT = "xiangzhi-lake/1"

# The month a row belongs to, as an expression over the table's own columns ('YYYY-MM'): the
# occurrence date of SPEC §5 for facts, the period for monthly marts. Tables not listed here are
# partitioned by county only.
MONTH_OF = {
    "fct_visit": "strftime(visited_at, '%Y-%m')",
    "fct_event": "strftime(reported_at, '%Y-%m')",
    "fct_dispute": "strftime(registered_on, '%Y-%m')",
    "fct_points": "strftime(occurred_on, '%Y-%m')",
    "fct_redemption": "strftime(redeemed_on, '%Y-%m')",
    "indicator_values": "period",
    "village_scores": "period",
    "grid_worker_scores": "period",
}

# Columns whose first 6 characters are the county code (SPEC §2: codes nest, county 6 digits), in
# the order a mart table is searched for one: how computed marts of several counties are split.
COUNTY_CODE_COLUMNS = ("county_code", "unit_code", "village_code", "grid_code", "township_code")

# Tables the marts are computed from (besides cfg_*): the core of the contract.
CORE_PREFIXES = ("dim_", "fct_")


def partition_columns(table: str) -> list[str]:
    return ["county", "month"] if table in MONTH_OF else ["county"]


def read_manifest(lake: Path) -> dict:
    path = Path(lake) / MANIFEST
    if not path.exists():
        raise UserError(
            f"这里不是乡治数据湖（没有 {MANIFEST}）/ not a xiangzhi lake (no {MANIFEST}): {lake}；"
            "请先运行 xiangzhi lake export / run `xiangzhi lake export` first")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as e:
        raise UserError(f"数据湖清单已损坏 / the lake manifest is corrupt: {path} ({e})") from None
    if manifest.get("format") != FORMAT:
        raise UserError(f"数据湖格式不符 / unknown lake format {manifest.get('format')!r} in {path} (expected {FORMAT})")
    return manifest


def stamp(lake: Path | str) -> tuple[str, int, int, int] | None:
    """Identity of a lake: its manifest, replaced by every export and mart build (a cache key for
    readers such as the dashboard's province view); None when there is no manifest."""
    path = Path(lake) / MANIFEST
    try:
        s = os.stat(path)
    except FileNotFoundError:
        return None
    return (str(path), s.st_ino, s.st_mtime_ns, s.st_size)


def empty_manifest() -> dict:
    return {"format": FORMAT, "tables": {}, "counties": {}}


def write_manifest(lake: Path, manifest: dict) -> None:
    """Replace the manifest atomically (write beside, rename over)."""
    path = Path(lake) / MANIFEST
    tmp = path.with_name(f".{MANIFEST}.tmp-{os.getpid()}")
    tmp.write_text(json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp, path)
