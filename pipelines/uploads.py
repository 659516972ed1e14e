"""Browser uploads (page 11 数据导入): files land in the inbox under a batch folder and the ingest runs
in a separate process, `xiangzhi ingest --status FILE --scope CODE FOLDER`, which writes its phase to a
status file the page reads. The page never runs an ingest in its own (Streamlit) process.

One upload lives in ``$XIANGZHI_HOME/uploads/<id>/``: ``meta.json`` (who, which scope, which files),
``status.json`` (written by the child: phase, progress, then the per-file summary or why it failed),
``log.txt`` (the child's output) and ``quarantine.xlsx`` (this upload's quarantined rows).
The files themselves go to ``inbox/upload-<id>/``, so a later plain `xiangzhi ingest` sees them too
(and skips them: same content hash).

Scope rule (a clerk uploads for its township or county only): before the ingest, every row of every
file is placed in a division from its codes (grid, village, admin code; a household's village from
the published registry; a dispute's township or village name). A file holding any row outside the
uploader's scope is refused whole, with the rows named, and never reaches the warehouse: loading
part of it would mark the file as seen (by content hash) and the county could not load the other
township's rows from it later. Rows whose division cannot be told (empty or unknown codes) go on to
the ingest, which quarantines them with the ordinary reason.

Only one ingest runs at a time: ``uploads/running.json`` is created exclusively before the child
starts and removed when it ends; a second upload is told to wait. A failed ingest has rolled back
(pipelines.load: one transaction, publish by rename), and its inbox folder is removed, so everything
is as before.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from datetime import datetime
from pathlib import Path

from pipelines import config
from pipelines.errors import UserError

UPLOAD_TYPES = ("csv", "xlsx", "xls", "jsonl", "geojson")
MAX_UPLOAD_MB = 200  # per file; page 11 states it and st.file_uploader enforces it
FAULTY_FIELD_SEP = "、"

# Phases the page shows, in order, with the share of the bar each one ends at.
PHASES = (
    ("scope", 0.10, "检查数据范围", "checking scope"),
    ("read", 0.60, "读取与暂存", "reading & staging"),
    ("build", 0.95, "校验、建模与发布", "validating, building & publishing"),
    ("quarantine", 1.00, "导出隔离行", "writing quarantined rows"),
)
PHASE_END = {p[0]: p[1] for p in PHASES}


class Busy(UserError):
    """Another ingest is running."""


def uploads_dir() -> Path:
    return config.paths().home / "uploads"


def _running_file() -> Path:
    return uploads_dir() / "running.json"


def _write_json(path: Path, data: dict) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
    os.replace(tmp, path)  # the page never reads a half-written status


def read_json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return None


# ---------------------------------------------------------------------------------------------
# the page's side: start an upload, follow it

_children: dict[str, subprocess.Popen] = {}  # reaped by running() so no zombie keeps a pid alive


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def running() -> dict | None:
    """The upload now ingesting ({'upload_id', 'pid', 'username', 'scope'}), or None. A marker left by
    a child that died without cleaning up is removed."""
    for uid, proc in list(_children.items()):
        if proc.poll() is not None:
            del _children[uid]
    info = read_json(_running_file())
    if info is None:
        return None
    if not info.get("pid") or not _alive(int(info["pid"])):
        st = status(info["upload_id"]) or {}
        if st.get("state") not in ("done", "failed"):  # died mid-way: say so on its own page
            _write_json(uploads_dir() / info["upload_id"] / "status.json",
                        {**st, "state": "failed", "message": "导入进程意外退出 / the ingest process exited unexpectedly"})
        with contextlib.suppress(FileNotFoundError):
            _running_file().unlink()
        return None
    return info


def _safe_name(name: str) -> str:
    name = Path(name).name.replace("\x00", "")
    return name if name and name not in (".", "..") else "file"


def start(files: list[tuple[str, bytes]], username: str, scope_code: str) -> str:
    """Save the files in a new inbox batch folder and start the ingest child; return the upload id.
    Raises Busy when an ingest is already running, UserError for no or unsupported files."""
    if not files:
        raise UserError("没有选择文件 / no files chosen")
    bad = [n for n, _ in files if Path(n).suffix.lower().lstrip(".") not in UPLOAD_TYPES]
    if bad:
        raise UserError(f"不支持的文件类型 / unsupported file type: {', '.join(bad)}")
    up = uploads_dir()
    up.mkdir(parents=True, exist_ok=True)
    uid = datetime.now().strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6]
    # Claim the one ingest slot atomically: a second upload in between gets FileExistsError.
    if running() is not None:
        raise Busy("已有数据正在导入，请等它完成后再上传 / another ingest is running: wait until it finishes")
    try:
        fd = os.open(_running_file(), os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    except FileExistsError:
        raise Busy("已有数据正在导入，请等它完成后再上传 / another ingest is running: wait until it finishes") from None
    os.close(fd)
    try:
        folder = config.paths().ensure().inbox / f"upload-{uid}"
        folder.mkdir(parents=True)
        names = []
        for name, data in files:
            target = folder / _safe_name(name)
            i = 1
            while target.exists():  # two files of the same name in one upload: keep both
                target = folder / f"{target.stem}_{i}{target.suffix}"
                i += 1
            target.write_bytes(data)
            names.append(target.name)
        d = up / uid
        d.mkdir()
        _write_json(d / "meta.json", {"upload_id": uid, "username": username, "scope": scope_code,
                                      "created": datetime.now().isoformat(timespec="seconds"),
                                      "folder": str(folder), "files": names})
        _write_json(d / "status.json", {"state": "starting", "phase": "scope", "fraction": 0.0})
        cmd = [sys.executable, "-m", "pipelines.cli", "ingest", "--quiet",
               "--status", str(d / "status.json"), "--scope", scope_code, str(folder)]
        env = {**os.environ, "XIANGZHI_HOME": str(config.home())}
        with open(d / "log.txt", "wb") as log:
            proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                    env=env, cwd=str(Path(__file__).resolve().parents[1]),
                                    start_new_session=True)
        _children[uid] = proc
        _write_json(_running_file(), {"upload_id": uid, "pid": proc.pid, "username": username,
                                      "scope": scope_code})
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            _running_file().unlink()
        raise
    return uid


def status(upload_id: str) -> dict | None:
    return read_json(uploads_dir() / upload_id / "status.json")


def meta(upload_id: str) -> dict | None:
    return read_json(uploads_dir() / upload_id / "meta.json")


def recent(scope_code: str, limit: int = 10) -> list[dict]:
    """Uploads made for this scope or inside it (newest first): what a clerk may look back on."""
    d = uploads_dir()
    if not d.exists():
        return []
    out = []
    for p in sorted(d.iterdir(), reverse=True):
        m = read_json(p / "meta.json") if p.is_dir() else None
        if m and str(m.get("scope", "")).startswith(scope_code):
            out.append(m)
        if len(out) >= limit:
            break
    return out


def quarantine_file(upload_id: str) -> Path:
    return uploads_dir() / upload_id / "quarantine.xlsx"


# ---------------------------------------------------------------------------------------------
# the child's side: `xiangzhi ingest --status FILE --scope CODE FOLDER`

class StatusWriter:
    """Writes the phase and progress to the status file; also serves as the ingest's `progress`
    (pipelines.load calls add_task/advance/update as rich's Progress has them)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path  # None: `xiangzhi ingest --scope` from a terminal, nothing to write
        self.state: dict = (read_json(path) if path else None) or {}
        self._tasks: dict[int, dict] = {}
        self._last = 0.0

    def set(self, flush: bool = True, **kw) -> None:
        self.state.update(kw, updated=datetime.now().isoformat(timespec="seconds"))
        now = time.monotonic()
        if self.path and (flush or now - self._last > 0.5):
            self._last = now
            _write_json(self.path, self.state)

    def phase(self, name: str, done: int = 0, total: int | None = None) -> None:
        start = 0.0
        for p, end, _zh, _en in PHASES:
            if p == name:
                break
            start = end
        frac = start + (PHASE_END[name] - start) * (done / total if total else 0.0)
        self.set(state="running", phase=name, done=done, total=total, fraction=round(frac, 3),
                 flush=not total or done in (0, total))

    # rich.Progress-like: the ingest's first task reads files, any later one validates and builds
    def add_task(self, description: str = "", total: float | None = None, **_kw) -> int:
        tid = len(self._tasks)
        self._tasks[tid] = {"phase": "read" if tid == 0 else "build", "total": total, "done": 0}
        self.phase(self._tasks[tid]["phase"], 0, int(total) if total else None)
        return tid

    def advance(self, task_id: int, advance: float = 1) -> None:
        t = self._tasks.get(task_id)
        if t:
            t["done"] += advance
            self.phase(t["phase"], int(t["done"]), int(t["total"]) if t["total"] else None)

    def update(self, task_id: int, **kw) -> None:
        t = self._tasks.get(task_id)
        if t and "completed" in kw:
            t["done"] = kw["completed"]
            self.phase(t["phase"], int(t["done"]), int(t["total"]) if t["total"] else None)

    def __getattr__(self, _name):  # any other Progress method the ingest may call: nothing to show
        return lambda *a, **k: None


def run_ingest(paths: list[Path], status_path: Path | None, scope_code: str | None) -> int:
    """The child: check scope, ingest what is in scope, write the summary and the quarantine XLSX.
    Exit 0 when it ran (rows may be quarantined, files refused), 2 when it could not."""
    from pipelines import load

    sw = StatusWriter(Path(status_path) if status_path else None)
    home = sw.path.parent if sw.path else None
    folder_of_upload = [p for p in paths if p.is_dir() and p.name.startswith("upload-")]
    try:
        files = _files(paths)
        refused: list[dict] = []
        if scope_code:
            lookups = _Lookups(scope_code)
            accepted = []
            for i, f in enumerate(files):
                sw.phase("scope", i, len(files))
                problem = out_of_scope(f, scope_code, lookups)
                if problem:
                    refused.append({"file_name": f.name, "reason": problem})
                    if home:
                        _move_out_of_inbox(f, home / "refused")
                else:
                    accepted.append(f)
            sw.phase("scope", len(files), len(files))
        else:
            accepted = files
        report = None
        if accepted:
            report = load.ingest(accepted, progress=sw)
        summary = [_file_summary(f) for f in (report.files if report else [])]
        folder_of_upload = []  # published from here on: a later failure must not undo the upload
        n_quarantine, q_error = 0, None
        if report and report.batch_id and home:
            sw.phase("quarantine")
            try:
                n_quarantine = write_quarantine_xlsx(report.batch_id, scope_code, home / "quarantine.xlsx")
            except Exception as e:  # noqa: BLE001 - the data is in; say the workbook failed, and why
                q_error = f"隔离行文件未能生成 / the quarantine workbook failed: {type(e).__name__}: {e}"
                print(q_error, file=sys.stderr)
        sw.set(state="done", phase="quarantine", fraction=1.0, batch_id=report.batch_id if report else None,
               files=summary, refused=refused, quarantine_rows=n_quarantine, quarantine_error=q_error,
               seconds=round(report.seconds, 1) if report else 0.0)
        print(json.dumps({"batch_id": report.batch_id if report else None, "files": summary,
                          "refused": refused}, ensure_ascii=False, default=str))
        return 0
    except (load.IngestError, UserError) as e:
        _fail(sw, str(e), folder_of_upload)
        print(f"错误 / error: {e}", file=sys.stderr)
        return 2
    except BaseException as e:  # noqa: BLE001 - the page must learn why; the traceback goes to log.txt
        _fail(sw, f"导入失败，数据未改变 / the ingest failed, nothing changed: {type(e).__name__}: {e}",
              folder_of_upload)
        raise
    finally:
        if home and home.parent == uploads_dir():
            info = read_json(_running_file())
            if info and info.get("upload_id") == home.name:
                with contextlib.suppress(FileNotFoundError):
                    _running_file().unlink()


def _files(paths: list[Path]) -> list[Path]:
    """The files to check for scope (the ingest itself vets every path again)."""
    out: list[Path] = []
    for p in paths:
        if p.is_dir():
            out += sorted(x for x in p.rglob("*") if x.is_file() and not x.name.startswith("."))
        else:
            out.append(p)
    return out


def _fail(sw: StatusWriter, message: str, folders: list[Path]) -> None:
    # the warehouse rolled back; take this upload's files out of the inbox too, so all is as before
    for d in folders:
        shutil.rmtree(d, ignore_errors=True)
    sw.set(state="failed", message=message)


def _move_out_of_inbox(f: Path, dest: Path) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(OSError):
        shutil.move(str(f), dest / f.name)


def _file_summary(f) -> dict:
    return {"file_name": f.file_name, "source_kind": f.source_kind, "status": f.status, "reason": f.reason,
            "rows_read": f.rows_read, "rows_loaded": f.rows_loaded, "rows_quarantined": f.rows_quarantined,
            "rows_duplicate": f.rows_duplicate, "rows_non_data": f.rows_non_data, "by_reason": f.by_reason}


# ---------------------------------------------------------------------------------------------
# scope of a file's rows

class _Lookups:
    """Divisions the published warehouse knows, for rows that name a household or a place by name."""

    def __init__(self, scope_code: str) -> None:
        from pipelines import warehouse as wh

        self.households: dict[str, str] = {}
        self.townships: dict[str, set[str]] = {}
        self.villages: dict[str, set[str]] = {}
        if wh.stamp() is None:
            return
        county = wh.Scope("county", scope_code[:6])  # the whole county: to tell whose a row is
        import polars as pl

        from pipelines.normalise import village_key_expr

        hh = wh.household_divisions(county)
        self.households = dict(zip(hh["household_key"], hh["village_code"], strict=True))
        units = pl.from_pandas(wh.unit_names(county)[["unit_code", "name", "level"]])
        units = units.filter(pl.col("level") != "grid").with_columns(village_key_expr(pl.col("name")).alias("key"))
        for code, key, level in units.select("unit_code", "key", "level").iter_rows():
            (self.townships if level == "township" else self.villages).setdefault(key, set()).add(code)


_DIGITS = re.compile(r"^\d{6,15}$")


def out_of_scope(path: Path, scope_code: str, lookups: _Lookups) -> str | None:
    """Why the file must be refused (rows outside the scope, named), or None."""
    import polars as pl

    from pipelines.normalise import normalise, village_key_expr
    from pipelines.privacy import keyed_hash
    from pipelines.readers import read_file

    res = read_file(path)
    if res.error or not res.source:
        return None  # the ingest rejects it with its own reason
    key = config.secret(create=True)
    kind = res.source.kind
    bad: list[str] = []
    n_bad = 0
    for sheet in res.sheets:
        if sheet.export_time is None:
            sheet.export_time = datetime.now()
        frame = normalise(res.source, sheet, key)
        cols = frame.columns
        if kind == "disputes":
            frame = frame.with_columns(
                village_key_expr(pl.col("township_name")).alias("_tk"),
                village_key_expr(pl.col("village_name")).alias("_vk"))
        for row in frame.iter_rows(named=True):
            where = _row_division(kind, row, cols, lookups, key, keyed_hash)
            if where is None:
                continue
            field, code = where
            if not code.startswith(scope_code):
                n_bad += 1
                if len(bad) < 3:
                    sheet_part = f"{row['_sheet']} " if row.get("_sheet") else ""
                    bad.append(f"{sheet_part}第{row['_row']}行 {field} {code}")
    if not n_bad:
        return None
    return (f"有{n_bad}行不属于本账号的范围（{scope_code}），如 {'；'.join(bad)}：整个文件未导入，"
            f"请只上传本辖区的数据 / {n_bad} rows lie outside your scope {scope_code}: the whole file "
            f"was not loaded")


def _row_division(kind, row, cols, lookups: _Lookups, key, keyed_hash) -> tuple[str, str] | None:
    """(field shown, division code) of a row when it can be told; None when it cannot."""
    for col, label in (("grid_code", "网格编码"), ("village_code", "村代码"), ("code", "区划代码")):
        if col in cols and row.get(col) and _DIGITS.match(str(row[col])):
            return label, str(row[col])
    if "household_id" in cols and row.get("household_id"):
        v = lookups.households.get(keyed_hash(str(row["household_id"]), key))
        if v:
            return "户编号", v
    if kind == "disputes":
        t = lookups.townships.get(row.get("_tk") or "")
        if t and len(t) == 1:
            return "乡镇", next(iter(t))
        v = lookups.villages.get(row.get("_vk") or "")
        if v and len(v) == 1:
            return "村", next(iter(v))
    return None


# ---------------------------------------------------------------------------------------------
# this upload's quarantined rows, ready to fix and upload again

XLSX_HEADERS = ("文件 file", "工作表 sheet", "行号 row", "原因 reason", "原因代码 code", "说明 detail",
                "出错字段 faulty field")


def faulty_fields(detail: str, raw_keys: list[str], kind: str | None = None) -> list[str]:
    """The row's own headers that its reason names. The reason speaks of a field by its canonical
    header or English name (网格编码, review_status); the file may use a synonym (网格代码), so both
    go through the sources table. The longest header wins (登记日期 over 日期)."""
    from pipelines.sources import SOURCES, header_index, header_key

    text = re.sub(r"（已载入于[^）]*）", "", (detail or "").split(":", 1)[-1])  # another file's name
    if kind in SOURCES:
        src = SOURCES[kind]
        hits = [(h, f.name) for f in src.fields for h in f.headers if h and h in text]
        hits = [(h, n) for h, n in hits if not any(h != g and h in g for g, _ in hits)]
        named = {n for _, n in hits} | {f.name for f in src.fields if re.search(rf"\b{f.name}\b", text)}
        idx = header_index(src)
        found = [k for k in raw_keys if idx.get(header_key(k)) in named]
        if found:
            return found
    hits = [k for k in raw_keys if k and k in text]
    return [k for k in hits if not any(k != g and k in g for g in hits)]


def write_quarantine_xlsx(batch_id: str, scope_code: str | None, out: Path) -> int:
    """One sheet per source kind: where the row was, the reason, the faulty field(s) named and their
    cells marked, then the row as it was read (personal data masked, as stored). Returns the rows."""
    import xlsxwriter

    from pipelines import warehouse as wh
    from pipelines.report.text import REASONS
    from pipelines.sources import SOURCES

    county = wh.Scope("county", (scope_code or _any_county())[:6])
    q = wh.batch_quarantine(county, batch_id)
    out.parent.mkdir(parents=True, exist_ok=True)
    wb = xlsxwriter.Workbook(str(out))
    head = wb.add_format({"bold": True, "bg_color": "#eeeeee", "border": 1})
    mark = wb.add_format({"bg_color": "#ffc7ce", "font_color": "#9c0006"})
    if q.empty:
        ws = wb.add_worksheet("隔离行")
        ws.write(0, 0, "本次导入没有隔离行 / no rows were quarantined in this upload")
    for kind, g in q.groupby("source_kind", sort=False):
        raws = [json.loads(r) if isinstance(r, str) else (r or {}) for r in g["raw_row"]]
        fields: list[str] = []
        for r in raws:
            fields += [k for k in r if k not in fields]
        label = SOURCES[kind].label_zh if kind in SOURCES else str(kind)
        ws = wb.add_worksheet(f"{label}"[:31])
        headers = [*XLSX_HEADERS, *fields]
        for j, h in enumerate(headers):
            ws.write(0, j, h, head)
        for i, (row, raw) in enumerate(zip(g.itertuples(index=False), raws, strict=True), start=1):
            bad = faulty_fields(row.reason_detail, list(raw), kind)
            ws.write_row(i, 0, [row.file_name, row.sheet if isinstance(row.sheet, str) else "", int(row.row_number),
                                REASONS.get(row.reason_code, row.reason_code), row.reason_code,
                                row.reason_detail, FAULTY_FIELD_SEP.join(bad)])
            for j, f in enumerate(fields, start=len(XLSX_HEADERS)):
                v = raw.get(f)
                ws.write_string(i, j, "" if v is None else str(v), mark if f in bad else None)
        ws.freeze_panes(1, 3)
        for j, h in enumerate(headers):
            ws.set_column(j, j, min(40, max(8, 2 * len(h) + 2)))
    wb.close()
    return len(q)


def _any_county() -> str:
    from pipelines import warehouse as wh

    con = wh.connect()
    try:
        return wh.first_units(con)["county"]["code"]
    finally:
        con.close()
