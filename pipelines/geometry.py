"""Geometry helpers (shapely; DuckDB's spatial extension cannot be installed offline)."""

from __future__ import annotations

import json
from collections.abc import Iterable

OUTLINE_TOLERANCE = 0.0003  # degrees (~30 m): outlines for the screen and the pack, not surveying


def dissolve_outlines(grids: Iterable[tuple[str, str | None, str]]) -> list[tuple[str, str, str, float, float]]:
    """(village_code, township_code, grid GeoJSON) → [(level, code, outline GeoJSON, label lon, lat)]
    for every village and township. Grids tessellate their village, so a coverage union is exact."""
    import shapely
    from shapely.geometry import mapping, shape

    groups: dict[tuple[str, str], list] = {}
    for village, township, text in grids:
        try:
            geom = shape(json.loads(text))
        except (ValueError, TypeError, KeyError, AttributeError):
            continue
        geom = geom if geom.is_valid else geom.buffer(0)
        groups.setdefault(("village", village), []).append(geom)
        if township:
            groups.setdefault(("township", township), []).append(geom)
    out = []
    for (level, code), geoms in sorted(groups.items()):
        try:
            merged = shapely.coverage_union_all(geoms)
        except shapely.errors.GEOSException:  # not a clean coverage: a plain union is still right
            merged = shapely.union_all(geoms)
        merged = merged.simplify(OUTLINE_TOLERANCE, preserve_topology=True)
        pt = merged.representative_point()
        out.append((level, code, json.dumps(mapping(merged)), pt.x, pt.y))
    return out
