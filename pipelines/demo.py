"""`xiangzhi demo`: small synthetic county → inbox → ingest → demo accounts → dashboard."""

from __future__ import annotations

import os

from pipelines import config

DEMO_SEED = 20250601
# The demo's own pseudonymisation key (SPEC §3.7); a deployment sets XIANGZHI_SECRET or secret.key.
DEMO_SECRET = config.DEMO_SECRET
STRAY_NOTE = "会议记录（非数据文件）.csv"


def prepare(show_report=None) -> dict:
    """Generate, ingest and create demo users; returns the demo accounts. Re-running is a no-op.

    show_report: how to tell the user what the ingest did (the CLI passes its summary printer; the
    pipelines never import the CLI, so nothing is printed when it is None)."""
    from pipelines.generate import generate
    from pipelines.load import ingest

    p = config.paths().ensure()
    if not os.environ.get("XIANGZHI_SECRET") and not p.secret_file.exists():
        if any(p.warehouse_dir.iterdir()) and not config.is_demo_home(p.home):
            from pipelines.errors import UserError

            raise UserError(f"{p.home} 已有非演示数据，演示不能写入这里；请设置 XIANGZHI_HOME 为一个新目录 "
                            f"/ {p.home} holds non-demo data: set XIANGZHI_HOME to a new folder for the demo")
        # The marker lets later ingests in this home (the next month, an upload) keep the demo key;
        # anywhere else that key is refused (config.secret).
        (p.home / config.DEMO_MARKER).write_text("xiangzhi demo\n", encoding="utf-8")
        config.write_private(p.secret_file, DEMO_SECRET + "\n")
    if not any(p.inbox.iterdir()):
        generate(scale="small", seed=DEMO_SEED, out=p.inbox, dirty=0.01)
        # An everyday stray file in the inbox, rejected at ingest: the demo (and every test built on
        # it) then carries a rejected file with no data kind, which once broke the county pack (#19.13).
        (p.inbox / STRAY_NOTE).write_text("会议记录,内容\n2025-06-30,下月检查走访台账\n", encoding="utf-8")
    report = ingest([p.inbox])
    if show_report is not None:
        show_report(report)
    from pipelines.users import write_demo_users

    return write_demo_users(p.users_file, p.published)


def run_demo(port: int = 8501, open_dashboard: bool = True, show_report=None) -> int:
    accounts = prepare(show_report)
    print("演示账号 demo accounts (用户名 / 密码 username / password):")
    for acc in accounts:
        print(f"  {acc['username']:<10} / {acc['password']}   {acc['display_name']}")
    if not open_dashboard:
        return 0
    from pipelines.serve import run

    print(f"仪表盘 dashboard: http://127.0.0.1:{port}")
    return run(port=port, host="127.0.0.1")
