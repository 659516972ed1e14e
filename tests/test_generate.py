"""The synthetic county generator: determinism, integrity, tessellation, dirt and quirks (issue #3).

The files are read back here with a small reader of our own (csv module, openpyxl, json), not with
pipelines.readers, so that a reader bug and a generator bug cannot cancel out.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import re
import subprocess
import sys
import unicodedata
import zipfile
from collections import Counter, defaultdict
from pathlib import Path

import openpyxl
import pytest
import shapely
from shapely import wkt as shp_wkt
from shapely.geometry import shape

from pipelines.errors import UserError
from pipelines.generate import generate
from pipelines.generate.world import SCALES, build_world
from pipelines.sources import BOOL_FALSE, BOOL_TRUE, ENUMS, REASON_CODES, SOURCES, detect_source, header_index

SEED = 7


# ------------------------------------------------------------------------------------------ fixtures
@pytest.fixture(scope="module")
def small(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("gen") / "small"
    generate("small", SEED, out, 0.01)
    return out


@pytest.fixture(scope="module")
def manifest(small) -> dict:
    return json.loads((small / "manifest.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def files(small, manifest) -> dict[str, list[dict]]:
    """file name → sheets read independently: {name, titles, header, rows: [(row_number, cells)], total_rows}."""
    return {f["file"]: read_any(small / f["file"]) for f in manifest["files"]}


# ---------------------------------------------------------------------------------- our own reading
def norm(x) -> str:
    if x is None:
        return ""
    return unicodedata.normalize("NFKC", str(x)).strip()


def decode(raw: bytes) -> tuple[str, str]:
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8"), "utf-8-sig"
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return raw.decode("gb18030"), "gb18030"


def _split(rows: list[tuple[int, list]]) -> dict:
    """Titles above the first row that is a recognised header; the rest are data-area rows."""
    for k, (_, cells) in enumerate(rows):
        if detect_source([norm(c) for c in cells if c is not None]):
            return {"titles": [c for _, c in rows[:k]], "header": [norm(c) for c in cells],
                    "rows": rows[k + 1:], "counted": len(rows) - 1}
    return {"titles": [], "header": None, "rows": [], "counted": 0}


def read_any(path: Path) -> list[dict]:
    suffix = path.suffix
    if suffix == ".csv":
        text, enc = decode(path.read_bytes())
        lines = text.splitlines()
        rows = [(i + 1, next(csv.reader([line])) if line else []) for i, line in enumerate(lines)]
        sh = _split(rows)
        sh.update(name=None, encoding=enc)
        return [sh]
    if suffix == ".jsonl":
        lines = path.read_text(encoding="utf-8").splitlines()
        objs = [json.loads(line) for line in lines]
        header = list(objs[0].keys())
        return [{"name": None, "titles": [], "header": header, "counted": len(lines),
                 "rows": [(i + 1, [o.get(h) for h in header]) for i, o in enumerate(objs)]}]
    if suffix == ".geojson":
        fc = json.loads(path.read_text(encoding="utf-8"))
        return [{"name": None, "titles": [], "header": None, "counted": len(fc["features"]), "rows": [],
                 "features": fc["features"]}]
    wb = openpyxl.load_workbook(path, read_only=True)
    with zipfile.ZipFile(path) as z:  # read-only mode has no merged ranges: take them from the XML
        merges = [re.findall(r'<mergeCell ref="([A-Z0-9:]+)"', z.read(f"xl/worksheets/sheet{i + 1}.xml").decode())
                  for i in range(len(wb.worksheets))]
    out = []
    for ws, merged in zip(wb.worksheets, merges, strict=True):
        rows = []
        last = 0
        for rn, cells in enumerate(ws.iter_rows(values_only=True), start=1):
            rows.append((rn, list(cells)))
            if any(v not in (None, "") for v in cells):
                last = rn
        rows = [x for x in rows if x[0] <= last]
        sh = _split(rows)
        sh.update(name=ws.title, merged=merged)
        if sh["header"] is not None:
            out.append(sh)
    wb.close()
    return out


def records(sheet: dict, kind: str) -> dict[int, dict[str, object]]:
    """row number → {field: raw cell} for data-area rows that are not blank or 合计."""
    idx = header_index(SOURCES[kind])
    from pipelines.sources import header_key

    cols = [idx.get(header_key(h)) for h in sheet["header"]]
    out = {}
    for rn, cells in sheet["rows"]:
        vals = [c for c in cells if norm(c) != ""]
        if not vals or norm(vals[0]).startswith("合计"):
            continue
        out[rn] = {f: (cells[i] if i < len(cells) else None) for i, f in enumerate(cols) if f}
    return out


_DT_PATTERNS = [
    r"(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})", r"(?P<y>\d{4})/(?P<m>\d{1,2})/(?P<d>\d{1,2})",
    r"(?P<y>\d{4})\.(?P<m>\d{1,2})\.(?P<d>\d{1,2})", r"(?P<y>\d{4})年(?P<m>\d{1,2})月(?P<d>\d{1,2})日",
    r"(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})",
]


def parse_time(v) -> dt.datetime | None:
    """Our own reading of every date form the generator promises; None when unreadable."""
    if isinstance(v, dt.datetime):
        return v
    if isinstance(v, (int, float)):
        return dt.datetime(1899, 12, 30) + dt.timedelta(days=float(v))
    s = norm(v)
    for p in _DT_PATTERNS:
        m = re.fullmatch(p + r"(?:\s+(?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2}))?)?", s)
        if m:
            try:
                return dt.datetime(int(m["y"]), int(m["m"]), int(m["d"]), int(m["H"] or 0), int(m["M"] or 0),
                                   int(m["S"] or 0))
            except ValueError:
                return None
    return None


def is_number(v) -> bool:
    if isinstance(v, (int, float)):
        return True
    return re.fullmatch(r"[+-]?\d+(\.\d+)?分?", norm(v)) is not None


def enum_ok(key: str, v) -> bool:
    s = norm(v).lower()
    return any(norm(x).lower() == s for syns in ENUMS[key].values() for x in syns)


def canon(kind: str, field: str, v):
    """The value a reader compares: dates as dates, enum synonyms as their canonical value, points as numbers."""
    fl = SOURCES[kind].field(field)
    if fl.type in ("date", "datetime"):
        return parse_time(v)
    if fl.enum:
        s = norm(v).lower()
        return next((c for c, syns in ENUMS[fl.enum].items() if any(norm(x).lower() == s for x in syns)), s)
    if fl.type == "points":
        return float(re.sub(r"[^\d.+-]", "", norm(v)))
    return norm(v)


def village_stem(name: str) -> str:
    s = norm(name)
    for suf in ("村委会", "社区", "村"):
        if s.endswith(suf) and len(s) > len(suf):
            return s[: -len(suf)]
    return s


# ---------------------------------------------------------------------------------------- reference
@pytest.fixture(scope="module")
def ref(small, files, manifest) -> dict:
    admin = {}
    for name, sheets in files.items():
        kind = next(f["kind"] for f in manifest["files"] if f["file"] == name)
        if kind == "admin_units":
            for r in records(sheets[0], "admin_units").values():
                admin[norm(r["code"])] = r
    grids = {}
    for name, sheets in files.items():
        if name.endswith(".geojson"):
            for ft in sheets[0]["features"]:
                grids[ft["properties"]["网格编码"]] = {"village": ft["properties"]["所属村代码"],
                                                    "geom": shape(ft["geometry"])}
        elif "WKT" in name:
            for r in records(sheets[0], "grids").values():
                grids[norm(r["grid_code"])] = {"village": norm(r["village_code"]), "geom": shp_wkt.loads(r["geometry"])}
    bad = {(b["file"], b["sheet"], b["row_number"]) for b in manifest["bad_rows"]}
    hh = set()
    for name, sheets in files.items():
        if "户籍台账" in name:
            for rn, r in records(sheets[0], "households").items():
                if (name, None, rn) not in bad:
                    hh.add(norm(r["household_id"]))
    return {"admin": admin, "grids": grids, "households": hh, "bad": bad}


def kind_of(manifest: dict, name: str) -> str:
    return next(f["kind"] for f in manifest["files"] if f["file"] == name)


# ------------------------------------------------------------------------------------------- tests
def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path):
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    generate("tiny", 3, a, 0.02)
    # The second run in another process with another hash seed: no dict/set order may leak into files.
    code = f"from pathlib import Path; from pipelines.generate import generate; generate('tiny', 3, Path({str(b)!r}), 0.02)"
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    subprocess.run([sys.executable, "-c", code], check=True, env=env, cwd=Path(__file__).parents[1])
    generate("tiny", 4, c, 0.02)
    names = sorted(p.name for p in a.iterdir())
    assert names == sorted(p.name for p in b.iterdir())
    assert len(names) > 15
    differing = [n for n in names if (a / n).read_bytes() != (b / n).read_bytes()]
    assert differing == []
    assert (a / "manifest.json").read_bytes() != (c / "manifest.json").read_bytes()


def test_scale_counts_and_key_household_shares(manifest, ref):
    c = manifest["counts"]
    assert c["townships"] == 2 and 18 <= c["villages"] <= 22 and 80 <= c["grids"] <= 120
    assert 2500 <= c["households"] <= 3500
    assert len(manifest["months"]) == 6 and manifest["months"][-1] == "2025-06"
    levels = Counter(norm(r["level"]) for r in ref["admin"].values())
    assert sum(1 for code in ref["admin"] if len(code) == 6) == 1
    assert sum(1 for code in ref["admin"] if len(code) == 9) == 2
    assert sum(1 for code in ref["admin"] if len(code) == 12) == c["villages"]
    assert levels  # levels are written with synonyms (镇/乡/乡镇, 村/行政村/社区)
    assert all(len(g) == 15 and g[:12] in ref["admin"] for g in ref["grids"])
    assert len(ref["grids"]) == c["grids"]
    # Key-household types at their realistic shares (SPEC §2), read from the registry file itself.
    w = build_world(SCALES["small"], SEED)
    key = Counter(w.households["key"].to_list())
    n = w.households.height
    for k, share in zip(range(1, 7), (0.04, 0.03, 0.02, 0.05, 0.03, 0.01), strict=True):
        assert abs(key[k] / n - share) < 0.012, (k, key[k] / n)


def test_tessellation_grids_cover_each_village_exactly(ref):
    w = build_world(SCALES["small"], SEED)
    by_v = defaultdict(list)
    for code, g in ref["grids"].items():
        assert g["village"] == code[:12]
        by_v[code[:12]].append(g["geom"])
        lon, lat = g["geom"].centroid.x, g["geom"].centroid.y
        assert 113 < lon < 118 and 24 < lat < 27  # south Jiangxi, WGS84 degrees
        assert g["geom"].is_valid and g["geom"].area > 0
    assert set(by_v) == set(w.v_code)
    for vi, vcode in enumerate(w.v_code):
        village = w.v_geom[vi]
        cells = by_v[vcode]
        va = village.area
        for c in cells:
            assert c.difference(village).area <= 1e-9 * va
        tree = shapely.STRtree(cells)
        left, right = tree.query(cells, predicate="intersects")
        for i, j in zip(left.tolist(), right.tolist(), strict=True):
            if i < j:
                assert cells[i].intersection(cells[j]).area <= 1e-9 * va
        assert abs(shapely.union_all(cells).area - va) <= 1e-6 * va
        assert abs(sum(c.area for c in cells) - va) <= 1e-6 * va


def test_rows_read_matches_an_independent_count(manifest, files):
    for f in manifest["files"]:
        sheets = files[f["file"]]
        assert sum(s["counted"] for s in sheets) == f["rows_read"], f["file"]
        assert len(sheets) == len(f["sheets"]), f["file"]
        for s, ms in zip(sheets, f["sheets"], strict=True):
            assert s["counted"] == ms["rows_read"]
            assert len(s["titles"]) == len(ms["titles"])
            if ms["header_row"] is not None:
                assert ms["header_row"] == len(s["titles"]) + 1
        assert f["expected_loaded"] == f["rows_read"] - f["non_data"] - f["duplicates"] - f["bad"]


def test_non_data_rows_are_titles_blanks_and_totals(manifest, files):
    for f in manifest["files"]:
        found = 0
        for s in files[f["file"]]:
            found += len(s["titles"])
            for _, cells in s["rows"]:
                vals = [norm(c) for c in cells if norm(c) != ""]
                if not vals or vals[0].startswith("合计"):
                    found += 1
        assert found == f["non_data"], f["file"]


def test_clean_records_refer_to_known_grids_households_and_villages(manifest, files, ref):
    grids, hh, admin, bad = ref["grids"], ref["households"], ref["admin"], ref["bad"]
    village_names = defaultdict(set)
    for code, r in admin.items():
        if len(code) == 12:
            village_names[village_stem(r["name"])].add(code)
    township_by_name = {norm(r["name"]): code for code, r in admin.items() if len(code) == 9}
    checked = Counter()
    for name, sheets in files.items():
        kind = kind_of(manifest, name)
        if kind not in ("visits", "events", "points", "redemptions", "disputes"):
            continue
        for s in sheets:
            for rn, r in records(s, kind).items():
                if (name, s["name"], rn) in bad:
                    continue
                if kind in ("visits", "events"):
                    assert norm(r["grid_code"]) in grids, (name, rn)
                if kind in ("visits", "points", "redemptions") and norm(r.get("household_id")):
                    assert norm(r["household_id"]) in hh, (name, rn)
                if kind in ("points", "redemptions") and norm(r.get("village_code")):
                    assert norm(r["village_code"]) in admin, (name, rn)
                if kind == "disputes":
                    cands = village_names[village_stem(r["village_name"])]
                    t = norm(r.get("township_name"))
                    if t:
                        cands = {c for c in cands if c[:9] == township_by_name[t]}
                    assert len(cands) == 1, (name, s["name"], rn, r["village_name"], t)
                checked[kind] += 1
    assert min(checked.values()) > 20 and set(checked) == {"visits", "events", "points", "redemptions", "disputes"}


def _row(files, b) -> dict:
    sheets = files[b["file"]]
    s = next(x for x in sheets if x["name"] == b["sheet"])
    return s


def test_every_reason_code_is_injected_and_really_in_the_file(manifest, files, ref):
    by_reason = Counter(b["reason_code"] for b in manifest["bad_rows"])
    assert set(by_reason) == set(REASON_CODES)
    missing = {(kind_of(manifest, b["file"]), b["field"]) for b in manifest["bad_rows"]
               if b["reason_code"] == "MISSING_REQUIRED"}
    # The conditional requirements too: 户编号 of a 走访, 受理/办结时间 past 已上报, 办结日期 of a concluded case.
    assert {("visits", "household_id"), ("events", "accepted_at"), ("events", "closed_at"),
            ("disputes", "concluded_on")} <= missing
    sheet_time = {(f["file"], s["sheet"]): s["export_time"] for f in manifest["files"] for s in f["sheets"]}
    grids, hh, admin = ref["grids"], ref["households"], ref["admin"]
    stems = Counter(village_stem(r["name"]) for c, r in admin.items() if len(c) == 12)
    all_records = {}
    for b in manifest["bad_rows"]:
        kind = kind_of(manifest, b["file"])
        key = (b["file"], b["sheet"])
        if key not in all_records:
            all_records[key] = records(_row(files, b), kind)
        r = all_records[key][b["row_number"]]
        v = r.get(b["field"])
        code = b["reason_code"]
        if code == "MISSING_REQUIRED":
            assert norm(v) == "", b
        elif code == "BAD_DATE":
            assert parse_time(v) is None, b
        elif code == "BAD_NUMBER":
            assert not is_number(v), b
        elif code == "BAD_ENUM":
            fld = SOURCES[kind].field(b["field"])
            if fld.enum:
                assert not enum_ok(fld.enum, v), b
            else:
                assert norm(v).lower() not in BOOL_TRUE + BOOL_FALSE, b
        elif code == "UNKNOWN_GRID":
            assert norm(v) not in grids and len(norm(v)) == 15, b
        elif code == "UNKNOWN_VILLAGE":
            if b["field"] == "village_code":
                assert norm(v) not in admin, b
            else:
                assert stems[village_stem(v)] == 0, b
        elif code == "AMBIGUOUS_VILLAGE":
            assert norm(r.get("township_name")) == "" and stems[village_stem(v)] >= 2, b
        elif code == "UNKNOWN_HOUSEHOLD":
            assert norm(v) not in hh, b
        elif code == "TIME_ORDER":
            if kind == "events":
                rep = parse_time(r["reported_at"])
                assert parse_time(v) < rep, b
            else:
                assert parse_time(v) < parse_time(r["registered_on"]), b
        elif code == "FUTURE_DATE":
            t = parse_time(v)
            assert t > dt.datetime.fromisoformat(sheet_time[key]), b
        elif code == "ID_CONFLICT":
            assert norm(v) != ""  # the earlier, different observation is checked below
    _id_conflicts_reuse_an_earlier_id(manifest, files)


def _id_conflicts_reuse_an_earlier_id(manifest, files):
    ids_by_kind: dict[str, list[tuple[str, str, dict]]] = defaultdict(list)
    bad = {(b["file"], b["sheet"], b["row_number"]) for b in manifest["bad_rows"]}
    times = {(f["file"], s["sheet"]): s["export_time"] for f in manifest["files"] for s in f["sheets"]}
    for f in manifest["files"]:
        if f["kind"] not in ("visits", "events", "disputes", "points", "redemptions"):
            continue
        for s in files[f["file"]]:
            for rn, r in records(s, f["kind"]).items():
                ids_by_kind[f["kind"]].append((times[(f["file"], s["name"])], (f["file"], s["name"], rn), r))
    n = 0
    for b in manifest["bad_rows"]:
        if b["reason_code"] != "ID_CONFLICT":
            continue
        kind = kind_of(manifest, b["file"])
        id_field = SOURCES[kind].id_field
        me = next(r for _, k, r in ids_by_kind[kind] if k == (b["file"], b["sheet"], b["row_number"]))
        t_me = times[(b["file"], b["sheet"])]
        earlier = [r for t, k, r in ids_by_kind[kind]
                   if norm(r[id_field]) == norm(me[id_field]) and t < t_me and k not in bad]
        assert earlier, b
        assert all(canon(kind, b["field"], e[b["field"]]) != canon(kind, b["field"], me[b["field"]])
                   for e in earlier), b
        n += 1
    assert n > 0


REQUIRED_QUIRKS = {
    "encoding:utf-8", "encoding:utf-8-sig", "encoding:gbk", "encoding:gb18030",
    "date:2025-06-03", "date:2025/6/3", "date:2025.6.3", "date:2025年6月3日", "date:20250603",
    "time:14:05", "time:14:05:00", "time:none", "excel_serial_dates", "excel_date_cells",
    "fullwidth_digits", "fullwidth_punctuation", "nbsp", "stray_spaces", "enum_synonyms", "bool_synonyms",
    "header_synonyms", "title_rows", "merged_title", "total_row", "several_sheets", "blank_rows",
    "duplicates_in_file", "duplicates_across_files", "township_empty", "village_name_variants", "rare_characters",
}


def test_every_quirk_is_in_the_manifest(manifest):
    assert REQUIRED_QUIRKS <= set(manifest["quirks"]), REQUIRED_QUIRKS - set(manifest["quirks"])


def test_encodings_are_really_what_the_manifest_says(small, manifest):
    seen = set()
    for f in manifest["files"]:
        if f["format"] not in ("csv", "jsonl"):
            continue
        raw = (small / f["file"]).read_bytes()
        enc = f["encoding"]
        seen.add(enc)
        if enc == "utf-8-sig":
            assert raw.startswith(b"\xef\xbb\xbf")
            raw[3:].decode("utf-8")
        elif enc == "utf-8":
            assert not raw.startswith(b"\xef\xbb\xbf")
            raw.decode("utf-8")
        else:
            raw.decode("gb18030")
            with pytest.raises(UnicodeDecodeError):
                raw.decode("utf-8")
            if enc == "gb18030":  # the registry holds names outside GBK (䶮)
                with pytest.raises(UnicodeDecodeError):
                    raw.decode("gbk")
                assert "䶮" in raw.decode("gb18030")
    assert {"utf-8", "utf-8-sig", "gbk", "gb18030"} <= seen


def test_workbook_quirks_are_really_in_the_files(small, manifest, files):
    totals = merged = multi = serial = date_cells = blank = 0
    for f in manifest["files"]:
        if f["format"] != "xlsx":
            continue
        sheets = files[f["file"]]
        if len(sheets) > 1:
            multi += 1
        for s, ms in zip(sheets, f["sheets"], strict=True):
            merged += bool(s["merged"]) and "1" in s["merged"][0]
            for _, cells in s["rows"]:
                vals = [c for c in cells if norm(c) != ""]
                if not vals:
                    blank += 1
                elif norm(vals[0]) == "合计":
                    totals += 1
            if ms["export_time_from"] == "title":
                assert any("导出时间" in norm(c) or "填报日期" in norm(c) for t in s["titles"] for c in t if c)
        kind = f["kind"]
        date_fields = [fl.name for fl in SOURCES[kind].fields if fl.type in ("date", "datetime")]
        for s in sheets:
            for r in records(s, kind).values():
                for fl in date_fields:
                    v = r.get(fl)
                    if isinstance(v, dt.datetime):
                        date_cells += 1
                    elif isinstance(v, (int, float)) and 30000 < v < 60000:
                        serial += 1
    wb_skipped = [f for f in manifest["files"] if f["skipped_sheets"]]
    assert wb_skipped and "填表说明" in openpyxl.load_workbook(small / wb_skipped[0]["file"]).sheetnames
    assert totals > 5 and merged > 5 and multi >= 2 and serial > 0 and date_cells > 0 and blank > 0


def test_text_quirks_are_really_in_the_files(manifest, files):
    text = []
    for f in manifest["files"]:
        for s in files[f["file"]]:
            for _, cells in s["rows"][:4000]:
                text.extend(str(c) for c in cells if isinstance(c, str))
    blob = "\n".join(text)
    assert re.search(r"[０-９]", blob) and "\u00a0" in blob and "\u3000" in blob
    assert re.search(r"(^|\n) +\S", blob) or re.search(r"\S +(\n|$)", blob)
    forms = Counter()
    pats = [(label, re.compile(p + r"(\s\d{1,2}:\d{2}(:\d{2})?)?")) for label, p in (
        ("iso", r"\d{4}-\d{2}-\d{2}"), ("slash", r"\d{4}/\d{1,2}/\d{1,2}"), ("dot", r"\d{4}\.\d{1,2}\.\d{1,2}"),
        ("cn", r"\d{4}年\d{1,2}月\d{1,2}日"), ("compact", r"20\d{6}"))]
    for v in set(text):
        s = v.strip()
        if 8 <= len(s) <= 20 and s[:2] == "20":
            for label, p in pats:
                if p.fullmatch(s):
                    forms[label] += 1
    assert set(forms) == {"iso", "slash", "dot", "cn", "compact"}
    synonyms = {"办结", "完成", "已完成", "回访", "受理", "纠纷", "成功", "√", "×", "Y", "N", "巡逻", "入户走访", "公示"}
    assert len(synonyms & set(t.strip() for t in text)) >= 4


def test_duplicates_within_and_across_files(manifest, files):
    within = across = 0
    seen_visits: dict[str, str] = {}
    for f in sorted(manifest["files"], key=lambda f: f["file"]):
        for s in files[f["file"]]:
            rows = [tuple(norm(c) for c in cells) for _, cells in s["rows"] if any(norm(c) for c in cells)]
            c = Counter(rows)
            within += sum(k - 1 for k in c.values() if k > 1)
            if f["kind"] == "visits":
                for r in records(s, "visits").values():
                    rid = norm(r["record_id"])
                    if rid in seen_visits and seen_visits[rid] != f["file"]:
                        across += 1
                    seen_visits.setdefault(rid, f["file"])
    assert within > 10 and across > 5
    assert sum(f["duplicates"] for f in manifest["files"]) >= within


def test_disputes_seasonality_and_rare_petitions():
    from pipelines.generate import activity

    w = build_world(SCALES["small"], 11)
    pop = w.households.group_by("village_idx").agg(__import__("polars").col("members").sum()).sort("village_idx")
    import numpy as np

    population = np.zeros(len(w.v_code))
    population[pop["village_idx"].to_numpy()] = pop["members"].to_numpy()
    per_month = {}
    petitions = total = 0
    for mi, (_, m) in enumerate(w.months):
        d = activity.disputes(w, mi, None, population * 8)  # a bigger population: less noise
        per_month[m] = d.height
        petitions += int(d["petition"].sum())
        total += d.height
        if m in (3, 4):
            assert (d["dispute_type"] == "土地承包").mean() > 0.15
    assert per_month[2] > 1.3 * per_month[6] and per_month[1] > 1.2 * per_month[5]
    assert 0 < petitions < 0.05 * total


def test_villages_differ_persistently_in_visit_coverage():
    import numpy as np

    from pipelines.generate import activity

    w = build_world(SCALES["small"], SEED)
    hh = w.households
    key = hh["key"].to_numpy() > 0
    vv = hh["village_idx"].to_numpy()
    rates = []
    for mi in range(len(w.months)):
        v = activity.visits(w, mi).filter(__import__("polars").col("visit_type") == "走访")
        visited = np.isin(hh["household_id"].to_numpy(), v["household_id"].to_numpy())
        rates.append([visited[key & (vv == i)].mean() for i in range(len(w.v_code))])
    r = np.array(rates)
    assert r.std(axis=1).mean() > 0.05  # villages differ
    assert np.corrcoef(r[0], r[1])[0, 1] > 0.3  # and the differences persist


def test_user_mistakes_raise_user_error(tmp_path):
    f = tmp_path / "a_file"
    f.write_text("x")
    with pytest.raises(UserError, match="文件"):
        generate("tiny", 1, f, 0.01)
    full = tmp_path / "full"
    full.mkdir()
    (full / "mine.xlsx").write_text("x")
    with pytest.raises(UserError, match="not empty"):
        generate("tiny", 1, full, 0.01)
    with pytest.raises(UserError, match="unknown scale"):
        generate("huge", 1, tmp_path / "x", 0.01)
    with pytest.raises(UserError, match="dirty"):
        generate("tiny", 1, tmp_path / "y", 2.0)


def test_regenerating_into_the_same_folder_replaces_the_previous_files(tmp_path):
    out = tmp_path / "g"
    generate("tiny", 1, out, 0.0)
    first = sorted(p.name for p in out.iterdir())
    generate("tiny", 2, out, 0.0)
    m = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert sorted(p.name for p in out.iterdir()) == sorted([f["file"] for f in m["files"]] + ["manifest.json"])
    assert m["seed"] == 2 and m["bad_rows"] == [] and first


def test_cli_generate_prints_a_summary(tmp_path, capsys, monkeypatch):
    from pipelines.cli import main

    monkeypatch.setitem(SCALES, "small", SCALES["tiny"])  # the CLI path, at test speed
    assert main(["generate", "--scale", "small", "--seed", "1", "--out", str(tmp_path / "s"), "--dirty", "0"]) == 0
    out = capsys.readouterr().out
    assert "manifest.json" in out and "households" in out and "rows read" in out
