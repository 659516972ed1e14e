"""Time the phases of one `pipelines.load.ingest` call without touching the loader.

`timed_phases()` wraps the functions the loader calls (looked up at call time, so patching the module
attribute is enough) and sums the seconds spent in each. Nested phases (`gx` inside `validate`,
`core` inside `rebuild`) are reported as they are measured; `other` is what no phase covers
(hashing, raw copies, commit, checkpoint).
"""

from __future__ import annotations

import importlib
import time
from collections import defaultdict
from contextlib import contextmanager

# (phase, module, attribute). Order is the order of the batch lifecycle.
PHASES = (
    ("read", "pipelines.readers", "read_file"),
    ("normalise", "pipelines.normalise", "normalise"),
    ("normalise", "pipelines.normalise", "normalise_sheets"),  # the loader's: a file's sheets at once
    ("derive", "pipelines.ingest.staging", "derive"),
    ("stage", "pipelines.ingest.staging", "stage"),
    ("rebuild", "pipelines.ingest.core", "rebuild"),
    ("core", "pipelines.ingest.core", "run_core"),
    ("core", "pipelines.ingest.core", "run_core_per_id"),  # an incremental batch's fct_* (by id)
    ("validate", "pipelines.ingest.validate", "validate_batch"),
    ("gx", "pipelines.ingest.validate", "run_suite"),
    ("marts", "pipelines.ingest.batch", "run_marts"),
    ("publish_tables", "pipelines.ingest.registry", "publish_tables"),
    ("publish", "pipelines.publish", "publish"),
)
# Phases measured inside another one: not added again when computing `other`.
NESTED = {"core": "rebuild", "gx": "validate"}
# The phases running right now (innermost last): read by the memory sampler of ingest_child.
ACTIVE: list[str] = []


@contextmanager
def timed_phases():
    """Yield a dict phase → seconds, filled while the block runs; originals restored afterwards."""
    acc: dict[str, float] = defaultdict(float)
    patched = []
    for phase, mod_name, attr in PHASES:
        mod = importlib.import_module(mod_name)
        orig = getattr(mod, attr)

        def wrapper(*args, _orig=orig, _phase=phase, **kwargs):
            if _phase in ACTIVE:  # run_core_per_id falling back to run_core: counted once
                return _orig(*args, **kwargs)
            t0 = time.perf_counter()
            ACTIVE.append(_phase)
            try:
                return _orig(*args, **kwargs)
            finally:
                ACTIVE.pop()
                acc[_phase] += time.perf_counter() - t0

        setattr(mod, attr, wrapper)
        patched.append((mod, attr, orig))
    try:
        yield acc
    finally:
        for mod, attr, orig in reversed(patched):
            setattr(mod, attr, orig)


def with_other(phases: dict[str, float], total: float) -> dict[str, float]:
    """Phases in lifecycle order, plus `other` = total − top-level phases."""
    out = {p: round(phases.get(p, 0.0), 4) for p, _, _ in PHASES}
    top = sum(v for p, v in phases.items() if p not in NESTED)
    out["other"] = round(max(0.0, total - top), 4)
    return out
