"""`xiangzhi lake marts DIR --engine duckdb|spark`: the marts recomputed from a lake's core tables.

Every model of pipelines/models/marts/ runs, in the runner's dependency order, on views of the
lake's dim_*, fct_* and cfg_* tables; the published ones (those in schema.yml) are written back,
partitioned as the export writes them. A mart model added to that folder is picked up with no
change here.

Counties run together when they can: the marts of one county never read another county's rows
(ranks are within a county, township or village; roll-ups follow codes) except through two
lake-wide inputs, the calendar (int_calendar: first to last month in the data) and the cfg_*
tables. Counties with the same calendar and the same config fingerprint (both recorded in the
manifest at export) form one group and are computed in one pass; a county whose months or
config differ gets its own pass, so each county's marts equal its own warehouse's.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from pathlib import Path

from pipelines.errors import UserError
from pipelines.lake import layout, store
from pipelines.models import contract, runner

ENGINES = ("duckdb", "spark")


@dataclass
class MartReport:
    engine: str
    groups: list[list[str]]
    rows: dict[str, int] = field(default_factory=dict)  # published mart → rows written
    by_county: dict[str, dict[str, int]] = field(default_factory=dict)
    core_rows: int = 0
    seconds: float = 0.0

    def summary(self, out: Path) -> str:
        marts = ", ".join(f"{t} {n:,}" for t, n in sorted(self.rows.items()))
        counties = sum(len(g) for g in self.groups)
        return (f"{self.engine}: {counties} 个县 counties in {len(self.groups)} 组 group(s), "
                f"核心 core rows {self.core_rows:,} → {out}: {marts} ({self.seconds:.1f} s)")


def county_groups(manifest: dict, counties: list[str] | None = None) -> list[list[str]]:
    """Counties that can be computed in one pass: same calendar, same config fingerprint."""
    known = manifest["counties"]
    wanted = counties or sorted(known)
    missing = [c for c in wanted if c not in known]
    if missing:
        raise UserError(f"数据湖里没有这些县 / counties not in the lake: {', '.join(missing)}")
    groups: dict[tuple, list[str]] = {}
    for code in sorted(wanted):
        entry = known[code]
        groups.setdefault((tuple(entry["calendar"]), entry["config"]), []).append(code)
    return list(groups.values())


def mart_models() -> list[str]:
    """Published tables the marts layer builds (all of them, once merged: grid_worker_scores too)."""
    published = contract.tables()
    return [m for m in runner.dependency_order("marts") if m in published]


def input_tables(manifest: dict) -> list[str]:
    return sorted(t for t in manifest["tables"] if t.startswith(layout.CORE_PREFIXES) or t.startswith("cfg_"))


def county_expr(table: str) -> str:
    cols = contract.tables()[table]
    for c in layout.COUNTY_CODE_COLUMNS:
        if c in cols:
            return f"substr({c}, 1, 6)"
    raise RuntimeError(f"mart {table} has no code column to partition by county")


def build(lake: Path, engine: str = "duckdb", out: Path | None = None, master: str | None = None,
          counties: list[str] | None = None) -> MartReport:
    lake = Path(lake)
    out = Path(out) if out else lake
    if engine not in ENGINES:
        raise UserError(f"未知引擎 / unknown engine {engine!r} (duckdb, spark)")
    manifest = layout.read_manifest(lake)
    for code in manifest["counties"]:
        if not (len(code) == 6 and code.isdigit()):
            raise UserError(f"数据湖清单里的县代码不对 / bad county code in the manifest: {code!r}")
    groups = county_groups(manifest, counties)
    marts = mart_models()
    t0 = time.perf_counter()
    if engine == "duckdb":
        from pipelines.lake.engine_duckdb import DuckDBEngine as Engine
    else:
        from pipelines.lake.engine_spark import SparkEngine as Engine
    report = MartReport(engine=engine, groups=groups)
    if out != lake and (out / layout.MANIFEST).exists():
        out_manifest = layout.read_manifest(out)
    elif out != lake:
        out.mkdir(parents=True, exist_ok=True)
        if any(p for p in out.iterdir() if not p.name.startswith(".")):
            raise UserError(f"输出文件夹不是空的，也不是数据湖 / output folder is neither empty nor a lake: {out}")
        out_manifest = layout.empty_manifest()
    staging = store.new_staging(out)
    try:
        with Engine(master=master) as eng:
            for i, group in enumerate(groups):
                # cfg_* are equal across the group (same fingerprint): read one county's copy.
                eng.register_inputs(lake, manifest, {t: group[:1] if t.startswith("cfg_") else group
                                                     for t in input_tables(manifest)})
                report.core_rows += sum(manifest["counties"][c]["rows"].get(t, 0) for c in group
                                        for t in manifest["tables"] if t.startswith("fct_"))
                eng.run_models(runner.dependency_order("marts"))
                for table in marts:
                    by_county = eng.write(table, staging / f"g{i}" / table, county_expr(table),
                                          layout.MONTH_OF.get(table))
                    report.rows[table] = report.rows.get(table, 0) + sum(by_county.values())
                    for code in group:
                        report.by_county.setdefault(code, {})[table] = by_county.get(code, 0)
            with store.locked(out):
                current = layout.read_manifest(out) if (out / layout.MANIFEST).exists() else out_manifest
                stamp = dt.datetime.now().isoformat(timespec="seconds")
                for table in marts:
                    for i, group in enumerate(groups):
                        for code in group:
                            store.swap_in(out, staging / f"g{i}", table, code)
                    current["tables"][table] = {
                        "columns": dict(contract.tables()[table]),
                        "partition_by": layout.partition_columns(table),
                    }
                for code, rows in report.by_county.items():
                    entry = current["counties"].setdefault(code, {"name": manifest["counties"][code]["name"]})
                    entry.setdefault("rows", {}).update(rows)
                    entry["marts"] = {"engine": engine, "computed_at": stamp, "from_lake": str(lake.resolve())}
                layout.write_manifest(out, current)
    finally:
        store.discard(staging)
    report.seconds = time.perf_counter() - t0
    return report
