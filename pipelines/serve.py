"""Start the dashboard: `xiangzhi dashboard [--port N] [--host H]` calls :func:`run`.

The dashboard is named by its file, not imported: pipelines/ never imports dashboard/."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from pipelines import config

APP = Path(__file__).resolve().parents[1] / "dashboard" / "app.py"
# what Streamlit runs: st.App over app.py plus the routes that set and clear the HttpOnly session
# cookie (dashboard/launch.py, #19 item 14)
SERVER = APP.with_name("launch.py")


def command(port: int = 8501, host: str = "127.0.0.1") -> list[str]:
    return [
        sys.executable, "-m", "streamlit", "run", str(SERVER),
        "--server.port", str(port),
        "--server.address", host,
        "--server.headless", "true",
        "--browser.gatherUsageStats", "false",
        # nothing may reach the internet at run time (SPEC §1)
        "--server.fileWatcherType", "none",
        # Streamlit runs a full gc.collect(2) after every script run, holding the GIL: ~0.3-0.6 s
        # on this app's heap, during which no other session's script runs (#19 item 8). Python's
        # own generational collection still runs.
        "--runner.postScriptGC", "false",
    ]


def _publish_if_stale() -> None:
    """A batch committed by an ingest that was killed before publishing becomes visible now."""
    from pipelines.publish import is_stale, publish

    p = config.paths()
    try:
        if is_stale(p.warehouse, p.published):
            publish(p.warehouse, p.published)
            print("已发布上次中断前导入的数据 / published the batch an interrupted ingest left", flush=True)
    except Exception as exc:  # noqa: BLE001 - an ingest holding the lock publishes itself
        print(f"未能检查发布副本 / could not check the published copy: {type(exc).__name__}", flush=True)


def run(port: int = 8501, host: str = "127.0.0.1", lake: str | None = None) -> int:
    """Replace this process with Streamlit, so that stopping `xiangzhi dashboard` (Ctrl+C, SIGTERM
    from a service manager or a test) stops the server itself and leaves no orphan behind."""
    print(f"乡治 仪表盘 / dashboard: http://{host}:{port}  (Ctrl+C 退出 / to stop)", flush=True)
    _publish_if_stale()
    env = dict(os.environ)
    if lake:  # province view over a lake (SPEC §4.1): checked here, so a wrong folder is a clear message
        from pipelines.lake import layout

        layout.read_manifest(Path(lake))
        env["XIANGZHI_LAKE"] = str(Path(lake).resolve())
    # Streamlit runs in dashboard/ (to read its .streamlit/config.toml): pin the data home first,
    # since the default ./data is relative to where the user typed the command.
    env["XIANGZHI_HOME"] = str(config.home())
    os.chdir(SERVER.parent)
    cmd = command(port, host)
    os.execve(cmd[0], cmd, env)
    return 0  # not reached
