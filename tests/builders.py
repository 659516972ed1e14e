"""Tiny, hand-written exports for ingestion tests (written into tmp_path, never into data/)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

COUNTY = "360799"
T1, T2 = "360799101", "360799102"  # 东山乡, 西岭镇
V1, V2, V3 = "360799101001", "360799101002", "360799102001"  # 桃园村, 李家村 (东山), 桃园村 (西岭)
G1, G2, G3 = V1 + "001", V2 + "001", V3 + "001"
H1, H2, H3 = "H0001", "H0002", "H0003"
SECRET_NAMES = ("张三丰", "李四光", "王五")
SECRET_IDS = ("36072619800101123X", "360726198502023456", "360726199003034567")
SECRET_PHONES = ("13800138000", "13912345678", "13700001111")


def write_csv(path: Path, header: list[str], rows: list[list], title: list[str] | None = None,
              encoding: str = "utf-8") -> Path:
    with open(path, "w", encoding=encoding, newline="") as fh:
        w = csv.writer(fh)
        for line in title or []:
            w.writerow([line])
        w.writerow(header)
        for r in rows:
            w.writerow(["" if v is None else v for v in r])
    return path


def _square(x0: float, y0: float, d: float = 0.01) -> dict:
    x0, y0, x1, y1 = (round(v, 6) for v in (x0, y0, x0 + d, y0 + d))  # neighbours share exact edges
    return {"type": "Polygon", "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]}


def write_reference(folder: Path) -> list[Path]:
    """County, two townships, three villages (two share the name 桃园), one grid each, three households."""
    folder.mkdir(parents=True, exist_ok=True)
    admin = write_csv(folder / "区划_20250101.csv",
                      ["区划代码", "名称", "层级", "上级代码", "户数", "人口", "经度", "纬度"],
                      [[COUNTY, "示例县", "县", "", 3, 9, 115.4, 25.1],
                       [T1, "东山乡", "乡镇", COUNTY, 2, 6, 115.41, 25.11],
                       [T2, "西岭镇", "乡镇", COUNTY, 1, 3, 115.42, 25.12],
                       [V1, "桃园村", "村", T1, 1, 3, 115.41, 25.11],
                       [V2, "李家村", "村", T1, 1, 3, 115.415, 25.115],
                       [V3, "桃园村", "村", T2, 1, 3, 115.42, 25.12]])
    grids = folder / "网格.geojson"
    feats = [{"type": "Feature", "properties": {"网格编码": g, "网格名称": f"第{i}网格", "所属村代码": v,
                                                "户数": 1, "人口": 3, "网格长": "赵网格", "网格员数": 1},
              "geometry": _square(115.4 + i * 0.01, 25.1)}
             for i, (g, v) in enumerate([(G1, V1), (G2, V2), (G3, V3)], start=1)]
    grids.write_text(json.dumps({"type": "FeatureCollection", "features": feats}, ensure_ascii=False),
                     encoding="utf-8")
    hh = write_csv(folder / "户籍台账.csv",
                   ["户编号", "网格编码", "户主姓名", "身份证号", "联系电话", "家庭人口", "重点户类型"],
                   [[H1, G1, SECRET_NAMES[0], SECRET_IDS[0], SECRET_PHONES[0], 3, "低保户"],
                    [H2, G2, SECRET_NAMES[1], SECRET_IDS[1], SECRET_PHONES[1], 2, ""],
                    [H3, G3, SECRET_NAMES[2], SECRET_IDS[2], SECRET_PHONES[2], 4, "空巢老人"]],
                   encoding="gb18030")
    return [admin, grids, hh]


VISIT_HEADER = ["记录编号", "网格编码", "网格员", "户编号", "类型", "日期时间", "录入时间"]
EVENT_HEADER = ["事件编号", "网格编码", "上报人", "上报时间", "事件类别", "来源", "处置层级", "状态",
                "受理时间", "办结时限", "办结时间", "满意度", "录入时间"]
DISPUTE_HEADER = ["案件编号", "登记日期", "乡镇", "村", "纠纷类型", "当事人", "当事人数", "涉及金额(元)",
                  "调解组织", "调解员", "调解结果", "办结日期", "是否越级上访", "关联事件编号"]
POINTS_HEADER = ["记录编号", "户编号", "村代码", "积分项目", "积分类别", "分值", "发生日期", "录入日期", "审核状态"]
REDEMPTION_HEADER = ["兑换编号", "户编号", "村代码", "兑换物品", "消耗积分", "兑换日期"]


def visit(rid="V1", grid=G1, hh=H1, kind="走访", at="2025-06-03 10:00", entered="2025-06-03 18:00", worker="赵网格"):
    return [rid, grid, worker, hh, kind, at, entered]


def event(eid="E1", grid=G1, reported="2025-06-02 09:00", category="矛盾纠纷", status="已上报", accepted="",
          deadline="2025-06-09 09:00", closed="", satisfaction="", entered="2025-06-02 10:00", level="网格"):
    return [eid, grid, "钱上报", reported, category, "网格员巡查", level, status, accepted, deadline, closed,
            satisfaction, entered]


def dispute(cid="D1", registered="2025-06-05", township="东山乡", village="桃园村", dtype="邻里纠纷",
            result="调解中", concluded="", petition="否"):
    return [cid, registered, township, village, dtype, "孙某某、周某某", 2, 500, "村调委会", "吴调解", result,
            concluded, petition, ""]


def points(rid="P1", hh=H1, village=V1, value="+5", occurred="2025-06-05", entered="2025-06-06", status="已确认"):
    return [rid, hh, village, "环境整治", "人居环境", value, occurred, entered, status]


def redemption(rid="R1", hh=H1, village=V1, spent="10", on="2025-06-20"):
    return [rid, hh, village, "洗衣粉", spent, on]
