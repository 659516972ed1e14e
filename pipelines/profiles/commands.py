"""`xiangzhi profile suggest|check|list` (SPEC §9): thin wrappers that print for a clerk."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from pipelines.errors import UserError


def suggest_cmd(file: Path, out: Path | None) -> int:
    from pipelines.profiles.suggest import suggest

    file = Path(file)
    if not file.is_file():
        raise UserError(f"找不到文件 / no such file: {file}")
    text = suggest(file)
    if out is None:
        print(text, end="")
        return 0
    out = Path(out)
    if out.exists():
        raise UserError(f"{out} 已存在，不覆盖 / {out} exists: not overwritten")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    todo = sum(": TODO" in line for line in text.splitlines())
    print(f"已写入草稿 draft written: {out}（{todo} 处 TODO 待填写 to fill in）")
    print(f"填好后检查 then check: xiangzhi profile check {out} {file}")
    return 0


def list_cmd() -> int:
    from pipelines.profiles import installed, user_dir

    print(f"{'方案 name':<24} {'类型 kind':<13} {'来源 where':<12} 说明 label")
    for p in installed():
        where = "内置 built-in" if p.builtin else ("自定义 office" if p.path and user_dir() in p.path.parents
                                                 else "随附 shipped")
        print(f"{p.name:<24} {p.kind:<13} {where:<12} {p.label}")
    print(f"自定义方案目录 office profiles: {user_dir()}")
    return 0


def describe(p) -> list[str]:
    src = p.source
    lines = [f"方案 profile {p.name}: {p.label} → {src.label_zh} ({p.kind})",
             "识别表头 signature: " + "、".join(p.signature_text)]
    for cap, f in p.captions.items():
        lines.append(f"  表头 {cap} → {f}（{src.field(f).header}）")
    for f, d in p.derive.items():
        args = {k: v for k, v in d.items() if k != "how"}
        lines.append(f"  推导 derived {f}（{src.field(f).header}）: {d['how']} {args}")
    for f, table in p.values.items():
        lines.append(f"  取值对照 value map {f}: " + "，".join(f"{k}→{v}" for k, v in table.items()))
    if p.group:
        lines.append(f"  按户合并 grouped by {p.group['by']}")
    if p.header_rows == 2:
        lines.append("  两行表头 two-row header")
    if p.entry_unknown:
        lines.append("  无录入时间：记为未知，不计入录入及时率 / no entry time: left out of entry_timeliness_rate")
    return lines


def check_cmd(profile_path: Path, file: Path | None) -> int:
    """Validate a profile; with a sample file, load it through the profile into a scratch home (a copy
    of this home's warehouse, so references resolve) and print per-field coverage and the would-be
    quarantine by reason. Nothing in this home changes."""
    from pipelines import config
    from pipelines.profiles import load_profile

    prof = load_profile(Path(profile_path))
    print("方案有效 profile is valid")
    print("\n".join(describe(prof)))
    if file is None:
        return 0
    file = Path(file)
    if not file.is_file():
        raise UserError(f"找不到文件 / no such file: {file}")
    real = config.paths()
    with tempfile.TemporaryDirectory(prefix="xiangzhi_check_") as tmp:
        scratch = Path(tmp) / "home"
        scratch.mkdir()
        if real.warehouse.exists():
            dest = scratch / real.warehouse.relative_to(real.home)
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(real.warehouse, dest)
        for f in real.home.glob("*"):
            if f.is_file():
                shutil.copy2(f, scratch / f.name)
        (scratch / "profiles").mkdir()
        shutil.copy2(profile_path, scratch / "profiles" / Path(profile_path).name)
        old = os.environ.get("XIANGZHI_HOME")
        os.environ["XIANGZHI_HOME"] = str(scratch)
        from pipelines import profiles

        profiles.PREFERRED = prof.name
        try:
            return _check_load(prof, file, scratch)
        finally:
            profiles.PREFERRED = None
            if old is None:
                os.environ.pop("XIANGZHI_HOME", None)
            else:
                os.environ["XIANGZHI_HOME"] = old


def _check_load(prof, file: Path, scratch: Path) -> int:
    import duckdb

    from pipelines import config
    from pipelines.load import ingest

    report = ingest([file], build_marts=False)
    f = next((x for x in report.files if x.file_name == file.name), None)
    if f is None or f.status != "loaded":
        print(f"未能载入 not loaded: {f.reason if f else '?'}")
        return 1
    con = duckdb.connect(str(config.paths().warehouse), read_only=True)
    try:
        used = con.execute("select profile from reg_files where file_name = ? order by seq desc limit 1",
                           [file.name]).fetchone()
        print(f"读取 read {f.rows_read}，载入 loaded {f.rows_loaded}，隔离 quarantined {f.rows_quarantined}，"
              f"重复 duplicate {f.rows_duplicate}，非数据 non-data {f.rows_non_data}（方案 profile {used[0]}）")
        if used[0] != prof.name:
            print(f"注意：文件按方案 {used[0]} 识别，而不是 {prof.name} / note: recognised by {used[0]}")
        kind = prof.kind
        n = con.execute(f"select count(*) from stg_{kind} where _file_name = ?", [file.name]).fetchone()[0] or 1
        print("字段 field                有值 with value   可识别 accepted")
        for fld in prof.source.fields:
            if fld.name not in prof.fields:
                continue
            have, ok = con.execute(
                f'select count(*) filter (where "{fld.name}" is not null or "{fld.name}__bad" is not null), '
                f'count(*) filter (where "{fld.name}" is not null) from stg_{kind} where _file_name = ?',
                [file.name]).fetchone()
            print(f"{fld.name:<24} {have / n:>8.0%}        {ok / max(have, 1):>8.0%}")
        if f.by_reason:
            print("将被隔离 would be quarantined: " + "，".join(f"{k} {v}" for k, v in f.by_reason.items()))
            for code, row, detail in con.execute(
                    "select reason_code, min(row_number), any_value(reason_detail) from quarantine "
                    "where file_name = ? group by 1 order by 1", [file.name]).fetchall():
                print(f"  {code}（如第{row}行 e.g. row {row}）: {detail}")
    finally:
        con.close()
    return 0
