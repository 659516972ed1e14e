"""The ingestion engine's public face: `ingest(paths)` and what it returns.

The engine itself lives in pipelines/ingest/ (one module per step of the batch lifecycle; see its
__init__); this module keeps the names callers import (tests, the dashboard's demo, benchmarks).
"""

from pipelines.ingest.batch import IngestError, collect, connect, ingest
from pipelines.ingest.dispositions import RESOLVED_COLUMNS, checked_view_sql, disposition_sql
from pipelines.ingest.registry import FileOutcome, IngestReport, publish_tables
from pipelines.ingest.tables import ensure_schema, stage_columns

_checked_view_sql = checked_view_sql  # the name tests and benchmarks used before the split

__all__ = [
    "RESOLVED_COLUMNS", "FileOutcome", "IngestError", "IngestReport", "checked_view_sql", "collect",
    "connect", "disposition_sql", "ensure_schema", "ingest", "publish_tables", "stage_columns",
]
