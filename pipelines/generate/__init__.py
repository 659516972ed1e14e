"""Synthetic county exports (`xiangzhi generate`): a fictional county whose files look like real ones.

`generate(scale, seed, out, dirty)` writes every source of SPEC §3 into OUT (flat), with the quirks of
§3.5, a `dirty` share of bad rows (§3.6, one reason each) and `manifest.json` saying what is where.
Reports are produced month by month and written as they go, so memory stays bounded at any scale.
"""

from __future__ import annotations

import json
import os
import resource
import time
import unicodedata
from pathlib import Path

from pipelines.sources import REASON_CODES

MANIFEST = "manifest.json"


def _user_error(msg: str) -> Exception:
    from pipelines.errors import UserError

    return UserError(msg)


def _prepare_out(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise _user_error(f"输出路径是一个文件，不是文件夹 / --out is a file, not a folder: {out}")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise _user_error(f"无法创建输出文件夹 / cannot create output folder {out}: {e.strerror}") from None
    if not os.access(out, os.W_OK):
        raise _user_error(f"输出文件夹不可写 / output folder is not writable: {out}")
    old = out / MANIFEST
    visible = [p for p in out.iterdir() if not p.name.startswith(".")]
    if old.exists():
        # A previous generation: remove exactly the files it listed, so scales never mix.
        try:
            listed = {f["file"] for f in json.loads(old.read_text(encoding="utf-8")).get("files", [])}
        except (ValueError, OSError):
            listed = set()
        for p in visible:
            if p.name in listed:
                p.unlink()
        old.unlink()
        visible = [p for p in out.iterdir() if not p.name.startswith(".")]
    if visible:
        raise _user_error(
            f"输出文件夹不是空的 / output folder is not empty: {out} "
            f"({len(visible)} 个文件，例如 {visible[0].name})；请换一个新文件夹 / choose a new or empty folder")


def generate(scale: str, seed: int, out: Path, dirty: float = 0.01, county: str | None = None) -> str:
    """Write the synthetic exports and manifest; return a printable summary.

    county: a 6-digit code for the fictional county (default 360739 青岚县); another code gives
    another county's codes, so several generated counties can share one lake (SPEC §4.1).
    """
    from pipelines.generate import exports
    from pipelines.generate.world import COUNTY_CODE, SCALES, build_world

    county = county or COUNTY_CODE
    if not (len(county) == 6 and county.isdigit()):
        raise _user_error(f"县代码应为 6 位数字 / --county must be a 6-digit code: {county}")

    if scale not in SCALES:
        raise _user_error(f"未知规模 / unknown scale: {scale} (small, county, province)")
    if not 0 <= dirty <= 0.5:
        raise _user_error(f"--dirty 应在 0 到 0.5 之间 / --dirty must be between 0 and 0.5: {dirty}")
    out = Path(out)
    _prepare_out(out)
    t0 = time.perf_counter()
    world = build_world(SCALES[scale], seed, county_code=county)
    run = exports.Run(world=world, out=out, dirty=dirty, seed=seed)
    exports.admin_units(run)
    exports.grids(run)
    exports.households(run)
    visits, events, points = exports.Visits(run), exports.Events(run), exports.Points(run)
    redemptions, disputes = exports.Redemptions(run), exports.Disputes(run)
    first_points = len(world.months) - (world.scale.points_months or len(world.months))
    for mi in range(len(world.months)):
        visits.month(mi)
        events.month(mi)
        disputes.month(mi, events.current)
        if mi >= first_points:
            points.month(mi)
            redemptions.month(mi)
    disputes.flush()
    elapsed = time.perf_counter() - t0
    manifest = _manifest(run, scale, seed, dirty, elapsed)
    (out / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return _summary(manifest, out, elapsed)


def _manifest(run, scale: str, seed: int, dirty: float, elapsed: float) -> dict:
    w = run.world
    by_reason: dict[str, int] = {r: 0 for r in REASON_CODES}
    for b in run.bad_rows:
        by_reason[b["reason_code"]] += 1
    quirks: dict[str, list[str]] = {}
    for f in run.files:
        for q in f["quirks"]:
            quirks.setdefault(q, []).append(f["file"])
    return {
        "generator": "xiangzhi generate",
        "scale": scale, "seed": seed, "dirty": dirty,
        "county": {"code": w.townships[0]["code"][:6], "name": w.county_name, "note": "虚构县 fictional county"},
        "months": [f"{y}-{m:02d}" for y, m in w.months],
        "counts": {"townships": len(w.townships), "villages": len(w.v_code), "grids": len(w.g_code),
                   "households": w.households.height},
        "shared_village_names": sorted({w.v_stem[i] for i, u in enumerate(w.v_county_unique.tolist()) if not u}),
        "row_numbering": "CSV/JSONL: 1-based line number in the file; XLSX: 1-based sheet row as Excel shows "
                         "it; GeoJSON: 1-based feature index",
        "id_conflict_order": "ID_CONFLICT rows are the later observation, with files compared in export-time order",
        "grid_workers": _worker_cases(w),
        "files": sorted(run.files, key=lambda f: f["file"]),
        "bad_rows": sorted(run.bad_rows, key=lambda b: (b["file"], b["sheet"] or "", b["row_number"])),
        "bad_rows_by_reason": by_reason,
        "quirks": {k: sorted(v) for k, v in sorted(quirks.items())},
        "totals": {k: sum(f[k] for f in run.files) for k in ("rows_read", "non_data", "duplicates", "bad",
                                                                 "expected_loaded", "size_bytes")},
    }


def _worker_cases(w) -> dict:
    """What the generator put in for the grid workers' assessment (SPEC §6.1, world._worker_plan)."""
    from pipelines.generate.activity import SLACK_EVENTS

    plan = w.meta["worker_plan"]
    return {
        "shared_workers": [{"worker": w.g_workers[g][-1], "grids": [w.g_code[g - 1], w.g_code[g]]}
                           for g in plan["shared"]],
        "full_round": [{"worker": w.g_workers[g][0], "grid": w.g_code[g],
                        "note": "visits every household of the grid each month (active months), on time"}
                       for g in plan["full_round"]],
        "slack": [{"worker": w.g_workers[g][-1], "grid": w.g_code[g], "events_per_month": SLACK_EVENTS,
                   "note": "网格员巡查 events left open for a year: overdue in every later month"}
                  for g in plan["slack"]],
        "everywhere": "patrols 巡查 and talks 宣讲 in every active grid; late entries (4–10 days) in every "
                      "source; names with inner spaces (quirk 'spaces'); events of other sources name "
                      "the hotline or a department",
    }


def _size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    """Left-align in a terminal: CJK characters take two columns."""
    return text + " " * max(0, width - _width(text))


def _summary(manifest: dict, out: Path, elapsed: float) -> str:
    width = max(_width(f["file"]) for f in manifest["files"]) + 2
    lines = [f"合成数据 / synthetic exports: scale={manifest['scale']} seed={manifest['seed']} → {out}",
             f"{_pad('file', width)}{'kind':<12} {'size':>10} {'rows':>10} {'bad':>6} {'dup':>5}"]
    for f in manifest["files"]:
        lines.append(f"{_pad(f['file'], width)}{f['kind']:<12} {_size(f['size_bytes']):>10} {f['rows_read']:>10} "
                     f"{f['bad']:>6} {f['duplicates']:>5}")
    t = manifest["totals"]
    c = manifest["counts"]
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    lines += [
        f"{len(manifest['files'])} files, {_size(t['size_bytes'])}, {t['rows_read']:,} rows read "
        f"({t['bad']:,} bad, {t['duplicates']:,} duplicates, {t['non_data']:,} non-data)",
        f"{c['townships']} townships, {c['villages']} villages, {c['grids']} grids, {c['households']:,} households, "
        f"{len(manifest['months'])} months ({manifest['months'][0]} … {manifest['months'][-1]})",
        f"time {elapsed:.1f} s, peak memory {peak:.0f} MB, manifest: {out / MANIFEST}",
    ]
    return "\n".join(lines)

