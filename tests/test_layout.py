"""The layout rule every module keeps: pipelines/ never imports dashboard/ (data flows one way, and
the pipelines run without Streamlit). Checked by parsing every import, including those inside
functions, so a lazy import cannot hide one."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            out.append((node.lineno, node.module))
    return out


def test_pipelines_never_import_dashboard():
    files = sorted((ROOT / "pipelines").rglob("*.py"))
    assert len(files) > 20
    bad = [f"{f.relative_to(ROOT)}:{line} imports {mod}" for f in files for line, mod in _imports(f)
           if mod == "dashboard" or mod.startswith("dashboard.")]
    assert bad == []


def test_the_check_sees_lazy_imports(tmp_path):
    f = tmp_path / "m.py"
    f.write_text("def f():\n    from dashboard.auth import x\n    import dashboard\n", encoding="utf-8")
    assert _imports(f) == [(2, "dashboard.auth"), (3, "dashboard")]
