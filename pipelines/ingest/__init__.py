"""The ingestion engine, one module per step of the batch lifecycle (SPEC §3.6):

- `tables`        every table the engine writes, declared once with its grain (stg_, chk_, disp_,
                  loaded_, cur_, the registers)
- `staging`       typed rows from normalise → `stg_<kind>` (derived keys, centroids)
- `dispositions`  SQL builders: the checked view, where each staged row ends, the current state
- `core`          the core models (dim_*, fct_*) in the order their inputs give
- `validate`      the Great Expectations suites on the batch's rows, results per batch
- `registry`      the per-file registry and the contract tables built from it (quarantine, load_files)
- `batch`         the lifecycle that wires them: collect, raw copy, stage, judge, build, commit

A package rather than flat `pipelines/validate.py` & co. so that everything that writes the working
warehouse sits under one path (ARCHITECTURE: only load, the model runner and publish write DuckDB).
`pipelines.load` re-exports the public names; printing lives in `pipelines.cli`.
"""
