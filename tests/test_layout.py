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


def _module_graph(root: Path, packages: tuple[str, ...]) -> dict[str, set[str]]:
    """file → files it imports (lazy imports too), over the given top-level packages. `from a.b import c`
    points at a/b/c.py when c is a module, else at a/b.py or a/b/__init__.py."""
    def file_of(mod: str) -> str | None:
        base = root / Path(*mod.split("."))
        for p in (base.with_suffix(".py"), base / "__init__.py"):
            if p.exists():
                return str(p.relative_to(root))
        return None

    graph: dict[str, set[str]] = {}
    for pkg in packages:
        for f in sorted((root / pkg).rglob("*.py")):
            deps = set()
            tree = ast.parse(f.read_text(encoding="utf-8"), filename=str(f))
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    targets = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    targets = [f"{node.module}.{a.name}" if file_of(f"{node.module}.{a.name}") else node.module
                               for a in node.names]
                else:
                    continue
                deps |= {t for t in map(file_of, (t for t in targets if t.split(".")[0] in packages)) if t}
            me = str(f.relative_to(root))
            graph[me] = deps - {me}
    return graph


def _circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one file (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                out.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_no_import_circle_in_pipelines_or_dashboard():
    # One way down (issue #18 item 2): a circle means two modules cannot be read, tested or moved apart.
    graph = _module_graph(ROOT, ("pipelines", "dashboard"))
    assert len(graph) > 60
    assert _circles(graph) == []


def test_the_circle_check_finds_a_lazy_circle(tmp_path):
    pkg = tmp_path / "pipelines"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("", encoding="utf-8")
    (pkg / "sub" / "__init__.py").write_text("", encoding="utf-8")
    (pkg / "a.py").write_text("from pipelines.sub import b\n", encoding="utf-8")
    (pkg / "sub" / "b.py").write_text("def f():\n    from pipelines.a import g\n", encoding="utf-8")
    (pkg / "c.py").write_text("from pipelines import a\n", encoding="utf-8")
    assert _circles(_module_graph(tmp_path, ("pipelines",))) == [["pipelines/a.py", "pipelines/sub/b.py"]]
