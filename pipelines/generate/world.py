"""The fictional county itself: admin tree, boundaries, grid staff, households, village performance.

Everything is drawn from named random streams (`stream(seed, name, ...)`) so that one part changing
does not reshuffle the others, and the same seed gives the same county.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from pipelines.generate import geo, names
from pipelines.sources import ENUMS

COUNTY_CODE = "360739"  # fictional: unused in the 3607xx (赣州市) block of the civil-affairs table
COUNTY_NAME = "青岚县"
PREFECTURE_CODE = "360700"
# Other fictional counties (`generate --county CODE`), so that several can share one lake (SPEC §4.1).
OTHER_COUNTY_NAMES = ("云溪县", "枫林县", "石门县", "白沙县", "松阳县", "桐川县")


def county_name(code: str) -> str:
    return COUNTY_NAME if code == COUNTY_CODE else OTHER_COUNTY_NAMES[int(code) % len(OTHER_COUNTY_NAMES)]
LON0, LAT0 = 115.62, 25.38  # south Jiangxi hills

KEY_TYPES = tuple(k for k in ENUMS["key_type"] if k != "普通户")  # sources.ENUMS order: KEY_SHARES follows it
KEY_SHARES = (0.04, 0.03, 0.02, 0.05, 0.03, 0.01)


@dataclass(frozen=True)
class Scale:
    name: str
    townships: int
    villages: tuple[int, int]  # per township, inclusive range
    grids: tuple[int, int]  # per village
    households_per_grid: float
    months: int
    area_km2: float
    end: tuple[int, int] = (2025, 6)
    points_months: int | None = None  # only the last N months carry points (province: keeps it bounded)
    xlsx_every: int = 1  # province: fewer big workbooks (xlsxwriter is pure Python)


SCALES = {
    "tiny": Scale("tiny", 2, (4, 4), (3, 3), 18, 3, 120),
    "small": Scale("small", 2, (9, 11), (4, 6), 30, 6, 320),
    "county": Scale("county", 12, (13, 18), (6, 11), 39, 36, 2300),
    "province": Scale("province", 60, (13, 17), (8, 12), 70, 36, 12000, points_months=6, xlsx_every=3),
}


def stream(seed: int, *key: int | str) -> np.random.Generator:
    """An independent random stream per purpose (and per month), stable across code changes elsewhere."""
    parts = [seed] + [k if isinstance(k, int) else int.from_bytes(k.encode("utf-8")[:8].ljust(8, b"\0"), "little") for k in key]
    return np.random.default_rng(parts)


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


@dataclass
class World:
    scale: Scale
    seed: int
    months: list[tuple[int, int]]
    county_geom: object
    townships: list[dict]
    # villages
    v_code: list[str]
    v_name: list[str]
    v_stem: list[str]
    v_township: np.ndarray
    v_geom: list
    v_q: np.ndarray  # persistent performance level
    v_slope: np.ndarray  # improvement (+) or slipping (-) over the horizon
    v_custom_category: list[str | None]
    v_county_unique: np.ndarray
    # grids
    g_code: list[str]
    g_village: np.ndarray
    g_geom: list
    g_head: list[str]
    g_workers: list[list[str]]
    g_activity: np.ndarray
    g_start: np.ndarray  # first grid index of each village (grids sorted by village)
    g_count: np.ndarray
    households: pl.DataFrame
    meta: dict = field(default_factory=dict)

    def quality(self, month_index: int) -> np.ndarray:
        t = month_index / max(1, len(self.months) - 1)
        return self.v_q + self.v_slope * t
    county_code: str = COUNTY_CODE
    county_name: str = COUNTY_NAME


def month_list(end: tuple[int, int], n: int) -> list[tuple[int, int]]:
    y, m = end
    out = []
    for _ in range(n):
        out.append((y, m))
        m -= 1
        if m == 0:
            y, m = y - 1, 12
    return out[::-1]


def _id_numbers(rng: np.random.Generator, n: int, area: str, ref: dt.date) -> list[str]:
    """18-digit resident id numbers with a valid ISO 7064 MOD 11-2 check digit."""
    age_days = rng.integers(25 * 365, 88 * 365, n)
    births = np.datetime64(ref) - age_days.astype("timedelta64[D]")
    bstr = np.datetime_as_string(births, unit="D")
    seq = rng.integers(1, 999, n)
    body = [area + b.replace("-", "") + f"{s:03d}" for b, s in zip(bstr.tolist(), seq.tolist(), strict=True)]
    digits = np.array([[ord(c) - 48 for c in b] for b in body], dtype=np.int64)
    weights = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2])
    check = "10X98765432"
    s = (digits * weights).sum(axis=1) % 11
    return [b + check[int(k)] for b, k in zip(body, s.tolist(), strict=True)]


def _phones(rng: np.random.Generator, n: int) -> list[str]:
    pre = rng.choice(np.array(["133", "135", "136", "138", "139", "150", "152", "157", "158", "159",
                               "177", "180", "182", "187", "188", "189", "191", "198"]), n)
    body = rng.integers(0, 10**8, n)
    kind = rng.random(n)
    out = []
    for p, b, k in zip(pre.tolist(), body.tolist(), kind.tolist(), strict=True):
        if k < 0.03:
            out.append("")
        elif k < 0.08:
            out.append(f"0797-{b % 10**7:07d}")
        else:
            out.append(f"{p}{b:08d}")
    return out


def build_world(scale: Scale, seed: int, county_code: str = COUNTY_CODE) -> World:
    rng = stream(seed, "geo")
    months = month_list(scale.end, scale.months)
    county = geo.county_polygon(rng, LON0, LAT0, scale.area_km2)
    tn = names.township_names(stream(seed, "tnames"), scale.townships)
    t_pts, t_regions = geo.seeds(rng, county, scale.townships)
    t_order = np.lexsort((-t_pts[:, 1], t_pts[:, 0]))  # codes run west → east
    # Nested seeds: villages inside township regions, grid seeds inside village regions.
    plan = []  # (township index, [(village seed region, grid seed points)])
    for ti in t_order.tolist():
        nv = int(rng.integers(scale.villages[0], scale.villages[1] + 1))
        v_pts, v_regions = geo.seeds(rng, t_regions[ti], nv)
        v_order = np.lexsort((-v_pts[:, 1], v_pts[:, 0]))
        vil = []
        for vi in v_order.tolist():
            ng = int(rng.integers(scale.grids[0], scale.grids[1] + 1))
            g_pts, _ = geo.seeds(rng, v_regions[vi], ng, lloyd=1)
            vil.append(g_pts[np.lexsort((-g_pts[:, 1], g_pts[:, 0]))])
        plan.append(vil)
    all_pts = np.vstack([g for vil in plan for g in vil])
    base = geo.cells(all_pts, county)

    # Codes: 城关镇 100, other 镇 101.., 乡 200.. (civil-affairs habit)
    townships = []
    n_zhen, n_xiang = 0, 0
    for stem, full in tn:
        if full.endswith("乡"):
            suffix = 200 + n_xiang
            n_xiang += 1
        else:
            suffix = 100 + n_zhen
            n_zhen += 1
        townships.append({"code": f"{county_code}{suffix:03d}", "name": full, "stem": stem, "geom": None})

    nrng = stream(seed, "vnames")
    v_code, v_name, v_stem, v_town, v_geom = [], [], [], [], []
    g_code, g_village, g_geom = [], [], []
    pos = 0
    for ti, t in enumerate(townships):
        vil = plan[ti]
        nv = len(vil)
        n_comm = 3 if t["stem"] == "城关" else (1 if t["name"].endswith("镇") else 0)
        n_comm = min(n_comm, nv - 1)
        comm = nrng.permutation(np.array(names.COMMUNITY_STEMS)).tolist()[:n_comm]
        stems = comm + names.village_stems(nrng, nv - n_comm, set(comm))
        if ti == 1 and len(v_stem) > 3:
            # Two villages in different townships share a name, so 乡镇 matters (SPEC §3.5).
            shared = next(s for s, tt in zip(v_stem, v_town, strict=True) if tt == 0 and s not in stems
                          and s not in names.COMMUNITY_STEMS)
            stems[n_comm] = shared
        t_villages = []
        for vi, (g_pts, stem) in enumerate(zip(vil, stems, strict=True)):
            is_comm = vi < n_comm
            code = f"{t['code']}{(vi + 1) if is_comm else (200 + vi - n_comm):03d}"
            vcells = base[pos:pos + len(g_pts)]
            pos += len(g_pts)
            for gi, cell in enumerate(vcells):
                g_code.append(f"{code}{gi + 1:03d}")
                g_village.append(len(v_code))
                g_geom.append(cell)
            v_code.append(code)
            v_stem.append(stem)
            v_name.append(stem + ("社区" if is_comm else "村"))
            v_town.append(ti)
            v_geom.append(geo.union(vcells))
            t_villages.append(v_geom[-1])
        t["geom"] = geo.union(t_villages)
    nv_all = len(v_code)
    g_village_a = np.array(g_village)
    g_start = np.searchsorted(g_village_a, np.arange(nv_all)).astype(np.int64)
    g_count = np.bincount(g_village_a, minlength=nv_all).astype(np.int64)
    prng = stream(seed, "perf")
    v_q = prng.normal(0, 1, nv_all)
    v_slope = np.zeros(nv_all)
    movers = prng.permutation(nv_all)[: max(2, nv_all // 6)]
    v_slope[movers[: len(movers) // 2]] = prng.uniform(1.2, 2.2, len(movers) // 2)  # improving
    v_slope[movers[len(movers) // 2:]] = -prng.uniform(1.2, 2.2, len(movers) - len(movers) // 2)  # slipping
    custom = ["孝善敬老", "产业帮扶", "护林防火", "美丽庭院"]
    v_custom = [custom[int(prng.integers(len(custom)))] if prng.random() < 0.25 else None for _ in range(nv_all)]
    stems_count: dict[str, int] = {}
    for s in v_stem:
        stems_count[s] = stems_count.get(s, 0) + 1
    v_unique = np.array([stems_count[s] == 1 for s in v_stem])
    ng_all = len(g_code)
    srng = stream(seed, "staff")
    n_workers = np.where(srng.random(ng_all) < 0.3, 2, 1)
    staff = names.person_names(srng, ng_all + int(n_workers.sum()))
    g_head = staff[:ng_all]
    g_workers, pos = [], ng_all
    for k in n_workers.tolist():
        g_workers.append(staff[pos:pos + k])
        pos += k
    g_activity = srng.gamma(6.0, 1 / 6.0, ng_all)  # some grids are busier than others
    worker_plan = _worker_plan(v_town, g_village, g_workers, len(townships))

    households = _households(seed, scale, v_code, np.array(g_village), ng_all)
    return World(
        scale=scale, seed=seed, months=months, county_geom=county, townships=townships,
        v_code=v_code, v_name=v_name, v_stem=v_stem, v_township=np.array(v_town), v_geom=v_geom,
        v_q=v_q, v_slope=v_slope, v_custom_category=v_custom, v_county_unique=v_unique,
        g_code=g_code, g_village=np.array(g_village), g_geom=g_geom, g_head=g_head, g_workers=g_workers,
        g_activity=g_activity, g_start=g_start, g_count=g_count, households=households,
        meta={"worker_plan": worker_plan},
        county_code=county_code, county_name=county_name(county_code),
    )


def _worker_plan(v_town: list[int], g_village: list[int], g_workers: list[list[str]], n_towns: int) -> dict:
    """Grid workers' assessment cases (SPEC §6.1) placed deterministically in every township:
    - shared: the first worker of a village's first grid also works its second grid (one name in
      two grids is two workers); edits g_workers in place, after every random draw;
    - full_round: the first worker of a grid visits every household of it each month (逐户走访), so
      the households and key-households caps are reached;
    - slack: the last worker of a grid reports extra patrol events each month that stay open, so
      overdue events pile up to their cap (they count again in each later month)."""
    grids_of: dict[int, list[int]] = {}
    for g, v in enumerate(g_village):
        grids_of.setdefault(int(v), []).append(g)
    plan: dict[str, list[int]] = {"shared": [], "full_round": [], "slack": []}
    for t in range(n_towns):
        vs = [v for v, tt in enumerate(v_town) if tt == t and len(grids_of.get(v, [])) >= 2]
        if not vs:
            continue
        a, b = grids_of[vs[0]][:2]
        g_workers[b] = g_workers[b][:1] + [g_workers[a][0]]
        plan["shared"].append(b)
        other = vs[1] if len(vs) > 1 else vs[0]
        plan["full_round"].append(grids_of[other][0])
        plan["slack"].append(grids_of[other][-1])
    return plan


def _households(seed: int, scale: Scale, v_code: list[str], g_village: np.ndarray, ng: int) -> pl.DataFrame:
    rng = stream(seed, "households")
    mean = scale.households_per_grid
    per_grid = np.clip(np.round(rng.normal(mean, mean * 0.3, ng)), max(8, mean * 0.4), mean * 2.5).astype(np.int64)
    n = int(per_grid.sum())
    grid_idx = np.repeat(np.arange(ng), per_grid)
    village_idx = g_village[grid_idx]
    # serial within village, in grid order
    serial = np.arange(n) - np.repeat(np.r_[0, np.cumsum(per_grid)[:-1]], per_grid)
    offs = np.zeros(ng, dtype=np.int64)
    for v in np.unique(g_village):
        gs = np.flatnonzero(g_village == v)
        offs[gs] = np.r_[0, np.cumsum(per_grid[gs])[:-1]]
    serial = serial + offs[grid_idx] + 1
    hid = [f"{v_code[v]}{s:04d}" for v, s in zip(village_idx.tolist(), serial.tolist(), strict=True)]
    u = rng.random(n)
    key = np.zeros(n, dtype=np.int8)  # 0 = ordinary, 1..6 = KEY_TYPES
    edges = np.cumsum(KEY_SHARES)
    for k in range(len(KEY_TYPES) - 1, -1, -1):
        key[u < edges[k]] = k + 1
    members = rng.choice(np.arange(1, 8), n, p=[0.1, 0.2, 0.22, 0.22, 0.14, 0.08, 0.04])
    elderly = key == 4
    members[elderly] = rng.integers(1, 3, int(elderly.sum()))
    left_behind = key == 5
    members[left_behind] = np.maximum(members[left_behind], 2)
    head = names.person_names(rng, n, rare_share=0.002)
    # Always at least one name outside GBK, so the GB18030 path is exercised at every scale.
    head[min(6, n - 1)] = head[min(6, n - 1)][0] + "䶮"
    idn = _id_numbers(rng, n, v_code[0][:6], dt.date(scale.end[0], scale.end[1], 1))
    phone = _phones(rng, n)
    return pl.DataFrame({
        "household_id": hid,
        "grid_idx": grid_idx.astype(np.int32),
        "village_idx": village_idx.astype(np.int32),
        "key": key,
        "members": members.astype(np.int32),
        "head_name": head,
        "id_number": idn,
        "phone": phone,
    })
