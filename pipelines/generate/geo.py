"""Plausible boundaries: a county blob split into townships, villages and grids by clipped Voronoi cells.

Every level is a Voronoi tessellation of its parent, so children cover the parent with no gaps and no
overlaps. All overlays run on a fixed precision grid (GRID_SIZE degrees, ~0.1 m) so that shared edges
are bit-identical and the coordinates written to GeoJSON (6 decimals) are exactly the computed ones.
"""

from __future__ import annotations

import math

import numpy as np
import shapely
from shapely.geometry import MultiPoint, Polygon

GRID_SIZE = 1e-6
KM_PER_DEG_LAT = 111.0


def county_polygon(rng: np.random.Generator, lon0: float, lat0: float, area_km2: float) -> Polygon:
    """An irregular blob of roughly area_km2 around (lon0, lat0), in WGS84 degrees."""
    r_km = math.sqrt(area_km2 / math.pi)
    k = 96
    ang = np.linspace(0, 2 * math.pi, k, endpoint=False)
    rad = np.ones(k)
    for h in range(2, 7):  # a few low harmonics give a county-like outline
        rad += rng.normal(0, 0.09 / (h - 1) ** 0.6) * np.cos(h * ang + rng.uniform(0, 2 * math.pi))
    rad *= r_km
    kx = KM_PER_DEG_LAT * math.cos(math.radians(lat0))
    xs = lon0 + rad * np.cos(ang) / kx
    ys = lat0 + rad * np.sin(ang) / KM_PER_DEG_LAT
    poly = shapely.set_precision(Polygon(np.column_stack([xs, ys])), GRID_SIZE)
    return shapely.make_valid(poly) if not poly.is_valid else poly


def _points_in(rng: np.random.Generator, poly, n: int) -> np.ndarray:
    minx, miny, maxx, maxy = poly.bounds
    pts = np.empty((0, 2))
    shapely.prepare(poly)
    while len(pts) < n:
        cand = np.column_stack([rng.uniform(minx, maxx, 4 * n + 8), rng.uniform(miny, maxy, 4 * n + 8)])
        cand = cand[shapely.contains_xy(poly, cand[:, 0], cand[:, 1])]
        pts = np.vstack([pts, cand])
    return pts[:n]


def _largest(geom):
    """Voronoi clipping on a concave parent can leave a cell in pieces: keep it whole but clean."""
    geom = shapely.make_valid(geom)
    if geom.geom_type == "GeometryCollection":
        parts = [g for g in geom.geoms if g.geom_type in ("Polygon", "MultiPolygon")]
        geom = shapely.union_all(parts, grid_size=GRID_SIZE)
    return geom


def split(rng: np.random.Generator, parent, n: int, lloyd: int = 2) -> list:
    """Split `parent` into n cells (clipped Voronoi of random seeds, relaxed a little for even sizes).

    The cells are returned ordered west→east by seed so that codes run across the map.
    """
    if n == 1:
        return [parent]
    pts = _points_in(rng, parent, n)
    env = parent.envelope.buffer(parent.envelope.length)
    for _ in range(lloyd + 1):
        vor = shapely.voronoi_polygons(MultiPoint(pts), extend_to=env, ordered=True)
        cells = shapely.intersection(np.array(vor.geoms), parent, grid_size=GRID_SIZE)
        if _ == lloyd:
            break
        cent = shapely.centroid(cells)
        ok = ~shapely.is_empty(cent)
        xy = shapely.get_coordinates(cent[ok])
        pts[ok] = 0.5 * pts[ok] + 0.5 * xy  # half-step Lloyd: even-ish sizes, still irregular
    cells = [_largest(c) for c in cells]
    keep = [i for i, c in enumerate(cells) if not c.is_empty and c.area > 0]
    if len(keep) < n:  # vanishingly rare: a seed cell clipped away; fall back to fewer seeds reused
        raise RuntimeError("degenerate Voronoi split; try another seed")
    order = np.lexsort((-pts[:, 1], pts[:, 0]))
    return [cells[i] for i in order]


def rep_point(geom) -> tuple[float, float]:
    p = shapely.point_on_surface(geom)
    return round(p.x, 6), round(p.y, 6)


def to_geojson_geometry(geom) -> dict:
    """GeoJSON geometry dict with coordinates rounded to the precision grid (deterministic text)."""
    def ring(r):
        return [[round(x, 6), round(y, 6)] for x, y in r.coords]

    def poly(p):
        return [ring(p.exterior)] + [ring(i) for i in p.interiors]

    if geom.geom_type == "Polygon":
        return {"type": "Polygon", "coordinates": poly(geom)}
    return {"type": "MultiPolygon", "coordinates": [poly(p) for p in geom.geoms]}
