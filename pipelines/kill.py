"""Kill points for the crash-safety tests: the phases of an ingest where a test may kill the process.

Below both the batch lifecycle and publish (which has a phase of its own), so neither imports the other.
"""

from __future__ import annotations

import os

KILL_PHASES = ("raw_copy", "staging", "scratch_staged", "moved", "staged", "core", "validated", "marts",
               "publish_tables", "contract", "commit", "checkpoint", "publish_tmp")


def kill_point(phase: str) -> None:
    """XIANGZHI_KILL_AT=<phase>: the process kills itself (SIGKILL, as the OOM killer or a power cut
    would: no cleanup runs) the first time it reaches that phase. Testing only."""
    if os.environ.get("XIANGZHI_KILL_AT") == phase:
        import signal

        os.kill(os.getpid(), signal.SIGKILL)
