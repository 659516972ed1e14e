"""Name pools for the fictional county: people, townships, villages (south Jiangxi hills flavour).

Pools are fixed tuples so that the same seed always draws the same names.
"""

from __future__ import annotations

import numpy as np

# Common surnames of south Jiangxi (Hakka area) with rough weights; a few compound surnames.
SURNAMES = (
    ("刘", 9), ("陈", 8), ("李", 6), ("黄", 6), ("钟", 5), ("谢", 5), ("曾", 5), ("赖", 5),
    ("廖", 4), ("王", 4), ("张", 4), ("罗", 4), ("邱", 4), ("温", 3), ("朱", 3), ("胡", 3),
    ("杨", 3), ("吴", 3), ("郭", 2), ("肖", 3), ("叶", 2), ("林", 2), ("何", 2), ("徐", 2),
    ("蔡", 2), ("唐", 1), ("魏", 2), ("卢", 2), ("邓", 2), ("彭", 2), ("蓝", 1), ("欧阳", 1),
    ("池", 1), ("严", 1), ("危", 1), ("古", 1), ("凌", 1), ("孙", 1), ("周", 2), ("潘", 1),
)
GIVEN_CHARS = tuple(
    "建国华明秀英桂兰春生金水玉梅海平国强志勇德福荣发长根冬梅小红丽娟文军辉伟军林芳燕萍"
    "宝庆永春凤娇满堂有才光明小龙云飞家乐新民淑珍水莲福生火旺秋菊晓东子豪雨欣思远佳怡俊杰"
)
# Characters outside GBK (GB18030 only): real name characters that break naive GBK decoding.
RARE_CHARS = ("䶮", "𠮷", "堃", "喆", "昇")  # 䶮, 𠮷 are not in GBK; the rest are ordinary but uncommon
RARE_NOT_GBK = ("䶮", "𠮷")

TOWNSHIP_STEMS = (
    "城关", "青岚", "石城", "龙口", "桃江", "黄竹", "凤岗", "长岭", "白鹭", "云山", "梅林", "松坪",
    "高坑", "金坑", "银坑", "鹤湖", "马岭", "水口", "大田", "上坪", "下坝", "茶园", "古坑", "新圩",
    "湖洋", "坪石", "双溪", "三坑", "莲塘", "杨梅", "牛岭", "樟木", "柏林", "沙洲", "铜锣", "乌石",
    "竹篙", "丰田", "清溪", "岭背", "塘背", "寨下", "横江", "麻洲", "南迳", "北坳", "东坑", "西排",
    "荷岭", "枫树", "田心", "社背", "坳头", "圳下", "溪尾", "桐木", "碧岭", "兰田", "仙岭", "石门",
    "龙岗", "金竹", "芦溪", "鹅湖", "枧头", "罗坑", "黎村", "浮槎", "蔡坊", "版坑",
)
VILLAGE_PREFIX = tuple("石黄青龙长新上下大小东西南北高白杨柏桃竹松梅莲金银马牛凤鹤云田塘茶樟枫桐兰仙罗黎曾谢钟")
VILLAGE_SUFFIX = ("坑", "坪", "塘", "岭", "背", "坳", "圩", "排", "迳", "溪", "湖", "洲", "源", "口",
                  "山", "岗", "寨", "田", "坝", "垅", "下", "头", "心", "屋", "峰", "桥", "陂", "湾")
COMMUNITY_STEMS = ("城东", "城西", "城南", "城北", "新街", "解放", "人民", "建设", "文化", "和平",
                   "中山", "站前", "滨江", "向阳", "育才", "健康")
DEPARTMENTS = ("县住建局", "县自然资源局", "县生态环境局", "县市场监管局", "县水利局", "县民政局")


def _surname_table() -> tuple[np.ndarray, np.ndarray]:
    names = np.array([s for s, _ in SURNAMES])
    w = np.array([w for _, w in SURNAMES], dtype=float)
    return names, w / w.sum()


def person_names(rng: np.random.Generator, n: int, rare_share: float = 0.0) -> list[str]:
    """n Chinese personal names; with rare_share, some given names use a rare character."""
    sn, sw = _surname_table()
    s = rng.choice(sn, size=n, p=sw)
    chars = np.array(GIVEN_CHARS)
    g1 = rng.choice(chars, size=n)
    g2 = rng.choice(chars, size=n)
    two = rng.random(n) < 0.7
    out = [a + b + (c if t else "") for a, b, c, t in zip(s.tolist(), g1.tolist(), g2.tolist(), two.tolist(), strict=True)]
    if rare_share > 0:
        idx = np.flatnonzero(rng.random(n) < rare_share)
        rc = rng.choice(np.array(RARE_CHARS), size=len(idx))
        for i, ch in zip(idx.tolist(), rc.tolist(), strict=True):
            out[i] = out[i][: len(out[i]) - 1] + ch
    return out


def township_names(rng: np.random.Generator, n: int) -> list[tuple[str, str]]:
    """(stem, full name) pairs; the first is the county seat 城关镇, about a third are 乡."""
    stems = ["城关"] + [s for s in rng.permutation(np.array(TOWNSHIP_STEMS[1:])).tolist()]
    if n > len(stems):  # province scale: extend with numbered stems
        extra = [a + b for a in VILLAGE_PREFIX for b in ("坊", "圳", "墟", "亭")]
        stems += [s for s in extra if s not in stems]
    stems = stems[:n]
    kinds = ["镇"] + ["乡" if rng.random() < 0.35 else "镇" for _ in range(n - 1)]
    return [(s, s + k) for s, k in zip(stems, kinds, strict=True)]


def village_stems(rng: np.random.Generator, n: int, taken: set[str]) -> list[str]:
    """n village name stems unique among themselves and not in `taken`."""
    out: list[str] = []
    seen = set(taken)
    while len(out) < n:
        a = VILLAGE_PREFIX[int(rng.integers(len(VILLAGE_PREFIX)))]
        b = VILLAGE_SUFFIX[int(rng.integers(len(VILLAGE_SUFFIX)))]
        s = a + b
        if s not in seen:
            seen.add(s)
            out.append(s)
    return out
