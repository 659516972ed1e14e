"""One benchmark run on one generated county: ingest per format vs the bare engine, validation, marts,
dashboard queries, the naive baseline, memory. Prints a table with ratios and targets; saves JSON.

    .venv/bin/python -m benchmarks.run --scale county [--data DIR] [--keep] [--work DIR]

Without --data the exports are generated into the work folder (a temp dir, removed unless --keep).
With --data, a folder holding a generator manifest of that scale is reused; an empty or missing
folder is generated into (and kept). See benchmarks/README.md for what each figure means.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

from pipelines.config import DEFAULT_MEMORY_LIMIT

REPO = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).resolve().parent / "results"
FORMATS = ("utf8", "gbk", "xlsx")
FORMAT_LABEL = {"utf8": "UTF-8 CSV", "gbk": "GBK CSV", "xlsx": "XLSX"}
BARE_LABEL = {"utf8": "DuckDB read_csv", "gbk": "gb18030 decode → read_csv", "xlsx": "calamine (fastexcel)"}
FACT_KINDS = ("visits", "events")
REFERENCE_KINDS = ("admin_units", "grids", "households")
# The naive baseline reads at most this many rows per format at province scale (openpyxl alone would
# take an hour there); its figures are rates, so a sample measures them.
BASELINE_CAP = {"province": 400_000}

TARGETS = {
    "e2e_utf8_rows_s": 400_000,
    "e2e_utf8_vs_bare": 1 / 3,
    "read_gbk_rows_s": 800_000,
    "read_xlsx_rows_s": 100_000,
    "gx_rows_s": 500_000,
    "vs_baseline": 10.0,
    "query_p95_ms": 20.0,
    "peak_rss_gb": 2.0,  # issue #12 (at every scale, default settings); #8's was 4
    # issue #12: a month costs the same in year three as in month two
    "month_last_vs_2": 1.2,
    "month_last_wall_s": 12.0,
    "province_last_vs_first": 0.8,  # per-batch rows/s stays flat
    "province_vs_before": 1 / 3,  # of PROVINCE_BEFORE_S
}
# The province in 4 batches before #12 (d226aa0, benchmarks/README.md), the figure its target divides.
PROVINCE_BEFORE_S = 1610.0
MONTHLY_KINDS = ("visits", "events", "points", "redemptions")
MONTH_IN_NAME = re.compile(r"(\d{4})年(\d{1,2})月")


def log(msg: str) -> None:
    print(f"[{datetime.now():%H:%M:%S}] {msg}", file=sys.stderr, flush=True)


def loadavg() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


# ------------------------------------------------------------------------------------------ data

def ensure_data(scale: str, seed: int, data: Path) -> dict:
    manifest = data / "manifest.json"
    if manifest.exists():
        m = json.loads(manifest.read_text(encoding="utf-8"))
        if m.get("scale") != scale:
            raise SystemExit(f"{data} holds scale {m.get('scale')!r}, not {scale!r}")
        log(f"reusing generated {scale} exports in {data}")
        return m
    from pipelines.generate import generate

    log(f"generating {scale} exports (seed {seed}) into {data} …")
    t0 = time.perf_counter()
    generate(scale, seed, data)
    log(f"generated in {time.perf_counter() - t0:.0f} s")
    return json.loads(manifest.read_text(encoding="utf-8"))


def format_class(f: dict) -> str | None:
    if f["format"] == "xlsx":
        return "xlsx"
    if f["format"] == "csv":
        return "gbk" if f["encoding"] in ("gbk", "gb18030") else "utf8"
    return None


def group_files(manifest: dict) -> dict[str, list[dict]]:
    """Visit and event files by format (points/redemptions only if a format has no visit/event file)."""
    groups: dict[str, list[dict]] = {fmt: [] for fmt in FORMATS}
    for kinds in (FACT_KINDS, ("points", "redemptions")):
        for f in manifest["files"]:
            fmt = format_class(f)
            if f["kind"] in kinds and fmt and (not groups[fmt] or groups[fmt][0]["kind"] in kinds):
                groups[fmt].append(f)
    return groups


def sheets_of(f: dict) -> list[tuple[str | None, int]]:
    return [(s["sheet"], s["header_row"]) for s in f["sheets"]]


def rows_of(files: list[dict]) -> int:
    return sum(f["rows_read"] for f in files)


# ------------------------------------------------------------------------------------------ sections

def full_ingest(data: Path, home: Path, env: dict, rss_cap_gb: float | None) -> dict:
    """Section 1 (all files) and 6: the whole folder in one batch, in its own process."""
    out = home.parent / f"{home.name}.json"
    log(f"ingest of the whole folder in a child process (memory limit {env.get('XIANGZHI_MEMORY_LIMIT', DEFAULT_MEMORY_LIMIT)}"
        f", RSS cap {rss_cap_gb} GiB) …")
    t0 = time.perf_counter()
    cmd = [sys.executable, "-m", "benchmarks.ingest_child", "--home", str(home), "--json", str(out)]
    if rss_cap_gb:
        cmd += ["--rss-cap-gb", str(rss_cap_gb)]
    proc = subprocess.run(cmd + [str(data)], cwd=REPO, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode == 3 and out.exists():
        res = json.loads(out.read_text(encoding="utf-8"))
        res["process_wall_s"] = wall
        log(f"whole-folder ingest aborted: {res['aborted']}")
        return res
    if proc.returncode != 0:
        raise RuntimeError(f"ingest child failed ({proc.returncode}):\n{proc.stderr[-4000:]}")
    res = json.loads(out.read_text(encoding="utf-8"))
    res["process_wall_s"] = wall
    res["children_maxrss_bytes"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    res["loadavg"] = loadavg()
    return res


def batch_plan(manifest: dict, data: Path, n: int) -> list[list[Path]]:
    """The folder as n successive batches, as an office loads it over time: references and the
    oldest exports first, then export-time order, about the same number of rows per batch."""
    def first_export(f):
        times = [s["export_time"] for s in f["sheets"] if s.get("export_time")]
        return min(times) if times else ""

    refs = [f for f in manifest["files"] if f["kind"] in REFERENCE_KINDS]
    rest = sorted((f for f in manifest["files"] if f["kind"] not in REFERENCE_KINDS),
                  key=lambda f: (first_export(f), f["file"]))
    per = sum(f["rows_read"] for f in rest) / n
    batches: list[list[dict]] = [list(refs)]
    acc = 0
    for f in rest:
        if acc >= per * len(batches) and len(batches) < n:
            batches.append([])
        batches[-1].append(f)
        acc += f["rows_read"]
    return [[data / f["file"] for f in b] for b in batches if b]


def batched_ingest(data: Path, manifest: dict, home: Path, env: dict, n: int, rss_cap_gb: float | None) -> dict:
    """Section 1/6/7 when one batch is too big: n successive ingests, each in its own process."""
    plan = batch_plan(manifest, data, n)
    total: dict = {"batches": [], "seconds": 0.0, "cpu_s": 0.0, "import_seconds": 0.0, "process_wall_s": 0.0,
                   "rows_read": 0, "rows_loaded": 0, "files_loaded": 0, "files_other": [], "phases": {},
                   "peak_rss_bytes": 0, "sampled_peak_by_phase_bytes": {}}
    for i, paths in enumerate(plan, start=1):
        log(f"batch {i}/{len(plan)}: {len(paths)} files …")
        out = home.parent / f"{home.name}.batch{i}.json"
        cmd = [sys.executable, "-m", "benchmarks.ingest_child", "--home", str(home), "--json", str(out)]
        if rss_cap_gb:
            cmd += ["--rss-cap-gb", str(rss_cap_gb)]
        t0 = time.perf_counter()
        proc = subprocess.run(cmd + [str(p) for p in paths], cwd=REPO, env=env, capture_output=True, text=True)
        wall = time.perf_counter() - t0
        if proc.returncode == 3 and out.exists():
            res = json.loads(out.read_text(encoding="utf-8"))
            total["aborted"] = f"batch {i}/{len(plan)}: {res['aborted']}"
            total["peak_rss_bytes"] = max(total["peak_rss_bytes"], res["peak_rss_bytes"])
            total["sampled_peak_phase"] = res["sampled_peak_phase"]
            total["sampled_peak_by_phase_bytes"] = res["sampled_peak_by_phase_bytes"]
            total["memory_limit"] = res["memory_limit"]
            return total
        if proc.returncode != 0:
            raise RuntimeError(f"ingest child failed ({proc.returncode}):\n{proc.stderr[-4000:]}")
        res = json.loads(out.read_text(encoding="utf-8"))
        shutil.rmtree(home / "raw", ignore_errors=True)
        total["batches"].append({"files": len(paths), "rows_read": res["rows_read"], "seconds": res["seconds"],
                                 "rows_s": res["rows_read"] / res["seconds"], "peak_rss_bytes": res["peak_rss_bytes"],
                                 "sampled_peak_phase": res["sampled_peak_phase"], "phases": res["phases"],
                                 "loadavg": loadavg()})
        log(f"  {res['rows_read']:,} rows in {res['seconds']:.0f} s, peak RSS {res['peak_rss_bytes'] / 2**30:.2f} GiB")
        for k in ("seconds", "cpu_s", "import_seconds", "rows_read", "rows_loaded", "files_loaded"):
            total[k] += res[k]
        total["process_wall_s"] += wall
        total["files_other"] += res["files_other"]
        for k, v in res["phases"].items():
            total["phases"][k] = total["phases"].get(k, 0.0) + v
        if res["peak_rss_bytes"] >= total["peak_rss_bytes"]:
            total.update(peak_rss_bytes=res["peak_rss_bytes"], sampled_peak_phase=res["sampled_peak_phase"],
                         rss_after_imports_bytes=res["rss_after_imports_bytes"])
        for k, v in res["sampled_peak_by_phase_bytes"].items():
            total["sampled_peak_by_phase_bytes"][k] = max(total["sampled_peak_by_phase_bytes"].get(k, 0), v)
        total["memory_limit"] = res["memory_limit"]
        total["mart_rows"] = res["mart_rows"]
    total["loadavg"] = loadavg()
    return total


def _child_ingest(home: Path, paths: list[Path], env: dict, out: Path, rss_cap_gb: float | None) -> dict:
    """One ingest in its own process (ingest_child): its JSON, or an 'aborted' entry."""
    cmd = [sys.executable, "-m", "benchmarks.ingest_child", "--home", str(home), "--json", str(out)]
    if rss_cap_gb:
        cmd += ["--rss-cap-gb", str(rss_cap_gb)]
    proc = subprocess.run(cmd + [str(p) for p in paths], cwd=REPO, env=env, capture_output=True, text=True)
    if proc.returncode == 3 and out.exists():
        return json.loads(out.read_text(encoding="utf-8"))
    if proc.returncode != 0:
        raise RuntimeError(f"ingest child failed ({proc.returncode}):\n{proc.stderr[-4000:]}")
    shutil.rmtree(home / "raw", ignore_errors=True)
    return json.loads(out.read_text(encoding="utf-8"))


def month_files(manifest: dict) -> dict[str, list[dict]]:
    """Monthly report files (visits, events, points, redemptions) by the month their name gives."""
    out: dict[str, list[dict]] = {}
    for f in manifest["files"]:
        m = MONTH_IN_NAME.search(f["file"])
        if f["kind"] in MONTHLY_KINDS and m:
            out.setdefault(f"{m[1]}-{int(m[2]):02d}", []).append(f)
    return dict(sorted(out.items()))


def incremental(data: Path, manifest: dict, work: Path, env: dict, rss_cap_gb: float | None,
                setup_months_per_batch: int = 12, keep_history: Path | None = None, repeats: int = 3) -> dict | None:
    """Section 8 (issue #12): what one month's ingest costs with one month of history (month 2) and
    with all but the last month loaded (month N). Each timed ingest is its own process; the history
    is loaded beforehand in batches of `setup_months_per_batch` months (references and dispute
    ledgers in the first; 1: one ingest a month, as an office loads it, whose warehouse holds every
    month's deletes and appended row groups, not one batch's freshly written tables).
    keep_history: a copy of each home before its timed ingest goes there (to time other code on the
    same history).

    Each month is timed `repeats` times, each time on a fresh copy of its history, month 2 and month N
    in turn (so a busy minute on the shared machine falls on both): the figures shown are the median
    run's (by wall time; CPU is the median of the CPU times; of an even count, the lower middle), the
    ratios are of the medians. One timing a month swung the ratio 1.09–1.74× with the same code
    (benchmarks/README.md)."""
    if repeats < 1:
        raise ValueError("repeats must be at least 1")
    months = month_files(manifest)
    if len(months) < 3:
        return None
    names = list(months)
    monthly = {f["file"] for fs in months.values() for f in fs}
    base = [data / f["file"] for f in manifest["files"] if f["file"] not in monthly]
    if setup_months_per_batch < 1:
        raise ValueError("setup_months_per_batch must be at least 1")
    out: dict = {"months": len(names), "runs": {}, "repeats": repeats,
                 "history_months_per_ingest": setup_months_per_batch}
    # label → history home, timed month, months of history, setup seconds, setup ingests
    ready: dict[str, tuple[Path, str, int, float, int]] = {}
    for label, history, timed in (("month 2", names[:1], names[1]), (f"month {len(names)}", names[:-1], names[-1])):
        hist = work / f"history_incremental_{label.replace(' ', '')}"
        shutil.rmtree(hist, ignore_errors=True)
        log(f"incremental: {label} — loading {len(history)} month(s) of history …")
        setup_s, setup_ingests = 0.0, 0
        for i in range(0, len(history), setup_months_per_batch):
            chunk = [data / f["file"] for m in history[i:i + setup_months_per_batch] for f in months[m]]
            res = _child_ingest(hist, (base if i == 0 else []) + chunk, env, hist.parent / f"{hist.name}.setup.json",
                                rss_cap_gb)
            if "aborted" in res:
                out["runs"][label] = {"aborted": f"history: {res['aborted']}"}
                break
            setup_s += res["seconds"]
            setup_ingests += 1
        else:
            if keep_history is not None:
                shutil.copytree(hist, keep_history / hist.name, dirs_exist_ok=True)
            ready[label] = (hist, timed, len(history), setup_s, setup_ingests)
    timings: dict[str, list[dict]] = {label: [] for label in ready}
    for rep in range(repeats):
        for label, (hist, timed, n_history, setup_s, setup_ingests) in ready.items():
            home = work / f"home_incremental_{label.replace(' ', '')}"
            shutil.rmtree(home, ignore_errors=True)
            shutil.copytree(hist, home)
            log(f"incremental: {label} — timing {timed} ({len(months[timed])} files), run {rep + 1} of {repeats} …")
            res = _child_ingest(home, [data / f["file"] for f in months[timed]], env,
                                home.parent / f"{home.name}.json", rss_cap_gb)
            res["history_months"], res["month"], res["history_seconds"] = n_history, timed, setup_s
            res["history_ingests"] = setup_ingests
            timings[label].append(res)
            shutil.rmtree(home, ignore_errors=True)
    for label, (hist, *_) in ready.items():
        shutil.rmtree(hist, ignore_errors=True)
        runs = timings[label]
        if any("aborted" in x for x in runs):
            out["runs"][label] = next(x for x in runs if "aborted" in x)
            continue
        shown = dict(sorted(runs, key=lambda x: x["seconds"])[(len(runs) - 1) // 2])
        shown["cpu_s"] = statistics.median_low(x["cpu_s"] for x in runs)
        shown["walls"], shown["cpus"] = [x["seconds"] for x in runs], [x["cpu_s"] for x in runs]
        out["runs"][label] = shown
    out["runs"] = {k: out["runs"][k] for k in ("month 2", f"month {len(names)}") if k in out["runs"]}
    a, b = (out["runs"].get(k, {}) for k in ("month 2", f"month {len(names)}"))
    if "seconds" in a and "seconds" in b:
        out["wall_ratio"] = b["seconds"] / a["seconds"]
        out["cpu_ratio"] = b["cpu_s"] / a["cpu_s"] if a["cpu_s"] else None
        out["last_wall_s"] = b["seconds"]
        out["wall_ratios"] = [y / x for x, y in zip(a["walls"], b["walls"], strict=True)]  # run by run, for the spread
    out["loadavg"] = loadavg()
    return out


def format_ingests(data: Path, groups: dict[str, list[dict]], manifest: dict, work: Path) -> dict:
    """Section 1 per format: references loaded once, then each format's files into a copy of that home."""
    import pipelines.expectations as ex
    from benchmarks.phases import timed_phases, with_other
    from pipelines.load import ingest

    base = work / "home_refs"
    refs = [data / f["file"] for f in manifest["files"] if f["kind"] in REFERENCE_KINDS]
    os.environ["XIANGZHI_HOME"] = str(base)
    log(f"per-format ingests: references first ({len(refs)} files) …")
    t0 = time.perf_counter()
    ref_report = ingest(refs)
    ref_s = time.perf_counter() - t0
    for kind in FACT_KINDS + ("points", "redemptions"):
        ex.suite_for(kind)  # built once per process, like a second ingest would find them
    out: dict = {"references_s": ref_s, "reference_rows": ref_report.rows_read}
    for fmt in FORMATS:
        files = groups[fmt]
        if not files:
            out[fmt] = None
            continue
        home = work / f"home_{fmt}"
        shutil.rmtree(home, ignore_errors=True)
        shutil.copytree(base, home)
        os.environ["XIANGZHI_HOME"] = str(home)
        log(f"  {FORMAT_LABEL[fmt]}: {len(files)} files, {rows_of(files):,} rows …")
        la = loadavg()
        t0, c0 = time.perf_counter(), time.process_time()
        with timed_phases() as acc:
            report = ingest([data / f["file"] for f in files])
        secs = time.perf_counter() - t0
        cpu = time.process_time() - c0
        rows = sum(f.rows_read for f in report.files if f.status == "loaded")
        not_loaded = [(f.file_name, f.status, f.reason) for f in report.files if f.status != "loaded"]
        phases = with_other(dict(acc), secs)
        out[fmt] = {
            "files": len(files), "kinds": sorted({f["kind"] for f in files}), "rows": rows,
            "rows_manifest": rows_of(files), "seconds": secs, "cpu_s": cpu, "rows_s": rows / secs,
            "read_rows_s": rows / phases["read"] if phases["read"] else None,
            "read_normalise_rows_s": rows / (phases["read"] + phases["normalise"]) if phases["read"] else None,
            "phases": phases, "not_loaded": not_loaded, "loadavg": la,
        }
        shutil.rmtree(home / "raw", ignore_errors=True)
    return out


def bare_reads(data: Path, groups: dict[str, list[dict]], work: Path) -> dict:
    from benchmarks import bare

    out = {}
    for fmt in FORMATS:
        files = [(data / f["file"], sheets_of(f)) for f in groups[fmt]]
        if not files:
            out[fmt] = None
            continue
        db = work / f"bare_{fmt}.duckdb"
        db.unlink(missing_ok=True)
        log(f"bare engine: {BARE_LABEL[fmt]} …")
        la = loadavg()
        if fmt == "utf8":
            secs, rows = bare.utf8_csv(files, db)
        elif fmt == "gbk":
            secs, rows = bare.gbk_csv(files, db, work)
        else:
            secs, rows = bare.xlsx(files, db)
        db.unlink(missing_ok=True)
        n = rows_of(groups[fmt])
        out[fmt] = {"engine": BARE_LABEL[fmt], "seconds": secs, "rows_in_tables": rows, "rows": n,
                    "rows_s": n / secs, "loadavg": la}
    return out


def validation(warehouse: Path, kinds=FACT_KINDS + ("points",)) -> dict:
    """Section 2: a source's GX suite on all its checked rows of the full warehouse, in one run (the
    big sources: the reference and small report sources cost GX's fixed ~1 s per run and little else),
    by both routes in the same run: the ingest's (the suite's columns streamed as Arrow into GX's
    in-memory DuckDB, GX as SQL there; timed with its copy) and the pandas route before #12 (the
    frame fetched first, its fetch shown apart; GX on pandas)."""
    import duckdb

    from pipelines.expectations import run_suite, suite_columns
    from pipelines.load import _checked_view_sql
    from pipelines.sources import DATE, SOURCES

    log("validation alone (GX suites, DuckDB SQL and pandas routes) …")
    con = duckdb.connect(str(warehouse), read_only=True)
    out: dict = {"kinds": {}, "loadavg": loadavg()}
    try:
        for kind in kinds:
            con.execute(f"create or replace temp view chk_{kind} as {_checked_view_sql(kind)}")
            n = con.execute(f"select count(*) from chk_{kind}").fetchall()[0][0]  # fetchall: completes the result
            if n == 0:
                continue
            select = "select " + ", ".join(f'"{c}"' for c in suite_columns(kind)) + f" from chk_{kind}"

            t0 = time.perf_counter()
            run_suite(kind, con.sql(select + " limit 100").to_arrow_reader())  # GX warmed; ≈ the fixed cost of one run
            sql_small = time.perf_counter() - t0
            t0, c0 = time.perf_counter(), time.process_time()
            sql_results = run_suite(kind, con.sql(select).to_arrow_reader())
            sql_s, sql_cpu = time.perf_counter() - t0, time.process_time() - c0

            t0 = time.perf_counter()
            frame = con.execute(f"select * exclude (_raw) from chk_{kind}").df()
            fetch = time.perf_counter() - t0
            for f in SOURCES[kind].fields:  # as validate_batch did: GX compares pandas datetimes
                if f.type == DATE:
                    frame[f.name] = frame[f.name].astype("datetime64[us]")
            t0 = time.perf_counter()
            run_suite(kind, frame.head(100), engine="pandas")
            small = time.perf_counter() - t0
            t0, c0 = time.perf_counter(), time.process_time()
            results = run_suite(kind, frame, engine="pandas")
            secs = time.perf_counter() - t0
            cpu = time.process_time() - c0
            del frame
            same = ([(r["expectation"], r["unexpected_count"]) for r in sql_results]
                    == [(r["expectation"], r["unexpected_count"]) for r in results])
            out["kinds"][kind] = {"rows": n, "expectations": len(results),
                                  "sql_s": sql_s, "sql_cpu_s": sql_cpu, "sql_100_rows_s": sql_small,
                                  "sql_rows_s": n / sql_s, "same_counts": same,
                                  "fetch_s": fetch, "gx_s": secs, "gx_cpu_s": cpu, "gx_100_rows_s": small,
                                  "rows_s": n / secs, "failed_expectations": sum(not r["success"] for r in results)}
    finally:
        con.close()
    k = out["kinds"]
    big = [x for x in FACT_KINDS + ("points",) if x in k]
    out["fact_rows"] = sum(k[x]["rows"] for x in big)
    out["fact_sql_s"] = sum(k[x]["sql_s"] for x in big)
    out["fact_gx_s"] = sum(k[x]["gx_s"] for x in big)
    # The target's figure is the ingest's route (copy included); the pandas route's apart.
    out["fact_rows_s"] = out["fact_rows"] / out["fact_sql_s"] if out["fact_sql_s"] else None
    out["fact_pandas_rows_s"] = out["fact_rows"] / out["fact_gx_s"] if out["fact_gx_s"] else None
    return out


def marts(warehouse: Path, work: Path) -> dict:
    """Section 3: rebuild every mart on a copy of the full warehouse."""
    import duckdb

    from pipelines import config
    from pipelines.models.contract import tables
    from pipelines.models.runner import build_marts

    log("marts rebuild on a copy of the warehouse …")
    copy = work / "marts_copy.duckdb"
    shutil.copy(warehouse, copy)
    con = duckdb.connect(str(copy))
    con.execute(f"set memory_limit = '{config.memory_limit()}'")
    la = loadavg()
    try:
        rows_in = {t: con.execute(f'select count(*) from "{t}"').fetchone()[0]
                   for (t,) in con.execute("select table_name from duckdb_tables() where table_name like 'fct_%' "
                                           "or table_name like 'dim_%' order by 1").fetchall()}
        t0, c0 = time.perf_counter(), time.process_time()
        counts = build_marts(con)
        secs = time.perf_counter() - t0
        cpu = time.process_time() - c0
    finally:
        con.close()
        copy.unlink(missing_ok=True)
    published = set(tables())
    return {"seconds": secs, "cpu_s": cpu, "rows_in": rows_in, "rows_in_total": sum(rows_in.values()),
            "rows_out": {t: n for t, n in counts.items() if t in published},
            "intermediate_rows": {t: n for t, n in counts.items() if t not in published},
            "rows_out_total": sum(n for t, n in counts.items() if t in published), "loadavg": la}


def queries(published: Path, repeat: int) -> dict:
    """Section 4: every query of every dashboard page (benchmarks/bench_queries.PAGES), p50/p95."""
    from benchmarks.bench_queries import PAGES, pct
    from pipelines import warehouse as wh

    log(f"dashboard queries × {repeat} …")
    con = wh.connect(published)
    la = loadavg()
    try:
        first = wh.first_units(con)
        scope = wh.Scope("county", first["county"]["code"])
        period = wh.periods(scope, con=con)[-1]
        village = wh.villages(scope, con=con)["village_code"].iloc[0]
        subst = {"P": period, "U": scope.code, "V": village, "Y": int(period[:4])}
        rows, pages = [], {}
        for page, qs in PAGES.items():
            totals = [0.0] * repeat
            for name, args, kwargs in qs:
                fn = getattr(wh, name)
                real = tuple(subst.get(x, x) if isinstance(x, str) else x for x in args)
                label = name + (f"({args[0]})" if name == "boundaries" else f"({args[1]})"
                                if name == "drill_records" else "(overdue)" if kwargs.get("overdue") else "")
                times, n, err = [], 0, None
                for i in range(repeat):
                    t0 = time.perf_counter()
                    try:
                        res = fn(scope, *real, con=con, **kwargs)
                    except Exception as e:  # noqa: BLE001 - reported in the table, not fatal
                        err = f"{type(e).__name__}: {str(e)[:80]}"
                        break
                    dt = (time.perf_counter() - t0) * 1000
                    times.append(dt)
                    totals[i] += dt
                    n = len(res) if hasattr(res, "__len__") else 1
                rows.append({"page": page, "query": label, "rows": n, "error": err,
                             "p50_ms": statistics.median(times) if times else None,
                             "p95_ms": pct(times, 0.95) if times else None})
            pages[page] = {"p50_ms": statistics.median(totals), "p95_ms": pct(totals, 0.95)}
    finally:
        con.close()
    ok = [r for r in rows if r["p95_ms"] is not None]
    return {"scope": f"county {scope.code}", "period": period, "repeat": repeat, "queries": rows, "pages": pages,
            "max_p95_ms": max(r["p95_ms"] for r in ok) if ok else None,
            "slowest": max(ok, key=lambda r: r["p95_ms"])["query"] if ok else None, "loadavg": la}


def naive(data: Path, manifest: dict, groups: dict[str, list[dict]], work: Path, cap: int | None) -> dict:
    """Section 5: the naive baseline on the same files (a row cap per format at province scale)."""
    from benchmarks import baseline

    db = work / "baseline.sqlite"
    db.unlink(missing_ok=True)
    con = sqlite3.connect(db)
    log("naive baseline: references …")
    la = loadavg()
    refs = [f for f in manifest["files"] if f["kind"] in ("grids", "households")]
    ref_s, known, ref_rows = baseline.load_references(con, refs, data)
    out: dict = {"references_s": ref_s, "reference_rows": ref_rows, "cap_rows_per_format": cap, "loadavg": la}
    for fmt in FORMATS:
        files, n = [], 0
        for f in groups[fmt]:
            if cap is not None and n >= cap:
                break
            files.append(f)
            n += f["rows_read"]
        if not files:
            out[fmt] = None
            continue
        log(f"naive baseline: {FORMAT_LABEL[fmt]} ({len(files)} files, {n:,} rows) …")
        res = baseline.ingest_files(
            con, [(data / f["file"], f["kind"], f["format"], sheets_of(f), f["encoding"]) for f in files], known)
        res["files"] = len(files)
        res["rows_s"] = res["rows"] / res["seconds"]
        out[fmt] = res
    log("naive baseline: pandas groupby indicators …")
    out["marts"] = baseline.marts(con)
    con.close()
    db.unlink(missing_ok=True)
    return out


# ------------------------------------------------------------------------------------------ summary

def evaluate(r: dict) -> list[dict]:
    """Targets of issues #8 and #12 against this run's figures."""
    fi, bare, base = r["formats"], r["bare"], r.get("baseline")
    val, q = r["validation"] or {}, r["queries"] or {}
    t: list[dict] = []

    def add(name, value, target, higher=True, unit=""):
        met = None if value is None else (value >= target if higher else value <= target)
        t.append({"target": name, "value": value, "goal": target, "higher_is_better": higher, "unit": unit,
                  "met": met})

    u = fi.get("utf8")
    add("E2E UTF-8 CSV ingest rows/s", u and u["rows_s"], TARGETS["e2e_utf8_rows_s"], unit="rows/s")
    add("E2E UTF-8 CSV ingest / bare read_csv", u and bare.get("utf8") and u["rows_s"] / bare["utf8"]["rows_s"],
        TARGETS["e2e_utf8_vs_bare"], unit="×")
    add("GBK CSV read rows/s (read_file)", fi.get("gbk") and fi["gbk"]["read_rows_s"], TARGETS["read_gbk_rows_s"],
        unit="rows/s")
    add("XLSX read rows/s (read_file)", fi.get("xlsx") and fi["xlsx"]["read_rows_s"], TARGETS["read_xlsx_rows_s"],
        unit="rows/s")
    add("GX validation rows/s (visits+events+points)", val.get("fact_rows_s"), TARGETS["gx_rows_s"], unit="rows/s")
    if base:
        add("ours / naive baseline, end to end", base.get("e2e_ratio"), TARGETS["vs_baseline"], unit="×")
    add("dashboard query p95 (slowest query)", q.get("max_p95_ms"), TARGETS["query_p95_ms"], higher=False, unit="ms")
    add("ingest peak RSS (whole folder)", r["full"]["peak_rss_bytes"] / 2**30, TARGETS["peak_rss_gb"], higher=False,
        unit="GiB")
    inc = r.get("incremental") or {}
    add("month N / month 2 ingest, wall (issue #12)", inc.get("wall_ratio"), TARGETS["month_last_vs_2"],
        higher=False, unit="×")
    add("month N / month 2 ingest, CPU (issue #12)", inc.get("cpu_ratio"), TARGETS["month_last_vs_2"],
        higher=False, unit="×")
    add("month N ingest wall (issue #12)", inc.get("last_wall_s"), TARGETS["month_last_wall_s"], higher=False,
        unit="s")
    batches = r["full"].get("batches") or []
    if r["meta"]["scale"] == "province" and len(batches) > 1 and "aborted" not in r["full"]:
        add("province last / first batch rows/s (issue #12)", batches[-1]["rows_s"] / batches[0]["rows_s"],
            TARGETS["province_last_vs_first"], unit="×")
        add(f"province total / {PROVINCE_BEFORE_S:,.0f} s before (issue #12)", r["full"]["seconds"] / PROVINCE_BEFORE_S,
            TARGETS["province_vs_before"], higher=False, unit="×")
    return t


def ratios(r: dict) -> None:
    """Speed-ups of ours over the baseline (ingest per format, marts, end to end)."""
    base, fi, mt = r.get("baseline"), r["formats"], r["marts"]
    if not base or not fi:
        return
    if mt is None:  # no whole-folder warehouse: compare ingest only
        mt = {"rows_in_total": 0, "seconds": 1.0}
    ours_rows = ours_s = base_rows = base_s = 0.0
    for fmt in FORMATS:
        if fi.get(fmt) and base.get(fmt):
            base[fmt]["ours_over_baseline"] = fi[fmt]["rows_s"] / base[fmt]["rows_s"]
            ours_rows += fi[fmt]["rows"]
            ours_s += fi[fmt]["seconds"]
            base_rows += base[fmt]["rows"]
            base_s += base[fmt]["seconds"]
    bm = base["marts"]
    base["marts"]["rows_in_s"] = bm["rows_in"] / bm["seconds"]
    mt["rows_in_s"] = mt["rows_in_total"] / mt["seconds"]
    base["marts_ratio"] = mt["rows_in_s"] / bm["rows_in_s"] if mt["rows_in_total"] else None
    # End to end: ours = the per-format ingests (each builds marts and publishes); the baseline =
    # references + its per-format ingests + its marts once, per row it read.
    base_total_rows = base_rows + base["reference_rows"]
    base_total_s = base_s + base["references_s"] + bm["seconds"]
    base["e2e_rows_s"] = base_total_rows / base_total_s if base_total_s else None
    ours_total_rows = ours_rows + fi["reference_rows"]
    ours_total_s = ours_s + fi["references_s"]
    base["ours_e2e_rows_s"] = ours_total_rows / ours_total_s if ours_total_s else None
    base["e2e_ratio"] = (base["ours_e2e_rows_s"] / base["e2e_rows_s"]) if base["e2e_rows_s"] else None


def _n(x, digits=0) -> str:
    if x is None:
        return "—"
    return f"{x:,.{digits}f}"


def render_incremental(inc: dict | None) -> list[str]:
    """Section 8's lines (also printed alone by benchmarks.incremental)."""
    L: list[str] = []
    w = L.append
    w("\n8. Incremental: one month's ingest with one month of history vs with all but the last month")
    if not inc:
        w("   not run (--skip, or fewer than 3 months of exports)")
    else:
        per = inc.get("history_months_per_ingest")
        if per:
            office = " (as an office loads it)" if per == 1 else ""
            w(f"   history loaded {per} month(s) per ingest{office}")
        w(f"   {'run':<10} {'month':<8} {'history':>8} {'files':>5} {'rows':>9} {'wall s':>8} {'cpu s':>8} "
          f"{'peak RSS GiB':>12}  phases")
        for label, x in inc["runs"].items():
            if "aborted" in x:
                w(f"   {label:<10} ABORTED — {x['aborted']}")
                continue
            w(f"   {label:<10} {x['month']:<8} {x['history_months']:>8} {x['files_loaded']:>5} {x['rows_read']:>9,} "
              f"{x['seconds']:>8.1f} {x['cpu_s']:>8.1f} {x['peak_rss_bytes'] / 2**30:>12.2f}  "
              + ", ".join(f"{k} {v:.1f}" for k, v in x["phases"].items() if v >= 0.05))
            if len(x.get("walls", [])) > 1:
                w(f"   {'':<10} {len(x['walls'])} runs (median shown): wall "
                  + " / ".join(f"{v:.1f}" for v in x["walls"]) + " s, CPU " + " / ".join(f"{v:.1f}" for v in x["cpus"]) + " s")
        if inc.get("wall_ratios") and len(inc["wall_ratios"]) > 1:
            w("   month N / month 2 run by run (wall): " + " / ".join(f"{v:.2f}×" for v in inc["wall_ratios"]))
        if inc.get("wall_ratio") is not None:
            w(f"   month {inc['months']} / month 2: wall {inc['wall_ratio']:.2f}× (target ≤ {TARGETS['month_last_vs_2']}), "
              f"CPU {_n(inc.get('cpu_ratio'), 2)}× (target ≤ {TARGETS['month_last_vs_2']}); month {inc['months']} "
              f"wall {inc['last_wall_s']:.1f} s (target ≤ {TARGETS['month_last_wall_s']:.0f} s)")
    return L


def render(r: dict) -> str:
    m = r["meta"]
    L: list[str] = []
    w = L.append
    w(f"xiangzhi benchmark — scale {m['scale']} (seed {m['seed']}), {m['started']}, commit {m.get('commit')}")
    w(f"machine: {m['machine']['cpu']} · {m['machine']['cores']} cores · {m['machine']['mem_gib']:.0f} GiB · "
      f"load avg at start {m['loadavg_start']} · end {m.get('loadavg_end')}")
    w(f"data: {m['files']} files, {m['rows']:,} rows, {m['size_mb']:.0f} MB · DuckDB memory limit "
      f"{m['memory_limit']} · duckdb {m['versions'].get('duckdb')} polars {m['versions'].get('polars')} "
      f"GX {m['versions'].get('great_expectations')}")
    fi, bare, full = r["formats"], r["bare"], r["full"]

    w("\n1. Ingest end to end (read, normalise, validate, load, marts, publish) vs the bare engine")
    w(f"   {'format':<11} {'files':>5} {'rows':>10} {'ours s':>8} {'ours rows/s':>12} {'read rows/s':>12} "
      f"{'rd+norm r/s':>12} {'cpu/wall':>8} │ {'bare engine':<26} {'bare rows/s':>12} {'ours/bare':>9}")
    for fmt in FORMATS:
        o, b = fi.get(fmt), bare.get(fmt)
        if not fi:
            w("   per-format ingests: not run (--skip formats)")
            break
        if not o:
            w(f"   {FORMAT_LABEL[fmt]:<11} (no files of this format)")
            continue
        ratio = o["rows_s"] / b["rows_s"] if b else None
        w(f"   {FORMAT_LABEL[fmt]:<11} {o['files']:>5} {o['rows']:>10,} {o['seconds']:>8.2f} {_n(o['rows_s']):>12} "
          f"{_n(o['read_rows_s']):>12} {_n(o['read_normalise_rows_s']):>12} {o['cpu_s'] / o['seconds']:>8.2f} │ "
          f"{BARE_LABEL[fmt]:<26} "
          f"{_n(b and b['rows_s']):>12} {_n(ratio, 2):>9}")
    if fi:
        w(f"   (references first, once: {fi['references_s']:.2f} s; per-format runs ingest into a copy of that home)")
        w("   phase seconds per format: " + "; ".join(
            f"{FORMAT_LABEL[f]}: " + ", ".join(f"{k} {v:.2f}" for k, v in fi[f]["phases"].items() if v >= 0.005)
            for f in FORMATS if fi.get(f)))
    aborted = full.get("aborted")
    if aborted:
        w(f"   whole folder (child process): ABORTED — {aborted}")
    else:
        how = f"{len(full['batches'])} batches (a child process each)" if full.get("batches") else "one batch (child process)"
        w(f"   whole folder, {how}: {full['files_loaded']} files, {full['rows_read']:,} rows in "
          f"{full['seconds']:.1f} s = {_n(full['rows_read'] / full['seconds'])} rows/s "
          f"(cpu/wall {full['cpu_s'] / full['seconds']:.2f}; +{full['import_seconds']:.1f} s imports; process wall "
          f"{full['process_wall_s']:.1f} s)")
        tot = full["seconds"]
        w("   phases: " + ", ".join(f"{k} {v:.1f} s ({100 * v / tot:.0f}%)" for k, v in full["phases"].items()
                                     if v >= 0.05))
        for i, b in enumerate(full.get("batches") or [], start=1):
            w(f"   batch {i}: {b['files']} files, {b['rows_read']:,} rows, {b['seconds']:.0f} s = {_n(b['rows_s'])} rows/s, "
              f"peak RSS {b['peak_rss_bytes'] / 2**30:.2f} GiB ({b['sampled_peak_phase']}); rebuild "
              f"{b['phases']['rebuild']:.0f} s, validate {b['phases']['validate']:.0f} s")
    not_run = ("   not run: the whole-folder ingest was aborted (see 1.)" if aborted else "   not run (--skip)")

    v = r["validation"]
    w("\n2. Validation alone: Great Expectations suites, one run per source over all its rows")
    if v is None:
        w(not_run)
    else:
        w("   DuckDB SQL route (the ingest's: suite columns streamed as Arrow into GX's in-memory DuckDB, copy "
          "included) beside the pandas route before #12 (frame fetched first, fetch apart)")
        w(f"   {'source':<12} {'rows':>10} {'exp.':>5} {'SQL s':>7} {'SQL cpu':>7} {'SQL rows/s':>11} "
          f"{'100-row':>7} {'pandas s':>8} {'pd cpu':>7} {'pd rows/s':>10} {'100-row':>7} {'fetch s':>7} "
          f"{'ratio':>6} {'counts':>7}")
        for kind, k in v["kinds"].items():
            w(f"   {kind:<12} {k['rows']:>10,} {k['expectations']:>5} {k['sql_s']:>7.2f} {k['sql_cpu_s']:>7.2f} "
              f"{_n(k['sql_rows_s']):>11} {k['sql_100_rows_s']:>7.2f} {k['gx_s']:>8.2f} {k['gx_cpu_s']:>7.2f} "
              f"{_n(k['rows_s']):>10} {k['gx_100_rows_s']:>7.2f} {k['fetch_s']:>7.2f} "
              f"{k['gx_s'] / k['sql_s']:>5.1f}× {'same' if k['same_counts'] else 'DIFFER':>7}")
        w(f"   visits+events+points: {v['fact_rows']:,} rows — SQL route {v['fact_sql_s']:.2f} s = "
          f"{_n(v['fact_rows_s'])} rows/s; pandas route {v['fact_gx_s']:.2f} s = {_n(v['fact_pandas_rows_s'])} rows/s "
          f"(GX alone, fetch apart)")

    mt = r["marts"]
    w("\n3. Marts: rebuild all (build_marts on a copy of the warehouse)")
    if mt is None:
        w(not_run)
    else:
        w(f"   {mt['seconds']:.2f} s (cpu {mt['cpu_s']:.2f} s, all threads) · rows in {mt['rows_in_total']:,} ("
          + ", ".join(f"{t} {n:,}" for t, n in mt["rows_in"].items()) + ")")
        w("   rows out " + f"{mt['rows_out_total']:,} (" + ", ".join(f"{t} {n:,}" for t, n in mt["rows_out"].items())
          + f"); intermediates {sum(mt['intermediate_rows'].values()):,} rows")

    q = r["queries"]
    if q is None:
        w("\n4. Dashboard queries")
        w(not_run)
    else:
        w(f"\n4. Dashboard queries ({q['scope']}, period {q['period']}, ×{q['repeat']}, one cursor per query, no cache)")
        w(f"   {'page':<9} {'query':<28} {'p50 ms':>8} {'p95 ms':>8} {'rows':>7}")
        for row in q["queries"]:
            if row["error"]:
                w(f"   {row['page']:<9} {row['query']:<28} failed: {row['error']}")
            else:
                w(f"   {row['page']:<9} {row['query']:<28} {row['p50_ms']:>8.1f} {row['p95_ms']:>8.1f} {row['rows']:>7,}")
        okq = [x for x in q["queries"] if x["p95_ms"] is not None]
        w(f"   {sum(x['p95_ms'] <= TARGETS['query_p95_ms'] for x in okq)} of {len(okq)} queries with p95 ≤ "
          f"{TARGETS['query_p95_ms']:.0f} ms")
        w("   page loads (sum of their queries): " + ", ".join(
            f"{p} {d['p50_ms']:.0f}/{d['p95_ms']:.0f}" for p, d in q["pages"].items()) + " ms (p50/p95)")

    base = r.get("baseline")
    w("\n5. Naive baseline (pandas read_csv/read_excel(openpyxl), row-by-row Python validation, SQLite, pandas groupby)")
    if not base:
        w("   not run (--no-baseline / --skip)")
    else:
        if base.get("cap_rows_per_format"):
            w(f"   at most ~{base['cap_rows_per_format']:,} rows per format (rates; see README)")
        w(f"   {'format':<11} {'rows':>10} {'base s':>8} {'read s':>7} {'valid. s':>8} {'insert s':>8} "
          f"{'base rows/s':>12} {'ours rows/s':>12} {'ours/base':>9}")
        for fmt in FORMATS:
            b, o = base.get(fmt), fi.get(fmt)
            if not b:
                continue
            w(f"   {FORMAT_LABEL[fmt]:<11} {b['rows']:>10,} {b['seconds']:>8.2f} {b['read_s']:>7.2f} "
              f"{b['validate_s']:>8.2f} {b['insert_s']:>8.2f} {_n(b['rows_s']):>12} {_n(o and o['rows_s']):>12} "
              f"{_n(b.get('ours_over_baseline'), 1):>9}")
        bm = base["marts"]
        w(f"   marts: baseline {bm['indicators']} village-month indicators from {bm['rows_in']:,} rows in "
          f"{bm['seconds']:.2f} s ({_n(bm['rows_in_s'])} rows in/s, {bm['rows_out']:,} rows out); ours all "
          f"marts {_n(mt and mt['rows_in_s'])} rows in/s → ours/base {_n(base['marts_ratio'], 1)}×")
        w(f"   end to end (references + ingest + marts): baseline {_n(base['e2e_rows_s'])} rows/s, ours "
          f"{_n(base['ours_e2e_rows_s'])} rows/s → ours/base {_n(base['e2e_ratio'], 1)}×")

    w("\n6. Memory")
    w(f"   whole-folder ingest process peak RSS {full['peak_rss_bytes'] / 2**20:,.0f} MiB"
      + (f" (after imports {full['rss_after_imports_bytes'] / 2**20:,.0f} MiB)" if not aborted else " (aborted there)")
      + f"; sampled peak during phase '{full['sampled_peak_phase']}'; DuckDB memory_limit {full['memory_limit']}")
    w("   peak RSS by phase (MiB): " + ", ".join(
        f"{p} {b / 2**20:,.0f}" for p, b in sorted(full["sampled_peak_by_phase_bytes"].items(), key=lambda kv: -kv[1])))

    if aborted:
        w(f"\n7. Scale: {m['rows']:,} rows ({m['fact_rows']:,} visit+event rows): whole-folder ingest ABORTED ({aborted})")
    else:
        w(f"\n7. Scale: {full['rows_read']:,} rows ({m['fact_rows']:,} visit+event rows) ingested at "
          f"{_n(full['rows_read'] / full['seconds'])} rows/s, peak RSS {full['peak_rss_bytes'] / 2**30:.2f} GiB; "
          f"published copy {r['published_mb']:,.0f} MB")

    L += render_incremental(r.get("incremental"))

    w("\nTargets (issues #8 and #12)")
    for t in r["targets"]:
        mark = {True: "met", False: "MISSED", None: "n/a"}[t["met"]]
        op = "≥" if t["higher_is_better"] else "≤"
        val = "—" if t["value"] is None else (f"{t['value']:,.2f}" if t["value"] < 100 else f"{t['value']:,.0f}")
        goal = f"{t['goal']:,.2f}" if t["goal"] < 100 else f"{t['goal']:,.0f}"
        w(f"   {t['target']:<46} {val:>12} {t['unit']:<6} (target {op} {goal}) {mark}")
    return "\n".join(L)


# ------------------------------------------------------------------------------------------ main

def machine() -> dict:
    import psutil

    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "mem_gib": psutil.virtual_memory().total / 2**30,
            "python": platform.python_version(), "platform": platform.platform()}


