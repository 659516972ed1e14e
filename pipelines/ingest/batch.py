"""The batch lifecycle: raw copy → staged into a scratch file → (one transaction:) moved into the
warehouse → dispositions → core → validation → marts → contract tables → commit; then publish.

Staging writes each file's rows into a per-batch scratch DuckDB file (`warehouse/staging-<batch>.duckdb`)
in autocommit, so what a big batch appends is on disk, not held in memory by an open transaction
(FIELD_NOTES: DuckDB keeps what a transaction appends in memory beyond memory_limit; one bulk insert
of the staged rows inside the transaction is written out as it goes). The warehouse changes only in
the final transaction, so a kill anywhere leaves it as it was; the scratch file of a killed run
is removed by the next one.

Every staged row of every file ever loaded stays in `stg_<kind>`, and `disp_<kind>` says where each
ends (SPEC §3.6): loaded, quarantined with a reason, or duplicate. Judging every observation of an
id together is what makes the spec's order rules hold whatever order files arrive in: snapshots are
compared in export-time order (an older export loaded later never rolls a record back, and the
later export's row is the one quarantined as ID_CONFLICT), and a reference file that arrives late
(a missing grid) heals the rows that named it on the next ingest. Reloading a file already seen
(same content hash) is a no-op. An ingest re-judges only what it can change (core.rebuild): the ids
its rows name, or everything when it brings reference files; the result equals a full re-judge
(tests/test_ingest_incremental.py holds the two against each other).

The steps are called through their modules (`staging.stage`, `core.rebuild`, …) so the benchmark's
phase timer can wrap them. No parsing here; no printing (pipelines.cli prints the report).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import time
import uuid
from datetime import datetime
from pathlib import Path

import duckdb

from pipelines import config
from pipelines.ingest import core, registry, staging, validate
from pipelines.ingest.registry import FileOutcome, IngestReport
from pipelines.ingest.tables import ensure_schema
from pipelines.kill import KILL_PHASES, kill_point  # noqa: F401  (KILL_PHASES: the tests read it here)
from pipelines.models import contract

# Files the generator writes beside its exports; not data.
IGNORED_NAMES = {"manifest.json"}


class IngestError(Exception):
    """The ingest could not run (warehouse locked, nothing to read): one clear line."""


def _content_hash(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def collect(paths: list[Path]) -> tuple[list[Path], list[FileOutcome]]:
    """The files to read, and the paths refused before any byte is read (readers.path_problem):
    one bad path is a line in the summary, never a failed batch or a hang."""
    from pipelines.readers import path_problem, supported

    out: list[Path] = []
    refused: list[FileOutcome] = []

    def offer(x: Path, root: Path | None) -> None:
        problem = path_problem(x, root)
        if problem:
            refused.append(FileOutcome(x.name or str(x), None, "rejected", problem))
        else:
            out.append(x)

    for p in paths:
        if p.is_dir() and not p.is_symlink():
            for x in sorted(p.rglob("*")):
                if x.name.startswith(".") or x.name in IGNORED_NAMES:
                    continue
                if x.is_dir() and not x.is_symlink() and not supported(x):
                    continue  # walked by rglob; only a folder named like an export (x.xlsx) is reported
                offer(x, p)
        else:
            offer(p, None)
    return out, refused


def connect(path: Path) -> duckdb.DuckDBPyConnection:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        con = duckdb.connect(str(path))
    except duckdb.IOException as e:
        if "lock" in str(e).lower():
            raise IngestError(f"数据仓库正被另一个进程使用（可能有另一个导入在运行）/ the warehouse is in use "
                              f"by another process (another ingest running?): {path}") from e
        raise
    path.chmod(0o600)  # DuckDB creates it 0644; the warehouse holds personal data (SPEC §3.7): owner only
    config.apply_engine_settings(con)
    return con


def ingest(paths: list[Path], progress=None, build_marts: bool = True, full_rejudge: bool = False) -> IngestReport:
    """Load files/folders; returns what happened to every file. Raises IngestError if it cannot run.
    full_rejudge re-judges every staged row (what an incremental ingest must equal)."""
    from pipelines.normalise import normalise_sheets
    from pipelines.readers import read_file

    t0 = time.perf_counter()
    p = config.paths().ensure()
    key = config.secret(create=True)
    files, refused = collect(paths or [p.inbox])
    if not files and not refused:
        raise IngestError(f"没有可导入的文件 / nothing to ingest in {', '.join(map(str, paths or [p.inbox]))}")
    if not files:
        return IngestReport(None, refused, time.perf_counter() - t0, None)

    con = connect(p.warehouse)
    try:
        ensure_schema(con)
        raw_dir = scratch = None
        _remove_orphan_raw(con, p.raw)
        _remove_orphan_scratch(p.warehouse)
        known = {r[0]: r[1] for r in con.execute("select file_id, status from reg_files").fetchall()}
        started = datetime.now().replace(microsecond=0)
        batch_id = started.strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6]
        outcomes: list[FileOutcome] = list(refused)
        todo: list[tuple[Path, str]] = []
        seen: set[str] = set()
        for f in files:
            h = _content_hash(f)
            if h in known or h in seen:
                outcomes.append(FileOutcome(f.name, None, "unchanged", "内容相同的文件已导入过 / already loaded"))
            else:
                seen.add(h)
                todo.append((f, h))
        if not todo:
            con.close()
            from pipelines.publish import is_stale, publish

            # Nothing new, but an earlier run may have been killed between its commit and publish.
            published = publish(p.warehouse, p.published) if is_stale(p.warehouse, p.published) else None
            return IngestReport(None, outcomes, time.perf_counter() - t0, published)

        raw_dir = p.raw / batch_id
        raw_dir.mkdir(parents=True, exist_ok=True)
        seq0 = con.execute("select coalesce(max(seq), 0) from reg_files").fetchone()[0]
        scratch = _scratch_path(p.warehouse, batch_id)
        staging.attach_scratch(con, scratch)
        scratch.chmod(0o600)  # the batch's staged rows, as private as the warehouse
        kinds: set[str] = set()
        timings: dict[str, float] = {}
        mark = time.perf_counter()
        files_done = []
        hashes: dict[str, str] = {}  # household id → keyed hash, for every file of this batch
        task = progress.add_task("读取与暂存 reading & staging", total=len(todo)) if progress else None
        # Each file is read, normalised and staged, then dropped: memory stays bounded by one file.
        for f, h in todo:
            dest = raw_dir / f"{h[:8]}_{f.name}"
            shutil.copy2(f, dest)  # raw is immutable: the copy is what was loaded
            dest.chmod(0o600)  # the original export, personal data and all: owner only
            kill_point("raw_copy")
            res = read_file(f)
            kind = res.source.kind if res.source else None
            reason = res.error or ("; ".join(res.notes) if res.notes else None)
            rows_read = non_data = 0
            if not res.error:
                kinds.add(kind)
                for sheet in res.sheets:
                    if sheet.export_time is None:
                        sheet.export_time = started  # SPEC §3.6: else the time it is ingested
                if res.sheets:  # a file's sheets typed, derived and appended at once (a ledger: 12 sheets)
                    frame = staging.stack_sheets(normalise_sheets(res.source, res.sheets, key))
                    frame = staging.derive(kind, frame, key, hashes)
                    staging.stage(con, res.source, frame,
                                  {"file_id": h, "file_name": f.name, "batch_id": batch_id},
                                  database=staging.SCRATCH)
                    kill_point("staging")  # rows of this file staged, the rest of the batch not yet
                rows_read += sum(sheet.rows_read for sheet in res.sheets)
                non_data += sum(sheet.non_data for sheet in res.sheets)
            times = [sh.export_time for sh in res.sheets if sh.export_time is not None]
            files_done.append(dict(
                file_id=h, name=f.name, kind=kind, rows_read=rows_read, non_data=non_data,
                status="rejected" if res.error else "loaded", reason=reason, raw=str(dest),
                encoding=res.encoding, export=min(times) if times else started, profile=res.profile))
            del res
            if progress:
                progress.advance(task)
        staging.finish_scratch(con)
        kill_point("scratch_staged")
        con.execute("begin transaction")
        con.execute("insert into reg_batches values (?, ?, null, 'running')", [batch_id, started])
        staging.move_scratch(con, kinds)
        kill_point("moved")
        registry.register_files(con, batch_id, seq0, files_done)
        kill_point("staged")
        timings["read_normalise_stage"] = time.perf_counter() - mark
        if progress:
            task = progress.add_task("校验与建模 validating & building", total=None)
        mark = time.perf_counter()
        full = full_rejudge or core.needs_full_rejudge(con, kinds)
        core.rebuild(con, batch_id, kinds, full=full)
        kill_point("core")
        timings["dispositions_core"] = time.perf_counter() - mark
        mark = time.perf_counter()
        validate.validate_batch(con, batch_id, kinds)
        kill_point("validated")
        timings["validate_gx"] = time.perf_counter() - mark
        mark = time.perf_counter()
        mart_rows: dict[str, int] = {}
        if build_marts:
            mart_rows = run_marts(con, batch_id, None if full else core.months_changed(con))
        kill_point("marts")
        timings["marts"] = time.perf_counter() - mark
        mark = time.perf_counter()
        con.execute("update reg_batches set finished_at = ?, status = 'loaded' where batch_id = ?",
                    [datetime.now().replace(microsecond=0), batch_id])
        registry.publish_tables(con, incremental=not full)
        kill_point("publish_tables")
        # Data contracts (schema.yml) before commit and publish: a failing mart rolls back. Tables
        # changed by id or by month are checked in the rows this batch replaced.
        contract.enforce(con, batch_id, _previous_batch(con, batch_id),
                         {} if full else registry.replaced_rows(con, batch_id))
        kill_point("contract")
        _pause_for_tests()
        con.execute("commit")
        kill_point("commit")
        staging.drop_scratch(con, scratch)
        outcomes += registry.outcomes(con, batch_id)
        con.execute("checkpoint")
        kill_point("checkpoint")
        timings["commit"] = time.perf_counter() - mark
    except BaseException as exc:
        if raw_dir is not None:
            shutil.rmtree(raw_dir, ignore_errors=True)  # a failed batch leaves no copies behind
        try:
            con.execute("rollback")
        except Exception:  # noqa: BLE001 - no transaction open
            pass
        if scratch is not None:
            staging.drop_scratch(con, scratch)
        con.close()
        if _disk_full(exc):
            raise IngestError(_disk_full_message(p.home, files)) from exc
        raise
    con.close()
    from pipelines import publish

    mark = time.perf_counter()
    try:
        published = publish.publish(p.warehouse, p.published)
    except Exception as exc:
        if _disk_full(exc):  # committed but not published: the next ingest or dashboard start publishes
            raise IngestError(_disk_full_message(p.home, files)) from exc
        raise
    timings["publish"] = time.perf_counter() - mark
    return IngestReport(batch_id, outcomes, time.perf_counter() - t0, published, mart_rows, timings,
                        judged="full" if full else "incremental")


def _disk_full(exc: BaseException) -> bool:
    import errno

    return (isinstance(exc, OSError) and exc.errno == errno.ENOSPC) or (
        isinstance(exc, duckdb.Error) and "no space left" in str(exc).lower())


def _disk_full_message(home: Path, files: list[Path]) -> str:
    """One line for a full disk: what it needs (the batch's size, its raw copy and the warehouse's
    working space, roughly three times the input) and that nothing changed."""
    need = 3 * sum(f.stat().st_size for f in files if f.exists()) / 2**20
    free = shutil.disk_usage(home).free / 2**20 if home.exists() else 0
    return (f"磁盘空间不足：{home} 剩余约 {free:,.0f} MB，本次导入需要约 {need:,.0f} MB；数据未改变，清理空间后重新导入"
            f" / disk full: about {free:,.0f} MB free at {home}, this ingest needs about {need:,.0f} MB; nothing "
            "changed, free some space and ingest again")


def _remove_orphan_raw(con, raw_root: Path) -> None:
    """raw/<batch>/ folders of batches that never committed (killed runs): their rows were rolled
    back, so the copies are neither audit trail nor needed for re-judging. Runs under the lock."""
    committed = {r[0] for r in con.execute("select batch_id from reg_batches").fetchall()}
    for d in raw_root.iterdir() if raw_root.exists() else ():
        if d.is_dir() and d.name not in committed:
            shutil.rmtree(d, ignore_errors=True)


def _scratch_path(warehouse: Path, batch_id: str) -> Path:
    return warehouse.with_name(f"staging-{batch_id}.duckdb")


def _remove_orphan_scratch(warehouse: Path) -> None:
    """Scratch files of killed runs (their batch never committed). Runs under the warehouse's lock,
    so no other ingest is staging into one."""
    for f in warehouse.parent.glob("staging-*.duckdb*"):
        f.unlink(missing_ok=True)


def _pause_for_tests() -> None:
    """XIANGZHI_PAUSE_BEFORE_COMMIT=seconds holds the finished-but-uncommitted batch, so tests can kill
    the process at the worst moment and check nothing changed."""
    seconds = float(os.environ.get("XIANGZHI_PAUSE_BEFORE_COMMIT", "0") or 0)
    if seconds:
        print("PAUSED_BEFORE_COMMIT", flush=True)
        time.sleep(seconds)


def run_marts(con, batch_id: str | None = None, months_changed=None) -> dict[str, int]:
    """The marts (models/marts via the runner). After an incremental rebuild, the months it changed:
    the models kept by month are updated in those months only, if the marts were built for the
    batch loaded just before this one (runner.build_marts)."""
    from pipelines.models.runner import build_marts

    previous = _previous_batch(con, batch_id) if batch_id is not None else None
    return build_marts(con, batch_id=batch_id, previous_batch=previous, months_changed=months_changed)


def _previous_batch(con, batch_id: str) -> str | None:
    """The batch loaded just before `batch_id` (the one whose tables this batch starts from)."""
    row = con.execute("select batch_id from reg_files where batch_id <> ? order by seq desc limit 1",
                      [batch_id]).fetchone()
    return row[0] if row else None
