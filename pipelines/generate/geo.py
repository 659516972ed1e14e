"""Plausible boundaries: a county blob split into townships, villages and grids by clipped Voronoi cells.

Seeds are nested (townships → villages → grids), but the geometry is built bottom-up: grid cells are
one Voronoi diagram of all grid seeds clipped to the county, a village is the union of its grid cells
and a township the union of its villages. So every level covers its parent exactly, with no gaps and
no overlaps. Overlays run on a fixed precision grid (GRID_SIZE degrees, ~0.1 m), so shared edges are
bit-identical and the coordinates written to GeoJSON (6 decimals) are exactly the computed ones.
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


def seeds(rng: np.random.Generator, parent, n: int, lloyd: int = 2) -> tuple[np.ndarray, list]:
    """n seed points in `parent`, relaxed a little (half-step Lloyd) for even-ish but irregular regions,
    and their Voronoi regions clipped to `parent` (used only to nest the next level's seeds)."""
    pts = _points_in(rng, parent, n)
    if n == 1:
        return pts, [parent]
    env = parent.envelope.buffer(parent.envelope.length)
    for it in range(lloyd + 1):
        vor = shapely.voronoi_polygons(MultiPoint(pts), extend_to=env, ordered=True)
        cells = shapely.intersection(np.array(vor.geoms), parent)
        if it == lloyd:
            break
        cent = shapely.centroid(cells)
        ok = ~shapely.is_empty(cent)
        pts[ok] = 0.5 * pts[ok] + 0.5 * shapely.get_coordinates(cent[ok])
    # A relaxed seed must stay inside its parent (centroids of concave pieces may not be).
    inside = shapely.contains_xy(parent, pts[:, 0], pts[:, 1])
    for i in np.flatnonzero(~inside):
        p = shapely.point_on_surface(cells[i] if not cells[i].is_empty else parent)
        pts[i] = (p.x, p.y)
    return pts, list(cells)


def cells(points: np.ndarray, county) -> list:
    """The base tessellation: one Voronoi diagram of all grid seeds, clipped to the county on the
    precision grid. Neighbouring cells share bit-identical edges, so every higher level built as a
    union of cells is covered exactly, with no gaps and no overlaps."""
    env = county.envelope.buffer(county.envelope.length)
    vor = shapely.voronoi_polygons(MultiPoint(points), extend_to=env, ordered=True)
    out = shapely.intersection(np.array(vor.geoms), county, grid_size=GRID_SIZE)
    return [_largest(c) for c in out]


def union(parts: list):
    return shapely.union_all(parts, grid_size=GRID_SIZE)


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
