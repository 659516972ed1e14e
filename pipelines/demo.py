"""`xiangzhi demo`: small synthetic county → inbox → ingest → demo accounts → dashboard."""

from __future__ import annotations

import os

from pipelines import config

DEMO_SEED = 20250601
# The demo's own pseudonymisation key (SPEC §3.7); a deployment sets XIANGZHI_SECRET or secret.key.
DEMO_SECRET = "xiangzhi-demo-secret-not-for-production"


def prepare(quiet: bool = False) -> dict:
    """Generate, ingest and create demo users; returns the demo accounts. Re-running is a no-op."""
    from pipelines.generate import generate
    from pipelines.load import ingest, print_report

    p = config.paths().ensure()
    if not os.environ.get("XIANGZHI_SECRET") and not p.secret_file.exists():
        # Written to the data home so a later plain `xiangzhi ingest` keeps using the same key.
        p.secret_file.write_text(DEMO_SECRET + "\n", encoding="utf-8")
    if not any(p.inbox.iterdir()):
        generate(scale="small", seed=DEMO_SEED, out=p.inbox, dirty=0.01)
    report = ingest([p.inbox])
    if not quiet:
        print_report(report)
    from pipelines.users import write_demo_users

    return write_demo_users(p.users_file, p.published)


def run_demo(port: int = 8501, open_dashboard: bool = True) -> int:
    accounts = prepare()
    print("演示账号 demo accounts (用户名 / 密码 username / password):")
    for acc in accounts:
        print(f"  {acc['username']:<10} / {acc['password']}   {acc['display_name']}")
    if not open_dashboard:
        return 0
    from pipelines.serve import run

    print(f"仪表盘 dashboard: http://127.0.0.1:{port}")
    return run(port=port, host="127.0.0.1")
