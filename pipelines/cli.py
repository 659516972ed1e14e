"""`xiangzhi` command line (SPEC §9): thin — parse, call, print. Heavy imports stay inside commands."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pipelines.errors import UserError  # noqa: F401  (re-exported: older scripts import it from here)


def _cmd_generate(a: argparse.Namespace) -> int:
    from pipelines.generate import generate

    summary = generate(scale=a.scale, seed=a.seed, out=Path(a.out), dirty=a.dirty, county=a.county)
    print(summary)
    return 0


def _cmd_reference(a: argparse.Namespace) -> int:
    from pipelines.generate.reference import write_reference

    print(write_reference(county=a.county, out=Path(a.out)))
    return 0


def _cmd_ingest(a: argparse.Namespace) -> int:
    if a.status or a.scope:  # the upload page's background child (pipelines/uploads.py)
        from pipelines.uploads import run_ingest

        return run_ingest([Path(p) for p in a.paths], Path(a.status) if a.status else None, a.scope)
    return ingest_cli([Path(p) for p in a.paths], quiet=a.quiet)


def _cmd_report(a: argparse.Namespace) -> int:
    from pipelines.report import build_pack, build_worker_sheets

    # grid workers (page 8): `report workers` / `--workers-only` writes just the 张榜公示 sheets
    build = build_worker_sheets if (a.what == "workers" or a.workers_only) else build_pack
    for p in build(period=a.period, township=a.township, out=Path(a.out) if a.out else None):
        print(p)
    return 0


def _cmd_dashboard(a: argparse.Namespace) -> int:
    from pipelines.serve import run

    return run(port=a.port, host=a.host, lake=a.lake)


def _cmd_demo(a: argparse.Namespace) -> int:
    from pipelines.demo import run_demo

    return run_demo(port=a.port, open_dashboard=not a.no_dashboard, show_report=print_report)


# --- accounts: `xiangzhi users` (SPEC §9; pipelines/users.py) --------------------------------

def _cmd_users(a: argparse.Namespace) -> int:
    from pipelines import users

    if a.action == "add":
        u = users.add_user(a.name, a.role, a.scope, display_name=a.display_name)
        print(f"已添加账号 added user {u.username} ({u.role} {u.scope_code})")
    elif a.action == "passwd":
        users.change_password(a.name)
        print(f"已修改密码 password changed for {a.name}")
    elif a.action == "remove":
        users.remove_user(a.name)
        print(f"已删除账号 removed user {a.name}")
    else:
        rows = users.list_users()
        print(f"{'用户名 name':<16}{'角色 role':<12}{'权限 scope':<14}{'最近登录 last sign-in':<24}显示名 display name")
        for r in rows:
            last = r["last_sign_in"] or "从未 never"
            lock = f"  [锁定至 locked until {r['locked_until']}]" if r["locked_until"] else ""
            print(f"{r['username']:<16}{r['role']:<12}{r['scope']:<14}{last:<24}{r['display_name']}{lock}")
    return 0


def _add_users_parser(sub) -> None:
    u = sub.add_parser("users", help="dashboard accounts: add, passwd, list, remove (passwords are asked for)")
    us = u.add_subparsers(dest="action", required=True)
    add = us.add_parser("add", help="add an account (the password is asked for twice)")
    add.add_argument("name")
    # no argparse choices: the roles are pipelines.warehouse.USER_ROLES (its import is heavy), checked
    # with the scope in users.role_scope_problem, whose refusal lists them in Chinese then English
    add.add_argument("--role", required=True, help="county, township, village, clerk or province")
    add.add_argument("--scope", required=True, help="division code: county 6, township 9, village 12 digits "
                     "(clerk: 6 or 9; province: 2, for the lake view)")
    add.add_argument("--display-name", help="name shown in the dashboard (default: the user name)")
    pw = us.add_parser("passwd", help="set a new password (asked for twice); lifts a lock")
    pw.add_argument("name")
    us.add_parser("list", help="name, role, scope, last sign-in")
    rm = us.add_parser("remove", help="remove an account")
    rm.add_argument("name")
    u.set_defaults(func=_cmd_users)
# --- lake (SPEC §4.1, issue #17): the contract as a Parquet lake, marts on DuckDB or Spark ---
def _cmd_lake_export(a: argparse.Namespace) -> int:
    from pipelines.lake.export import export_county, summary

    print(summary(export_county(Path(a.dir), Path(a.published) if a.published else None), Path(a.dir)))
    return 0


def _cmd_lake_marts(a: argparse.Namespace) -> int:
    from pipelines.lake.marts import build

    out = Path(a.out) if a.out else Path(a.dir)
    report = build(Path(a.dir), engine=a.engine, out=out, master=a.master, counties=a.county or None)
    print(report.summary(out))
    return 0


def _add_lake(sub) -> None:
    lk = sub.add_parser("lake", help="the published contract as a Parquet lake; marts on DuckDB or Spark")
    lsub = lk.add_subparsers(dest="lake_command", required=True)
    le = lsub.add_parser("export", help="write this county's published copy into the lake (replaces its partitions)")
    le.add_argument("dir", help="lake folder (created if missing)")
    le.add_argument("--published", help="published copy to export (default $XIANGZHI_HOME/published/xiangzhi.duckdb)")
    le.set_defaults(func=_cmd_lake_export)
    lm = lsub.add_parser("marts", help="compute the marts from the lake's core tables")
    lm.add_argument("dir", help="lake folder")
    lm.add_argument("--engine", choices=["duckdb", "spark"], default="duckdb")
    lm.add_argument("--master", help="Spark master URL (default local[*]; under spark-submit, its master)")
    lm.add_argument("--out", help="write the marts here instead of into the lake itself")
    lm.add_argument("--county", action="append", help="only this county (repeatable; default all)")
    lm.set_defaults(func=_cmd_lake_marts)


def _cmd_raw_prune(a: argparse.Namespace) -> int:
    from pipelines.raw_store import prune, retention_days

    days = retention_days(a.older_than)
    res = prune(days, dry_run=a.dry_run)
    verb = "将删除 would remove" if a.dry_run else "已删除 removed"
    print(f"{verb} {len(res.removed)} 批原始副本 raw batches older than {days:g} days "
          f"({res.freed_bytes / 2**20:,.1f} MB); 保留 kept {res.kept}")
    for name in res.removed:
        print(f"  {name}")
    return 0


# --- import profiles (SPEC §3.8, issue #11) ---------------------------------------------------------


def _cmd_profile(a: argparse.Namespace) -> int:
    from pipelines.profiles import commands

    if a.profile_command == "suggest":
        return commands.suggest_cmd(Path(a.file), Path(a.out) if a.out else None)
    if a.profile_command == "check":
        return commands.check_cmd(Path(a.profile), Path(a.file) if a.file else None)
    return commands.list_cmd()


def _add_profile_parser(sub) -> None:
    pr = sub.add_parser("profile", help="import profiles for other systems' exports: suggest | check | list")
    psub = pr.add_subparsers(dest="profile_command", required=True)
    s = psub.add_parser("suggest", help="draft a profile for a file no profile recognises")
    s.add_argument("file")
    s.add_argument("--out", help="write the draft here (default: print it)")
    c = psub.add_parser("check", help="validate a profile; with FILE, show what it would load")
    c.add_argument("profile")
    c.add_argument("file", nargs="?")
    psub.add_parser("list", help="installed profiles (built-in, shipped, the office's own)")
    pr.set_defaults(func=_cmd_profile)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="xiangzhi", description="乡治 grassroots-governance analytics")
    sub = p.add_subparsers(dest="command", required=True)

    g = sub.add_parser("generate", help="write a synthetic county's exports (SPEC §3) with a manifest")
    g.add_argument("--scale", choices=["small", "county", "province"], default="small")
    g.add_argument("--seed", type=int, default=1)
    g.add_argument("--out", required=True, help="output folder")
    g.add_argument("--dirty", type=float, default=0.01, help="share of bad rows injected (default 0.01)")
    g.add_argument("--county", help="6-digit code of the fictional county (default 360739; another code: another county)")
    g.set_defaults(func=_cmd_generate)

    r = sub.add_parser("reference", help="admin-units file for a real county from the official division table")
    r.add_argument("--county", required=True, help="6-digit county code, e.g. 360726")
    r.add_argument("--out", required=True, help="CSV or XLSX file to write")
    r.set_defaults(func=_cmd_reference)

    i = sub.add_parser("ingest", help="load exports (files or folders; default: the inbox)")
    i.add_argument("paths", nargs="*")
    i.add_argument("--quiet", action="store_true", help="no progress bar")
    # upload page (pipelines/uploads.py): phase and summary to a status file; refuse out-of-scope files
    i.add_argument("--status", help="write phase, progress and the per-file summary to this JSON file")
    i.add_argument("--scope", help="division code: refuse whole any file holding rows outside it")
    i.set_defaults(func=_cmd_ingest)

    rp = sub.add_parser("report", help="monthly meeting pack (PDF + XLSX)")
    rp.add_argument("--period", required=True, help="YYYY-MM")
    rp.add_argument("--township", help="9-digit township code (default: whole county)")
    rp.add_argument("--out", help="output folder (default $XIANGZHI_HOME/reports)")
    # grid workers (page 8): the posting sheets alone
    rp.add_argument("what", nargs="?", choices=["pack", "workers"], default="pack",
                    help="pack (default) or workers: only the grid workers' 张榜公示 sheets")
    rp.add_argument("--workers-only", action="store_true", help="same as `report workers`")
    rp.set_defaults(func=_cmd_report)

    d = sub.add_parser("dashboard", help="start the dashboard")
    d.add_argument("--port", type=int, default=8501)
    d.add_argument("--host", default="127.0.0.1")
    d.add_argument("--lake", metavar="DIR", help="open on a Parquet lake's marts: 省级总览 province view (SPEC §4.1)")
    d.set_defaults(func=_cmd_dashboard)

    dm = sub.add_parser("demo", help="generate small data, ingest it and open the dashboard")
    dm.add_argument("--port", type=int, default=8501)
    dm.add_argument("--no-dashboard", action="store_true", help="stop after ingest")
    dm.set_defaults(func=_cmd_demo)

    _add_users_parser(sub)  # accounts (pipelines/users.py)
    _add_lake(sub)  # lake (SPEC §4.1)

    rw = sub.add_parser("raw", help="the raw copies of the exports (personal data in clear)")
    rw_sub = rw.add_subparsers(dest="raw_command", required=True)
    pr = rw_sub.add_parser("prune", help="remove raw copies older than the retention (re-judging never needs them)")
    pr.add_argument("--older-than", help="days (default $XIANGZHI_RAW_RETENTION_DAYS or 365)")
    pr.add_argument("--dry-run", action="store_true", help="list what would go, remove nothing")
    pr.set_defaults(func=_cmd_raw_prune)

    _add_profile_parser(sub)  # import profiles (issue #11)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except UserError as e:
        print(f"错误 / error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("已中断 / interrupted", file=sys.stderr)
        return 130


# --- ingest: the summary printed after `xiangzhi ingest` (moved here from pipelines/load.py) ---

SUMMARY_WIDTH = 100  # the clerk's summary fits a 100-column terminal or log (#14 defect 10)
QUARANTINE_ROWS_PRINTED = 5  # per file: the first quarantined rows (all of them are on 数据质量)


def wide_console():
    """At most SUMMARY_WIDTH columns: a narrower terminal keeps its width, piped output gets 100."""
    from rich.console import Console

    c = Console()
    return Console(width=min(c.width, SUMMARY_WIDTH)) if c.is_terminal else Console(width=SUMMARY_WIDTH)


def _quarantined(report) -> dict[str, list[dict]]:
    """file name → its quarantined rows of this batch in row order (sheet, row, reason with the field and the
    value as the warehouse holds them: names masked, ids hashed), read from the published copy."""
    import duckdb

    from pipelines import warehouse as wh

    if not report.batch_id or not report.published:
        return {}
    try:
        with duckdb.connect(str(report.published), read_only=True) as con:
            county = wh.first_units(con)["county"]["code"]
            rows = wh.batch_quarantine(wh.Scope("county", county), report.batch_id, con=con)
    except (duckdb.Error, TypeError, KeyError):  # no published copy to read: the counts above still stand
        return {}
    out: dict[str, list[dict]] = {}
    for r in rows.sort_values(["file_name", "sheet", "row_number"], na_position="first").to_dict("records"):
        out.setdefault(r["file_name"], []).append(r)
    return out


def print_report(report, console=None) -> None:
    """What changed in this run, file by file; the unchanged files in one line; then the totals."""
    import re

    from rich.text import Text

    console = console or wide_console()

    def say(text: str, indent: int = 0, style: str = "") -> None:
        # wrapped by rich (a Chinese character is two columns), printed without trailing padding
        for line in Text(text).wrap(console, max(console.width - indent, 20)):
            console.print(" " * indent + line.plain.rstrip(), style=style or None, highlight=False,
                          markup=False, soft_wrap=True)

    say(f"导入结果 ingest summary · 批次 batch {report.batch_id or '（无新文件 nothing new）'}", style="bold")
    rows_of = _quarantined(report)
    changed = [f for f in report.files if f.status != "unchanged"]
    for f in changed:
        if f.status == "rejected":
            say(f"✗ 拒收 rejected  {f.file_name}", style="red")
            say(f.reason or "", 4)
            continue
        say(f"✓ 载入 loaded  {f.file_name}（{f.source_kind or '—'}）")
        say(f"读取 read {f.rows_read:,} = 载入 loaded {f.rows_loaded:,} + 隔离 quarantined {f.rows_quarantined:,}"
            f" + 重复 dup {f.rows_duplicate:,} + 非数据 non-data {f.rows_non_data:,}", 4)
        if f.reason:
            say(f"说明 note: {f.reason}", 4)
        if f.by_reason:
            say("隔离原因 reasons: " + ", ".join(f"{k} {v:,}" for k, v in f.by_reason.items()), 4)
        # rows made empty by a column the file lacks are said once, in the note above, not row by row
        absent = re.findall(r"“([^”]+)”", f.reason.split("缺少必填列", 1)[1].split("，", 1)[0]) \
            if f.reason and "缺少必填列" in f.reason else []
        shown = [r for r in rows_of.get(f.file_name, [])
                 if not (r["reason_code"] == "MISSING_REQUIRED"
                         and any(f"{h}为空" in (r["reason_detail"] or "") for h in absent))]
        left, shown = len(shown), shown[:QUARANTINE_ROWS_PRINTED]
        if shown:
            say(f"隔离行 quarantined rows（前 {len(shown)} 行 first {len(shown)} of {left:,}）:", 4)
            for r in shown:
                sheet = f"工作表 sheet {r['sheet']} · " if r.get("sheet") else ""
                say(f"{sheet}第 {int(r['row_number'])} 行 row: {r['reason_detail'] or r['reason_code']}", 6)
    unchanged = sum(f.status == "unchanged" for f in report.files)
    if unchanged:
        say(f"{unchanged} 个文件未变 / {unchanged} unchanged (已导入过 already loaded)", style="dim")
    loaded = [f for f in report.files if f.status == "loaded"]
    rejected = sum(f.status == "rejected" for f in report.files)
    rows = sum(f.rows_read for f in loaded)
    rate = rows / report.seconds if report.seconds else 0
    say(f"合计 total: 文件 files {len(loaded)} 载入 loaded · {rejected} 拒收 rejected · {unchanged} 未变 unchanged")
    say(f"行 rows: 读取 read {rows:,} = 载入 loaded {sum(f.rows_loaded for f in loaded):,}"
        f" + 隔离 quarantined {sum(f.rows_quarantined for f in loaded):,}"
        f" + 重复 dup {sum(f.rows_duplicate for f in loaded):,}"
        f" + 非数据 non-data {sum(f.rows_non_data for f in loaded):,} · {report.seconds:.1f} s ({rate:,.0f} rows/s)")
    if report.published:
        say(f"已发布 published: {report.published}")


def ingest_cli(paths: list[Path], quiet: bool = False) -> int:
    import duckdb
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from pipelines.load import IngestError, ingest

    console = wide_console()
    try:
        if quiet or not console.is_terminal:
            report = ingest(paths)
        else:
            with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                          TimeElapsedColumn(), console=console, transient=True) as progress:
                report = ingest(paths, progress=progress)
    except (IngestError, UserError) as e:
        console.print(f"[red]错误 error:[/red] {e}")
        return 2
    except duckdb.Error as e:  # a defect or the database engine's own, never the clerk's files
        first = str(e).strip().splitlines()[0][:300] if str(e).strip() else type(e).__name__
        from rich.text import Text

        console.print("[red]错误 error:[/red]", Text(
            "数据库出错，本批未完成，已发布的数据保持不变；请把下面这行报告给维护人员 / a database error: this batch "
            f"did not complete and the published copy is unchanged; please report this line: "
            f"{type(e).__name__}: {first}"))
        return 3
    print_report(report, console)
    return 0


if __name__ == "__main__":
    sys.exit(main())