def git_commit() -> str | None:
    """The checkout the figures belong to (+ 'dirty' when pipelines/ has uncommitted changes)."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True,
                              text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "pipelines"], cwd=REPO, capture_output=True,
                               text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return (head + (" dirty" if dirty else "")) or None


def versions() -> dict:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for p in ("duckdb", "polars", "pandas", "pyarrow", "great_expectations", "fastexcel", "openpyxl"):
        try:
            out[p] = version(p)
        except PackageNotFoundError:
            out[p] = None
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", choices=("tiny", "small", "county", "province"), default="small")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--data", type=Path, help="generated exports to use (generated into it when empty)")
    ap.add_argument("--work", type=Path, help="work folder (default: a temp dir)")
    ap.add_argument("--keep", action="store_true", help="keep the work folder (exports, warehouses)")
    ap.add_argument("--repeat", type=int, default=20, help="calls per dashboard query")
    ap.add_argument("--incremental-repeats", type=int, default=3,
                    help="timed runs of each month in section 8 (the median is shown)")
    ap.add_argument("--history-months-per-ingest", type=int, default=12,
                    help="section 8 loads each month's history in ingests of this many months "
                         "(1: month by month)")
    ap.add_argument("--memory-limit", help="DuckDB memory limit for ingest (XIANGZHI_MEMORY_LIMIT; default " + DEFAULT_MEMORY_LIMIT + ")")
    ap.add_argument("--baseline-rows", type=int, help="cap rows per format for the naive baseline")
    ap.add_argument("--no-baseline", action="store_true")
    ap.add_argument("--batches", type=int, default=1,
                    help="ingest the whole folder as N successive batches (export-time order), each its own process")
    ap.add_argument("--rss-cap-gb", type=float, default=14.0,
                    help="abort the whole-folder ingest beyond this RSS (shared machine; default 14)")
    ap.add_argument("--json", type=Path, help="where to save the results JSON (default benchmarks/results/)")
    ap.add_argument("--skip", default="", help="comma-separated sections to leave out: formats (with the bare "
                    "engine), validation, marts, queries, baseline, incremental (the whole-folder ingest always runs)")
    a = ap.parse_args(argv)
    if a.incremental_repeats < 1 or a.history_months_per_ingest < 1:
        ap.error("--incremental-repeats and --history-months-per-ingest must be at least 1")
    todo = {"formats", "validation", "marts", "queries", "baseline", "incremental"} - set(filter(None, a.skip.split(",")))

    os.environ.setdefault("XIANGZHI_SECRET", "benchmark-secret")
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    if a.memory_limit:
        os.environ["XIANGZHI_MEMORY_LIMIT"] = a.memory_limit
    work = a.work or Path(tempfile.mkdtemp(prefix=f"xiangzhi-bench-{a.scale}-"))
    work.mkdir(parents=True, exist_ok=True)
    data = a.data or work / "data"
    started = datetime.now()
    r: dict = {"meta": {"scale": a.scale, "seed": a.seed, "started": started.isoformat(timespec="seconds"),
                        "machine": machine(), "versions": versions(), "loadavg_start": loadavg(),
                        "memory_limit": os.environ.get("XIANGZHI_MEMORY_LIMIT", f"{DEFAULT_MEMORY_LIMIT} (default)"),
                        "argv": sys.argv[1:], "commit": git_commit()}}
    try:
        manifest = ensure_data(a.scale, a.seed, data)
        groups = group_files(manifest)
        r["meta"].update(files=len(manifest["files"]), rows=manifest["totals"]["rows_read"],
                         size_mb=manifest["totals"]["size_bytes"] / 1e6,
                         fact_rows=sum(f["rows_read"] for f in manifest["files"] if f["kind"] in FACT_KINDS),
                         data=str(data))
        full_home = work / "home_full"
        shutil.rmtree(full_home, ignore_errors=True)
        if a.batches > 1:
            r["full"] = batched_ingest(data, manifest, full_home, dict(os.environ), a.batches, a.rss_cap_gb)
        else:
            r["full"] = full_ingest(data, full_home, dict(os.environ), a.rss_cap_gb)
        shutil.rmtree(full_home / "raw", ignore_errors=True)  # raw copies: not needed any more, can be GBs
        published = full_home / "published" / "xiangzhi.duckdb"
        warehouse = full_home / "warehouse" / "xiangzhi.duckdb"
        ok = "aborted" not in r["full"]
        r["published_mb"] = published.stat().st_size / 1e6 if ok else None
        r["formats"] = format_ingests(data, groups, manifest, work) if "formats" in todo else {}
        r["bare"] = bare_reads(data, groups, work) if "formats" in todo else {}
        # Sections 2-4 read the whole-folder warehouse; without it they are reported as not run.
        r["validation"] = validation(warehouse) if ok and "validation" in todo else None
        r["marts"] = marts(warehouse, work) if ok and "marts" in todo else None
        r["queries"] = queries(published, a.repeat) if ok and "queries" in todo else None
        if not a.no_baseline and "baseline" in todo:
            cap = a.baseline_rows if a.baseline_rows is not None else BASELINE_CAP.get(a.scale)
            r["baseline"] = naive(data, manifest, groups, work, cap)
        r["incremental"] = (incremental(data, manifest, work, dict(os.environ), a.rss_cap_gb,
                                        setup_months_per_batch=a.history_months_per_ingest,
                                        repeats=a.incremental_repeats)
                            if "incremental" in todo else None)
        ratios(r)
        r["targets"] = evaluate(r)
        r["meta"]["loadavg_end"] = loadavg()
        r["meta"]["seconds"] = (datetime.now() - started).total_seconds()
        text = render(r)
        print(text)
        RESULTS.mkdir(exist_ok=True)
        out = a.json or RESULTS / f"{a.scale}-{started:%Y%m%dT%H%M%S}.json"
        r["table"] = text
        out.write_text(json.dumps(r, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
        log(f"saved {out}")
    finally:
        if not a.keep and a.work is None:
            shutil.rmtree(work, ignore_errors=True)
        elif a.keep:
            log(f"kept work folder {work}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
